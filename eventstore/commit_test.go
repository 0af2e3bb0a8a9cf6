package eventstore

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func testStore(t *testing.T) (*Store, *Embedded) {
	t.Helper()
	emb, err := StartEmbedded(EmbeddedConfig{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), emb.Conn, Config{})
	if err != nil {
		emb.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); emb.Close() })
	return s, emb
}

func msg(subject, data string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = []byte(data)
	return m
}

func lastSeq(t *testing.T, s *Store) uint64 {
	t.Helper()
	n, err := s.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAtomicBatchIsAllOrNothing(t *testing.T) {
	s, _ := testStore(t)
	before := lastSeq(t, s)
	bad := msg("ledger.x.b", "3")
	bad.Header.Set("Nats-Expected-Last-Msg-Id", "x") // refused inside atomic batches
	_, err := s.com.publish([]*unit{
		{subject: "ledger.x.a", msgs: []*nats.Msg{msg("ledger.x.a", "1"), msg("ledger.x.a", "2")}},
		{subject: "ledger.x.b", msgs: []*nats.Msg{bad}},
	}, 3)
	if err == nil {
		t.Fatal("a batch with a refused message committed")
	}
	if got := lastSeq(t, s); got != before {
		t.Fatalf("part of a refused batch was stored: last sequence %d, want %d", got, before)
	}
}

func TestStaleExpectedSequenceFailsTheWholeBatch(t *testing.T) {
	s, _ := testStore(t)
	before := lastSeq(t, s)
	_, err := s.com.publish([]*unit{
		{subject: "ledger.x.a", expected: 0, msgs: []*nats.Msg{msg("ledger.x.a", "1")}},
		{subject: "ledger.x.b", expected: 12345, msgs: []*nats.Msg{msg("ledger.x.b", "2")}},
	}, 2)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale expected sequence: %v, want ErrConflict", err)
	}
	if got := lastSeq(t, s); got != before {
		t.Fatalf("a batch with a stale unit stored messages: %d, want %d", got, before)
	}
}

func TestTwoUnitsForOneSubjectInOneGroupCommitNeverBothPassAStaleSequence(t *testing.T) {
	s, _ := testStore(t)
	for round := range 20 {
		subject := "ledger.x.race" + string(rune('a'+round))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ok, conflicts int
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.com.submit(context.Background(), &unit{subject: subject, expected: 0, msgs: []*nats.Msg{msg(subject, "x"), msg(subject, "y")}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrConflict):
					conflicts++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || conflicts != 3 {
			t.Fatalf("round %d: %d units passed and %d conflicted, want 1 and 3", round, ok, conflicts)
		}
		m, err := s.stream.GetLastMsgForSubject(context.Background(), subject)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := s.stream.Info(context.Background(), jetstream.WithSubjectFilter(subject))
		if info.State.Subjects[subject] != 2 {
			t.Fatalf("subject %s holds %d messages (last %d), want 2", subject, info.State.Subjects[subject], m.Sequence)
		}
	}
}

// A batch goes beside one in flight only when it is full: units that come while a batch is in
// flight gather into one batch, which goes at once when full and otherwise when the one in
// flight ends. (Sent beside it half full, it would wait at the server all the same, and split
// the writers that fill one batch into two, each paying the server's fixed cost of a batch.)
func TestABatchGoesBesideOneInFlightOnlyWhenFull(t *testing.T) {
	c, got := heldCommitter(t, 3, 2)
	// Were a batch to go early, it would go at once.
	c.linger, c.gap = time.Microsecond, time.Microsecond
	ctx := startCommitter(t, c)
	held := func(name string) *unit {
		return &unit{subject: "kz.held." + name, msgs: []*nats.Msg{msg("kz.held."+name, name)}}
	}

	a := submitAsync(c, ctx, held("a"))
	heldA := next(t, got)
	if heldA.Subject != "kz.held.a" || heldA.Header.Get("Nats-Batch-Id") != "" {
		t.Fatalf("the first unit went as %s in batch %q, want kz.held.a alone", heldA.Subject, heldA.Header.Get("Nats-Batch-Id"))
	}

	// Three units fill a batch (of at most 3 messages): it goes while a is in flight.
	full := map[string]<-chan submitted{}
	for _, name := range []string{"b", "c", "d"} {
		full["kz.held."+name] = submitAsync(c, ctx, held(name))
	}
	var batch []*nats.Msg
	for range 3 {
		batch = append(batch, next(t, got))
	}
	id := batch[0].Header.Get("Nats-Batch-Id")
	for i, m := range batch {
		if id == "" || m.Header.Get("Nats-Batch-Id") != id || m.Header.Get("Nats-Batch-Sequence") != strconv.Itoa(i+1) {
			t.Fatalf("message %d of the full batch: %s in batch %q as %q, want one batch of 3 beside the one in flight",
				i+1, m.Subject, m.Header.Get("Nats-Batch-Id"), m.Header.Get("Nats-Batch-Sequence"))
		}
	}
	if err := batch[2].Respond([]byte(`{"stream":"LEDGER","seq":12,"count":3}`)); err != nil {
		t.Fatal(err)
	}
	for i, m := range batch {
		if r := result(t, full[m.Subject]); r.err != nil || r.seq != uint64(10+i) {
			t.Fatalf("%s, message %d of the full batch: %d %v, want %d", m.Subject, i+1, r.seq, r.err, 10+i)
		}
	}

	// One unit is no full batch: it waits for a, and goes when a is answered. (The committer
	// has taken it once the queue is empty; sent early, it would go within a microsecond.)
	e := submitAsync(c, ctx, held("e"))
	for deadline := time.Now().Add(20 * time.Second); len(c.queue) > 0 || len(c.slots) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the committer did not take the unit")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case m := <-got:
		t.Fatalf("%s went beside the batch in flight, half full", m.Subject)
	case <-time.After(100 * time.Millisecond):
	}
	ack(t, heldA, 9)
	if r := result(t, a); r.err != nil || r.seq != 9 {
		t.Fatalf("the unit in flight: %d %v", r.seq, r.err)
	}
	if m := next(t, got); m.Subject != "kz.held.e" {
		t.Fatalf("after the batch in flight ended, %s went, want kz.held.e", m.Subject)
	} else {
		ack(t, m, 13)
	}
	if r := result(t, e); r.err != nil || r.seq != 13 {
		t.Fatalf("the unit that waited: %d %v", r.seq, r.err)
	}
}

// The writers of a stored batch are answered after its events are folded, once for the batch:
// the units that carry events (a writer's Execute) are folded from their first sequences, in
// the batch's order; one without is left to its writer.
func TestABatchIsFoldedOnceBeforeItsWritersAreAnswered(t *testing.T) {
	c, got := heldCommitter(t, 3, 1)
	c.linger, c.gap = time.Minute, time.Minute // the batch goes when full
	var (
		calls   int
		folded  []string
		firsts  []uint64
		results []<-chan submitted
		early   bool
	)
	c.fold = func(us []*unit, fs []uint64) {
		calls++
		for _, u := range us {
			folded = append(folded, u.subject)
		}
		firsts = append(firsts, fs...)
		for _, r := range results {
			early = early || len(r) > 0
		}
	}
	ctx := startCommitter(t, c)
	units := map[string]*unit{}
	byName := map[string]<-chan submitted{}
	for _, name := range []string{"a", "b", "c"} {
		u := &unit{subject: "kz.held." + name, msgs: []*nats.Msg{msg("kz.held."+name, name)}}
		if name != "b" {
			u.evs = []domain.Event{{}}
		}
		units[u.subject] = u
		byName[u.subject] = submitAsync(c, ctx, u)
		results = append(results, byName[u.subject])
	}
	var batch []*nats.Msg
	for range 3 {
		batch = append(batch, next(t, got))
	}
	if err := batch[2].Respond([]byte(`{"stream":"LEDGER","seq":12,"count":3}`)); err != nil {
		t.Fatal(err)
	}
	var wantFolded []string
	var wantFirsts []uint64
	for i, m := range batch {
		if r := result(t, byName[m.Subject]); r.err != nil || r.seq != uint64(10+i) {
			t.Fatalf("%s: %d %v, want %d", m.Subject, r.seq, r.err, 10+i)
		}
		u := units[m.Subject]
		if u.folded != (u.evs != nil) {
			t.Errorf("%s: folded %v, carrying events %v", m.Subject, u.folded, u.evs != nil)
		}
		if u.evs != nil {
			wantFolded, wantFirsts = append(wantFolded, m.Subject), append(wantFirsts, uint64(10+i))
		}
	}
	if calls != 1 || !slices.Equal(folded, wantFolded) || !slices.Equal(firsts, wantFirsts) {
		t.Fatalf("folded %d times: %v from %v, want once: %v from %v", calls, folded, firsts, wantFolded, wantFirsts)
	}
	if early {
		t.Fatal("a writer was answered before its batch was folded")
	}
}

// A stored batch is folded in runs of whole units, each under one hold of the lock, so that
// readers wait for a few hundred events' fold at most, not a bulk batch's thousands.
func TestABatchIsFoldedInRunsOfAFewHundredEventsUnderEachHold(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sizes []int // events of each unit
		want  [][2]int
	}{
		{"no units, no holds", nil, nil},
		{"a concurrent batch of one-event units: one hold", []int{1, 1, 1, 1}, [][2]int{{0, 4}}},
		{"units up to the bound share a hold", []int{foldHoldEvents / 2, foldHoldEvents / 2, 1}, [][2]int{{0, 2}, {2, 3}}},
		{"a unit past the bound is folded whole, alone", []int{1, foldHoldEvents * 3, 1}, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		{"a bulk batch of five-event units", slices.Repeat([]int{5}, 120), [][2]int{{0, 51}, {51, 102}, {102, 120}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var units []*unit
			for _, n := range tc.sizes {
				units = append(units, &unit{evs: make([]domain.Event, n)})
			}
			var got [][2]int
			for start, end := range foldHolds(units) {
				got = append(got, [2]int{start, end})
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("holds %v, want %v", got, tc.want)
			}
		})
	}
}

// heldCommitter is a committer of batches of up to maxMsgs messages, slots of them at once, on
// an embedded server, whose appends on kz.held.> reach the test (got), held until it answers.
func heldCommitter(t *testing.T, maxMsgs, slots int) (*committer, <-chan *nats.Msg) {
	t.Helper()
	emb, err := StartEmbedded(EmbeddedConfig{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	return newCommitter(emb.Conn, maxMsgs, slots, time.Minute), heldAppends(t, emb.Conn)
}

// startCommitter starts c until the test ends, and returns the context its writers submit with.
func startCommitter(t *testing.T, c *committer) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	c.start(ctx)
	t.Cleanup(func() { cancel(); c.wait() })
	return ctx
}
