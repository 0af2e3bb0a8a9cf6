package api

import (
	"net/http"
	"sync/atomic"

	"github.com/kuozheng/kuozheng/domain"
)

// Handoff answers as a server whose ledger is opening until Serve is given the API's handler, and
// with that handler from then on.
// It lets a server take its address before the ledger opens (a first start replays for minutes
// on a large ledger): an address in use then fails at once, and clients meanwhile get an answer
// saying the server is opening, not a refused or hanging connection.
type Handoff struct {
	// Metrics, if set, are served on /metrics while the ledger opens as the API serves them (to an
	// admin's token among Tokens): a scraper of the API's port sees a server opening
	// (kuozheng_ready 0), not one down.
	Metrics *Metrics
	Tokens  *Tokens
	h       atomic.Pointer[http.Handler]
}

// Serve has every request from now on answered by h.
func (o *Handoff) Serve(h http.Handler) { o.h.Store(&h) }

// ServeHTTP answers r with the handler given to Serve, or as opening until then.
func (o *Handoff) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := o.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	if o.Metrics != nil && r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		protect(w.Header())
		if err := loopbackOnly(o.Tokens, r); err != nil { // as the API's guard
			writeError(w, err)
			return
		}
		if p, ok := authenticate(o.Tokens, w, r); ok {
			serveMetrics(o.Metrics, p, w, r)
		}
		return
	}
	opening(w, r)
}

// opening answers while the ledger opens: /healthz 200 (the process is alive: a liveness check
// must not restart it during a long first start), /readyz 503 "opening", and every other path
// (but /metrics, which Handoff serves when given them)
// 503 with Retry-After, recording nothing (a write is told to retry with its Idempotency-Key, a
// read only to retry).
func opening(w http.ResponseWriter, r *http.Request) {
	protect(w.Header()) // as guard does for the API's answers
	switch r.URL.Path {
	case "/healthz":
		writeJSON(w, http.StatusOK, map[string]any{"status": "opening"})
	case "/readyz":
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "opening", "reason": "the ledger is opening: its store replays the stream (or, at a first start with --demo, the demo is written)"})
	default:
		w.Header().Set("Retry-After", "5")
		detail := "the ledger is opening and answers no request yet; retry in a few seconds"
		// Only a write has an Idempotency-Key and something that may have been recorded: a read
		// told to keep a key it never sent would only be puzzled.
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			detail = "this attempt was not recorded: the ledger is opening and answers no request yet; " + retryNotFinal
		}
		writeError(w, &domain.Error{Kind: domain.KindUnavailable, Detail: detail})
	}
}
