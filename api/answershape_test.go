package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// A list with nothing in it is an empty array, not null: a client iterates it without a check
// (a dashboard's table, a script's loop), on a ledger that holds only its reference data.
func TestAnEmptyListIsAnEmptyArrayNotNull(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	for _, path := range []string{"/v1/freezes", "/v1/corrections?from=2006-01-01&to=2006-12-31", "/v1/employers", "/v1/flags", "/v1/worklists", "/v1/years", "/v1/events?from=2006-01-01&to=2006-12-31", "/v1/counties", "/v1/groups", "/v1/targets", "/v1/series"} {
		r := e.get(t, path, tokAdmin)
		if r.Status != http.StatusOK {
			t.Errorf("GET %s: %s", path, r)
			continue
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(r.Raw, &body); err != nil {
			t.Errorf("GET %s: %v", path, err)
			continue
		}
		for k, v := range body {
			if string(v) == "null" {
				t.Errorf("GET %s: %q is null", path, k)
			}
		}
	}
}

// A path no route serves answers 404, and a method its path does not take 405 with Allow, both
// in the API's error shape (JSON with error and detail), as every other refusal.
func TestUnknownRoutesAndMethodsAnswerInTheErrorShape(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	for _, c := range []struct {
		method, path string
		status       int
		errName      string
		allow        string
	}{
		{http.MethodGet, "/v1/foo", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/nothing/here", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/v1/reference/rates", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
		{http.MethodDelete, "/v1/employers", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD, POST"},
	} {
		r := e.do(t, req{Method: c.method, Path: c.path, Token: tokAdmin})
		var body struct{ Error, Detail string }
		if r.Status != c.status || json.Unmarshal(r.Raw, &body) != nil || body.Error != c.errName || body.Detail == "" ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %s; want %d with error %q in JSON", c.method, c.path, r, c.status, c.errName)
		}
		if r.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, r.Header.Get("Allow"), c.allow)
		}
	}
}

// Verifications asked at once all answer, the same (they share one run).
func TestVerificationsAskedAtOnceAllAnswerTheSame(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	e.register(t, tokAdmin, orgA, "360702")
	const callers = 8
	answers := make([]resp, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { answers[i] = e.get(t, "/v1/verify", tokAdmin) })
	}
	wg.Wait()
	for i, r := range answers {
		if r.Status != http.StatusOK || r.JSON["ok"] != true || string(r.Raw) != string(answers[0].Raw) {
			t.Fatalf("verification %d of %d at once: %s; want 200, ok, as the first: %s", i, callers, r, answers[0])
		}
	}
}

// A name a spreadsheet would run as a formula is exported to CSV behind a single quote, shown as
// text and never run; the sheet (xlsx) keeps it as text as it is; figures stay numbers.
func TestCSVExportsDoNotHandSpreadsheetsFormulas(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	names := []string{"=1+2", "+SUM(A1)", "-2+3", "@cmd", `=HYPERLINK("http://x","y")`, "赣州市某某有限公司"}
	var last uint64
	for i, name := range names {
		body, _ := json.Marshal(map[string]any{"name": name, "county": "360735", "org_code": orgCode(900 + i), "kind": "enterprise",
			"risk_class": 1, "registered_on": "2006-04-03"})
		r := e.post(t, "/v1/employers", tokAdmin, string(body))
		if r.Status != http.StatusCreated {
			t.Fatalf("register %q: %s", name, r)
		}
		last = uint64(r.num("seq"))
	}
	e.waitViews(t, last)
	status, raw, err := e.rawDo("/v1/employers?county=360735&format=csv", tokAdmin)
	if err != nil || status != http.StatusOK {
		t.Fatalf("CSV export: %d %v: %s", status, err, raw)
	}
	rows, err := tableCSV(t, raw)
	if err != nil || len(rows) != len(names)+1 {
		t.Fatalf("CSV export: %v, %d rows: %s", err, len(rows), raw)
	}
	col := slices.Index(rows[0], "名称 name")
	if col < 0 {
		t.Fatalf("no name column in %v", rows[0])
	}
	for i, name := range names {
		want := name
		if i < len(names)-1 {
			want = "'" + name
		}
		if got := rows[i+1][col]; got != want {
			t.Errorf("the CSV's name %q, want %q", got, want)
		}
	}
}

// A path that is not clean is redirected to its clean form as the mux does, whether or not a
// route takes it, not answered as a refusal.
func TestAnUncleanPathIsRedirectedToItsCleanForm(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/v1//counties", "/v1/../v1/nothing"} {
		res, err := client.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode/100 != 3 || res.Header.Get("Location") == "" || strings.Contains(res.Header.Get("Content-Type"), "json") {
			t.Errorf("GET %s: %d, Location %q; want a redirect to the clean path", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
}
