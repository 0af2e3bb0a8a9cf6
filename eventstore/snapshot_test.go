package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// snapshotConfig is a store keeping its state in dir, snapshotting only when asked (and at
// Close), logging to log.
func snapshotConfig(dir string, log *storetest.SyncBuffer) eventstore.Config {
	cfg := eventstore.Config{Dir: dir, SnapshotEvery: -1}
	if log != nil {
		cfg.Log = slog.New(slog.NewTextHandler(log, nil))
	}
	return cfg
}

// twoSurveys is a command deciding two events, as a command may: both carry its key.
type twoSurveys struct{ domain.RecordSurvey }

func (c *twoSurveys) Decide(e *domain.Employer, ctx domain.Context) ([]domain.Payload, error) {
	p, err := c.RecordSurvey.Decide(e, ctx)
	if err != nil {
		return nil, err
	}
	return append(p, p...), nil
}

// keyed gives a request an idempotency key and a body hash.
func keyed(req eventstore.Request, key, body string) eventstore.Request {
	req.IdempotencyKey, req.BodyHash = key, body
	return req
}

// ledgerWork appends to a store what a ledger holds: employers with 1 to 20 events (archive
// chunks and tails), keyed commands (one of two events), a freeze, a year's closing and a
// reference change. It returns the employers and the keyed requests with their results.
type ledgerWork struct {
	ids     []string
	keyed   []eventstore.Request
	results []eventstore.Result
}

func (w *ledgerWork) add(t *testing.T, st *eventstore.Store, round int) {
	t.Helper()
	ctx := context.Background()
	for i := range 6 {
		n := 1000*round + i
		id := mustExecute(t, st, register(orgCode(8000+n), "360702")).EmployerID
		w.ids = append(w.ids, id)
		for k := range 3 * i {
			mustExecute(t, st, payment(id, fmt.Sprintf("P%d-%d", n, k), int64(100+k)))
		}
		req := keyed(payment(id, fmt.Sprintf("K%d", n), 50), fmt.Sprintf("key-%d", n), fmt.Sprintf("body-%d", n))
		if i == 0 {
			req = keyed(eventstore.Request{EmployerID: id, Today: today, Actor: "test",
				Command: &twoSurveys{domain.RecordSurvey{AsOf: "2006-05-01", Workforce: "12"}}}, fmt.Sprintf("two-%d", n), "two")
		}
		res := mustExecute(t, st, req)
		w.keyed, w.results = append(w.keyed, req), append(w.results, res)
	}
	f, _, err := st.AppendFreeze(ctx, eventstore.FreezeOrder{Actor: "test", IdempotencyKey: fmt.Sprint("freeze-", round), BodyHash: "f"},
		func() (domain.FreezeMade, error) {
			return domain.FreezeMade{ID: fmt.Sprint("f", round), ThroughSeq: st.Applied(), ValidThrough: domain.MustDate("2005-12-31"),
				ChainHead: "h", CodeVersion: "test", Digest: fmt.Sprint("d", round), Figures: []byte(`{"n":1}`)}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	var p domain.Payload = domain.YearClosed{Year: 2002 + round/2, FreezeID: f.ID, Digest: f.Digest} // the closed books one run of years
	if round%2 == 1 {
		wage := domain.DefaultAverageWage
		wage.MonthlyFen += domain.Fen(round)
		p = domain.AverageWageSet{Wage: wage}
	}
	if _, err := st.ExecuteRef(ctx, eventstore.RefRequest{Payload: p, On: domain.MustDate("2006-06-01"), Actor: "test"}); err != nil {
		t.Fatal(err)
	}
}

// checkRetries retries every keyed request: the same body answers the first result, another
// body is refused.
func (w *ledgerWork) checkRetries(t *testing.T, st *eventstore.Store) {
	t.Helper()
	for i, req := range w.keyed {
		res, err := st.Execute(context.Background(), req)
		want := w.results[i]
		want.Duplicate = true
		if err != nil || !reflect.DeepEqual(res, want) {
			t.Fatalf("retry of %s: %+v %v, want the first result %+v", req.IdempotencyKey, res, err, want)
		}
		other := req
		other.BodyHash += "-other"
		_, err = st.Execute(context.Background(), other)
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != domain.KindIdempotencyMismatch {
			t.Fatalf("%s with another body: %v, want an idempotency mismatch", req.IdempotencyKey, err)
		}
	}
}

// sameAsReplay fails unless the ledger's store knows what a store with no folder, folding the
// whole stream, knows.
func sameAsReplay(t *testing.T, l *storetest.Ledger, ids []string) {
	t.Helper()
	st, err := eventstore.Open(context.Background(), l.Embedded.Conn, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sameState(t, l.Store, st, ids)
}

// sameState fails unless got knows what want knows: every employer's state and history, the
// years, freezes, reference data and verification.
func sameState(t *testing.T, got, want *eventstore.Store, ids []string) {
	t.Helper()
	ctx := context.Background()
	gotIDs, wantIDs := got.EmployerIDs(), want.EmployerIDs()
	slices.Sort(gotIDs)
	slices.Sort(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Fatalf("%d employers, want %d", len(gotIDs), len(wantIDs))
	}
	for _, id := range ids {
		ge, _ := got.Employer(id)
		we, _ := want.Employer(id)
		if !reflect.DeepEqual(ge, we) {
			t.Fatalf("employer %s:\n%+v\nwant\n%+v", id, ge, we)
		}
		gh, err := got.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		wh, err := want.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(gh) != len(wh) {
			t.Fatalf("employer %s: %d events in its history, want %d", id, len(gh), len(wh))
		}
		for i := range gh {
			a, b := gh[i], wh[i]
			if a.Seq != b.Seq || a.Hash != b.Hash || a.RecordedAt != b.RecordedAt || !bytes.Equal(a.Data, b.Data) || a.ChainOK != b.ChainOK {
				t.Fatalf("employer %s event %d: seq %d chain %v, want seq %d chain %v (or its bytes differ)", id, i, a.Seq, a.ChainOK, b.Seq, b.ChainOK)
			}
		}
	}
	through := domain.MustDate("2007-12-31")
	if g, w := got.Years(through), want.Years(through); !reflect.DeepEqual(g, w) {
		t.Fatalf("years %+v, want %+v", g, w)
	}
	if g, w := got.Freezes(), want.Freezes(); !reflect.DeepEqual(g, w) {
		t.Fatalf("freezes %+v, want %+v", g, w)
	}
	if g, w := got.Reference(), want.Reference(); !reflect.DeepEqual(g, w) {
		t.Fatalf("reference data differs:\n%+v\nwant\n%+v", g, w)
	}
	gv, err := got.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wv, err := want.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gv, wv) {
		t.Fatalf("verify %+v, want %+v", gv, wv)
	}
}

// crashAndRestart stops the store as a killed process would (no snapshot at close) and starts
// the server and the store again.
func crashAndRestart(t *testing.T, l *storetest.Ledger) {
	t.Helper()
	l.Store.Crash()
	l.Store = nil
	l.Restart(t)
}

func TestARestartFromASnapshotFoldsOnlyTheEventsAfterItAndKnowsWhatAFullReplayKnows(t *testing.T) {
	for _, c := range []struct {
		name  string
		crash bool // or Close, which snapshots again
	}{{"after a crash", true}, {"after Close", false}} {
		t.Run(c.name, func(t *testing.T) {
			l := storetest.Start(t, snapshotConfig(t.TempDir(), nil))
			var w ledgerWork
			w.add(t, l.Store, 0)
			at := l.Store.SnapshotNow()
			w.add(t, l.Store, 1)
			// An event another replica appends is folded by decoding it, not as an own append.
			other, err := eventstore.Open(context.Background(), l.Embedded.Conn, eventstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			w.add(t, other, 2)
			other.Close()
			if err := l.Store.CatchUp(context.Background()); err != nil {
				t.Fatal(err)
			}
			last := l.MessageCount(t)
			if c.crash {
				crashAndRestart(t, l)
			} else {
				l.Restart(t)
				at = last
			}
			if got := l.Store.Folded(); got != last-at {
				t.Fatalf("the restart folded %d messages, want the %d after the snapshot at %d", got, last-at, at)
			}
			sameAsReplay(t, l, w.ids)
			w.checkRetries(t, l.Store)
		})
	}
}

func TestIdempotencyKeysAnswerTheFirstResultFromRunsMergedAndReadAfterARestart(t *testing.T) {
	dir := t.TempDir()
	l := storetest.Start(t, snapshotConfig(dir, nil))
	l.Store.SetKeyMemtable(3)
	var w ledgerWork
	for round := range 4 {
		w.add(t, l.Store, round)
	}
	storetest.CheckFor(t, 20*time.Second, 5*time.Millisecond, func() error {
		if mem, runs, files := l.Store.KeyCounts(); mem > 3 || runs == 0 || files > 6 {
			return fmt.Errorf("%d keys in memory, %d in %d runs: want at most 3, and runs merged", mem, runs, files)
		}
		return nil
	})
	w.checkRetries(t, l.Store)
	l.Restart(t)
	if mem, runs, _ := l.Store.KeyCounts(); mem != 0 || runs < uint64(len(w.keyed)) {
		t.Fatalf("after a restart %d keys in memory, %d in runs; want none and at least %d", mem, runs, len(w.keyed))
	}
	w.checkRetries(t, l.Store)
	if n := l.MessageCount(t); l.Store.Folded() != 0 {
		t.Fatalf("a restart after Close folded %d of %d messages, want none", l.Store.Folded(), n)
	}
	// Without the filter saved beside the runs, a start makes it again from their keys.
	l.Stop()
	if err := os.Remove(filepath.Join(dir, "keys.filter")); err != nil {
		t.Fatal(err)
	}
	l.Restart(t)
	if l.Store.Folded() != 0 {
		t.Fatalf("a restart without the key filter folded %d messages, want none", l.Store.Folded())
	}
	w.checkRetries(t, l.Store)
}

// A key's command had two events; the memtable is written as a run after each, so the key's
// first and last sequences come from two runs, merged.
func TestAKeyWhoseEventsLandInTwoRunsAnswersItsFirstAndLastSequence(t *testing.T) {
	l := storetest.Start(t, snapshotConfig(t.TempDir(), nil))
	l.Store.SetKeyMemtable(1)
	id := mustExecute(t, l.Store, register(orgCode(9100), "360702")).EmployerID
	req := keyed(eventstore.Request{EmployerID: id, Today: today, Actor: "test",
		Command: &twoSurveys{domain.RecordSurvey{AsOf: "2006-05-01", Workforce: "12"}}}, "two", "body")
	first := mustExecute(t, l.Store, req)
	if len(first.EventIDs) != 2 {
		t.Fatalf("%d events, want 2", len(first.EventIDs))
	}
	l.Restart(t)
	res := mustExecute(t, l.Store, req)
	if !res.Duplicate || res.Seq != first.Seq || !slices.Equal(res.EventIDs, first.EventIDs) {
		t.Fatalf("retry: %+v, want %+v as a duplicate", res, first)
	}
}

// Quiet employers' tails pin old tail segments; they are sealed as short chunks and the old
// segments deleted, and every history is the same, before and after a crash and a restart, while
// employers go on receiving events.
func TestTailsOfQuietEmployersAreSealedAndHistoriesStayTheSame(t *testing.T) {
	dir := t.TempDir()
	cfg := snapshotConfig(dir, nil)
	cfg.EmployerCache = 1
	l := storetest.Start(t, cfg)
	l.Store.SetTailSegmentSize(4 << 10)
	var w ledgerWork
	w.add(t, l.Store, 0)
	for i, id := range w.ids {
		for k := range 9 {
			mustExecute(t, l.Store, payment(id, fmt.Sprintf("busy-%d-%d", i, k), 7))
		}
	}
	if err := l.Store.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Store.SealNow()
	l.Store.SnapshotNow()
	if n := len(tailSegments(t, dir)); n > 5 {
		t.Fatalf("%d tail segments after a snapshot, want at most 5", n)
	}
	sameAsReplay(t, l, w.ids)
	w.add(t, l.Store, 1)
	crashAndRestart(t, l)
	l.Store.SetTailSegmentSize(4 << 10)
	for i, id := range w.ids {
		mustExecute(t, l.Store, payment(id, fmt.Sprintf("after-%d", i), 7))
	}
	sameAsReplay(t, l, w.ids)
	l.Restart(t)
	sameAsReplay(t, l, w.ids)
}

func tailSegments(t *testing.T, dir string) []string {
	return filesIn(t, dir, func(name string) bool { return strings.HasPrefix(name, "tails-") })
}

// filesIn lists the names in dir that keep accepts.
func filesIn(t *testing.T, dir string, keep func(name string) bool) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if keep(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestTheStoreSnapshotsEveryNEventsAndWhenIdle(t *testing.T) {
	for _, c := range []struct {
		name  string
		every int
		idle  time.Duration
	}{{"every 25 events", 25, time.Hour}, {"when idle", -1, 50 * time.Millisecond}} {
		t.Run(c.name, func(t *testing.T) {
			defer eventstore.SetSnapshotIdle(c.idle)()
			cfg := snapshotConfig(t.TempDir(), nil)
			cfg.SnapshotEvery = c.every
			l := storetest.Start(t, cfg)
			var w ledgerWork
			w.add(t, l.Store, 0)
			last := l.MessageCount(t)
			storetest.CheckFor(t, 20*time.Second, 5*time.Millisecond, func() error {
				if got := l.Store.SnapshotSeq(); got+uint64(max(c.every, 1)) <= last {
					return fmt.Errorf("last snapshot at %d of %d events", got, last)
				}
				return nil
			})
			at := l.Store.SnapshotSeq()
			crashAndRestart(t, l)
			if got := l.Store.Folded(); got != last-at {
				t.Fatalf("the restart folded %d messages, want the %d after the snapshot at %d", got, last-at, at)
			}
			sameAsReplay(t, l, w.ids)
		})
	}
}

func TestClosingTwiceKeepsTheSnapshotTheFirstCloseWrote(t *testing.T) {
	l := storetest.Start(t, snapshotConfig(t.TempDir(), nil))
	var w ledgerWork
	w.add(t, l.Store, 0)
	if err := l.Store.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Store.Close()
	l.Restart(t) // closes the store again, then opens it
	if l.Store.Folded() != 0 {
		t.Fatalf("the start after two closes folded %d messages, want none", l.Store.Folded())
	}
	sameAsReplay(t, l, w.ids)
}
