package eventstore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

const benchEmployers = 20000

var counties = []string{"360702", "360721", "360722", "360723", "360724", "360725", "360726", "360727", "360728", "360729",
	"360730", "360731", "360732", "360733", "360734", "360735", "360781", "360782", "360771"}

// realisticRequests is one employer's typical first months: registration, survey, enrollment,
// a declaration and a payment.
func realisticRequests(base, n int) []eventstore.Request {
	reqs := make([]eventstore.Request, 0, n*5)
	for i := range n {
		code := orgCode(base + i)
		id := domain.EmployerIDForOrgCode(code)
		inPark := i%3 == 0
		reqs = append(reqs,
			eventstore.Request{Create: true, Today: today, Actor: "bench", Command: &domain.RegisterEmployer{
				Name: "赣州市某某有限公司" + strconv.Itoa(i), County: counties[i%len(counties)], OrgCode: code, Kind: "enterprise",
				RiskClass: "2", InIndustrialPark: &inPark, RegisteredOn: "2006-04-03", CertificateNo: "GZ" + strconv.Itoa(base+i)}},
			eventstore.Request{EmployerID: id, Today: today, Actor: "bench", Command: &domain.RecordSurvey{AsOf: "2006-04-20", Workforce: "40"}},
			eventstore.Request{EmployerID: id, Today: today, Actor: "bench", Command: &domain.RecordEnrollment{Insurance: "pension", Headcount: "36", EffectiveOn: "2006-05-01"}},
			eventstore.Request{EmployerID: id, Today: today, Actor: "bench", Command: &domain.FileDeclaration{DeclaredOn: "2006-06-05", Period: "2006-05",
				Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "36", WageBaseFen: "4320000"}, {Insurance: "medical", Headcount: "36", WageBaseFen: "4320000"}}}},
			eventstore.Request{EmployerID: id, Today: today, Actor: "bench", Command: &domain.RecordPayment{PaidOn: "2006-06-12", AmountFen: "1555200", ReceiptNo: "R" + strconv.Itoa(base+i)}},
		)
	}
	return reqs
}

// BenchmarkAppendBulk appends realistic events for 20,000 employers through the ledger's bulk
// path, beside the raw engine appending the same messages (the ledger's bytes, chain hash and
// expected sequences) in atomic batches as large as the ledger's on a bare server, and PostgreSQL
// copying batches of that size.
// Every side runs with serve's collector settings (storetest.RotateAsServe).
func BenchmarkAppendBulk(b *testing.B) {
	rot := storetest.RotateAsServe(b)
	for _, lazy := range []bool{false, true} {
		sync := "fsync"
		if lazy {
			sync = "lazy"
		}
		rot.Run("ledger/"+sync, func(b *testing.B) {
			var batches storetest.Batches
			l := storetest.StartLazy(b, eventstore.Config{Metrics: &batches}, lazy)
			base := 1
			var events int
			var elapsed time.Duration
			for b.Loop() {
				reqs := realisticRequests(base, benchEmployers)
				base += benchEmployers
				start := time.Now()
				res := l.Store.ExecuteBulk(context.Background(), reqs)
				elapsed += time.Since(start)
				for _, r := range res {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
					events += len(r.EventIDs)
				}
			}
			b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
			batches.Report(b)
		})
		rot.Run("raw-atomic/"+sync, func(b *testing.B) {
			msgs := storetest.Messages(b, scratchLedger(b, realisticRequests(1, benchEmployers)).Store)
			l := storetest.StartBare(b, lazy)
			pub := storetest.NewRawPublisher(l.Embedded.Conn)
			var events int
			var elapsed time.Duration
			for b.Loop() {
				// Each round appends the same messages as new employers', as the ledger's rounds do.
				round := storetest.Renamed(msgs)
				start := time.Now()
				if err := pub.Batches(round, eventstore.EmbeddedMaxBatch); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				events += len(round)
			}
			b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
		})
		rot.Run("postgres-copy/"+sync, func(b *testing.B) {
			pool := storetest.Postgres(b, "bench_bulk", lazy)
			rows := ledgerRows(b, realisticRequests(1, benchEmployers))
			var events int
			var elapsed time.Duration
			for b.Loop() {
				// Each round appends the same events as new employers' (fresh ids), as the
				// ledger's rounds do.
				fresh := map[string]string{}
				i := 0
				start := time.Now()
				events += storetest.PostgresCopy(b, pool, "bench_bulk", eventstore.EmbeddedMaxBatch, func() (storetest.PGEvent, bool) {
					if i == len(rows) {
						return storetest.PGEvent{}, false
					}
					r := rows[i]
					i++
					if fresh[r.EmployerID] == "" {
						fresh[r.EmployerID] = uuid.NewString()
					}
					r.EmployerID, r.RecordedAt = fresh[r.EmployerID], time.Now()
					if r.IdemKey != "" {
						r.IdemKey = uuid.NewString() // the ledger's keys, new each round as its rounds' are
					}
					return r, true
				})
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
		})
	}
	rot.Go()
}

// scratchLedger appends requests through the bulk path to a ledger of its own (not synced), whose
// messages the baselines append again: the same bytes on every side.
func scratchLedger(b *testing.B, reqs []eventstore.Request) *storetest.Ledger {
	b.Helper()
	l := storetest.StartLazy(b, eventstore.Config{}, true)
	for _, r := range l.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	return l
}

// ledgerRows appends requests to a scratch ledger and returns its employers' events as rows of
// the PostgreSQL table, so that both sides append the same bytes.
func ledgerRows(b *testing.B, reqs []eventstore.Request) []storetest.PGEvent {
	b.Helper()
	next, stop := storetest.EventRows(b, scratchLedger(b, reqs).Store)
	defer stop()
	var rows []storetest.PGEvent
	for r, ok := next(); ok; r, ok = next() {
		if r.EmployerID != "" {
			rows = append(rows, r)
		}
	}
	return rows
}

const benchWriters = 64

// BenchmarkAppendConcurrent sends one-event commands from 64 goroutines through the ledger's
// append, beside the raw engine's best durable use of the same load on a bare server (the
// ledger's payment messages from 64 goroutines over the same employers, grouped client-side into
// atomic batches, each subject's first with its expected sequence); durable unless lazy.
// Every side runs with serve's collector settings (storetest.RotateAsServe).
func BenchmarkAppendConcurrent(b *testing.B) {
	rot := storetest.RotateAsServe(b)
	for _, lazy := range []bool{false, true} {
		sync := "fsync"
		if lazy {
			sync = "lazy"
		}
		rot.Run("ledger/"+sync, func(b *testing.B) {
			var batches storetest.Batches
			l := storetest.StartLazy(b, eventstore.Config{Metrics: &batches}, lazy)
			reqs := realisticRequests(1, benchWriters*4)
			var regs []eventstore.Request
			for i := 0; i < len(reqs); i += 5 {
				regs = append(regs, reqs[i])
			}
			for _, r := range l.Store.ExecuteBulk(context.Background(), regs) {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			ids := l.Store.EmployerIDs()
			batches.Reset() // the registrations' batches are set-up
			var n atomic.Int64
			run := func(total int) time.Duration {
				return concurrently(total, func(w, k int) error {
					id := ids[(w*7+k)%len(ids)]
					_, err := l.Store.Execute(context.Background(), eventstore.Request{EmployerID: id, Today: today, Actor: "bench",
						Command: &domain.RecordPayment{PaidOn: "2006-06-12", AmountFen: "100", ReceiptNo: fmt.Sprintf("C%d-%d-%d", n.Add(1), w, k)}})
					return err
				})
			}
			var elapsed time.Duration
			var cmds int
			for b.Loop() {
				elapsed += run(10000)
				cmds += 10000
			}
			b.ReportMetric(float64(cmds)/elapsed.Seconds(), "commands/s")
			batches.Report(b)
		})
		rot.Run("raw-group-commit/"+sync, func(b *testing.B) {
			_, pay := storetest.LedgerPayments(b, benchWriters*4)
			l := storetest.StartBare(b, lazy)
			g := storetest.NewGroupCommitter(b, storetest.NewRawPublisher(l.Embedded.Conn), eventstore.EmbeddedMaxBatch)
			var elapsed time.Duration
			var cmds int
			for b.Loop() {
				elapsed += concurrently(10000, func(w, k int) error {
					return g.Publish(pay[(w*7+k)%len(pay)])
				})
				cmds += 10000
			}
			b.ReportMetric(float64(cmds)/elapsed.Seconds(), "commands/s")
			g.Batches.Report(b)
		})
		rot.Run("postgres-insert/"+sync, func(b *testing.B) {
			pool := storetest.Postgres(b, "bench_concurrent", lazy)
			ids, pay := storetest.LedgerPayments(b, benchWriters*4)
			// Each employer's commands one at a time, as the ledger's are (storetest.PostgresChain),
			// the ledger's payment bytes chained to the employer's head and inserted.
			chain := storetest.NewPostgresChain(pool, "bench_concurrent", ids)
			typ := (domain.PaymentReceived{}).EventType()
			var elapsed time.Duration
			var cmds int
			for b.Loop() {
				elapsed += concurrently(10000, func(w, k int) error {
					e := (w*7 + k) % len(pay)
					return chain.Append(e, typ, pay[e].Data)
				})
				cmds += 10000
			}
			b.ReportMetric(float64(cmds)/elapsed.Seconds(), "commands/s")
		})
	}
	rot.Go()
}

// concurrently runs total calls of f spread over benchWriters goroutines and returns the time taken.
func concurrently(total int, f func(worker, k int) error) time.Duration {
	var wg sync.WaitGroup
	var next atomic.Int64
	var failed atomic.Value
	start := time.Now()
	for w := range benchWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1))
				if k > total {
					return
				}
				if err := f(w, k); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		panic(err)
	}
	return time.Since(start)
}
