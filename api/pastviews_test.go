package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go/jetstream"
)

// pastReplays records the replays of closed books the views tell of (projections.Observer).
type pastReplays struct {
	mu     sync.Mutex
	events []uint64
}

func (p *pastReplays) Applied(int, uint64)                 {}
func (p *pastReplays) Snapshot(uint64, int, time.Duration) {}
func (p *pastReplays) PastReplay(n uint64, _ time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, n)
}

// take returns the replays told of since the last take.
func (p *pastReplays) take() []uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.events
	p.events = nil
	return out
}

// countedEvents counts the employers the views fold again from their events.
type countedEvents struct {
	projections.EventSource
	n atomic.Int64
}

func (c *countedEvents) EmployerEvents(id string, through uint64) ([]domain.Event, error) {
	c.n.Add(1)
	return c.EventSource.EmployerEvents(id, through)
}

// keptClosings are the names of the views kept at years' closings in the snapshot bucket.
func keptClosings(t *testing.T, store *eventstore.Store) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obs, err := store.JetStream().ObjectStore(ctx, projections.SnapshotBucket)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := obs.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		t.Fatal(err)
	}
	var names []string
	for _, info := range infos {
		if strings.HasPrefix(info.Name, "closed-") {
			names = append(names, info.Name)
		}
	}
	slices.Sort(names)
	return names
}

// A figure as of a date within the closed books is folded from the views kept at the closing
// of the year before the one it needs, not from the stream's start: its cost is that of the
// years it reads, not of every year before them. The live views are kept at each closing they
// fold once caught up; a ledger closed before they were (or that lost them) has them kept by
// the first replay that passes a closing. Answers from them are those of a replay from
// sequence 1.
func TestAReadOfAClosedYearFoldsFromTheClosingBefore(t *testing.T) {
	ops := acceptOps()
	seen := &pastReplays{}
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), today: acceptToday}
	e.loadFreezeTokens()
	// Runners left running take no snapshot of the views on their own: one would change where
	// the next runner starts.
	cfg := projections.RunnerConfig{Observe: seen, SnapshotEvery: 1 << 40, SnapshotIdle: 24 * time.Hour}
	e.runner = startRunnerWith(t, e.l.Store, cfg)
	e.serve()
	a := &acceptLedger{env: e, ids: make([]string, acceptPayers)}
	closed := map[int]uint64{} // the closing's sequence of each year
	i := 0
	for _, year := range []int{2006, 2007, 2008} {
		i = a.run(t, ops, i, fmt.Sprintf("%d-01-31", year+1))
		f := a.freeze(t, tokAssessor, fmt.Sprintf("%d-12-31", year), 0)
		a.waitViews(t, f.Seq)
		a.closeYear(t, tokAssessor, fmt.Sprint(year), fmt.Sprintf(`{"freeze_id":%q}`, f.ID))
		closed[year] = a.yearOf(t, year).ClosedSeq
	}
	if i != len(ops) {
		t.Fatalf("ran %d of %d writes", i, len(ops))
	}
	a.waitViews(t, closed[2008])
	kept := []string{fmt.Sprintf("closed-%020d", closed[2006]), fmt.Sprintf("closed-%020d", closed[2007]), fmt.Sprintf("closed-%020d", closed[2008])}
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		if got := keptClosings(t, e.l.Store); !slices.Equal(got, kept) {
			return fmt.Errorf("views kept at %v, want %v (each closing the live views passed)", got, kept)
		}
		return nil
	})

	reads := []struct {
		path     string
		first    uint64 // events a read folds with none kept yet: every one through the closing
		from     uint64 // the closing it folds from once kept
		through  uint64
		whyFirst string
	}{
		{"/v1/counties?as_of=2008-06-30", closed[2008], closed[2007], closed[2008], "keeps the views at 2007's closing"},
		// A period of 2007 needs views compacted only through 2006: 2007's are too compacted.
		{"/v1/counties?as_of=2008-06-30&period=2007-03", closed[2008], closed[2006], closed[2008], "no views kept at 2006's closing yet"},
		{"/v1/counties?as_of=2007-06-30", closed[2007], closed[2006], closed[2007], "keeps the views at 2006's closing"},
		{"/v1/counties?as_of=2006-06-30", closed[2006], 0, closed[2006], "the first year folds from the start"},
	}
	// What a replay from sequence 1 answers: views that keep no snapshots.
	want := map[string]string{}
	truth := func() {
		t.Helper()
		folded := &pastReplays{}
		a.runner = startRunnerWith(t, e.l.Store, projections.RunnerConfig{NoSnapshots: true, Observe: folded})
		a.serve()
		for _, r := range reads {
			maps.Copy(want, a.snapshot(t, []string{r.path}))
			if got := folded.take(); !slices.Equal(got, []uint64{r.through}) {
				t.Errorf("GET %s without snapshots: folded %v events, want [%d]", r.path, got, r.through)
			}
		}
	}
	truth()
	// check reads on a new runner (as after a restart: no replay of its own to reuse), once
	// wait returns.
	check := func(when string, folded func(int) uint64, wait func()) {
		t.Helper()
		a.runner = startRunnerWith(t, e.l.Store, cfg)
		a.serve()
		wait()
		seen.take()
		for k, r := range reads {
			sameReads(t, when, a.snapshot(t, []string{r.path}), map[string]string{r.path: want[r.path]})
			if got, want := seen.take(), []uint64{folded(k)}; !slices.Equal(got, want) {
				t.Errorf("%s: GET %s folded %v events, want %v", when, r.path, got, want)
			}
		}
	}
	fromKept := func(k int) uint64 { return reads[k].through - reads[k].from }
	check("views kept by the live views", fromKept, func() {})

	// A ledger whose closings have no views kept (closed before this build, or restored), and
	// no snapshot of its views: their first start folds the stream keeping none (it would slow
	// the start), and the first replays keep them.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obs, err := e.l.Store.JetStream().ObjectStore(ctx, projections.SnapshotBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Concat(kept, []string{"views"}) {
		if err := obs.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			t.Fatal(err)
		}
	}
	check("none kept yet", func(k int) uint64 { return reads[k].first }, func() {})
	if got, want := keptClosings(t, e.l.Store), kept[:2]; !slices.Equal(got, want) {
		t.Errorf("the first replays kept views at %v, want %v", got, want)
	}
	check("views kept by replays", fromKept, func() {})

	// 2008 reopened, a payment of it recorded, and closed again: its reads fold from 2007's
	// closing through the new one, and the views kept at the first closing of 2008 are not used.
	if r := a.post(t, "/v1/years/2008/reopen", tokAdmin, `{"reason":"补录一笔缴费"}`); r.Status != http.StatusCreated {
		t.Fatalf("reopen 2008: %s", r)
	}
	a.mustWrite(t, empPath(a.ids[0], "payments"), tokAdmin, paymentBody("late-2008", 123400, "2008-05-20"))
	f := a.freeze(t, tokAssessor, "2008-12-31", 0)
	a.waitViews(t, f.Seq)
	a.closeYear(t, tokAssessor, "2008", fmt.Sprintf(`{"freeze_id":%q}`, f.ID))
	reclosed := a.yearOf(t, 2008).ClosedSeq
	a.waitViews(t, reclosed)
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		if got := keptClosings(t, e.l.Store); !slices.Contains(got, fmt.Sprintf("closed-%020d", reclosed)) {
			return fmt.Errorf("views kept at %v, none at the new closing %d", got, reclosed)
		}
		return nil
	})
	before := want[reads[0].path]
	reads[0].through, reads[1].through = reclosed, reclosed
	truth()
	if want[reads[0].path] == before {
		t.Errorf("GET %s: the same after a payment of 2008 was recorded in the reopened year", reads[0].path)
	}
	check("2008 closed again", fromKept, func() {})

	// Views kept under a closing's name whose digest is not the standing closing's (a stream
	// replaced by hand, a closing of another stream at the same sequence) are not used: 2008's
	// reads fold from 2006's closing, and the replay keeps 2007's again, which the next uses.
	mctx, mcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer mcancel()
	at2007 := kept[1]
	info, err := obs.GetInfo(mctx, at2007)
	if err != nil {
		t.Fatal(err)
	}
	meta := maps.Clone(info.Metadata)
	meta["digest"] = "0000"
	if err := obs.UpdateMeta(mctx, at2007, jetstream.ObjectMeta{Name: at2007, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	check("views kept of another closing at 2007's sequence", func(k int) uint64 {
		if k == 0 {
			return reads[0].through - closed[2006]
		}
		return fromKept(k)
	}, func() {})
	if info, err := obs.GetInfo(mctx, at2007); err != nil || info.Metadata["digest"] != a.yearOf(t, 2007).Digest {
		t.Errorf("the views at 2007's closing were not kept again by the replay that passed it: %v %v", info, err)
	}
	check("2007's closing kept again", fromKept, func() {})

	// A replay makes room for itself under the server's write timeout: with a timeout passed
	// before any handler runs, a read that replays answers, one that does not cannot.
	runner := startRunnerWith(t, e.l.Store, projections.RunnerConfig{NoSnapshots: true})
	srv := httptest.NewUnstartedServer(api.New(api.Config{Store: e.l.Store, Runner: runner, Tokens: e.tokens,
		Today: func() domain.Date { return acceptToday }}))
	srv.Config.WriteTimeout = time.Nanosecond
	srv.Start()
	defer srv.Close()
	get := func(path string) (int, error) {
		hr, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Authorization", "Bearer "+tokAdmin)
		res, err := srv.Client().Do(hr)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		_, err = io.ReadAll(res.Body)
		return res.StatusCode, err
	}
	// The second worklist is answered from the replay the first made, with no replay of its own.
	for _, path := range []string{"/v1/counties?as_of=2007-06-30", "/v1/worklists?as_of=2006-10-31", "/v1/worklists?as_of=2006-10-31"} {
		if code, err := get(path); code != http.StatusOK || err != nil {
			t.Errorf("GET %s, replaying closed books under a write timeout already passed: %d %v, want 200", path, code, err)
		}
	}
	if code, err := get("/v1/counties"); err == nil {
		t.Errorf("a live read answered %d under a write timeout already passed: the check above shows nothing", code)
	}
}

// Reopening a year replaces the live views by those kept at the closing of the year before,
// folded on through the reopening: its cost is that of the events since that closing, where
// folding the reopening into the live views folded every compacted payer again from all its
// events. The views answer what views folded from sequence 1 answer, after the reopening and
// after a payment recorded in the reopened year.
func TestAReopeningFoldsFromTheClosingBeforeIt(t *testing.T) {
	ops := acceptOps()
	seen := &pastReplays{}
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), today: acceptToday}
	e.loadFreezeTokens()
	refolds := &countedEvents{EventSource: projections.StoreSource{Store: e.l.Store}}
	e.runner = startRunnerWith(t, e.l.Store, projections.RunnerConfig{Observe: seen, Events: refolds, SnapshotEvery: 1 << 40, SnapshotIdle: 24 * time.Hour})
	e.serve()
	a := &acceptLedger{env: e, ids: make([]string, acceptPayers)}
	closed := map[int]uint64{}
	i := 0
	for _, year := range []int{2006, 2007} {
		i = a.run(t, ops, i, fmt.Sprintf("%d-01-31", year+1))
		f := a.freeze(t, tokAssessor, fmt.Sprintf("%d-12-31", year), 0)
		a.waitViews(t, f.Seq)
		a.closeYear(t, tokAssessor, fmt.Sprint(year), fmt.Sprintf(`{"freeze_id":%q}`, f.ID))
		closed[year] = a.yearOf(t, year).ClosedSeq
	}
	a.waitViews(t, closed[2007])
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		if got := keptClosings(t, e.l.Store); !slices.Contains(got, fmt.Sprintf("closed-%020d", closed[2006])) {
			return fmt.Errorf("views kept at %v, none at 2006's closing %d", got, closed[2006])
		}
		return nil
	})
	live := a.runner
	paths := a.figureReads()
	// compare checks the live views' answers against those of views folded from sequence 1.
	compare := func(when string) {
		t.Helper()
		got := a.snapshot(t, paths)
		a.runner = startRunnerWith(t, e.l.Store, projections.RunnerConfig{NoSnapshots: true})
		a.serve()
		sameReads(t, when, got, a.snapshot(t, paths))
		a.runner = live
		a.serve()
	}
	seen.take()
	refolds.n.Store(0)
	r := a.post(t, "/v1/years/2007/reopen", tokAdmin, `{"reason":"补录一笔缴费"}`)
	if r.Status != http.StatusCreated {
		t.Fatalf("reopen 2007: %s", r)
	}
	reopened := uint64(r.num("seq"))
	a.waitViews(t, reopened)
	if got, want := seen.take(), []uint64{reopened - 1 - closed[2006]}; !slices.Equal(got, want) {
		t.Errorf("reopening 2007 folded %v events from a closing, want %v: those from 2006's closing through the reopening", got, want)
	}
	if n := refolds.n.Load(); n != 0 {
		t.Errorf("reopening 2007 folded %d payers again from their events, want none: the views it folded from are compacted only through 2006", n)
	}
	compare("2007 reopened")
	late := a.mustWrite(t, empPath(a.ids[0], "payments"), tokAdmin, paymentBody("late-2007", 123400, "2007-05-20"))
	a.waitViews(t, uint64(late.num("seq")))
	compare("a payment of 2007 recorded once it was reopened")

	// Closed again, 2007 has its views kept at the new closing, and those at the first deleted.
	f := a.freeze(t, tokAssessor, "2007-12-31", 0)
	a.waitViews(t, f.Seq)
	a.closeYear(t, tokAssessor, "2007", fmt.Sprintf(`{"freeze_id":%q}`, f.ID))
	reclosed := a.yearOf(t, 2007).ClosedSeq
	want := []string{fmt.Sprintf("closed-%020d", closed[2006]), fmt.Sprintf("closed-%020d", reclosed)}
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		if got := keptClosings(t, e.l.Store); !slices.Equal(got, want) {
			return fmt.Errorf("views kept at %v, want %v: 2006's, and 2007's at its new closing only", got, want)
		}
		return nil
	})
}
