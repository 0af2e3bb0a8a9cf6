// Over 500 lines for a reason: backup and restore are one format (manifest, snapshot, stream
// configuration) read and written by two commands that share its checks.

package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A backup is a folder: the ledger stream's snapshot as JetStream sends it (<stream>.snapshot.s2),
// the stream's configuration and state at the snapshot (<stream>.json), and manifest.json, written
// last, which names both with their sizes and SHA-256. A folder without a manifest is a backup
// that did not finish. The views' snapshot bucket and the store's own folder are not in it: both
// are derived from the stream, tied to the code version that wrote them, and rebuilt from it
// (serve folds the views at its first start after a restore).

// backupFormat is the layout of a backup folder this build writes and reads.
const backupFormat = 1

const manifestFile = "manifest.json"

// viewsNotBackedUp is the manifest's word on the views.
const viewsNotBackedUp = "not backed up: the views and their snapshot are derived from the stream and rebuilt from it by serve after a restore"

// backupManifest describes a backup folder.
type backupManifest struct {
	Format int `json:"format"`
	// Kuozheng is the version of the build that made it; ViewsCode the views' code version.
	Kuozheng  string `json:"kuozheng_version"`
	ViewsCode string `json:"views_code_version"`
	// Ledger is the city whose ledger it is.
	Ledger string `json:"ledger"`
	// Source is where it was taken: a data folder or a NATS server (its password hidden).
	Source   string         `json:"source"`
	Started  time.Time      `json:"started_at"`
	Finished time.Time      `json:"finished_at"`
	Streams  []backupStream `json:"streams"`
	Views    string         `json:"views"`
}

// backupStream is one stream in a backup, at the snapshot's point.
type backupStream struct {
	// Name is the stream backed up: the ledger's, or a mirror of it.
	Name     string `json:"name"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	Messages uint64 `json:"messages"`
	// Freezes are the freezes the stream holds.
	Freezes int          `json:"freezes"`
	Config  string       `json:"config_file"`
	Archive string       `json:"snapshot_file"`
	Files   []backupFile `json:"files"`
}

// backupFile is a file of a backup and what it must hash to.
type backupFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// streamDescription is what <stream>.json holds: the server's configuration and state of the
// stream at the snapshot, as a restore sends them back.
type streamDescription struct {
	Config json.RawMessage `json:"config"`
	State  json.RawMessage `json:"state"`
}

// backupTarget is where backup and restore find the ledger: a data folder they start an
// embedded server on (locked while they run), or a running NATS server.
type backupTarget struct {
	data    string
	natsURL string
	ledger  string
}

func (b *backupTarget) register(fs *flag.FlagSet, ledger bool) {
	fs.StringVar(&b.data, "data", "./data", "data folder of a stopped ledger (an embedded nats-server is started on it, as serve does)")
	fs.StringVar(&b.natsURL, "nats", "", "a running NATS server or cluster that holds the ledger (nats://USER:PASSWORD@host:4222; serve's embedded one with --nats-listen)")
	if ledger {
		fs.StringVar(&b.ledger, "ledger", eventstore.DefaultLedger, "the city whose ledger to back up, by its code")
	}
}

// source names the target without credentials, for the manifest and messages.
func (b *backupTarget) source() string {
	if b.natsURL == "" {
		abs, err := filepath.Abs(b.data)
		if err != nil {
			abs = b.data
		}
		return "data folder " + abs
	}
	return redactURL(b.natsURL)
}

// connect reaches the target's NATS: the running server, or an embedded one started on the data
// folder. backup needs the folder to hold a ledger; restore creates it, and its embedded server
// acknowledges before syncing (syncing every message restored would take minutes a million
// messages): closeAll then syncs every file of it, and reports whether it could.
func (b *backupTarget) connect(restore bool) (nc *nats.Conn, closeAll func() error, err error) {
	if b.natsURL != "" {
		name := "kuozheng backup"
		if restore {
			name = "kuozheng restore"
		}
		nc, err := nats.Connect(b.natsURL, nats.Name(name))
		if err != nil {
			return nil, nil, fmt.Errorf("connect to %s: %w", b.source(), err)
		}
		return nc, func() error { nc.Close(); return nil }, nil
	}
	if err := notAFolder(b.data); err != nil {
		return nil, nil, err
	}
	if !restore {
		if _, err := os.Stat(filepath.Join(b.data, "jetstream")); err != nil {
			return nil, nil, fmt.Errorf("data folder %s holds no ledger (%w); back up a running server with --nats", b.data, err)
		}
	}
	lock, err := eventstore.LockDir(b.data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w; reach a running server with --nats (serve --nats-listen), or stop it", err)
	}
	if err := restoreUnfinished(b.data); err != nil && !restore {
		lock.Unlock()
		return nil, nil, err
	}
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: b.data, LazySync: restore}, nil)
	if err != nil {
		lock.Unlock()
		return nil, nil, err
	}
	return emb.Conn, func() error {
		defer lock.Unlock()
		emb.Close()
		if !restore {
			return nil
		}
		if err := syncTree(filepath.Join(b.data, "jetstream")); err != nil {
			return fmt.Errorf("syncing the restored files to disk: %w", err)
		}
		return nil
	}, nil
}

func backupCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	var tg backupTarget
	tg.register(fs, true)
	stream := fs.String("stream", "", "the stream to back up, if not the ledger's: a mirror of it on an off-site server (README, Backups)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, `Usage: kuozheng backup DIR [--data FOLDER | --nats URL] [--ledger CITY] [--stream NAME]

Writes a backup of the ledger's stream into DIR, a new or empty folder: JetStream's snapshot of
the stream at one sequence (writes go on meanwhile and are not in it), its configuration, and
manifest.json (sequences, message counts, freezes, SHA-256 of each file), written last.
'kuozheng restore DIR' restores it and verifies it.

Options:`)
		fs.PrintDefaults()
	}
	dir, err := backupDir(fs, args, stdout, "the folder to write the backup into")
	if err != nil {
		return err
	}
	if err := domain.CheckCity("--ledger", tg.ledger); err != nil {
		return usageError{err.Error()}
	}
	if *stream == "" {
		*stream = eventstore.SubjectsOf(tg.ledger).Stream
	}
	if err := emptyFolder(dir); err != nil {
		return err
	}
	nc, closeConn, err := tg.connect(false)
	if err != nil {
		return err
	}
	defer func() { _ = closeConn() }()
	_, statErr := os.Stat(dir)
	made := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	// Ctrl-C ends the backup as a failure does: what it wrote is removed, and the folder it made.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	m, size, err := writeBackup(ctx, nc, dir, &tg, *stream, stderr)
	if err != nil {
		if made {
			_ = os.Remove(dir) // empty now: writeBackup removed its files
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: the backup did not finish, and what it wrote in %s is removed", dir)
		}
		return err
	}
	bs := m.Streams[0]
	fmt.Fprintf(stdout, "backup of ledger %s from %s in %s: stream %s, %d messages through sequence %d, %d freezes; %s in %v\n",
		m.Ledger, m.Source, dir, bs.Name, bs.Messages, bs.LastSeq, bs.Freezes, megabytes(size), time.Since(start).Round(time.Millisecond))
	return nil
}

// writeBackup writes the backup of stream into dir: the snapshot, the stream's description, and
// the manifest last. It removes what it wrote if it fails. size is the snapshot's.
func writeBackup(ctx context.Context, nc *nats.Conn, dir string, tg *backupTarget, stream string, stderr io.Writer) (m *backupManifest, size int64, err error) {
	m = &backupManifest{Format: backupFormat, Kuozheng: kuozhengVersion(), ViewsCode: projections.CodeVersion, Ledger: tg.ledger,
		Source: tg.source(), Started: time.Now().UTC(), Views: viewsNotBackedUp}
	bs := backupStream{Name: stream, Config: stream + ".json", Archive: stream + ".snapshot.s2"}
	var written []string
	defer func() {
		if err != nil {
			for _, f := range written {
				_ = os.Remove(filepath.Join(dir, f))
			}
		}
	}()
	create := func(name string) (*os.File, error) {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err == nil {
			written = append(written, name)
		}
		return f, err
	}

	f, err := create(bs.Archive)
	if err != nil {
		return nil, 0, err
	}
	h := sha256.New()
	p := newByteProgress(stderr, "backup: "+stream)
	freezes := eventstore.SubjectsOf(tg.ledger).Freeze
	snap, err := eventstore.SnapshotStream(ctx, nc, stream, io.MultiWriter(f, h), eventstore.SnapshotOptions{
		Taken: func(s eventstore.StreamSnapshot) {
			p.last = s.LastSeq
			fmt.Fprintf(stderr, "backup: %s: the snapshot holds %d messages through sequence %d; receiving it\n", stream, s.Messages, s.LastSeq)
		},
		Progress: func(size int64, seq uint64) { p.tell(size, seq) },
		Message: func(seq uint64, subject string) {
			if strings.HasPrefix(subject, freezes) {
				bs.Freezes++
			}
		},
	})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, 0, fmt.Errorf("%s holds no stream %s (ledger %s): %w", tg.source(), stream, tg.ledger, err)
	}
	if err != nil {
		return nil, 0, err
	}
	p.done(snap.Size, snap.LastSeq)
	bs.FirstSeq, bs.LastSeq, bs.Messages = snap.FirstSeq, snap.LastSeq, snap.Messages
	bs.Files = append(bs.Files, backupFile{Name: bs.Archive, Size: snap.Size, SHA256: hex.EncodeToString(h.Sum(nil))})

	desc, _ := json.MarshalIndent(streamDescription{Config: snap.Config, State: snap.State}, "", "  ")
	if err := writeSynced(create, bs.Config, desc); err != nil {
		return nil, 0, err
	}
	sum := sha256.Sum256(desc)
	bs.Files = append(bs.Files, backupFile{Name: bs.Config, Size: int64(len(desc)), SHA256: hex.EncodeToString(sum[:])})

	m.Streams = []backupStream{bs}
	m.Finished = time.Now().UTC()
	mb, _ := json.MarshalIndent(m, "", "  ")
	if err := writeSynced(create, manifestFile+".tmp", mb); err != nil {
		return nil, 0, err
	}
	if err := os.Rename(filepath.Join(dir, manifestFile+".tmp"), filepath.Join(dir, manifestFile)); err != nil {
		return nil, 0, err
	}
	written = append(written, manifestFile)
	if err := syncFolder(dir); err != nil {
		return nil, 0, err
	}
	return m, snap.Size, nil
}

// emptyFolder accepts dir if it is empty or not there yet: a backup never mixes with another's
// files.
func emptyFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, manifestFile)); errors.Is(err, os.ErrNotExist) {
			// What a backup cut short leaves: its manifest is written last.
			return fmt.Errorf("backup folder %s holds a backup that did not finish (%s…, no manifest.json): remove the folder, or give a new one", dir, entries[0].Name())
		}
		return fmt.Errorf("backup folder %s is not empty (%s…): give a new folder to each backup, such as one named by the date", dir, entries[0].Name())
	}
	return nil
}

func restoreCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	var tg backupTarget
	tg.register(fs, false)
	replace := fs.Bool("replace", false, "replace the ledger's stream if the target already holds one (it is deleted first, with the views' snapshot)")
	replicas := fs.Int("replicas", 0, "on --nats: replicas of the restored stream (default: as backed up)")
	memLimit := fs.String("memory-limit", defaultMemoryLimit, "soft limit on the Go heap while verifying, as serve's (GOMEMLIMIT applies when this is not given)")
	expect := fs.String("ledger", "", "the city whose ledger the backup must hold, by its code: a check (a backup restores the ledger it holds)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, `Usage: kuozheng restore DIR [--data FOLDER | --nats URL] [--ledger CODE] [--replace] [--replicas N] [--memory-limit SIZE]

Restores the backup in DIR into a data folder no server holds (an embedded nats-server is started
on it) or a running NATS server, then verifies it before it reports success: every file against
the manifest's SHA-256 first (a damaged or partial backup restores nothing), then every hash
chain, and every stored freeze's digest reproduced by replaying the ledger to the freeze's point.
A target that already holds the ledger's stream is refused unless --replace is given; stop every
'kuozheng serve' of that ledger first. The views are rebuilt from the stream by serve.

Options:`)
		fs.PrintDefaults()
	}
	dir, err := backupDir(fs, args, stdout, "the backup's folder")
	if err != nil {
		return err
	}
	if *replicas != 0 && tg.natsURL == "" {
		return usageError{"--replicas applies to --nats only: a data folder's embedded server keeps one copy"}
	}
	if *replicas < 0 {
		return usageError{fmt.Sprintf("--replicas %d: want 1 or more", *replicas)}
	}
	if _, err := applyMemoryLimit(fs, *memLimit); err != nil {
		return err
	}
	if tg.natsURL == "" {
		if err := notAFolder(tg.data); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(tg.data, manifestFile)); err == nil {
			return usageError{fmt.Sprintf("--data %s holds a backup's %s: give the data folder to restore into, a new one or a ledger's", tg.data, manifestFile)}
		}
		if err := restoreUnfinished(tg.data); err != nil && !*replace {
			return usageError{fmt.Sprintf("%v; nothing was restored", err)}
		}
	}
	m, err := checkBackup(dir, stderr)
	if err != nil {
		return fmt.Errorf("%w; nothing was restored", err)
	}
	if *expect != "" && *expect != m.Ledger {
		return usageError{fmt.Sprintf("--ledger %s: the backup in %s holds the ledger of city %s; nothing was restored", *expect, dir, m.Ledger)}
	}
	bs := m.Streams[0]
	var desc streamDescription
	if err := readJSON(filepath.Join(dir, bs.Config), &desc); err != nil {
		return fmt.Errorf("backup %s: %s: %w; nothing was restored", dir, bs.Config, err)
	}
	sub := eventstore.SubjectsOf(m.Ledger)
	config, err := restoreConfig(desc.Config, sub, tg.natsURL == "", *replicas)
	if err != nil {
		return fmt.Errorf("backup %s: %s: %w; nothing was restored", dir, bs.Config, err)
	}

	ctx := context.Background()
	nc, closeConn, err := tg.connect(true)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			_ = closeConn()
		}
	}()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if tg.natsURL == "" {
		if err := roomToRestore(ctx, js, tg.data, sub.Stream, desc.State, *replace); err != nil {
			return err
		}
	} else if err := noServeOf(nc, m.Ledger); err != nil {
		return err
	}
	start := time.Now()
	replaced, err := clearTarget(ctx, js, &tg, sub.Stream, m.Ledger, *replace, stderr)
	if err != nil {
		return err
	}
	nothing := "nothing was restored"
	if replaced {
		nothing += fmt.Sprintf(" (and the stream --replace deleted is gone: restore this or another backup into %s)", tg.source())
	}
	// From here until it is verified the folder holds part of a ledger, which looks whole (a
	// restore killed half way left a prefix whose chains hold): marked, no command opens it.
	if tg.natsURL == "" {
		mark := fmt.Sprintf("from the backup in %s, begun %s", dir, time.Now().UTC().Format(time.RFC3339))
		if err := writeSynced(os.Create, filepath.Join(tg.data, unfinishedRestore), []byte(mark+"\n")); err != nil {
			return fmt.Errorf("marking the restore under way: %w; %s", err, nothing)
		}
		if err := syncFolder(tg.data); err != nil {
			return fmt.Errorf("marking the restore under way: %w; %s", err, nothing)
		}
	}

	archive, err := os.Open(filepath.Join(dir, bs.Archive))
	if err != nil {
		return err
	}
	defer archive.Close()
	p := newByteProgress(stderr, "restore: "+sub.Stream)
	p.total = bs.Files[slices.IndexFunc(bs.Files, func(f backupFile) bool { return f.Name == bs.Archive })].Size
	// nats-server removes a deleted stream's account folders on a goroutine of its own, so a
	// restore just after --replace deleted the last streams can fail to make the stream's
	// folder (seen once in CI). Nothing was made then: it is sent again from the archive's start.
	var info *jetstream.StreamInfo
	for attempt := 1; ; attempt++ {
		info, err = eventstore.RestoreStream(ctx, nc, config, desc.State, archive, func(sent int64) { p.tell(sent, 0) })
		var ae *jetstream.APIError
		if err == nil || attempt == 3 || !errors.As(err, &ae) || !strings.Contains(ae.Description, "could not create storage directory") {
			break
		}
		if _, serr := archive.Seek(0, io.SeekStart); serr != nil {
			break
		}
		fmt.Fprintf(stderr, "restore: the server was still removing the deleted stream's folder; sending the archive again (%v)\n", err)
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("%w; %s", err, nothing)
	}
	p.done(p.total, 0)
	if st := info.State; st.LastSeq != bs.LastSeq || st.Msgs != bs.Messages || (bs.Messages > 0 && st.FirstSeq != bs.FirstSeq) {
		return fmt.Errorf("the restored stream %s holds %d messages, %d through %d; the backup's manifest says %d, %d through %d: it is left there for inspection; do not serve it",
			sub.Stream, st.Msgs, st.FirstSeq, st.LastSeq, bs.Messages, bs.FirstSeq, bs.LastSeq)
	}
	restored := time.Since(start)
	fmt.Fprintf(stderr, "restore: %s restored (%d messages through sequence %d) in %v; verifying\n", sub.Stream, bs.Messages, bs.LastSeq, restored.Round(time.Millisecond))

	v, err := verifyRestored(ctx, nc, &tg, m.Ledger, info.Config.Replicas, bs, stderr)
	if err != nil {
		return fmt.Errorf("ledger %s restored into %s, but %w: it is left there for inspection; do not serve it as the ledger of record", m.Ledger, tg.source(), err)
	}
	closed = true
	synced := time.Now()
	if err := closeConn(); err != nil {
		return fmt.Errorf("ledger %s restored and verified in %s, but %w", m.Ledger, tg.source(), err)
	}
	if tg.natsURL == "" {
		fmt.Fprintf(stderr, "restore: the server stopped and every restored file synced to disk in %v\n", time.Since(synced).Round(time.Millisecond))
		if err := os.Remove(filepath.Join(tg.data, unfinishedRestore)); err != nil {
			return fmt.Errorf("ledger %s restored and verified in %s, but its mark of a restore under way stays: %w", m.Ledger, tg.source(), err)
		}
		if err := syncFolder(tg.data); err != nil {
			return fmt.Errorf("ledger %s restored and verified in %s, but %w", m.Ledger, tg.source(), err)
		}
	}
	fmt.Fprintf(stdout, "restored ledger %s from %s (taken %s) into %s: %d messages through sequence %d in %v\n",
		m.Ledger, dir, m.Started.Format(time.RFC3339), tg.source(), bs.Messages, bs.LastSeq, restored.Round(time.Millisecond))
	fmt.Fprintf(stdout, "ok: every hash chain and sequence link holds (%d employers)\n", v.employers)
	fmt.Fprintf(stdout, "ok: %d freezes reproduced, each digest equal to a replay to its sequence\n", v.freezes)
	serve := "kuozheng serve --data " + tg.data
	if tg.natsURL != "" {
		serve = "kuozheng serve --nats " + redactURL(tg.natsURL)
	}
	if m.Ledger != eventstore.DefaultLedger {
		serve += " --ledger " + m.Ledger
	}
	fmt.Fprintf(stdout, "verified in %v; serve it with %s (it rebuilds the views from the stream at its first start; add --today YYYY-MM-DD to read a ledger of past years as of a day in them)\n", v.took.Round(time.Millisecond), serve)
	return nil
}

// roomToRestore refuses a restore into data folder dir whose disk cannot hold the stream's bytes
// as backed up (state), counting those of the stream --replace would delete as free: else the
// restore stops half way, after --replace deleted the ledger it was to replace.
func roomToRestore(ctx context.Context, js jetstream.JetStream, dir, stream string, state json.RawMessage, replace bool) error {
	var backedUp struct {
		Bytes uint64 `json:"bytes"`
	}
	var st syscall.Statfs_t
	if json.Unmarshal(state, &backedUp) != nil || syscall.Statfs(dir, &st) != nil {
		return nil // nothing to judge by: the restore's own errors say what fails
	}
	free := st.Bavail * uint64(st.Bsize)
	var deleted uint64
	if s, err := js.Stream(ctx, stream); err == nil && replace {
		deleted = s.CachedInfo().State.Bytes
	}
	// The server's files hold more than the messages' bytes (their blocks' and indexes' own).
	need := backedUp.Bytes + backedUp.Bytes/8 + 16<<20
	if free+deleted >= need {
		return nil
	}
	more := ""
	if deleted > 0 {
		more = fmt.Sprintf(", and %s more once --replace deletes the stream there", megabytes(int64(deleted)))
	}
	return fmt.Errorf("the ledger's stream took %s when backed up, about %s on disk, and the disk of data folder %s has %s free%s: free space there first, or restore into a folder on another disk; nothing was deleted or restored",
		megabytes(int64(backedUp.Bytes)), megabytes(int64(need)), dir, megabytes(int64(free)), more)
}

// unfinishedRestore names the file a restore into a data folder writes before it makes the
// ledger's stream, and removes once the stream is verified and synced.
const unfinishedRestore = "RESTORE-UNFINISHED"

// restoreUnfinished refuses data folder dir while it holds a restore that did not finish (killed,
// or failed its verification): its stream may hold a prefix of the backup's, every chain of which
// holds, and would be served as the ledger.
func restoreUnfinished(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, unfinishedRestore))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("data folder %s holds a restore that did not finish (%s): its ledger may be part of the backup's and is not opened; restore it again with kuozheng restore BACKUP --data %s --replace",
		dir, strings.TrimSpace(string(b)), dir)
}

// checkBackup reads dir's manifest and checks every file it names against its size and SHA-256.
func checkBackup(dir string, stderr io.Writer) (*backupManifest, error) {
	var m backupManifest
	if err := readJSON(filepath.Join(dir, manifestFile), &m); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("backup %s has no %s: not a backup, or one that did not finish (a backup writes its manifest last)", dir, manifestFile)
	} else if err != nil {
		return nil, fmt.Errorf("backup %s: %s: %w", dir, manifestFile, err)
	}
	if m.Format != backupFormat {
		return nil, fmt.Errorf("backup %s is of format %d; this build reads format %d", dir, m.Format, backupFormat)
	}
	if err := domain.CheckCity("ledger", m.Ledger); err != nil {
		return nil, fmt.Errorf("backup %s: the manifest's %w", dir, err)
	}
	if len(m.Streams) != 1 {
		return nil, fmt.Errorf("backup %s: the manifest lists %d streams, want the ledger's alone", dir, len(m.Streams))
	}
	bs := m.Streams[0]
	for _, want := range []string{bs.Config, bs.Archive} {
		if !slices.ContainsFunc(bs.Files, func(f backupFile) bool { return f.Name == want }) {
			return nil, fmt.Errorf("backup %s: the manifest lists no hash for %s", dir, want)
		}
	}
	for _, bf := range bs.Files {
		if bf.Name != filepath.Base(bf.Name) {
			return nil, fmt.Errorf("backup %s: the manifest names a file outside the folder: %q", dir, bf.Name)
		}
		path := filepath.Join(dir, bf.Name)
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("backup %s is incomplete: %s is missing", dir, bf.Name)
		}
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		p := newByteProgress(stderr, "restore: checking "+bf.Name)
		p.total = bf.Size
		n, err := io.Copy(io.MultiWriter(h, &progressWriter{p: p}), f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("backup %s: reading %s: %w", dir, bf.Name, err)
		}
		if n != bf.Size {
			return nil, fmt.Errorf("backup %s is damaged: %s has %d bytes, the manifest says %d", dir, bf.Name, n, bf.Size)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != bf.SHA256 {
			return nil, fmt.Errorf("backup %s is damaged: %s has SHA-256 %s, the manifest says %s", dir, bf.Name, got, bf.SHA256)
		}
		fmt.Fprintf(stderr, "restore: %s (%s) has the manifest's SHA-256\n", bf.Name, megabytes(n))
	}
	return &m, nil
}

// restoreConfig is the backed-up stream's configuration as the restored ledger's stream: its
// name and subjects the ledger's (a backup of a mirror restores as the ledger itself), no
// mirror or sources, and on a data folder's single server one replica and no placement.
func restoreConfig(raw json.RawMessage, sub eventstore.Subjects, single bool, replicas int) (json.RawMessage, error) {
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	cfg["name"] = sub.Stream
	cfg["subjects"] = []string{sub.All}
	delete(cfg, "mirror")
	delete(cfg, "sources")
	switch {
	case single:
		cfg["num_replicas"] = 1
		delete(cfg, "placement")
	case replicas > 0:
		cfg["num_replicas"] = replicas
	}
	return json.Marshal(cfg)
}

// clearTarget refuses a target that holds the ledger's stream, unless replace, when it deletes
// it (replaced); and it deletes the views' snapshot bucket, which describes a stream no longer
// there.
func clearTarget(ctx context.Context, js jetstream.JetStream, tg *backupTarget, stream, ledger string, replace bool, stderr io.Writer) (replaced bool, err error) {
	s, err := js.Stream(ctx, stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
	case err != nil:
		return false, fmt.Errorf("looking for stream %s on %s: %w; nothing was restored", stream, tg.source(), err)
	case !replace:
		st := s.CachedInfo().State
		return false, fmt.Errorf("%s already holds ledger %s's stream %s (%d messages through sequence %d): restore replaces a ledger only when given --replace; nothing was restored",
			tg.source(), ledger, stream, st.Msgs, st.LastSeq)
	default:
		st := s.CachedInfo().State
		fmt.Fprintf(stderr, "restore: --replace: deleting stream %s (%d messages through sequence %d) from %s\n", stream, st.Msgs, st.LastSeq, tg.source())
		if err := js.DeleteStream(ctx, stream); err != nil {
			return false, fmt.Errorf("deleting stream %s to replace it: %w; nothing was restored", stream, err)
		}
		replaced = true
	}
	bucket := projections.SnapshotBucketOf(ledger)
	if err := js.DeleteObjectStore(ctx, bucket); err == nil {
		fmt.Fprintf(stderr, "restore: deleted the views' snapshot bucket %s: it described the stream replaced (serve rebuilds the views)\n", bucket)
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return replaced, fmt.Errorf("deleting the views' snapshot bucket %s: %w", bucket, err)
	}
	// The claims to keep views at the replaced stream's closings would hold back those of the
	// new one's for up to an hour.
	if err := js.DeleteKeyValue(ctx, projections.KeepBucketOf(ledger)); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return replaced, fmt.Errorf("deleting the bucket %s: %w", projections.KeepBucketOf(ledger), err)
	}
	return replaced, nil
}

// noServeOf refuses a restore onto a NATS where a serve of ledger still answers (on the subject
// the province asks it for figures): it would go on answering from the ledger replaced, writes
// refused as conflicts, until restarted (an outside review's drill). A serve still opening does
// not answer yet; it finds the stream replaced and says so on /readyz.
func noServeOf(nc *nats.Conn, ledger string) error {
	// Not JSON: a serve answers it at once with an error, without computing any figures.
	_, err := nc.Request(figuresSubject(ledger), []byte("is anyone serving?"), 5*time.Second)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil
	case err == nil:
		return fmt.Errorf("a kuozheng serve of ledger %s is running on this NATS (it answers on %s): stop every serve of the ledger before restoring it; nothing was restored",
			ledger, figuresSubject(ledger))
	}
	return fmt.Errorf("asking whether a serve of ledger %s runs on this NATS (%w): one may be running, busy; stop every serve of the ledger and restore again; nothing was restored", ledger, err)
}

// verified is what verification of a restored ledger found.
type verified struct {
	employers, freezes int
	took               time.Duration
}

// verifyRestored opens the restored ledger's store (keeping its state in the data folder, so
// that serve starts from it), checks every hash chain and reproduces every freeze.
func verifyRestored(ctx context.Context, nc *nats.Conn, tg *backupTarget, ledger string, replicas int, bs backupStream, stderr io.Writer) (verified, error) {
	start := time.Now()
	cfg := eventstore.Config{Ledger: ledger, Replicas: max(replicas, 1), Log: newLogger(stderr)}
	if tg.natsURL == "" {
		cfg.Dir = storeDir(tg.data, ledger)
	}
	st, err := eventstore.Open(ctx, nc, cfg)
	if err != nil {
		return verified{}, fmt.Errorf("the store could not open it: %w", err)
	}
	defer st.Close()
	in, err := st.Verify(ctx)
	if err != nil {
		return verified{}, fmt.Errorf("verification could not run: %w", err)
	}
	if !in.OK {
		why := []string{fmt.Sprintf("%d lost and %d deleted messages", in.Lost, in.Deleted)}
		for i, b := range in.Breaks {
			if i == 5 {
				why = append(why, fmt.Sprintf("and %d more employers", len(in.Breaks)-5))
				break
			}
			why = append(why, fmt.Sprintf("employer %s breaks at sequence %d: %s", b.EmployerID, b.Seq, b.Reason))
		}
		return verified{}, fmt.Errorf("verification failed: %s", strings.Join(why, "; "))
	}
	fmt.Fprintf(stderr, "restore: every hash chain holds (%d employers)\n", in.Employers)
	freezes := st.Freezes()
	if len(freezes) != bs.Freezes {
		return verified{}, fmt.Errorf("the restored stream holds %d freezes, the backup's manifest %d", len(freezes), bs.Freezes)
	}
	if err := reproduceFreezes(ctx, st, freezes, stderr); err != nil {
		return verified{}, err
	}
	return verified{employers: in.Employers, freezes: len(freezes), took: time.Since(start)}, nil
}

// reproduceFreezes checks every freeze against views folded from sequence 1 to its sequence, in
// one pass for all of them: the views are folded on from one freeze's sequence to the next, and
// a freeze whose date they no longer cover (books closed past it) is reproduced by a replay of
// its own, as a freeze made from nothing is.
func reproduceFreezes(ctx context.Context, st *eventstore.Store, refs []eventstore.FreezeRef, stderr io.Writer) error {
	refs = slices.Clone(refs)
	slices.SortStableFunc(refs, func(a, b eventstore.FreezeRef) int { return cmp.Compare(a.ThroughSeq, b.ThroughSeq) })
	l := projections.NewLedger()
	l.Source = projections.StoreSource{Store: st}
	var target uint64
	if len(refs) > 0 {
		target = refs[len(refs)-1].ThroughSeq
	}
	progress := func(seq uint64) {
		fmt.Fprintf(stderr, "restore: replaying for the freezes: sequence %d of %d (%d%%)\n", seq, target, seq*100/max(target, 1))
	}
	for i, ref := range refs {
		f, _, err := st.Freeze(ctx, ref.ID)
		if err != nil {
			return fmt.Errorf("freeze %s: %w", ref.ID, err)
		}
		if err := projections.ReplayOnto(ctx, st, l, f.ThroughSeq, progress); err != nil {
			return fmt.Errorf("replaying to freeze %s: %w", f.ID, err)
		}
		if l.Seq == f.ThroughSeq && l.Covers(projections.FreezeQuery(&l.Ref, f.ValidThrough)) {
			err = projections.VerifyFreeze(l, f)
		} else {
			err = projections.ReproduceFreeze(ctx, st, f)
		}
		if err != nil {
			return fmt.Errorf("a freeze does not reproduce: %w", err)
		}
		fmt.Fprintf(stderr, "restore: freeze %d of %d reproduced: %s, valid through %s, sequence %d, digest %s\n",
			i+1, len(refs), f.ID, f.ValidThrough, f.ThroughSeq, f.Digest)
	}
	return nil
}

// byteProgress tells, at most once a second and at the end, how far a transfer is.
type byteProgress struct {
	w     io.Writer
	what  string
	total int64  // bytes expected, 0 if unknown
	last  uint64 // the last sequence expected, 0 if none
	start time.Time
	told  time.Time
}

func newByteProgress(w io.Writer, what string) *byteProgress {
	return &byteProgress{w: w, what: what, start: time.Now(), told: time.Now()}
}

func (p *byteProgress) tell(n int64, seq uint64) {
	if time.Since(p.told) < time.Second {
		return
	}
	p.told = time.Now()
	p.line(n, seq)
}

func (p *byteProgress) done(n int64, seq uint64) { p.line(n, seq) }

func (p *byteProgress) line(n int64, seq uint64) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", p.what, megabytes(n))
	if p.total > 0 {
		fmt.Fprintf(&b, " of %s (%d%%)", megabytes(p.total), n*100/p.total)
	}
	if seq > 0 {
		fmt.Fprintf(&b, ", sequence %d", seq)
		if p.last > 0 {
			fmt.Fprintf(&b, " of %d", p.last)
		}
	}
	el := time.Since(p.start)
	fmt.Fprintf(&b, ", %v, %.1f MB/s\n", el.Round(100*time.Millisecond), float64(n)/1e6/max(el.Seconds(), 1e-3))
	fmt.Fprint(p.w, b.String())
}

// progressWriter tells a byteProgress of the bytes written through it.
type progressWriter struct {
	p *byteProgress
	n int64
}

func (w *progressWriter) Write(b []byte) (int, error) {
	w.n += int64(len(b))
	w.p.tell(w.n, 0)
	return len(b), nil
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// kuozhengVersion names this build: its module version and, when built from a checkout, the
// commit (with +dirty for uncommitted changes).
func kuozhengVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return v
}

// writeSynced writes b to a new file name made by create and syncs it.
func writeSynced(create func(string) (*os.File, error), name string, b []byte) error {
	f, err := create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncTree syncs every file and folder under dir, folders after what they hold.
func syncTree(dir string) error {
	var folders []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			folders = append(folders, path)
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
	for i := len(folders) - 1; i >= 0 && err == nil; i-- {
		err = syncFolder(folders[i])
	}
	return err
}

// syncFolder makes the names written in dir durable.
func syncFolder(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// backupDir parses the arguments of backup and restore: their one folder (named by what in the
// usage error) and --data or --nats, not both.
func backupDir(fs *flag.FlagSet, args []string, stdout io.Writer, what string) (string, error) {
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usageError{fmt.Sprintf("%s needs exactly one DIR, %s", fs.Name(), what)}
	}
	if flagSet(fs, "data") && flagSet(fs, "nats") {
		return "", usageError{"give --data or --nats, not both"}
	}
	return pos[0], nil
}
