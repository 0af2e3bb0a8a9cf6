package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
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

// A figure as of a date within the closed books is folded from the views kept at the closing
// of the year before the one it needs, not from the stream's start: its cost is that of the
// years it reads, not of every year before them. The views are kept by the first replay that
// passes a closing, and the answers from them are those of a replay from sequence 1.
func TestAReadOfAClosedYearFoldsFromTheClosingBefore(t *testing.T) {
	ops := acceptOps()
	seen := &pastReplays{}
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), today: acceptToday}
	e.loadFreezeTokens()
	e.runner = startRunnerWith(t, e.l.Store, projections.RunnerConfig{Observe: seen})
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

	reads := []struct {
		path     string
		first    uint64 // events the first read folds: every one through the closing
		from     uint64 // the closing a later read folds from
		through  uint64
		whyFirst string
	}{
		{"/v1/counties?as_of=2008-06-30", closed[2008], closed[2007], closed[2008], "keeps the views at 2007's closing"},
		// A period of 2007 needs views compacted only through 2006: 2007's are too compacted.
		{"/v1/counties?as_of=2008-06-30&period=2007-03", closed[2008], closed[2006], closed[2008], "no views kept at 2006's closing yet"},
		{"/v1/counties?as_of=2007-06-30", closed[2007], closed[2006], closed[2007], "keeps the views at 2006's closing"},
		{"/v1/counties?as_of=2006-06-30", closed[2006], 0, closed[2006], "the first year folds from the start"},
	}
	first := map[string]string{}
	for _, r := range reads {
		for p, body := range a.snapshot(t, []string{r.path}) {
			first[p] = body
		}
		if got := seen.take(); !slices.Equal(got, []uint64{r.first}) {
			t.Errorf("GET %s, first: folded %v events, want [%d] (%s)", r.path, got, r.first, r.whyFirst)
		}
	}

	// A new runner (as after a restart) has no replay of its own to reuse.
	a.runner = startRunnerWith(t, e.l.Store, projections.RunnerConfig{Observe: seen})
	a.serve()
	seen.take()
	for _, r := range reads {
		sameReads(t, "folded from a closing", a.snapshot(t, []string{r.path}), map[string]string{r.path: first[r.path]})
		if got, want := seen.take(), []uint64{r.through - r.from}; !slices.Equal(got, want) {
			t.Errorf("GET %s, again: folded %v events, want %v (from sequence %d, through %d)", r.path, got, want, r.from, r.through)
		}
	}

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
	for _, path := range []string{"/v1/counties?as_of=2007-06-30", "/v1/worklists?as_of=2006-10-31"} {
		if code, err := get(path); code != http.StatusOK || err != nil {
			t.Errorf("GET %s, replaying closed books under a write timeout already passed: %d %v, want 200", path, code, err)
		}
	}
	if code, err := get("/v1/counties"); err == nil {
		t.Errorf("a live read answered %d under a write timeout already passed: the check above shows nothing", code)
	}
}
