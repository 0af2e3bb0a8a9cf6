package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go/jetstream"
)

// haAck is a payment the ledger acknowledged.
type haAck struct {
	w        crashWrite
	seq      uint64
	sent     time.Time // when the acknowledged attempt was sent
	acked    time.Time
	attempts int
}

// readyzSeen is one answer (or none) of a replica's /readyz.
type readyzSeen struct {
	at, done  time.Time // asked, answered
	code      int       // 0: no answer
	status    string
	reason    string
	leader    string
	checkedAt time.Time
	seq       uint64
	err       error
}

// postBody sends a payment and returns the answer's status, sequence, duplicate flag and body.
func postBody(s *crashServer, w crashWrite) (status int, seq uint64, dup bool, body []byte, err error) {
	req, err := http.NewRequest(http.MethodPost, s.base+"/v1/employers/"+w.employer+"/payments", bytes.NewReader(w.body))
	if err != nil {
		return 0, 0, false, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", w.key)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, false, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, false, nil, err
	}
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		var res struct {
			Seq       uint64 `json:"seq"`
			Duplicate bool   `json:"duplicate"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			return 0, 0, false, body, fmt.Errorf("answer %d cut short: %w (%q)", resp.StatusCode, err, body)
		}
		seq, dup = res.Seq, res.Duplicate
	}
	return resp.StatusCode, seq, dup, body, nil
}

// readyzOnce asks s's /readyz.
func readyzOnce(s *crashServer, client *http.Client) (seen readyzSeen) {
	seen.at = time.Now()
	defer func() { seen.done = time.Now() }()
	resp, err := client.Get(s.base + "/readyz")
	if err != nil {
		seen.err = err
		return seen
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
		Seq    uint64 `json:"seq"`
		Stream *struct {
			Leader    string    `json:"leader"`
			CheckedAt time.Time `json:"checked_at"`
		} `json:"stream"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		seen.err = fmt.Errorf("%d %q: %w", resp.StatusCode, raw, err)
		return seen
	}
	seen.code, seen.status, seen.reason, seen.seq = resp.StatusCode, body.Status, body.Reason, body.Seq
	if body.Stream != nil {
		seen.leader, seen.checkedAt = body.Stream.Leader, body.Stream.CheckedAt
	}
	return seen
}

// TestHAKillingTheStreamLeadersNodeAndAReplicaLosesNoWrite: three real nats-server processes
// (configured from scripts/deploy/nats-server.conf, the LEDGER stream at 3 replicas) and two
// `kuozheng serve --nats` replicas; eight clients write payments through both (four of them into
// one employer, one sending each payment to both replicas at once), each retrying with the same
// Idempotency-Key on a 5xx or no answer, on the other replica. Under that load, counted in
// acknowledged payments, the stream leader's node and one API replica are killed with SIGKILL.
// Then:
//   - writes resume through the survivor within 15 s of the new leader's election (the failover
//     time, last acknowledgement before the kill to the first of a payment sent after it, is
//     logged);
//   - no answer was a 500 or a 4xx: a client is told to retry (503) or that the outcome is
//     unknown (504);
//   - every acknowledged payment is in the stream once, at its acknowledged sequence;
//   - after the killed node and replica are started again, they, the survivor and a replica
//     rebuilt from the stream answer the same, byte for byte;
//   - /readyz told the truth: 200 on both before the kill, no answer from the killed replica,
//     never 200 on the survivor naming the dead leader, and 503 on the survivor at least once
//     between the kill and the resumption (a new leader cannot be elected sooner than raft's
//     4 s election timeout, and the probe runs each second with a 2 s timeout).
func TestHAKillingTheStreamLeadersNodeAndAReplicaLosesNoWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nats-server and kuozheng and runs a three-node cluster with two API replicas")
	}
	began := time.Now()
	dir, bin := buildBinary(t)
	natsBin := buildNATSServer(t, dir)
	cluster := startNATSCluster(t, natsBin)
	nc := cluster.connect(t)
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	serveArgs := []string{"--nats", cluster.url(), "--replicas", "3"}
	// One at a time: the first creates the LEDGER stream; two started together on an empty
	// cluster race to create it.
	replicas := []*crashServer{startReplica(t, bin, nil, serveArgs...), startReplica(t, bin, nil, serveArgs...)}
	info, err := streamInfo(js, "LEDGER")
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("LEDGER: %d replicas, cluster %+v; want 3 replicas on the three nodes", info.Config.Replicas, info.Cluster)
	}
	t.Logf("cluster and two replicas up in %v; LEDGER leader %s", time.Since(began).Round(time.Millisecond), info.Cluster.Leader)

	const (
		writers = 8
		before  = 160 // acknowledged payments before the kill
		after   = 160 // acknowledged payments sent after the kill
	)
	employers := make([]string, writers)
	for i := range employers {
		employers[i] = registerVia(t, replicas[i%2], fmt.Sprintf("高可用单位%d", i), 7300+i)
	}
	for _, s := range replicas {
		for _, id := range employers {
			waitFor(t, s, "/v1/employers/"+id)
		}
	}

	// /readyz of both replicas, asked over and over from now until the load is done.
	var (
		readyMu sync.Mutex
		seen    = [2][]readyzSeen{}
		stopAsk atomic.Bool
		askers  sync.WaitGroup
	)
	for i, s := range replicas {
		client := &http.Client{Timeout: 5 * time.Second}
		askers.Go(func() {
			for !stopAsk.Load() {
				r := readyzOnce(s, client)
				readyMu.Lock()
				seen[i] = append(seen[i], r)
				readyMu.Unlock()
				time.Sleep(50 * time.Millisecond) // pacing, not synchronisation
			}
		})
	}

	// The load: writers 0-3 pay into one employer, the others each into their own; writer w
	// sends its k-th payment to replica (w+k)%2, and on no answer or a 5xx sends it again with
	// the same key to the other replica, backing off a little, until it is acknowledged. The
	// last writer hedges while both replicas run: it sends each payment to both at once, as a
	// client does whose retry goes out while the first attempt is still in flight.
	const hot, hedger = 4, writers - 1
	var (
		mu       sync.Mutex
		acks     []haAck
		answers  = map[string]int{} // "replica 1: 503" → how many
		wrong    []string           // answers that are no 2xx, 503 or 504, nor a refused connection
		killAt   atomic.Int64       // unix nanos of the kill, 0 before
		stopLoad atomic.Bool
		load     sync.WaitGroup
	)
	countAfter := func() (n int) {
		k := killAt.Load()
		for _, a := range acks {
			if k != 0 && a.sent.UnixNano() > k {
				n++
			}
		}
		return n
	}
	// send posts wr to replica rep and records the answer; it reports whether it was acknowledged
	// and whether it was an answer a client may not retry (a 4xx).
	send := func(rep, attempt int, wr crashWrite) (acked, final bool) {
		sent := time.Now()
		status, seq, dup, body, err := postBody(replicas[rep], wr)
		acked = err == nil && (status == http.StatusCreated || status == http.StatusOK && dup)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case acked:
			acks = append(acks, haAck{w: wr, seq: seq, sent: sent, acked: time.Now(), attempts: attempt})
		case err != nil:
			answers[fmt.Sprintf("replica %d: no answer", rep)]++
		default:
			answers[fmt.Sprintf("replica %d: %d", rep, status)]++
			if status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
				wrong = append(wrong, fmt.Sprintf("%s attempt %d on replica %d at +%v: %d %s", wr.receipt, attempt, rep, sent.Sub(began).Round(time.Millisecond), status, bytes.TrimSpace(body)))
			}
		}
		return acked, status >= 400 && status < 500
	}
	for w := range writers {
		employer := employers[w]
		if w < hot {
			employer = employers[0]
		}
		load.Go(func() {
			for k := 0; !stopLoad.Load(); k++ {
				receipt := fmt.Sprintf("HA-W%d-%05d", w, k)
				wr := crashWrite{employer: employer, receipt: receipt, key: "ha-key-" + receipt,
					body: fmt.Appendf(nil, `{"paid_on":"2006-12-20","amount_fen":100,"receipt_no":%q}`, receipt)}
				rep, first, attempt := (w+k)%2, time.Now(), 1
				if w == hedger && killAt.Load() == 0 {
					var both sync.WaitGroup
					var ok [2]bool
					for i := range 2 {
						both.Go(func() { ok[i], _ = send(i, 1, wr) })
					}
					both.Wait()
					if ok[0] || ok[1] {
						continue
					}
					attempt++
				}
				for ; ; attempt++ {
					acked, final := send(rep, attempt, wr)
					if acked {
						break
					}
					if final || time.Since(first) > 90*time.Second {
						t.Errorf("%s: gave up after %d attempts", receipt, attempt)
						return
					}
					rep = 1 - rep
					time.Sleep(time.Duration(min(attempt, 10)) * 20 * time.Millisecond) // a client's backoff
				}
			}
		})
	}
	waitCount := func(what string, want int, count func() int) {
		t.Helper()
		storetest.CheckFor(t, 90*time.Second, 10*time.Millisecond, func() error {
			mu.Lock()
			n := count()
			mu.Unlock()
			if n < want {
				return fmt.Errorf("%d of %d %s", n, want, what)
			}
			return nil
		})
	}
	waitCount("payments acknowledged before the kill", before, func() int { return len(acks) })

	// Kill -9 the stream leader's node and the first API replica.
	storetest.WaitReplicasCurrent(t, js, "LEDGER")
	info, err = streamInfo(js, "LEDGER")
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("stream info before the kill: %v %+v", err, info)
	}
	leader := cluster.node(info.Cluster.Leader)
	mu.Lock()
	kill := time.Now()
	killAt.Store(kill.UnixNano())
	mu.Unlock()
	leader.kill(t)
	leaderDead := time.Now() // the process is reaped: nothing it answers is asked after this
	replicas[0].kill(t)
	replicaDead := time.Now()
	t.Logf("+%v (%s): killed %s (the stream leader) and replica 0 after %d acknowledged payments", kill.Sub(began).Round(time.Millisecond), kill.UTC().Format("15:04:05.000"), leader.name, before)
	newLeader, elected := waitLeader(t, js, "LEDGER", leader.name)

	waitCount("payments sent after the kill acknowledged", after, countAfter)
	stopLoad.Store(true)
	load.Wait()
	stopAsk.Store(true)
	askers.Wait()

	// The failover: the last acknowledgement before the kill to the first of a payment sent after it.
	var lastBefore, firstAfter time.Time
	for _, a := range acks {
		if a.acked.Before(kill) && a.acked.After(lastBefore) {
			lastBefore = a.acked
		}
		if a.sent.After(kill) && (firstAfter.IsZero() || a.acked.Before(firstAfter)) {
			firstAfter = a.acked
		}
	}
	failover := firstAfter.Sub(lastBefore)
	t.Logf("failover %v (last acknowledgement before the kill to the first of a payment sent after it); new leader %s elected %v after the kill, writes resumed %v after that",
		failover.Round(time.Millisecond), newLeader, elected.Sub(kill).Round(time.Millisecond), firstAfter.Sub(elected).Round(time.Millisecond))
	// Writes resume within the election: once a leader is elected, a write waits for nothing
	// else, such as a consumer made again (tens of seconds). The bound is far above what is
	// measured (tens of milliseconds), for a survivor that missed the election's notice (its 2 s
	// resend, then the clients' backoff) on a busy machine; the figure itself is logged above.
	if late := firstAfter.Sub(elected); late > 15*time.Second {
		t.Errorf("writes resumed %v after the new leader was elected (%v after the kill), want within 15 s", late.Round(time.Millisecond), firstAfter.Sub(kill).Round(time.Millisecond))
	}
	keys := make([]string, 0, len(answers))
	for k := range answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("answers other than 2xx, %s: %d", k, answers[k])
	}
	if len(wrong) > 0 {
		t.Errorf("%d answers were neither 2xx nor 503/504 (a client must be told to retry, or the outcome):\n%s", len(wrong), strings.Join(wrong[:min(len(wrong), 20)], "\n"))
	}

	// The killed node and replica come back, as an operator would start them again; a fresh
	// replica rebuilds the views from the stream alone.
	leader.restart(t, natsBin)
	storetest.CheckFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		info, err := streamInfo(js, "LEDGER")
		if err != nil {
			return err
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current || r.Offline {
				return fmt.Errorf("replica %s not current yet (lag %d)", r.Name, r.Lag)
			}
		}
		return nil
	})
	restarted := startReplica(t, bin, nil, serveArgs...)
	rebuilt := startReplica(t, bin, nil, append(serveArgs, "--no-snapshots")...)
	survivor := replicas[1]
	last, err := streamInfo(js, "LEDGER")
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]*crashServer{"survivor": survivor, "restarted": restarted, "rebuilt": rebuilt}
	for name, s := range all {
		storetest.CheckFor(t, 60*time.Second, 20*time.Millisecond, func() error {
			r := readyzOnce(s, s.client)
			if r.code != http.StatusOK || r.seq < last.State.LastSeq {
				return fmt.Errorf("%s: /readyz %d %s at seq %d, want 200 at %d (%v)", name, r.code, r.status, r.seq, last.State.LastSeq, r.err)
			}
			return nil
		})
	}

	// Every acknowledged payment once, at its acknowledged sequence, in the rebuilt replica's
	// histories (folded from the stream alone) and the survivor's.
	seqOf := map[string]uint64{}
	for _, a := range acks {
		if s, ok := seqOf[a.w.receipt]; ok && s != a.seq {
			t.Errorf("%s acknowledged twice with sequences %d and %d", a.w.receipt, s, a.seq)
		}
		seqOf[a.w.receipt] = a.seq
	}
	for _, name := range []string{"rebuilt", "survivor"} {
		s := all[name]
		count := map[string]int{}
		for _, id := range employers {
			var h projections.History
			s.getJSON(t, "/v1/employers/"+id+"/history", &h)
			if !h.ChainOK {
				t.Errorf("%s: employer %s: chain_ok false", name, id)
			}
			for _, ev := range h.Events {
				p, _ := ev.Payload.(map[string]any)
				r, _ := p["receipt_no"].(string)
				if ev.Type != "payment.received" || !strings.HasPrefix(r, "HA-") {
					continue
				}
				count[r]++
				if want, ok := seqOf[r]; ok && ev.Seq != want {
					t.Errorf("%s: %s is at seq %d; it was acknowledged at %d", name, r, ev.Seq, want)
				}
			}
		}
		missing, twice, unacked := 0, 0, 0
		for r := range seqOf {
			switch count[r] {
			case 0:
				missing++
				t.Errorf("%s: acknowledged payment %s is not in the ledger", name, r)
			case 1:
			default:
				twice++
				t.Errorf("%s: %s is in the ledger %d times", name, r, count[r])
			}
		}
		for r := range count {
			if _, ok := seqOf[r]; !ok {
				unacked++ // sent by a writer stopped before its acknowledgement: allowed once
				if count[r] != 1 {
					t.Errorf("%s: unacknowledged %s is in the ledger %d times", name, r, count[r])
				}
			}
		}
		t.Logf("%s: %d acknowledged payments: %d missing, %d more than once; %d stored whose answer no writer waited for", name, len(seqOf), missing, twice, unacked)
	}

	// The three replicas' views, byte for byte.
	paths := []string{"/v1/counties", "/v1/employers"}
	for _, id := range employers {
		paths = append(paths, "/v1/employers/"+id, "/v1/employers/"+id+"/history")
	}
	for _, p := range paths {
		want := getRaw(t, rebuilt, p)
		for _, name := range []string{"survivor", "restarted"} {
			if got := getRaw(t, all[name], p); !bytes.Equal(got, want) {
				t.Errorf("GET %s: the %s replica answers differently from a replica rebuilt from the stream:\n%.400s\nrebuilt:\n%.400s", p, name, got, want)
			}
		}
	}

	// /readyz told the truth.
	var b strings.Builder
	for i, obs := range seen {
		prev := ""
		for _, r := range obs {
			desc := fmt.Sprintf("%d %s leader %q", r.code, r.status, r.leader)
			if r.err != nil {
				desc = "no answer"
			}
			if desc != prev {
				fmt.Fprintf(&b, "\n  replica %d +%v: %s", i, r.at.Sub(began).Round(time.Millisecond), desc)
				if r.reason != "" {
					fmt.Fprintf(&b, " (%s)", r.reason)
				}
				prev = desc
			}
		}
	}
	t.Logf("/readyz as the replicas answered it (changes only):%s", b.String())
	resumed := firstAfter
	sawNotReady := 0
	for i, obs := range seen {
		for _, r := range obs {
			switch {
			case r.done.Before(kill) && r.code != http.StatusOK:
				t.Errorf("replica %d at +%v, before the kill: /readyz %d %s %v; the ledger took writes", i, r.at.Sub(began).Round(time.Millisecond), r.code, r.status, r.err)
			case r.done.Before(kill):
			case i == 0 && r.at.After(replicaDead) && r.err == nil:
				t.Errorf("the killed replica answered /readyz at +%v: %d", r.at.Sub(began).Round(time.Millisecond), r.code)
			case i == 1 && r.code == http.StatusOK && r.checkedAt.After(leaderDead) && r.leader == leader.name:
				t.Errorf("the survivor at +%v: /readyz 200 naming the killed node %s as the stream's leader (checked at +%v)",
					r.at.Sub(began).Round(time.Millisecond), leader.name, r.checkedAt.Sub(began).Round(time.Millisecond))
			case i == 1 && r.code == http.StatusServiceUnavailable && r.at.Before(resumed):
				sawNotReady++
			}
		}
	}
	// The stream cannot elect a new leader sooner than raft's election timeout (4 s at least), and
	// the survivor's probe runs at least once a second with a 2 s timeout: in between, it must
	// have said 503.
	if sawNotReady == 0 {
		t.Errorf("the survivor's /readyz never answered 503 between the kill and the first acknowledgement after it (%v later)", resumed.Sub(kill).Round(time.Millisecond))
	}
	t.Logf("%d payments acknowledged, %d after the kill; failover %v; %v in all", len(acks), countAfter(), failover.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("survivor's log:\n%s", survivor.stderr)
	}
}

// getRaw GETs path from s and returns the body of its 200 answer.
func getRaw(t *testing.T, s *crashServer, path string) []byte {
	t.Helper()
	resp, err := s.client.Get(s.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}
