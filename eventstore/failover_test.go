package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Writers on two API replicas, connected to different nodes, write one employer while the
// stream's leader goes away: cut off at once as a crashed machine is, or shut down. Writes must
// resume once the stream has a new leader, every acknowledged write must be in the stream once,
// and no write may fail but for not being recorded (also when it lost every race to the other
// writers for a while) or having an unknown outcome (then its writer retries it with the same
// key, as a client does).
func TestWritesResumeWhenTheStreamLeaderGoesAway(t *testing.T) {
	for _, how := range []string{"crash", "shutdown"} {
		t.Run(how, func(t *testing.T) { failover(t, how) })
	}
}

type ack struct {
	at      time.Time
	receipt string
	replica int
}

func failover(t *testing.T, how string) {
	c := storetest.StartCrashableCluster(t)
	stores := []*eventstore.Store{
		storetest.OpenOnCluster(t, c.Conn(t, 0), eventstore.Config{}),
		storetest.OpenOnCluster(t, c.Conn(t, 1), eventstore.Config{}),
	}
	ctx := context.Background()
	emp := mustExecute(t, stores[0], register(orgCode(97), "360702"))
	if err := stores[1].WaitApplied(ctx, emp.Seq); err != nil {
		t.Fatal(err)
	}
	var elected []time.Time
	var mu sync.Mutex
	for i := range c.Servers { // through every node: the one the leader is on goes away
		if _, err := c.Conn(t, i).Subscribe("$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED."+stores[0].Stream(), func(*nats.Msg) {
			mu.Lock()
			elected = append(elected, time.Now())
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	var acks []ack
	failures := map[string]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r, st := range stores {
		for w := range 4 {
			wg.Go(func() {
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					receipt := fmt.Sprintf("F%d-%d-%d", r, w, k)
					began := time.Now()
					req := payment(emp.EmployerID, receipt, 100)
					req.IdempotencyKey, req.BodyHash = "f-"+receipt, "b"
					for {
						wctx, cancel := context.WithTimeout(ctx, 20*time.Second) // the API's WriteTimeout
						_, err := st.Execute(wctx, req)
						cancel()
						mu.Lock()
						if err == nil {
							acks = append(acks, ack{time.Now(), receipt, r})
							mu.Unlock()
							break
						}
						kind := "other: " + err.Error()
						switch {
						case errors.Is(err, eventstore.ErrOutcomeUnknown):
							kind = "outcome unknown (504)"
						case errors.Is(err, eventstore.ErrNotRecorded):
							kind = "not recorded (503)"
						case errors.Is(err, context.DeadlineExceeded):
							kind = "deadline (503)"
						case errors.Is(err, eventstore.ErrContended):
							// Eight writers of one employer on two replicas, one of them behind
							// after the election: not recorded, retried as its answer says.
							kind = "contended (409)"
						}
						failures[kind]++
						mu.Unlock()
						// The client's retry, with the same key, until the write is acknowledged.
						if time.Since(began) > time.Minute {
							t.Errorf("write %s unacknowledged after a minute: %v", receipt, err)
							return
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
			})
		}
	}
	acked := func(after time.Time) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, a := range acks {
			if a.at.After(after) {
				n++
			}
		}
		return n
	}
	storetest.CheckFor(t, 60*time.Second, 10*time.Millisecond, func() error {
		if n := acked(time.Time{}); n < 40 {
			return fmt.Errorf("%d writes acknowledged", n)
		}
		return nil
	})
	storetest.WaitReplicasCurrent(t, stores[0].JetStream(), stores[0].Stream())
	stream, err := stores[0].JetStream().Stream(ctx, stores[0].Stream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader := c.Index(info.Cluster.Leader)
	gone := time.Now()
	defer func() {
		if !t.Failed() {
			return
		}
		// What the nodes left say, for whoever reads a failure.
		for i, s := range c.Servers {
			if i == leader {
				continue
			}
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			js, err := jetstream.New(c.Conn(t, i))
			if err != nil {
				cancel()
				t.Logf("%s: %v", s.Name(), err)
				continue
			}
			st, err := js.Stream(ctx, stores[0].Stream())
			cancel()
			if err != nil {
				t.Logf("%s: stream info: %v", s.Name(), err)
				continue
			}
			t.Logf("%s: meta current %v; stream leader %q, replicas %+v, last seq %d", s.Name(), s.JetStreamIsCurrent(),
				st.CachedInfo().Cluster.Leader, st.CachedInfo().Cluster.Replicas, st.CachedInfo().State.LastSeq)
		}
	}()
	if how == "crash" {
		c.Crash(leader)
	} else {
		c.Servers[leader].Shutdown()
	}
	storetest.CheckFor(t, 90*time.Second, 10*time.Millisecond, func() error {
		if n := acked(gone); n < 40 {
			return fmt.Errorf("%d writes acknowledged since the leader %s went away", n, info.Cluster.Leader)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	stopped := time.Now()

	mu.Lock()
	sort.Slice(acks, func(i, j int) bool { return acks[i].at.Before(acks[j].at) })
	var before, after time.Time
	var longest [2]time.Duration // the longest wait between two acknowledgements of each replica after
	var prev [2]time.Time
	var since [2]int
	for _, a := range acks {
		if a.at.Before(gone) {
			before = a.at
			prev[a.replica] = a.at
			continue
		}
		if after.IsZero() {
			after = a.at
		}
		since[a.replica]++
		if prev[a.replica].IsZero() {
			prev[a.replica] = gone
		}
		longest[a.replica] = max(longest[a.replica], a.at.Sub(prev[a.replica]))
		prev[a.replica] = a.at
	}
	var firstElected time.Duration
	slices.SortFunc(elected, time.Time.Compare)
	for _, e := range elected {
		if e.After(gone) {
			firstElected = e.Sub(gone)
			break
		}
	}
	var kinds []string
	for k, n := range failures {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(kinds)
	t.Logf("leader %s %s: last write acknowledged before %v, first after %v later (gap %v); new leader elected %v after; "+
		"since: replicas acknowledged %d and %d writes, longest wait %v and %v; %d writes acknowledged; failed attempts (retried): %s",
		info.Cluster.Leader, how, gone.Sub(before).Round(time.Millisecond), after.Sub(gone).Round(time.Millisecond),
		after.Sub(before).Round(time.Millisecond), firstElected.Round(time.Millisecond), since[0], since[1],
		longest[0].Round(time.Millisecond), longest[1].Round(time.Millisecond), len(acks), strings.Join(kinds, ", "))
	for k := range failures {
		if strings.HasPrefix(k, "other") {
			t.Errorf("a write failed with %s", k)
		}
	}
	mu.Unlock()

	for _, st := range stores {
		if err := st.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		h, err := st.History(ctx, emp.EmployerID)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, ev := range h {
			if p, ok := ev.Body.(domain.PaymentReceived); ok {
				seen[p.ReceiptNo]++
			}
		}
		for _, a := range acks {
			if seen[a.receipt] != 1 {
				t.Errorf("acknowledged write %s is in the stream %d times", a.receipt, seen[a.receipt])
			}
		}
		if len(seen) != len(acks) {
			t.Errorf("the stream holds %d payments, %d were acknowledged", len(seen), len(acks))
		}
		if in, err := st.Verify(ctx); err != nil || !in.OK {
			t.Errorf("verify: %+v %v", in, err)
		}
	}
	t.Logf("writers stopped %v after the leader went away; both stores caught up and verified %v after",
		stopped.Sub(gone).Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond))
}

// A replica asked to be led from a node that is down starts without asking it (a start waited
// 30 s for it, then logged "<nil>"), saying the stream stays led from where it is, and why.
func TestAPreferredLeaderThatIsDownIsNotAskedToLead(t *testing.T) {
	c := storetest.StartCrashableCluster(t)
	ctx := context.Background()
	first := storetest.OpenOnCluster(t, c.Conn(t, 0), eventstore.Config{})
	info := func() *jetstream.StreamInfo {
		t.Helper()
		ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := first.JetStream().Stream(ictx, first.Stream())
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo()
	}
	// A follower's node goes down; the node the replica connects through stays up.
	var down string
	for _, r := range info().Cluster.Replicas {
		if c.Index(r.Name) != 0 {
			down = r.Name
		}
	}
	if down == "" {
		t.Fatal("every follower of the stream is on node 0")
	}
	c.Crash(c.Index(down))
	// A write the node misses: the leader sees it behind, and then unheard from.
	mustExecute(t, first, register(orgCode(98), "360702"))
	storetest.CheckFor(t, 60*time.Second, 100*time.Millisecond, func() error {
		in := info()
		for _, r := range in.Cluster.Replicas {
			if r.Name == down && eventstore.ReplicaDown(in, r) {
				return nil
			}
		}
		return fmt.Errorf("the stream does not yet see %s as down", down)
	})
	var logs storetest.SyncBuffer
	second, err := eventstore.Open(ctx, c.Conn(t, 0), eventstore.Config{Replicas: 3, PreferLeader: down, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if want := down + " is not one of its replicas that are up"; !strings.Contains(logs.String(), want) {
		t.Fatalf("the start's log does not say %q:\n%s", want, logs.String())
	}
}
