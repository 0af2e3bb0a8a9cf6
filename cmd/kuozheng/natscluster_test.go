package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// freeLoopback is a loopback host:port free a moment ago.
func freeLoopback(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// buildNATSServer builds the nats-server of go.mod's version into dir.
func buildNATSServer(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "nats-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		tb.Fatalf("build nats-server: %v\n%s", err, out)
	}
	return bin
}

const (
	clusterUser     = "kuozheng"
	clusterPassword = "ha-test-password-1234"
)

// natsNode is one nats-server process of a test's cluster.
type natsNode struct {
	name                   string
	client, route, monitor string // host:port
	conf, store            string
	cmd                    *exec.Cmd
	done                   chan struct{}
	log                    *storetest.SyncBuffer
}

// natsCluster is three nats-server processes routed to each other on loopback, each with a store
// folder of its own, configured from scripts/deploy/nats-server.conf as an operator would.
type natsCluster struct {
	bin   string
	nodes []*natsNode
}

// startNATSCluster starts three nodes and waits for a JetStream meta leader. Their ports are
// picked free and given up before the servers bind them, so another process can take one in
// between: then the cluster is started again on fresh ports.
func startNATSCluster(tb testing.TB, bin string) *natsCluster {
	tb.Helper()
	tmpl, err := os.ReadFile("../../scripts/deploy/nats-server.conf")
	if err != nil {
		tb.Fatal(err)
	}
	for try := 1; ; try++ {
		c := &natsCluster{bin: bin}
		for i := range 3 {
			c.nodes = append(c.nodes, &natsNode{name: fmt.Sprintf("n%d", i+1), client: freeLoopback(tb), route: freeLoopback(tb),
				monitor: freeLoopback(tb), store: tb.TempDir()})
		}
		for _, n := range c.nodes {
			n.conf = filepath.Join(tb.TempDir(), n.name+".conf")
			if err := os.WriteFile(n.conf, []byte(c.config(tb, string(tmpl), n)), 0o600); err != nil {
				tb.Fatal(err)
			}
		}
		err := c.tryStart(tb)
		if err == nil {
			tb.Cleanup(c.stop)
			return c
		}
		c.stop()
		if try == 3 {
			tb.Fatal(err)
		}
		tb.Logf("starting the NATS cluster again on other ports: %v", err)
	}
}

// config fills in the operator's template for node n.
func (c *natsCluster) config(tb testing.TB, tmpl string, n *natsNode) string {
	var routes []string
	for _, m := range c.nodes {
		if m != n {
			routes = append(routes, fmt.Sprintf(`"nats-route://route:route-password-1234@%s"`, m.route))
		}
	}
	vars := map[string]string{"NODE": n.name, "CLIENT_LISTEN": n.client, "MONITOR_LISTEN": n.monitor, "CLUSTER_LISTEN": n.route,
		"STORE_DIR": n.store, "MAX_FILE_STORE": "1GB", "ROUTES": strings.Join(routes, ","),
		"NATS_USER": clusterUser, "NATS_PASSWORD": clusterPassword, "ROUTE_USER": "route", "ROUTE_PASSWORD": "route-password-1234"}
	return os.Expand(tmpl, func(k string) string {
		v, ok := vars[k]
		if !ok {
			tb.Fatalf("scripts/deploy/nats-server.conf: unknown variable ${%s}", k)
		}
		return v
	})
}

func (c *natsCluster) tryStart(tb testing.TB) error {
	for _, n := range c.nodes {
		if err := n.start(c.bin); err != nil {
			return err
		}
	}
	for _, n := range c.nodes {
		if err := n.waitReady(); err != nil {
			return err
		}
	}
	nc := c.connect(tb)
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no JetStream meta leader within 60 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// start runs the node's process; its log goes to n.log.
func (n *natsNode) start(bin string) error {
	n.log = &storetest.SyncBuffer{}
	n.cmd = exec.Command(bin, "-c", n.conf)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	n.done = make(chan struct{})
	if err := n.cmd.Start(); err != nil {
		return err
	}
	done := n.done
	go func() {
		_ = n.cmd.Wait()
		close(done)
	}()
	return nil
}

// waitReady waits until the node says it is ready for clients, or exits.
func (n *natsNode) waitReady() error {
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(n.log.String(), "Server is ready") {
		select {
		case <-n.done:
			return fmt.Errorf("%s exited: %s", n.name, n.log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within 60 s: %s", n.name, n.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func (n *natsNode) alive() bool {
	select {
	case <-n.done:
		return false
	default:
		return n.cmd != nil
	}
}

// kill sends SIGKILL (no leadership handed over, no flush) and waits for the process to be gone.
func (n *natsNode) kill(tb testing.TB) {
	tb.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatal(err)
	}
	<-n.done
}

// restart starts a killed node again on its store folder and waits until it is ready. Its
// ports were free while it was down, and another test's listener may hold one for a while:
// a start that exits is tried again, for a minute.
func (n *natsNode) restart(tb testing.TB, bin string) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if err := n.start(bin); err != nil {
			tb.Fatal(err)
		}
		err := n.waitReady()
		if err == nil {
			return
		}
		if n.alive() || time.Now().After(deadline) {
			tb.Fatal(err)
		}
		tb.Logf("starting %s again: %v", n.name, err)
		time.Sleep(500 * time.Millisecond)
	}
}

// stop ends every node still running: SIGTERM, then SIGKILL after 30 s.
func (c *natsCluster) stop() {
	for _, n := range c.nodes {
		if n.alive() {
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, n := range c.nodes {
		if n.cmd == nil {
			continue
		}
		select {
		case <-n.done:
		case <-time.After(30 * time.Second):
			_ = n.cmd.Process.Signal(syscall.SIGKILL)
			<-n.done
		}
	}
}

// url is the --nats URL of the cluster: every node, with the credentials.
func (c *natsCluster) url() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, fmt.Sprintf("nats://%s:%s@%s", clusterUser, clusterPassword, n.client))
	}
	return strings.Join(urls, ",")
}

// quiet keeps nats.go from printing the errors of a connection whose server was killed.
var quiet = nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})

// connect opens a NATS connection of the test's own to the cluster.
func (c *natsCluster) connect(tb testing.TB) *nats.Conn {
	tb.Helper()
	nc, err := nats.Connect(c.url(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), quiet)
	if err != nil {
		tb.Fatal(err)
	}
	return nc
}

func (c *natsCluster) node(name string) *natsNode {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// streamInfo asks for a stream's info with a short timeout.
func streamInfo(js jetstream.JetStream, name string) (*jetstream.StreamInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.CachedInfo(), nil
}

// waitLeader waits until the stream has a leader other than not (any leader when not is "") and
// returns it and when it was elected, as the leader says.
func waitLeader(tb testing.TB, js jetstream.JetStream, stream, not string) (leader string, since time.Time) {
	tb.Helper()
	storetest.CheckFor(tb, 90*time.Second, 20*time.Millisecond, func() error {
		info, err := streamInfo(js, stream)
		if err != nil {
			return err
		}
		if info.Cluster == nil || info.Cluster.Leader == "" || info.Cluster.Leader == not {
			b, _ := json.Marshal(info.Cluster)
			return fmt.Errorf("stream %s: no leader (other than %q) yet: %s", stream, not, b)
		}
		leader = info.Cluster.Leader
		if info.Cluster.LeaderSince != nil {
			since = *info.Cluster.LeaderSince
		}
		return nil
	})
	return leader, since
}

// stepDown asks the stream's leader to hand over to the preferred node, and waits until it has.
func stepDown(tb testing.TB, nc *nats.Conn, js jetstream.JetStream, stream, preferred string) {
	tb.Helper()
	storetest.CheckFor(tb, 60*time.Second, 50*time.Millisecond, func() error {
		info, err := streamInfo(js, stream)
		if err != nil {
			return err
		}
		if info.Cluster != nil && info.Cluster.Leader == preferred {
			return nil
		}
		// nats.go's Placement has no Preferred: the request is sent as the server reads it.
		msg, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+stream, fmt.Appendf(nil, `{"placement":{"preferred":%q}}`, preferred), 5*time.Second)
		if err != nil {
			return err
		}
		var resp struct {
			Success bool `json:"success"`
			Error   *struct {
				Description string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(msg.Data, &resp); err != nil {
			return err
		}
		if resp.Error != nil {
			return errors.New(resp.Error.Description)
		}
		return fmt.Errorf("stepped down towards %s; waiting for it to lead", preferred)
	})
}
