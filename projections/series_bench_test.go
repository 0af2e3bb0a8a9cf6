package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// BenchmarkSeries reads the dashboard's series (the year's months) on a demo ledger of about
// 464,000 events (20,000 payers, serve --demo's; KUOZHENG_BENCH_EVENTS sets another size):
// summed from every payer, as every read was before the runner kept a series' sums (and as a
// first read still is), and read again after 10 payments by 10 payers, which sums only those.
func BenchmarkSeries(b *testing.B) {
	payers := storetest.BenchEvents(464_000) / 23
	l := storetest.StartLazy(b, eventstore.Config{}, true)
	storetest.AppendDemo(b, l.Store, payers)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := projections.NewRunner(l.Store, projections.RunnerConfig{NoSnapshots: true})
	if err := r.Start(ctx); err != nil {
		b.Fatal(err)
	}
	last, err := l.Store.LastSeq(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.WaitSeq(ctx, last); err != nil {
		b.Fatal(err)
	}
	from, to := projections.DefaultSeriesMonths(demo.Today)
	b.Run("every-payer", func(b *testing.B) {
		cur := r.Current()
		for b.Loop() {
			cur.Series(demo.Today, from, to)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/series")
		b.ReportMetric(float64(len(cur.Employers)), "payers/series")
	})
	b.Run("after-10-payments", func(b *testing.B) {
		ids := r.Current().Order
		if _, err := r.Series(ctx, demo.Today, from, to, 0); err != nil {
			b.Fatal(err)
		}
		var elapsed time.Duration
		next, folded := 0, r.SeriesFolded()
		for b.Loop() {
			var seq uint64
			for range 10 {
				res, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: ids[next%len(ids)], Today: demo.Today,
					Command: &domain.RecordPayment{PaidOn: "2006-12-30", AmountFen: "1000", ReceiptNo: fmt.Sprintf("BENCH-%d", next)}})
				if err != nil {
					b.Fatal(err)
				}
				seq, next = res.Seq, next+1
			}
			if err := r.WaitSeq(ctx, seq); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if _, err := r.Series(ctx, demo.Today, from, to, seq); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/series")
		b.ReportMetric(float64(r.SeriesFolded()-folded)/float64(b.N), "payers/series")
	})
}
