package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go"
)

// twoReplicas opens two stores on a 3-node cluster, connected to different nodes, as two API
// replicas; the stream has three replicas.
func twoReplicas(t *testing.T, cfg eventstore.Config) (a, b *eventstore.Store) {
	t.Helper()
	servers := storetest.StartCluster(t)
	a = storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 0), cfg)
	b = storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 1), cfg)
	return a, b
}

// Clustered JetStream answers a message id it is still proposing with error 10158 ("duplicate
// message id is in process"), before it looks at the expected sequence: the same key sent to
// two replicas at once must still append once and answer both with its result. Other writers
// whose units share an atomic batch with it must not fail either.
func TestTheSameKeyOnTwoReplicasAtOnceAppendsOnce(t *testing.T) {
	obs := &raceCount{}
	a, b := twoReplicas(t, eventstore.Config{Metrics: obs})
	ctx := context.Background()
	emp := mustExecute(t, a, register(orgCode(71), "360702"))
	others := []string{mustExecute(t, a, register(orgCode(72), "360702")).EmployerID,
		mustExecute(t, b, register(orgCode(73), "360702")).EmployerID}
	const rounds = 100
	for round := range rounds {
		start := make(chan struct{})
		var wg sync.WaitGroup
		results := make([]eventstore.Result, 2)
		errs := make([]error, 4)
		for i, st := range []*eventstore.Store{a, b} {
			// The same request through both (each its own copy, as two HTTP requests are).
			req := payment(emp.EmployerID, fmt.Sprintf("R-%d", round), 100)
			req.IdempotencyKey, req.BodyHash = fmt.Sprintf("same-%d", round), "body"
			wg.Go(func() {
				<-start
				results[i], errs[i] = st.Execute(ctx, req)
			})
			// Another writer on the same store, likely in the same atomic batch.
			wg.Go(func() {
				<-start
				other := payment(others[i], fmt.Sprintf("O-%d", round), 100)
				other.IdempotencyKey, other.BodyHash = fmt.Sprintf("other-%d-%d", i, round), "body"
				_, errs[2+i] = st.Execute(ctx, other)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: writer %d: %v", round, i, err)
			}
		}
		if results[0].Seq != results[1].Seq || fmt.Sprint(results[0].EventIDs) != fmt.Sprint(results[1].EventIDs) ||
			results[0].Duplicate == results[1].Duplicate {
			t.Fatalf("round %d: the two replicas answered %+v and %+v, want one result, once as a duplicate", round, results[0], results[1])
		}
	}
	t.Logf("%d rounds: batches answered 10158 (in process) %d times, %d of them with other writers' units; duplicates %d, conflicts %d",
		rounds, obs.inProcess.Load(), obs.inProcessShared.Load(), obs.duplicates.Load(), obs.conflicts.Load())
	for _, st := range []*eventstore.Store{a, b} {
		if err := st.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		e, _ := st.Employer(emp.EmployerID)
		if len(e.Receipts) != rounds {
			t.Fatalf("the ledger holds %d receipts after %d rounds", len(e.Receipts), rounds)
		}
	}
}

// raceCount counts what a store's writes met: batches refused as in process (10158), those
// of them that held more than one message, duplicates and conflicts.
type raceCount struct {
	inProcess, inProcessShared, duplicates, conflicts atomic.Int64
}

func (o *raceCount) Appended(string, int) {}
func (o *raceCount) Conflict()            { o.conflicts.Add(1) }
func (o *raceCount) Duplicate()           { o.duplicates.Add(1) }
func (o *raceCount) Batch(msgs int, _ time.Duration, err error) {
	if err != nil && strings.Contains(err.Error(), "10158") {
		o.inProcess.Add(1)
		if msgs > 1 {
			o.inProcessShared.Add(1)
		}
	}
}

// Two replicas writing one employer as fast as they can: within a replica its writers take
// turns, across replicas they race, and the replica whose follower must first fold the other's
// events loses most races. No write may fail for it, least of all as a stale If-Match nobody
// sent.
func TestTwoReplicasHammeringOneEmployerAllSucceed(t *testing.T) {
	obs := [2]*raceCount{{}, {}}
	servers := storetest.StartCluster(t)
	stores := [2]*eventstore.Store{
		storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 0), eventstore.Config{Metrics: obs[0]}),
		storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 1), eventstore.Config{Metrics: obs[1]}),
	}
	ctx := context.Background()
	emp := mustExecute(t, stores[0], register(orgCode(81), "360702"))
	if err := stores[1].WaitApplied(ctx, emp.Seq); err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 60
	var wg sync.WaitGroup
	var wrote [2]atomic.Int64
	start := time.Now()
	for r, st := range stores {
		for w := range writers {
			wg.Go(func() {
				for k := range each {
					req := payment(emp.EmployerID, fmt.Sprintf("H%d-%d-%d", r, w, k), 100)
					req.IdempotencyKey, req.BodyHash = fmt.Sprintf("h-%d-%d-%d", r, w, k), "b"
					if _, err := st.Execute(ctx, req); err != nil {
						t.Errorf("replica %d writer %d write %d: %v", r, w, k, err)
						return
					}
					wrote[r].Add(1)
				}
			})
		}
	}
	wg.Wait()
	t.Logf("%d writes in %v: replica shares %d and %d, conflicts %d and %d",
		2*writers*each, time.Since(start).Round(time.Millisecond), wrote[0].Load(), wrote[1].Load(), obs[0].conflicts.Load(), obs[1].conflicts.Load())
	if err := stores[1].CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if e, _ := stores[1].Employer(emp.EmployerID); len(e.Receipts) != 2*writers*each {
		t.Fatalf("the ledger holds %d receipts, want %d", len(e.Receipts), 2*writers*each)
	}
}

// The same freeze order (key and body) sent through two replicas at once records one freeze:
// each replica makes its own (with its own id), and the stream keeps the first.
// Replica b folds its own freeze as soon as it is stored, before the one a stored first (its
// follower is held before a's): both list the freezes in the stream's order all the same.
func TestReplicasListFreezesInTheStreamsOrder(t *testing.T) {
	a, b := twoReplicas(t, eventstore.Config{})
	ctx := context.Background()
	freeze := func(st *eventstore.Store, id string) eventstore.FreezeRef {
		t.Helper()
		ref, _, err := st.AppendFreeze(ctx, eventstore.FreezeOrder{Actor: "test"}, func() (domain.FreezeMade, error) {
			return domain.FreezeMade{ID: id, ThroughSeq: st.Applied(), ValidThrough: domain.MustDate("2005-12-31"),
				ChainHead: "h", CodeVersion: "test", Digest: "d", Figures: []byte(`{"n":1}`)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	release := b.HoldFollower(eventstore.FreezePrefix + "first")
	first := freeze(a, "first")
	// b's freeze is folded once stored; the call returns once b has followed the stream to it.
	done := make(chan eventstore.FreezeRef, 1)
	go func() { done <- freeze(b, "second") }()
	storetest.CheckFor(t, 20*time.Second, time.Millisecond, func() error {
		if len(b.Freezes()) == 0 {
			return errors.New("replica b has not folded its own freeze yet")
		}
		return nil
	})
	release()
	second := <-done
	for name, st := range map[string]*eventstore.Store{"a": a, "b": b} {
		if err := st.WaitApplied(ctx, second.Seq); err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, f := range st.Freezes() {
			got = append(got, f.Seq)
		}
		if !slices.Equal(got, []uint64{first.Seq, second.Seq}) {
			t.Errorf("replica %s lists freezes at %v, want the stream's order %v", name, got, []uint64{first.Seq, second.Seq})
		}
	}
}

func TestTheSameFreezeKeyOnTwoReplicasAtOnceRecordsOneFreeze(t *testing.T) {
	a, b := twoReplicas(t, eventstore.Config{})
	ctx := context.Background()
	const rounds = 30
	for round := range rounds {
		order := eventstore.FreezeOrder{Actor: "test", IdempotencyKey: fmt.Sprint("freeze-", round), BodyHash: "f"}
		start := make(chan struct{})
		var wg sync.WaitGroup
		refs := make([]eventstore.FreezeRef, 2)
		dup := make([]bool, 2)
		errs := make([]error, 2)
		for i, st := range []*eventstore.Store{a, b} {
			wg.Go(func() {
				<-start
				refs[i], dup[i], errs[i] = st.AppendFreeze(ctx, order, func() (domain.FreezeMade, error) {
					return domain.FreezeMade{ID: uuid.NewString(), ThroughSeq: st.Applied(), ValidThrough: domain.MustDate("2005-12-31"),
						ChainHead: "h", CodeVersion: "test", Digest: fmt.Sprint("d", round), Figures: []byte(`{"n":1}`)}, nil
				})
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: replica %d: %v", round, i, err)
			}
		}
		if refs[0].ID != refs[1].ID || refs[0].Seq != refs[1].Seq || dup[0] == dup[1] {
			t.Fatalf("round %d: the replicas answered freeze %s at %d (duplicate %v) and %s at %d (duplicate %v), want one freeze, once as a duplicate",
				round, refs[0].ID, refs[0].Seq, dup[0], refs[1].ID, refs[1].Seq, dup[1])
		}
	}
	for _, st := range []*eventstore.Store{a, b} {
		if err := st.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(st.Freezes()); n != rounds {
			t.Fatalf("the ledger holds %d freezes after %d rounds of one order each", n, rounds)
		}
	}
}

// Two API replicas started at once on an empty cluster both open: one creates the stream and
// writes the reference data, the other finds them (a concurrent create can go unanswered:
// nats-server#3677).
func TestTwoReplicasStartingAtOnceOnAnEmptyClusterBothOpen(t *testing.T) {
	warnings := &warnLog{t: t}
	for try := range 3 {
		servers := storetest.StartCluster(t)
		conns := []*nats.Conn{storetest.ClusterConn(t, servers, 0), storetest.ClusterConn(t, servers, 1)}
		stores := make([]*eventstore.Store, 2)
		errs := make([]error, 2)
		took := make([]time.Duration, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				<-start
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				began := time.Now()
				stores[i], errs[i] = eventstore.Open(ctx, conns[i], eventstore.Config{Replicas: 3, Log: slog.New(warnings)})
				took[i] = time.Since(began)
			})
		}
		close(start)
		wg.Wait()
		for i, st := range stores {
			if st != nil {
				defer st.Close()
			}
			if errs[i] != nil {
				t.Fatalf("try %d: replica %d did not open: %v", try, i, errs[i])
			}
		}
		t.Logf("try %d: both opened, in %v and %v", try, took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
		if a, b := stores[0].Reference(), stores[1].Reference(); len(a.Counties) == 0 || len(a.Counties) != len(b.Counties) {
			t.Fatalf("try %d: reference data %d and %d counties", try, len(a.Counties), len(b.Counties))
		}
		last, err := stores[0].LastSeq(context.Background())
		if err != nil || last != uint64(len(domain.DefaultReferenceEvents())) {
			t.Fatalf("try %d: the stream holds %d messages (%v), want the reference data once", try, last, err)
		}
	}
}

// warnLog is a slog handler that logs a store's warnings to the test.
type warnLog struct{ t *testing.T }

func (w *warnLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnLog) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnLog) WithGroup(string) slog.Handler                { return w }
func (w *warnLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	w.t.Log(b.String())
	return nil
}

// A replica started while the JetStream meta leader's node is going away waits for the next meta
// leader; one started on a cluster that cannot elect one says so when its deadline comes.
func TestAStartWithoutAMetaLeaderWaitsForOneOrSaysWhy(t *testing.T) {
	servers := storetest.StartCluster(t)
	leader := -1
	for i, s := range servers {
		if s.JetStreamIsLeader() {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no meta leader")
	}
	via := (leader + 1) % 3
	// The stream exists already, as on a running cluster: creating one of three replicas with a
	// node gone succeeds only while the new meta leader has not yet seen that node offline
	// (afterwards there is no peer to place it on), which is a race, not the wait under test.
	first, err := eventstore.Open(context.Background(), storetest.ClusterConn(t, servers, via), eventstore.Config{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	// Every node current with the meta leader first: a node that has not yet caught up with it
	// cannot be elected, and on a busy machine the two left could then take minutes.
	storetest.CheckFor(t, 2*time.Minute, 50*time.Millisecond, func() error {
		for _, s := range servers {
			if !s.JetStreamIsCurrent() {
				return fmt.Errorf("%s is not current with the meta leader", s.Name())
			}
		}
		return nil
	})
	servers[leader].Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := eventstore.Open(ctx, storetest.ClusterConn(t, servers, via), eventstore.Config{Replicas: 3, Log: slog.New(&warnLog{t: t})})
	if err != nil {
		t.Fatalf("a start while the meta leader is elected again: %v", err)
	}
	st.Close()

	third := 3 - leader - via
	servers[third].Shutdown()
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	began := time.Now()
	_, err = eventstore.Open(ctx, storetest.ClusterConn(t, servers, via), eventstore.Config{Replicas: 3})
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("a start on one node of three: %v, want an error that says the cluster did not answer", err)
	}
	t.Logf("one node of three, after %v: %v", time.Since(began).Round(time.Millisecond), err)
}
