package projections

import (
	"context"
	"sync"

	"github.com/kuozheng/kuozheng/domain"
)

// maxKeptReports bounds how many reports of queries other than the live one are kept.
const maxKeptReports = 32

// reportKey is a report asked for: the query and the segment ("" for every payer).
type reportKey struct {
	q   Query
	seg domain.Segment
}

// reportRun is one computation of a report, shared by the readers who ask for it meanwhile and,
// when it was made from the live views, kept for those who ask while they have not moved: a
// report is a function of the query and the views. rep and err are set before done is closed.
type reportRun struct {
	from   uint64 // the views' sequence when it began
	done   chan struct{}
	rep    *Report
	err    error
	cancel context.CancelFunc // ends the computation once no reader waits for it

	mu      sync.Mutex // guards waiters; taken after the runner's reportsMu
	waiters int        // readers waiting for it
}

// keptReport answers a query other than the live one from the computation that began where
// the views are now (under way, or done and kept), else from a new one. Readers asking for a
// month's report at once (a morning's supervisors) made one computation each, a quarter of a
// second of CPU apiece on a city.
func (r *Runner) keptReport(ctx context.Context, q Query, seg domain.Segment) (*Report, error) {
	key := reportKey{q, seg}
	now := r.seq.Load()
	r.reportsMu.Lock()
	run := r.reports[key]
	if run != nil && run.from != now {
		// The views moved on since it began: a reader may need what they hold now (min_seq).
		run = nil
	}
	if run != nil {
		select {
		case <-run.done:
			if run.err != nil {
				run = nil
			}
		default:
		}
	}
	if run == nil {
		run = r.startReport(key, now)
	}
	if !r.Current().Covers(q) {
		defer replaying(ctx)() // the computation replays closed books under a context of its own
	}
	run.mu.Lock()
	run.waiters++
	run.mu.Unlock()
	r.reportsMu.Unlock()
	select {
	case <-run.done:
		return run.rep, run.err
	case <-ctx.Done():
		run.mu.Lock()
		run.waiters--
		last := run.waiters == 0
		run.mu.Unlock()
		if last {
			r.abandonReport(key, run)
		}
		return nil, ctx.Err()
	}
}

// abandonReport ends run, which its last reader left, unless another joined it meanwhile: a
// computation nobody waits for is not finished (a reader who hangs up stops its replay, as
// before reports were shared), nor kept.
func (r *Runner) abandonReport(key reportKey, run *reportRun) {
	r.reportsMu.Lock()
	defer r.reportsMu.Unlock()
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.waiters > 0 {
		return
	}
	if r.reports[key] == run {
		delete(r.reports, key)
	}
	run.cancel()
}

// startReport begins a computation of key's report from the views at sequence from, and keeps
// it for others to share. The caller holds reportsMu.
func (r *Runner) startReport(key reportKey, from uint64) *reportRun {
	ctx, cancel := context.WithCancel(context.Background())
	run := &reportRun{from: from, done: make(chan struct{}), cancel: cancel}
	r.keepReport(key, run)
	go func() {
		defer close(run.done)
		defer cancel()
		l, err := r.At(ctx, key.q, key.q.AsOf, "period")
		if err != nil {
			run.err = err
			r.forgetReport(key, run)
			return
		}
		run.rep = l.SegmentReport(key.q, key.seg)
		if l.Seq < from {
			// Made from a replay of closed books (At): kept, the report would keep that whole
			// replay alive past the moment the runner lets it go.
			r.forgetReport(key, run)
		}
	}()
	return run
}

// keepReport records run as key's, first forgetting the finished reports the views have moved
// past (each keeps the views it was made from alive), then, while still full, any finished one.
// The caller holds reportsMu.
func (r *Runner) keepReport(key reportKey, run *reportRun) {
	if r.reports == nil {
		r.reports = map[reportKey]*reportRun{}
	}
	for k, old := range r.reports {
		select {
		case <-old.done:
			if old.from != run.from || len(r.reports) >= maxKeptReports {
				delete(r.reports, k)
			}
		default:
		}
	}
	if _, ok := r.reports[key]; ok || len(r.reports) < maxKeptReports {
		r.reports[key] = run
	}
}

// forgetReport stops keeping run as key's report.
func (r *Runner) forgetReport(key reportKey, run *reportRun) {
	r.reportsMu.Lock()
	if r.reports[key] == run {
		delete(r.reports, key)
	}
	r.reportsMu.Unlock()
}
