package eventstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
)

// heldAppends stands in for JetStream on subjects outside the stream: it hands the test every
// message published there and answers only when the test says so.
func heldAppends(t *testing.T, nc *nats.Conn) <-chan *nats.Msg {
	t.Helper()
	got := make(chan *nats.Msg, 64)
	sub, err := nc.Subscribe("kz.held.>", func(m *nats.Msg) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return got
}

func next(t *testing.T, got <-chan *nats.Msg) *nats.Msg {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no message reached the stand-in for JetStream")
		return nil
	}
}

func ack(t *testing.T, m *nats.Msg, seq uint64) {
	t.Helper()
	if err := m.Respond(fmt.Appendf(nil, `{"stream":"LEDGER","seq":%d}`, seq)); err != nil {
		t.Fatal(err)
	}
}

// sendsNextOnly submits a unit on kz.held.c and checks it is the next message c sends (no
// withdrawn unit leaves before it), acknowledged.
func sendsNextOnly(t *testing.T, c *committer, got <-chan *nats.Msg) {
	t.Helper()
	ch := submitAsync(c, context.Background(), &unit{subject: "kz.held.c", msgs: []*nats.Msg{msg("kz.held.c", "c")}})
	if m := next(t, got); m.Subject != "kz.held.c" {
		t.Fatalf("%s was sent after its writer was answered", m.Subject)
	} else {
		ack(t, m, 4243)
	}
	if r := result(t, ch); r.err != nil || r.seq != 4243 {
		t.Fatalf("the next unit: %d %v", r.seq, r.err)
	}
}

type submitted struct {
	seq uint64
	err error
}

func submitAsync(c *committer, ctx context.Context, u *unit) <-chan submitted {
	out := make(chan submitted, 1)
	go func() {
		seq, err := c.submit(ctx, u)
		out <- submitted{seq, err}
	}()
	return out
}

func result(t *testing.T, ch <-chan submitted) submitted {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("a writer was not answered")
		return submitted{}
	}
}

// A writer whose context ends while its unit waits behind a commit in flight is told that
// nothing was recorded, and its unit is never sent; the writer of the unit in flight is told
// the outcome is unknown. A publish that times out unacknowledged is unknown too, and one that
// no stream takes is not recorded.
func TestAWriterAnsweredBeforeItsUnitIsSentIsNotRecordedAndItsUnitNeverSent(t *testing.T) {
	s, emb := testStore(t)
	got := heldAppends(t, emb.Conn)

	ctxA, cancelA := context.WithCancel(context.Background())
	a := submitAsync(s.com, ctxA, &unit{subject: "kz.held.a", msgs: []*nats.Msg{msg("kz.held.a", "a")}})
	heldA := next(t, got) // in flight: one batch at a time, so the next unit waits

	ctxB, cancelB := context.WithCancel(context.Background())
	b := &unit{subject: "kz.held.b", msgs: []*nats.Msg{msg("kz.held.b", "b")}}
	if err := s.com.enqueue(ctxB, b); err != nil {
		t.Fatal(err)
	}
	cancelB()
	if r := s.com.outcome(ctxB, b); !errors.Is(r.err, ErrNotRecorded) || !errors.Is(r.err, context.Canceled) || errors.Is(r.err, ErrOutcomeUnknown) {
		t.Fatalf("a queued unit whose writer gave up: %v, want ErrNotRecorded", r.err)
	}
	cancelA()
	if r := result(t, a); !errors.Is(r.err, ErrOutcomeUnknown) || errors.Is(r.err, ErrNotRecorded) {
		t.Fatalf("a unit in flight whose writer gave up: %v, want ErrOutcomeUnknown", r.err)
	}

	// The committer goes on; the withdrawn unit would leave before one queued after it.
	ack(t, heldA, 4242)
	sendsNextOnly(t, s.com, got)

	// No acknowledgement within the publish timeout: unknown. No stream at all: not recorded.
	short := newCommitter(emb.Conn, 10, 1, 50*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	short.start(ctx)
	defer func() { cancel(); short.wait() }()
	if _, err := short.submit(context.Background(), &unit{subject: "kz.held.d", msgs: []*nats.Msg{msg("kz.held.d", "d")}}); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("an unacknowledged publish: %v, want ErrOutcomeUnknown", err)
	}
	next(t, got)
	// The server's "no responders" comes whenever the machine gets to it: a committer that would
	// wait a minute hears it, as one with 50 ms may not on a busy machine.
	patient := newCommitter(emb.Conn, 10, 1, time.Minute)
	pctx, pcancel := context.WithCancel(context.Background())
	patient.start(pctx)
	defer func() { pcancel(); patient.wait() }()
	if _, err := patient.submit(context.Background(), &unit{subject: "kz.nobody", msgs: []*nats.Msg{msg("kz.nobody", "e")}}); !errors.Is(err, ErrNotRecorded) {
		t.Fatalf("a publish no stream took: %v, want ErrNotRecorded", err)
	}
}

// A settling writer (a hold's own append) whose context ends while its unit is in flight is
// answered the unit's outcome once the batch has one, not that it is unknown; one whose context
// ends while its unit is queued is not recorded, and its unit is never sent.
func TestASettlingWriterWaitsForItsUnitInFlight(t *testing.T) {
	s, emb := testStore(t)
	got := heldAppends(t, emb.Conn)

	ctxA, cancelA := context.WithCancel(context.Background())
	a := submitAsync(s.com, ctxA, &unit{subject: "kz.held.a", msgs: []*nats.Msg{msg("kz.held.a", "a")}, settles: true})
	heldA := next(t, got)

	ctxB, cancelB := context.WithCancel(context.Background())
	b := &unit{subject: "kz.held.b", msgs: []*nats.Msg{msg("kz.held.b", "b")}, settles: true}
	if err := s.com.enqueue(ctxB, b); err != nil {
		t.Fatal(err)
	}
	cancelB()
	if r := s.com.outcome(ctxB, b); !errors.Is(r.err, ErrNotRecorded) || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("a queued settling unit whose writer gave up: %v, want ErrNotRecorded", r.err)
	}
	cancelA()
	ack(t, heldA, 4242)
	if r := result(t, a); r.err != nil || r.seq != 4242 {
		t.Fatalf("a settling unit in flight whose writer's context ended: %d %v, want its acknowledgement 4242", r.seq, r.err)
	}
	sendsNextOnly(t, s.com, got)
}

// Closing the store answers every writer whose unit is queued, at once, with an error that says
// nothing was recorded; Close returns only once the batch in flight has its outcome.
func TestCloseAnswersQueuedWritersAndWaitsForTheBatchInFlight(t *testing.T) {
	emb, err := StartEmbedded(EmbeddedConfig{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	// One batch in flight, so that the units after it wait for its slot.
	s, err := Open(context.Background(), emb.Conn, Config{Timeout: time.Minute, BatchesInFlight: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := heldAppends(t, emb.Conn)
	before := lastSeq(t, s)
	flying := submitAsync(s.com, context.Background(), &unit{subject: "kz.held.x", msgs: []*nats.Msg{msg("kz.held.x", "x")}})
	held := next(t, got)

	var queued []<-chan submitted
	for i := range 5 {
		subject := fmt.Sprintf("ledger.x.q%d", i)
		queued = append(queued, submitAsync(s.com, context.Background(), &unit{subject: subject, msgs: []*nats.Msg{msg(subject, "q")}}))
	}
	bulk := make(chan []BulkResult, 1)
	go func() {
		bulk <- s.ExecuteBulk(context.Background(), []Request{{Create: true, Today: replicaToday, Actor: "test", Command: &domain.RegisterEmployer{
			Name: "单位", County: "360702", OrgCode: "10000004-0", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}}})
	}()
	// Six units wait: one taken by the committer, which waits for a free slot, five in its queue.
	deadline := time.Now().Add(20 * time.Second)
	for len(s.com.queue) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d units queued, want 5", len(s.com.queue))
		}
		time.Sleep(time.Millisecond)
	}

	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	for i, ch := range queued {
		if r := result(t, ch); !errors.Is(r.err, ErrNotRecorded) || !errors.Is(r.err, ErrClosed) {
			t.Fatalf("queued writer %d: %v, want ErrClosed", i, r.err)
		}
	}
	select {
	case res := <-bulk:
		if !errors.Is(res[0].Err, ErrNotRecorded) {
			t.Fatalf("queued bulk writer: %v, want ErrNotRecorded", res[0].Err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the bulk writer was not answered")
	}
	if _, err := s.com.submit(context.Background(), &unit{subject: "ledger.x.late", msgs: []*nats.Msg{msg("ledger.x.late", "l")}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("a write after Close: %v, want ErrClosed", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a batch was in flight")
	default:
	}
	ack(t, held, 4242)
	if r := result(t, flying); r.err != nil || r.seq != 4242 {
		t.Fatalf("the batch in flight: %d %v, want its acknowledgement", r.seq, r.err)
	}
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return after the batch in flight ended")
	}
	n, err := s.stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n.State.LastSeq != before {
		t.Fatalf("queued writes were stored after Close: last sequence %d, want %d", n.State.LastSeq, before)
	}
}
