package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
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

// load sends GETs to url from 32 clients for d and returns requests/s and the p99 latency.
func load(b *testing.B, url string, d time.Duration) (float64, time.Duration) {
	tr := &http.Transport{MaxIdleConnsPerHost: benchClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(stop) {
				t0 := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no requests completed")
	}
	return float64(len(lat)) / el.Seconds(), lat[len(lat)*99/100]
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

// BenchmarkCountiesRead serves GET /v1/counties of a 20,000-payer demo ledger to 32 concurrent
// clients over loopback HTTP, beside a Go handler returning the same bytes from memory; and one
// page of its employer list.
func BenchmarkCountiesRead(b *testing.B) {
	l := benchLedger(b, 20000, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
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
	defer srv.Close()
	// The first read computes every employer's figures; later ones reuse them.
	resp, err := http.Get(srv.URL + "/v1/counties")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer raw.Close()
	rot := storetest.Rotate(b)
	rot.Run("ledger", func(b *testing.B) {
		for b.Loop() {
			rps, p99 := load(b, srv.URL+"/v1/counties", 3*time.Second)
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		}
	})
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
	rot.Run("raw-bytes", func(b *testing.B) {
		for b.Loop() {
			rps, p99 := load(b, raw.URL, 3*time.Second)
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		}
	})
	rot.Go()
}

// BenchmarkFreezePost times POST /v1/freezes over loopback HTTP on a 20,000-payer demo ledger
// synced as in production, with live views: the whole path a freeze takes (the views read or
// copied, what they have not folded folded, the figures and their digest, the freeze event
// appended and synced, the answer), beside the raw engine reading and decoding the range the
// freeze covers, sequence 1 to the last.
func BenchmarkFreezePost(b *testing.B) {
	l := benchLedger(b, 20000, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
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
	defer srv.Close()
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
