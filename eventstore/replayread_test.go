package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

func TestTheReplaysOwnConnectionFoldsWhatTheClientFolds(t *testing.T) {
	l, keys, live := replayLedger(t)
	l.ReplayThroughClient = true
	l.Restart(t)
	client := readFolded(t, l.Store, keys)
	l.ReplayThroughClient = false
	l.Restart(t)
	own := readFolded(t, l.Store, keys)
	if !reflect.DeepEqual(client, live) {
		t.Fatalf("replayed through the client, the store folded\n%+v\nwhere the live store had\n%+v", client, live)
	}
	if !reflect.DeepEqual(own, client) {
		t.Fatalf("replayed through its own connection, the store folded\n%+v\nthrough the client\n%+v", own, client)
	}
	// Its consumer is deleted once the replay is read (not left to the server, which would
	// drop it after 30 s unused); the follower's own stays.
	ctx := context.Background()
	storetest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		stream, err := l.Store.JetStream().Stream(ctx, l.Store.Stream())
		if err != nil {
			return err
		}
		names := stream.ConsumerNames(ctx)
		for name := range names.Name() {
			if strings.HasPrefix(name, "kz-replay-") {
				return fmt.Errorf("the replay's consumer %s is still there", name)
			}
		}
		return names.Err()
	})
	// Writes after the replay are followed through the client.
	res := mustExecute(t, l.Store, register(orgCode(3999), "360702"))
	if err := l.Store.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := l.Store.EventCount(res.EmployerID); n != 1 {
		t.Fatalf("an employer registered after the replay has %d events folded, want 1", n)
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

// breakingConn fails its reads once it has read its allowance.
type breakingConn struct {
	net.Conn
	left  atomic.Int64
	broke *atomic.Bool
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

func TestAReplayWhoseOwnConnectionFailsIsFinishedByTheClient(t *testing.T) {
	l, keys, live := replayLedger(t)
	for _, tc := range []struct {
		name  string
		after int64 // bytes read before the connection breaks; -1: it cannot be made
	}{
		{"the connection cannot be made", -1},
		{"the connection breaks in the handshake", 100},
		{"the connection breaks in the first pull", 20_000},
		// The first pull asks for 1,024 of the ledger's 1,300-odd messages.
		{"the connection breaks in a later pull", int64(streamBytes(t, l) * 9 / 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var broke atomic.Bool
			l.Config.DialReplay = func() (net.Conn, eventstore.Credentials, error) {
				if tc.after < 0 {
					broke.Store(true)
					return nil, eventstore.Credentials{}, errors.New("no connection, by the test")
				}
				conn, cred, err := l.Embedded.DialReplay()
				if err != nil {
					return nil, cred, err
				}
				c := &breakingConn{Conn: conn, broke: &broke}
				c.left.Store(tc.after)
				return c, cred, nil
			}
			l.Restart(t)
			if !broke.Load() {
				t.Fatal("the replay's connection never broke: the test does not test the fallback")
			}
			if got := readFolded(t, l.Store, keys); !reflect.DeepEqual(got, live) {
				t.Fatalf("after the fallback the store folded\n%+v\nwhere the live store had\n%+v", got, live)
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

func TestTheReplaysOwnConnectionSignsInWithTheServersCredentials(t *testing.T) {
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:-1", User: "kz", Password: "correct horse battery"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	ctx := context.Background()
	open := func(dial eventstore.DialReplay) (*eventstore.Store, *warnings) {
		w := &warnings{}
		st, err := eventstore.Open(ctx, emb.Conn, eventstore.Config{DialReplay: dial, Log: slog.New(w)})
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
				conn, cred, err := emb.DialReplay()
				cred.Password = tc.password
				return conn, cred, err
			})
			defer st.Close()
			if got := st.EventCount(id); got != 2 {
				t.Fatalf("the replay folded %d events of the employer, want 2", got)
			}
			if fell := len(w.about("the replay goes through the client")) > 0; fell != tc.fallback {
				t.Fatalf("the replay went through the client: %v, want %v (warnings %q)", fell, tc.fallback, w.about(""))
			}
		})
	}
}
