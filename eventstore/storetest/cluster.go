package storetest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

func freePort(t testing.TB) int {
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

// StartCluster runs three JetStream servers in this process, routed to each other on loopback.
// The cluster ports are picked free and then given up before the servers bind them, so another
// process on a busy machine can take one in between: then the servers are stopped and the
// cluster started again on fresh ports.
func StartCluster(t testing.TB) []*server.Server {
	t.Helper()
	for try := 1; ; try++ {
		servers, err := tryCluster(t)
		if err == nil {
			for _, s := range servers {
				t.Cleanup(s.Shutdown)
			}
			CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
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

func tryCluster(t testing.TB) ([]*server.Server, error) {
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

// ClusterConn connects to the cluster with node i's URL first and the others after, in that
// order, as an API replica configured with every node's URL and closest to node i.
func ClusterConn(t testing.TB, servers []*server.Server, i int) *nats.Conn {
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

// OpenOnCluster opens a store through nc, with three replicas unless cfg says otherwise; the
// store closes when the test ends.
func OpenOnCluster(t testing.TB, nc *nats.Conn, cfg eventstore.Config) *eventstore.Store {
	t.Helper()
	if cfg.Replicas == 0 {
		cfg.Replicas = 3
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := eventstore.Open(ctx, nc, cfg)
	if err != nil {
		t.Fatalf("open a store on the cluster: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}
