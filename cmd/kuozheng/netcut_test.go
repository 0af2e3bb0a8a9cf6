//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The nodes of a netcut test live on this private /24, nothing else on the test machines uses
// it; the bridge in the root namespace is .1, node i is .10+i. Names of the test's interfaces
// and namespaces start with netcutPrefix.
const (
	netcutSubnet = "10.231.7"
	netcutPrefix = "kzcut"
)

// netcutNet is a bridge in the root namespace and, per node, a network namespace joined to it
// by a veth pair; cutting a node's link (its bridge end down) drops its packets silently, as a
// pulled cable or a dead switch port does: no RST, no FIN, unlike a killed process.
type netcutNet struct {
	bridge string
	ns     []string // node i's namespace
	host   []string // node i's veth end in the root namespace, on the bridge
}

// netcutIP is node i's (0-based) address.
func netcutIP(i int) string { return fmt.Sprintf("%s.%d", netcutSubnet, 11+i) }

// ipRun runs `ip args...`.
func ipRun(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// skipUnlessNetcut skips the test when it cannot cut links: not root, or no `ip netns`.
func skipUnlessNetcut(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED, NOT RUN: cutting a NATS node's network needs root (ip netns, veth, bridge); CI runs it as root")
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED, NOT RUN: `ip netns` is unavailable (%v: %s); it is needed to cut a NATS node's network", err, out)
	}
}

// startNetcutNet makes the network for n nodes, or skips the test when it cannot (not root, or
// no `ip netns`). Everything it makes is removed in t.Cleanup, failed test or not; a run killed
// before its cleanup leaves names with netcutPrefix, which the next run removes (it holds a
// machine-wide lock, so they cannot be another run's).
func startNetcutNet(t *testing.T, n int) *netcutNet {
	t.Helper()
	skipUnlessNetcut(t)
	storetest.HoldNetwork(t, true) // released after the network is gone (cleanups run last first)
	netcutSweep(t)
	if out, _ := exec.Command("ip", "-o", "addr", "show", "to", netcutSubnet+".0/24").CombinedOutput(); strings.TrimSpace(string(out)) != "" {
		t.Fatalf("%s.0/24, the netcut test's private network, is in use on this machine:\n%s", netcutSubnet, out)
	}

	sfx := fmt.Sprintf("%04x", (os.Getpid()^int(time.Now().UnixNano()))&0xffff)
	nw := &netcutNet{bridge: netcutPrefix + sfx + "b"}
	t.Cleanup(func() {
		for i := range nw.ns {
			_ = ipRun("netns", "del", nw.ns[i]) // removes the veth pair with it
			_ = ipRun("link", "del", nw.host[i])
		}
		_ = ipRun("link", "del", nw.bridge)
	})
	must := func(args ...string) {
		t.Helper()
		if err := ipRun(args...); err != nil {
			t.Fatal(err)
		}
	}
	must("link", "add", nw.bridge, "type", "bridge")
	must("addr", "add", netcutSubnet+".1/24", "dev", nw.bridge)
	must("link", "set", nw.bridge, "up")
	for i := range n {
		ns, host, peer := fmt.Sprintf("%s%sn%d", netcutPrefix, sfx, i+1), fmt.Sprintf("%s%sh%d", netcutPrefix, sfx, i+1), fmt.Sprintf("%s%sp%d", netcutPrefix, sfx, i+1)
		must("netns", "add", ns)
		nw.ns = append(nw.ns, ns)
		nw.host = append(nw.host, host)
		must("link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns)
		must("link", "set", host, "master", nw.bridge, "up")
		must("-n", ns, "addr", "add", netcutIP(i)+"/24", "dev", peer)
		must("-n", ns, "link", "set", peer, "up")
		must("-n", ns, "link", "set", "lo", "up")
	}
	return nw
}

// netcutSweep removes the namespaces and links an earlier run, killed before its cleanup, left.
func netcutSweep(t *testing.T) {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], netcutPrefix) {
			t.Logf("removing namespace %s, left by an earlier run: %v", f[0], ipRun("netns", "del", f[0]))
		}
	}
	out, _ = exec.Command("ip", "-o", "link", "show").Output()
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if strings.HasPrefix(name, netcutPrefix) {
			t.Logf("removing link %s, left by an earlier run: %v", name, ipRun("link", "del", name))
		}
	}
}

// startNetcutCluster runs the three nodes of startNATSCluster, each in its own namespace on its
// own address (fixed ports: no other process binds there).
func startNetcutCluster(t *testing.T, natsBin string, nw *netcutNet) *natsCluster {
	t.Helper()
	tmpl, err := os.ReadFile("../../scripts/deploy/nats-server.conf")
	if err != nil {
		t.Fatal(err)
	}
	// natsNode.start runs `bin -c CONF`; this script runs it in the namespace of CONF's node.
	dir := t.TempDir()
	script := "#!/bin/sh\ncase \"$2\" in\n"
	for i, ns := range nw.ns {
		script += fmt.Sprintf("*/n%d.conf) ns=%s ;;\n", i+1, ns)
	}
	script += "*) echo \"no namespace for $2\" >&2; exit 2 ;;\nesac\nexec ip netns exec \"$ns\" " + natsBin + " \"$@\"\n"
	wrapper := filepath.Join(dir, "nats-server-in-netns")
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := &natsCluster{bin: wrapper}
	for i := range nw.ns {
		ip := netcutIP(i)
		c.nodes = append(c.nodes, &natsNode{name: fmt.Sprintf("n%d", i+1), client: ip + ":4222", route: ip + ":6222",
			monitor: ip + ":8222", store: t.TempDir()})
	}
	for _, n := range c.nodes {
		n.conf = filepath.Join(dir, n.name+".conf")
		if err := os.WriteFile(n.conf, []byte(c.config(t, string(tmpl), n)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// SIGKILL: a node cut off may take its time over a graceful stop, and its store is thrown away.
	t.Cleanup(func() {
		for _, n := range c.nodes {
			if n.alive() {
				_ = n.cmd.Process.Kill()
				<-n.done
			}
		}
	})
	if err := c.tryStart(t); err != nil {
		t.Fatal(err)
	}
	return c
}

// clientsNamed returns the nodes holding a client connection named name, as their /connz says.
func clientsNamed(c *natsCluster, name string) ([]*natsNode, error) {
	hc := &http.Client{Timeout: 2 * time.Second}
	var on []*natsNode
	for _, n := range c.nodes {
		resp, err := hc.Get("http://" + n.monitor + "/connz?limit=1024")
		if err != nil {
			return nil, err
		}
		var connz struct {
			Connections []struct {
				Name string `json:"name"`
			} `json:"connections"`
		}
		err = json.NewDecoder(resp.Body).Decode(&connz)
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s /connz: %w", n.name, err)
		}
		for _, cn := range connz.Connections {
			if cn.Name == name {
				on = append(on, n)
			}
		}
	}
	return on, nil
}

// TestNetcutCuttingTheLinkOfTheReplicasNATSNodeStallsWritesOnlyBriefly: three nats-server
// processes, each in a network namespace of its own, and a `kuozheng serve --nats` replica in
// the root namespace, with the LEDGER stream (3 replicas) led from the node the replica's NATS
// connection is on. Under writes, that node's link is cut (its veth's bridge end set down):
// nothing is reset, the replica's TCP connection just goes silent. Then:
//   - writes are acknowledged again within 60 s of the cut (the figure, cut to the first
//     acknowledgement of a write sent after it, is logged). Before the fix the replica noticed
//     the dead connection only by nats.go's default pings (2 min apart, 2 unanswered allowed):
//     writes stalled 4-6 min;
//   - every acknowledged payment is in the ledger once, at its acknowledged sequence.
func TestNetcutCuttingTheLinkOfTheReplicasNATSNodeStallsWritesOnlyBriefly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nats-server and kuozheng and runs a three-node cluster in network namespaces")
	}
	skipUnlessNetcut(t)
	// Built before the network lock is taken: browser tests of other packages wait on it.
	dir, bin := buildBinary(t)
	natsBin := buildNATSServer(t, dir)
	nw := startNetcutNet(t, 3)
	began := time.Now()
	cluster := startNetcutCluster(t, natsBin, nw)
	rep := startReplica(t, bin, nil, "--nats", cluster.url(), "--replicas", "3")

	// The node the replica's connection is on, and a connection of the test's own to the others.
	var cut *natsNode
	storetest.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		on, err := clientsNamed(cluster, "kuozheng")
		if err != nil {
			return err
		}
		if len(on) != 1 {
			return fmt.Errorf("the replica's connection is on %d nodes, want 1", len(on))
		}
		cut = on[0]
		return nil
	})
	var others []string
	for _, n := range cluster.nodes {
		if n != cut {
			others = append(others, fmt.Sprintf("nats://%s:%s@%s", clusterUser, clusterPassword, n.client))
		}
	}
	nc, err := nats.Connect(strings.Join(others, ","), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// The hardest case: the stream's leader is cut off too, and a new one must be elected.
	stepDown(t, nc, js, "LEDGER", cut.name)
	t.Logf("cluster and replica up in %v; the replica's NATS connection and the LEDGER leader are on %s (%s)",
		time.Since(began).Round(time.Millisecond), cut.name, cut.client)

	const (
		writers = 4
		before  = 60 // acknowledged payments before the cut
		after   = 60 // acknowledged payments sent after the cut
	)
	employers := make([]string, writers)
	for i := range employers {
		employers[i] = registerVia(t, rep, fmt.Sprintf("断网单位%d", i), 7400+i)
		waitFor(t, rep, "/v1/employers/"+employers[i])
	}

	// Writers 0 and 1 pay into one employer, the others into their own; each sends a payment
	// again with the same Idempotency-Key on no answer or a 5xx, until it is acknowledged.
	var (
		mu       sync.Mutex
		acks     []haAck
		answers  = map[string]int{}
		wrong    []string
		cutAt    atomic.Int64 // unix nanos of the cut, 0 before
		stopLoad atomic.Bool
		load     sync.WaitGroup
	)
	for w := range writers {
		employer := employers[w]
		if w == 1 {
			employer = employers[0]
		}
		load.Go(func() {
			for k := 0; !stopLoad.Load(); k++ {
				receipt := fmt.Sprintf("NETCUT-W%d-%05d", w, k)
				wr := crashWrite{employer: employer, receipt: receipt, key: "netcut-key-" + receipt,
					body: fmt.Appendf(nil, `{"paid_on":"2006-12-20","amount_fen":100,"receipt_no":%q}`, receipt)}
				for attempt := 1; ; attempt++ {
					sent := time.Now()
					status, seq, dup, body, err := postBody(rep, wr)
					mu.Lock()
					if err == nil && (status == http.StatusCreated || status == http.StatusOK && dup) {
						acks = append(acks, haAck{w: wr, seq: seq, sent: sent, acked: time.Now(), attempts: attempt})
						mu.Unlock()
						break
					}
					if err != nil {
						answers["no answer"]++
					} else {
						answers[fmt.Sprint(status)]++
						if status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
							wrong = append(wrong, fmt.Sprintf("%s attempt %d: %d %s", receipt, attempt, status, strings.TrimSpace(string(body))))
						}
					}
					mu.Unlock()
					if stopLoad.Load() || err == nil && status >= 400 && status < 500 {
						return
					}
					time.Sleep(time.Duration(min(attempt, 10)) * 20 * time.Millisecond) // a client's backoff
				}
			}
		})
	}
	stop := func() {
		stopLoad.Store(true)
		load.Wait()
	}
	t.Cleanup(stop) // a failed wait below must not leave writers running
	waitCount := func(what string, want int, within time.Duration, count func() int) error {
		deadline := time.Now().Add(within)
		for {
			mu.Lock()
			n := count()
			mu.Unlock()
			if n >= want {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%d of %d %s within %v", n, want, what, within)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	countAfter := func() (n int) {
		for _, a := range acks {
			if a.sent.UnixNano() > cutAt.Load() {
				n++
			}
		}
		return n
	}
	if err := waitCount("payments acknowledged before the cut", before, 60*time.Second, func() int { return len(acks) }); err != nil {
		t.Fatal(err)
	}

	// Cut the link.
	storetest.WaitReplicasCurrent(t, js, "LEDGER")
	if err := ipRun("link", "set", nw.host[cluster.indexOf(cut)], "down"); err != nil {
		t.Fatal(err)
	}
	// The cut is when the link is down: a write sent before may still have been answered.
	mu.Lock()
	cutTime := time.Now()
	cutAt.Store(cutTime.UnixNano())
	mu.Unlock()
	t.Logf("+%v: cut %s's link after %d acknowledged payments", cutTime.Sub(began).Round(time.Millisecond), cut.name, before)

	// Writes are acknowledged again; far below the 4-6 min nats.go's default pings took to tell.
	const bound = 60 * time.Second
	resumeErr := waitCount("payments sent after the cut acknowledged", 1, bound, countAfter)
	var firstAfter time.Time
	mu.Lock()
	for _, a := range acks {
		if a.sent.After(cutTime) && (firstAfter.IsZero() || a.acked.Before(firstAfter)) {
			firstAfter = a.acked
		}
	}
	mu.Unlock()
	if resumeErr != nil {
		stop()
		t.Fatalf("no write was acknowledged within %v of cutting %s's link (%v); the replica's log:\n%s", bound, cut.name, resumeErr, rep.stderr)
	}
	leader, _ := waitLeader(t, js, "LEDGER", cut.name)
	t.Logf("writes acknowledged again %v after the cut (new stream leader %s)", firstAfter.Sub(cutTime).Round(time.Millisecond), leader)
	if err := waitCount("payments sent after the cut acknowledged", after, 60*time.Second, countAfter); err != nil {
		t.Error(err)
	}
	stop()
	for _, line := range strings.Split(rep.stderr.String(), "\n") {
		if !strings.Contains(line, `msg="NATS connection`) {
			continue
		}
		at := "?"
		if f := strings.Fields(line); len(f) > 0 {
			if ts, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time=")); err == nil {
				at = ts.Sub(cutTime).Round(time.Millisecond).String()
			}
		}
		t.Logf("the replica, %s after the cut: %s", at, line)
	}
	t.Logf("answers other than 2xx: %v", answers)
	if len(wrong) > 0 {
		t.Errorf("%d answers were neither 2xx nor 503/504:\n%s", len(wrong), strings.Join(wrong[:min(len(wrong), 20)], "\n"))
	}

	// Every acknowledged payment once, at its acknowledged sequence, once the replica has folded
	// the whole stream.
	info, err := streamInfo(js, "LEDGER")
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		if r := readyzOnce(rep, rep.client); r.code != http.StatusOK || r.seq < info.State.LastSeq {
			return fmt.Errorf("/readyz %d %s at seq %d, want 200 at %d (%v)", r.code, r.status, r.seq, info.State.LastSeq, r.err)
		}
		return nil
	})
	seqOf := map[string]uint64{}
	for _, a := range acks {
		if s, ok := seqOf[a.w.receipt]; ok && s != a.seq {
			t.Errorf("%s acknowledged twice, with sequences %d and %d", a.w.receipt, s, a.seq)
		}
		seqOf[a.w.receipt] = a.seq
	}
	count := map[string]int{}
	for _, id := range employers {
		var h projections.History
		rep.getJSON(t, "/v1/employers/"+id+"/history", &h)
		if !h.ChainOK {
			t.Errorf("employer %s: chain_ok false", id)
		}
		for _, ev := range h.Events {
			p, _ := ev.Payload.(map[string]any)
			r, _ := p["receipt_no"].(string)
			if ev.Type != "payment.received" || !strings.HasPrefix(r, "NETCUT-") {
				continue
			}
			count[r]++
			if want, ok := seqOf[r]; ok && ev.Seq != want {
				t.Errorf("%s is at seq %d; it was acknowledged at %d", r, ev.Seq, want)
			}
		}
	}
	for r := range seqOf {
		if count[r] != 1 {
			t.Errorf("acknowledged payment %s is in the ledger %d times, want once", r, count[r])
		}
	}
	for r, n := range count {
		if _, ok := seqOf[r]; !ok && n != 1 {
			t.Errorf("unacknowledged %s is in the ledger %d times", r, n)
		}
	}
	t.Logf("%d payments acknowledged, %d sent after the cut; writes acknowledged again %v after the cut; %v in all",
		len(seqOf), countAfter(), firstAfter.Sub(cutTime).Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("the replica's log:\n%s", rep.stderr)
	}
}

func (c *natsCluster) indexOf(n *natsNode) int {
	for i, m := range c.nodes {
		if m == n {
			return i
		}
	}
	return -1
}
