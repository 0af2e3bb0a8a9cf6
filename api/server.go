// Package api serves the ledger over HTTP: the write routes of the public contract, employer
// reads, health, and the JSON error shape {error, field, detail}.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
	// Tokens, when nil, makes every request an admin's (only for loopback listeners).
	Tokens *Tokens
	// Today gives the business date of reads and the latest date a write may carry.
	Today func() domain.Date
	// Connected, if set, says why the ledger's NATS connection is down (nil when up): /readyz
	// answers 503 with the reason meanwhile.
	Connected func() error
	Log       *slog.Logger
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	handler http.Handler
	enc     encoded
	// warming is set while WarmWhenReady has not yet computed the live report.
	warming atomic.Bool
}

// New builds the API's handler.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Today == nil {
		cfg.Today = func() domain.Date { return domain.DateInChina(time.Now()) }
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.routes()
	s.handler = s.guard(s.mux)
	if cfg.Metrics != nil {
		s.mux.HandleFunc("GET /metrics", s.auth(s.metrics))
		s.handler = cfg.Metrics.Instrument(s.handler)
	}
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// HTTPServer wraps the handler in a server with timeouts, so slow clients cannot hold it.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

type route struct {
	path   string
	family string // "employer", "audit", "reference"
	newCmd func() domain.Command
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "seq": s.cfg.Store.Applied()})
	})
	s.mux.HandleFunc("POST /v1/employers", s.auth(s.createEmployer))
	for _, rt := range []route{
		{"registration", "employer", func() domain.Command { return &domain.CompleteRegistration{} }},
		{"changes", "employer", func() domain.Command { return &domain.ChangeEmployer{} }},
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
		{"audit-findings", "audit", func() domain.Command { return &domain.RecordAuditFinding{} }},
		{"waivers", "audit", func() domain.Command { return &domain.GrantWaiver{} }},
		{"enforcement", "audit", func() domain.Command { return &domain.RecordEnforcement{} }},
	} {
		s.mux.HandleFunc("POST /v1/employers/{id}/"+rt.path, s.auth(s.employerWrite(rt)))
	}
	s.mux.HandleFunc("POST /v1/reference/{kind}", s.auth(s.referenceWrite))
	s.mux.HandleFunc("GET /v1/employers/{id}", s.auth(s.getEmployer))
	s.mux.HandleFunc("GET /v1/employers/{id}/history", s.auth(s.getHistory))
	s.mux.HandleFunc("GET /v1/verify", s.auth(s.verify))
	s.readRoutes()
	s.freezeRoutes()
	s.yearRoutes()
	s.dashboardRoutes()
	s.importRoutes()
}

type ctxKey struct{}

func principalOf(r *http.Request) Principal { return r.Context().Value(ctxKey{}).(Principal) }

// auth resolves the bearer token to a principal: 401 when missing or unknown.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := Admin
		if s.cfg.Tokens != nil {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || tok == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="kuozheng"`)
				writeError(w, &domain.Error{Kind: domain.KindUnauthorized, Field: "Authorization", Detail: "a bearer token is required"})
				return
			}
			if p, ok = s.cfg.Tokens.Lookup(strings.TrimSpace(tok)); !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="kuozheng", error="invalid_token"`)
				writeError(w, &domain.Error{Kind: domain.KindUnauthorized, Field: "Authorization", Detail: "unknown token"})
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	}
}

// readBody reads a JSON body of at most MaxBody bytes into v, refusing unknown, repeated and
// wrongly cased fields and broken UTF-8, and returns the canonical form of the body for idempotency.
func readBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, &domain.Error{Kind: domain.KindUnsupportedMedia, Field: "Content-Type",
			Detail: fmt.Sprintf("%q is not JSON: send Content-Type: application/json", ct)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &domain.Error{Kind: domain.KindTooLarge, Field: "body", Detail: fmt.Sprintf("the body is over the limit of %d bytes", MaxBody)}
		}
		// The error names the sockets; the client needs only to know the body did not arrive.
		return nil, domain.Invalid("body", "could not be read whole: the client sent it too slowly or closed the connection")
	}
	if !utf8.Valid(body) {
		return nil, domain.Invalid("body", "is not valid UTF-8")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, domain.Invalid("body", "is empty: a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		je := jsonError(err, body)
		// Only an error that names no field is worth the search for the field that failed.
		var de *domain.Error
		if errors.As(je, &de) && de.Field == "body" {
			if field := failingField(body, v); field != "" {
				return nil, domain.Invalid(field, "%s", strings.TrimPrefix(de.Detail, "has "))
			}
		}
		return nil, je
	}
	if dec.More() {
		return nil, domain.Invalid("body", "holds more than one JSON value")
	}
	// After the decoder, which bounds how deep the body nests.
	if err := checkKeys(body, reflect.TypeOf(v)); err != nil {
		return nil, err
	}
	var canon any
	d2 := json.NewDecoder(bytes.NewReader(body))
	d2.UseNumber()
	if err := d2.Decode(&canon); err != nil {
		return nil, jsonError(err, body)
	}
	return json.Marshal(canon)
}

// failingField finds which top-level field of a JSON object fails to decode into a value of v's
// type, for errors (from a field's own decoder) that do not say where they are.
func failingField(body []byte, v any) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return ""
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for _, k := range names {
		one, _ := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		if json.Unmarshal(one, reflect.New(t).Interface()) != nil {
			return k
		}
	}
	return ""
}

func jsonError(err error, body []byte) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return domain.Invalid("body", "is not valid JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		} else {
			field = locate(body, strings.Split(field, "."), te.Value)
		}
		return domain.Invalid(field, "has a %s where %s is expected", te.Value, jsonKind(te.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return domain.Invalid(name, "is not a field of this request")
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return domain.Invalid("body", "is truncated JSON")
	}
	return domain.Invalid("body", "%v", err)
}

// locate turns the decoder's dotted path (which drops list indexes) into a path such as
// "lines[2].wage_base_fen", by finding the first value of the wrong JSON kind along it.
func locate(body []byte, path []string, kind string) string {
	var tree any
	if json.Unmarshal(body, &tree) != nil {
		return strings.Join(path, ".")
	}
	if p, ok := find(tree, path, kind); ok {
		return p
	}
	return strings.Join(path, ".")
}

func find(node any, path []string, kind string) (string, bool) {
	if list, ok := node.([]any); ok {
		for i, el := range list {
			if p, ok := find(el, path, kind); ok {
				if p != "" && !strings.HasPrefix(p, "[") {
					p = "." + p
				}
				return fmt.Sprintf("[%d]", i) + p, true
			}
		}
		return "", false
	}
	if len(path) == 0 {
		return "", jsonKindOf(node) == kind
	}
	obj, ok := node.(map[string]any)
	if !ok {
		return "", false
	}
	child, ok := obj[path[0]]
	if !ok {
		return "", false
	}
	rest, ok := find(child, path[1:], kind)
	if !ok {
		return "", false
	}
	if strings.HasPrefix(rest, "[") || rest == "" {
		return path[0] + rest, true
	}
	return path[0] + "." + rest, true
}

// jsonKindOf names a decoded value's kind as json.UnmarshalTypeError.Value does.
func jsonKindOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a " + k
}

func bodyHash(r *http.Request, canon []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.Path)
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil))
}

// idempotencyKey reads the Idempotency-Key header, scoped to the principal: one clerk's key
// neither blocks nor reveals another's. Without tokens there is one principal, and keys are
// used as given (as ledgers written before scoping stored them).
func (s *Server) idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if len(k) > 200 {
		return "", domain.Invalid("Idempotency-Key", "is longer than 200 characters")
	}
	if !utf8.ValidString(k) {
		return "", domain.Invalid("Idempotency-Key", "is not valid UTF-8")
	}
	if k == "" || s.cfg.Tokens == nil {
		return k, nil
	}
	return "principal\x00" + principalOf(r).Name + "\x00" + k, nil
}

func ifMatch(r *http.Request) (*uint64, error) {
	v := r.Header.Get("If-Match")
	if v == "" {
		return nil, nil
	}
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	n, err := strconv.ParseUint(strings.Trim(v, `"`), 10, 64)
	if err != nil {
		return nil, domain.Invalid("If-Match", "%q is not a version: want the ETag of an employer read, e.g. \"42\"", v)
	}
	return &n, nil
}

func (s *Server) createEmployer(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.Role != RoleClerk && p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not register employers: clerks only", p.Name, p.Role))
		return
	}
	var cmd domain.RegisterEmployer
	canon, err := readBody(w, r, &cmd)
	if err != nil {
		writeError(w, err)
		return
	}
	if !p.canWriteEmployer(cmd.County) {
		writeError(w, forbidden("%s (%s) may not register employers in county %q", p.Name, p.Role, cmd.County))
		return
	}
	req := eventstore.Request{Create: true, Command: &cmd, Authorize: func(e *domain.Employer) error {
		// The code is taken; whose it is, and its name, are only for those who may read it.
		if !p.canReadCounty(e.County, s.cfg.Store.Reference()) {
			return domain.Conflict("org_code", "organisation code %s is already registered, to an employer that is not yours", e.OrgCode)
		}
		return nil
	}}
	// Check first so that the id can come from the normalised organisation code.
	if err := cmd.Check(domain.Context{Ref: s.cfg.Store.Reference(), Today: s.cfg.Today()}); err != nil {
		if key := r.Header.Get("Idempotency-Key"); key == "" {
			writeError(w, err)
			return
		}
	}
	req.EmployerID = cmd.EmployerID()
	s.execute(w, r, req, canon)
}

func (s *Server) employerWrite(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		switch rt.family {
		case "audit":
			if p.Role != RoleAuditor && p.Role != RoleAdmin {
				writeError(w, forbidden("%s (%s) may not record %s: auditors only", p.Name, p.Role, rt.path))
				return
			}
		default:
			if p.Role != RoleClerk && p.Role != RoleAdmin {
				writeError(w, forbidden("%s (%s) may not record %s: clerks only", p.Name, p.Role, rt.path))
				return
			}
		}
		// Scope is answered before the body's details, so nobody learns about employers they
		// may not read; Authorize checks it again on the state the command is decided on.
		id := r.PathValue("id")
		county, err := s.cfg.Store.EmployerCountyContext(r.Context(), id)
		if err != nil {
			writeError(w, err)
			return
		}
		ok := county != ""
		if !p.readsAll() && (!ok || !p.canReadCounty(county, s.cfg.Store.Reference())) {
			writeError(w, notYours(id))
			return
		}
		if ok && rt.family == "employer" && !p.canWriteEmployer(county) {
			writeError(w, forbidden("%s (%s) may not write to employers of county %s", p.Name, p.Role, county))
			return
		}
		cmd := rt.newCmd()
		canon, err := readBody(w, r, cmd)
		if err != nil {
			writeError(w, err)
			return
		}
		req := eventstore.Request{EmployerID: r.PathValue("id"), Command: cmd}
		if rt.family == "employer" {
			req.Authorize = func(e *domain.Employer) error {
				if !p.canWriteEmployer(e.County) {
					return notYours(e.ID)
				}
				return nil
			}
		}
		s.execute(w, r, req, canon)
	}
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, req eventstore.Request, canon []byte) {
	var err error
	if req.IfMatch, err = ifMatch(r); err != nil {
		writeError(w, err)
		return
	}
	p := principalOf(r)
	if req.IdempotencyKey, err = s.idempotencyKey(r); err != nil {
		writeError(w, err)
		return
	}
	req.BodyHash = bodyHash(r, canon)
	req.Actor = p.Role + ":" + p.Name
	req.CorrelationID = r.Header.Get("X-Request-Id")
	req.Today = s.cfg.Today()
	// A deadline of its own, so that a client always gets a definite answer: recorded, not
	// recorded, or outcome unknown.
	ctx, cancel := context.WithTimeout(r.Context(), WriteTimeout)
	defer cancel()
	res, err := s.cfg.Store.Execute(ctx, req)
	if err != nil {
		writeError(w, err)
		return
	}
	status := writeStatus(res.Duplicate)
	w.Header().Set("ETag", fmt.Sprintf(`"%d"`, res.Version))
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(res.Seq, 10))
	writeJSON(w, status, res)
}

func (s *Server) referenceWrite(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not change reference data: admins only", p.Name, p.Role))
		return
	}
	var payload domain.Payload
	var canon []byte
	var err error
	var on domain.Date
	switch r.PathValue("kind") {
	case "rates":
		var v domain.RateTable
		canon, err = readBody(w, r, &v)
		payload, on = domain.RatesSet{Table: v}, v.EffectiveFrom
	case "late-fee-rates":
		var v domain.LateFeeRate
		canon, err = readBody(w, r, &v)
		payload, on = domain.LateFeeRatesSet{Rate: v}, v.EffectiveFrom
	case "settings":
		var v domain.Settings
		canon, err = readBody(w, r, &v)
		payload, on = domain.SettingsSet{Settings: v}, v.EffectiveFrom
	case "targets":
		var v domain.Targets
		canon, err = readBody(w, r, &v)
		payload, on = domain.TargetsSet{Targets: v}, v.EffectiveFrom
	case "average-wage":
		var v domain.AverageWage
		canon, err = readBody(w, r, &v)
		payload, on = domain.AverageWageSet{Wage: v}, v.EffectiveFrom
	case "county-redefinitions":
		var v domain.CountyRedefined
		canon, err = readBody(w, r, &v)
		payload, on = v, v.EffectiveFrom
	default:
		writeError(w, domain.NotFound("kind", "unknown reference data %q: want rates, late-fee-rates, settings, targets, average-wage or county-redefinitions", r.PathValue("kind")))
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeRef(w, r, canon, payload, on)
}

// writeStatus is a write's status: 201 for what it appended, 200 for an Idempotency-Key retry
// answered with the first result.
func writeStatus(duplicate bool) int {
	if duplicate {
		return http.StatusOK
	}
	return http.StatusCreated
}

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail"`
}

var statusOf = map[domain.Kind]int{
	domain.KindInvalid:             http.StatusBadRequest,
	domain.KindNotFound:            http.StatusNotFound,
	domain.KindConflict:            http.StatusConflict,
	domain.KindStale:               http.StatusPreconditionFailed,
	domain.KindIdempotencyMismatch: http.StatusUnprocessableEntity,
	domain.KindUnauthorized:        http.StatusUnauthorized,
	domain.KindForbidden:           http.StatusForbidden,
	domain.KindTooLarge:            http.StatusRequestEntityTooLarge,
	domain.KindUnavailable:         http.StatusServiceUnavailable,
	domain.KindUnsupportedMedia:    http.StatusUnsupportedMediaType,
	domain.KindYearClosed:          http.StatusConflict,
}

func writeError(w http.ResponseWriter, err error) {
	var de *domain.Error
	switch {
	case errors.As(err, &de):
	case errors.Is(err, eventstore.ErrOutcomeUnknown):
		// Sent but not acknowledged: it may yet be recorded (within eventstore.PublishTimeoutBound
		// of being sent), so the client must not take it for refused.
		writeJSON(w, http.StatusGatewayTimeout, ErrorBody{Error: "outcome_unknown",
			Detail: "the ledger did not confirm the write in time: it may or may not be recorded; retry with the same Idempotency-Key to learn which (a retry never records it twice)"})
		return
	case errors.Is(err, eventstore.ErrNotRecorded):
		id := internalError(w, err)
		de = &domain.Error{Kind: domain.KindUnavailable, Detail: "the write was not recorded (the ledger could not take it now); retry, with the same Idempotency-Key (request " + id + ")"}
	case errors.Is(err, eventstore.ErrStale):
		de = &domain.Error{Kind: domain.KindStale, Field: "If-Match", Detail: "the employer changed since the version you read; read it again"}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		de = &domain.Error{Kind: domain.KindUnavailable, Detail: "the ledger did not answer in time; retry with the same Idempotency-Key"}
	case unavailable(err):
		id := internalError(w, err)
		de = &domain.Error{Kind: domain.KindUnavailable, Detail: "the ledger's store is unavailable; retry with the same Idempotency-Key (request " + id + ")"}
	default:
		// Not the client's error: its text (paths, addresses, internals) goes to the log only.
		id := internalError(w, err)
		writeJSON(w, http.StatusInternalServerError, ErrorBody{Error: "internal",
			Detail: "the server failed to complete the request; it logged the cause under request id " + id})
		return
	}
	code := statusOf[de.Kind]
	if code == 0 {
		code = http.StatusInternalServerError
	}
	writeJSON(w, code, ErrorBody{Error: de.Kind.String(), Field: de.Field, Detail: de.Detail})
}

// unavailable reports an error of the connection to the ledger's store, which a retry may cure.
func unavailable(err error) bool {
	for _, e := range []error{nats.ErrConnectionClosed, nats.ErrNoServers, nats.ErrTimeout, nats.ErrNoResponders,
		nats.ErrConnectionDraining, nats.ErrDisconnected, jetstream.ErrNoStreamResponse, jetstream.ErrJetStreamNotEnabled} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// metrics serves Prometheus metrics to admins; a scraper without a token uses serve's
// --metrics-listen instead.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if p := principalOf(r); p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not read metrics: admins only (or scrape serve's --metrics-listen)", p.Name, p.Role))
		return
	}
	s.cfg.Metrics.Handler().ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !p.readsAll() {
		writeError(w, forbidden("%s (%s) may not verify the whole ledger", p.Name, p.Role))
		return
	}
	in, err := s.cfg.Store.Verify(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	out := Verification{Integrity: in}
	if s.cfg.Runner != nil {
		vc, err := s.cfg.Runner.VerifyRebuild(r.Context(), s.cfg.Today())
		if err != nil {
			writeError(w, err)
			return
		}
		out.Views = &vc
		out.OK = out.OK && vc.OK
	}
	writeJSON(w, http.StatusOK, out)
}

// Verification is the answer of GET /v1/verify: the stream's integrity (hash chains, sequence
// links, deleted and lost counters) and, where views run, their comparison with a rebuild.
type Verification struct {
	eventstore.Integrity
	Views *projections.ViewCheck `json:"views,omitempty"`
}
