package eventstore

import (
	"bytes"
	"context"
	"errors"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
)

// gate is a TCP proxy in front of a NATS server that can hold back the server's answers, and
// tells when the client asks for a stored message.
type gate struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	held   bool
	open   *sync.Cond
	asked  chan struct{} // receives when a client asks for a message by sequence
}

func newGate(t *testing.T, target string) *gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{ln: ln, target: target, asked: make(chan struct{}, 1)}
	g.open = sync.NewCond(&g.mu)
	go g.accept()
	t.Cleanup(func() {
		g.hold(false)
		_ = ln.Close()
	})
	return g
}

func (g *gate) hold(h bool) {
	g.mu.Lock()
	g.held = h
	g.mu.Unlock()
	g.open.Broadcast()
}

func (g *gate) accept() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", g.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		go g.pipe(c, s, func(b []byte) {
			if bytes.Contains(b, []byte("DIRECT.GET")) || bytes.Contains(b, []byte("MSG.GET")) {
				select {
				case g.asked <- struct{}{}:
				default:
				}
			}
		})
		go g.pipe(s, c, func([]byte) {
			g.mu.Lock()
			for g.held {
				g.open.Wait()
			}
			g.mu.Unlock()
		})
	}
}

func (g *gate) pipe(from, to net.Conn, before func([]byte)) {
	defer func() { _ = from.Close(); _ = to.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			before(buf[:n])
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Folding an employer that is not cached reads its events from NATS; while that read waits,
// the store's lock is free (the follower and every other reader go on), and the caller's
// context bounds the read.
func TestFoldingAnEmployerOutOfTheCacheHoldsNoLockWhileItReadsFromNATS(t *testing.T) {
	emb, err := StartEmbedded(EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:-1", User: "kz", Password: "correct horse battery"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	g := newGate(t, emb.Server.Addr().String())
	nc, err := nats.Connect("nats://"+g.ln.Addr().String(), nats.UserInfo("kz", "correct horse battery"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	// No archive and one cached employer: the first employer is folded from direct gets.
	s, err := Open(context.Background(), nc, Config{EmployerCache: 1, NoArchive: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	var ids []string
	for _, code := range []string{"10000004-0", "10000005-9"} {
		res, err := s.Execute(context.Background(), Request{Create: true, Today: replicaToday, Actor: "test", Command: &domain.RegisterEmployer{
			Name: "单位 " + code, County: "360702", OrgCode: code, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.EmployerID)
	}
	if _, err := s.Execute(context.Background(), keyedPayment(ids[0], "", "")); err != nil {
		t.Fatal(err)
	}
	want, _ := s.Employer(ids[0])
	if _, ok := s.Employer(ids[1]); !ok { // ids[0] leaves the cache
		t.Fatal("second employer not found")
	}

	g.hold(true)
	drain(g.asked)
	ctx, cancel := context.WithCancel(context.Background())
	folded := make(chan error, 1)
	go func() {
		_, err := s.EmployerContext(ctx, ids[0])
		folded <- err
	}()
	select {
	case <-g.asked:
	case <-time.After(20 * time.Second):
		t.Fatal("the fold never asked NATS for the employer's events")
	}
	locked := make(chan struct{})
	go func() {
		s.mu.Lock() // what the follower needs to fold the next event
		defer s.mu.Unlock()
		close(locked)
	}()
	select {
	case <-locked:
	case <-time.After(20 * time.Second):
		t.Fatal("the store's lock is held while a fold waits for NATS")
	}
	cancel()
	select {
	case err := <-folded:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("a fold whose context ended: %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a fold went on after its caller's context ended")
	}
	g.hold(false)
	got, err := s.EmployerContext(context.Background(), ids[0])
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the employer folded again: %+v %v, want %+v", got, err, want)
	}
}

func drain(ch chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
