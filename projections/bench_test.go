package projections_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go"
)

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
	// As serve opens its store on the embedded server: the follower and the views' replays read
	// the stream through a connection of their own.
	st, err := eventstore.Open(ctx, emb.Conn, emb.StoreConfig(eventstore.Config{}))
	if err != nil {
		emb.Close()
		b.Fatal(err)
	}
	if last, _ := st.LastSeq(ctx); last < uint64(n) {
		storetest.AppendDemo(b, st, n/23+1) // the demo makes about 23 events per payer
	}
	return st, func() { st.Close(); emb.Close() }
}

// BenchmarkRebuild folds every view from sequence 1 over a demo ledger of about 1,000,000
// events, beside a raw ordered consumer that only decodes the same messages.
func BenchmarkRebuild(b *testing.B) {
	n := storetest.BenchEvents(1_000_000)
	st, closeAll := demoLedger(b, n)
	defer closeAll()
	ctx := context.Background()
	last, _ := st.LastSeq(ctx)
	rot := storetest.Rotate(b)
	rot.Run("views", func(b *testing.B) {
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
	rot.Run("raw-decode-only", func(b *testing.B) {
		var elapsed time.Duration
		for b.Loop() {
			start := time.Now()
			storetest.RawRead(b, st, last, true)
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(last)*float64(b.N)/elapsed.Seconds(), "events/s")
	})
	rot.Run("postgres-replay", func(b *testing.B) {
		table := fmt.Sprintf("bench_ledger_%d", n)
		pool := storetest.PostgresLoaded(b, table, st)
		var elapsed time.Duration
		for b.Loop() {
			start := time.Now()
			l := projections.NewLedger()
			pgEvents(b, pool, "SELECT seq, employer_id, recorded_at, payload, hash FROM "+table+" ORDER BY seq", nil, false, func(ev eventstore.RawEvent) {
				l.Apply(ev.Event)
			})
			q := projections.Query{AsOf: demo.Today, Period: projections.DefaultPeriod(&l.Ref, demo.Today)}
			if r := l.Report(q); r.City.Employers == 0 {
				b.Fatal("empty report")
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(last)*float64(b.N)/elapsed.Seconds(), "events/s")
	})
	rot.Go()
}

// pgEvents runs a query over the PostgreSQL event table and hands each row over as the store's
// events are handed over: decoded, with sequence, employer, time and hash set; with chain, the
// rows are one employer's and are checked as a history, failing the benchmark if it breaks.
func pgEvents(b *testing.B, pool *pgxpool.Pool, query string, args []any, chain bool, each func(eventstore.RawEvent)) {
	rows, err := pool.Query(context.Background(), query, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	// One employer's events, checked against the chain they make as the ledger's history checks
	// its own: the hash of the bytes and the link to the event before.
	var prev eventstore.RawEvent
	broken := false
	for rows.Next() {
		var seq uint64
		var emp pgtype.UUID
		var ts time.Time
		var payload []byte
		var hash string
		if err := rows.Scan(&seq, &emp, &ts, &payload, &hash); err != nil {
			b.Fatal(err)
		}
		ev, err := domain.Decode(payload)
		if err != nil {
			b.Fatalf("row %d: %v", seq, err)
		}
		ev.Seq, ev.RecordedAt, ev.Hash = seq, ts.UnixNano(), hash
		if emp.Valid {
			ev.EmployerID = uuid.UUID(emp.Bytes).String()
		}
		if chain {
			broken = broken || !domain.ChainHashIs(hash, ev.PrevHash, payload) || ev.PrevHash != prev.Hash || ev.N != prev.N+1 ||
				(ev.PrevSeq != 0 && ev.PrevSeq != prev.Seq)
		}
		raw := eventstore.RawEvent{Event: ev, Data: payload, ChainOK: !broken}
		each(raw)
		prev = raw
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if broken {
		b.Fatalf("%s %v: the chain does not hold", query, args)
	}
}

// BenchmarkHistory reads one employer's history (its ~20–60 events) at 1,000,000 events, from
// random employers, through the store's index and cache, beside a raw subject-filtered ordered
// consumer on the same employer. It reports p50 and p99.
func BenchmarkHistory(b *testing.B) {
	n := storetest.BenchEvents(1_000_000)
	st, closeAll := demoLedger(b, n)
	defer closeAll()
	ctx := context.Background()
	ids := st.EmployerIDs()
	slices.Sort(ids)
	pick := func(i int) string { return ids[(i*7919)%len(ids)] }
	measure := func(b *testing.B, rounds int, read func(id string) int) {
		var lat []time.Duration
		events := 0
		for b.Loop() {
			for i := range rounds {
				t0 := time.Now()
				events += read(pick(i))
				lat = append(lat, time.Since(t0))
			}
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(events)/float64(len(lat)), "events/read")
	}
	// An auditor's read: the events, their chain check and the balances after each.
	read := func(id string) int {
		raw, err := st.History(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		h := projections.BuildHistory(id, raw, 0, demo.Today, &domain.Reference{LateFees: domain.DefaultLateFees})
		if !h.ChainOK {
			b.Fatalf("employer %s: chain broken", id)
		}
		return len(h.Events)
	}
	// Cold: each read is an employer not read before. Warm: the same employers again, from the
	// bounded cache.
	last, _ := st.LastSeq(ctx)
	heap, file := st.ArchiveSize()
	b.Logf("archive: %d MiB on the heap, %d MiB in its file, for %d events", heap>>20, file>>20, last)
	rot := storetest.Rotate(b)
	rot.Run("ledger-cold", func(b *testing.B) {
		measure(b, 2000, read)
		b.ReportMetric(float64(heap)/float64(1<<20), "archive-heap-MiB")
		b.ReportMetric(float64(file)/float64(1<<20), "archive-file-MiB")
	})
	rot.Run("postgres-select", func(b *testing.B) {
		table := fmt.Sprintf("bench_ledger_%d", n)
		pool := storetest.PostgresLoaded(b, table, st)
		query := "SELECT seq, employer_id, recorded_at, payload, hash FROM " + table + " WHERE employer_id = $1 ORDER BY version"
		measure(b, 2000, func(id string) int {
			var raw []eventstore.RawEvent
			pgEvents(b, pool, query, []any{[16]byte(uuid.MustParse(id))}, true, func(ev eventstore.RawEvent) { raw = append(raw, ev) })
			return len(projections.BuildHistory(id, raw, 0, demo.Today, &domain.Reference{LateFees: domain.DefaultLateFees}).Events)
		})
	})
	rot.Run("raw-direct-get", func(b *testing.B) {
		// The engine's own read of one subject: batched direct gets (the stream allows them),
		// each event decoded, 2,000 employers as the ledger's.
		nc := st.JetStream().Conn()
		measure(b, 2000, func(id string) int {
			n, err := directGet(nc, st.Stream(), eventstore.EmployerPrefix+id, func(data []byte) {
				if _, err := domain.Decode(data); err != nil {
					b.Fatal(err)
				}
			})
			if err != nil || n == 0 {
				b.Fatalf("direct get of %s: %d messages, %v", id, n, err)
			}
			return n
		})
	})
	rot.Go()
	// After the cold reads, whatever order they ran in: the same reads again, and the write side's.
	b.Run("ledger-warm", func(b *testing.B) { measure(b, 2000, read) })
	// The write side keeps the 4,096 employers written to last; a command on another first folds
	// it again from the archive. These employers were not written to since the store opened.
	b.Run("write-side-refold", func(b *testing.B) {
		measure(b, 2000, func(id string) int {
			e, ok := st.Employer(id)
			if !ok {
				b.Fatalf("employer %s not found", id)
			}
			return int(e.N)
		})
	})
}

// directGetBatch is how many messages a batched direct get asks for at once.
const directGetBatch = 1000

// directGet reads every message of subject with batched direct gets: each request asks for the
// next directGetBatch messages of the subject from a sequence on, and the server answers each
// message as a reply of its own and ends the batch with a 204 status (404: none). It hands each
// message's data to each and returns how many there were.
func directGet(nc *nats.Conn, stream, subject string, each func([]byte)) (int, error) {
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, err
	}
	defer sub.Unsubscribe()
	n := 0
	for from := uint64(1); ; {
		req := fmt.Sprintf(`{"seq":%d,"next_by_subj":%q,"batch":%d}`, from, subject, directGetBatch)
		if err := nc.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, []byte(req)); err != nil {
			return n, err
		}
		got := 0
	batch:
		for {
			m, err := sub.NextMsg(30 * time.Second)
			if err != nil {
				return n, err
			}
			switch status := m.Header.Get("Status"); status {
			case "":
			case "204": // the batch's end
				if got < directGetBatch || m.Header.Get("Nats-Num-Pending") == "0" {
					return n, nil
				}
				break batch
			case "404":
				return n, nil
			default:
				return n, fmt.Errorf("direct get of %s: status %s %s", subject, status, m.Header.Get("Description"))
			}
			seq, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
			if err != nil {
				return n, fmt.Errorf("direct get of %s: sequence %q", subject, m.Header.Get("Nats-Sequence"))
			}
			each(m.Data)
			n, got, from = n+1, got+1, seq+1
		}
	}
}

// BenchmarkFreeze replays 1,000,000 events and computes the frozen figures, beside an ordered
// consumer that reads and decodes the same range. (The whole POST /v1/freezes path, from live
// views, is api's BenchmarkFreezePost.)
func BenchmarkFreeze(b *testing.B) {
	n := storetest.BenchEvents(1_000_000)
	st, closeAll := demoLedger(b, n)
	defer closeAll()
	ctx := context.Background()
	last, _ := st.LastSeq(ctx)
	rot := storetest.Rotate(b)
	rot.Run("ledger", func(b *testing.B) {
		for b.Loop() {
			f, err := projections.MakeFreeze(ctx, st, last, demo.Today, nil)
			if err != nil || f.Digest == "" {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/freeze")
	})
	rot.Run("raw-ordered-consumer", func(b *testing.B) {
		for b.Loop() {
			storetest.RawRead(b, st, last, true)
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/read")
	})
	rot.Go()
}

// BenchmarkFirstStart starts a store with no snapshot on a demo ledger of about 300,000 events
// and the views with none, until both have caught up: the views folding the store's replay beside
// it, each event decoded once (share, as serve starts), or replaying the stream themselves once
// the store has (after). It reports events/s of the whole start and the process's CPU time an
// event (user and system), which a busy machine inflates less than the wall time.
func BenchmarkFirstStart(b *testing.B) {
	n := storetest.BenchEvents(300_000)
	_, closeAll := demoLedger(b, n)
	closeAll()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: filepath.Join(os.TempDir(), fmt.Sprintf("kuozheng-bench-%d", n)), LazySync: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer emb.Close()
	for _, share := range []bool{true, false} {
		name := map[bool]string{true: "share", false: "after"}[share]
		b.Run(name, func(b *testing.B) {
			var elapsed time.Duration
			var cpu time.Duration
			var events uint64
			for b.Loop() {
				ctx, cancel := context.WithCancel(context.Background())
				start, used := time.Now(), cpuTime(b)
				st, err := eventstore.Start(ctx, emb.Conn, eventstore.Config{})
				if err != nil {
					b.Fatal(err)
				}
				r := projections.NewRunner(st, projections.RunnerConfig{NoSnapshots: true})
				if share {
					err = r.Start(ctx)
				}
				if err == nil {
					err = st.CaughtUp(ctx)
				}
				if err == nil && !share {
					err = r.Start(ctx)
				}
				if err != nil {
					b.Fatal(err)
				}
				for !r.Ready() {
					select {
					case <-r.Changed():
					case <-time.After(100 * time.Millisecond):
					}
				}
				elapsed += time.Since(start)
				cpu += cpuTime(b) - used
				events += r.Seq()
				cancel()
				r.Wait()
				st.Close()
			}
			b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(events), "cpu-µs/event")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
