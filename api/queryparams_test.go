package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api"
)

// A query parameter a route does not take is refused, naming it and what the route takes: a
// misspelt one was ignored, and the answer was for the default it meant to change.
func TestAQueryParameterTheRouteDoesNotTakeIsRefused(t *testing.T) {
	e := newReadEnv(t, today)
	id := e.register(t, tokClerkA, orgCode(8601), "360702")
	e.waitViews(t, e.count())
	for _, tc := range []struct {
		name, method, path, field, names string
	}{
		{"a misspelt as_of", "GET", "/v1/counties?asof=2006-06-30", "asof", "as_of"},
		{"a parameter of another route", "GET", "/v1/employers/" + id + "?period=2006-05", "period", "as_of, min_seq"},
		{"a parameter of a write", "POST", empPath(id, "payments") + "?dry_run=1", "dry_run", "takes none"},
		{"a read at a sequence where figures come from a freeze", "GET", "/v1/reports/monthly/2006-11?through_seq=1", "through_seq", "freeze={id}"},
		{"a search for broken UTF-8, which would find nothing as if there were nothing", "GET", "/v1/employers?q=%ff", "q", "UTF-8"},
		{"a search holding NUL", "GET", "/v1/employers?q=a%00b", "q", "control or invisible"},
		{"a search holding a direction override, as a body's text may not", "GET", "/v1/employers?q=a%E2%80%AEb", "q", "direction override"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.count()
			var body []byte
			if tc.method == "POST" {
				body = []byte(paymentBody("QP-1", 100, "2006-06-20"))
			}
			r := e.do(t, req{Method: tc.method, Path: tc.path, Token: tokClerkA, Body: body})
			wantError(t, r, http.StatusBadRequest, "invalid", tc.field)
			if !strings.Contains(r.str("detail"), tc.names) {
				t.Errorf("the refusal says %q, want it to name %q", r.str("detail"), tc.names)
			}
			e.wantUnchanged(t, before)
		})
	}
	for _, path := range []string{"/v1/counties?as_of=2006-06-30&min_seq=1", "/v1/employers/" + id + "?as_of=2006-06-30&min_seq=1"} {
		if r := e.get(t, path, tokClerkA); r.Status != http.StatusOK {
			t.Errorf("GET %s: %s, want 200", path, r)
		}
	}
}

// Every route of the API in openapi.yaml (that this server serves) refuses a parameter it does
// not document, before anything else; a probe (/readyz, /healthz) takes whatever a balancer adds.
func TestEveryDocumentedRouteRefusesAnUnknownParameter(t *testing.T) {
	e := newReadEnv(t, today)
	ops, _ := parseSpec(t, api.OpenAPI)
	for _, op := range ops {
		path := specParam.ReplaceAllString(op.path, "x")
		if !strings.HasPrefix(op.path, "/v1/") {
			res, err := e.srv.Client().Get(e.srv.URL + path + "?no_such_parameter=1")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode == http.StatusBadRequest {
				t.Errorf("%s with ?no_such_parameter=1: 400, want it answered as without", op.route())
			}
			continue
		}
		r := e.do(t, req{Method: strings.ToUpper(op.method), Path: path + "?no_such_parameter=1", Token: tokAdmin})
		if r.Status == http.StatusNotFound && strings.HasPrefix(r.str("detail"), "no route") {
			continue // not served here
		}
		if r.Status != http.StatusBadRequest || r.str("field") != "no_such_parameter" {
			t.Errorf("%s with ?no_such_parameter=1: %s, want 400 naming it", op.route(), r)
		}
	}
}

// A parameter the code reads is documented for some route: else every route would refuse it.
func TestEveryQueryParameterTheCodeReadsIsDocumented(t *testing.T) {
	spec, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:- )?name: ([a-z_]+)\n\s+in: query`).FindAllStringSubmatch(string(spec), -1) {
		documented[m[1]] = true
	}
	// FormValue's fields (an import's kind, encoding) are a multipart form's, documented there.
	read := regexp.MustCompile(`(?:Query\(\)|\bq|\bquery)\.(?:Get|Has)\("([a-z_]+)"\)`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range read.FindAllStringSubmatch(string(src), -1) {
			name := m[1]
			seen++
			if !documented[name] {
				t.Errorf("%s reads the query parameter %q, which openapi.yaml documents for no route", f, name)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("found %d reads of query parameters in the source; the pattern no longer finds them", seen)
	}
}
