// Over 500 lines for a reason: the runner's life cycle (snapshots, catching up, damage) over
// shared ledgers.

package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go/jetstream"
)

var today = domain.MustDate("2006-12-31")

func write(t *testing.T, s *eventstore.Store, employers, from int) {
	t.Helper()
	var reqs []eventstore.Request
	for i := from; i < from+employers; i++ {
		body := fmt.Sprintf("%08d", 300+i)
		code := domain.NumberedOrgCode(300 + i)
		id := domain.EmployerIDForOrgCode(code)
		reqs = append(reqs,
			eventstore.Request{Create: true, Today: today, Command: &domain.RegisterEmployer{Name: "厂" + body, County: "360702", OrgCode: code, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}},
			eventstore.Request{EmployerID: id, Today: today, Command: &domain.RecordEnrollment{Insurance: "pension", Headcount: domain.Number(fmt.Sprint(5 + i)), EffectiveOn: "2006-05-01"}},
			eventstore.Request{EmployerID: id, Today: today, Command: &domain.FileDeclaration{DeclaredOn: "2006-06-05", Period: "2006-05",
				Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "5", WageBaseFen: domain.Number(fmt.Sprint(100000 * (i + 1)))}}}},
			eventstore.Request{EmployerID: id, Today: today, Command: &domain.RecordPayment{PaidOn: "2006-07-01", AmountFen: domain.Number(fmt.Sprint(20000 * (i + 1))), ReceiptNo: "R1"}},
		)
	}
	for _, r := range s.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// head is the stream's last sequence (the store's follower may still be behind it).
func head(t *testing.T, l *storetest.Ledger) uint64 {
	t.Helper()
	last, err := l.Store.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// startCaughtUp starts a runner on l's store and waits until it has applied the stream's head.
func startCaughtUp(t *testing.T, l *storetest.Ledger, cfg projections.RunnerConfig) (*projections.Runner, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := projections.NewRunner(l.Store, cfg)
	if err := r.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	waitSeq(t, r, head(t, l))
	return r, cancel
}

func waitSeq(t *testing.T, r *projections.Runner, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitSeq(ctx, seq); err != nil {
		t.Fatalf("views did not reach %d: %v", seq, err)
	}
}

func TestARestartResumesFromTheSnapshotAndEqualsARebuild(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 30, 0)
	first, cancel := startCaughtUp(t, l, projections.RunnerConfig{})
	if err := first.SaveSnapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	at, snapSeq := first.LastSnapshot()
	if err := first.SaveSnapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again, _ := first.LastSnapshot(); !again.Equal(at) {
		t.Fatal("a snapshot with nothing new since the last one was stored again")
	}
	cancel()
	first.Wait()

	write(t, l.Store, 10, 30) // events the snapshot does not hold
	second := projections.NewRunner(l.Store, projections.RunnerConfig{})
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	if err := second.Start(ctx2); err != nil {
		t.Fatal(err)
	}
	waitSeq(t, second, head(t, l))
	if second.Seq() <= snapSeq {
		t.Fatalf("second runner at %d, snapshot at %d", second.Seq(), snapSeq)
	}
	rebuilt, err := projections.Rebuild(context.Background(), l.Store, second.Seq())
	if err != nil {
		t.Fatal(err)
	}
	q := projections.Query{Period: domain.MustPeriod("2006-05"), AsOf: today}
	a, _ := json.Marshal(mustReport(t, second, q))
	b, _ := json.Marshal(rebuilt.Report(q))
	if string(a) != string(b) {
		t.Fatalf("views after a restart differ from a rebuild:\n%.300s\n%.300s", a, b)
	}
	vc, err := second.VerifyRebuild(context.Background(), today)
	if err != nil || !vc.OK {
		t.Fatalf("verify: %+v %v", vc, err)
	}
	var insured int64
	second.View(func(l *projections.Ledger) { insured = l.Report(q).City.Insurances[domain.Pension].Insured })
	want := int64(0)
	for i := range 40 {
		want += int64(5 + i)
	}
	if insured != want {
		t.Fatalf("pension insured %d, want %d", insured, want)
	}
}

func TestTheLiveReportFollowsNewEventsIncrementally(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 5, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := projections.NewRunner(l.Store, projections.RunnerConfig{NoSnapshots: true})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	q := projections.Query{Period: domain.MustPeriod("2006-05"), AsOf: today}
	r.SetLive(q)
	waitSeq(t, r, head(t, l))
	before := mustReport(t, r, q).City.Insurances[domain.Pension].PeriodCollectedFen
	id := domain.EmployerIDForOrgCode(domain.NumberedOrgCode(300))
	res, err := l.Store.Execute(context.Background(), eventstore.Request{EmployerID: id, Today: today,
		Command: &domain.RecordPayment{PaidOn: "2006-07-02", AmountFen: "8000", ReceiptNo: "R2"}})
	if err != nil {
		t.Fatal(err)
	}
	waitSeq(t, r, res.Seq)
	after := mustReport(t, r, q)
	if got := after.City.Insurances[domain.Pension].PeriodCollectedFen; got != before+8000 {
		t.Fatalf("collected %d after a payment of 8000 on %d", got, before)
	}
	var scratch *projections.Report
	r.View(func(l *projections.Ledger) { scratch = l.Report(q) })
	a, _ := json.Marshal(after)
	b, _ := json.Marshal(scratch)
	if string(a) != string(b) {
		t.Fatal("the incremental live report differs from one computed from scratch")
	}
}

func TestAFreezeFromACopyOfTheViewsEqualsOneReplayedFromTheStart(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 20, 0)
	mid, _ := l.Store.LastSeq(context.Background())
	write(t, l.Store, 10, 20)
	last, _ := l.Store.LastSeq(context.Background())
	d := domain.MustDate("2006-06-30")
	full, err := projections.MakeFreeze(context.Background(), l.Store, last, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	start, err := projections.Rebuild(context.Background(), l.Store, mid)
	if err != nil {
		t.Fatal(err)
	}
	part, err := projections.MakeFreezeFrom(context.Background(), l.Store, start, last, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if full.Digest != part.Digest || full.ChainHead != part.ChainHead || string(full.Figures) != string(part.Figures) {
		t.Fatalf("digests differ: %s from the start, %s from a copy at %d", full.Digest, part.Digest, mid)
	}
}

func TestACorruptOrOlderSnapshotIsIgnoredAndTheViewsRebuild(t *testing.T) {
	for _, tt := range []struct {
		name    string
		data    []byte
		version string
	}{
		{"corrupt bytes", []byte("this is not a snapshot"), projections.CodeVersion},
		{"a truncated snapshot", nil, projections.CodeVersion}, // filled below with half a real one
		{"another code version", nil, "views-0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := storetest.Start(t, eventstore.Config{})
			write(t, l.Store, 8, 0)
			ctx := context.Background()
			last, err := l.Store.LastSeq(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rebuilt, err := projections.Rebuild(ctx, l.Store, last)
			if err != nil {
				t.Fatal(err)
			}
			good, err := rebuilt.SnapshotBytes()
			if err != nil {
				t.Fatal(err)
			}
			data := tt.data
			if data == nil && tt.version == projections.CodeVersion {
				data = good[:len(good)/2]
			} else if data == nil {
				data = good
			}
			obs, err := l.Store.JetStream().CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: projections.SnapshotBucket})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := obs.Put(ctx, jetstream.ObjectMeta{Name: "views", Metadata: map[string]string{"seq": "999999", "code_version": tt.version}}, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			logs := &storetest.SyncBuffer{}
			r := projections.NewRunner(l.Store, projections.RunnerConfig{Log: slog.New(slog.NewTextHandler(logs, nil))})
			rctx, cancel := context.WithCancel(ctx)
			defer cancel()
			if err := r.Start(rctx); err != nil {
				t.Fatal(err)
			}
			waitSeq(t, r, last)
			if !strings.Contains(logs.String(), "no usable snapshot") {
				t.Fatalf("no warning about the bad snapshot in the log:\n%s", logs.String())
			}
			q := projections.Query{Period: domain.MustPeriod("2006-05"), AsOf: today}
			a, _ := json.Marshal(mustReport(t, r, q))
			b, _ := json.Marshal(rebuilt.Report(q))
			if string(a) != string(b) {
				t.Fatalf("the views after ignoring the snapshot differ from a rebuild:\n%.300s\n%.300s", a, b)
			}
		})
	}
}

// mustReport is r.Report, failing the test on an error.
func mustReport(t testing.TB, r *projections.Runner, q projections.Query) *projections.Report {
	t.Helper()
	rep, err := r.Report(context.Background(), q)
	if err != nil {
		t.Fatalf("report %+v: %v", q, err)
	}
	return rep
}

type snapshotCounter struct{ n atomic.Int64 }

func (c *snapshotCounter) Applied(int, uint64)                 {}
func (c *snapshotCounter) Snapshot(uint64, int, time.Duration) { c.n.Add(1) }
func (c *snapshotCounter) PastReplay(uint64, time.Duration)    {}

// TestALongReplayWritesASnapshotEveryTwentyEventsAnEmployer: writing a snapshot costs in
// proportion to the employers, so a replay of many events among few employers is not stopped
// every SnapshotEvery events to write one.
func TestALongReplayWritesASnapshotEveryTwentyEventsAnEmployer(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 10, 0) // 10 employers, fewer than 200 events
	counter := &snapshotCounter{}
	r := projections.NewRunner(l.Store, projections.RunnerConfig{SnapshotEvery: 10, SnapshotIdle: time.Hour, Observe: counter})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); r.Wait() }()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitSeq(t, r, head(t, l))
	if err := r.SaveSnapshot(context.Background()); err != nil { // waits for one under way
		t.Fatal(err)
	}
	if n := counter.n.Load(); n != 1 {
		t.Fatalf("%d snapshots of 10 employers' %d events, want only the one asked for (SnapshotEvery 10, but 20 events an employer)", n, head(t, l))
	}
	var pays []eventstore.Request // 290 payments among the same 10 employers: a snapshot is due
	for i := range 10 {
		id := domain.EmployerIDForOrgCode(domain.NumberedOrgCode(300 + i))
		for n := 2; n <= 30; n++ {
			pays = append(pays, eventstore.Request{EmployerID: id, Today: today,
				Command: &domain.RecordPayment{PaidOn: "2006-07-02", AmountFen: "100", ReceiptNo: fmt.Sprint("R", n)}})
		}
	}
	for _, res := range l.Store.ExecuteBulk(context.Background(), pays) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for counter.n.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot after %d events among 10 employers (due every 200)", head(t, l))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestASnapshotWhoseUploadFailsLeavesTheOneBefore(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 10, 0)
	first, cancel := startCaughtUp(t, l, projections.RunnerConfig{})
	if err := first.SaveSnapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, kept := first.LastSnapshot()
	write(t, l.Store, 10, 10)
	waitSeq(t, first, head(t, l))
	gone, stop := context.WithCancel(context.Background())
	stop()
	if err := first.SaveSnapshot(gone); err == nil {
		t.Fatal("a snapshot uploaded on a cancelled context")
	}
	if _, seq := first.LastSnapshot(); seq != kept {
		t.Fatalf("after a failed upload the last snapshot is at %d, want %d", seq, kept)
	}
	cancel()
	first.Wait()

	second := projections.NewRunner(l.Store, projections.RunnerConfig{})
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	if err := second.Start(ctx2); err != nil {
		t.Fatal(err)
	}
	if _, seq := second.LastSnapshot(); seq != kept {
		t.Fatalf("restored the snapshot at %d, want the one before the failed upload, at %d", seq, kept)
	}
	waitSeq(t, second, head(t, l))
}

// On a cluster the views' snapshot bucket has the stream's replicas, also when an earlier version
// made it with one: with its leader's node down, another replica of the API still starts.
func TestTheSnapshotBucketHasTheStreamsReplicas(t *testing.T) {
	servers := storetest.StartCluster(t)
	nc := storetest.ClusterConn(t, servers, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// A create on a new cluster can go unanswered though the bucket was made (nats-server#3677),
	// as the runner's own create knows: ask in short attempts, and look the bucket up after each.
	storetest.CheckFor(t, 90*time.Second, 100*time.Millisecond, func() error {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := js.CreateObjectStore(actx, jetstream.ObjectStoreConfig{Bucket: projections.SnapshotBucket, Storage: jetstream.FileStorage})
		if err != nil {
			if _, ferr := js.ObjectStore(actx, projections.SnapshotBucket); ferr == nil {
				return nil
			}
		}
		return err
	})
	st := storetest.OpenOnCluster(t, nc, eventstore.Config{})
	start := func(st *eventstore.Store) {
		t.Helper()
		rctx, stop := context.WithCancel(context.Background())
		r := projections.NewRunner(st, projections.RunnerConfig{})
		if err := r.Start(rctx); err != nil {
			stop()
			t.Fatalf("start the views: %v", err)
		}
		t.Cleanup(func() { stop(); r.Wait() })
	}
	start(st)
	bucket, err := js.ObjectStore(ctx, projections.SnapshotBucket)
	if err != nil {
		t.Fatal(err)
	}
	status, err := bucket.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status.Replicas() != st.Replicas() {
		t.Fatalf("the snapshot bucket has %d replicas, the stream %d", status.Replicas(), st.Replicas())
	}
	// Take a leader away only once every replica is current, or the two left may elect none.
	storetest.WaitReplicasCurrent(t, js, st.Stream())
	storetest.WaitReplicasCurrent(t, js, "OBJ_"+projections.SnapshotBucket)
	info, err := js.Stream(ctx, "OBJ_"+projections.SnapshotBucket)
	if err != nil {
		t.Fatal(err)
	}
	leader := info.CachedInfo().Cluster.Leader
	via := -1
	for i, s := range servers {
		if s.Name() == leader {
			s.Shutdown()
		} else {
			via = i
		}
	}
	start(storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, via), eventstore.Config{}))
}

// Views started while their store replays the stream (eventstore.Start) fold its replay beside
// it, from their snapshot on, and then follow the stream themselves: they equal a rebuild.
func TestViewsStartedDuringTheStoresReplayShareItAndEqualARebuild(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 30, 0)
	first, cancel := startCaughtUp(t, l, projections.RunnerConfig{})
	if err := first.SaveSnapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, snapSeq := first.LastSnapshot()
	cancel()
	first.Wait()
	write(t, l.Store, 20, 30) // events the snapshot does not hold: shared with the store

	for _, snapshots := range []bool{true, false} {
		t.Run(fmt.Sprintf("snapshots %v", snapshots), func(t *testing.T) {
			l.Store.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st, err := eventstore.Start(ctx, l.Embedded.Conn, eventstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			l.Store = st
			r := projections.NewRunner(st, projections.RunnerConfig{NoSnapshots: !snapshots})
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if _, ok := st.ShareReplay(snapSeq + 1); ok {
				t.Fatal("the views did not take the store's replay")
			}
			if err := st.CaughtUp(ctx); err != nil {
				t.Fatal(err)
			}
			waitSeq(t, r, head(t, l))
			if _, err := st.Execute(ctx, eventstore.Request{EmployerID: domain.EmployerIDForOrgCode(domain.NumberedOrgCode(301)), Today: today,
				Command: &domain.RecordPayment{PaidOn: "2006-08-01", AmountFen: "100", ReceiptNo: fmt.Sprint("after-", snapshots)}}); err != nil {
				t.Fatal(err)
			}
			waitSeq(t, r, head(t, l)) // and go on with their own consumer
			vc, err := r.VerifyRebuild(ctx, today)
			if err != nil || !vc.OK {
				t.Fatalf("views that shared the replay differ from a rebuild: %+v %v", vc, err)
			}
			cancel()
			r.Wait()
		})
	}
}

// heldViews holds the views' fold after a batch while held, until release is closed, and says
// on blocked when a fold waits.
type heldViews struct {
	held    atomic.Bool
	blocked chan uint64
	release chan struct{}
}

func (h *heldViews) Applied(_ int, seq uint64) {
	if h.held.Load() {
		h.blocked <- seq
		<-h.release
	}
}
func (h *heldViews) Snapshot(uint64, int, time.Duration) {}
func (h *heldViews) PastReplay(uint64, time.Duration)    {}

// Events appended after the views started (serve --demo writes the demo then) are part of what
// Ready waits for once given to CatchUp: the views are not ready while they are behind it, and
// are once they have folded it.
func TestViewsAreNotReadyUntilTheyFoldWhatCatchUpNames(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 10, 0)
	obs := &heldViews{blocked: make(chan uint64, 1), release: make(chan struct{})}
	r, cancel := startCaughtUp(t, l, projections.RunnerConfig{Observe: obs, NoSnapshots: true})
	defer cancel()
	waitReady(t, r)
	obs.held.Store(true)
	write(t, l.Store, 10, 10)
	var at uint64
	select {
	case at = <-obs.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the views never folded the events written after they started")
	}
	obs.held.Store(false)
	write(t, l.Store, 10, 20)
	last := head(t, l)
	r.CatchUp(last)
	if got := r.Seq(); got != at || got >= last {
		t.Fatalf("the held views are at %d; want %d, before %d", got, at, last)
	}
	if r.Ready() {
		t.Fatalf("ready at sequence %d, though CatchUp named %d", r.Seq(), last)
	}
	close(obs.release)
	waitSeq(t, r, last)
	waitReady(t, r)
	r.CatchUp(last - 1) // an earlier sequence changes nothing
	if !r.Ready() {
		t.Fatal("CatchUp with an earlier sequence made the views not ready")
	}
}

// waitReady waits until r is ready (it says so just after it folds the event that makes it).
func waitReady(t *testing.T, r *projections.Runner) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !r.Ready(); {
		if time.Now().After(deadline) {
			t.Fatalf("the views are not ready at sequence %d", r.Seq())
		}
		time.Sleep(time.Millisecond)
	}
}

// A first start has no snapshot of the views, which is no fault: it says so, not as a warning.
func TestAFirstStartSaysThereIsNoSnapshotYetWithoutAWarning(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	logs := &storetest.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := projections.NewRunner(l.Store, projections.RunnerConfig{Log: slog.New(slog.NewTextHandler(logs, nil))})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); !strings.Contains(s, "no snapshot of the views yet") || strings.Contains(s, "level=WARN") {
		t.Fatalf("the first start's log:\n%s", s)
	}
}

// Readers asking for the same report at once (other than the live one) share one computation,
// kept while the views stay where it was made; once they move, the report is made again and
// holds what moved them. Each equals the report of a rebuild.
func TestReadersAskingForAReportAtOnceShareOneComputation(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 20, 0)
	r, cancel := startCaughtUp(t, l, projections.RunnerConfig{NoSnapshots: true})
	defer cancel()
	q := projections.Query{AsOf: domain.MustDate("2006-11-30"), Period: domain.MustPeriod("2006-05")}
	const readers = 16
	got := make([]*projections.Report, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() { got[i] = mustReport(t, r, q) })
	}
	wg.Wait()
	for i, rep := range got {
		if rep != got[0] {
			t.Fatalf("reader %d of %d got a report of its own; want the one computation's", i, readers)
		}
	}
	want := func() string {
		t.Helper()
		rebuilt, err := projections.Rebuild(context.Background(), l.Store, r.Seq())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(rebuilt.Report(q))
		return string(b)
	}
	if b, _ := json.Marshal(got[0]); string(b) != want() {
		t.Fatalf("the shared report differs from a rebuild's:\n%.300s", b)
	}
	write(t, l.Store, 1, 20)
	waitSeq(t, r, head(t, l))
	later := mustReport(t, r, q)
	if later == got[0] || later.Seq == got[0].Seq {
		t.Fatalf("after the views moved to %d the report kept from %d was answered", r.Seq(), got[0].Seq)
	}
	if b, _ := json.Marshal(later); string(b) != want() {
		t.Fatalf("the report after a write differs from a rebuild's:\n%.300s", b)
	}
}

// A report whose readers all hung up is abandoned, not served to the next reader as an error.
func TestAReportAbandonedByItsReadersIsMadeAgainForTheNext(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 10, 0)
	r, cancel := startCaughtUp(t, l, projections.RunnerConfig{NoSnapshots: true})
	defer cancel()
	q := projections.Query{AsOf: domain.MustDate("2006-10-31"), Period: domain.MustPeriod("2006-05")}
	for range 20 {
		gone, hangUp := context.WithCancel(context.Background())
		hangUp()
		if _, err := r.Report(gone, q); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("a reader who hung up: %v", err)
		}
		if rep := mustReport(t, r, q); rep.Seq != r.Seq() {
			t.Fatalf("the next reader got a report at %d; the views are at %d", rep.Seq, r.Seq())
		}
	}
}

// TestNoSnapshotBelowTheDisksReserve: below the disk's reserve, where the ledger takes no
// write, the views store no snapshot either: an upload filling the disk faulted the server's
// store and every write was refused until a restart (an operator's drill found it, from the
// idle snapshot every 30 s). Asked for one, the runner says why not; none is stored.
func TestNoSnapshotBelowTheDisksReserve(t *testing.T) {
	full := errors.New("the disk is full")
	var below atomic.Bool // the store's check of its disk, as the embedded server's fault is read
	l := storetest.Start(t, eventstore.Config{WriteFault: func() error {
		if below.Load() {
			return full
		}
		return nil
	}})
	write(t, l.Store, 5, 0)
	// Snapshots only when asked (as at shutdown): the background ones go through the same check.
	r, cancel := startCaughtUp(t, l, projections.RunnerConfig{SnapshotEvery: 1 << 40, SnapshotIdle: time.Hour})
	defer func() { cancel(); r.Wait() }()
	below.Store(true)
	if err := r.SaveSnapshot(context.Background()); !errors.Is(err, full) {
		t.Fatalf("a snapshot below the reserve: %v, want the disk's error", err)
	}
	if at, seq := r.LastSnapshot(); !at.IsZero() || seq != 0 {
		t.Errorf("a snapshot was stored at %v (seq %d) below the reserve", at, seq)
	}
}
