package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// conflicts counts the writes the store found in conflict with the stream, and tells of them.
type conflicts struct {
	n    atomic.Int64
	seen chan struct{}
}

func (c *conflicts) Appended(string, int)            {}
func (c *conflicts) Batch(int, time.Duration, error) {}
func (c *conflicts) Duplicate()                      {}
func (c *conflicts) Conflict() {
	c.n.Add(1)
	select {
	case c.seen <- struct{}{}:
	default:
	}
}

// On a three-node cluster, writes dated in an ended year go through two replicas at once, each
// fenced on the years' head: a leader refuses a fence while another batch checking the years is
// in process, and each is decided again until recorded, none lost and none refused. Then one
// decided through a replica that has not followed the year's closing through the other is
// refused year_closed, and nothing of it is stored.
func TestFencedWritesOnAClusterAreRecordedUntilTheirYearClosesThroughAnotherReplica(t *testing.T) {
	servers := storetest.StartCluster(t)
	cfg := eventstore.Config{Replicas: 3, Timeout: 10 * time.Second}
	a := storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 0), cfg)
	seen := &conflicts{seen: make(chan struct{}, 1)}
	cfg.Metrics = seen
	b := storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 1), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 16
	ids := make([]string, n)
	for i := range ids {
		ids[i] = mustExecute(t, a, register(orgCode(700+i), "360702")).EmployerID
	}
	if err := b.WaitApplied(ctx, a.Applied()); err != nil {
		t.Fatal(err)
	}
	late := func(id, receipt string) eventstore.Request {
		return eventstore.Request{EmployerID: id, Today: domain.MustDate("2007-01-10"), Actor: "test",
			Command: &domain.RecordPayment{PaidOn: "2006-12-20", AmountFen: "100", ReceiptNo: receipt}}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i, id := range ids {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			for k := range 4 {
				if _, err := st.Execute(ctx, late(id, fmt.Sprintf("F-%d-%d", i, k))); err != nil {
					errs <- fmt.Errorf("payment %d of employer %d: %w", k, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d payments through two replicas, %d decided again after a conflict on the replica counting them", 4*n, seen.n.Load())

	release := b.HoldFollower(eventstore.RefPrefix + "years") // b waits before the closing
	defer release()
	f, _, err := a.AppendFreeze(ctx, eventstore.FreezeOrder{Actor: "test"}, func() (domain.FreezeMade, error) {
		return domain.FreezeMade{ID: "f", ThroughSeq: a.Applied(), ValidThrough: domain.MustDate("2006-12-31"),
			ChainHead: "h", CodeVersion: "test", Digest: "d", Figures: []byte(`{"n":1}`)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	closing, err := a.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.YearClosed{Year: 2006, FreezeID: f.ID, Digest: f.Digest},
		On: domain.MustDate("2007-01-05"), Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for len(seen.seen) > 0 {
		<-seen.seen // the races above
	}
	out := make(chan error, 1)
	go func() {
		_, err := b.Execute(ctx, late(ids[1], "F-late"))
		out <- err
	}()
	select {
	case <-seen.seen:
	case err := <-out:
		t.Fatalf("a payment dated in 2006 through a replica behind 2006's closing answered %v before any conflict", err)
	case <-ctx.Done():
		t.Fatal("the payment neither conflicted nor returned")
	}
	release()
	var de *domain.Error
	if err := <-out; !errors.As(err, &de) || de.Kind != domain.KindYearClosed {
		t.Fatalf("the payment dated in 2006, decided before its replica followed the closing: %v; want year_closed", err)
	}
	if last, err := b.LastSeq(ctx); err != nil || last != closing.Seq {
		t.Errorf("the stream ends at %d (%v), want the closing's %d", last, err, closing.Seq)
	}
}
