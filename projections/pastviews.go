package projections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
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
	defer replaying(ctx)() // a replay, or a wait for another one
	// The store's record of the closings must know every one the views folded.
	if err := r.store.WaitApplied(ctx, cur.Seq); err != nil {
		return nil, err
	}
	years := r.store.Years(asOf)
	through := cur.Seq
	for _, y := range years {
		if y.Year >= asOf.Year() && y.Closed && y.ClosedSeq < through {
			through = y.ClosedSeq
			break
		}
	}
	var closings []eventstore.YearRecord // the standing closings through it, in stream order
	for _, y := range years {
		if y.Closed && y.ClosedSeq != 0 && y.ClosedSeq <= through {
			closings = append(closings, y)
		}
	}
	slices.SortFunc(closings, func(a, b eventstore.YearRecord) int { return cmp.Compare(a.ClosedSeq, b.ClosedSeq) })
	r.pastMu.Lock()
	defer r.pastMu.Unlock()
	if p := r.past; p != nil && p.Seq == through && p.Covers(keep) {
		r.pastUsed = time.Now()
		return p, nil
	}
	r.past = nil // let the collector have it before the next replay grows
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

// WhenReplaying returns ctx, telling the runner to call begin before a read made with it
// replays closed books or waits for such a replay, and the function begin returns when that
// is over: a caller with a deadline of its own (an HTTP answer's) can make room for the
// replay, which a first read of a long ledger's old years needs, and take it back after.
func WhenReplaying(ctx context.Context, begin func() (end func())) context.Context {
	return context.WithValue(ctx, replayingKey{}, begin)
}

// replaying calls the begin function WhenReplaying gave ctx, if any, and returns its end.
func replaying(ctx context.Context) (end func()) {
	if begin, ok := ctx.Value(replayingKey{}).(func() func()); ok {
		return begin()
	}
	return func() {}
}

// closedViews lists the views kept at years' closings, by name.
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
		if strings.HasPrefix(info.Name, closedPrefix) {
			kept[info.Name] = info
		}
	}
	return kept
}

// keptAt reports whether info holds views this build kept at closing c: its sequence, year,
// freeze and digest (views of a stream since replaced, or of a closing since reopened, are not).
func keptAt(info *jetstream.ObjectInfo, c eventstore.YearRecord) bool {
	if info == nil {
		return false
	}
	m := info.Metadata
	return info.Name == closedName(c.ClosedSeq) && m["code_version"] == CodeVersion &&
		m["year"] == strconv.Itoa(c.Year) && m["freeze_id"] == c.FreezeID && m["digest"] == c.Digest
}

// pastStart returns the views a replay for keep starts from: those kept at the latest of the
// closings whose compaction keeps what keep asks, else new views.
func (r *Runner) pastStart(ctx context.Context, keep Query, closings []eventstore.YearRecord, kept map[string]*jetstream.ObjectInfo) *Ledger {
	l := NewLedger()
	l.Source, l.Keep = r.cfg.Events, &keep
	for i := len(closings) - 1; i >= 0; i-- {
		info := kept[closedName(closings[i].ClosedSeq)]
		if !keptAt(info, closings[i]) {
			continue
		}
		b, err1 := strconv.ParseInt(info.Metadata["boundary"], 10, 32)
		k, err2 := strconv.ParseInt(info.Metadata["keep_from"], 10, 32)
		if err1 != nil || err2 != nil || !(&Ledger{Boundary: domain.Date(b), KeepFrom: domain.Period(k)}).Covers(keep) {
			continue
		}
		saved, _, err := readSnapshot(ctx, r.objects, info.Name)
		if err != nil || saved.Seq != closings[i].ClosedSeq {
			r.log.Warn("the views kept at a year's closing are unusable; replaying from before them", "object", info.Name, "err", err)
			continue
		}
		saved.Source, saved.Keep = l.Source, l.Keep
		return saved
	}
	return l
}

// replayPast folds l on through `through`, and at the last closing it passes keeps l for the
// replays after it, unless views are kept there already.
func (r *Runner) replayPast(ctx context.Context, l *Ledger, through uint64, closings []eventstore.YearRecord, kept map[string]*jetstream.ObjectInfo) error {
	var last eventstore.YearRecord
	for _, c := range closings {
		if c.ClosedSeq > l.Seq && c.ClosedSeq < through {
			last = c
		}
	}
	if r.objects != nil && last.ClosedSeq != 0 && !keptAt(kept[closedName(last.ClosedSeq)], last) {
		if err := ReplayOnto(ctx, r.store, l, last.ClosedSeq, nil); err != nil {
			return err
		}
		if l.Seq == last.ClosedSeq {
			r.keepClosed(ctx, l) // the replay waits: it changes l
		}
	}
	return ReplayOnto(ctx, r.store, l, through, nil)
}

// keepClosed stores v, views folded through a year's closing and compacted through the books
// closed there (as the live views are), for the replays after it; unless views are kept there
// already, or another replica claimed the keeping. A failure costs those replays time only, and
// is logged. The views are encoded as they are uploaded.
func (r *Runner) keepClosed(ctx context.Context, v *Ledger) {
	if ctx.Err() != nil || v.Err() != nil || v.Boundary == 0 || v.Boundary != v.Ref.LockedThrough() {
		return
	}
	st, _ := v.Ref.Year(v.Boundary.Year())
	c := eventstore.YearRecord{YearStatus: st, ClosedSeq: v.Seq}
	name := closedName(v.Seq)
	release, ok := r.claim(ctx, name)
	if !ok {
		return // another replica is keeping them
	}
	defer release()
	// Looked for under the claim: kept already, or by another replica just before.
	if info, err := r.objects.GetInfo(ctx, name); err == nil && keptAt(info, c) {
		return
	}
	start := time.Now()
	size, err := r.putViews(ctx, name, map[string]string{"seq": strconv.FormatUint(v.Seq, 10), "code_version": CodeVersion,
		"boundary": strconv.FormatInt(int64(v.Boundary), 10), "keep_from": strconv.FormatInt(int64(v.KeepFrom), 10),
		"year": strconv.Itoa(st.Year), "freeze_id": st.FreezeID, "digest": st.Digest}, v)
	if err != nil {
		r.log.Warn("keeping the views at a year's closing", "seq", v.Seq, "err", err)
		return
	}
	r.log.Info("views kept at a year's closing", "seq", v.Seq, "boundary", v.Boundary, "bytes", size, "took", time.Since(start).Round(time.Millisecond))
	r.dropSuperseded(ctx, st.Year, v.Seq)
}

// dropSuperseded deletes the views this build kept at earlier closings of year, reopened since
// and now closed again at seq: no replay starts from them any more (keptAt takes the standing
// closing's only). Those of other builds are left to them, which may still be running beside
// this one.
func (r *Runner) dropSuperseded(ctx context.Context, year int, seq uint64) {
	for name, info := range r.closedViews(ctx) {
		at, err := strconv.ParseUint(info.Metadata["seq"], 10, 64)
		if err != nil || at >= seq || info.Metadata["year"] != strconv.Itoa(year) || info.Metadata["code_version"] != CodeVersion {
			continue
		}
		if err := r.objects.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			r.log.Warn("deleting the views kept at a closing since reopened", "object", name, "err", err)
			continue
		}
		r.log.Info("views kept at a closing since reopened deleted", "object", name, "closed_again_at", seq)
	}
}

// closesYear reports whether ev closes a year.
func closesYear(ev domain.Event) bool {
	_, ok := ev.Body.(domain.YearClosed)
	return ok
}

// keepClosings keeps, one at a time until ctx ends, the views the follower left at years'
// closings (read-only copies).
func (r *Runner) keepClosings(ctx context.Context) {
	for {
		select {
		case v := <-r.closings:
			r.keepClosed(ctx, v)
		case <-ctx.Done():
			return
		}
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

// reopenedFrom returns, for a reopening the live views are about to fold, views folded through
// the event before it (their seq) from the views kept at the closing the books end at once it is
// folded, compacted no further than there: folded into the live views, the reopening would
// fold every payer compacted beyond that end again from all its events, a cost that grows with
// the ledger's age, where these cost the events since that closing. nil when no views are kept
// there (or they cannot be read): the live views then fold the payers again. from is the
// closing's sequence.
func (r *Runner) reopenedFrom(ctx context.Context, ref domain.Reference, ev domain.Event) (l *Ledger, from uint64) {
	if r.objects == nil {
		return nil, 0
	}
	after := ref.Clone()
	after.Apply(ev.Body)
	end := after.LockedThrough()
	if end == 0 {
		return nil, 0 // the books are open from the start: every payer folds whole anyway
	}
	// The store's record of the closings must know those the views folded; a store that
	// cannot say in reopenTimeout leaves the reopening to fold the payers again (whose reads
	// of events are bounded too), rather than hold the views without a word.
	ctx, cancel := context.WithTimeout(ctx, reopenTimeout)
	defer cancel()
	if err := r.store.WaitApplied(ctx, ev.Seq); err != nil {
		r.log.Warn("the store did not follow the stream to a reopening; it folds the payers again", "seq", ev.Seq, "err", err)
		return nil, 0
	}
	var closing eventstore.YearRecord
	for _, y := range r.store.Years(end) {
		if y.Year == end.Year() && y.Closed && y.ClosedSeq != 0 && y.ClosedSeq < ev.Seq {
			closing = y
		}
	}
	name := closedName(closing.ClosedSeq)
	info, err := r.objects.GetInfo(ctx, name)
	if err != nil || !keptAt(info, closing) || info.Metadata["boundary"] != strconv.FormatInt(int64(end), 10) {
		r.log.Info("no views kept at the closing the books end at once reopened; the reopening folds every compacted payer again", "seq", ev.Seq, "end", end, "closing", closing.ClosedSeq, "err", err)
		return nil, 0
	}
	l, _, err = readSnapshot(ctx, r.objects, name)
	if err != nil || l.Seq != closing.ClosedSeq {
		r.log.Warn("the views kept at a year's closing are unusable; the reopening folds the payers again", "object", name, "err", err)
		return nil, 0
	}
	// Compacted no further than the books' end after the reopening, through the closings the
	// replay passes.
	firstOpen, _ := domain.DateOf(end.Year()+1, time.January, 1)
	l.Source, l.Keep = r.cfg.Events, &Query{AsOf: firstOpen, Period: l.KeepFrom}
	if err := ReplayOnto(ctx, r.store, l, ev.Seq-1, nil); err != nil {
		r.log.Warn("replaying from the views kept at a year's closing; the reopening folds the payers again", "object", name, "err", err)
		return nil, 0
	}
	l.Keep = nil
	return l, closing.ClosedSeq
}

// reopenTimeout bounds the views a reopening folds from a year's closing: the wait for the
// store, the kept views' read and the replay since.
const reopenTimeout = 10 * time.Minute

// reopens reports whether ev reopens a year.
func reopens(ev domain.Event) bool {
	_, ok := ev.Body.(domain.YearReopened)
	return ok
}
