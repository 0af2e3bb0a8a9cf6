package eventstore

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedConfig configures the nats-server that runs inside the ledger's process.
type EmbeddedConfig struct {
	// Dir holds the JetStream files.
	Dir string
	// LazySync lets the server acknowledge writes before they reach the disk (JetStream's own
	// default, flushing every two minutes). The ledger's default is false: sync before ack.
	LazySync bool
	// Listen is a host:port to accept NATS clients on; empty means no port at all. A listening
	// server requires User and Password of every client.
	Listen   string
	User     string
	Password string
	// DuplicateWindow is not set here but on the stream (Config).
}

// Embedded is a running embedded nats-server and a client connection to it.
type Embedded struct {
	Server *server.Server
	Conn   *nats.Conn
	faults *faultWatch
	cred   Credentials
}

// DialFollow opens a connection of its own to the server, in-process, for a store's follower
// (Config.DialFollow).
func (e *Embedded) DialFollow() (net.Conn, Credentials, error) {
	conn, err := e.Server.InProcessConn()
	return conn, e.cred, err
}

// EmbeddedMaxBatch is the most messages the embedded server takes in one atomic batch, and the
// Config.MaxBatch of a store on it: an atomic batch costs the server a fixed few milliseconds (it
// stages the batch in a file store of its own, synced), so a bulk load goes faster in batches
// of 4,000 than of nats-server's default 1,000 (43,000 against 34,000 events/s in
// BenchmarkAppendBulk); 10,000 was no faster.
const EmbeddedMaxBatch = 4000

// StoreConfig returns cfg with what a store on this server uses where cfg leaves it unset: a
// connection of its own for the follower (DialFollow) and batches as large as the server takes
// (EmbeddedMaxBatch). Serve opens its store so; benchmarks do as serve does.
func (e *Embedded) StoreConfig(cfg Config) Config {
	if cfg.DialFollow == nil {
		cfg.DialFollow = e.DialFollow
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = EmbeddedMaxBatch
	}
	return cfg
}

// StartEmbedded starts nats-server with JetStream storing files under cfg.Dir and connects to it
// in-process.
func StartEmbedded(cfg EmbeddedConfig, log *slog.Logger) (*Embedded, error) {
	if cfg.Dir == "" {
		return nil, errors.New("embedded nats-server: no data folder given")
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	opts := &server.Options{
		ServerName:         "kuozheng",
		JetStream:          true,
		StoreDir:           filepath.Join(cfg.Dir, "jetstream"),
		DontListen:         cfg.Listen == "",
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         8 << 20,
		JetStreamMaxMemory: 256 << 20,
		SyncInterval:       2 * time.Minute,
		SyncAlways:         !cfg.LazySync,
	}
	opts.JetStreamLimits.MaxBatchSize = EmbeddedMaxBatch
	// JetStream's own limit on its files is by default three quarters of the disk's free space at
	// start, fixed until a restart: it would refuse writes while the disk has room, and go on
	// refusing them after space is freed. The disk's size leaves the disk itself as the limit,
	// and the store's reserve (Config.DiskReserve) answers before it fills.
	if size := diskSize(cfg.Dir); size > 0 {
		opts.JetStreamMaxStore = size
	}
	if cfg.Listen != "" {
		if cfg.User == "" || len(cfg.Password) < 12 {
			return nil, errors.New("embedded nats-server: listening on a port requires a user and a password of at least 12 characters")
		}
		host, port, err := splitHostPort(cfg.Listen)
		if err != nil {
			return nil, err
		}
		opts.Host, opts.Port = host, port
		opts.Username, opts.Password = cfg.User, cfg.Password
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	faults := &faultWatch{dir: cfg.Dir, log: log}
	ns.SetLogger(faults, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded nats-server: not ready after 30s")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Name("kuozheng"), nats.MaxReconnects(-1), nats.UserInfo(cfg.User, cfg.Password))
	if err != nil {
		ns.Shutdown()
		return nil, fmt.Errorf("connect to embedded nats-server: %w", err)
	}
	if log != nil {
		if cfg.LazySync {
			log.Warn("durability: the embedded nats-server acknowledges writes before they are on disk (lazy fsync); a power failure can lose acknowledged events")
		} else {
			log.Info("durability: the embedded nats-server syncs to disk before acknowledging every write (sync_interval: always)")
		}
	}
	return &Embedded{Server: ns, Conn: nc, faults: faults, cred: Credentials{User: cfg.User, Password: cfg.Password}}, nil
}

// Close drains the connection and shuts the server down, flushing its files.
func (e *Embedded) Close() {
	if e == nil {
		return
	}
	e.Conn.Close()
	e.Server.Shutdown()
	e.Server.WaitForShutdown()
}

func splitHostPort(hp string) (string, int, error) {
	var host string
	var port int
	i := len(hp) - 1
	for i >= 0 && hp[i] != ':' {
		i--
	}
	if i < 0 {
		return "", 0, fmt.Errorf("nats listen address %q: want host:port", hp)
	}
	host = hp[:i]
	if _, err := fmt.Sscan(hp[i+1:], &port); err != nil {
		return "", 0, fmt.Errorf("nats listen address %q: bad port", hp)
	}
	return host, port, nil
}

// DirLock is an exclusive lock on a data folder; nats-server itself does not lock its store.
type DirLock struct{ f *os.File }

// ErrFolderInUse is LockDir's error when another process holds the folder.
var ErrFolderInUse = errors.New("in use by another kuozheng process")

// LockFile is the name of the file in a data folder that LockDir locks.
const LockFile = "kuozheng.lock"

// LockDir takes the exclusive lock on dir, failing at once (ErrFolderInUse) if another process
// holds it.
func LockDir(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data folder %s is %w (lock %s)", dir, ErrFolderInUse, path)
	}
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	return &DirLock{f: f}, nil
}

// Unlock releases the lock.
func (l *DirLock) Unlock() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
	}
}
