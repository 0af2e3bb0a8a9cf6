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

// demoRunner is a runner caught up with a demo ledger of about 464,000 events (20,000 payers,
// serve --demo's; KUOZHENG_BENCH_EVENTS sets another size), and a func that records a payment
// by the next of its payers and returns its sequence.
func demoRunner(b *testing.B) (*projections.Runner, func() uint64) {
	b.Helper()
	payers := storetest.BenchEvents(464_000) / 23
	l := storetest.StartLazy(b, eventstore.Config{}, true)
	storetest.AppendDemo(b, l.Store, payers)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
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
	ids, next := r.Current().Order, 0
	return r, func() uint64 {
		res, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: ids[next%len(ids)], Today: demo.Today,
			Command: &domain.RecordPayment{PaidOn: "2006-12-30", AmountFen: "1000", ReceiptNo: fmt.Sprintf("BENCH-%d", next)}})
		if err != nil {
			b.Fatal(err)
		}
		next++
		if err := r.WaitSeq(ctx, res.Seq); err != nil {
			b.Fatal(err)
		}
		return res.Seq
	}
}

// BenchmarkSeries reads the dashboard's series (the year's months) on the demo ledger: summed
// from every payer, as every read was before the runner kept a series' sums (and as a first
// read still is), and read again after 10 payments by 10 payers, which sums only those.
func BenchmarkSeries(b *testing.B) {
	r, pay := demoRunner(b)
	ctx := context.Background()
	from, to := projections.DefaultSeriesMonths(demo.Today)
	b.Run("every-payer", func(b *testing.B) {
		cur := r.Current()
		for b.Loop() {
			cur.Series(demo.Today, from, to)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/series")
		b.ReportMetric(float64(cur.Employers.Len()), "payers/series")
	})
	b.Run("after-10-payments", func(b *testing.B) {
		if _, err := r.Series(ctx, demo.Today, from, to, 0); err != nil {
			b.Fatal(err)
		}
		var elapsed time.Duration
		folded := r.SeriesFolded()
		for b.Loop() {
			var seq uint64
			for range 10 {
				seq = pay()
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

// BenchmarkLiveReport reads the live report (GET /v1/counties's, and the city's figures each
// event of GET /v1/live carries) on the demo ledger: computed from every payer (Ledger.Report,
// a rebuild's or a freeze's), and after a payment as the runner keeps it, of every payer and of
// one segment's.
func BenchmarkLiveReport(b *testing.B) {
	r, pay := demoRunner(b)
	ctx := context.Background()
	q := projections.Query{AsOf: demo.Today, Period: projections.DefaultPeriod(&r.Current().Ref, demo.Today)}
	r.SetLive(q)
	b.Run("every-payer", func(b *testing.B) {
		cur := r.Current()
		for b.Loop() {
			cur.Report(q)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/report")
	})
	b.Run("after-a-payment", func(b *testing.B) {
		if _, err := r.Report(ctx, q); err != nil {
			b.Fatal(err)
		}
		var elapsed time.Duration
		for b.Loop() {
			pay()
			start := time.Now()
			if _, err := r.Report(ctx, q); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/report")
	})
	b.Run("a-segment-after-a-payment", func(b *testing.B) {
		if _, err := r.SegmentReport(ctx, q, domain.SegmentPark); err != nil {
			b.Fatal(err)
		}
		var elapsed time.Duration
		for b.Loop() {
			pay()
			start := time.Now()
			if _, err := r.SegmentReport(ctx, q, domain.SegmentPark); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/report")
	})
}
