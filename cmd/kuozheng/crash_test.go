package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// crashWrite is one payment a writer posts: a unique receipt and a unique Idempotency-Key.
type crashWrite struct {
	employer string
	receipt  string
	key      string
	body     []byte
}

// crashServer is a `kuozheng serve` child process.
type crashServer struct {
	cmd    *exec.Cmd
	base   string
	client *http.Client
	done   chan struct{}
	stderr *storetest.SyncBuffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// startCrashServer starts the server on the data folder and waits until /readyz answers 200.
func startCrashServer(t *testing.T, bin, data string) *crashServer {
	t.Helper()
	return startReplica(t, bin, nil, "--data", data)
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *crashServer) kill(t *testing.T) { s.end(t, syscall.SIGKILL) }

// stop sends SIGTERM and waits for the process to be gone.
func (s *crashServer) stop(t *testing.T) { s.end(t, syscall.SIGTERM) }

func (s *crashServer) end(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	<-s.done
	s.client.CloseIdleConnections()
}

// post sends a payment. A transport error (or an answer cut short) is returned as err.
func (s *crashServer) post(w crashWrite) (status int, seq uint64, dup bool, err error) {
	req, err := http.NewRequest(http.MethodPost, s.base+"/v1/employers/"+w.employer+"/payments", bytes.NewReader(w.body))
	if err != nil {
		return 0, 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", w.key)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, false, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return resp.StatusCode, 0, false, nil
	}
	var res struct {
		Seq       uint64 `json:"seq"`
		Duplicate bool   `json:"duplicate"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return 0, 0, false, fmt.Errorf("answer %d cut short: %w (%q)", resp.StatusCode, err, body)
	}
	return resp.StatusCode, res.Seq, res.Duplicate, nil
}

func (s *crashServer) getJSON(t *testing.T, path string, v any) {
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
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// paidIn is what an employer's statement holds of the payments made: principal paid, late fees
// paid and credit. Payments only move money between these, so each new 100 fen adds 100.
func (s *crashServer) paidIn(t *testing.T, id string) int64 {
	t.Helper()
	var v api.EmployerView
	s.getJSON(t, "/v1/employers/"+id, &v)
	sum := int64(v.Totals.CreditFen)
	for _, l := range v.Lines {
		sum += int64(l.PaidFen) + int64(l.LateFeePaidFen)
	}
	return sum
}

const crashReceiptPrefix = "CRASH-"

func TestCrashWhileWritingLosesNoAcknowledgedPaymentAndDuplicatesNone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it five times")
	}
	start := time.Now()
	seed := time.Now().UnixNano()
	if v := os.Getenv("KUOZHENG_CRASH_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("KUOZHENG_CRASH_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (rerun with KUOZHENG_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))

	dir, bin := buildBinary(t)
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(bin, "demo", "--employers", "30", "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}

	srv := startCrashServer(t, bin, data)
	var list struct {
		Total     int                   `json:"total"`
		Employers []api.EmployerSummary `json:"employers"`
	}
	srv.getJSON(t, "/v1/employers", &list)
	var employers []string
	for _, e := range list.Employers {
		if e.OrgCode != "" {
			employers = append(employers, e.EmployerID)
		}
	}
	if len(employers) < 8 || list.Total != len(list.Employers) {
		t.Fatalf("the demo ledger lists %d employers (%d with org codes) on a page of %d", list.Total, len(employers), len(list.Employers))
	}
	baseline := map[string]int64{}
	for _, id := range employers {
		baseline[id] = srv.paidIn(t, id)
	}

	const (
		rounds  = 5
		writers = 16
		hot     = 4 // writers 0..hot-1 all write to the same employer
	)
	var (
		mu        sync.Mutex
		writes    = map[string]crashWrite{} // receipt → the write, every one attempted
		acked     = map[string]uint64{}     // receipt → seq acknowledged
		refused   []string
		attempted int
		retried   int
		retry201  int
		retry200  int
		inFlight  int
	)
	for round := 1; round <= rounds; round++ {
		var stop atomic.Bool
		var failed []crashWrite
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !stop.Load(); i++ {
					emp := employers[0]
					if w >= hot {
						emp = employers[(w*7+i)%len(employers)]
					}
					receipt := fmt.Sprintf("%sR%d-W%02d-%04d", crashReceiptPrefix, round, w, i) // as stored: codes are kept in capitals
					wr := crashWrite{employer: emp, receipt: receipt, key: "crash-key-" + receipt,
						body: fmt.Appendf(nil, `{"paid_on":"2006-12-20","amount_fen":100,"receipt_no":%q}`, receipt)}
					mu.Lock()
					writes[receipt] = wr
					attempted++
					mu.Unlock()
					status, seq, _, err := srv.post(wr)
					mu.Lock()
					switch {
					case err != nil:
						failed = append(failed, wr)
					case status == http.StatusCreated || status == http.StatusOK:
						acked[receipt] = seq
					default:
						refused = append(refused, fmt.Sprintf("%s: %d", receipt, status))
					}
					mu.Unlock()
					if err != nil {
						return // the server is gone
					}
				}
			}()
		}
		delay := time.Duration(200+rng.Intn(1301)) * time.Millisecond
		time.Sleep(delay)
		stop.Store(true)
		srv.kill(t)
		wg.Wait()
		inFlight += len(failed)
		if len(refused) > 0 {
			t.Fatalf("round %d: writes refused while the server ran: %v", round, refused)
		}

		// The flock dies with the process: the folder opens again at once.
		srv = startCrashServer(t, bin, data)
		for _, wr := range failed {
			status, seq, dup, err := srv.post(wr)
			retried++
			switch {
			case err != nil:
				t.Fatalf("round %d: retry of %s after the restart: %v", round, wr.receipt, err)
			case status == http.StatusCreated:
				retry201++
				acked[wr.receipt] = seq
			case status == http.StatusOK && dup:
				retry200++
				acked[wr.receipt] = seq
			default:
				t.Fatalf("round %d: retry of %s with its Idempotency-Key answered %d (duplicate %v), want 201 or 200 duplicate", round, wr.receipt, status, dup)
			}
		}
		// A few writes acknowledged before the crash, sent again: the first answer, not a second payment.
		var mine []string
		for r := range acked {
			if strings.HasPrefix(r, fmt.Sprintf("%sr%d-", crashReceiptPrefix, round)) {
				mine = append(mine, r)
			}
		}
		slices.Sort(mine)
		for _, r := range mine[:min(5, len(mine))] {
			status, seq, dup, err := srv.post(writes[r])
			if err != nil || status != http.StatusOK || !dup || seq != acked[r] {
				t.Errorf("round %d: %s sent again after the restart: %d duplicate %v seq %d err %v; want 200, duplicate, seq %d",
					round, r, status, dup, seq, err, acked[r])
			}
		}

		// Every acknowledged receipt exactly once, at the sequence it was acknowledged with.
		count := map[string]int{}
		seqOf := map[string]uint64{}
		perEmployer := map[string]int64{}
		var sum int64
		for _, id := range employers {
			var h projections.History
			srv.getJSON(t, "/v1/employers/"+id+"/history", &h)
			if !h.ChainOK {
				t.Errorf("round %d: employer %s: chain_ok false", round, id)
			}
			for _, ev := range h.Events {
				if ev.Type != "payment.received" {
					continue
				}
				p, _ := ev.Payload.(map[string]any)
				r, _ := p["receipt_no"].(string)
				if !strings.HasPrefix(r, crashReceiptPrefix) {
					continue
				}
				amount, _ := p["amount_fen"].(float64)
				count[r]++
				seqOf[r] = ev.Seq
				sum += int64(amount)
				perEmployer[id] += int64(amount)
				if wr, ok := writes[r]; !ok || wr.employer != id {
					t.Errorf("round %d: receipt %s in employer %s's history was never sent to it", round, r, id)
				}
			}
		}
		duplicates := 0
		for r, n := range count {
			if n != 1 {
				duplicates++
				t.Errorf("round %d: receipt %s is in the ledger %d times", round, r, n)
			}
		}
		lost := 0
		for r, seq := range acked {
			switch {
			case count[r] == 0:
				lost++
				t.Errorf("round %d: acknowledged receipt %s (seq %d) is not in the ledger", round, r, seq)
			case seqOf[r] != seq:
				t.Errorf("round %d: receipt %s was acknowledged with seq %d but is at seq %d", round, r, seq, seqOf[r])
			}
		}
		if want := 100 * int64(len(count)); sum != want {
			t.Errorf("round %d: the payments in the histories add up to %d fen, want 100 × %d receipts = %d", round, sum, len(count), want)
		}
		for _, id := range employers {
			if got, want := srv.paidIn(t, id)-baseline[id], perEmployer[id]; got != want {
				t.Errorf("round %d: employer %s's statement took in %d fen of the test's payments, its history holds %d", round, id, got, want)
			}
		}

		var v api.Verification
		srv.getJSON(t, "/v1/verify", &v)
		if !v.OK || v.Deleted != 0 || v.Lost != 0 || len(v.Breaks) != 0 || v.Views == nil || !v.Views.OK {
			t.Errorf("round %d: verify: ok %v deleted %d lost %d breaks %v views %+v", round, v.OK, v.Deleted, v.Lost, v.Breaks, v.Views)
		}
		t.Logf("round %d: killed after %v; attempted %d, acknowledged %d, in flight at the kill %d, found %d, duplicates %d, lost %d; last seq %d",
			round, delay, attempted, len(acked), len(failed), len(count), duplicates, lost, v.LastSeq)
		if t.Failed() {
			t.Fatalf("round %d failed; server log:\n%s", round, srv.stderr)
		}
		if round == rounds {
			t.Logf("faults injected %d; writes attempted %d, acknowledged %d (%d on a retry after the crash: %d newly written, %d already in), found %d, duplicates %d; %v",
				rounds, attempted, len(acked), retried, retry201, retry200, len(count), duplicates, time.Since(start).Round(time.Millisecond))
		}
	}
	if inFlight == 0 {
		t.Errorf("no write was in flight at any of the %d kills: the test did not test a crash mid-write", rounds)
	}
}

// TestServeWithoutSnapshotsStopsWithoutWarning: a ledger served with --no-snapshots keeps no
// snapshot by the operator's choice, so its shutdown warns of none (it logged "snapshot at
// shutdown: snapshots are disabled" on every stop).
func TestServeWithoutSnapshotsStopsWithoutWarning(t *testing.T) {
	_, bin := buildBinary(t)
	s := startReplica(t, bin, nil, "--data", t.TempDir(), "--no-snapshots")
	s.stop(t)
	log := s.stderr.String()
	if !strings.Contains(log, "msg=stopped") || strings.Contains(log, "snapshot at shutdown") {
		t.Errorf("serve --no-snapshots, stopping, logged:\n%s", log)
	}
}
