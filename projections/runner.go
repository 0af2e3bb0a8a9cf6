// Over 500 lines for a reason: the runner's following, catching up and reads of the views are one
// life cycle.

package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go/jetstream"
)

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// SnapshotEvery is how many applied events trigger a snapshot (default 100,000, or
	// snapshotPerEmployer events an employer when that is more); a snapshot is also taken when
	// the runner has caught up and events arrived in the last SnapshotIdle.
	SnapshotEvery uint64
	SnapshotIdle  time.Duration
	// NoSnapshots disables reading and writing snapshots.
	NoSnapshots bool
	// SeriesIdle is how long the sums of a series asked for are kept for the next of the same
	// months (default 2 minutes): they hold the former state of every employer changed since.
	SeriesIdle time.Duration
	Log        *slog.Logger
	// Observe, if set, is told of applied events, snapshots and replays of closed books, for
	// metrics.
	Observe Observer
	// Events, if set, is where the views read an employer's events to fold it again (default:
	// the store's, StoreSource).
	Events EventSource
}

// Observer is told what the runner does.
type Observer interface {
	Applied(n int, seq uint64)
	Snapshot(seq uint64, size int, d time.Duration)
	// PastReplay is told of a replay of closed books (At, or the views a reopening folds from a
	// closing): the events it folded and its time.
	PastReplay(events uint64, d time.Duration)
}

// Runner feeds the views from the stream with an ordered consumer, keeps the live report up to
// date incrementally, and persists snapshots so that a restart resumes instead of replaying.
type Runner struct {
	store *eventstore.Store
	cfg   RunnerConfig
	log   *slog.Logger

	// mu guards the live ledger, which only the follower changes, and what says which of its
	// parts it shares with the read-only copy readers work on (copy on write).
	mu       sync.RWMutex
	ledger   *Ledger
	current  *Ledger             // a read-only copy of ledger as it is now; nil once it changed
	shared   bool                // ledger shares employers and reference data with a copy
	owned    map[string]struct{} // employers copied since the last copy was made: not shared
	refOwned bool                // reference data copied since the last copy was made
	dirty    map[string]bool
	allDirty bool

	liveMu    sync.Mutex
	liveQuery Query
	parts     map[string]contribution
	chunks    *liveChunks // parts summed by ranges of ids
	cached    *Report
	segments  map[domain.Segment]*Report // the segments' reports summed since cached

	seq      atomic.Uint64
	notifyMu sync.Mutex
	notify   chan struct{}
	ready    atomic.Bool   // caught up with the stream as it was at start
	through  atomic.Uint64 // and Ready only once folded through this (CatchUp)

	reportsMu sync.Mutex
	reports   map[reportKey]*reportRun // reports of queries other than the live one (keptReport)

	seriesMu     sync.Mutex
	kept         []*keptSeries // the series last asked for, the latest first (sumSeries)
	seriesFolded atomic.Uint64 // employers summed into kept series, for tests

	objects  jetstream.ObjectStore
	snapSeq  atomic.Uint64
	snapHeld atomic.Bool    // HoldSnapshots
	snapMu   sync.Mutex     // one snapshot at a time
	lastSnap atomic.Int64   // when the last snapshot was stored, in Unix nanoseconds (0: none)
	bg       sync.WaitGroup // the follower, the idle-snapshot loop and the snapshots they start
	damage   atomic.Value   // string: why the stream looks damaged, found at start

	closings chan *Ledger       // views at years' closings the follower folded, to be kept (keepClosings)
	stop     <-chan struct{}    // closed when the runner stops
	runCtx   context.Context    // Start's, for the follower's own reads (reopenedFrom)
	keepMu   sync.Mutex         // guards claims
	claims   jetstream.KeyValue // who keeps the views at a closing (keepBucket)
	pastMu   sync.Mutex         // one replay of closed books at a time
	past     *Ledger            // the last one (see At)
	pastUsed time.Time          // when it last answered
}

// Damage says why the stream looks damaged (a snapshot ahead of it), or "".
func (r *Runner) Damage() string {
	s, _ := r.damage.Load().(string)
	return s
}

// NewRunner makes a runner over store.
func NewRunner(store *eventstore.Store, cfg RunnerConfig) *Runner {
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 100_000
	}
	if cfg.SnapshotIdle == 0 {
		cfg.SnapshotIdle = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SeriesIdle == 0 {
		cfg.SeriesIdle = 2 * time.Minute
	}
	if cfg.Events == nil {
		cfg.Events = StoreSource{Store: store}
	}
	l := NewLedger()
	l.Source = cfg.Events
	return &Runner{store: store, cfg: cfg, log: cfg.Log, ledger: l, owned: map[string]struct{}{}, dirty: map[string]bool{},
		notify: make(chan struct{}), closings: make(chan *Ledger, 1)}
}

// bucketTimeout bounds the wait for the snapshot bucket when the views start.
const bucketTimeout = time.Minute

// Start restores the latest snapshot, if any, and follows the stream from there until ctx ends.
// It returns once following has started; Ready reports when the views have caught up.
func (r *Runner) Start(ctx context.Context) error {
	if !r.cfg.NoSnapshots {
		// A deadline of our own: without one the client gives up after its default of a few
		// seconds, which a server just restarted on a busy machine can take to answer.
		bctx, cancel := context.WithTimeout(ctx, bucketTimeout)
		obs, err := r.snapshotBucket(bctx)
		cancel()
		if err != nil {
			return fmt.Errorf("snapshot bucket: %w", err)
		}
		r.objects = obs
		r.stop, r.runCtx = ctx.Done(), ctx
		r.bg.Go(func() { r.keepClosings(ctx) })
		switch err := r.restore(ctx); {
		case errors.Is(err, jetstream.ErrObjectNotFound):
			// A first start, or a ledger whose views never saved one: nothing is wrong.
			r.log.Info("no snapshot of the views yet; folding the stream from the start")
		case err != nil:
			r.log.Warn("no usable snapshot; replaying the stream from the start", "err", err)
		}
	}
	// The sums a series keeps hold views: let them go with the runner, not SeriesIdle later.
	context.AfterFunc(ctx, func() {
		r.seriesMu.Lock()
		defer r.seriesMu.Unlock()
		r.forgetSeries()
	})
	head, err := r.store.LastSeq(ctx)
	if err != nil {
		return err
	}
	if r.seq.Load() >= head {
		r.ready.Store(true)
	}
	from := r.seq.Load() + 1
	start := time.Now()
	// On a store still replaying the stream (eventstore.Start) the views fold its replay beside
	// it, each event decoded once for both, and subscribe from where its replay ends.
	shared, sharing := r.store.ShareReplay(from)
	r.bg.Go(func() {
		stop := eventstore.ReportProgress(r.log, "views replaying the stream", from-1, head, r.seq.Load, eventstore.ProgressEvery)
		defer stop()
		folded := func(seq uint64) {
			if !r.ready.Load() && seq >= head {
				stop()
				r.ready.Store(true)
				r.log.Info("views caught up", "seq", seq, "replayed", seq-from+1, "took", time.Since(start).Round(time.Millisecond))
			}
			r.maybeSnapshot(ctx, false)
		}
		handle := func(ev domain.Event) error {
			r.apply(ev)
			folded(ev.Seq)
			return nil
		}
		if sharing {
			for batch := range shared {
				if ctx.Err() != nil {
					go func() {
						for range shared { // the store's follower waits for every event
						}
					}()
					return
				}
				evs := batch.Events()
				r.applyAll(evs)
				folded(evs[len(evs)-1].Seq)
			}
		}
		err := r.store.Subscribe(ctx, r.seq.Load()+1, handle)
		if err != nil && !errors.Is(err, context.Canceled) {
			r.log.Error("following the stream stopped", "err", err)
		}
	})
	r.bg.Go(func() { r.idleSnapshots(ctx) })
	return nil
}

// snapshotBucket creates the snapshot bucket, or updates it, with as many replicas as the
// stream: an R1 bucket on a cluster sits on one node, and while that node is down no replica
// of the API could start. Replicas starting at once on a new cluster can see the create go
// unanswered though the bucket was made (nats-server#3677): after a failed attempt the bucket
// is looked up and used if it has the replicas, else created again, until ctx ends.
func (r *Runner) snapshotBucket(ctx context.Context) (jetstream.ObjectStore, error) {
	js := r.store.JetStream()
	cfg := jetstream.ObjectStoreConfig{Bucket: SnapshotBucketOf(r.store.Ledger()), Description: "snapshots of kuozheng's views",
		Storage: jetstream.FileStorage, Replicas: r.store.Replicas()}
	wait := 50 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, bucketAttempt)
		obs, err := js.CreateOrUpdateObjectStore(actx, cfg)
		if err != nil {
			if found, ferr := js.ObjectStore(actx, cfg.Bucket); ferr == nil {
				if st, serr := found.Status(actx); serr == nil && st.Replicas() == cfg.Replicas {
					obs, err = found, nil
				}
			}
		}
		cancel()
		if err == nil {
			return obs, nil
		}
		var ae *jetstream.APIError
		if errors.As(err, &ae) && ae.Code == 400 && ae.ErrorCode != noSuitablePeers {
			return nil, err // a configuration JetStream refuses: asking again changes nothing
		}
		r.log.Warn("snapshot bucket: trying again", "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		}
		wait = min(2*wait, time.Second)
	}
}

// bucketAttempt bounds one attempt to create the snapshot bucket.
const bucketAttempt = 10 * time.Second

// noSuitablePeers is JetStream's "no suitable peers for placement", which a cluster whose nodes
// are still joining answers.
const noSuitablePeers = 10005

// Wait waits for the follower, and the snapshots it started, to stop after its context ended.
func (r *Runner) Wait() { r.bg.Wait() }

// Ready reports whether the views have caught up with the stream as it was at start, and
// with every sequence given to CatchUp.
func (r *Runner) Ready() bool { return r.ready.Load() && r.seq.Load() >= r.through.Load() }

// CatchUp makes Ready false until the views have folded through seq: a bulk load appended
// after the views started (serve --demo's) is part of what they must reflect to be ready.
func (r *Runner) CatchUp(seq uint64) {
	for {
		old := r.through.Load()
		if seq <= old || r.through.CompareAndSwap(old, seq) {
			return
		}
	}
}

// Seq is the last sequence the views reflect.
func (r *Runner) Seq() uint64 { return r.seq.Load() }

// apply folds one event into the live ledger, and then tells those waiting.
func (r *Runner) apply(ev domain.Event) {
	r.applyAll([]domain.Event{ev})
}

// applyAll folds events in stream order into the live ledger, and then tells those waiting.
func (r *Runner) applyAll(evs []domain.Event) {
	// A year's closing ends a run of its own, so that the views are kept as they stand at it.
	if i := slices.IndexFunc(evs[:len(evs)-1], closesYear); i >= 0 {
		r.applyAll(evs[:i+1])
		r.applyAll(evs[i+1:])
		return
	}
	// A reopening begins a run of its own, so that the views it folds into may be replaced first.
	if i := slices.IndexFunc(evs[1:], reopens); i >= 0 {
		r.applyAll(evs[:i+1])
		r.applyAll(evs[i+1:])
		return
	}
	var reopened *Ledger
	var from uint64
	var began time.Time
	if r.objects != nil && r.ready.Load() && reopens(evs[0]) && evs[0].Seq > r.ledger.Seq {
		// Read without the lock: only this goroutine changes the live ledger.
		began = time.Now()
		reopened, from = r.reopenedFrom(r.runCtx, r.ledger.Ref, evs[0])
	}
	r.mu.Lock()
	swapped := reopened != nil && reopened.Seq == r.ledger.Seq
	var replayed uint64 // the events the views swapped in folded since the closing
	if swapped {
		replayed = reopened.Seq - from
		// Views equal to the live ones but compacted only where the reopening leaves the
		// books closed: they share nothing with a copy readers hold.
		r.ledger, r.current, r.shared = reopened, nil, false
		clear(r.owned)
	} else if reopened != nil {
		r.log.Warn("the views a reopening folded from a year's closing end elsewhere than the live views; it folds the payers again", "seq", evs[0].Seq, "at", reopened.Seq, "live", r.ledger.Seq)
	}
	for _, ev := range evs {
		r.unshare(ev)
		failed := r.ledger.Err() != nil
		r.ledger.Apply(ev)
		if err := r.ledger.Err(); err != nil && !failed {
			r.log.Error("the views cannot follow the stream: restart to rebuild them", "seq", ev.Seq, "err", err)
			r.damage.Store("the views could not fold an event: " + err.Error())
		}
		if ev.EmployerID == "" {
			r.allDirty = true
		} else {
			r.dirty[ev.EmployerID] = true
		}
	}
	r.current = nil
	if swapped {
		took := time.Since(began)
		r.log.Info("views for a reopening folded from a year's closing", "seq", evs[0].Seq, "from", from, "took", took.Round(time.Millisecond))
		if r.cfg.Observe != nil {
			defer r.cfg.Observe.PastReplay(replayed, took) // once the lock is let go
		}
	}
	var closed *Ledger
	if r.objects != nil && r.ready.Load() && closesYear(evs[len(evs)-1]) {
		// Not while catching up at start: each copy and its encoding slowed a first start
		// (which passes every closing) by an eighth; replays keep those closings later.
		closed = r.currentLocked()
	}
	r.mu.Unlock()
	last := evs[len(evs)-1].Seq
	r.seq.Store(last)
	if r.cfg.Observe != nil {
		r.cfg.Observe.Applied(len(evs), last)
	}
	r.notifyMu.Lock()
	close(r.notify)
	r.notify = make(chan struct{})
	r.notifyMu.Unlock()
	if closed != nil {
		// One copy waits while another is kept: the follower, the closing told, waits for the
		// keeping rather than hold more copies, each of which keeps what it changes after it.
		select {
		case r.closings <- closed:
		case <-r.stop:
		}
	}
}

// Changed returns a channel closed at the next applied event.
func (r *Runner) Changed() <-chan struct{} {
	r.notifyMu.Lock()
	defer r.notifyMu.Unlock()
	return r.notify
}

// WaitSeq waits until the views reflect seq (read-your-writes).
func (r *Runner) WaitSeq(ctx context.Context, seq uint64) error {
	for r.seq.Load() < seq {
		ch := r.Changed()
		if r.seq.Load() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// unshare copies what ev is about to change in the live ledger when a read-only copy shares
// it: the employer's state, or the reference data (whose lists Reference.Apply changes in
// place). The caller holds r.mu.
func (r *Runner) unshare(ev domain.Event) {
	if !r.shared || ev.Body == nil || (ev.Seq != 0 && ev.Seq <= r.ledger.Seq) {
		return // Ledger.Apply changes nothing a copy shares
	}
	if ev.EmployerID == "" {
		if !r.refOwned {
			r.ledger.Ref = r.ledger.Ref.Clone()
			r.refOwned = true
		}
		return
	}
	if _, ok := r.owned[ev.EmployerID]; ok {
		return
	}
	if e := r.ledger.Employers.Get(ev.EmployerID); e != nil {
		r.ledger.Employers.Set(ev.EmployerID, e.Clone())
	}
	r.owned[ev.EmployerID] = struct{}{}
}

// Current returns the views as they are now, read-only. The follower never changes what it
// returns: it copies an employer, or the reference data, before changing what such a copy
// shares. So whole-ledger work on it (reports, series, snapshots) holds up neither the follower
// nor other readers, and it may be kept. Callers must not change it.
func (r *Runner) Current() *Ledger {
	r.mu.RLock()
	v := r.current
	r.mu.RUnlock()
	if v != nil {
		return v
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.currentLocked()
}

// currentLocked is Current for a caller holding r.mu for writing. Making a copy costs the same at
// any size (EmployerMap.Share); the follower then copies each employer, and each part of the
// map, before it first changes it.
func (r *Runner) currentLocked() *Ledger {
	if r.current == nil {
		c := *r.ledger
		c.Employers = r.ledger.Employers.Share()
		c.Order = slices.Clip(r.ledger.Order) // the live ledger only appends past it
		r.current = &c
		r.shared, r.refOwned = true, false
		clear(r.owned)
	}
	return r.current
}

// View runs fn on the views as they are now (Current), without holding up the follower; fn
// must not change the ledger.
func (r *Runner) View(fn func(l *Ledger)) {
	fn(r.Current())
}

// SetLive names the query kept up to date incrementally (the dashboard's default: today and the
// period last due).
func (r *Runner) SetLive(q Query) {
	r.liveMu.Lock()
	defer r.liveMu.Unlock()
	if q != r.liveQuery {
		r.liveQuery, r.cached, r.parts, r.chunks, r.segments = q, nil, nil, nil, nil
	}
}

// Report returns the figures for q. The live query costs only the employers changed since it
// was last asked; any other query is computed from scratch, from the views At gives. All work
// on read-only views, holding up neither the follower nor other readers.
func (r *Runner) Report(ctx context.Context, q Query) (*Report, error) {
	return r.SegmentReport(ctx, q, "")
}

// SegmentReport returns the figures for q of the payers in segment seg ("": every payer, as
// Report; else one of domain.Segments). For the live query they are summed from the
// contributions the live report keeps (each knows the segments of its employer), once for
// each sequence; other queries are computed from scratch.
func (r *Runner) SegmentReport(ctx context.Context, q Query, seg domain.Segment) (*Report, error) {
	r.liveMu.Lock()
	if q != r.liveQuery || !r.Current().Covers(q) {
		r.liveMu.Unlock()
		return r.keptReport(ctx, q, seg)
	}
	defer r.liveMu.Unlock()
	all := r.liveReport(q)
	if seg == "" {
		return all, nil
	}
	if rep := r.segments[seg]; rep != nil {
		return rep, nil
	}
	rep := aggregateShares(all.Ref, q, all.Seq, seg, r.chunks.shares(segmentSetOf(seg), r.parts))
	if r.segments == nil {
		r.segments = map[domain.Segment]*Report{}
	}
	r.segments[seg] = rep
	return rep, nil
}

// liveReport is the report of the live query q as the views are now, summed again from the
// contributions of the employers changed since it was last asked: their ranges of ids are
// summed again (liveChunks), and the report adds up the ranges. The caller holds liveMu.
func (r *Runner) liveReport(q Query) *Report {
	r.mu.RLock()
	seq := r.ledger.Seq
	r.mu.RUnlock()
	if r.cached != nil && r.cached.Seq == seq {
		return r.cached
	}
	// The copy and the employers changed up to it, taken together: later changes stay dirty.
	r.mu.Lock()
	v := r.currentLocked()
	dirty, all := r.dirty, r.allDirty
	r.dirty, r.allDirty = map[string]bool{}, false
	r.mu.Unlock()
	if r.chunks == nil || all {
		r.parts = make(map[string]contribution, v.Employers.Len())
		for id, e := range v.Employers.All() {
			r.parts[id] = employerFigures(id, e, &v.Ref, q)
		}
		r.chunks = newLiveChunks(v.Employers.IDs())
	} else {
		for id := range dirty {
			if e := v.Employers.Get(id); e != nil {
				_, had := r.parts[id]
				r.parts[id] = employerFigures(id, e, &v.Ref, q)
				r.chunks.changed(id, !had)
			}
		}
	}
	r.chunks.sum(r.parts)
	r.cached, r.segments = aggregateShares(&v.Ref, q, v.Seq, "", r.chunks.shares(0, r.parts)), nil
	return r.cached
}
