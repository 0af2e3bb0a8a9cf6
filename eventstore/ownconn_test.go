package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// foldedState is what a store folded from the stream, as its readers see it.
type foldedState struct {
	Applied     uint64
	ChainBreaks int
	Counties    map[string]string
	Counts      map[string]uint64
	Histories   map[string][]string // seq and hash of every event
	Keys        map[string]bool
	PensionBP   domain.BasisPoints
}

func readFolded(t *testing.T, st *eventstore.Store, keys []string) foldedState {
	t.Helper()
	if err := st.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := foldedState{Applied: st.Applied(), ChainBreaks: st.ChainBreaks(), Counties: map[string]string{},
		Counts: map[string]uint64{}, Histories: map[string][]string{}, Keys: map[string]bool{}}
	for _, id := range st.EmployerIDs() {
		f.Counties[id], _ = st.EmployerCounty(id)
		f.Counts[id] = st.EventCount(id)
		h, err := st.History(context.Background(), id)
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		for _, ev := range h {
			f.Histories[id] = append(f.Histories[id], fmt.Sprintf("%d %s", ev.Seq, ev.Hash))
		}
	}
	for _, k := range keys {
		ok, err := st.Recorded(k)
		if err != nil {
			t.Fatal(err)
		}
		f.Keys[k] = ok
	}
	f.PensionBP, _ = st.Reference().Rate(domain.Pension, domain.PayerUnit, 1, domain.MustDate("2006-05-01"))
	return f
}

// replayLedger writes a small ledger with no store folder, so that every start replays it all:
// more messages than the replay's connection asks for at once.
func replayLedger(t *testing.T) (*storetest.Ledger, []string, foldedState) {
	l := storetest.Start(t, eventstore.Config{})
	var keys []string
	var ids []string
	for i := range 40 {
		req := register(orgCode(3000+i), "360702")
		req.IdempotencyKey = fmt.Sprintf("reg-%d", i)
		keys = append(keys, req.IdempotencyKey)
		ids = append(ids, mustExecute(t, l.Store, req).EmployerID)
	}
	var reqs []eventstore.Request
	for k := range 1200 {
		req := payment(ids[k%len(ids)], fmt.Sprintf("P%d", k), int64(100+k))
		req.IdempotencyKey = fmt.Sprintf("pay-%d", k)
		keys = append(keys, req.IdempotencyKey)
		reqs = append(reqs, req)
	}
	for i, r := range l.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			t.Fatalf("payment %d: %v", i, r.Err)
		}
	}
	return l, keys, readFolded(t, l.Store, keys)
}

func TestTheFollowersOwnConnectionFoldsWhatTheClientFolds(t *testing.T) {
	l, keys, live := replayLedger(t)
	l.FollowThroughClient = true
	l.Restart(t)
	client := readFolded(t, l.Store, keys)
	l.FollowThroughClient = false
	l.Restart(t)
	own := readFolded(t, l.Store, keys)
	if !reflect.DeepEqual(client, live) {
		t.Fatalf("replayed through the client, the store folded\n%+v\nwhere the live store had\n%+v", client, live)
	}
	if !reflect.DeepEqual(own, client) {
		t.Fatalf("replayed through its own connection, the store folded\n%+v\nthrough the client\n%+v", own, client)
	}
	// The follower reads through one consumer of its own: the client made none.
	ctx := context.Background()
	stream, err := l.Store.JetStream().Stream(ctx, l.Store.Stream())
	if err != nil {
		t.Fatal(err)
	}
	var consumers []string
	names := stream.ConsumerNames(ctx)
	for name := range names.Name() {
		consumers = append(consumers, name)
	}
	if names.Err() != nil || len(consumers) != 1 || !strings.HasPrefix(consumers[0], "kz-follow-") {
		t.Fatalf("the stream's consumers: %q (%v), want the follower's own alone", consumers, names.Err())
	}
	// What another store writes after the replay is followed as it comes.
	other, err := eventstore.Open(ctx, l.Embedded.Conn, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	id := mustExecute(t, other, register(orgCode(3999), "360702")).EmployerID
	for k := range 3 {
		mustExecute(t, other, payment(id, fmt.Sprintf("L%d", k), 700))
	}
	last, err := other.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Store.WaitApplied(ctx, last); err != nil {
		t.Fatal(err)
	}
	if n := l.Store.EventCount(id); n != 4 {
		t.Fatalf("the follower folded %d events of an employer another store registered after the replay, want 4", n)
	}
}

// streamBytes is the size of the stream's messages.
func streamBytes(t *testing.T, l *storetest.Ledger) uint64 {
	t.Helper()
	ctx := context.Background()
	stream, err := l.Store.JetStream().Stream(ctx, l.Store.Stream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Bytes
}

// breakingConn fails its reads once it has read its allowance, or once cut.
type breakingConn struct {
	net.Conn
	left  atomic.Int64
	broke *atomic.Bool
}

func (c *breakingConn) cut() {
	c.left.Store(0)
	c.broke.Store(true)
	c.Conn.Close()
}

func (c *breakingConn) Read(p []byte) (int, error) {
	if c.left.Load() <= 0 {
		c.broke.Store(true)
		c.Conn.Close()
		return 0, errors.New("connection cut by the test")
	}
	n, err := c.Conn.Read(p[:min(int64(len(p)), c.left.Load())])
	c.left.Add(-int64(n))
	return n, err
}

// connectionBreaks are where a test breaks the store's own connection to the server, by the
// bytes read before it breaks, a share of the stream's: -1 it cannot be made, 0 the test cuts it
// once the replay is read, while its reader waits for new messages.
var connectionBreaks = []struct {
	name  string
	after float64
}{
	{"the connection cannot be made", -1},
	{"the connection breaks in the handshake", 1e-4},
	{"the connection breaks in the first pull", 0.02},
	// The first pull asks for 1,024 of the ledger's 1,300-odd messages.
	{"the connection breaks in a later pull", 0.9},
	{"the connection breaks after the replay", 0},
}

func TestAFollowerWhoseOwnConnectionFailsGoesOnThroughTheClient(t *testing.T) {
	l, keys, _ := replayLedger(t)
	id := l.Store.EmployerIDs()[0]
	for _, tc := range connectionBreaks {
		t.Run(tc.name, func(t *testing.T) {
			size := float64(streamBytes(t, l))
			var broke atomic.Bool
			var last *breakingConn
			l.Config.DialFollow = func() (net.Conn, eventstore.Credentials, error) {
				if tc.after < 0 {
					broke.Store(true)
					return nil, eventstore.Credentials{}, errors.New("no connection, by the test")
				}
				conn, cred, err := l.Embedded.DialFollow()
				if err != nil {
					return nil, cred, err
				}
				last = &breakingConn{Conn: conn, broke: &broke}
				last.left.Store(math.MaxInt64)
				if tc.after > 0 {
					last.left.Store(int64(tc.after * size))
				}
				return last, cred, nil
			}
			l.Restart(t)
			if tc.after == 0 {
				if broke.Load() {
					t.Fatal("the connection broke before the test broke it")
				}
				last.cut()
			}
			for k := range 5 {
				mustExecute(t, l.Store, payment(id, fmt.Sprintf("%s %d", tc.name, k), 300))
			}
			got := readFolded(t, l.Store, keys)
			if !broke.Load() {
				t.Fatal("the follower's connection never broke: the test does not test the fallback")
			}
			l.Config.DialFollow, l.FollowThroughClient = nil, true
			l.Restart(t)
			l.FollowThroughClient = false
			if want := readFolded(t, l.Store, keys); !reflect.DeepEqual(got, want) {
				t.Fatalf("after the fallback the store folded\n%+v\nwhere a replay through the client folds\n%+v", got, want)
			}
		})
	}
}

// warnings keeps the messages a store logs at warning level and above.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	w.msgs = append(w.msgs, msg)
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

func (w *warnings) about(s string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, m := range w.msgs {
		if strings.Contains(m, s) {
			out = append(out, m)
		}
	}
	return out
}

func TestTheFollowersOwnConnectionSignsInWithTheServersCredentials(t *testing.T) {
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:-1", User: "kz", Password: "correct horse battery"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	ctx := context.Background()
	open := func(dial eventstore.DialFollow) (*eventstore.Store, *warnings) {
		w := &warnings{}
		st, err := eventstore.Open(ctx, emb.Conn, eventstore.Config{DialFollow: dial, Log: slog.New(w)})
		if err != nil {
			t.Fatal(err)
		}
		return st, w
	}
	st, _ := open(nil)
	id := mustExecute(t, st, register(orgCode(4100), "360702")).EmployerID
	mustExecute(t, st, payment(id, "R1", 500))
	st.Close()

	for _, tc := range []struct {
		name     string
		password string
		fallback bool
	}{
		{"the server's own credentials", "correct horse battery", false},
		{"a wrong password", "wrong horse battery", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, w := open(func() (net.Conn, eventstore.Credentials, error) {
				conn, cred, err := emb.DialFollow()
				cred.Password = tc.password
				return conn, cred, err
			})
			defer st.Close()
			if got := st.EventCount(id); got != 2 {
				t.Fatalf("the replay folded %d events of the employer, want 2", got)
			}
			if fell := len(w.about("the follower reads through the client")) > 0; fell != tc.fallback {
				t.Fatalf("the replay went through the client: %v, want %v (warnings %q)", fell, tc.fallback, w.about(""))
			}
		})
	}
}
