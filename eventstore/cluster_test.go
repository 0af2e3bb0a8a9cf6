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
	"github.com/nats-io/nats.go"
)

func TestStoppingTheStreamLeaderLosesNoAcknowledgedWrite(t *testing.T) {
	servers := storetest.StartCluster(t)
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.ClientURL())
	}
	nc, err := nats.Connect(fmt.Sprint(urls[0], ",", urls[1], ",", urls[2]), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var st *eventstore.Store
	storetest.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		var err error
		st, err = eventstore.Open(ctx, nc, eventstore.Config{Replicas: 3, Timeout: 3 * time.Second})
		return err
	})
	defer st.Close()
	emp := mustExecute(t, st, register(orgCode(31), "360702"))

	var acked sync.Map // receipt → seq
	var attempts, retries atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				req := payment(emp.EmployerID, fmt.Sprintf("C%d-%d", w, k), 100)
				req.IdempotencyKey, req.BodyHash = fmt.Sprintf("c-%d-%d", w, k), "b"
				attempts.Add(1)
				deadline := time.Now().Add(30 * time.Second)
				for {
					res, err := st.Execute(ctx, req)
					if err == nil {
						acked.Store(fmt.Sprintf("C%d-%d", w, k), res.Seq)
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("write C%d-%d never went through: %v", w, k, err)
						return
					}
					retries.Add(1) // the same key again: a duplicate if the first try landed
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	info, err := st.JetStream().Stream(ctx, st.Stream())
	if err != nil {
		t.Fatal(err)
	}
	si, err := info.Info(ctx)
	if err != nil || si.Cluster == nil {
		t.Fatalf("stream info: %v", err)
	}
	leader := si.Cluster.Leader
	for _, s := range servers {
		if s.Name() == leader {
			s.Shutdown()
			t.Logf("stopped the stream leader %s after %d writes", leader, attempts.Load())
		}
	}
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	if err := st.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	e, _ := st.Employer(emp.EmployerID)
	n := 0
	acked.Range(func(k, v any) bool {
		n++
		if _, ok := e.Receipts[k.(string)]; !ok {
			t.Errorf("acknowledged receipt %s (seq %d) is missing", k, v)
		}
		return true
	})
	if len(e.Receipts) != n {
		t.Errorf("the ledger holds %d receipts, %d were acknowledged", len(e.Receipts), n)
	}
	in, err := st.Verify(ctx)
	if err != nil || !in.OK {
		t.Fatalf("verify: %+v %v", in, err)
	}
	t.Logf("writes acknowledged %d, found %d, retried after errors %d", n, len(e.Receipts), retries.Load())
}

func TestHealthFailsWhileTheStreamHasNoQuorum(t *testing.T) {
	servers := storetest.StartCluster(t)
	st := storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 0), eventstore.Config{})
	ctx := context.Background()
	storetest.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error { return st.Health(ctx) })
	servers[1].Shutdown()
	servers[2].Shutdown()
	stopped := time.Now()
	storetest.CheckFor(t, 60*time.Second, 100*time.Millisecond, func() error {
		err := st.Health(ctx)
		if err == nil {
			return fmt.Errorf("Health says a stream with one of three replicas left is writable")
		}
		if !errors.Is(err, eventstore.ErrUnhealthy) {
			return fmt.Errorf("Health: %v, want ErrUnhealthy", err)
		}
		t.Logf("one node of three left, %v after: %v", time.Since(stopped).Round(time.Millisecond), err)
		return nil
	})
}

// A store opened without a replica count (an auditor's history or verify on --nats) keeps the
// stream's own: it was scaled down to one replica, losing the cluster's copies without a word.
// A stream made without one has one replica; a count given outright is applied.
func TestAStoreOpenedWithoutAReplicaCountKeepsTheStreams(t *testing.T) {
	servers := storetest.StartCluster(t)
	nc := storetest.ClusterConn(t, servers, 0)
	replicas := func(st *eventstore.Store) int {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := st.JetStream().Stream(ctx, st.Stream())
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().Config.Replicas
	}
	three := storetest.OpenOnCluster(t, nc, eventstore.Config{Replicas: 3})
	mustExecute(t, three, register(orgCode(41), "360702"))
	three.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := eventstore.Open(ctx, nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, have := replicas(st), st.Replicas(); got != 3 || have != 3 {
		t.Fatalf("opened without a count, the stream has %d replicas (the store says %d); want its own 3", got, have)
	}
	other, err := eventstore.Open(ctx, nc, eventstore.Config{Ledger: "360200"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got := replicas(other); got != 1 {
		t.Fatalf("a stream made without a count has %d replicas, want 1", got)
	}
	// A new province's stream, made without a count, has as many replicas as the most any city's
	// ledger on the cluster has (LEDGER's 3): it stays up while they do.
	js := three.JetStream()
	if _, err := eventstore.OpenProvince(ctx, js, "350000", 0); err != nil {
		t.Fatal(err)
	}
	if s, err := js.Stream(ctx, eventstore.ProvinceStream("350000")); err != nil || s.CachedInfo().Config.Replicas != 3 {
		t.Fatalf("a new province's stream made without a count: %v, want 3 replicas as the city ledger LEDGER has", err)
	}
	// The province's stream likewise ('kuozheng province verify --nats URL').
	if _, err := eventstore.OpenProvince(ctx, js, domain.Province, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.OpenProvince(ctx, js, domain.Province, 0); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, eventstore.ProvinceStream(domain.Province))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.Replicas; got != 3 {
		t.Fatalf("the province's stream, opened again without a count, has %d replicas; want its own 3", got)
	}
}
