package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// maxLoggedAnswer is how much of a write's JSON answer logWrites reads for its employer and
// sequence: a write's answer is a few hundred bytes; an import's may be larger and names neither.
const maxLoggedAnswer = 64 << 10

// logWrites logs, at debug level, every request that may append (any method but GET, HEAD and
// OPTIONS) once it is answered: "write recorded" with its request id, principal (the token's
// name, never the token), route, status, employer_id (empty for a write that is not one
// employer's: reference data, a year's close, a freeze, an import, a county's notices), the
// stream sequence of its last event (seq, 0 when the answer names none) and whether it was an
// Idempotency-Key retry; "write refused" with the request id, principal (empty for a missing or
// unknown token), route, status and the error's code. It reads them from the answer (its JSON
// body, X-Ledger-Seq, the route's {id}), so that no handler has to. At any other level it
// costs a check of the level.
func (s *Server) logWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if !s.cfg.Log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		aw := &answerWriter{ResponseWriter: w}
		next.ServeHTTP(aw, r)
		var a struct {
			EmployerID string `json:"employer_id"`
			Seq        uint64 `json:"seq"`
			Duplicate  bool   `json:"duplicate"`
			Error      string `json:"error"`
		}
		_ = json.Unmarshal(aw.body.Bytes(), &a) // an answer that is not such JSON names none of them
		if a.EmployerID == "" {
			a.EmployerID = r.PathValue("id")
		}
		if a.Seq == 0 {
			a.Seq, _ = strconv.ParseUint(w.Header().Get("X-Ledger-Seq"), 10, 64)
		}
		status := aw.status()
		name, role := s.principalName(r)
		attrs := []any{"request_id", w.Header().Get("X-Request-Id"), "principal", name, "role", role,
			"method", r.Method, "route", r.Pattern, "status", status}
		if status/100 == 2 {
			s.cfg.Log.Debug("write recorded", append(attrs, "employer_id", a.EmployerID, "seq", a.Seq, "duplicate", a.Duplicate)...)
			return
		}
		s.cfg.Log.Debug("write refused", append(attrs, "error", a.Error)...)
	})
}

// principalName is the name and role of the request's principal as auth resolves it; empty when
// its token is missing or unknown. The token itself is never returned.
func (s *Server) principalName(r *http.Request) (name, role string) {
	if s.cfg.Tokens == nil {
		return Admin.Name, Admin.Role
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", ""
	}
	p, ok := s.cfg.Tokens.Lookup(strings.TrimSpace(tok))
	if !ok {
		return "", ""
	}
	return p.Name, p.Role
}

// answerWriter keeps an answer's status and the first maxLoggedAnswer bytes of a JSON body.
type answerWriter struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (w *answerWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *answerWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && w.body.Len() < maxLoggedAnswer {
		w.body.Write(p[:min(len(p), maxLoggedAnswer-w.body.Len())])
	}
	return w.ResponseWriter.Write(p)
}

func (w *answerWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap gives http.ResponseController, and internalError, the writer underneath.
func (w *answerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
