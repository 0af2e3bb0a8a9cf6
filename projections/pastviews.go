package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go/jetstream"
)

// Views of closed books. A query as of a date within the closed books is answered from views
// replayed from the stream through the closing of that date's year (At). So that the replay
// costs the years the query needs, not every year before them, the views as they stood at a
// year's closing, compacted through the books closed there as the live views were, are kept in
// the snapshot bucket under closedPrefix and the closing's sequence: a replay starts from the
// latest one that keeps what its query asks, and keeps the views at the last closing it passes
// for the replays after it.

// closedPrefix begins the names of the views kept at a year's closing.
const closedPrefix = "closed-"

// closedName is the name of the views kept at the closing at sequence seq.
func closedName(seq uint64) string { return fmt.Sprintf("%s%020d", closedPrefix, seq) }

// At returns views that can answer keep, a query as of asOf (or, for a series, its first month
// as keep.Period and keep.AsOf its first day): the live views (Current) when they cover it;
// else, when asOf is within the closed books, views replayed from the stream through the close
// of asOf's year (which holds everything dated up to its end), compacted no further than keep
// allows. The replay starts from the views kept at an earlier closing when one keeps what keep
// asks (see closedPrefix), else from the start; the last one is kept for the next query it
// covers. A query as of a date after the closed books for a period within them is refused
// (field names the period): the live views no longer hold it, and replaying every year since
// to answer it would hold them all.
func (r *Runner) At(ctx context.Context, keep Query, asOf domain.Date, field string) (*Ledger, error) {
	cur := r.Current()
	if cur.Covers(keep) && (keep.AsOf == asOf || cur.Covers(Query{AsOf: asOf, Period: keep.Period})) {
		return cur, nil
	}
	if asOf > cur.Boundary {
		return nil, domain.Invalid(field, "%s is in the books closed through %s: figures as of a later date cover periods from %s; ask as of a date on or before %s",
			keep.Period, cur.Boundary, cur.KeepFrom, cur.Boundary)
	}
	years := r.store.Years(asOf)
	through := cur.Seq
	for _, y := range years {
		if y.Year >= asOf.Year() && y.Closed && y.ClosedSeq < through {
			through = y.ClosedSeq
			break
		}
	}
	var closings []uint64 // the years' standing closings through it, in stream order
	for _, y := range years {
		if y.Closed && y.ClosedSeq != 0 && y.ClosedSeq <= through {
			closings = append(closings, y.ClosedSeq)
		}
	}
	slices.Sort(closings)
	r.pastMu.Lock()
	defer r.pastMu.Unlock()
	if p := r.past; p != nil && p.Seq == through && p.Covers(keep) {
		r.pastUsed = time.Now()
		return p, nil
	}
	r.past = nil // let the collector have it before the next replay grows
	replaying(ctx)
	start := time.Now()
	kept := r.closedViews(ctx)
	l := r.pastStart(ctx, keep, closings, kept)
	from := l.Seq
	if err := r.replayPast(ctx, l, through, closings, kept); err != nil {
		return nil, err
	}
	took := time.Since(start)
	r.log.Info("views of closed books replayed", "as_of", asOf, "period", keep.Period, "from", from, "through", through, "took", took.Round(time.Millisecond))
	if r.cfg.Observe != nil {
		r.cfg.Observe.PastReplay(l.Seq-from, took)
	}
	r.past, r.pastUsed = l, time.Now()
	return l, nil
}

type replayingKey struct{}

// WhenReplaying returns ctx, telling the runner to call f before a read made with it replays
// closed books or waits for such a replay: a caller with a deadline of its own (an HTTP
// answer's) can make room for it, which a first read of a long ledger's old years needs.
func WhenReplaying(ctx context.Context, f func()) context.Context {
	return context.WithValue(ctx, replayingKey{}, f)
}

// replaying calls the function WhenReplaying gave ctx, if any.
func replaying(ctx context.Context) {
	if f, ok := ctx.Value(replayingKey{}).(func()); ok {
		f()
	}
}

// closedViews lists the views kept at years' closings that this build can use, by name.
func (r *Runner) closedViews(ctx context.Context) map[string]*jetstream.ObjectInfo {
	if r.objects == nil {
		return nil
	}
	infos, err := r.objects.List(ctx)
	if err != nil {
		if !errors.Is(err, jetstream.ErrNoObjectsFound) {
			r.log.Warn("listing the views kept at years' closings; replaying from the start", "err", err)
		}
		return nil
	}
	kept := map[string]*jetstream.ObjectInfo{}
	for _, info := range infos {
		if info.Metadata["code_version"] == CodeVersion && strings.HasPrefix(info.Name, closedPrefix) {
			kept[info.Name] = info
		}
	}
	return kept
}

// pastStart returns the views a replay for keep starts from: those kept at the latest of the
// closings whose compaction keeps what keep asks, else new views.
func (r *Runner) pastStart(ctx context.Context, keep Query, closings []uint64, kept map[string]*jetstream.ObjectInfo) *Ledger {
	l := NewLedger()
	l.Source, l.Keep = StoreSource{Store: r.store}, &keep
	for i := len(closings) - 1; i >= 0; i-- {
		info := kept[closedName(closings[i])]
		if info == nil {
			continue
		}
		b, err1 := strconv.ParseInt(info.Metadata["boundary"], 10, 32)
		k, err2 := strconv.ParseInt(info.Metadata["keep_from"], 10, 32)
		if err1 != nil || err2 != nil || !(&Ledger{Boundary: domain.Date(b), KeepFrom: domain.Period(k)}).Covers(keep) {
			continue
		}
		saved, _, err := readSnapshot(ctx, r.objects, info.Name)
		if err != nil || saved.Seq != closings[i] {
			r.log.Warn("the views kept at a year's closing are unusable; replaying from before them", "object", info.Name, "err", err)
			continue
		}
		saved.Source, saved.Keep = l.Source, l.Keep
		return saved
	}
	return l
}

// replayPast folds l on through `through`. At the last closing it passes, where it is
// compacted through the books closed there as the live views were, it keeps l for the replays
// after it, unless views are kept there already.
func (r *Runner) replayPast(ctx context.Context, l *Ledger, through uint64, closings []uint64, kept map[string]*jetstream.ObjectInfo) error {
	var last uint64
	for _, c := range closings {
		if c > l.Seq && c < through {
			last = c
		}
	}
	if r.objects != nil && last != 0 && kept[closedName(last)] == nil {
		if err := ReplayOnto(ctx, r.store, l, last, nil); err != nil {
			return err
		}
		if l.Seq == last && l.Boundary == l.Ref.LockedThrough() {
			r.keepClosed(ctx, l)
		}
	}
	return ReplayOnto(ctx, r.store, l, through, nil)
}

// keepClosed stores l, folded through a year's closing, for later replays; a failure costs
// them time only, and is logged.
func (r *Runner) keepClosed(ctx context.Context, l *Ledger) {
	start := time.Now()
	data, err := l.SnapshotBytes()
	if err == nil {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, snapshotUpload)
			defer cancel()
		}
		_, err = r.objects.Put(ctx, jetstream.ObjectMeta{Name: closedName(l.Seq), Metadata: map[string]string{
			"seq": strconv.FormatUint(l.Seq, 10), "code_version": CodeVersion,
			"boundary": strconv.FormatInt(int64(l.Boundary), 10), "keep_from": strconv.FormatInt(int64(l.KeepFrom), 10)}}, bytes.NewReader(data))
	}
	if err != nil {
		r.log.Warn("keeping the views at a year's closing", "seq", l.Seq, "err", err)
		return
	}
	r.log.Info("views kept at a year's closing", "seq", l.Seq, "boundary", l.Boundary, "bytes", len(data), "took", time.Since(start).Round(time.Millisecond))
}

// closesYear reports whether ev closes a year.
func closesYear(ev domain.Event) bool {
	_, ok := ev.Body.(domain.YearClosed)
	return ok
}

// keepClosings keeps, in the background and one at a time, the live views the follower left
// at years' closings (read-only copies), unless views are kept there already: the replays of
// the years after them start there.
func (r *Runner) keepClosings(ctx context.Context) {
	r.mu.Lock()
	vs := r.closings
	r.closings = nil
	r.mu.Unlock()
	for _, v := range vs {
		r.bg.Go(func() {
			r.closedMu.Lock()
			defer r.closedMu.Unlock()
			if v.Err() != nil || v.Boundary != v.Ref.LockedThrough() {
				return
			}
			if info, err := r.objects.GetInfo(ctx, closedName(v.Seq)); err == nil && info.Metadata["code_version"] == CodeVersion {
				return
			}
			r.keepClosed(ctx, v)
		})
	}
}

// pastIdle is how long the views of closed books replayed last are kept unused.
const pastIdle = 10 * time.Minute

// dropIdlePast lets the collector have the views of closed books replayed last once unused for
// pastIdle, so a look at an old year does not hold its memory for ever.
func (r *Runner) dropIdlePast() {
	if !r.pastMu.TryLock() {
		return // a replay is under way
	}
	defer r.pastMu.Unlock()
	if r.past != nil && time.Since(r.pastUsed) > pastIdle {
		r.past = nil
	}
}
