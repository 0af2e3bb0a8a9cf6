package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// errorLog keeps what a server reports as an error or fatal, so that a node that does not start
// says why, and says so at once.
type errorLog struct {
	mu    sync.Mutex
	lines []string
	fatal bool
}

func (l *errorLog) add(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}

func (l *errorLog) Noticef(string, ...any)         {}
func (l *errorLog) Debugf(string, ...any)          {}
func (l *errorLog) Tracef(string, ...any)          {}
func (l *errorLog) Warnf(string, ...any)           {}
func (l *errorLog) Errorf(format string, v ...any) { l.add(format, v...) }

func (l *errorLog) Fatalf(format string, v ...any) {
	l.add(format, v...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fatal = true
}

func (l *errorLog) failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

func (l *errorLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "; ")
}

// startCluster runs three JetStream servers in this process, routed to each other on loopback.
// The cluster ports are picked free and then given up before the servers bind them, so another
// process on a busy machine can take one in between: then the servers are stopped and the
// cluster started again on fresh ports.
func startCluster(t *testing.T) []*server.Server {
	t.Helper()
	for try := 1; ; try++ {
		servers, err := tryCluster(t)
		if err == nil {
			for _, s := range servers {
				t.Cleanup(s.Shutdown)
			}
			storetest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
				for _, s := range servers {
					if s.JetStreamIsLeader() {
						return nil
					}
				}
				return fmt.Errorf("no JetStream meta leader elected yet")
			})
			return servers
		}
		if try == 3 {
			t.Fatal(err)
		}
		t.Logf("starting the cluster again: %v", err)
	}
}

func tryCluster(t *testing.T) ([]*server.Server, error) {
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var servers []*server.Server
	var logs []*errorLog
	for i := range 3 {
		var routes []string
		for j, p := range ports {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
			}
		}
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1, NoSigs: true,
			JetStream: true, StoreDir: t.TempDir(), SyncAlways: true, SyncInterval: 2 * time.Minute,
			Cluster: server.ClusterOpts{Name: "kuozheng", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		log := &errorLog{}
		s.SetLogger(log, false, false)
		go s.Start()
		servers = append(servers, s)
		logs = append(logs, log)
	}
	deadline := time.Now().Add(60 * time.Second)
	for i, s := range servers {
		for !s.ReadyForConnections(100 * time.Millisecond) {
			if logs[i].failed() || time.Now().After(deadline) {
				for _, s := range servers {
					s.Shutdown()
				}
				return nil, fmt.Errorf("cluster node %s did not start: %s", s.Name(), logs[i])
			}
		}
	}
	return servers, nil
}

func TestStoppingTheStreamLeaderLosesNoAcknowledgedWrite(t *testing.T) {
	servers := startCluster(t)
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

// clusterConn connects to the cluster with node i's URL first and the others after, in that
// order, as an API replica configured with every node's URL and closest to node i.
func clusterConn(t *testing.T, servers []*server.Server, i int) *nats.Conn {
	t.Helper()
	urls := []string{servers[i].ClientURL()}
	for j, s := range servers {
		if j != i {
			urls = append(urls, s.ClientURL())
		}
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.DontRandomize(), nats.MaxReconnects(-1),
		nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// openOnCluster opens a store with three replicas through nc, retrying while the cluster
// settles.
func openOnCluster(t *testing.T, nc *nats.Conn, cfg eventstore.Config) *eventstore.Store {
	t.Helper()
	if cfg.Replicas == 0 {
		cfg.Replicas = 3
	}
	var st *eventstore.Store
	storetest.CheckFor(t, 60*time.Second, 200*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		st, err = eventstore.Open(ctx, nc, cfg)
		return err
	})
	t.Cleanup(st.Close)
	return st
}

func TestHealthFailsWhileTheStreamHasNoQuorum(t *testing.T) {
	servers := startCluster(t)
	st := openOnCluster(t, clusterConn(t, servers, 0), eventstore.Config{})
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
