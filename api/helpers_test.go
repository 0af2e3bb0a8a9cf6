package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

var today = domain.MustDate("2006-12-31")

// Tokens of the tokens file written by newAuthEnv.
const (
	tokClerkA  = "clerk-a"  // clerk of 360702
	tokClerkB  = "clerk-b"  // clerk of 360721
	tokAuditor = "aud"      // auditor
	tokSuper   = "sup"      // supervisor of group 1
	tokAdmin   = "adm"      // admin
	tokHashed  = "h-secret" // clerk of 360702, stored only as token_sha256
	tokUnknown = "no-such-token"
)

// env is a ledger on an embedded nats-server with the API served over real HTTP.
type env struct {
	t      *testing.T
	l      *storetest.Ledger
	srv    *httptest.Server
	tokens *api.Tokens
	// runner, when set, serves the projection reads.
	runner *projections.Runner
	// today, when set, is the server's business date instead of the package's today; clock,
	// when set, gives it instead.
	today domain.Date
	clock func() domain.Date
	// wrap, when set, wraps the API's handler (a test that holds a request back).
	wrap func(http.Handler) http.Handler
}

// newEnv starts a ledger and serves the API without tokens (every request is an admin's).
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{})}
	e.serve()
	return e
}

// newAuthEnv starts a ledger and serves the API with a tokens file.
func newAuthEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{})}
	e.loadTokens()
	e.serve()
	return e
}

// newReadEnv starts a ledger, a projection runner on it (caught up before it returns), and serves
// the API with the tokens file of newAuthEnv and day as today's business date.
func newReadEnv(t *testing.T, day domain.Date) *env {
	t.Helper()
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), today: day}
	e.loadTokens()
	e.runner = startRunner(t, e.l.Store)
	e.serve()
	return e
}

// newLoggedEnv is newReadEnv whose server logs to h.
func newLoggedEnv(t *testing.T, day domain.Date, h slog.Handler) *env {
	t.Helper()
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), today: day}
	e.loadTokens()
	e.runner = startRunner(t, e.l.Store)
	e.srv = httptest.NewServer(api.New(api.Config{Store: e.l.Store, Runner: e.runner, Tokens: e.tokens, Log: slog.New(h),
		Today: func() domain.Date { return e.today }}))
	t.Cleanup(e.srv.Close)
	return e
}

// startRunner starts a projection runner (without snapshots) on store, stopped when the test
// ends, and waits until it has caught up with the stream.
func startRunner(t testing.TB, store *eventstore.Store) *projections.Runner {
	t.Helper()
	return startRunnerWith(t, store, projections.RunnerConfig{NoSnapshots: true})
}

// startRunnerWith is startRunner with the runner's settings cfg.
func startRunnerWith(t testing.TB, store *eventstore.Store, cfg projections.RunnerConfig) *projections.Runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := projections.NewRunner(store, cfg)
	if err := r.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start the projection runner: %v", err)
	}
	t.Cleanup(func() { cancel(); r.Wait() })
	storetest.CheckFor(t, 2*time.Minute, 5*time.Millisecond, func() error {
		if !r.Ready() {
			return fmt.Errorf("the projection runner has not caught up (at sequence %d)", r.Seq())
		}
		return nil
	})
	return r
}

// loadTokens writes the test tokens file and loads it.
func (e *env) loadTokens() {
	t := e.t
	t.Helper()
	sum := sha256.Sum256([]byte(tokHashed))
	e.useTokens(append(roleTokens(),
		map[string]any{"token_sha256": hex.EncodeToString(sum[:]), "name": "h", "role": "clerk", "counties": []string{"360702"}}))
}

// roleTokens are the tokens file's entries of one principal of each role but the assessor.
func roleTokens() []map[string]any {
	return []map[string]any{
		{"token": tokClerkA, "name": "a", "role": "clerk", "counties": []string{"360702"}},
		{"token": tokClerkB, "name": "b", "role": "clerk", "counties": []string{"360721"}},
		{"token": tokAuditor, "name": "aud", "role": "auditor"},
		{"token": tokSuper, "name": "sup", "role": "supervisor", "groups": []int{1}},
		{"token": tokAdmin, "name": "adm", "role": "admin"},
	}
}

// useTokens writes entries as a tokens file and loads it as the server's tokens.
func (e *env) useTokens(entries []map[string]any) {
	e.t.Helper()
	var err error
	if e.tokens, err = api.LoadTokens(writeTokens(e.t, entries), e.l.Store.Reference(), nil); err != nil {
		e.t.Fatalf("load tokens: %v", err)
	}
}

func (e *env) serve() {
	e.t.Helper()
	day := today
	if e.today != 0 {
		day = e.today
	}
	cfg := api.Config{Store: e.l.Store, Runner: e.runner, Today: func() domain.Date { return day }}
	if e.clock != nil {
		cfg.Today = e.clock
	}
	if e.tokens != nil {
		cfg.Tokens = e.tokens
	}
	var h http.Handler = api.New(cfg)
	if e.wrap != nil {
		h = e.wrap(h)
	}
	srv := httptest.NewServer(h)
	e.srv = srv
	e.t.Cleanup(srv.Close)
}

// restart stops the ledger and starts it again on the same folder, with a new HTTP server
// (without a projection runner: the old one followed the stopped store).
func (e *env) restart() {
	e.t.Helper()
	e.runner = nil
	e.srv.Close()
	e.l.Restart(e.t)
	e.serve()
}

func (e *env) count() uint64 {
	e.t.Helper()
	return e.l.MessageCount(e.t)
}

// events is the number of events in the stream (its messages but the claims of notice numbers).
func (e *env) events() uint64 {
	e.t.Helper()
	return e.l.Events(e.t)
}

// resp is an HTTP answer with its JSON body decoded (numbers kept as json.Number).
type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

func (r resp) str(k string) string {
	s, _ := r.JSON[k].(string)
	return s
}

func (r resp) num(k string) int64 {
	n, ok := r.JSON[k].(json.Number)
	if !ok {
		return -1
	}
	v, err := n.Int64()
	if err != nil {
		return -1
	}
	return v
}

func (r resp) String() string { return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Raw)) }

// req is one HTTP request of a test.
type req struct {
	Method string
	Path   string
	Token  string // "" sends no Authorization header
	Body   []byte
	Header map[string]string
}

func (e *env) do(t testing.TB, q req) resp {
	t.Helper()
	if q.Method == "" {
		q.Method = http.MethodPost
	}
	var body io.Reader
	if q.Body != nil {
		body = bytes.NewReader(q.Body)
	}
	hr, err := http.NewRequest(q.Method, e.srv.URL+q.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if q.Body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if q.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+q.Token)
	}
	for k, v := range q.Header {
		hr.Header.Set(k, v)
	}
	hres, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", q.Method, q.Path, err)
	}
	defer hres.Body.Close()
	raw, err := io.ReadAll(hres.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", q.Method, q.Path, err)
	}
	r := resp{Status: hres.StatusCode, Header: hres.Header, Raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.JSON); err != nil {
			t.Fatalf("%s %s: answer %d is not a JSON object: %v: %s", q.Method, q.Path, r.Status, err, raw)
		}
	}
	return r
}

func (e *env) post(t testing.TB, path, token, body string) resp {
	t.Helper()
	return e.do(t, req{Path: path, Token: token, Body: []byte(body)})
}

func (e *env) get(t testing.TB, path, token string) resp {
	t.Helper()
	return e.do(t, req{Method: http.MethodGet, Path: path, Token: token})
}

// mustWrite posts and fails the test unless the answer is 201.
func (e *env) mustWrite(t testing.TB, path, token, body string) resp {
	t.Helper()
	r := e.post(t, path, token, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST %s %s: %s, want 201", path, body, r)
	}
	return r
}

// register enters an enterprise registered on 2006-04-03 and returns its id.
func (e *env) register(t testing.TB, token, org, county string) string {
	t.Helper()
	r := e.mustWrite(t, "/v1/employers", token, registration(org, county))
	id := r.str("employer_id")
	if id == "" {
		t.Fatalf("registration answered no employer_id: %s", r)
	}
	return id
}

func registration(org, county string) string {
	return fmt.Sprintf(`{"name":"单位 %s","county":%q,"org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, org, county, org)
}

func paymentBody(receipt string, fen int64, paidOn string) string {
	return fmt.Sprintf(`{"paid_on":%q,"amount_fen":%d,"receipt_no":%q}`, paidOn, fen, receipt)
}

// orgCode makes a valid organisation code from a number: 10000004 → "10000004-0".
func orgCode(n int) string { return domain.NumberedOrgCode(n) }

// creditCodeOf makes a valid unified social credit code (registered in county) whose characters
// 9–17 are the organisation code org.
func creditCodeOf(org, county string) string {
	body := "91" + county + org[:8] + org[9:]
	c, err := domain.CreditCodeCheck(body)
	if err != nil {
		panic(err)
	}
	return body + string(c)
}

func empPath(id, sub string) string {
	if sub == "" {
		return "/v1/employers/" + id
	}
	return "/v1/employers/" + id + "/" + sub
}

// wantError checks an error answer: status, error kind and field.
func wantError(t testing.TB, r resp, status int, kind, field string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Raw)
		return
	}
	if got := r.str("error"); got != kind {
		t.Errorf("error %q, want %q: %s", got, kind, r.Raw)
	}
	if got := r.str("field"); got != field {
		t.Errorf("field %q, want %q: %s", got, field, r.Raw)
	}
	if _, ok := r.JSON["detail"].(string); !ok || r.str("detail") == "" {
		t.Errorf("no detail in the error answer: %s", r.Raw)
	}
}

// wantUnchanged checks that the stream holds as many messages as before.
func (e *env) wantUnchanged(t testing.TB, before uint64) {
	t.Helper()
	if got := e.count(); got != before {
		t.Errorf("a refused request appended: the stream holds %d messages, had %d", got, before)
	}
}

// waitFor polls cond until it holds, failing the test after d with what it waited for.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tableCSV is the rows of a CSV table the API answers: it must begin with a byte-order mark
// (without it Excel takes UTF-8 for the system's code page and garbles the Chinese).
func tableCSV(t testing.TB, body []byte) ([][]string, error) {
	t.Helper()
	rest, ok := bytes.CutPrefix(body, []byte("\ufeff"))
	if !ok {
		t.Errorf("a CSV table begins %q, want a byte-order mark first", body[:min(len(body), 12)])
	}
	return csv.NewReader(bytes.NewReader(rest)).ReadAll()
}
