package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// Until the ledger is open, the server's address answers: the process is alive, not ready, and a
// write is refused as not recorded; once handed the API, the API answers every request.
func TestAServerOpeningItsLedgerSaysSoUntilHandedTheAPI(t *testing.T) {
	handoff := &Handoff{}
	srv := httptest.NewServer(handoff)
	defer srv.Close()
	ask := func(method, path string) (int, http.Header, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(`{"name":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("%s %s: the answer is not JSON: %v", method, path, err)
		}
		return resp.StatusCode, resp.Header, body
	}
	for _, c := range []struct {
		name, method, path string
		code               int
		key, want          string
	}{
		{"liveness holds while opening", "GET", "/healthz", 200, "status", "opening"},
		{"readiness does not", "GET", "/readyz", 503, "status", "opening"},
		{"a write is not recorded", "POST", "/v1/employers", 503, "error", "unavailable"},
		{"a read is not answered", "GET", "/v1/counties", 503, "error", "unavailable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, h, body := ask(c.method, c.path)
			if code != c.code || body[c.key] != c.want {
				t.Fatalf("%d %v; want %d with %s %q", code, body, c.code, c.key, c.want)
			}
			if code == 503 && c.path != "/readyz" && h.Get("Retry-After") == "" {
				t.Fatalf("503 without Retry-After: %v %v", h, body)
			}
			// A write is told nothing was recorded and to keep its key; a read, which has no key
			// and records nothing, is told only to retry.
			if detail, _ := body["detail"].(string); c.method == "POST" && (!strings.Contains(detail, "not recorded") || !strings.Contains(detail, "Idempotency-Key")) {
				t.Fatalf("a write's 503 without saying nothing was recorded and to retry with its key: %q", detail)
			} else if c.method == "GET" && c.code == 503 && c.path != "/readyz" && (strings.Contains(detail, "Idempotency-Key") || !strings.Contains(detail, "retry")) {
				t.Fatalf("a read's 503 %q: want advice to retry, with no Idempotency-Key it never sent", detail)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "frame-ancestors 'none'" {
				t.Fatalf("an answer while opening without the API's headers against sniffing and framing: %v", h)
			}
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
	})
	handoff.Serve(mux)
	if code, _, body := ask("GET", "/readyz"); code != 200 || body["status"] != "ready" {
		t.Fatalf("after the handoff: %d %v; want the API's answer", code, body)
	}
}

// While the ledger opens, the API's port serves /metrics as the API does, to an admin's token
// only: a scraper of that port sees a server opening (kuozheng_ready 0), not one down.
func TestMetricsAreServedWhileTheLedgerOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, []byte(`[{"token":"adm-1","name":"ops","role":"admin"},{"token":"clk-1","name":"c","role":"clerk","counties":["360702"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := LoadTokens(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&Handoff{Metrics: NewMetrics(), Tokens: tokens})
	defer srv.Close()
	// Without tokens every request is an admin's: only a loopback name is answered, as the API's
	// guard answers (a page of another site that resolved its own name to 127.0.0.1).
	open := httptest.NewServer(&Handoff{Metrics: NewMetrics()})
	defer open.Close()
	for host, want := range map[string]int{"rebound.example": 403, "localhost": 200} {
		req, _ := http.NewRequest("GET", open.URL+"/metrics", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("/metrics without tokens while opening, Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
	for _, c := range []struct {
		name, token string
		code        int
	}{
		{"an admin reads them", "adm-1", 200},
		{"a clerk may not", "clk-1", 403},
		{"nobody without a token", "", 401},
		{"nor with an unknown one", "nope", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.code {
				t.Fatalf("%d %s; want %d", resp.StatusCode, body, c.code)
			}
			if c.code == 200 && !regexp.MustCompile(`(?m)^kuozheng_ready 0$`).Match(body) {
				t.Fatalf("metrics while opening without kuozheng_ready 0:\n%s", body)
			}
		})
	}
}

// An error of the connection to the ledger's stream (the cluster unreachable) is a 503 the
// client may retry, not a 500: a request made while serve is reconnecting fails at once with
// nats.ErrReconnectBufExceeded, which GET /v1/verify answered 500 during an outside review's
// drill.
func TestAnErrorOfTheConnectionIsAnswered503(t *testing.T) {
	for _, err := range []error{nats.ErrReconnectBufExceeded, nats.ErrConnectionReconnecting, nats.ErrDisconnected, nats.ErrNoServers} {
		rec := httptest.NewRecorder()
		writeError(rec, fmt.Errorf("stream info: %w", err))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"unavailable"`) {
			t.Errorf("%v: %d %s; want 503 unavailable", err, rec.Code, rec.Body)
		}
	}
}
