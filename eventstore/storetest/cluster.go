package storetest

import (
	"context"
	"fmt"
	"io"
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
		servers, err := tryCluster(t, nil)
		if err == nil {
			for _, s := range servers {
				t.Cleanup(s.Shutdown)
			}
			waitMetaLeader(t, servers)
			return servers
		}
		if try == 3 {
			t.Fatal(err)
		}
		t.Logf("starting the cluster again: %v", err)
	}
}

// tryCluster starts three servers routed to each other; route, when set, gives the address node
// i dials to reach node j's cluster port (a proxy), and the servers then advertise no addresses
// of their own: their cluster address, which peers learn by gossip and would dial directly
// around the proxies, is one where every connection is closed at once.
func tryCluster(t testing.TB, route func(i, j, port int) string) ([]*server.Server, error) {
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var advertise string
	if route != nil {
		advertise = nowhere(t)
	}
	var servers []*server.Server
	var logs []*errorLog
	for i := range 3 {
		var routes []string
		for j, p := range ports {
			if j != i {
				addr := fmt.Sprintf("127.0.0.1:%d", p)
				if route != nil {
					addr = route(i, j, p)
				}
				routes = append(routes, "nats://"+addr)
			}
		}
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1, NoSigs: true,
			JetStream: true, StoreDir: t.TempDir(), SyncAlways: true, SyncInterval: 2 * time.Minute,
			Cluster: server.ClusterOpts{Name: "kuozheng", Host: "127.0.0.1", Port: ports[i],
				NoAdvertise: route != nil, Advertise: advertise},
			Routes: server.RoutesFromStr(strings.Join(routes, ",")),
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

// nowhere is the address of a listener that closes every connection it accepts, until the test
// ends.
func nowhere(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
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

// Cluster is three JetStream servers in this process whose every connection, from clients and
// between the servers, goes through a proxy of the test's: a node can be cut off at once, as a
// crashed machine is (Crash), with no goodbye to its peers, unlike Shutdown.
type Cluster struct {
	Servers []*server.Server
	clients []*proxy   // to each node's client port
	routes  [][]*proxy // [i][j]: node i's route to node j
}

// StartCrashableCluster starts a Cluster; it stops when the test ends.
func StartCrashableCluster(t testing.TB) *Cluster {
	t.Helper()
	for try := 1; ; try++ {
		c := &Cluster{routes: make([][]*proxy, 3)}
		for i := range 3 {
			c.routes[i] = make([]*proxy, 3)
		}
		servers, err := tryCluster(t, func(i, j, port int) string {
			p := newProxy(t, fmt.Sprintf("127.0.0.1:%d", port))
			c.routes[i][j] = p
			return p.addr()
		})
		if err != nil {
			for _, row := range c.routes {
				for _, p := range row {
					if p != nil {
						p.cut()
					}
				}
			}
			if try == 3 {
				t.Fatal(err)
			}
			t.Logf("starting the cluster again: %v", err)
			continue
		}
		c.Servers = servers
		for _, s := range servers {
			c.clients = append(c.clients, newProxy(t, strings.TrimPrefix(s.ClientURL(), "nats://")))
		}
		t.Cleanup(func() {
			for i := range servers {
				c.Crash(i)
				servers[i].Shutdown()
			}
		})
		waitMetaLeader(t, servers)
		return c
	}
}

// Conn connects to the cluster through its proxies, node i's first.
func (c *Cluster) Conn(t testing.TB, i int) *nats.Conn {
	t.Helper()
	urls := []string{"nats://" + c.clients[i].addr()}
	for j, p := range c.clients {
		if j != i {
			urls = append(urls, "nats://"+p.addr())
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

// Index is the index of the node named name, or -1.
func (c *Cluster) Index(name string) int {
	for i, s := range c.Servers {
		if s.Name() == name {
			return i
		}
	}
	return -1
}

// Crash cuts node i off: every connection to and from it closes at once and no new one opens,
// as when its machine dies. The server itself runs on, alone, until the test ends.
func (c *Cluster) Crash(i int) {
	c.clients[i].cut()
	for j := range 3 {
		if p := c.routes[i][j]; p != nil {
			p.cut()
		}
		if p := c.routes[j][i]; p != nil {
			p.cut()
		}
	}
}

// proxy forwards the TCP connections it accepts to target, until cut.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	done   bool
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	go p.serve()
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		if !p.track(in, out) {
			in.Close()
			out.Close()
			return
		}
		go pipe(in, out)
		go pipe(out, in)
	}
}

// track remembers a pair of connections, unless the proxy is cut.
func (p *proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return false
	}
	p.conns = append(p.conns, conns...)
	return true
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut closes the listener and every connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.l.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// waitMetaLeader waits until one of the servers leads JetStream's meta group and knows every
// server as a peer online: until it does, a create asking for as many replicas as servers is
// refused ("no suitable peers for placement").
func waitMetaLeader(t testing.TB, servers []*server.Server) {
	t.Helper()
	CheckFor(t, 60*time.Second, 100*time.Millisecond, func() error {
		for _, s := range servers {
			if s.JetStreamIsLeader() {
				if peers := s.JetStreamClusterPeers(); len(peers) < len(servers) {
					return fmt.Errorf("the meta leader %s knows %d peers online of %d: %v", s.Name(), len(peers), len(servers), peers)
				}
				return nil
			}
		}
		return fmt.Errorf("no JetStream meta leader elected yet")
	})
}
