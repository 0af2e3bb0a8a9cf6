package eventstore_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/domain/demo"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// memoryPayers is the smaller of the two demo ledgers BenchmarkMemoryPerEventAndPayer builds (the
// other has twice the payers and so about twice the events): 400 payers, about 9,000 events, unless
// KUOZHENG_BENCH_EVENTS asks for about that many events in the smaller one.
func memoryPayers() int {
	if v, err := strconv.Atoi(os.Getenv("KUOZHENG_BENCH_EVENTS")); err == nil && v > 0 {
		return v/23 + 1 // the demo makes about 23 events per payer
	}
	return 400
}

// liveHeap collects garbage and returns the bytes of live heap.
func liveHeap() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc)
}

// memoryPoint is what one ledger's structures hold, in bytes.
type memoryPoint struct {
	payers, events float64
	bytes          map[string]float64
}

// memoryStructures lists the figures in the order they are reported; how each is measured is
// said in BenchmarkMemoryPerEventAndPayer.
var memoryStructures = append(append([]string{}, eventstore.MemoryParts...),
	"archive-heap-own", "archive-file", "views-employers", "views-history", "views-snapshot")

// measureMemory builds a demo ledger of payers (every step with an idempotency key, as the API
// and imports send them), opens a fresh store on it as serve does at start, rebuilds the views,
// and measures each structure.
func measureMemory(b *testing.B, payers int) memoryPoint {
	b.Helper()
	ctx := context.Background()
	l := storetest.StartLazy(b, eventstore.Config{}, true)
	defer l.Stop()
	steps := demo.Generate(demo.Config{Employers: payers, Seed: 2006})
	reqs := make([]eventstore.Request, len(steps))
	for i, s := range steps {
		reqs[i] = eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: demo.Today, Actor: "bench",
			IdempotencyKey: fmt.Sprintf("bench-%d", i), BodyHash: fmt.Sprint(i)}
	}
	const chunk = 50000
	for lo := 0; lo < len(reqs); lo += chunk {
		for i, r := range l.Store.ExecuteBulk(ctx, reqs[lo:min(lo+chunk, len(reqs))]) {
			if r.Err != nil {
				b.Fatalf("generating: step %d: %v", lo+i, r.Err)
			}
		}
	}
	reqs, steps = nil, nil
	l.Restart(b) // the indexes as a start builds them, by replaying the stream
	st := l.Store
	last, err := st.LastSeq(ctx)
	if err != nil {
		b.Fatal(err)
	}
	views, err := projections.Rebuild(ctx, st, last)
	if err != nil {
		b.Fatal(err)
	}
	snap, err := views.SnapshotBytes()
	if err != nil {
		b.Fatal(err)
	}
	p := memoryPoint{payers: float64(len(views.Employers)), events: float64(last), bytes: map[string]float64{}}
	p.bytes["views-snapshot"] = float64(len(snap))
	snap = nil
	archHeap, archFile := st.ArchiveSizes()
	p.bytes["archive-heap-own"], p.bytes["archive-file"] = float64(archHeap), float64(archFile)
	b.Logf("%d payers, %d events, %d employers in the write side's LRU", len(views.Employers), last, st.CachedEmployers())

	before := liveHeap()
	for _, e := range views.Employers {
		e.History = domain.History{}
	}
	after := liveHeap()
	p.bytes["views-history"], before = before-after, after
	runtime.KeepAlive(views)
	views = nil
	after = liveHeap()
	p.bytes["views-employers"], before = before-after, after
	for _, part := range eventstore.MemoryParts {
		st.ReleaseForMeasure(part)
		after = liveHeap()
		p.bytes[part], before = before-after, after
	}
	return p
}

// BenchmarkMemoryPerEventAndPayer builds demo ledgers of two sizes (payers P and 2P, events E and
// about 2E), and reports what each structure holding state per event or per payer costs, as the
// slope between the two: bytes per event (its growth over the events added) and bytes per payer
// (the same growth over the payers added). The demo's events per payer are the same at both
// sizes, so the two are one slope in two units, not a split of the cost between events and
// payers. Also reported: each structure's bytes at the larger size.
//
// Live heap, after two collections, with the structure present and then released (the next
// released after it, in this order): the views' dated history (History emptied in every
// employer), the rest of the views' Ledger (as a rebuild makes it), then the store's idempotency
// keys, history archive's heap part, employer sequences, chain heads (with the subject strings
// the three share) and folded-employer LRU. Own accounting: the archive's open tails
// (archive-heap-own, records only) and its scratch file (archive-file), and the views' snapshot
// (views-snapshot, gzip bytes). The embedded nats-server shares the heap, so the released
// figures carry its noise; the smaller default ledger carries most.
func BenchmarkMemoryPerEventAndPayer(b *testing.B) {
	small := memoryPayers()
	var pts [2]memoryPoint
	for b.Loop() {
		pts[0] = measureMemory(b, small)
		pts[1] = measureMemory(b, 2*small)
	}
	de, dp := pts[1].events-pts[0].events, pts[1].payers-pts[0].payers
	b.ReportMetric(pts[1].events, "events")
	b.ReportMetric(pts[1].payers, "payers")
	for _, s := range memoryStructures {
		d := pts[1].bytes[s] - pts[0].bytes[s]
		b.ReportMetric(d/de, s+"-B/event")
		b.ReportMetric(d/dp, s+"-B/payer")
		b.ReportMetric(pts[1].bytes[s], s+"-B")
	}
}
