// Over 500 lines for a reason: the options every command shares (data folder, NATS, ledger,
// server, logging) and the opening of a ledger from them.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var errHelp = errors.New("help shown")

// parse parses flags that may come before or after positional arguments. A flag given twice,
// or --server beside --data or --nats, is bad usage rather than one of them taken in silence.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	if name := repeated(fs, args); name != "" {
		return nil, usageError{fmt.Sprintf("--%s is given more than once: give it once", name)}
	}
	if name, next := missingValue(fs, args); name != "" {
		return nil, usageError{fmt.Sprintf("--%s needs a value, and the next word is the option %s: give --%s a value", name, next, name)}
	}
	// The flag package prints its error and the whole usage on a bad flag; bad usage is one
	// line on standard error (main), the usage only when asked for.
	usage := fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defer func() { fs.SetOutput(stdout); fs.Usage = usage }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stdout)
				if usage == nil {
					fmt.Fprintf(stdout, "Usage of %s:\n", fs.Name())
					fs.PrintDefaults()
				} else {
					usage()
				}
				return nil, errHelp
			}
			return nil, usageError{fmt.Sprintf("%v ('kuozheng %s --help' lists the options)", err, fs.Name())}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if flagSet(fs, "server") && local(fs) {
		return nil, usageError{"give --server, or --data or --nats, not both: a command asks a running server or opens the ledger itself"}
	}
	return pos, nil
}

// repeated names a flag given more than once in args, which the flag package would take the last
// of in silence ("" for none).
func repeated(fs *flag.FlagSet, args []string) string {
	seen := map[string]bool{}
	for _, a := range args {
		if a == "--" {
			break
		}
		f, _ := option(fs, a)
		if f == nil {
			continue
		}
		if seen[f.Name] {
			return f.Name
		}
		seen[f.Name] = true
	}
	return ""
}

// option is the flag of fs that the word a gives (-name, --name or --name=value), and whether a
// carries its value; nil when a gives none.
func option(fs *flag.FlagSet, a string) (*flag.Flag, bool) {
	if !strings.HasPrefix(a, "-") || a == "-" {
		return nil, false
	}
	name, _, withValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return fs.Lookup(name), withValue
}

// missingValue names a flag that takes a value but is followed by another of fs's flags (and
// that flag), which the flag package would take as its value in silence: "--valid-through --data
// DIR" read DIR as a stray argument ("" for none).
func missingValue(fs *flag.FlagSet, args []string) (name, next string) {
	for i, a := range args {
		if a == "--" || i+1 == len(args) {
			break
		}
		f, withValue := option(fs, a)
		if f == nil || withValue {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if g, _ := option(fs, args[i+1]); g != nil {
			return f.Name, args[i+1]
		}
	}
	return "", ""
}

// storeFlags are the options of commands that open the ledger's stream themselves.
type storeFlags struct {
	data       string
	natsURL    string
	ledger     string
	ledgerSet  bool // --ledger was given: a folder of another city's ledger may take this one too
	leader     string
	lazyFsync  bool
	natsListen string
	replicas   int
	// replayAll opens the store without its folder, so that it folds and checks every event.
	replayAll bool
	// existing refuses a data folder that holds no ledger, rather than making an empty one: a
	// mistyped --data would otherwise verify, freeze or print an empty ledger as if it were one,
	// or import rows into a stray one (errNoLedger).
	existing bool
	// metrics observes the store's appends and commits (eventstore.Config.Metrics).
	metrics eventstore.Observer
	// whileReplaying, if set, is called with the store before it has replayed the stream, so
	// that a reader can share the replay (eventstore.Store.ShareReplay).
	whileReplaying func(*eventstore.Store) error
}

// hasLedgerFiles reports whether the data folder dir holds an embedded server's store (a ledger,
// or one begun): a first start on it writes no defaults.
func hasLedgerFiles(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "jetstream"))
	return err == nil
}

// notAFolder refuses a --data that names a file, which the commands would otherwise report as an
// error opening a file inside it.
func notAFolder(dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return usageError{fmt.Sprintf("--data %s is a file, not a data folder: give the ledger's folder (--data DIR)", dir)}
	}
	return nil
}

// errNoLedger is wrapped by the error of a data folder that holds no ledger, refused.
var errNoLedger = errors.New("holds no ledger")

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "data folder of the embedded nats-server (locked while open)")
	fs.StringVar(&f.natsURL, "nats", "", "connect to this NATS server or cluster instead of embedding one")
	f.ledger = eventstore.DefaultLedger
	fs.Func("ledger", "the city whose ledger this is, by its code (its stream, subjects and reference data; "+domain.CityCodes()+"; default "+eventstore.DefaultLedger+")", func(v string) error {
		f.ledger, f.ledgerSet = v, true
		return nil
	})
	fs.BoolVar(&f.lazyFsync, "lazy-fsync", false, "let the embedded server acknowledge before syncing to disk (faster, can lose acknowledged writes on power failure)")
}

// registerStream adds the options of commands that make the ledger's stream (serve, demo): how
// many replicas it has on a cluster, and which node leads it. Others keep the stream as it is.
func (f *storeFlags) registerStream(fs *flag.FlagSet) {
	fs.StringVar(&f.leader, "prefer-leader", "", "on --nats with --replicas 3: ask that the cluster node of this server name lead the ledger's stream (spread several cities' leaders over the nodes)")
	fs.IntVar(&f.replicas, "replicas", 0, "on --nats: make or update the ledger's stream with this many replicas (3 on a three-node cluster); 0 keeps the stream's own (1 for a new one)")
}

// registerListen adds serve's option to let NATS clients reach its embedded server.
func (f *storeFlags) registerListen(fs *flag.FlagSet) {
	fs.StringVar(&f.natsListen, "nats-listen", "", "let NATS clients reach the embedded server on this host:port (credentials from KUOZHENG_NATS_USER and KUOZHENG_NATS_PASSWORD, required)")
}

// ledger is an open store and whatever must be closed with it.
type ledger struct {
	store *eventstore.Store
	nc    *nats.Conn
	close func()
}

// connected reports whether the ledger's NATS connection is up, and why not.
func (l *ledger) connected() error {
	if st := l.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("the connection to NATS is %s; writes and new events wait for it", strings.ToLower(st.String()))
	}
	return nil
}

// watchConnection logs the NATS connection going and coming back, which otherwise goes unseen,
// until the returned func stops it (before the connection is closed on purpose).
func watchConnection(nc *nats.Conn, log *slog.Logger) (stop func()) {
	nc.SetDisconnectErrHandler(func(c *nats.Conn, err error) {
		log.Error("NATS connection lost; /readyz answers 503 until it is back", "err", err)
	})
	nc.SetReconnectHandler(func(c *nats.Conn) {
		log.Info("NATS connection back", "server", c.ConnectedUrlRedacted())
	})
	return func() {
		nc.SetDisconnectErrHandler(nil)
		nc.SetReconnectHandler(nil)
	}
}

// checkReplicas refuses more than one replica on the embedded server, which is one node: it would
// refuse the stream, and a start try again for ever.
func (f storeFlags) checkReplicas() error {
	if f.replicas > 1 && f.natsURL == "" {
		return usageError{fmt.Sprintf("--replicas %d needs --nats, a cluster of at least %d nodes: the embedded server is one node and keeps one copy", f.replicas, f.replicas)}
	}
	return nil
}

func openLedger(ctx context.Context, f storeFlags, log *slog.Logger) (*ledger, error) {
	if f.ledger == "" {
		f.ledger = eventstore.DefaultLedger
	}
	if err := domain.CheckCity("--ledger", f.ledger); err != nil {
		return nil, usageError{err.Error()}
	}
	if f.replicas < 0 {
		return nil, usageError{fmt.Sprintf("--replicas %d: want 1 or more, or 0 to keep the stream's own", f.replicas)}
	}
	if err := f.checkReplicas(); err != nil {
		return nil, err
	}
	var nc *nats.Conn
	var emb *eventstore.Embedded
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if f.natsURL != "" {
		var err error
		// No reconnect buffer: a write while disconnected fails at once (not recorded) instead of
		// being sent later, after its client was answered.
		//
		// Pings every 2 s, the connection given up after 2 unanswered: a node that goes silent
		// (its link cut, its machine hung; no RST, no FIN, unlike a killed process) is noticed
		// only by pings, and with nats.go's defaults (every 2 min, 2 unanswered) every write
		// stalled on the dead connection for 4-6 min though the stream had a new leader within
		// seconds. Now it is given up 4-6 s after the node went silent and the connection moves
		// to another node of --nats (netcut_test.go). The dead node goes to the end of the list
		// of nodes to try, and a dial to it gives up after nats.go's Timeout (2 s by default).
		nc, err = nats.Connect(f.natsURL, nats.Name("kuozheng"), nats.MaxReconnects(-1), nats.ReconnectBufSize(-1),
			nats.PingInterval(2*time.Second), nats.MaxPingsOutstanding(2))
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", redactURL(f.natsURL), err)
		}
		closers = append(closers, nc.Close)
	} else {
		noLedger := func() error {
			return fmt.Errorf("data folder %s %w: give the folder serve uses (--data DIR), or ask a running server (--server URL)", f.data, errNoLedger)
		}
		if err := notAFolder(f.data); err != nil {
			return nil, err
		}
		if _, err := os.Stat(f.data); f.existing && err != nil {
			return nil, noLedger()
		}
		// A folder that holds no ledger, and no lock's file, is refused before it is locked:
		// the lock's file would be left in someone's folder that never was a ledger's. One a
		// restore left unfinished says so first; one with a lock's file is locked (another
		// process may hold it), then checked.
		_, lockErr := os.Stat(filepath.Join(f.data, eventstore.LockFile))
		if f.existing && !hasLedgerFiles(f.data) && lockErr != nil {
			if err := restoreUnfinished(f.data); err != nil {
				return nil, err
			}
			return nil, noLedger()
		}
		lock, err := eventstore.LockDir(f.data)
		if errors.Is(err, eventstore.ErrFolderInUse) {
			return nil, fmt.Errorf("%w: stop the serve that holds it first, or ask it instead (a command that takes --server: --server http://HOST:PORT in place of --data)", err)
		}
		if err != nil {
			return nil, err
		}
		closers = append(closers, lock.Unlock)
		if err := restoreUnfinished(f.data); err != nil {
			closeAll()
			return nil, err
		}
		if f.existing && !hasLedgerFiles(f.data) {
			closeAll()
			return nil, noLedger()
		}
		emb, err = eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: f.data, LazySync: f.lazyFsync, Listen: f.natsListen,
			User: os.Getenv("KUOZHENG_NATS_USER"), Password: os.Getenv("KUOZHENG_NATS_PASSWORD")}, log)
		if err != nil {
			closeAll()
			return nil, err
		}
		closers = append(closers, emb.Close)
		nc = emb.Conn
	}
	if f.natsURL == "" {
		if err := ledgerOfFolder(ctx, nc, f, log); err != nil {
			closeAll()
			return nil, err
		}
	}
	cfg := eventstore.Config{Ledger: f.ledger, Log: log, Replicas: f.replicas, PreferLeader: f.leader, Metrics: f.metrics}
	if f.natsURL == "" {
		cfg = emb.StoreConfig(cfg)
		// Writes stop, answered 503, while its disk is full or read-only, or the server could not write it.
		cfg.DiskDir, cfg.WriteFault = f.data, emb.WriteFault
		// No other process reaches the stream without a listener; the folder is locked.
		cfg.SoleWriter = f.natsListen == ""
	}
	switch {
	case f.natsURL == "" && !f.replayAll:
		// The store's snapshot, archive and key runs beside the stream: a start folds only the
		// events after the snapshot. On --nats a replica has no folder of its own: it folds the
		// whole stream at start, with scratch files in the system's temporary folder.
		cfg.Dir = storeDir(f.data, f.ledger)
		if err := adoptStoreDir(ctx, nc, f.data, f.ledger, log); err != nil {
			closeAll()
			return nil, err
		}
	case f.natsURL == "":
		cfg.ArchiveDir = f.data // beside the stream, not in a temporary folder that may be in memory
	}
	st, err := eventstore.Start(ctx, nc, cfg)
	if err != nil {
		closeAll()
		return nil, err
	}
	if f.whileReplaying != nil {
		if err := f.whileReplaying(st); err != nil {
			st.Close()
			closeAll()
			return nil, err
		}
	}
	if err := st.CaughtUp(ctx); err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, st.Close)
	if log != nil {
		closers = append(closers, watchConnection(nc, log))
	}
	return &ledger{store: st, nc: nc, close: closeAll}, nil
}

// storeDir is the folder of the store's own files (snapshot, archive, key runs) of ledger in the
// data folder data. Each city has its own: a second city's ledger in a folder (--ledger given)
// must not replace the first's snapshot and archive, which would make its next start fold the
// whole stream again.
func storeDir(data, ledger string) string {
	if ledger == "" || ledger == eventstore.DefaultLedger {
		return filepath.Join(data, "store")
	}
	return filepath.Join(data, "store-"+ledger)
}

// adoptStoreDir moves the store folder of another city's ledger alone in a data folder from
// store/, where builds before 2026-12-07 kept it, to its own (storeDir), so that its first start
// since does not fold the whole stream again. A folder that holds another ledger too (Ganzhou's,
// or a third city's) leaves store/ where it is.
func adoptStoreDir(ctx context.Context, nc *nats.Conn, data, ledger string, log *slog.Logger) error {
	own, old := storeDir(data, ledger), filepath.Join(data, "store")
	if own == old {
		return nil
	}
	if _, err := os.Stat(own); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(old); err != nil {
		return nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	// Only a folder of this one ledger: store/ may be Ganzhou's, or another city's of two.
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		if city, ok := eventstore.CityOfStream(name); ok && city != ledger {
			return nil
		}
	}
	if err := names.Err(); err != nil {
		return nil // not known: left where it is
	}
	if err := os.Rename(old, own); err != nil {
		return fmt.Errorf("moving the store's folder %s to %s: %w", old, own, err)
	}
	if log != nil {
		log.Info("moved the store's folder to the city's own", "from", old, "to", own)
	}
	return nil
}

// ledgerOfFolder refuses a data folder that holds another city's ledger and none of f's, the
// default: a start would make an empty ledger beside it and serve that (a city's backup restored,
// then served without its --ledger). A --ledger given names the ledger meant, and the new ledger
// beside the others is logged (a mistyped code would otherwise serve an empty ledger unsaid). A
// command that reads an existing ledger refuses a folder without f's whatever it holds, rather
// than make an empty one and report on it.
func ledgerOfFolder(ctx context.Context, nc *nats.Conn, f storeFlags, log *slog.Logger) error {
	dir, ledger, existing := f.data, f.ledger, f.existing
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	want := eventstore.SubjectsOf(ledger).Stream
	var others []string
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		if name == want {
			return nil
		}
		if city, ok := eventstore.CityOfStream(name); ok {
			others = append(others, city)
		}
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("list the streams of %s: %w", dir, err)
	}
	switch {
	case existing && len(others) == 0:
		return fmt.Errorf("data folder %s %w: give the folder serve uses (--data DIR), or ask a running server (--server URL)", dir, errNoLedger)
	case len(others) == 0:
		return nil
	case f.ledgerSet && !existing:
		if log != nil {
			log.Warn("making a new ledger beside another city's in the data folder", "data", dir, "ledger", ledger, "folder_holds", strings.Join(others, ","))
		}
		return nil
	}
	return usageError{fmt.Sprintf("the data folder %s holds the ledger of city %s and none of city %s: give --ledger %s",
		dir, strings.Join(others, ", "), ledger, others[0])}
}

func parseDateFlag(name, v string) (domain.Date, error) {
	if v == "" {
		return 0, nil
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		return 0, usageError{fmt.Sprintf("--%s: %v", name, err)}
	}
	return d, nil
}

// ledgerDateFlag is parseDateFlag of a date the ledger must hold (domain.CheckWithinLedger).
func ledgerDateFlag(name, v string) (domain.Date, error) {
	d, err := parseDateFlag(name, v)
	if err != nil || d == 0 {
		return d, err
	}
	if err := domain.CheckWithinLedger(name, d); err != nil {
		return 0, usageError{"--" + err.Error()}
	}
	return d, nil
}

func todayInShanghai() domain.Date { return domain.DateInChina(time.Now()) }

// newLogger is the log of a command without log flags: text, at the default level.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: defaultLogLevel()}))
}

// defaultLogLevel is info, or debug when KUOZHENG_LOG=debug.
func defaultLogLevel() slog.Level {
	if strings.EqualFold(os.Getenv("KUOZHENG_LOG"), "debug") {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// logFlags are the options of the long-running commands that log (serve, demo, documents).
type logFlags struct {
	format, level string
}

func (f *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "log-format", "text", "log lines as text (key=value) or json (one JSON object a line, for log shippers)")
	fs.StringVar(&f.level, "log-level", "", "the least severe lines logged: debug, info, warn or error (default info, or debug when KUOZHENG_LOG=debug); debug adds a line for every write: its request id, principal, employer and stream sequence")
}

// logger makes the log the flags ask for, writing to w; bad values are usage errors.
func (f logFlags) logger(w io.Writer) (*slog.Logger, error) {
	opts := slog.HandlerOptions{Level: defaultLogLevel()}
	switch strings.ToLower(f.level) {
	case "":
	case "debug":
		opts.Level = slog.LevelDebug
	case "info":
		opts.Level = slog.LevelInfo
	case "warn":
		opts.Level = slog.LevelWarn
	case "error":
		opts.Level = slog.LevelError
	default:
		return nil, usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", f.level)}
	}
	switch f.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, &opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format %q: want text or json", f.format)}
}

// logLines logs each line written to it as a record of its own, for progress written as text.
type logLines struct{ log *slog.Logger }

func (l logLines) Write(p []byte) (int, error) {
	for line := range strings.Lines(string(p)) {
		if line = strings.TrimSpace(line); line != "" {
			l.log.Info(line)
		}
	}
	return len(p), nil
}

// command makes a subcommand's flag set with the options that reach the ledger (a data folder,
// NATS, or a running server) and its help text.
func command(name, help string, stdout io.Writer) (*flag.FlagSet, *storeFlags, *remote) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// verify checks every chain from its first event, not from the store's snapshot. Only an
	// import asked to (--new-ledger) makes a ledger in a folder that holds none.
	sf, rm := &storeFlags{replayAll: name == "verify", existing: true}, &remote{}
	sf.register(fs)
	rm.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stdout, help+"\n\nOptions:")
		fs.PrintDefaults()
	}
	return fs, sf, rm
}

// local reports whether the command was asked to open the ledger itself rather than ask a server.
func local(fs *flag.FlagSet) bool { return flagSet(fs, "data") || flagSet(fs, "nats") }

// localOnly refuses, as bad usage, the flags given that act only on a ledger the command opens
// itself: asking a server, they would be ignored, and rows or a freeze recorded where the user
// said they should not be (a server's city and business date are its own).
func localOnly(fs *flag.FlagSet) error {
	if local(fs) {
		return nil
	}
	for _, n := range []string{"ledger", "today", "lazy-fsync", "prefer-leader", "replicas", "nats-listen"} {
		if flagSet(fs, n) {
			return usageError{fmt.Sprintf("--%s applies to a ledger this command opens (--data DIR or --nats URL); a server uses its own (give it to kuozheng serve)", n)}
		}
	}
	return nil
}

// redactURL hides the credentials of a --nats URL (one URL or a comma-separated list, as
// nats.Connect takes) before it is printed or logged: a password, or a user with no password
// (NATS's token authentication: nats://TOKEN@host).
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil && strings.Contains(p, "@"):
			parts[i] = "(a URL that does not parse, not shown: it may hold a password)"
		case err != nil || u.User == nil:
		case hasPassword(u.User):
			parts[i] = u.Redacted()
		default:
			u.User = url.User("xxxxx")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

func hasPassword(u *url.Userinfo) bool {
	_, ok := u.Password()
	return ok
}
