package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"go.yaml.in/yaml/v3"
)

// registeredRoutes is a copy of the routes api.(*Server).routes registers ("METHOD /path" as in
// the mux patterns). TestOpenAPIListsEveryRegisteredRoute checks the source against this list and
// this list against openapi.yaml, so a route added without documenting it fails the tests.
var registeredRoutes = []string{
	"GET /openapi.yaml",
	"GET /healthz",
	"POST /v1/employers",
	"POST /v1/employers/{id}/registration",
	"POST /v1/employers/{id}/changes",
	"POST /v1/employers/{id}/org-code",
	"POST /v1/employers/{id}/surveys",
	"POST /v1/employers/{id}/enrollments",
	"POST /v1/employers/{id}/declarations",
	"POST /v1/employers/{id}/assessments",
	"POST /v1/employers/{id}/opening-balances",
	"POST /v1/employers/{id}/reinstatement",
	"POST /v1/employers/{id}/refunds",
	"POST /v1/employers/{id}/voids",
	"POST /v1/employers/{id}/payments",
	"POST /v1/employers/{id}/payment-reversals",
	"POST /v1/employers/{id}/contracts",
	"POST /v1/employers/{id}/transfer",
	"POST /v1/employers/{id}/deregistration",
	"POST /v1/employers/{id}/audit-findings",
	"POST /v1/employers/{id}/inspections",
	"POST /v1/employers/{id}/waivers",
	"POST /v1/employers/{id}/enforcement",
	"POST /v1/employers/{id}/notices",
	"GET /v1/employers/{id}/notices/{file}",
	"POST /v1/counties/{code}/notices",
	"GET /v1/counties/{code}/notices/progress",
	"GET /v1/employers/{id}/statement.pdf",
	"GET /v1/employers/{id}/events/{file}",
	"POST /v1/reference/{kind}",
	"GET /v1/employers/{id}",
	"GET /v1/employers/{id}/history",
	"GET /v1/corrections",
	"GET /v1/verify",
	"GET /readyz",
	"GET /v1/employers",
	"GET /v1/counties",
	"GET /v1/counties/{code}",
	"GET /v1/counties/{code}/arrears-list.pdf",
	"GET /v1/groups",
	"GET /v1/groups/{n}",
	"GET /v1/targets",
	"GET /v1/worklists",
	"GET /v1/flags",
	"GET /v1/events",
	"GET /v1/reports/monthly/{month}",
	"GET /v1/live",
	"GET /metrics",
	"POST /v1/freezes",
	"GET /v1/freezes",
	"GET /v1/freezes/{id}",
	"GET /v1/freezes/{id}/restatement",
	"GET /v1/freezes/{id}/bulletin.pdf",
	"GET /v1/rankings",
	"GET /v1/years",
	"POST /v1/years/{year}/close",
	"POST /v1/years/{year}/reopen",
	"GET /v1/series",
	"POST /v1/imports",
}

// nonAPIRoutes are the routes of the supervisors' dashboard: a web page and its files, not API
// routes, so openapi.yaml leaves them out. They may not be under /v1/, nor documented, nor in
// registeredRoutes, and TestNonAPIRoutesServeTheDashboard checks they answer.
var nonAPIRoutes = []string{
	"GET /{$}",
	"GET /assets/",
}

// specOp is one operation of openapi.yaml: its method, path template and documented statuses,
// and whether it names application/pdf among its answers' media types.
type specOp struct {
	method, path string
	statuses     []string
	line         int
	pdf          bool
}

func (o specOp) route() string { return strings.ToUpper(o.method) + " " + o.path }

var (
	specTopKey    = regexp.MustCompile(`^[A-Za-z]`)
	specPathKey   = regexp.MustCompile(`^  (/\S*):\s*$`)
	specMethodKey = regexp.MustCompile(`^    (get|put|post|delete|options|head|patch|trace):\s*$`)
	specRespKey   = regexp.MustCompile(`^      responses:\s*$`)
	specStatusKey = regexp.MustCompile(`^        "([1-5]\d\d)":\s*$`)
	specCompKind  = regexp.MustCompile(`^  ([A-Za-z]+):\s*$`)
	specCompName  = regexp.MustCompile(`^    ([A-Za-z0-9_.-]+):\s*$`)
	specRef       = regexp.MustCompile(`\$ref: "#/components/([A-Za-z]+)/([A-Za-z0-9_.-]+)"`)
	specParam     = regexp.MustCompile(`\{([^}/]+)\}`)
)

// parseSpec reads the operations of the paths section and the names of the components section
// of openapi.yaml without a YAML library; the file keeps the two-space layout this relies on.
func parseSpec(t *testing.T, data []byte) (ops []specOp, components map[string]bool) {
	t.Helper()
	components = map[string]bool{}
	var section, path, compKind string
	var op *specOp
	inResponses := false
	flush := func() {
		if op != nil {
			ops = append(ops, *op)
			op = nil
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.Contains(line, "\t") {
			t.Fatalf("openapi.yaml:%d: a tab; YAML indents with spaces", n)
		}
		if specTopKey.MatchString(line) {
			flush()
			section, _, _ = strings.Cut(line, ":")
			continue
		}
		switch section {
		case "paths":
			if m := specPathKey.FindStringSubmatch(line); m != nil {
				flush()
				path = m[1]
			} else if m := specMethodKey.FindStringSubmatch(line); m != nil {
				flush()
				if path == "" {
					t.Fatalf("openapi.yaml:%d: method %s outside a path", n, m[1])
				}
				op = &specOp{method: m[1], path: path, line: n}
				inResponses = false
			} else if op != nil && specRespKey.MatchString(line) {
				inResponses = true
			} else if op != nil && strings.HasPrefix(line, "      ") && !strings.HasPrefix(line, "       ") {
				inResponses = false // another key of the operation
			} else if m := specStatusKey.FindStringSubmatch(line); m != nil && op != nil && inResponses {
				op.statuses = append(op.statuses, m[1])
			}
			if op != nil && strings.TrimSpace(line) == "application/pdf:" {
				op.pdf = true
			}
		case "components":
			if m := specCompKind.FindStringSubmatch(line); m != nil {
				compKind = m[1]
			} else if m := specCompName.FindStringSubmatch(line); m != nil && compKind != "" {
				components[compKind+"/"+m[1]] = true
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ops) == 0 {
		t.Fatal("openapi.yaml: no operations found under paths:")
	}
	return ops, components
}

func TestOpenAPIIsWellFormed(t *testing.T) {
	if !bytes.HasPrefix(api.OpenAPI, []byte("openapi: 3.1.")) {
		t.Fatalf("openapi.yaml does not start with openapi: 3.1.x")
	}
	// The checks below read it line by line; a real YAML parser is what any OpenAPI tool uses.
	var doc map[string]any
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml is not valid YAML: %v", err)
	}
	ops, components := parseSpec(t, api.OpenAPI)
	seen := map[string]int{}
	for _, o := range ops {
		if prev, dup := seen[o.route()]; dup {
			t.Errorf("openapi.yaml:%d: %s is also documented at line %d", o.line, o.route(), prev)
		}
		seen[o.route()] = o.line
		if len(o.statuses) == 0 {
			t.Errorf("openapi.yaml:%d: %s documents no responses", o.line, o.route())
		}
	}
	for _, m := range specRef.FindAllStringSubmatch(string(api.OpenAPI), -1) {
		if !components[m[1]+"/"+m[2]] {
			t.Errorf("openapi.yaml refers to #/components/%s/%s, which it does not define", m[1], m[2])
		}
	}
	for _, need := range []string{"schemas/Error", "schemas/WriteResult", "schemas/EmployerView", "schemas/History",
		"schemas/Integrity", "parameters/IdempotencyKey", "parameters/IfMatch", "securitySchemes/bearerAuth",
		"schemas/Figures", "schemas/InsuranceFigures", "schemas/CountiesReport", "schemas/MonthlyReport", "schemas/WorkItem",
		"schemas/TargetProgress", "schemas/EmployerSummary", "schemas/EmployerList", "schemas/LiveEvent",
		"parameters/Period", "parameters/MinSeq", "parameters/Format", "responses/ViewsUnavailable",
		"schemas/FreezeManifest", "schemas/Freeze", "schemas/Restatement", "schemas/Change", "schemas/ResponsibleEvent",
		"schemas/Ranking", "parameters/FreezeQuery", "schemas/FlagFacts", "schemas/FlagRow", "schemas/FlagEmployer"} {
		if !components[need] {
			t.Errorf("openapi.yaml defines no components/%s", need)
		}
	}
	// Rates are null when their denominator is 0 (API.md): the schema must allow both.
	schema := specSchema(string(api.OpenAPI), "InsuranceFigures")
	for _, rate := range []string{"coverage_rate", "contribution_rate", "period_collection_rate", "cumulative_collection_rate"} {
		if !strings.Contains(schema, "        "+rate+":\n          type: [number, \"null\"]\n") {
			t.Errorf("openapi.yaml: InsuranceFigures.%s is not documented as type: [number, \"null\"]", rate)
		}
	}
}

// specSchema returns the text of one schema under components/schemas.
func specSchema(spec, name string) string {
	_, rest, ok := strings.Cut(spec, "\n  schemas:\n")
	if !ok {
		return ""
	}
	_, rest, ok = strings.Cut(rest, "\n    "+name+":\n")
	if !ok {
		return ""
	}
	if loc := regexp.MustCompile(`(?m)^    \S`).FindStringIndex(rest); loc != nil {
		rest = rest[:loc[0]]
	}
	return rest
}

// TestOpenAPIListsEveryRegisteredRoute: every route pattern in the package's source is in
// registeredRoutes, and registeredRoutes and openapi.yaml list the same routes.
func TestOpenAPIListsEveryRegisteredRoute(t *testing.T) {
	ops, _ := parseSpec(t, api.OpenAPI)
	documented := map[string]bool{}
	for _, o := range ops {
		documented[o.route()] = true
	}
	listed := map[string]bool{}
	for _, r := range registeredRoutes {
		listed[r] = true
		if !documented[r] {
			t.Errorf("%s is registered but not documented in openapi.yaml", r)
		}
	}
	for _, o := range ops {
		if !listed[o.route()] {
			t.Errorf("openapi.yaml:%d: %s is documented but not in registeredRoutes (copy of api.(*Server).routes)", o.line, o.route())
		}
	}
	for _, r := range nonAPIRoutes {
		if _, path, _ := strings.Cut(r, " "); strings.HasPrefix(path, "/v1/") || listed[r] || documented[r] {
			t.Errorf("%s is in nonAPIRoutes, but it is an API route (under /v1/, in registeredRoutes or in openapi.yaml)", r)
		}
	}
	for _, r := range routesInSource(t) {
		if !listed[r] && !slices.Contains(nonAPIRoutes, r) {
			t.Errorf("the source registers %s, missing from registeredRoutes and so perhaps from openapi.yaml", r)
		}
	}
}

var (
	srcPattern  = regexp.MustCompile(`"((?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) /[^"]*)"`)
	srcSubRoute = regexp.MustCompile(`\{"([a-z][a-z0-9-]*)", "[a-z]+", func\(\) domain\.Command`)
)

// routesInSource finds the mux patterns written in the package's non-test files. A pattern ending
// in "/" is a prefix completed by the route table (route{path, family, newCmd}).
func routesInSource(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var subs []string
		for _, m := range srcSubRoute.FindAllSubmatch(src, -1) {
			subs = append(subs, string(m[1]))
		}
		for _, m := range srcPattern.FindAllSubmatch(src, -1) {
			p := string(m[1])
			if !strings.HasSuffix(p, "/") || slices.Contains(nonAPIRoutes, p) {
				out = append(out, p)
				continue
			}
			if len(subs) == 0 {
				t.Errorf("%s: pattern prefix %q with no route table to complete it", f, p)
			}
			for _, s := range subs {
				out = append(out, p+s)
			}
		}
	}
	if len(out) < len(registeredRoutes)+len(nonAPIRoutes) {
		t.Errorf("found only %d route patterns in the source (%v), fewer than the %d in registeredRoutes and nonAPIRoutes: update routesInSource", len(out), out, len(registeredRoutes)+len(nonAPIRoutes))
	}
	return out
}

// TestOpenAPIRoutesExistOnTheServer sends a request to every documented operation of the real
// server, run with a projection runner and metrics so that reads answer: the mux must route it to
// one of our handlers (JSON answer; not Go's plain "404 page not found", not 405), and the status
// it answers must be one the operation documents. /v1/live must open an event stream and /metrics
// answer Prometheus text.
func TestOpenAPIRoutesExistOnTheServer(t *testing.T) {
	ops, _ := parseSpec(t, api.OpenAPI)
	l := storetest.Start(t, eventstore.Config{})
	runner := startRunner(t, l.Store)
	srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: runner, Metrics: api.NewMetrics(),
		Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	values := map[string]string{"id": uuid.NewString(), "kind": "rates", "code": "360702", "n": "1", "month": "2006-12", "year": "2006", "file": "none.pdf"}
	streams := map[string]string{"GET /v1/live": "text/event-stream", "GET /metrics": "text/plain"}
	for _, o := range ops {
		t.Run(o.route(), func(t *testing.T) {
			path := specParam.ReplaceAllStringFunc(o.path, func(p string) string {
				v, ok := values[strings.Trim(p, "{}")]
				if !ok {
					t.Fatalf("no test value for path parameter %s: add one to values", p)
				}
				return v
			})
			var body io.Reader
			if o.method == "post" || o.method == "put" || o.method == "patch" {
				body = strings.NewReader(`{}`)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, strings.ToUpper(o.method), srv.URL+path, body)
			if err != nil {
				t.Fatal(err)
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			ct := res.Header.Get("Content-Type")
			if want, ok := streams[o.route()]; ok {
				// An event stream never ends: the status and the media type are all there is to check.
				if res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, want) {
					t.Fatalf("%s %s: %d with Content-Type %q, want 200 with %s", req.Method, path, res.StatusCode, ct, want)
				}
				if !slices.Contains(o.statuses, "200") {
					t.Errorf("openapi.yaml:%d: %s does not document its 200", o.line, o.route())
				}
				if res.Header.Get("X-Ledger-Seq") == "" {
					t.Errorf("%s %s: 200 without X-Ledger-Seq", req.Method, path)
				}
				cancel()
				return
			}
			raw, _ := io.ReadAll(res.Body)
			switch {
			case res.StatusCode == http.StatusMethodNotAllowed:
				t.Fatalf("%s %s: 405 (allowed: %q): the server has no such route", req.Method, path, res.Header.Get("Allow"))
			case res.StatusCode == http.StatusNotFound && strings.Contains(string(raw), `"detail":"no route `):
				t.Fatalf("%s %s: 404 %s: the server has no such route", req.Method, path, raw)
			case o.route() == "GET /openapi.yaml":
				if res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "application/yaml") || !bytes.Equal(raw, api.OpenAPI) {
					t.Fatalf("%s %s: %d with Content-Type %q, want 200 with this very description", req.Method, path, res.StatusCode, ct)
				}
			case strings.HasPrefix(ct, "application/pdf") && res.StatusCode == http.StatusOK:
				// A printed document: a PDF the route documents.
				if !bytes.HasPrefix(raw, []byte("%PDF-")) || !o.pdf {
					t.Fatalf("%s %s: a 200 PDF (%d bytes) that openapi.yaml:%d does not document as application/pdf", req.Method, path, len(raw), o.line)
				}
			case !strings.HasPrefix(ct, "application/json"):
				t.Fatalf("%s %s: %d with Content-Type %q, not one of our JSON handlers: %s", req.Method, path, res.StatusCode, ct, raw)
			}
			if !slices.Contains(o.statuses, res.Status[:3]) {
				t.Errorf("%s %s answered %d, which openapi.yaml:%d does not document (%v): %s", req.Method, path, res.StatusCode, o.line, o.statuses, raw)
			}
			// API.md: every read answers it, the operations' reads among them.
			if o.method == "get" && (strings.HasPrefix(o.path, "/v1/") || slices.Contains([]string{"/metrics", "/healthz", "/readyz"}, o.path)) &&
				res.StatusCode == http.StatusOK {
				if res.Header.Get("X-Ledger-Seq") == "" {
					t.Errorf("%s %s: 200 without X-Ledger-Seq", req.Method, path)
				}
			}
			if res.StatusCode >= 400 {
				var e struct {
					Error  *string `json:"error"`
					Detail *string `json:"detail"`
				}
				if err := json.Unmarshal(raw, &e); err != nil || e.Error == nil || e.Detail == nil {
					t.Errorf("%s %s: %d without the {error, field, detail} shape: %s", req.Method, path, res.StatusCode, raw)
				}
			}
		})
	}
}

// TestOpenAPIDocumentsTheDashboardQueries: the filters, orders and formats of GET /v1/flags
// and GET /v1/series that the dashboard uses are documented (directly or by a shared parameter).
func TestOpenAPIDocumentsTheDashboardQueries(t *testing.T) {
	type param struct {
		Ref  string `yaml:"$ref"`
		Name string `yaml:"name"`
		In   string `yaml:"in"`
	}
	var doc struct {
		Paths      map[string]map[string]yaml.Node `yaml:"paths"` // a path's "parameters" is a list, its operations maps
		Components struct {
			Parameters map[string]param `yaml:"parameters"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	want := map[string][]string{
		"/v1/flags":  {"county", "group", "kind", "q", "sort", "by", "page", "limit", "format", "as_of", "period", "min_seq"},
		"/v1/series": {"insurance", "group", "from", "to", "as_of", "min_seq"},
	}
	for path, names := range want {
		var op struct {
			Parameters []param `yaml:"parameters"`
		}
		node := doc.Paths[path]["get"]
		if err := node.Decode(&op); err != nil {
			t.Fatalf("openapi.yaml: GET %s: %v", path, err)
		}
		var got []string
		for _, p := range op.Parameters {
			if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
				p = doc.Components.Parameters[name]
			}
			if p.In == "query" {
				got = append(got, p.Name)
			}
		}
		for _, n := range names {
			if !slices.Contains(got, n) {
				t.Errorf("openapi.yaml: GET %s documents the query parameters %v, not %s", path, got, n)
			}
		}
	}
}

// TestNonAPIRoutesServeTheDashboard: the routes left out of openapi.yaml as not part of the API
// answer the dashboard's page and files, which load nothing from elsewhere.
func TestNonAPIRoutesServeTheDashboard(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Config{Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	for _, c := range []struct{ route, path, media string }{
		{"GET /{$}", "/", "text/html"},
		{"GET /assets/", "/assets/app.js", "text/javascript"},
		{"GET /assets/", "/assets/style.css", "text/css"},
	} {
		if !slices.Contains(nonAPIRoutes, c.route) {
			t.Errorf("%s is not in nonAPIRoutes", c.route)
		}
		res, err := srv.Client().Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, c.media) {
			t.Errorf("GET %s: %d %q, want 200 %s", c.path, res.StatusCode, ct, c.media)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", c.path)
		}
		if m := regexp.MustCompile(`(?i)(src|href)=["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import|fetch\(["'](https?:)?//`).Find(body); m != nil {
			t.Errorf("GET %s refers to another site (%s): the dashboard must work offline", c.path, m)
		}
	}
}
