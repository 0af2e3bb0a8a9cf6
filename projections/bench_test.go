package projections_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/domain/demo"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go/jetstream"
)

// benchEvents is the ledger size of the rebuild benchmark; KUOZHENG_BENCH_EVENTS overrides it.
func benchEvents() int {
	if v, err := strconv.Atoi(os.Getenv("KUOZHENG_BENCH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// demoLedger opens (generating it the first time) a data folder holding at least n demo events.
// It is kept under the temporary folder so that repeated runs measure, not generate.
func demoLedger(b *testing.B, n int) (*eventstore.Store, func()) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("kuozheng-bench-%d", n))
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: dir, LazySync: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	st, err := eventstore.Open(ctx, emb.Conn, eventstore.Config{})
	if err != nil {
		emb.Close()
		b.Fatal(err)
	}
	if last, _ := st.LastSeq(ctx); last < uint64(n) {
		// The demo makes about 23 events per payer.
		start := time.Now()
		cfg := demo.Config{Employers: n/23 + 1, Seed: 2006}
		steps := demo.Generate(cfg)
		reqs := make([]eventstore.Request, len(steps))
		for i, s := range steps {
			reqs[i] = eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: demo.Today, Actor: "bench",
				IdempotencyKey: fmt.Sprintf("bench-%d", i), BodyHash: fmt.Sprint(i)}
		}
		const chunk = 50000
		for lo := 0; lo < len(reqs); lo += chunk {
			for i, r := range st.ExecuteBulk(ctx, reqs[lo:min(lo+chunk, len(reqs))]) {
				if r.Err != nil {
					b.Fatalf("generating: step %d: %v", lo+i, r.Err)
				}
			}
		}
		last, _ := st.LastSeq(ctx)
		b.Logf("generated %d events for %d payers in %v", last, cfg.Employers, time.Since(start).Round(time.Second))
	}
	return st, func() { st.Close(); emb.Close() }
}

// BenchmarkRebuild folds every view from sequence 1 over a demo ledger of about 1,000,000
// events, beside a raw ordered consumer that only decodes the same messages.
func BenchmarkRebuild(b *testing.B) {
	n := benchEvents()
	st, closeAll := demoLedger(b, n)
	defer closeAll()
	ctx := context.Background()
	last, _ := st.LastSeq(ctx)
	b.Run("views", func(b *testing.B) {
		var elapsed time.Duration
		for b.Loop() {
			start := time.Now()
			l, err := projections.Rebuild(ctx, st, last)
			if err != nil {
				b.Fatal(err)
			}
			q := projections.Query{AsOf: demo.Today, Period: projections.DefaultPeriod(&l.Ref, demo.Today)}
			if r := l.Report(q); r.City.Employers == 0 {
				b.Fatal("empty report")
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(last)*float64(b.N)/elapsed.Seconds(), "events/s")
	})
	b.Run("raw-decode-only", func(b *testing.B) {
		js := st.JetStream()
		var elapsed time.Duration
		for b.Loop() {
			start := time.Now()
			s, err := js.Stream(ctx, st.Stream())
			if err != nil {
				b.Fatal(err)
			}
			cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
			if err != nil {
				b.Fatal(err)
			}
			it, err := cons.Messages(jetstream.PullMaxMessages(2000))
			if err != nil {
				b.Fatal(err)
			}
			for {
				msg, err := it.Next()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := domain.Decode(msg.Data()); err != nil {
					b.Fatal(err)
				}
				meta, _ := msg.Metadata()
				if meta.Sequence.Stream >= last {
					break
				}
			}
			it.Stop()
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(last)*float64(b.N)/elapsed.Seconds(), "events/s")
	})
}
