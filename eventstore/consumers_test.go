package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go"
)

// Reads of the stream that make consumers of their own (a subscription from a sequence, the
// sequence at a time, the reference data at a sequence, a whole verification) delete them when
// done: left to their inactivity threshold (5 minutes), the reads of an auditor paging events
// piled up to the server's 1,000 consumers, and a replica restarting then could not follow.
func TestReadsOfTheStreamLeaveNoConsumerBehind(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	emp := mustExecute(t, l.Store, register(orgCode(97), "360781"))
	for k := range 3 {
		mustExecute(t, l.Store, payment(emp.EmployerID, fmt.Sprint("C", k), 100))
	}
	ctx := context.Background()
	consumers := consumerCount(t, l)
	before := consumers() // the store's follower
	stop := errors.New("enough")
	for range 5 {
		if err := l.Store.Subscribe(ctx, 2, func(domain.Event) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("subscribe: %v", err)
		}
		// A request's reader: its context ends when it is done (the client went away).
		rctx, cancel := context.WithCancel(ctx)
		if err := l.Store.Subscribe(rctx, 2, func(domain.Event) error { cancel(); return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("subscribe until the request ends: %v", err)
		}
		if _, err := l.Store.SeqAt(ctx, time.Now().Add(-time.Hour)); err != nil {
			t.Fatalf("sequence at a time: %v", err)
		}
		if _, err := l.Store.ReferenceAt(ctx, l.MessageCount(t)); err != nil {
			t.Fatalf("reference data: %v", err)
		}
		if _, err := l.Store.VerifyWhole(ctx); err != nil {
			t.Fatalf("verify: %v", err)
		}
	}
	storetest.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if n := consumers(); n != before {
			return fmt.Errorf("the stream has %d consumers after the reads, %d before", n, before)
		}
		return nil
	})
}

// consumerCount counts the consumers of l's stream on the server.
func consumerCount(t *testing.T, l *storetest.Ledger) func() int {
	t.Helper()
	stream, err := l.Store.JetStream().Stream(context.Background(), l.Store.Stream())
	if err != nil {
		t.Fatal(err)
	}
	return func() int {
		info, err := stream.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Consumers
	}
}

// On a cluster, a read's consumer is made on the stream's leader, and the node its client talks
// to learns of it a moment later: a pull sent at once may meet no responder. The reads that
// fetch from a consumer of their own pull again then, rather than fail the request (one in
// forty failed in the second-replica probe).
func TestReadsOfAClustersStreamMeetNoMissingResponder(t *testing.T) {
	servers := storetest.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stores []*eventstore.Store
	for _, s := range servers {
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		var st *eventstore.Store
		storetest.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
			var err error
			st, err = eventstore.Open(ctx, nc, eventstore.Config{Replicas: 3, Timeout: 3 * time.Second})
			return err
		})
		t.Cleanup(st.Close)
		stores = append(stores, st)
	}
	emp := mustExecute(t, stores[0], register(orgCode(96), "360781"))
	mustExecute(t, stores[0], payment(emp.EmployerID, "N1", 100))
	for i := range 60 {
		st := stores[i%len(stores)]
		if err := st.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SeqAt(ctx, time.Now().Add(-time.Hour)); err != nil {
			t.Fatalf("read %d, the sequence at a time on node %d: %v", i, i%len(stores), err)
		}
		if _, err := st.ReferenceAt(ctx, st.Applied()); err != nil {
			t.Fatalf("read %d, the reference data on node %d: %v", i, i%len(stores), err)
		}
	}
}
