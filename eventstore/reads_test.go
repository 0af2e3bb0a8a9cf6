package eventstore

import (
	"context"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// lagAt makes s's direct gets answer as a replica of the stream that has applied nothing after
// sequence at: "not found" for later messages.
func lagAt(s *Store, at uint64) {
	s.lagDirect = func(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error) {
		raw, err := s.stream.GetMsg(ctx, seq, opts...)
		if err == nil && raw.Sequence > at {
			return nil, jetstream.ErrMsgNotFound
		}
		return raw, err
	}
}

// On a cluster any replica of the stream answers a direct get, also one that has not applied the
// newest messages yet. A retry on another API replica reads the first attempt's events back: it
// must find them even when the replica answering its direct gets lags.
func TestARetryReadsTheFirstAttemptBackThroughALaggingReplica(t *testing.T) {
	first, second, id, _ := replicaPair(t)
	lagAt(second, second.Applied())
	done := retriedOnTheOther(t, first, second, id, "k-5")
	// Without an archive, histories are read from the stream.
	third, err := Open(context.Background(), first.nc, Config{NoArchive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	lagAt(third, done.Seq-1)
	h, err := third.History(context.Background(), id)
	if err != nil || len(h) != 2 || h[1].Seq != done.Seq {
		t.Fatalf("history read through a lagging replica: %d events, %v; want the registration and the payment", len(h), err)
	}
}

// Even the stream's leader can answer "not found" for a message the store has folded: it applies
// what was committed on its own schedule, and the replica that delivered the message to the
// follower may be ahead of it. A retry on another API replica asks the leader again until it has
// the first attempt's events.
func TestARetryReadsTheFirstAttemptBackWhenTheLeaderHasNotAppliedItYet(t *testing.T) {
	first, second, id, _ := replicaPair(t)
	lagAt(second, second.Applied())
	const behind = 3
	var asked atomic.Int32
	second.leaderBehind = func() bool { return asked.Add(1) <= behind }
	retriedOnTheOther(t, first, second, id, "k-6")
	if n := asked.Load(); n <= behind {
		t.Fatalf("the leader was asked %d times, want more than the %d it answered \"not found\"", n, behind)
	}
}

// retriedOnTheOther executes a payment with key on first, then again on second once second has
// folded it, and checks that second answers it as a duplicate of the first result, which it
// returns.
func retriedOnTheOther(t *testing.T, first, second *Store, id, key string) Result {
	t.Helper()
	done, err := first.Execute(context.Background(), keyedPayment(id, key, "same"))
	if err != nil {
		t.Fatal(err)
	}
	if err := second.WaitApplied(context.Background(), done.Seq); err != nil {
		t.Fatal(err)
	}
	res, err := second.Execute(context.Background(), keyedPayment(id, key, "same"))
	wantDuplicateOf(t, res, err, done)
	return done
}

// The reference data a document is computed with is read as the store folded it: also through a
// replica that lags and a leader that has not applied the newest reference event yet, where a
// consumer placed on a lagging replica would have ended before it without a word.
func TestReferenceAtReadsEveryFoldedReferenceEventThroughALaggingReplica(t *testing.T) {
	ctx := context.Background()
	first, second, _, _ := replicaPair(t)
	before := second.Applied()
	wage := domain.DefaultAverageWage
	wage.MonthlyFen += 7
	res, err := first.ExecuteRef(ctx, RefRequest{Payload: domain.AverageWageSet{Wage: wage}, On: domain.MustDate("2006-06-01"), Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.WaitApplied(ctx, res.Seq); err != nil {
		t.Fatal(err)
	}
	lagAt(second, before)
	var asked atomic.Int32
	second.leaderBehind = func() bool { return asked.Add(1) <= 2 }
	for _, c := range []struct {
		seq  uint64
		want bool
	}{{before, false}, {res.Seq, true}} {
		ref, err := second.ReferenceAt(ctx, c.seq)
		if err != nil {
			t.Fatalf("at %d: %v", c.seq, err)
		}
		if got := slices.Contains(ref.AverageWages, wage); got != c.want {
			t.Fatalf("at %d: the new average wage is in the reference data: %v, want %v", c.seq, got, c.want)
		}
		want, err := referenceAt(ctx, first.stream, first.sub, c.seq)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ref, want) {
			t.Fatalf("at %d: the reference data differs from the stream's read on a replica that does not lag", c.seq)
		}
	}
	if n := asked.Load(); n <= 2 {
		t.Fatalf("the leader was asked %d times for the event the lagging replica lacks, want more than the 2 it answered \"not found\"", n)
	}
}

// The province reads a city's reference data through an ordered consumer, which a cluster may
// place on a replica that lags: the read must go on to what the stream's leader holds, not stop
// where that replica's count of pending messages does.
func TestACitysReferenceDataIsReadWholeThroughAConsumerOnALaggingReplica(t *testing.T) {
	ctx := context.Background()
	s, emb := testStore(t)
	wage := domain.DefaultAverageWage
	wage.MonthlyFen += 7
	res, err := s.ExecuteRef(ctx, RefRequest{Payload: domain.AverageWageSet{Wage: wage}, On: domain.MustDate("2006-06-01"), Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.ReferenceAt(ctx, res.Seq)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(emb.Conn)
	if err != nil {
		t.Fatal(err)
	}
	city, err := OpenCityLedger(ctx, js, s.cfg.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	defer func(counted func(jetstream.Consumer) uint64) { consumerPending = counted }(consumerPending)
	asked := 0
	consumerPending = func(jetstream.Consumer) uint64 { asked++; return 1 }
	got, err := city.ReferenceAt(ctx, res.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if asked == 0 {
		t.Fatal("the read never asked its consumer for the messages pending")
	}
	if !slices.Contains(got.AverageWages, wage) || !reflect.DeepEqual(got, want) {
		t.Fatalf("the city's reference data read through a consumer that counts 1 pending differs from the ledger's own (the new average wage in it: %v)", slices.Contains(got.AverageWages, wage))
	}
}

// A node of a cluster just formed may answer a direct get with "no responders" until the
// stream's replicas are routed to it: a start reading the stream's last message (readableEnd)
// asks again rather than fail (a replica failed so in CI, opening right after another).
func TestAStartReadsTheLastMessageAgainWhileNoOneResponds(t *testing.T) {
	s, _ := testStore(t)
	last := s.Applied()
	var asked atomic.Int32
	s.lagDirect = func(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error) {
		if asked.Add(1) <= 3 {
			return nil, nats.ErrNoResponders
		}
		return s.stream.GetMsg(ctx, seq, opts...)
	}
	end, lost, err := s.readableEnd(context.Background(), last)
	if err != nil || end != last || lost.count() != 0 {
		t.Fatalf("readableEnd after three unanswered reads: %d, %s, %v; want %d, nothing lost", end, lost.String(), err, last)
	}
	if n := asked.Load(); n != 4 {
		t.Errorf("the last message was read %d times, want 4", n)
	}
}
