// Over 500 lines for a reason: the Store type, its configuration and its start and close, which
// the other files of the package extend.

// Package eventstore keeps the ledger's events in a NATS JetStream stream: it appends commands'
// events atomically with optimistic concurrency per employer, remembers idempotency keys for
// ever, chains each employer's events by SHA-256, and indexes what the write side needs.
package eventstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/semaphore"
)

// Subject prefixes of the default ledger (DefaultLedger's): a store's own are Store.Subjects.
const (
	EmployerPrefix = "ledger.e."
	RefPrefix      = "ledger.ref."
)

// DefaultLedger is the city whose ledger a store keeps when Config.Ledger is empty: Ganzhou
// (GB/T 2260 code 360700), the city of the 2006 plan.
const DefaultLedger = "360700"

// Subjects are the stream and subjects of one city's ledger. The default ledger keeps the names
// ledgers have always had (stream LEDGER, subjects ledger.>); every other city's are its own
// (LEDGER_<code>, city.<code>.>), so that the streams of a province's cities can share a NATS
// cluster without overlapping.
type Subjects struct {
	// Stream is the stream's name.
	Stream string
	// All is the stream's subject filter.
	All string
	// Employer, Ref and Freeze prefix an employer's, a kind of reference data's and a freeze's
	// subject; Notice the claims of notice numbers.
	Employer, Ref, Freeze, Notice string
}

// SubjectsOf are the names of city ledger's stream and subjects ("" is DefaultLedger).
func SubjectsOf(ledger string) Subjects {
	if ledger == "" || ledger == DefaultLedger {
		return Subjects{Stream: "LEDGER", All: "ledger.>", Employer: EmployerPrefix, Ref: RefPrefix, Freeze: FreezePrefix, Notice: NoticeNumberPrefix}
	}
	root := "city." + ledger + "."
	return Subjects{Stream: "LEDGER_" + ledger, All: root + ">", Employer: root + "e.", Ref: root + "ref.", Freeze: root + "freeze.", Notice: root + "notice."}
}

// CityOfStream returns the city whose ledger a stream of this name keeps (SubjectsOf's Stream),
// and false for a stream that keeps no city's ledger.
func CityOfStream(name string) (string, bool) {
	switch {
	case name == SubjectsOf(DefaultLedger).Stream:
		return DefaultLedger, true
	case strings.HasPrefix(name, "LEDGER_") && domain.CheckCity("", strings.TrimPrefix(name, "LEDGER_")) == nil:
		return strings.TrimPrefix(name, "LEDGER_"), true
	}
	return "", false // a mirror (LEDGER_MIRROR) or any other stream
}

// Header carrying an event's chain hash.
const HashHeader = "Kz-Hash"

// PublishTimeoutBound is the default of Config.Timeout: how long one publish waits for
// JetStream's acknowledgement. It bounds how long a write can stay pending after its caller was
// answered: a write not yet sent when its caller's context ends is never sent (ErrNotRecorded),
// and the one publish already in flight is waited for at most this long from when it was first
// sent (ErrOutcomeUnknown), and not sent again after that. (On a clustered stream a sending
// nobody answers is sent again within that time: ClusterAttempt.)
const PublishTimeoutBound = 10 * time.Second

// ClusterAttempt bounds one sending of a batch to a stream with replicas on a cluster: one not
// answered in that time is sent again (the same messages, expected sequences and ids, so that at
// most one sending is stored), until Config.Timeout from the first. A stream whose leader's node
// died answers nothing until its replicas elect another; the leader-elected advisory makes the
// waiting sendings go again at once.
const ClusterAttempt = 2 * time.Second

// Config configures a Store.
type Config struct {
	// Ledger is the city whose ledger this is, by its administrative code (default
	// DefaultLedger); it names the stream and subjects (SubjectsOf).
	Ledger string
	// Stream is the stream's name (default the ledger's, SubjectsOf).
	Stream string
	// SoleWriter says no other store writes the stream: serve on its embedded server with no
	// NATS listener, its data folder locked. Its writes into an ended year need no fence
	// (Store.fenced): a closing is decided with this store's writes held.
	SoleWriter bool
	// Replicas of the stream on a cluster: the stream is updated to this many. 0 keeps the
	// count the stream has (1 for a stream Open makes): a store opened to read must not scale
	// the stream down.
	Replicas int
	// PreferLeader, if set, names the cluster node (server name) Open asks to lead the stream;
	// a failure to move it is logged, not fatal.
	PreferLeader string
	// DuplicateWindow is how long JetStream itself remembers message ids (default 30s); the
	// store remembers idempotency keys beyond it, from the moment its follower folds the write.
	// Every publish carries its subject's expected sequence, so the retry of an employer's
	// write that was stored after all is refused by the stream and answered by the key index;
	// only a registration under a new random id (no organisation code) relies on the window,
	// and then only while the follower is further behind the stream than the window is long.
	// The window costs an id a message, rebuilt at every server start from the messages stored
	// within it: 126 MB right after a bulk load of a year at two minutes.
	DuplicateWindow time.Duration
	// MaxBatch is the most messages in one atomic batch (default 1000, what any nats-server
	// takes; EmbeddedMaxBatch on the embedded one).
	MaxBatch int
	// BatchesInFlight is how many atomic batches may be committing at once (default 3: the
	// next batches travel to the server and are staged there while the one before them
	// syncs; a bulk load is 15% faster with two than with one, and 2–5% faster again with
	// three, as the server's stream no longer waits for a batch between syncs). A batch goes
	// beside another only when it is full: concurrent writers' batches go one at a time, fuller.
	BatchesInFlight int
	// Timeout bounds one publish round trip (default PublishTimeoutBound).
	Timeout time.Duration
	// RetryTimeout bounds how long a write keeps deciding again after it lost the race to
	// another writer of its employer (another API replica) or met its key's first attempt
	// still being committed (default RetryTimeoutDefault); then it answers ErrContended. Time
	// spent catching up between attempts (an election, a follower behind or given a new
	// consumer) does not count, up to four budgets in all. The caller's context deadline ends it
	// sooner.
	RetryTimeout time.Duration
	// Dir is where the store keeps its own state between starts: a snapshot of its indexes
	// (written every SnapshotEvery events, when idle and at Close), the history archive's file
	// and the idempotency index's runs. A start then reads only the events after the snapshot.
	// Empty: every start replays the whole stream, and the archive and runs are scratch files
	// in ArchiveDir. A folder serves one store at a time (it is locked while open); a store on
	// another replica needs its own or none.
	Dir string
	// SnapshotEvery is how many events the store folds between two snapshots in Dir (default
	// 250,000; negative: only when idle and at Close). A start after a crash replays at most
	// about this many events.
	SnapshotEvery int
	// NoArchive disables the archive of events that serves histories and folds of employers out
	// of the write side's cache: they then read the stream by subject, one event a request.
	NoArchive bool
	// ArchiveDir is where the archive's and the idempotency index's scratch files go when there
	// is no Dir (default: the system's temporary folder). The archive's chunks take about a quarter
	// of the stream's size (1.8 GB beside 7.3 GB at ten years of the demo), its open tails about a kilobyte a payer; the files are gone when the
	// store closes.
	ArchiveDir string
	// EmployerCache is how many employers' folded state the write side keeps (default 4096);
	// others are folded from their stored events when a command needs them.
	EmployerCache int
	// DiskDir is the data folder that holds the stream (the embedded server's): while its file
	// system is read-only or has less than DiskReserve bytes free, writes are refused before they
	// are sent, with a *DiskError (ErrDiskFull, ErrNotRecorded). Empty: no such check (a stream
	// on another server, whose disk the store cannot see).
	DiskDir string
	// DiskReserve is the free space DiskDir keeps (default DiskReserveDefault).
	DiskReserve int64
	// WriteFault, if set, says why the stream's server takes no write now (Embedded.WriteFault):
	// writes are then refused with it before they are sent, not recorded.
	WriteFault func() error
	// DialFollow, if set, opens a connection of the store's own to the stream's server
	// (Embedded.DialFollow): the follower reads the stream through it, at a fraction of the
	// allocations the client makes a message, and through the client only if it fails. Nil: the
	// client reads all (a cluster, whose consumers the client makes again on another node).
	DialFollow DialFollow
	// Metrics observes appends; nil observes nothing.
	Metrics Observer
	Log     *slog.Logger
}

// Observer is told what the store does, for metrics.
type Observer interface {
	Appended(eventType string, n int)
	Batch(msgs int, d time.Duration, err error)
	Conflict()
	Duplicate()
}

// head is the last event of one subject.
type head struct {
	seq  uint64
	n    uint64
	hash string
}

// keyRecord is what the index keeps of an idempotency key: a digest of the request it came with
// and the sequences of its first and last events. A command's events share one subject, so the
// subject, the employer and the event ids are read back from the stream on a retry; the index
// holds one entry per command ever received (keyindex.go), 48 bytes in a run file.
type keyRecord struct {
	body  digest
	first uint64
	last  uint64
}

// digest is 128 bits of a key or body hash: enough to tell requests apart, small enough to keep
// for every command the ledger ever received.
type digest [16]byte

func digestOf(s string) digest {
	var d digest
	var sum [sha256.Size]byte
	if domain.DecodeHex(sum[:], s) {
		copy(d[:], sum[:])
		return d
	}
	sum = sha256.Sum256([]byte(s))
	copy(d[:], sum[:])
	return d
}

// Store is the ledger's event store.
type Store struct {
	cfg    Config
	sub    Subjects
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	log    *slog.Logger
	com    *committer
	cancel context.CancelFunc
	done   chan struct{}
	// unsettled counts holds whose own append went unanswered and that have not since caught up
	// with the stream: meanwhile the sole writer fences too (Store.fenced). settling waits for
	// their catch-ups (settle) at Close.
	unsettled atomic.Int32
	settling  sync.WaitGroup

	// applyMu is held by the follower while it applies a message, and by a snapshot's capture,
	// which so sees the state at one sequence.
	applyMu sync.Mutex
	// writing is taken a unit at a time by Execute, ExecuteBulk and ExecuteRef, whole by
	// HoldWrites (a semaphore, not an RWMutex: a write waiting for a hold keeps its deadline).
	writing *semaphore.Weighted

	mu     sync.RWMutex
	cache  *employerCache
	heads  map[string]head         // subject → the last event the follower checked
	ahead  map[string][]localEvent // subject → this store's appends the follower has not reached
	keys   *keyIndex
	breaks map[string]ChainBreak
	// damage counts reads of the store's files derived from the stream (the history archive,
	// the idempotency index) that found their bytes damaged (derivedDamaged).
	damage atomic.Int64
	ref    domain.Reference
	// refNow is ref as last published (publishRef), read without the lock: Reference is called
	// from callbacks that run under it (Request.Authorize), where a nested read lock would wait
	// behind a writer waiting for the first.
	refNow  atomic.Pointer[domain.Reference]
	refSeqs []uint64 // sequences of the reference events through applied, for a snapshot
	applied atomic.Uint64
	last    lastMessage   // the message at applied
	notify  chan struct{} // closed and replaced when applied advances
	tailErr error

	locks keyedMutex

	freezes []FreezeRef
	years   map[int]YearRecord
	// notices holds, per notice number prefix (domain.NoticePrefix), the highest serial of the
	// notices recorded (NoticeNumber).
	notices map[string]int
	// recoded holds the employer ids whose subjects are claims of organisation codes (true), or
	// whose employers' codes were corrected (false): OrgCodeSlot reads these, and takes every
	// other subject to hold the code its id derives from.
	recoded map[string]bool
	// earliest is the earliest business date of any event seen.
	earliest domain.Date
	archive  *archive

	elected *nats.Subscription // the stream's leader-elected advisories, on a cluster
	// tailKick asks the follower for a new consumer (kickFollower); kicked is when it was last
	// asked (monotonic; 0: never).
	tailKick chan struct{}
	kicked   atomic.Int64
	// The replay Start began: from after startSeq to replayTo, the stream's last sequence then;
	// share is a reader's share of it (ShareReplay).
	started  time.Time
	runCtx   context.Context // ends at Close
	tailing  atomic.Bool     // the follower runs (done is closed when it stops)
	startSeq uint64
	replayTo uint64
	lost     lostTail    // set by Start, read-only after
	snapHeld atomic.Bool // no snapshot is written: events found lost at the start (AcceptLoss)
	share    atomic.Pointer[replayShare]
	// backlog holds the batches of messages received and not yet folded (startTail).
	backlog atomic.Pointer[chan *preparedBatch]

	pendMu  sync.Mutex
	pending map[string]chan struct{} // subjects with an append of this store in flight

	// Snapshots (snapshot.go); the stream's identity is what a snapshot must match.
	dirLock   *DirLock
	created   int64 // the stream's creation time, Unix nanoseconds
	firstSeq  uint64
	snapSeq   atomic.Uint64 // the sequence of the last snapshot taken
	snapSaved atomic.Uint64 // the sequence of the last snapshot written (or restored)
	snapBusy  atomic.Bool   // a snapshot is being written
	snapReq   chan *snapshot
	lastApply atomic.Int64  // when the follower last applied a message (monotonic)
	folded    atomic.Uint64 // messages the follower applied since Open
	crashed   bool          // set by a test simulating a crash: Close writes no snapshot
	// lagDirect, set by a test, stands in for the stream's direct gets (a replica that lags).
	lagDirect func(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error)
	// leaderBehind, set by a test, makes the leader answer "not found" while it reports true (a
	// leader that has not applied what it committed).
	leaderBehind func() bool
	bg           sync.WaitGroup // the keeper, the sealer and the idle watcher
	closeOnce    sync.Once
	// badCheckpoint logs the first checkpoint that could not be used; later ones would say the
	// same for every fold.
	badCheckpoint sync.Once
}

// lastMessage identifies the message at a sequence, so that a snapshot can be checked against
// the stream it was taken from.
type lastMessage struct {
	subject, hash string
	size          uint64
}

// Open creates or updates the stream, restores the store's state from the snapshot in Config.Dir
// if one matches the stream, folds the events after it (every event without one) and follows
// the stream from there. It is Start and then CaughtUp.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Store, error) {
	s, err := Start(ctx, nc, cfg)
	if err != nil {
		return nil, err
	}
	if err := s.CaughtUp(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Start is Open but for the replay of the stream, which CaughtUp does, so that a reader which
// must replay the stream too can share the replay first (ShareReplay). Nothing may be appended,
// and no read relied on, before CaughtUp returns; once Start succeeds, CaughtUp or Close must
// be called, and if CaughtUp fails the store is closed.
func Start(ctx context.Context, nc *nats.Conn, cfg Config) (*Store, error) {
	if cfg.Ledger == "" {
		cfg.Ledger = DefaultLedger
	}
	if err := domain.CheckCity("ledger", cfg.Ledger); err != nil {
		return nil, err
	}
	sub := SubjectsOf(cfg.Ledger)
	if cfg.Stream == "" {
		cfg.Stream = sub.Stream
	}
	sub.Stream = cfg.Stream
	if cfg.DuplicateWindow == 0 {
		cfg.DuplicateWindow = 30 * time.Second
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = 1000
	}
	if cfg.BatchesInFlight == 0 {
		cfg.BatchesInFlight = 3
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = PublishTimeoutBound
	}
	if cfg.DiskReserve == 0 {
		cfg.DiskReserve = DiskReserveDefault
	}
	if cfg.RetryTimeout == 0 {
		cfg.RetryTimeout = RetryTimeoutDefault
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.EmployerCache <= 0 {
		cfg.EmployerCache = 4096
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if cfg.Replicas == 0 {
		if cfg.Replicas, err = streamReplicas(ctx, js, cfg.Stream, cfg.Log); err != nil {
			return nil, err
		}
	}
	sc := jetstream.StreamConfig{
		Name:               cfg.Stream,
		Subjects:           []string{sub.All},
		Storage:            jetstream.FileStorage,
		Replicas:           cfg.Replicas,
		Retention:          jetstream.LimitsPolicy,
		Discard:            jetstream.DiscardNew,
		Duplicates:         cfg.DuplicateWindow,
		DenyDelete:         true,
		DenyPurge:          true,
		AllowDirect:        true,
		AllowAtomicPublish: true,
	}
	stream, err := createStream(ctx, js, sc, cfg.Log)
	if err != nil {
		return nil, err
	}
	info := stream.CachedInfo()
	s := &Store{
		writing: semaphore.NewWeighted(holdWeight),
		cfg:     cfg, sub: sub, nc: nc, js: js, stream: stream, log: cfg.Log,
		cache:    newEmployerCache(cfg.EmployerCache),
		heads:    map[string]head{},
		ahead:    map[string][]localEvent{},
		breaks:   map[string]ChainBreak{},
		years:    map[int]YearRecord{},
		notices:  map[string]int{},
		recoded:  map[string]bool{},
		notify:   make(chan struct{}),
		done:     make(chan struct{}),
		pending:  map[string]chan struct{}{},
		tailKick: make(chan struct{}, 1),
		created:  info.Created.UnixNano(),
		firstSeq: max(info.State.FirstSeq, 1), // 0 while the stream is empty
		snapReq:  make(chan *snapshot, 1),
	}
	start := time.Now()
	if err := s.openState(ctx); err != nil {
		s.closeFiles()
		return nil, err
	}
	from := s.applied.Load()
	s.snapSeq.Store(from)
	s.snapSaved.Store(from)
	s.com = newCommitter(nc, cfg.MaxBatch, cfg.BatchesInFlight, cfg.Timeout)
	s.com.fold = s.foldUnits
	s.com.fenceSubject, s.com.yearsSubject = sub.Fence(), yearsSubject(sub)
	if cfg.Metrics != nil {
		s.com.observe = cfg.Metrics.Batch
	}
	if cfg.DiskDir != "" || cfg.WriteFault != nil {
		s.com.disk = &diskGuard{dir: cfg.DiskDir, reserve: cfg.DiskReserve, fault: cfg.WriteFault}
	}
	if cfg.Replicas > 1 {
		// A sending no leader answers is sent again (commit.go), as soon as the advisory says
		// a new one is elected, or after ClusterAttempt.
		s.com.attempt = min(ClusterAttempt, cfg.Timeout)
		s.com.resolve = s.leaderGet
		s.elected, err = nc.Subscribe("$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED."+cfg.Stream, func(*nats.Msg) { s.com.leaderElected() })
		if err != nil {
			s.closeFiles()
			return nil, fmt.Errorf("leader elections of stream %s: %w", cfg.Stream, err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.com.start(runCtx)
	s.bg.Go(func() { s.keep(runCtx) })
	s.bg.Go(func() { s.seal(runCtx) })
	if cfg.Dir != "" {
		idle := snapshotIdle
		s.bg.Go(func() { s.snapshotWhenIdle(runCtx, idle) })
	}
	// The replay's end is learnt before the follower starts, so that a reader sharing the
	// replay knows where its share ends.
	err = untilAvailable(ctx, StartTimeout, availableAttempt, s.log, "stream info", func(ctx context.Context) error {
		var err error
		s.replayTo, err = s.LastSeq(ctx)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			// Just created: a server that has not applied the stream's creation yet answered.
			return fmt.Errorf("%w: %w", errNotYet, err)
		}
		return err
	})
	if err == nil && !s.lost.gone {
		s.replayTo, s.lost, err = s.readableEnd(ctx, s.replayTo)
	}
	if s.lost.count() > 0 {
		s.log.Error("event store: "+s.lost.String()+"; no snapshot is written until the loss is accepted", "replay_to", s.replayTo)
		s.snapHeld.Store(true)
	}
	if err != nil {
		cancel()
		s.com.wait()
		s.bg.Wait()
		s.closeFiles()
		return nil, err
	}
	s.started, s.startSeq, s.runCtx = start, from, runCtx
	return s, nil
}

// CaughtUp replays the stream, as it stood when Start was called, from where the store's
// snapshot left it, and makes the store ready for appends; on an error it closes the store.
func (s *Store) CaughtUp(ctx context.Context) error {
	if err := s.startTail(ctx, s.runCtx, s.startSeq+1); err != nil {
		s.Close()
		return err
	}
	stop := ReportProgress(s.log, "event store replaying the stream", s.startSeq, s.replayTo, s.applied.Load, ProgressEvery)
	err := s.WaitApplied(ctx, s.replayTo)
	stop()
	if err == nil {
		err = s.ensureReference(ctx)
	}
	if err != nil {
		s.Close()
		return err
	}
	if s.cfg.PreferLeader != "" {
		if err := s.leadFrom(ctx, s.cfg.PreferLeader); err != nil {
			s.log.Warn("the stream stays led from where it is", "err", err)
		}
	}
	s.log.Info("event store ready", "snapshot_seq", s.startSeq, "replayed", s.folded.Load(), "applied", s.applied.Load(),
		"took", time.Since(s.started).Round(time.Millisecond))
	return nil
}

// Close stops following the stream and appending, and with a Dir writes a last snapshot.
// Appends not yet sent fail with ErrClosed (wrapped in ErrNotRecorded); Close returns once those
// in flight have their outcome, which takes at most Config.Timeout. Closing again does nothing.
func (s *Store) Close() {
	s.closeOnce.Do(s.close)
}

func (s *Store) close() {
	if s.elected != nil {
		_ = s.elected.Unsubscribe()
	}
	s.cancel()
	s.settling.Wait()
	s.com.wait()
	if s.tailing.Load() {
		<-s.done
	}
	s.endShare() // closed before it replayed
	s.bg.Wait()
	if s.cfg.Dir != "" && !s.crashed {
		s.applyMu.Lock()
		snap := s.capture()
		s.applyMu.Unlock()
		if err := s.writeSnapshot(snap); err != nil {
			s.log.Error("event store: snapshot at close", "err", err)
		}
	}
	s.closeFiles()
}

// closeFiles closes the archive's file, the key runs and the folder's lock.
func (s *Store) closeFiles() {
	s.archive.close()
	if s.keys != nil {
		s.keys.close()
	}
	s.dirLock.Unlock()
}

// Stream is the name of the stream.
func (s *Store) Stream() string { return s.cfg.Stream }

// Ledger is the city whose ledger the store keeps, by its administrative code.
func (s *Store) Ledger() string { return s.cfg.Ledger }

// Subjects are the names of the store's stream and subjects.
func (s *Store) Subjects() Subjects { return s.sub }

// Replicas is how many replicas the stream has on the cluster (1 on a single server): what the
// store's companions in JetStream (the views' snapshot bucket) should have too, so that they
// survive what the stream survives.
func (s *Store) Replicas() int { return s.cfg.Replicas }

// JetStream returns the JetStream context, for readers that follow the stream themselves.
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// Applied is the last stream sequence folded into the store's indexes.
func (s *Store) Applied() uint64 { return s.applied.Load() }

// ResumedAt is the sequence the store's start resumed after, from its snapshot: 0 when it folded
// the stream from its first event, checking every chain as it went.
func (s *Store) ResumedAt() uint64 { return s.startSeq }

// LastSeq asks the stream for its last sequence. On a cluster only the stream's leader knows it
// for sure, but a replica answers with what it has applied while the stream has no leader
// (LastSeq then answers ErrNoLeader), and so does a new stream's preferred replica before it
// leads (errNotFromLeader: the leader is among the replicas its answer lists). The stream's last
// messages that Start found lost are not counted while no message follows them: no
// reader can reach them.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream info: %w", err)
	}
	if c := info.Cluster; c != nil {
		if c.Leader == "" {
			return 0, fmt.Errorf("stream info: %w", ErrNoLeader)
		}
		for _, p := range c.Replicas {
			if p.Name == c.Leader {
				return 0, fmt.Errorf("stream info: %w (%s leads it)", errNotFromLeader, c.Leader)
			}
		}
	}
	return s.lost.readable(info.State.LastSeq), nil
}

// catchUpTimeout bounds CatchUp's wait for a stream leader when its context has no deadline.
const catchUpTimeout = 30 * time.Second

// infoAttempt bounds one stream info request of CatchUp: while a leader is elected after its
// node died the request may go unanswered, and the next one should go soon after the election.
const infoAttempt = time.Second

// leaderLastSeq is LastSeq asked again while the stream cannot answer it (a leader being elected),
// for at most budget or until ctx's deadline.
func (s *Store) leaderLastSeq(ctx context.Context, budget time.Duration, log *slog.Logger) (uint64, error) {
	var last uint64
	err := untilAvailable(ctx, budget, infoAttempt, log, "stream info", func(ctx context.Context) error {
		var err error
		last, err = s.LastSeq(ctx)
		return err
	})
	return last, err
}

// CatchUp waits until the indexes reflect everything the stream holds now. While the stream has
// no leader (on a cluster, an election after its leader's node died) it waits for one, until
// ctx's deadline or, without one, catchUpTimeout.
func (s *Store) CatchUp(ctx context.Context) error {
	last, err := s.leaderLastSeq(ctx, catchUpTimeout, nil)
	if err != nil {
		return err
	}
	return s.WaitApplied(ctx, last)
}

// WaitApplied waits until the indexes have folded sequence seq. A follower that folds nothing
// for followStall meanwhile is given a new consumer (kickFollower).
func (s *Store) WaitApplied(ctx context.Context, seq uint64) error {
	var stall *time.Timer
	defer func() {
		if stall != nil {
			stall.Stop()
		}
	}()
	for {
		s.mu.RLock()
		ch, terr := s.notify, s.tailErr
		s.mu.RUnlock()
		if s.Reached(seq) {
			return nil
		}
		if terr != nil {
			return terr
		}
		if stall == nil {
			stall = time.NewTimer(followStall)
		} else {
			stall.Reset(followStall)
		}
		select {
		case <-ch:
		case <-stall.C:
			s.kickFollower()
		case <-ctx.Done():
			return fmt.Errorf("waiting for sequence %d (at %d): %w", seq, s.applied.Load(), ctx.Err())
		}
	}
}

// Reference returns the reference data as the store knows it now. It takes no lock, so it may
// be called from anywhere, callbacks under the store's lock included.
func (s *Store) Reference() *domain.Reference {
	if p := s.refNow.Load(); p != nil {
		r := *p
		return &r
	}
	return &domain.Reference{}
}

// publishRef makes ref, changed under the store's lock, what Reference answers.
func (s *Store) publishRef() {
	r := s.ref.Clone() // lists of its own: the next Apply changes s.ref's in place
	s.refNow.Store(&r)
}
