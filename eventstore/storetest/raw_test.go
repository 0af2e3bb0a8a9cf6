package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go/jetstream"
)

// The raw baselines append the ledger's own messages again on a bare server: with their chain
// hash, and with the expected last sequence of each subject, which the server checks (a
// publisher that gets it wrong is refused); group commit appends every caller's message once.
func TestTheRawBaselinesAppendTheLedgersMessagesAsTheLedgerDoes(t *testing.T) {
	scratch := StartLazy(t, eventstore.Config{}, true)
	today := domain.MustDate("2006-12-31")
	var reqs []eventstore.Request
	for i := range 6 {
		code := domain.NumberedOrgCode(700 + i)
		id := domain.EmployerIDForOrgCode(code)
		reqs = append(reqs,
			eventstore.Request{Create: true, Today: today, Actor: "test", Command: &domain.RegisterEmployer{
				Name: "单位 " + code, County: "360702", OrgCode: code, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}},
			eventstore.Request{EmployerID: id, Today: today, Actor: "test", Command: &domain.RecordPayment{
				PaidOn: "2006-06-10", AmountFen: "100", ReceiptNo: fmt.Sprintf("R%d", i)}})
	}
	for _, r := range scratch.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	msgs := Messages(t, scratch.Store)
	if len(msgs) != len(reqs) {
		t.Fatalf("%d messages read from the ledger, want %d", len(msgs), len(reqs))
	}
	for _, m := range msgs {
		if len(m.Hash) != 64 || len(m.Data) == 0 {
			t.Fatalf("message on %s: hash %q, %d bytes", m.Subject, m.Hash, len(m.Data))
		}
	}

	bare := StartBare(t, true)
	js, err := jetstream.New(bare.Embedded.Conn)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(context.Background(), scratch.Store.Stream())
	if err != nil {
		t.Fatal(err)
	}
	if info, err := stream.Info(context.Background()); err != nil || info.State.Consumers != 0 {
		t.Fatalf("the bare server's stream: %v, %+v consumers, want none", err, info)
	}
	count := func() uint64 {
		info, err := stream.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	before := count()
	pub := NewRawPublisher(bare.Embedded.Conn)
	if err := pub.Batch(Renamed(msgs)); err != nil {
		t.Fatalf("a batch of new employers' messages: %v", err)
	}
	again := msgs[:2] // one employer's registration and payment, on its own subject this time
	if err := pub.Batch(again); err != nil {
		t.Fatalf("a first batch on the ledger's own subjects: %v", err)
	}
	if err := pub.Batch(again); err != nil {
		t.Fatalf("a second batch on the same subjects, with their last sequences: %v", err)
	}
	if err := NewRawPublisher(bare.Embedded.Conn).Batch(again); err == nil {
		t.Fatal("a publisher that takes used subjects for new ones was not refused: the expected sequence is not sent")
	}
	if got, want := count()-before, uint64(len(msgs)+2*len(again)); got != want {
		t.Fatalf("%d messages appended, want %d", got, want)
	}

	g := NewGroupCommitter(t, pub, 1000)
	var wg sync.WaitGroup
	errs := make(chan error, 8*25)
	for w := range 8 {
		wg.Go(func() {
			for k := range 25 {
				errs <- g.Publish(msgs[(w*7+k)%len(msgs)])
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("group commit: %v", err)
		}
	}
	if got, want := count()-before, uint64(len(msgs)+2*len(again)+8*25); got != want {
		t.Fatalf("%d messages appended after group commit, want %d", got, want)
	}
}
