package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StartBare runs an embedded nats-server holding the ledger's stream as the ledger itself made
// it (configuration and reference data), with no store left open on it: the raw engine's
// baselines run there, with no follower decoding their messages on the same cores.
func StartBare(tb testing.TB, lazy bool) *Ledger {
	tb.Helper()
	l := StartLazy(tb, eventstore.Config{}, lazy)
	stream := l.Store.Stream()
	l.Store.Close()
	l.Store = nil
	js, err := jetstream.New(l.Embedded.Conn)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		tb.Fatal(err)
	}
	// A consumer left behind would be handed every message published.
	for name := range s.ConsumerNames(context.Background()).Name() {
		if err := s.DeleteConsumer(context.Background(), name); err != nil {
			tb.Fatalf("delete the store's consumer %s: %v", name, err)
		}
	}
	return l
}

// Message is a message of the ledger's stream as the ledger published it: its subject, its bytes
// and the headers of its own that the stream keeps (the chain hash; a keyed command's message id).
type Message struct {
	Subject, Hash, MsgID string
	Data                 []byte
}

// Messages returns the messages on employers' subjects in st's stream, in order.
func Messages(tb testing.TB, st *eventstore.Store) []Message {
	tb.Helper()
	ctx := context.Background()
	s, err := st.JetStream().Stream(ctx, st.Stream())
	if err != nil {
		tb.Fatal(err)
	}
	filter := eventstore.EmployerPrefix + ">"
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		tb.Fatal(err)
	}
	total := 0
	for _, n := range info.State.Subjects {
		total += int(n)
	}
	out := make([]Message, 0, total)
	if total == 0 {
		return out
	}
	it := orderedMessages(tb, st, filter)
	defer it.Stop()
	for len(out) < total {
		msg, err := it.Next()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, Message{Subject: msg.Subject(), Hash: msg.Headers().Get(eventstore.HashHeader),
			MsgID: msg.Headers().Get(nats.MsgIdHdr), Data: msg.Data()})
	}
	return out
}

// Renamed returns msgs with each employer's subject replaced by a fresh one, the same for all of
// an employer's messages, and fresh message ids: the same bytes appended as new employers'.
func Renamed(msgs []Message) []Message {
	fresh := map[string]string{}
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		if fresh[m.Subject] == "" {
			fresh[m.Subject] = eventstore.EmployerPrefix + uuid.NewString()
		}
		m.Subject = fresh[m.Subject]
		if m.MsgID != "" {
			m.MsgID = uuid.NewString()
		}
		out[i] = m
	}
	return out
}

// RawPublisher appends messages straight to the server as the ledger's committer does: each
// message with its bytes, chain hash and message id, in JetStream atomic batches, the first
// message of each subject in a batch with the subject's expected last sequence. It knows the
// last sequence of the subjects it published to; any other is taken to be new.
type RawPublisher struct {
	nc   *nats.Conn
	last map[string]uint64
}

// NewRawPublisher publishes through nc.
func NewRawPublisher(nc *nats.Conn) *RawPublisher {
	return &RawPublisher{nc: nc, last: map[string]uint64{}}
}

// Batches appends msgs in order as atomic batches of at most size messages, each acknowledged
// before the next goes.
func (p *RawPublisher) Batches(msgs []Message, size int) error {
	for i := 0; i < len(msgs); i += size {
		if err := p.Batch(msgs[i:min(i+size, len(msgs))]); err != nil {
			return err
		}
	}
	return nil
}

// Batch appends msgs as one atomic batch and waits for the server's acknowledgement.
func (p *RawPublisher) Batch(msgs []Message) error {
	id := uuid.NewString()
	seen := make(map[string]bool, len(msgs))
	for i, m := range msgs {
		nm := nats.NewMsg(m.Subject)
		nm.Data = m.Data
		nm.Header.Set(eventstore.HashHeader, m.Hash)
		if m.MsgID != "" {
			nm.Header.Set(nats.MsgIdHdr, m.MsgID)
		}
		if !seen[m.Subject] {
			seen[m.Subject] = true
			nm.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(p.last[m.Subject], 10))
		}
		nm.Header.Set("Nats-Batch-Id", id)
		nm.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i < len(msgs)-1 {
			if err := p.nc.PublishMsg(nm); err != nil {
				return err
			}
			continue
		}
		nm.Header.Set("Nats-Batch-Commit", "1")
		resp, err := p.nc.RequestMsg(nm, 30*time.Second)
		if err != nil {
			return err
		}
		var ack struct {
			Seq   uint64          `json:"seq"`
			Count int             `json:"count"`
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(resp.Data, &ack); err != nil || ack.Error != nil || ack.Count != len(msgs) {
			return fmt.Errorf("raw batch of %d: %s", len(msgs), resp.Data)
		}
		// The batch's messages are stored in order, the last at ack.Seq.
		first := ack.Seq - uint64(len(msgs)) + 1
		for k, m := range msgs {
			p.last[m.Subject] = first + uint64(k)
		}
	}
	return nil
}

// GroupCommitter appends one message a call from many goroutines in the engine's best durable
// use, client-side group commit: the messages that arrive while a batch is in flight go out
// together as the next atomic batch (at most max), and each caller returns once its batch is
// acknowledged.
type GroupCommitter struct {
	in chan groupWrite
	// Batches counts the batches sent, as the ledger's Batches does its committer's.
	Batches Batches
}

type groupWrite struct {
	m   Message
	ack chan error
}

// NewGroupCommitter starts a group committer publishing through p in batches of at most max; it
// stops when the test ends.
func NewGroupCommitter(tb testing.TB, p *RawPublisher, max int) *GroupCommitter {
	g := &GroupCommitter{in: make(chan groupWrite, max)}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		batch := make([]groupWrite, 0, max)
		msgs := make([]Message, 0, max)
		for {
			select {
			case w := <-g.in:
				batch = append(batch[:0], w)
			case <-done:
				return
			}
		more:
			for len(batch) < max {
				select {
				case w := <-g.in:
					batch = append(batch, w)
				default:
					break more
				}
			}
			msgs = msgs[:0]
			for _, w := range batch {
				msgs = append(msgs, w.m)
			}
			err := p.Batch(msgs)
			g.Batches.Batch(len(msgs), 0, err)
			for _, w := range batch {
				w.ack <- err
			}
		}
	})
	tb.Cleanup(func() { close(done); wg.Wait() })
	return g
}

// Publish appends m and returns once its batch is acknowledged.
func (g *GroupCommitter) Publish(m Message) error {
	ack := make(chan error, 1)
	g.in <- groupWrite{m: m, ack: ack}
	return <-ack
}

// RawRead reads st's stream through last with an ordered consumer, decoding each event if
// asked: the raw engine's side of the rebuild and freeze comparisons.
func RawRead(tb testing.TB, st *eventstore.Store, last uint64, decode bool) {
	tb.Helper()
	it := orderedMessages(tb, st, "")
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			tb.Fatal(err)
		}
		if decode {
			if _, err := domain.Decode(msg.Data()); err != nil {
				tb.Fatal(err)
			}
		}
		meta, err := msg.Metadata()
		if err != nil {
			tb.Fatal(err)
		}
		if meta.Sequence.Stream >= last {
			return
		}
	}
}

// orderedMessages reads st's stream from the start with an ordered consumer, on subjects matching
// filter ("": every subject).
func orderedMessages(tb testing.TB, st *eventstore.Store, filter string) jetstream.MessagesContext {
	tb.Helper()
	ctx := context.Background()
	s, err := st.JetStream().Stream(ctx, st.Stream())
	if err != nil {
		tb.Fatal(err)
	}
	var cfg jetstream.OrderedConsumerConfig
	if filter != "" {
		cfg.FilterSubjects = []string{filter}
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2000))
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

// LedgerPayments registers n employers in a scratch ledger of its own and records one payment of
// each, and returns their ids and the payment messages the ledger stored, in the same order: what
// the raw and PostgreSQL sides of a commands benchmark append.
func LedgerPayments(tb testing.TB, n int) ([]string, []Message) {
	tb.Helper()
	l := StartLazy(tb, eventstore.Config{}, true)
	today := domain.MustDate("2006-12-31")
	ids := make([]string, n)
	var reqs []eventstore.Request
	for i := range n {
		code := domain.NumberedOrgCode(900000 + i)
		ids[i] = domain.EmployerIDForOrgCode(code)
		reqs = append(reqs,
			eventstore.Request{Create: true, Today: today, Actor: "bench", Command: &domain.RegisterEmployer{
				Name: fmt.Sprintf("单位 %d", i), County: "360702", OrgCode: code, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}},
			eventstore.Request{EmployerID: ids[i], Today: today, Actor: "bench", Command: &domain.RecordPayment{
				PaidOn: "2006-06-10", AmountFen: "100", ReceiptNo: fmt.Sprintf("S%d", i)}})
	}
	for _, r := range l.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			tb.Fatal(r.Err)
		}
	}
	byID := map[string]Message{}
	for _, m := range Messages(tb, l.Store) {
		if ev, err := domain.Decode(m.Data); err == nil && ev.Type == (domain.PaymentReceived{}).EventType() {
			byID[ev.EmployerID] = m
		}
	}
	pay := make([]Message, n)
	for i, id := range ids {
		m, ok := byID[id]
		if !ok {
			tb.Fatalf("no payment message of employer %s", id)
		}
		pay[i] = m
	}
	return ids, pay
}

// Batches counts the atomic batches a store commits and their messages (an eventstore.Observer
// for Config.Metrics), for benchmarks that report how full the ledger's batches are.
type Batches struct {
	n, msgs atomic.Int64
}

// Appended does nothing.
func (c *Batches) Appended(string, int) {}

// Batch counts one batch of msgs messages.
func (c *Batches) Batch(msgs int, _ time.Duration, _ error) {
	c.n.Add(1)
	c.msgs.Add(int64(msgs))
}

// Conflict does nothing.
func (c *Batches) Conflict() {}

// Duplicate does nothing.
func (c *Batches) Duplicate() {}

// Reset forgets the batches counted so far: a benchmark's set-up's are not its own.
func (c *Batches) Reset() {
	c.n.Store(0)
	c.msgs.Store(0)
}

// Report reports the batches counted since the store started or Reset, as batches an
// iteration and messages a batch.
func (c *Batches) Report(b *testing.B) {
	n := c.n.Load()
	b.ReportMetric(float64(n)/float64(max(b.N, 1)), "batches/op")
	b.ReportMetric(float64(c.msgs.Load())/float64(max(n, 1)), "msgs/batch")
}
