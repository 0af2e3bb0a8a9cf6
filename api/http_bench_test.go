package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

const (
	httpWriters   = 64
	httpEmployers = 256
)

// BenchmarkAppendHTTP posts one-payment commands over loopback HTTP from 64 clients over the
// same 256 employers: to the ledger's own handler (api.New, with live views, as serve runs it),
// and beside it to a minimal handler (the route, the body decoded, an answer of 201) in front of
// the raw engine's group commit on a bare server and in front of PostgreSQL, both appending the
// ledger's own payment bytes, PostgreSQL under the employer's lock. Durable unless lazy.
// Every side runs with serve's collector settings (storetest.RotateAsServe).
func BenchmarkAppendHTTP(b *testing.B) {
	rot := storetest.RotateAsServe(b)
	for _, lazy := range []bool{false, true} {
		mode := "fsync"
		if lazy {
			mode = "lazy"
		}
		rot.Run("ledger/"+mode, func(b *testing.B) {
			var batches storetest.Batches
			l := storetest.StartLazy(b, eventstore.Config{Metrics: &batches}, lazy)
			ids := registerEmployers(b, l.Store)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			runner := projections.NewRunner(l.Store, projections.RunnerConfig{NoSnapshots: true})
			if err := runner.Start(ctx); err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: runner, Today: func() domain.Date { return today }}))
			defer srv.Close()
			batches.Reset() // the registrations' batches are set-up
			for b.Loop() {
				reportPosts(b, postPayments(b, srv.URL, ids, 5*time.Second))
			}
			batches.Report(b)
		})
		rot.Run("raw-group-commit/"+mode, func(b *testing.B) {
			ids, pay := storetest.LedgerPayments(b, httpEmployers)
			l := storetest.StartBare(b, lazy)
			g := storetest.NewGroupCommitter(b, storetest.NewRawPublisher(l.Embedded.Conn), eventstore.EmbeddedMaxBatch)
			srv := httptest.NewServer(minimalPaymentHandler(b, ids, func(k int) error { return g.Publish(pay[k]) }))
			defer srv.Close()
			for b.Loop() {
				reportPosts(b, postPayments(b, srv.URL, ids, 5*time.Second))
			}
			g.Batches.Report(b)
		})
		rot.Run("postgres-insert/"+mode, func(b *testing.B) {
			pool := storetest.Postgres(b, "bench_http", lazy)
			ids, pay := storetest.LedgerPayments(b, httpEmployers)
			chain := storetest.NewPostgresChain(pool, "bench_http", ids)
			typ := (domain.PaymentReceived{}).EventType()
			srv := httptest.NewServer(minimalPaymentHandler(b, ids, func(k int) error { return chain.Append(k, typ, pay[k].Data) }))
			defer srv.Close()
			for b.Loop() {
				reportPosts(b, postPayments(b, srv.URL, ids, 5*time.Second))
			}
		})
	}
	rot.Go()
}

// registerEmployers registers httpEmployers employers in st and returns their ids.
func registerEmployers(b *testing.B, st *eventstore.Store) []string {
	b.Helper()
	var reqs []eventstore.Request
	var ids []string
	for i := range httpEmployers {
		code := domain.NumberedOrgCode(800000 + i)
		reqs = append(reqs, eventstore.Request{Create: true, Today: today, Actor: "bench", Command: &domain.RegisterEmployer{
			Name: fmt.Sprintf("单位 %d", i), County: "360702", OrgCode: code, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
		ids = append(ids, domain.EmployerIDForOrgCode(code))
	}
	for _, r := range st.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	return ids
}

// minimalPaymentHandler serves POST /v1/employers/{id}/payments with the least a handler does:
// the route, the employer known, the body decoded, append (k is the employer's index), 201.
func minimalPaymentHandler(b *testing.B, ids []string, appendOne func(k int) error) http.Handler {
	index := map[string]int{}
	for i, id := range ids {
		index[id] = i
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/employers/{id}/payments", func(w http.ResponseWriter, r *http.Request) {
		k, ok := index[r.PathValue("id")]
		var body struct {
			PaidOn    string      `json:"paid_on"`
			AmountFen json.Number `json:"amount_fen"`
			ReceiptNo string      `json:"receipt_no"`
		}
		if !ok || json.NewDecoder(r.Body).Decode(&body) != nil || body.ReceiptNo == "" {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		if err := appendOne(k); err != nil {
			http.Error(w, `{"error":"not recorded"}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"recorded":true}`))
	})
	return mux
}

// posts is what postPayments measured.
type posts struct {
	perSecond float64
	lat       []time.Duration // sorted
}

// postPayments posts payments from httpWriters clients over ids for d and fails the benchmark
// if any is not answered 201.
func postPayments(b *testing.B, url string, ids []string, d time.Duration) posts {
	run := time.Now().UnixNano()
	rate, lat := clientsFor(b, httpWriters, d, func(client *http.Client, w, k int) error {
		body := fmt.Sprintf(`{"paid_on":"2006-06-10","amount_fen":100,"receipt_no":"H%d-%d-%d"}`, run, w, k)
		resp, err := client.Post(url+"/v1/employers/"+ids[(w*7+k)%len(ids)]+"/payments", "application/json", strings.NewReader(body))
		return drained(resp, err, http.StatusCreated)
	})
	return posts{perSecond: rate, lat: lat}
}

func reportPosts(b *testing.B, p posts) {
	b.ReportMetric(p.perSecond, "commands/s")
	b.ReportMetric(float64(p.lat[len(p.lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p.lat[len(p.lat)*99/100].Microseconds())/1000, "p99-ms")
}
