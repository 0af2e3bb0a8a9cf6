package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// The principals of the access matrix: the tokens of newFreezeEnv's tokens file (clerk of 360702,
// auditor, supervisor of group 1, assessor, admin), no token, and a token nobody was given.
var accessRoles = []struct{ name, token string }{
	{"clerk", tokClerkA},
	{"auditor", tokAuditor},
	{"supervisor", tokSuper},
	{"assessor", tokAssessor},
	{"admin", tokAdmin},
	{"no token", ""},
	{"unknown token", tokUnknown},
}

// access is what API.md's "Tokens file" table allows a principal on one route and target.
type access int

const (
	allow  access = iota // 2xx, or a 4xx other than 401/403 (the body's or the state's fault)
	deny                 // 403, nothing appended
	unauth               // 401, nothing appended
)

func (a access) String() string { return [...]string{"allowed", "403", "401"}[a] }

// Targets of a route: "" for a route without one; "in" is an employer of 360702 (the clerk's
// county, in group 1), county 360702 or group 1; "out" is an employer of 360782 (group 2: neither
// the clerk's county nor the supervisor's group), county 360782 or group 2.
const (
	tgtNone = ""
	tgtIn   = "in"
	tgtOut  = "out"
)

// expectedAccess encodes API.md's table for route (a registeredRoutes entry) and target.
func expectedAccess(role, route, target string) access {
	method, path, _ := strings.Cut(route, " ")
	switch route {
	case "GET /healthz", "GET /readyz":
		return allow // operational routes, served without a token (liveness and readiness probes)
	case "GET /openapi.yaml":
		return allow // the description of the routes, as public as the dashboard's page
	}
	switch role {
	case "no token", "unknown token":
		return unauth
	case "admin":
		return allow
	}
	in := target != tgtOut
	yes := func(b bool) access {
		if b {
			return allow
		}
		return deny
	}
	switch {
	case route == "POST /v1/employers/{id}/voids":
		// Clerks in their counties, auditors and admins; the body decides further (four eyes).
		return yes(role == "clerk" && in || role == "auditor")
	case route == "POST /v1/employers" || route == "POST /v1/imports" ||
		(method == "POST" && strings.HasPrefix(path, "/v1/employers/{id}/") && !isAuditRoute(path)):
		// Employer writes and imports: clerks in their counties. An import out of scope answers
		// 200 with the rows refused one by one (checked separately).
		if route == "POST /v1/imports" {
			return yes(role == "clerk")
		}
		return yes(role == "clerk" && in)
	case isAuditRoute(path):
		return yes(role == "auditor")
	case route == "POST /v1/reference/{kind}":
		return deny
	case route == "POST /v1/freezes" || route == "POST /v1/years/{year}/close":
		return yes(role == "assessor")
	case route == "POST /v1/years/{year}/reopen":
		return deny // admins only
	case route == "GET /v1/employers/{id}" || route == "GET /v1/employers/{id}/history" || route == "GET /v1/employers/{id}/notices/{file}" ||
		route == "GET /v1/employers/{id}/statement.pdf" || route == "GET /v1/employers/{id}/events/{file}":
		return yes(role == "auditor" || role == "assessor" || in)
	case route == "GET /v1/counties/{code}" || route == "GET /v1/counties/{code}/arrears-list.pdf":
		return yes(role == "auditor" || role == "assessor" || in)
	case route == "GET /v1/groups/{n}":
		// A group's figures sum counties a clerk of one county may not read.
		return yes(role == "auditor" || role == "assessor" || (role == "supervisor" && in))
	case route == "GET /metrics":
		// Admins only: a scraper without a token uses serve's --metrics-listen.
		return deny
	case route == "GET /v1/corrections":
		// Supervisors read their own counties' (an out-of-scope supervisor's answer is empty).
		return yes(role == "auditor" || role == "supervisor")
	case route == "GET /v1/events":
		// API.md: auditors and admins.
		return yes(role == "auditor")
	case route == "GET /v1/verify":
		// Not in the table: the whole ledger's integrity, for those who read every employer.
		return yes(role == "auditor" || role == "assessor")
	}
	// List reads (answered within the principal's scope), the live stream, freezes and rankings.
	return allow
}

func isAuditRoute(path string) bool {
	return strings.HasSuffix(path, "/audit-findings") || strings.HasSuffix(path, "/waivers") || strings.HasSuffix(path, "/enforcement") ||
		strings.HasSuffix(path, "/notices") || strings.HasSuffix(path, "/inspections")
}

// newAccessEnv is newFreezeEnv's tokens (with an assessor) and a projection runner, served with
// metrics so that every route of registeredRoutes answers.
func newAccessEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), today: today}
	e.loadFreezeTokens()
	e.runner = startRunner(t, e.l.Store)
	e.srv = httptest.NewServer(api.New(api.Config{Store: e.l.Store, Runner: e.runner, Tokens: e.tokens, Metrics: api.NewMetrics(),
		Today: func() domain.Date { return today }}))
	t.Cleanup(e.srv.Close)
	return e
}

// accessCase is one route and target of the matrix, with the request to send.
type accessCase struct {
	route, target string
	method, path  string
	body          func() ([]byte, string) // body and Content-Type; nil for none
}

// TestAccessMatrixFollowsTheTokensTable sends every route of registeredRoutes, for each target,
// as every principal, and checks the status class API.md's table gives: 401 without a token or
// with an unknown one, 403 outside role or scope, and inside them an answer that is neither (2xx,
// or a 4xx the body or the employer's state earns); nothing is appended on a 401 or 403.
func TestAccessMatrixFollowsTheTokensTable(t *testing.T) {
	e := newAccessEnv(t)
	orgIn, orgOut := orgCode(66000001), orgCode(66000002)
	in := e.register(t, tokAdmin, orgIn, "360702")   // the clerk's county, group 1
	out := e.register(t, tokAdmin, orgOut, "360782") // group 2
	for _, id := range []string{in, out} {
		e.mustWrite(t, empPath(id, "declarations"), tokAdmin,
			`{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`)
	}
	e.waitViews(t, e.count())
	freeze := e.freeze(t, tokAdmin, "2006-11-30", 0)
	e.waitViews(t, e.count())

	n := 0
	uniq := func() int { n++; return n }
	jsonBody := func(f func() string) func() ([]byte, string) {
		return func() ([]byte, string) { return []byte(f()), "application/json" }
	}
	writeBody := map[string]func() string{
		"registration": func() string { return `{"registered_on":"2006-05-01"}` }, // already registered: 409
		"changes":      func() string { return `{"on":"2006-06-01","ownership":"私营"}` },
		"surveys":      func() string { return `{"as_of":"2006-06-01","workforce":10}` },
		"enrollments":  func() string { return `{"insurance":"pension","headcount":3,"effective_on":"2006-05-01"}` },
		"declarations": func() string {
			return `{"declared_on":"2006-06-10","period":"2006-05","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`
		},
		"assessments": func() string {
			return `{"assessed_on":"2006-08-01","period":"2006-06","reason":"audit","lines":[{"insurance":"pension","due_fen":1000}]}`
		},
		"opening-balances": func() string {
			return `{"as_of":"2006-05-01","lines":[{"period":"2006-04","insurance":"medical","outstanding_fen":100}]}`
		},
		"payments":          func() string { return paymentBody(fmt.Sprintf("M-%d", uniq()), 100, "2006-06-20") },
		"payment-reversals": func() string { return `{"reversed_on":"2006-07-01","receipt_no":"NONE","reason":"退票"}` }, // 409
		"contracts":         func() string { return `{"signed_on":"2006-06-01","count":2}` },
		"org-code":          func() string { return `{"org_code":"` + orgCode(9999) + `","corrected_on":"2006-08-01"}` },      // no reason: 400
		"transfer":          func() string { return `{"on":"2006-08-01"}` },                                                   // no county: 400, the employer stays
		"deregistration":    func() string { return `{"on":"2006-08-01"}` },                                                   // no reason: 400, the employer stays
		"reinstatement":     func() string { return `{"reinstated_on":"2006-08-01"}` },                                        // no reason: 400
		"refunds":           func() string { return `{"refunded_on":"2006-08-01","amount_fen":1,"receipt_no":"RF-NONE"}` },    // no credit: 409
		"voids":             func() string { return `{"event_id":"none","voided_on":"2006-08-01","reason":"access matrix"}` }, // no such event: 404
		"audit-findings": func() string {
			return `{"found_on":"2006-08-01","kind":"under_reported_base","period":"2006-06","insurance":"pension","extra_wage_base_fen":10000,"redeclare_by":"2006-08-31"}`
		},
		"waivers": func() string {
			return `{"decided_on":"2006-08-01","kind":"late_fee","authority_doc":"文1","reason":"r","insurance":"pension","period":"2006-04","amount_fen":1}`
		},
		"notices":     func() string { return `{"issued_on":"2006-07-01","deadline":"2006-07-31"}` },
		"inspections": func() string { return `{"on":"2006-07-01","team":"市稽核一组","scope":"full","result":"clean"}` },
		"close":       func() string { return `{}` },
		"reopen":      func() string { return `{"reason":"access matrix"}` },
		"enforcement": func() string {
			return fmt.Sprintf(`{"step":"notice","on":"2006-07-01","doc_no":"限改%d","deadline":"2006-07-31"}`, uniq())
		},
	}
	importBody := func(org string) func() ([]byte, string) {
		return func() ([]byte, string) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			fw, _ := mw.CreateFormFile("file", "payments.csv")
			fmt.Fprintf(fw, "组织机构代码,缴费日期,金额(分),票据号\n%s,2006-06-20,100,IMP-%d\n", org, uniq())
			mw.Close()
			return b.Bytes(), mw.FormDataContentType()
		}
	}

	var cases []accessCase
	for _, route := range registeredRoutes {
		method, pattern, _ := strings.Cut(route, " ")
		targets := []string{tgtNone}
		if strings.Contains(pattern, "/v1/employers/{id}") || strings.Contains(pattern, "{code}") || strings.Contains(pattern, "{n}") ||
			route == "POST /v1/employers" || route == "POST /v1/imports" {
			targets = []string{tgtIn, tgtOut}
		}
		for _, tg := range targets {
			c := accessCase{route: route, target: tg, method: method}
			// Year 2005 has no December freeze: closing or reopening it is refused (409) after the
			// access check, so the matrix closes nothing.
			r := strings.NewReplacer("{kind}", "rates", "{month}", "2006-12", "{year}", "2005")
			switch tg {
			case tgtIn:
				r = strings.NewReplacer("{id}", in, "{code}", "360702", "{n}", "1", "{kind}", "rates", "{month}", "2006-12", "{file}", "none.pdf")
			case tgtOut:
				r = strings.NewReplacer("{id}", out, "{code}", "360782", "{n}", "2", "{kind}", "rates", "{month}", "2006-12", "{file}", "none.pdf")
			}
			if strings.HasPrefix(pattern, "/v1/freezes/{id}") {
				r = strings.NewReplacer("{id}", freeze.ID)
			}
			c.path = r.Replace(pattern)
			switch {
			case route == "GET /v1/rankings":
				c.path += "?freeze=" + freeze.ID
			case route == "GET /v1/employers/{id}/statement.pdf":
				c.path += "?from=2006-05-01&to=2006-06-30"
			case route == "POST /v1/employers":
				county := map[string]string{tgtIn: "360702", tgtOut: "360782"}[tg]
				c.body = jsonBody(func() string { return registration(orgCode(66100000+uniq()), county) })
			case route == "POST /v1/imports":
				c.body = importBody(map[string]string{tgtIn: orgIn, tgtOut: orgOut}[tg])
			case route == "POST /v1/reference/{kind}":
				c.body = jsonBody(func() string { return `{}` }) // 400 for the admin: no version of the rates is made
			case route == "POST /v1/counties/{code}/notices":
				c.body = jsonBody(func() string { return `{"issued_on":"2006-07-01","deadline":"2006-07-31","overdue_days":30}` })
			case route == "POST /v1/freezes":
				c.body = jsonBody(func() string { return `{"valid_through":"2006-11-30"}` })
			case method == "POST":
				sub := pattern[strings.LastIndex(pattern, "/")+1:]
				f, ok := writeBody[sub]
				if !ok {
					t.Fatalf("no body for %s: add one to writeBody", route)
				}
				c.body = jsonBody(f)
			}
			cases = append(cases, c)
		}
	}

	cells := 0
	for _, c := range cases {
		t.Run(c.route+" "+c.target, func(t *testing.T) {
			for _, role := range accessRoles {
				cells++
				want := expectedAccess(role.name, c.route, c.target)
				before := e.count()
				status, raw := accessDo(t, e, c, role.token)
				switch want {
				case unauth, deny:
					code := map[access]int{unauth: 401, deny: 403}[want]
					if status != code {
						t.Errorf("%s: %s %s answered %d, want %d: %s", role.name, c.method, c.path, status, code, raw)
					}
					if got := e.count(); got != before {
						t.Errorf("%s: %s %s appended %d messages with a %d", role.name, c.method, c.path, got-before, status)
					}
				case allow:
					if status == 401 || status == 403 || status >= 500 {
						t.Errorf("%s: %s %s answered %d, want 2xx or a 4xx other than 401/403: %s", role.name, c.method, c.path, status, raw)
					}
					if c.route == "POST /v1/imports" && c.target == tgtOut && role.name == "clerk" {
						// A clerk's import of another county's row: the row is refused as forbidden.
						var rep struct {
							Imported int `json:"imported"`
							Rejected []struct {
								Reason string `json:"reason"`
							} `json:"rejected"`
						}
						_ = json.Unmarshal(raw, &rep)
						if rep.Imported != 0 || len(rep.Rejected) != 1 || e.count() != before {
							t.Errorf("clerk of 360702 importing a payment of a 360782 employer: %s, want the row refused and nothing appended", raw)
						}
					}
				}
			}
		})
	}
	t.Logf("access matrix: %d routes × targets, %d roles, %d requests", len(cases), len(accessRoles), cells)
}

// accessDo sends one matrix request and returns its status and body (for the live event stream,
// the status only: it never ends).
func accessDo(t *testing.T, e *env, c accessCase, token string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var body io.Reader
	var ctype string
	if c.body != nil {
		b, ct := c.body()
		body, ctype = bytes.NewReader(b), ct
	}
	hr, err := http.NewRequestWithContext(ctx, c.method, e.srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer res.Body.Close()
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return res.StatusCode, nil
	}
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// TestLiveStreamIsScoped: the live stream's city figures are, for a scoped reader, those of the
// counties it may read, as GET /v1/counties sums them; not the whole city's.
func TestLiveStreamIsScoped(t *testing.T) {
	e := newAccessEnv(t)
	e.register(t, tokAdmin, orgCode(66000011), "360702")
	e.register(t, tokAdmin, orgCode(66000012), "360782")
	e.waitViews(t, e.count())
	for _, tok := range []string{tokClerkA, tokSuper, tokAdmin} {
		var counties struct {
			City struct {
				Employers int64 `json:"employers"`
			} `json:"city"`
		}
		decode(t, e.get(t, "/v1/counties", tok), &counties)
		live := firstLiveEvent(t, e, tok)
		var ev struct {
			City struct {
				Employers int64 `json:"employers"`
			} `json:"city"`
		}
		if err := json.Unmarshal(live, &ev); err != nil {
			t.Fatalf("live event %s: %v", live, err)
		}
		if ev.City.Employers != counties.City.Employers {
			t.Errorf("token %q: the live stream's city counts %d employers, but GET /v1/counties shows this reader %d: the stream leaks figures outside its scope",
				tok, ev.City.Employers, counties.City.Employers)
		}
	}
}

// firstLiveEvent reads the data of the first event of GET /v1/live.
func firstLiveEvent(t *testing.T, e *env, token string) []byte {
	t.Helper()
	return firstLiveEventAt(t, e, token, "/v1/live")
}

// firstLiveEventAt reads the data of the first event of GET path, a live stream.
func firstLiveEventAt(t *testing.T, e *env, token, path string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hr, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+path, nil)
	hr.Header.Set("Authorization", "Bearer "+token)
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return []byte(d)
		}
	}
	t.Fatalf("no event on /v1/live: %v", sc.Err())
	return nil
}
