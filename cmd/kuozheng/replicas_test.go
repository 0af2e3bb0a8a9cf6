package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// startReplica starts `kuozheng serve` with args and env and waits until /readyz answers 200.
func startReplica(t testing.TB, bin string, env []string, args ...string) *crashServer {
	t.Helper()
	return startServe(t, bin, env, &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}, args...)
}

// startServe is startReplica with the client the test reaches the server with (one that trusts
// its certificate, over TLS).
func startServe(t testing.TB, bin string, env []string, client *http.Client, args ...string) *crashServer {
	t.Helper()
	s := launchServe(t, bin, env, client, args...)
	waitFor(t, s, "/readyz")
	return s
}

// launchServe is startServe without the wait for /readyz: it returns once serve logs its URL.
func launchServe(t testing.TB, bin string, env []string, client *http.Client, args ...string) *crashServer {
	t.Helper()
	s := &crashServer{
		cmd:    exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--today", "2006-12-31"}, args...)...),
		client: client,
		done:   make(chan struct{}),
		stderr: &storetest.SyncBuffer{},
	}
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Signal(syscall.SIGKILL)
			<-s.done
		}
	})
	s.base = loggedURL(t, s.stderr, s.done, "kuozheng serving")
	return s
}

// loggedURL waits until serve's log (text or JSON) has the line msg with the url it bound: the
// port is the kernel's pick, so no other process on a busy machine can take it between picking
// and binding.
func loggedURL(t testing.TB, log *storetest.SyncBuffer, done <-chan struct{}, msg string) string {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		text := log.String()
		_, rest, ok := strings.Cut(text, `msg="`+msg+`" url=`)
		if line, _, whole := strings.Cut(rest, "\n"); ok && whole && line != "" {
			return strings.Fields(line)[0]
		}
		for line := range strings.Lines(text) {
			var l struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == msg && l.URL != "" {
				return l.URL
			}
		}
		select {
		case <-done:
			t.Fatalf("serve exited:\n%s", text)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log %q within 120 s:\n%s", msg, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor polls GET path on s until it answers 200.
func waitFor(t testing.TB, s *crashServer, path string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			t.Fatalf("serve exited (%v):\n%s", s.cmd.ProcessState, s.stderr)
		default:
		}
		resp, err := s.client.Get(s.base + path)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not answer 200 within 60 s:\n%s", path, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answer is one replica's answer to a payment.
type answer struct {
	replica int
	status  int
	seq     uint64
	dup     bool
	err     error
}

func (a answer) String() string {
	if a.err != nil {
		return fmt.Sprintf("replica %d: %v", a.replica, a.err)
	}
	return fmt.Sprintf("replica %d: %d (seq %d, duplicate %v)", a.replica, a.status, a.seq, a.dup)
}

// Two API replicas on one NATS: the same Idempotency-Key and body sent to both at once, or to
// the second right after the first answered, is appended once and answered 201 once and 200
// duplicate otherwise, never 409; the same key with another body answers 422, never 409.
func TestTwoReplicasAnswerRetriesWithTheSameKeyOnceAndNever409(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two servers")
	}
	dir, bin := buildBinary(t)
	natsAddr := freeAddr(t)
	creds := []string{"KUOZHENG_NATS_USER=kz", "KUOZHENG_NATS_PASSWORD=correct horse battery"}
	first := startReplica(t, bin, creds, "--data", filepath.Join(dir, "a"), "--nats-listen", natsAddr)
	second := startReplica(t, bin, nil, "--data", filepath.Join(dir, "b"), "--nats", "nats://kz:correct%20horse%20battery@"+natsAddr)
	replicas := []*crashServer{first, second}

	var employers []string
	for i := range 4 {
		employers = append(employers, registerVia(t, first, fmt.Sprintf("副本单位%d", i), 7100+i))
	}
	for _, id := range employers {
		waitFor(t, second, "/v1/employers/"+id) // the second replica's store knows it
	}

	const (
		together = 60 // keys sent to both replicas at once
		after    = 20 // keys sent to one replica, then to the other as soon as it answered
		other    = 20 // keys sent to both at once, with another body on one of them
	)
	payment := func(k int, fen int) crashWrite {
		receipt := fmt.Sprintf("REP-%03d", k)
		return crashWrite{employer: employers[k%len(employers)], receipt: receipt, key: "replica-key-" + receipt,
			body: fmt.Appendf(nil, `{"paid_on":"2006-12-20","amount_fen":%d,"receipt_no":%q}`, fen, receipt)}
	}
	// both sends w[0] to the first replica and w[1] to the second at the same moment.
	both := func(w [2]crashWrite) [2]answer {
		var out [2]answer
		var ready, wg sync.WaitGroup
		start := make(chan struct{})
		for i, s := range replicas {
			ready.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Done()
				<-start
				status, seq, dup, err := s.post(w[i])
				out[i] = answer{i, status, seq, dup, err}
			}()
		}
		ready.Wait()
		close(start)
		wg.Wait()
		return out
	}

	var (
		mu     sync.Mutex
		failed []string
		amount = map[string]int64{} // receipt → the amount of the body that was appended
		seqOf  = map[string]uint64{}
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failed = append(failed, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	record := func(w crashWrite, fen int64, seq uint64) {
		mu.Lock()
		amount[w.receipt], seqOf[w.receipt] = fen, seq
		mu.Unlock()
	}
	check := func(k int) {
		w := payment(k, 100)
		switch {
		case k < together:
			a := both([2]crashWrite{w, w})
			created, dup := -1, -1
			for i, x := range a {
				switch {
				case x.err == nil && x.status == http.StatusCreated:
					created = i
				case x.err == nil && x.status == http.StatusOK && x.dup:
					dup = i
				}
			}
			if created < 0 || dup < 0 || a[created].seq != a[dup].seq {
				fail("key %s sent to both replicas at once: %v, %v; want one 201 and one 200 duplicate of it", w.key, a[0], a[1])
				return
			}
			record(w, 100, a[created].seq)
		case k < together+after:
			from, to := replicas[k%2], replicas[1-k%2]
			status, seq, _, err := from.post(w)
			if err != nil || status != http.StatusCreated {
				fail("key %s: first attempt %d %v, want 201", w.key, status, err)
				return
			}
			status2, seq2, dup, err := to.post(w)
			if err != nil || status2 != http.StatusOK || !dup || seq2 != seq {
				fail("key %s retried on the other replica right after 201: %d duplicate %v seq %d (want %d) %v; want 200 duplicate", w.key, status2, dup, seq2, seq, err)
				return
			}
			record(w, 100, seq)
		default:
			a := both([2]crashWrite{w, payment(k, 200)})
			created, refused := -1, -1
			for i, x := range a {
				switch {
				case x.err == nil && x.status == http.StatusCreated:
					created = i
				case x.err == nil && x.status == http.StatusUnprocessableEntity:
					refused = i
				}
			}
			if created < 0 || refused < 0 {
				fail("key %s sent with two bodies to both replicas at once: %v, %v; want one 201 and one 422", w.key, a[0], a[1])
				return
			}
			record(w, int64(100*(created+1)), a[created].seq)
		}
	}
	keys := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for k := range keys {
				check(k)
			}
		})
	}
	for k := range together + after + other {
		keys <- k
	}
	close(keys)
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d of %d keys answered wrongly:\n%s\nfirst replica:\n%s\nsecond replica:\n%s",
			len(failed), together+after+other, strings.Join(failed, "\n"), first.stderr, second.stderr)
	}

	// Each payment is in the ledger once, with the body that was answered 201, at its sequence.
	for _, s := range replicas {
		count := map[string]int{}
		deadline := time.Now().Add(30 * time.Second)
		for {
			clear(count)
			found := 0
			for _, id := range employers {
				var h projections.History
				s.getJSON(t, "/v1/employers/"+id+"/history", &h)
				for _, ev := range h.Events {
					p, _ := ev.Payload.(map[string]any)
					r, _ := p["receipt_no"].(string)
					if ev.Type != "payment.received" || !strings.HasPrefix(r, "REP-") {
						continue
					}
					count[r]++
					found++
					if fen, _ := p["amount_fen"].(float64); int64(fen) != amount[r] || ev.Seq != seqOf[r] {
						t.Fatalf("%s: receipt %s is %v fen at seq %d; the answer said %d fen at seq %d", s.base, r, fen, ev.Seq, amount[r], seqOf[r])
					}
				}
			}
			if found >= len(amount) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for r := range amount {
			if count[r] != 1 {
				t.Errorf("%s: receipt %s is in the ledger %d times, want once", s.base, r, count[r])
			}
		}
		if len(count) != len(amount) {
			t.Errorf("%s: %d receipts in the ledger, want %d", s.base, len(count), len(amount))
		}
	}
}

// registerVia registers an enterprise named name in 章贡区, with the organisation code numbered n,
// through replica r, and returns its id.
func registerVia(tb testing.TB, r *crashServer, name string, n int) string {
	tb.Helper()
	reg := fmt.Appendf(nil, `{"name":%q,"county":"360702","org_code":"%s","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, name, domain.NumberedOrgCode(n))
	resp, err := r.client.Post(r.base+"/v1/employers", "application/json", bytes.NewReader(reg))
	if err != nil {
		tb.Fatal(err)
	}
	var res struct {
		EmployerID string `json:"employer_id"`
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &res) != nil {
		tb.Fatalf("register: %d %s", resp.StatusCode, body)
	}
	return res.EmployerID
}
