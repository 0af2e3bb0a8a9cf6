package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go/jetstream"
)

// readyzOf asks srv's /readyz and decodes its answer.
func readyzOf(t *testing.T, srv *httptest.Server) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("/readyz: %v: %s", err, raw)
	}
	return resp.StatusCode, body
}

// On a ledger whose stream answers, /readyz is 200 and shows the stream as the probe saw it;
// once its server is gone, /readyz is 503 "stream not answering" however ready the views are.
func TestReadyzAsksTheStream(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	r := startRunner(t, l.Store)
	probe := api.NewStreamProbe(l.Store)
	probe.Every = -1 // every /readyz checks again
	srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: r, Probe: probe.Check,
		Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()

	code, body := readyzOf(t, srv)
	stream, _ := body["stream"].(map[string]any)
	if code != http.StatusOK || body["status"] != "ready" || stream["name"] != "LEDGER" || stream["leader"] == "" ||
		stream["last_seq"] != stream["applied"] || stream["checked_at"] == nil {
		t.Fatalf("/readyz on a ledger whose stream answers: %d %v", code, body)
	}

	l.Embedded.Server.Shutdown()
	l.Embedded.Server.WaitForShutdown()
	code, body = readyzOf(t, srv)
	if code != http.StatusServiceUnavailable || body["status"] != "stream not answering" || !strings.Contains(body["reason"].(string), "did not answer") {
		t.Fatalf("/readyz with the NATS server gone: %d %v", code, body)
	}
}

// fakeStream is a stream whose answers a test sets: its last sequence, its leader, or no answer.
type fakeStream struct {
	mu       sync.Mutex
	last     uint64
	leader   string
	replicas []*jetstream.PeerInfo // nil: n2 current, n3 offline
	created  time.Time
	silent   bool
	applied  atomic.Uint64
	asked    atomic.Int32
	deadline time.Duration // how far the last question's deadline was
}

func (f *fakeStream) info(ctx context.Context) (*jetstream.StreamInfo, error) {
	f.asked.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(d)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if f.silent {
		return nil, jetstream.ErrNoStreamResponse
	}
	replicas := f.replicas
	if replicas == nil {
		replicas = []*jetstream.PeerInfo{{Name: "n2", Current: true}, {Name: "n3", Offline: true}}
	}
	return &jetstream.StreamInfo{
		Created: f.created,
		Config:  jetstream.StreamConfig{Name: "LEDGER", Replicas: 3},
		State:   jetstream.StreamState{LastSeq: f.last},
		Cluster: &jetstream.ClusterInfo{Leader: f.leader, Replicas: replicas},
	}, nil
}

func (f *fakeStream) set(last uint64, leader string, silent bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last, f.leader, f.silent = last, leader, silent
}

func (f *fakeStream) probe() *api.StreamProbe {
	return &api.StreamProbe{Info: f.info, Applied: f.applied.Load, Every: -1, Stalled: 3}
}

func statusOf(err error) string {
	var nr *api.NotReady
	if errors.As(err, &nr) {
		return nr.Status
	}
	if err != nil {
		return "untyped: " + err.Error()
	}
	return "ready"
}

// A follower that passed the stream's last messages as lost (eventstore.Store.Reached: the end of
// the last block file cut off, which no consumer delivers) is not behind them: the ledger was
// ready once damage was accepted, then said "follower behind" for ever.
func TestAFollowerPastTheStreamsLostMessagesIsNotBehind(t *testing.T) {
	f := &fakeStream{}
	f.set(7000, "n1", false)
	f.applied.Store(6997)
	p := f.probe()
	p.Reached = func(seq uint64) bool { return seq <= 7000 }
	for i := range 5 {
		if _, err := p.Check(context.Background()); statusOf(err) != "ready" {
			t.Fatalf("check %d with the follower past the lost 6998-7000: %s", i+1, statusOf(err))
		}
	}
}

// A stream whose followers answer that it has no leader is not ready; once one is elected it is.
func TestAStreamWithoutALeaderIsNotReady(t *testing.T) {
	f := &fakeStream{}
	p := f.probe()
	f.set(10, "", false)
	f.applied.Store(10)
	detail, err := p.Check(context.Background())
	if statusOf(err) != "no stream leader" {
		t.Fatalf("no leader: %v", err)
	}
	if st, _ := detail.(*api.StreamState); st == nil || len(st.Replicas) != 2 || !st.Replicas[1].Offline {
		t.Fatalf("no leader: the detail shows %#v, want the replicas as the followers see them", detail)
	}
	f.set(10, "n2", false)
	if detail, err := p.Check(context.Background()); err != nil || detail.(*api.StreamState).Leader != "n2" {
		t.Fatalf("leader n2 elected: %v %v", detail, err)
	}
}

// A data folder that takes no write makes the ledger not ready, each way saying which, with the
// store's words; the stream's state is still shown. Once it takes writes again the ledger is ready.
func TestADataFolderThatTakesNoWriteIsNotReady(t *testing.T) {
	f := &fakeStream{}
	p := f.probe()
	f.set(10, "n1", false)
	f.applied.Store(10)
	var disk error
	p.Disk = func() error { return disk }
	for _, c := range []struct {
		err    *eventstore.DiskError
		status string
	}{
		{&eventstore.DiskError{Dir: "/data", Free: 100 << 20, Reserve: eventstore.DiskReserveDefault}, "disk full"},
		{&eventstore.DiskError{Dir: "/data", ReadOnly: true}, "disk read-only"},
		{&eventstore.DiskError{Dir: "/data", Fault: "no space left on device"}, "disk write fault"},
	} {
		disk = c.err
		detail, err := p.Check(context.Background())
		var nr *api.NotReady
		if !errors.As(err, &nr) || nr.Status != c.status || !strings.Contains(nr.Reason, c.err.Error()) {
			t.Fatalf("%v: %v, want %q with the store's words", c.err, err, c.status)
		}
		if st, _ := detail.(*api.StreamState); st == nil || st.Leader != "n1" {
			t.Fatalf("%s: the detail shows %#v, want the stream's state", c.status, detail)
		}
	}
	disk = nil
	if _, err := p.Check(context.Background()); err != nil {
		t.Fatalf("space freed: %v", err)
	}
}

// A stream that does not answer is asked with the probe's timeout, not the asking request's
// context: a reader who hung up does not make the ledger look down.
func TestAStreamThatDoesNotAnswerIsNotReady(t *testing.T) {
	f := &fakeStream{}
	p := f.probe()
	p.Timeout = 2 * time.Second
	f.set(0, "", true)
	if _, err := p.Check(context.Background()); statusOf(err) != "stream not answering" {
		t.Fatalf("silent stream: %v", err)
	}
	if f.deadline <= 0 || f.deadline > 2*time.Second {
		t.Errorf("the stream was asked with %v to answer, want at most the probe's 2 s", f.deadline)
	}
	f.set(5, "n1", false)
	f.applied.Store(5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Check(ctx); err != nil {
		t.Fatalf("a check asked by a request that hung up: %v", err)
	}
}

// The follower is behind when, for Stalled checks in a row, it has not folded the last sequence
// the check before saw; a follower that moves on, even behind a stream that grows, is not.
func TestAStalledFollowerIsNotReady(t *testing.T) {
	f := &fakeStream{}
	p := f.probe()
	check := func() string {
		t.Helper()
		_, err := p.Check(context.Background())
		return statusOf(err)
	}
	// Writes keep coming; the follower keeps up with what the check before saw.
	for i := range uint64(10) {
		f.set(100*(i+1), "n1", false)
		if s := check(); s != "ready" {
			t.Fatalf("check %d with the follower at %d, the stream at %d: %s", i, f.applied.Load(), 100*(i+1), s)
		}
		f.applied.Store(100 * (i + 1)) // folded before the next check
	}
	// The follower stops at 1000 while the stream grows: at the first check it has still folded
	// what the check before saw; at the next three it has not, and the third of those says so.
	for i := range uint64(4) {
		f.set(1100+100*i, "n1", false)
		want := "ready"
		if i == 3 {
			want = "follower behind"
		}
		if s := check(); s != want {
			t.Fatalf("check %d after the follower stopped: %s, want %s", i+1, s, want)
		}
	}
	if s := check(); s != "follower behind" {
		t.Fatalf("still stopped: %s", s)
	}
	// It moves again, but not yet to what the check before saw: still behind; then it is there.
	f.applied.Store(1300)
	if s := check(); s != "follower behind" {
		t.Fatalf("the follower at 1300 of 1400: %s", s)
	}
	f.applied.Store(1400)
	if s := check(); s != "ready" {
		t.Fatalf("the follower caught up: %s", s)
	}
	// A follower at the head of a stream nobody writes to is never behind.
	for range 5 {
		if s := check(); s != "ready" {
			t.Fatalf("idle stream: %s", s)
		}
	}
}

// A stream made again under the replica (a restore --replace while it ran), here one as long
// as the one it followed, is not ready, saying so, until the replica is restarted.
func TestAStreamMadeAgainUnderTheReplicaIsNotReady(t *testing.T) {
	f := &fakeStream{created: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	p := f.probe()
	f.set(3043, "n1", false)
	f.applied.Store(3043)
	if _, err := p.Check(context.Background()); err != nil {
		t.Fatalf("the stream it follows: %v", err)
	}
	f.mu.Lock()
	f.created, f.last = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC), 5000
	f.mu.Unlock()
	if _, err := p.Check(context.Background()); statusOf(err) != "stream replaced" || !strings.Contains(err.Error(), "restart this replica") {
		t.Fatalf("a stream made again, longer: %v, want not ready, saying to restart", err)
	}
}

// A leader whose replicas are down (offline, or behind and unheard from for 5 s) has lost its
// quorum before it knows it: not ready. One replica up with the leader is a quorum of three; a
// replica behind but heard from is up.
func TestAStreamWhoseLeaderLostItsQuorumIsNotReady(t *testing.T) {
	f := &fakeStream{}
	p := f.probe()
	f.set(10, "n1", false)
	f.applied.Store(10)
	for _, tt := range []struct {
		name     string
		replicas []*jetstream.PeerInfo
		want     string
	}{
		{"one replica offline", []*jetstream.PeerInfo{{Name: "n2", Current: true}, {Name: "n3", Offline: true}}, "ready"},
		{"both replicas behind but heard from", []*jetstream.PeerInfo{{Name: "n2", Active: time.Second}, {Name: "n3", Active: time.Second, Lag: 40}}, "ready"},
		{"one offline, one unheard from for 6 s", []*jetstream.PeerInfo{{Name: "n2", Active: 6 * time.Second}, {Name: "n3", Offline: true}}, "no stream quorum"},
		{"both offline", []*jetstream.PeerInfo{{Name: "n2", Offline: true}, {Name: "n3", Offline: true}}, "no stream quorum"},
	} {
		f.mu.Lock()
		f.replicas = tt.replicas
		f.mu.Unlock()
		if _, err := p.Check(context.Background()); statusOf(err) != tt.want {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
		}
	}
}

// A stream that ends before what the store has folded was replaced under it (a restore --replace
// while serve ran): not ready, saying so, until the store is restarted.
func TestAStreamShorterThanWhatWasFoldedIsNotReady(t *testing.T) {
	f := &fakeStream{}
	p := f.probe()
	f.set(3043, "n1", false)
	f.applied.Store(3043)
	if _, err := p.Check(context.Background()); err != nil {
		t.Fatalf("a follower at the stream's head: %v", err)
	}
	f.set(42, "n1", false)
	_, err := p.Check(context.Background())
	if statusOf(err) != "stream shorter than folded" || !strings.Contains(err.Error(), "restart this replica") {
		t.Fatalf("a stream of 42 under a store at 3043: %v, want not ready, saying to restart", err)
	}
}

// A ready result is kept for Every: /readyz asked a hundred times, by concurrent readers, asks
// the stream once. A not-ready one is kept for EveryNotReady.
func TestTheStreamProbeIsCached(t *testing.T) {
	f := &fakeStream{}
	f.set(7, "n1", false)
	f.applied.Store(7)
	p := f.probe()
	p.Every = time.Hour
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if _, err := p.Check(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.asked.Load(); n != 1 {
		t.Fatalf("the stream was asked %d times, want once", n)
	}

	for _, keep := range []time.Duration{time.Hour, -1} {
		f := &fakeStream{}
		f.set(0, "", true)
		p := f.probe()
		p.Every, p.EveryNotReady = time.Hour, keep
		if _, err := p.Check(context.Background()); err == nil {
			t.Fatal("a silent stream is ready")
		}
		f.set(7, "n1", false)
		f.applied.Store(7)
		_, err := p.Check(context.Background())
		switch {
		case keep > 0 && (err == nil || f.asked.Load() != 1):
			t.Errorf("not-ready kept for %v: the next check says %v after %d questions, want the kept answer", keep, err, f.asked.Load())
		case keep < 0 && (err != nil || f.asked.Load() != 2):
			t.Errorf("not-ready not kept: the next check says %v after %d questions, want ready after 2", err, f.asked.Load())
		}
	}
}

// A probe's refusal comes before the views': a stream that cannot take writes makes /readyz 503
// with the probe's status and reason, even with the views caught up; any other error is
// "not ready".
func TestReadyzAnswersTheProbesReason(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	r := startRunner(t, l.Store)
	for _, tt := range []struct {
		err        error
		status     string
		reasonPart string
	}{
		{&api.NotReady{Status: "no stream leader", Reason: "stream LEDGER has no leader"}, "no stream leader", "has no leader"},
		{errors.New("the store says no"), "not ready", "the store says no"},
	} {
		srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: r,
			Probe: func(context.Context) (any, error) { return map[string]any{"leader": ""}, tt.err },
			Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
		code, body := readyzOf(t, srv)
		srv.Close()
		if code != http.StatusServiceUnavailable || body["status"] != tt.status || !strings.Contains(body["reason"].(string), tt.reasonPart) || body["stream"] == nil {
			t.Errorf("probe says %v: /readyz %d %v", tt.err, code, body)
		}
	}
}
