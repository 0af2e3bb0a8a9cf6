package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

const benchClients = 32

// load sends GETs to url from 32 clients for d, asking for the Accept-Encoding given, and
// returns requests/s and the p99 latency. The clients read the bytes without decoding them: the
// server's cost is measured, not theirs (on the same two cores).
func load(b *testing.B, url, acceptEncoding string, d time.Duration) (float64, time.Duration) {
	rate, lat := clientsFor(b, benchClients, d, func(client *http.Client, _, _ int) error {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept-Encoding", acceptEncoding)
		resp, err := client.Do(req)
		return drained(resp, err, http.StatusOK)
	})
	return rate, lat[len(lat)*99/100]
}

// drained reads and closes the body of a call's answer, and fails the call unless it was answered
// with status want.
func drained(resp *http.Response, err error, want int) error {
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// clientsFor runs do from clients goroutines, each over and over (k counts its calls) on a
// client of its own, for d; it returns the calls a second and their latencies, sorted, and
// fails the benchmark if any call failed.
func clientsFor(b *testing.B, clients int, d time.Duration, do func(client *http.Client, w, k int) error) (float64, []time.Duration) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for k := 0; time.Now().Before(stop); k++ {
				t0 := time.Now()
				if err := do(client, w, k); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(start)
	if f := failed.Load(); f > 0 || len(lat) == 0 {
		b.Fatalf("%d calls failed (the first: %v), %d succeeded", f, firstErr.Load(), len(lat))
	}
	slices.Sort(lat)
	return float64(len(lat)) / el.Seconds(), lat
}

// benchLedger is a demo ledger of employers payers (seed 2006) on a store that lasts the
// benchmark; lazy: its server acknowledges before syncing.
func benchLedger(b *testing.B, employers int, lazy bool) *storetest.Ledger {
	b.Helper()
	l := storetest.StartLazy(b, eventstore.Config{}, lazy)
	steps := demo.Generate(demo.Config{Employers: employers, Seed: 2006})
	reqs := make([]eventstore.Request, len(steps))
	for i, s := range steps {
		reqs[i] = eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: demo.Today, Actor: "bench"}
	}
	for _, r := range l.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	return l
}

// servedLedger is a demo ledger of employers payers with live views caught up, served over
// loopback HTTP by the ledger's handler; it returns the stream's last sequence too. All of it
// stops when the benchmark ends.
func servedLedger(b *testing.B, employers int, lazy bool) (*storetest.Ledger, *httptest.Server, uint64) {
	b.Helper()
	l := benchLedger(b, employers, lazy)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	runner := projections.NewRunner(l.Store, projections.RunnerConfig{NoSnapshots: true})
	if err := runner.Start(ctx); err != nil {
		b.Fatal(err)
	}
	last, err := l.Store.LastSeq(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := runner.WaitSeq(ctx, last); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: runner, Today: func() domain.Date { return demo.Today }}))
	b.Cleanup(srv.Close)
	return l, srv, last
}

// BenchmarkCountiesRead serves GET /v1/counties of a 20,000-payer demo ledger to 32 concurrent
// clients over loopback HTTP, as it is and gzipped (as browsers ask), beside a Go handler
// returning the same bytes from memory; and one page of its employer list.
func BenchmarkCountiesRead(b *testing.B) {
	_, srv, _ := servedLedger(b, 20000, true)
	// The first read computes every employer's figures; later ones reuse them.
	resp, err := http.Get(srv.URL + "/v1/counties")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The raw server answers the same bytes, gzipped as the ledger's are for a client that
	// accepts gzip.
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	_, _ = zw.Write(body)
	_ = zw.Close()
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz.Bytes())
			return
		}
		_, _ = w.Write(body)
	}))
	defer raw.Close()
	rot := storetest.Rotate(b)
	for _, enc := range []struct{ name, accept string }{{"", "identity"}, {"-gzip", "gzip"}} {
		rot.Run("ledger"+enc.name, func(b *testing.B) {
			for b.Loop() {
				rps, p99 := load(b, srv.URL+"/v1/counties", enc.accept, 3*time.Second)
				b.ReportMetric(rps, "req/s")
				b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			}
		})
		rot.Run("raw-bytes"+enc.name, func(b *testing.B) {
			for b.Loop() {
				rps, p99 := load(b, raw.URL, enc.accept, 3*time.Second)
				b.ReportMetric(rps, "req/s")
				b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			}
		})
	}
	// A page in the middle of the employer list: its cost is counting the matches, not naming
	// every payer's county.
	rot.Run("employer-list-page", func(b *testing.B) {
		for b.Loop() {
			resp, err := http.Get(srv.URL + "/v1/employers?page=100")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET /v1/employers?page=100: %s", resp.Status)
			}
		}
	})
	rot.Go()
}

// BenchmarkReadAfterAWrite times what an open dashboard reads after each write, on a
// 20,000-payer demo ledger: a payment is appended, then its page of flags, or the county table,
// is read over loopback HTTP (gzip) at the payment's sequence. Only the read is timed.
func BenchmarkReadAfterAWrite(b *testing.B) {
	l, srv, _ := servedLedger(b, 20000, true)
	resp, err := http.Get(srv.URL + "/v1/employers?limit=200")
	if err != nil {
		b.Fatal(err)
	}
	var list struct {
		Employers []struct {
			ID string `json:"employer_id"`
		} `json:"employers"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list.Employers) == 0 {
		b.Fatalf("GET /v1/employers: %v, %d employers", err, len(list.Employers))
	}
	get := func(url string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %s", url, resp.Status)
		}
	}
	n := 0
	for _, path := range []string{"/v1/flags", "/v1/counties"} {
		get(srv.URL + path) // the first read sums every payer; later ones, those written to
		b.Run(strings.TrimPrefix(path, "/v1/"), func(b *testing.B) {
			var elapsed time.Duration
			for b.Loop() {
				res, err := l.Store.Execute(context.Background(), eventstore.Request{EmployerID: list.Employers[n%len(list.Employers)].ID,
					Today: demo.Today, Command: &domain.RecordPayment{PaidOn: "2006-12-30", AmountFen: "1000", ReceiptNo: fmt.Sprintf("BENCH-%d", n)}})
				if err != nil {
					b.Fatal(err)
				}
				n++
				start := time.Now()
				get(fmt.Sprintf("%s%s?min_seq=%d", srv.URL, path, res.Seq))
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/read")
		})
	}
}

// BenchmarkFreezePost times POST /v1/freezes over loopback HTTP on a 20,000-payer demo ledger
// synced as in production, with live views: the whole path a freeze takes (the views read or
// copied, what they have not folded folded, the figures and their digest, the freeze event
// appended and synced, the answer), beside the raw engine reading and decoding the range the
// freeze covers, sequence 1 to the last.
func BenchmarkFreezePost(b *testing.B) {
	l, srv, last := servedLedger(b, 20000, false)
	rot := storetest.Rotate(b)
	rot.Run("ledger", func(b *testing.B) {
		k := 0
		for b.Loop() {
			k++
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/freezes", strings.NewReader(`{"valid_through":"2006-12-31"}`))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-freeze-%d-%d", time.Now().UnixNano(), k))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("POST /v1/freezes: %s %s", resp.Status, body)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/freeze")
	})
	rot.Run("raw-ordered-consumer", func(b *testing.B) {
		for b.Loop() {
			storetest.RawRead(b, l.Store, last, true)
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/read")
	})
	rot.Go()
}

// BenchmarkYearClosing times POST /v1/years/2006/close on a 20,000-payer demo ledger with live
// views, after its year-end freeze: the time this server's writes are held (the catch-up, the
// check of the year's figures against the freeze, the closing's append and sync). Each round
// reopens the year first, untimed.
func BenchmarkYearClosing(b *testing.B) {
	l := benchLedger(b, 20000, false)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	runner := projections.NewRunner(l.Store, projections.RunnerConfig{NoSnapshots: true})
	if err := runner.Start(ctx); err != nil {
		b.Fatal(err)
	}
	today := domain.MustDate("2007-01-15")
	srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: runner, Today: func() domain.Date { return today }}))
	b.Cleanup(srv.Close)
	post := func(path, body string, want int) {
		b.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%s-%d", path, time.Now().UnixNano()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("POST %s: %s %s", path, resp.Status, got)
		}
	}
	caughtUp := func() {
		b.Helper()
		last, err := l.Store.LastSeq(ctx)
		if err == nil {
			err = runner.WaitSeq(ctx, last)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	caughtUp()
	post("/v1/freezes", `{"valid_through":"2006-12-31"}`, http.StatusCreated)
	closed := false
	var held time.Duration
	for b.Loop() {
		if closed {
			b.StopTimer()
			post("/v1/years/2006/reopen", `{"reason":"benchmark"}`, http.StatusCreated)
			caughtUp() // a reopened year's views fold it again from the stream
			b.StartTimer()
		}
		t0 := time.Now()
		post("/v1/years/2006/close", `{}`, http.StatusCreated)
		held += time.Since(t0)
		closed = true
	}
	b.ReportMetric(held.Seconds()/float64(b.N), "s/close")
}
