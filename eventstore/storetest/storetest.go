// Package storetest starts real embedded JetStream servers and ledgers for tests.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go/jetstream"
)

// Ledger is a store on an embedded nats-server in a test's temporary folder.
type Ledger struct {
	// LazySync makes the server acknowledge before syncing (JetStream's default), for reference figures.
	LazySync bool
	Dir      string
	Embedded *eventstore.Embedded
	Store    *eventstore.Store
	Config   eventstore.Config
	// FollowThroughClient makes the follower read through the client, as on a server the store
	// cannot dial (--nats), instead of a connection of its own (Config.DialFollow, by default the
	// embedded server's).
	FollowThroughClient bool
}

// Start runs an embedded nats-server (syncing before acknowledging, as in production) in a new
// temporary folder and opens the store on it; both stop when the test ends.
func Start(t testing.TB, cfg eventstore.Config) *Ledger {
	t.Helper()
	return StartLazy(t, cfg, false)
}

// StartLazy is Start with the server's sync policy chosen: lazy acknowledges before syncing.
func StartLazy(t testing.TB, cfg eventstore.Config, lazy bool) *Ledger {
	t.Helper()
	l := &Ledger{Dir: t.TempDir(), Config: cfg, LazySync: lazy}
	l.Restart(t)
	t.Cleanup(l.Stop)
	return l
}

// Restart stops the server and store (if running) and starts them again on the same folder.
func (l *Ledger) Restart(t testing.TB) {
	t.Helper()
	l.Stop()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: l.Dir, LazySync: l.LazySync}, nil)
	if err != nil {
		t.Fatalf("start embedded nats-server: %v", err)
	}
	l.Embedded = emb
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := emb.StoreConfig(l.Config) // as serve opens its store on the embedded server
	if l.FollowThroughClient {
		cfg.DialFollow = nil
	}
	st, err := eventstore.Open(ctx, emb.Conn, cfg)
	if err != nil {
		emb.Close()
		l.Embedded = nil
		t.Fatalf("open store: %v", err)
	}
	l.Store = st
}

// Stop closes the store and the server.
func (l *Ledger) Stop() {
	if l.Store != nil {
		l.Store.Close()
		l.Store = nil
	}
	if l.Embedded != nil {
		l.Embedded.Close()
		l.Embedded = nil
	}
}

// MessageCount is the number of messages in the stream.
func (l *Ledger) MessageCount(t testing.TB) uint64 {
	t.Helper()
	n, err := l.Store.LastSeq(context.Background())
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return n
}

// Events is the number of events in the stream: its messages but the claims of notice numbers
// appended with notices (eventstore.NoticeNumberPrefix), which are no events.
func (l *Ledger) Events(t testing.TB) uint64 {
	t.Helper()
	ctx := context.Background()
	stream, err := l.Store.JetStream().Stream(ctx, l.Store.Stream())
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(l.Store.Subjects().Notice+">"))
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	var claims uint64
	for _, n := range info.State.Subjects {
		claims += n
	}
	return info.State.Msgs - claims
}

// CheckFor polls f until it returns nil or the timeout passes.
func CheckFor(t testing.TB, timeout, every time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(every)
	}
	t.Fatalf("condition not met after %v: %v", timeout, err)
}

// WaitReplicasCurrent waits until the stream has all the replicas its configuration asks for,
// each online and current with its leader. A test that takes the leader away must wait for it: a replica still catching up cannot
// be elected, and on a busy machine the cluster may then have no leader for minutes, which is
// the loss of two nodes of three and not the fault under test.
func WaitReplicasCurrent(t testing.TB, js jetstream.JetStream, stream string) {
	t.Helper()
	CheckFor(t, 2*time.Minute, 50*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		info := s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return fmt.Errorf("stream %s has no leader", stream)
		}
		// A change of replicas is a migration the server finishes later: until it has, the
		// stream sits on its old peers and lists none of the new ones.
		if info.Cluster.Desired != nil || len(info.Cluster.Replicas) != info.Config.Replicas-1 {
			return fmt.Errorf("stream %s has %d of %d replicas placed", stream, len(info.Cluster.Replicas)+1, info.Config.Replicas)
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current || r.Offline {
				return fmt.Errorf("replica %s of %s not current yet (lag %d)", r.Name, stream, r.Lag)
			}
		}
		return nil
	})
}

// BenchEvents is the ledger size a benchmark asks for in KUOZHENG_BENCH_EVENTS (scripts/bench.sh
// sets it), or def when it is unset or not a positive number.
func BenchEvents(def int) int {
	if v, err := strconv.Atoi(os.Getenv("KUOZHENG_BENCH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return def
}

// AppendDemo appends the 2006 demo ledger of the given payers (about 23 events each) to st
// through the bulk path, every step with an idempotency key, and returns the stream's last
// sequence: the ledger the benchmarks measure.
func AppendDemo(tb testing.TB, st *eventstore.Store, employers int) uint64 {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	steps := demo.Generate(demo.Config{Employers: employers, Seed: 2006})
	reqs := make([]eventstore.Request, len(steps))
	for i, s := range steps {
		reqs[i] = eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: demo.Today, Actor: "bench",
			IdempotencyKey: fmt.Sprintf("bench-%d", i), BodyHash: fmt.Sprint(i)}
	}
	steps = nil
	const chunk = 50000
	for lo := 0; lo < len(reqs); lo += chunk {
		for i, r := range st.ExecuteBulk(ctx, reqs[lo:min(lo+chunk, len(reqs))]) {
			if r.Err != nil {
				tb.Fatalf("generating: step %d: %v", lo+i, r.Err)
			}
		}
	}
	last, _ := st.LastSeq(ctx)
	tb.Logf("generated %d events for %d payers in %v", last, employers, time.Since(start).Round(time.Second))
	return last
}

// SyncBuffer collects text written by a server's goroutines (a log, a child's stderr) while the
// test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// RoundEnv names the variable holding the round of a benchmark run (scripts/bench.sh runs every
// benchmark once a round); Rotation turns the order of sub-benchmarks with it.
const RoundEnv = "KUOZHENG_BENCH_ROUND"

// A Rotation gathers a benchmark's sub-benchmarks (the ledger, the raw engine, PostgreSQL) and
// runs them in an order that turns with the round RoundEnv names: each goes first in turn, so
// that what the machine does differently over a run (a cache warm or cold, a busy neighbour)
// falls on each side in turn rather than always on the same one.
type Rotation struct {
	b       *testing.B
	names   []string
	fs      []func(*testing.B)
	asServe bool
}

// Rotate starts gathering b's sub-benchmarks, run with Go's collector settings: for rows whose
// sides share one process holding the ledger's store (rebuild, history, freeze, counties), where
// serve's soft limit, charged with that store's heap, would make the server drop its block
// caches for the baseline too (raw history reads went from 0.6 to 34 ms).
func Rotate(b *testing.B) *Rotation { return &Rotation{b: b} }

// RotateAsServe is Rotate for rows whose sides each start a server and a ledger of their own
// (appends, imports): every side runs with the collector as serve runs it (collectAsServe), so
// the ledger is measured as it is served and a baseline beside the same embedded server gets the
// same settings (raw atomic batches ran 7% faster with them).
func RotateAsServe(b *testing.B) *Rotation { return &Rotation{b: b, asServe: true} }

// Run adds a sub-benchmark, run by Go.
func (r *Rotation) Run(name string, f func(*testing.B)) {
	r.names, r.fs = append(r.names, name), append(r.fs, f)
}

// Go runs the sub-benchmarks, the first the round's (round modulo their number), then the rest
// in the order they were added.
func (r *Rotation) Go() {
	round, _ := strconv.Atoi(os.Getenv(RoundEnv))
	n := len(r.names)
	for i := range n {
		k := (i + max(round, 0)) % n
		r.b.Run(r.names[k], func(b *testing.B) {
			if r.asServe {
				collectAsServe(b)
			}
			r.fs[k](b)
		})
	}
}

// The collector's settings of serve once started, with its default soft limit (cmd/kuozheng's
// steadyGCPercent and defaultMemoryLimit, which its tests hold to these).
const (
	ServeGCPercent   = 400
	ServeMemoryLimit = 896 << 20
)

// collectAsServe runs the collector as serve runs it once started until tb ends.
func collectAsServe(tb testing.TB) {
	percent := debug.SetGCPercent(ServeGCPercent)
	limit := debug.SetMemoryLimit(ServeMemoryLimit)
	tb.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}
