// Package api serves the ledger over HTTP: the write routes of the public contract, employer
// reads, health, and the JSON error shape {error, field, detail}.
package api

import (
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// WriteTimeout bounds how long a write waits for the ledger before it is answered 503 (never
// sent) or 504 outcome_unknown (sent, not yet confirmed).
const WriteTimeout = 20 * time.Second

// Config configures the HTTP API.
type Config struct {
	Store *eventstore.Store
	// Runner serves the projection reads; without it they answer 503.
	Runner *projections.Runner
	// Metrics, if set, serves /metrics and counts every request.
	Metrics *Metrics
	// Damage, if set, is why the ledger looked damaged at start: /readyz says so and answers 503.
	Damage string
	// AcceptedDamage, if set, is damage found at start and served as it is (--accept-damage):
	// /readyz answers 200, and kuozheng_ledger_damaged still reads 1.
	AcceptedDamage string
	// Tokens, when nil, makes every request an admin's (only for loopback listeners).
	Tokens *Tokens
	// Today gives the business date of reads and the latest date a write may carry.
	Today func() domain.Date
	// Connected, if set, says why the ledger's NATS connection is down (nil when up): /readyz
	// answers 503 with the reason meanwhile.
	Connected func() error
	// Probe, if set, says whether the ledger can take writes (a stream that answers and has a
	// leader, a follower that keeps up): /readyz answers 503 with its reason when not.
	Probe Probe
	// LiveSendWait is how long one event of a live stream may wait for its client to take it
	// once the connection's buffers are full (a tab frozen, a proxy stuck): the stream is then
	// cut and its place among the principal's MaxLiveEach freed. 0 is DefaultLiveSendWait.
	LiveSendWait time.Duration
	Log          *slog.Logger
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	handler http.Handler
	enc     encoded
	tallies tallies
	// warming is set while WarmWhenReady has not yet computed the live report.
	warming   atomic.Bool
	batches   batches
	verifying verifyRuns
	found     foundDamage
	// diskLog lets the log have one refusal for a full disk a minute, not one a write.
	diskLog   logThrottle
	uploads   chan struct{} // a slot for each import taken, from its upload on (MaxUploadsAtOnce)
	uploading perPrincipal  // each principal's uploads under way (MaxUploadsEach)
	watching  perPrincipal  // each principal's live streams open (MaxLiveEach)
	imports   chan struct{} // a slot for each import being read and imported (MaxImportsAtOnce)
	ending    chan struct{} // closed by EndStreams
	endOnce   sync.Once
}

// EndStreams ends the live streams (GET /v1/live) open now and to come: a stream never ends of
// itself, and a server shutting down waits for its requests (http.Server.RegisterOnShutdown).
func (s *Server) EndStreams() { s.endOnce.Do(func() { close(s.ending) }) }

// New builds the API's handler.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Today == nil {
		cfg.Today = func() domain.Date { return domain.DateInChina(time.Now()) }
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), uploads: make(chan struct{}, MaxUploadsAtOnce), imports: make(chan struct{}, MaxImportsAtOnce),
		ending: make(chan struct{})}
	s.routes()
	s.handler = s.guard(compressed(s.logWrites(routed(s.mux))))
	if cfg.Metrics != nil {
		s.mux.HandleFunc("GET /metrics", s.auth(s.metrics))
		s.handler = cfg.Metrics.Instrument(s.handler)
		cfg.Metrics.watchServer(s)
	}
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// writeTimeout bounds the writing of an answer (but a replay of closed books: allowReplay).
const writeTimeout = 60 * time.Second

// HTTPServer wraps the handler in a server with timeouts, so slow clients cannot hold it.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

type route struct {
	path   string
	family string // "employer" (clerks), "audit" (auditors), "void" (clerks, auditors)
	newCmd func() domain.Command
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(OpenAPI)
	})
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		seq := s.cfg.Store.Applied()
		w.Header().Set("X-Ledger-Seq", strconv.FormatUint(seq, 10))
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "seq": seq})
	})
	s.mux.HandleFunc("POST /v1/employers", s.auth(s.createEmployer))
	for _, rt := range []route{
		{"registration", "employer", func() domain.Command { return &domain.CompleteRegistration{} }},
		{"changes", "employer", func() domain.Command { return &domain.ChangeEmployer{} }},
		{"org-code", "employer", func() domain.Command { return &domain.CorrectOrgCode{} }},
		{"surveys", "employer", func() domain.Command { return &domain.RecordSurvey{} }},
		{"enrollments", "employer", func() domain.Command { return &domain.RecordEnrollment{} }},
		{"declarations", "employer", func() domain.Command { return &domain.FileDeclaration{} }},
		{"assessments", "employer", func() domain.Command { return &domain.MakeAssessment{} }},
		{"opening-balances", "employer", func() domain.Command { return &domain.RecordOpeningBalance{} }},
		{"payments", "employer", func() domain.Command { return &domain.RecordPayment{} }},
		{"payment-reversals", "employer", func() domain.Command { return &domain.ReversePayment{} }},
		{"contracts", "employer", func() domain.Command { return &domain.RecordContracts{} }},
		{"transfer", "employer", func() domain.Command { return &domain.Transfer{} }},
		{"deregistration", "employer", func() domain.Command { return &domain.Deregister{} }},
		{"reinstatement", "employer", func() domain.Command { return &domain.Reinstate{} }},
		{"refunds", "employer", func() domain.Command { return &domain.RefundCredit{} }},
		{"voids", "void", func() domain.Command { return &domain.VoidEvent{} }},
		{"audit-findings", "audit", func() domain.Command { return &domain.RecordAuditFinding{} }},
		{"inspections", "audit", func() domain.Command { return &domain.RecordInspection{} }},
		{"waivers", "audit", func() domain.Command { return &domain.GrantWaiver{} }},
		{"enforcement", "audit", func() domain.Command { return &domain.RecordEnforcement{} }},
	} {
		s.mux.HandleFunc("POST /v1/employers/{id}/"+rt.path, s.auth(s.employerWrite(rt)))
	}
	s.mux.HandleFunc("POST /v1/employers/{id}/notices", s.auth(s.issueNotice))
	s.mux.HandleFunc("GET /v1/employers/{id}/notices/{file}", s.auth(s.getNotice))
	s.mux.HandleFunc("POST /v1/counties/{code}/notices", s.auth(s.read(s.issueNotices)))
	s.mux.HandleFunc("GET /v1/counties/{code}/notices/progress", s.auth(s.read(s.noticeProgress)))
	s.mux.HandleFunc("POST /v1/reference/{kind}", s.auth(s.referenceWrite))
	s.mux.HandleFunc("GET /v1/employers/{id}", s.auth(s.getEmployer))
	s.mux.HandleFunc("GET /v1/employers/{id}/history", s.auth(s.getHistory))
	s.mux.HandleFunc("GET /v1/verify", s.auth(s.verify))
	s.readRoutes()
	s.freezeRoutes()
	s.yearRoutes()
	s.dashboardRoutes()
	s.importRoutes()
	s.publicityRoutes()
	s.statementRoutes()
}

// metrics serves Prometheus metrics to admins; a scraper without a token uses serve's
// --metrics-listen instead.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(s.cfg.Store.Applied(), 10))
	serveMetrics(s.cfg.Metrics, principalOf(r), w, r)
}

// serveMetrics answers /metrics to an admin, 403 to anyone else.
func serveMetrics(m *Metrics, p Principal, w http.ResponseWriter, r *http.Request) {
	if p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not read metrics: admins only (or scrape serve's --metrics-listen)", p.Name, p.Role))
		return
	}
	m.Handler().ServeHTTP(w, r)
}

// paramHints say where to go for what a parameter a route does not take asks.
var paramHints = map[string]string{
	// Live figures are the views' as they stand; reading them at an earlier sequence would
	// replay the ledger per read. Figures that never move come from a freeze.
	"through_seq": "; live figures are those recorded now (X-Ledger-Seq); for figures that never move, freeze the ledger through a sequence (POST /v1/freezes) and read them with freeze={id}",
}

// oneOfEach refuses a query that is not well formed, that gives a parameter twice (every route
// reads one value of each, and which of two was meant is not ours to guess), or that gives one
// the route does not take (openapi.yaml's): a parameter misspelt would otherwise be ignored,
// and the answer be for the default it meant to change (today's figures for `asof=2006-06-30`).
func oneOfEach(pattern, raw string) error {
	if raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return domain.Invalid("query", "is not well formed: %v", err)
	}
	// Only the API's routes: a probe of /readyz or /healthz may carry whatever its balancer adds.
	takes, documented := queryParams[pattern]
	documented = documented && strings.Contains(pattern, " /v1/")
	for _, k := range slices.Sorted(maps.Keys(q)) {
		switch {
		case len(q[k]) > 1:
			return domain.Invalid(domain.Clip(k, 64), "is given %d times: give it once", len(q[k]))
		case documented && !takes[k] && len(takes) == 0:
			return domain.Invalid(domain.Clip(k, 64), "is not a parameter of %s, which takes none%s", pattern, paramHints[k])
		case documented && !takes[k]:
			return domain.Invalid(domain.Clip(k, 64), "is not a parameter of %s, which takes %s%s", pattern, strings.Join(slices.Sorted(maps.Keys(takes)), ", "), paramHints[k])
		case documented && !utf8.ValidString(q[k][0]):
			// As a body's text is refused: a search for broken bytes would otherwise answer
			// no match, as if there were none.
			return domain.Invalid(k, "is not valid UTF-8")
		case documented && strings.ContainsFunc(q[k][0], domain.Unprintable):
			// As a body's text: a bidirectional override or a noncharacter matches nothing either.
			return domain.Invalid(k, "holds a control or invisible formatting character (such as NUL, a line break or a direction override)")
		}
	}
	return nil
}

// routed serves mux, answering a request no route takes (a path it does not know, a method its
// path does not take) in the API's error shape rather than the mux's plain text, and one whose
// query gives a parameter twice (oneOfEach) with 400.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			if err := oneOfEach(pattern, r.URL.RawQuery); err != nil {
				writeError(w, err)
				return
			}
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's answer says which: 404, 405 with the methods the path takes in Allow, or a
		// redirect to the cleaned path, which it gives as it would.
		rec := &statusOnly{header: http.Header{}, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		switch rec.code {
		case http.StatusMethodNotAllowed:
			allow := rec.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeErrorBody(w, rec.code, ErrorBody{Error: errMethodNotAllowed,
				Detail: r.Method + " is not allowed on " + r.URL.Path + "; it takes " + allow})
		case http.StatusNotFound:
			writeErrorBody(w, http.StatusNotFound, ErrorBody{Error: domain.KindNotFound.String(),
				Detail: "no route " + r.Method + " " + r.URL.Path + " (the routes: GET /openapi.yaml)"})
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

// statusOnly keeps the status a handler answers and drops its body.
type statusOnly struct {
	header http.Header
	code   int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.code = code }
