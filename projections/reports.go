package projections

import (
	"context"

	"github.com/kuozheng/kuozheng/domain"
)

// maxKeptReports bounds how many reports of queries other than the live one are kept: a month's
// report, a segment's, a past date's, each a few kilobytes.
const maxKeptReports = 32

// reportKey is a report asked for: the query and the segment ("" for every payer).
type reportKey struct {
	q   Query
	seg domain.Segment
}

// reportRun is one computation of a report, shared by the readers who ask for it meanwhile and
// kept for those who ask while the views have not moved: a report is a function of the query
// and the views. rep and err are set before done is closed.
type reportRun struct {
	from uint64 // the views' sequence when it began
	done chan struct{}
	rep  *Report
	err  error
}

// keptReport answers a query other than the live one from the computation that began where
// the views are now (under way, or done and kept), else from a new one. Readers asking for a month's report at once (a morning's
// supervisors) made one computation each, a quarter of a second of CPU apiece on a city.
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
		run = &reportRun{from: now, done: make(chan struct{})}
		r.keepReport(key, run)
		go func() {
			defer close(run.done)
			// Every reader's: it goes on if the one that began it leaves.
			l, err := r.At(context.WithoutCancel(ctx), q, q.AsOf, "period")
			if err != nil {
				run.err = err
				return
			}
			run.rep = l.SegmentReport(q, seg)
		}()
	}
	r.reportsMu.Unlock()
	select {
	case <-run.done:
		return run.rep, run.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// keepReport records run as key's, making room by forgetting reports the views have moved past,
// then any finished one. The caller holds reportsMu.
func (r *Runner) keepReport(key reportKey, run *reportRun) {
	if r.reports == nil {
		r.reports = map[reportKey]*reportRun{}
	}
	if _, ok := r.reports[key]; !ok && len(r.reports) >= maxKeptReports {
		now := r.seq.Load()
		for k, old := range r.reports {
			select {
			case <-old.done:
				if old.from != now || len(r.reports) >= maxKeptReports {
					delete(r.reports, k)
				}
			default:
			}
		}
		if len(r.reports) >= maxKeptReports {
			return // all under way: this one is not kept
		}
	}
	r.reports[key] = run
}
