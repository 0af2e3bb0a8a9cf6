package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// MaxRequestID is the longest X-Request-Id accepted: it is stored in every event the request
// appends, for ever.
const MaxRequestID = 128

// guard is the first thing every request meets: it names the request (X-Request-Id), refuses
// names of this server a browser page of another site could use (DNS rebinding) and writes from
// other sites, and sets the headers that keep answers from being sniffed or framed.
func (s *Server) guard(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, forbidden("cross-site writes are refused (Origin %q)", r.Header.Get("Origin")))
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protect(w.Header())
		id := r.Header.Get("X-Request-Id")
		if err := checkRequestID(id); err != nil {
			writeError(w, err)
			return
		}
		if id == "" {
			id = uuid.NewString()
			r.Header.Set("X-Request-Id", id) // the events it writes carry it too, as a client's would
		}
		w.Header().Set("X-Request-Id", id)
		gw := &guardWriter{ResponseWriter: w, id: id}
		defer func() {
			if gw.internal == nil {
				return
			}
			var disk *eventstore.DiskError
			if !errors.As(gw.internal, &disk) {
				s.cfg.Log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", gw.internal)
			} else if n, ok := s.diskLog.let(time.Now()); ok {
				s.cfg.Log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", gw.internal, "also_refused_since_last_logged", n)
			}
		}()
		if err := loopbackOnly(s.cfg.Tokens, r); err != nil {
			writeError(gw, err)
			return
		}
		if err := s.disconnectedRead(r); err != nil {
			// No Retry-After: the dashboard waits out a 503 that carries one, five times over,
			// before it says anything; this one is said at once.
			writeError(gw, err)
			return
		}
		cop.Handler(next).ServeHTTP(gw, r)

	})
}

// loopbackOnly refuses a request to a name that is not a loopback one when there are no tokens:
// every request is then an admin's, and a page of another site that made its own name resolve
// to 127.0.0.1 must not be one (DNS rebinding).
func loopbackOnly(tokens *Tokens, r *http.Request) error {
	if tokens != nil || loopbackHost(r.Host) {
		return nil
	}
	return &domain.Error{Kind: domain.KindForbidden, Field: "Host",
		Detail: fmt.Sprintf("%q is not a loopback name: without --tokens this server answers only localhost, 127.0.0.1 and [::1]", domain.Clip(r.Host, 64))}
}

// disconnectedRead refuses a read of the API while this server's connection to the ledger's
// stream is down: what it holds may be behind what other replicas recorded since (an employer
// registered through another reads as not found here), and a 200 would pass it for the ledger's.
// The health checks, metrics and the dashboard's files still answer.
func (s *Server) disconnectedRead(r *http.Request) error {
	if s.cfg.Connected == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) || !strings.HasPrefix(r.URL.Path, "/v1/") {
		return nil
	}
	if s.cfg.Connected() != nil {
		return &domain.Error{Kind: domain.KindUnavailable, Detail: "this server is cut off from the ledger's stream (its connection to NATS is down): " +
			"what it holds may be behind what was recorded since, so it answers no read until the connection is back; retry in a few seconds, or ask another replica"}
	}
	return nil
}

// logThrottle lets one line a minute through: while a disk is full every write is refused for
// the same reason, and a line each buried the rest of the log (an operator's drill: hundreds a
// minute). The lines it holds back are counted in the next it lets through.
type logThrottle struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// let reports whether a line at now goes to the log, and how many were held back before it.
func (t *logThrottle) let(now time.Time) (skipped int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() && now.Sub(t.last) < time.Minute {
		t.skipped++
		return 0, false
	}
	skipped, t.last, t.skipped = t.skipped, now, 0
	return skipped, true
}

// protect sets the headers that keep an answer from being sniffed or framed (a page that set its
// own Content-Security-Policy keeps it).
func protect(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	}
}

// checkRequestID accepts an empty id or up to MaxRequestID printable ASCII characters.
func checkRequestID(id string) error {
	if len(id) > MaxRequestID {
		return domain.Invalid("X-Request-Id", "is %d bytes long: at most %d printable ASCII characters", len(id), MaxRequestID)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return domain.Invalid("X-Request-Id", "holds a byte 0x%02x at %d: only printable ASCII characters are allowed", id[i], i)
		}
	}
	return nil
}

// loopbackHost reports a Host header that names this machine's loopback interface.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	switch strings.ToLower(strings.TrimSuffix(host, ".")) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// guardWriter carries the request's id and, once writeError met an error that is not the
// client's, that error, which guard logs with the id instead of sending it to the client.
type guardWriter struct {
	http.ResponseWriter
	id       string
	internal error
}

// Flush lets server-sent events through.
func (w *guardWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *guardWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// internalError records err for guard to log, and says under which request id.
func internalError(w http.ResponseWriter, err error) string {
	for {
		switch x := w.(type) {
		case *guardWriter:
			x.internal = err
			return x.id
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			slog.Error("request failed", "err", err)
			return ""
		}
	}
}
