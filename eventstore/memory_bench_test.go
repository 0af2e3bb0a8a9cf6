package eventstore_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// memoryPayers is the smaller of the two demo ledgers BenchmarkMemoryPerEventAndPayer builds (the
// other has twice the payers and so about twice the events): 400 payers, about 9,000 events, unless
// KUOZHENG_BENCH_EVENTS asks for about that many events in the smaller one.
func memoryPayers() int {
	if n := storetest.BenchEvents(0); n > 0 {
		return n/23 + 1 // the demo makes about 23 events per payer
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
// and imports send them; with half, only the first half of each payer's steps), opens a fresh
// store on it as serve does at start, rebuilds the views, and measures each structure.
func measureMemory(b *testing.B, payers int, half bool) memoryPoint {
	b.Helper()
	ctx := context.Background()
	l := storetest.StartLazy(b, eventstore.Config{}, true)
	defer l.Stop()
	steps := demo.Generate(demo.Config{Employers: payers, Seed: 2006})
	if half {
		total, kept := map[string]int{}, map[string]int{}
		for _, s := range steps {
			total[s.EmployerID]++
		}
		steps = slices.DeleteFunc(steps, func(s demo.Step) bool {
			if s.EmployerID == "" {
				return false
			}
			kept[s.EmployerID]++
			return kept[s.EmployerID] > (total[s.EmployerID]+1)/2
		})
	}
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
	p := memoryPoint{payers: float64(views.Employers.Len()), events: float64(last), bytes: map[string]float64{}}
	p.bytes["views-snapshot"] = float64(len(snap))
	snap = nil
	archHeap, archFile := st.ArchiveSizes()
	p.bytes["archive-heap-own"], p.bytes["archive-file"] = float64(archHeap), float64(archFile)
	b.Logf("%d payers, %d events, %d employers in the write side's LRU", views.Employers.Len(), last, st.CachedEmployers())

	before := liveHeap()
	for _, e := range views.Employers.All() {
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

// BenchmarkMemoryPerEventAndPayer builds three demo ledgers: P payers (E events), 2P payers with
// the first half of each one's steps (about E events), and 2P payers (about 2E events); it fits
// each structure's bytes as a·events + b·payers + c through the three points and reports a
// (-B/event) and b (-B/payer), and the bytes held in the largest ledger (-B).
//
// Live heap, after two collections, with the structure present and then released (the next
// released after it, in this order): the views' dated history (History emptied in every
// employer), the rest of the views' Ledger (as a rebuild makes it), then the store's idempotency
// index (memtables and run fences; its runs are files), history archive's heap part (shelves:
// each employer's newest chunk and tail references; the records are in files), chain heads
// (with the subject strings) and folded-employer LRU. Own accounting: the archive's heap by its
// own estimate (archive-heap-own) and its files (archive-file: chunks and tail log), and the
// views' snapshot (views-snapshot, gzip bytes). The embedded nats-server shares the heap, so the
// released figures carry its noise; the smaller default ledger carries most.
func BenchmarkMemoryPerEventAndPayer(b *testing.B) {
	small := memoryPayers()
	var pts [3]memoryPoint
	for b.Loop() {
		pts[0] = measureMemory(b, small, false)
		pts[1] = measureMemory(b, 2*small, true)
		pts[2] = measureMemory(b, 2*small, false)
	}
	b.ReportMetric(pts[2].events, "events")
	b.ReportMetric(pts[2].payers, "payers")
	for _, s := range memoryStructures {
		perEvent, perPayer := fitEventsPayers(pts, s)
		b.ReportMetric(perEvent, s+"-B/event")
		b.ReportMetric(perPayer, s+"-B/payer")
		b.ReportMetric(pts[2].bytes[s], s+"-B")
	}
}

// fitEventsPayers solves bytes = a·events + b·payers + c through three points (Cramer's rule).
func fitEventsPayers(pts [3]memoryPoint, s string) (a, b float64) {
	det3 := func(m [3][3]float64) float64 {
		return m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	}
	var m, ma, mb [3][3]float64
	for i, p := range pts {
		m[i] = [3]float64{p.events, p.payers, 1}
		ma[i] = [3]float64{p.bytes[s], p.payers, 1}
		mb[i] = [3]float64{p.events, p.bytes[s], 1}
	}
	d := det3(m)
	return det3(ma) / d, det3(mb) / d
}
