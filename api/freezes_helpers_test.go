package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// tokAssessor is the assessment team's token in the tokens file of newFreezeEnv.
const tokAssessor = "ass"

// The business dates of the freeze tests: the demo ledger's today and the November bulletin's day.
var (
	freezeToday = demo.Today // 2006-12-31
	novEnd      = domain.MustDate("2006-11-30")
)

// newFreezeEnv starts a ledger holding the demo ledger of `employers` payers (none when 0), a
// projection runner on it, and the API with the tokens of newAuthEnv plus an assessor, today
// being 2006-12-31.
func newFreezeEnv(t *testing.T, employers int) *env {
	t.Helper()
	l := storetest.Start(t, eventstore.Config{})
	if employers > 0 {
		loadDemoLedger(t, l.Store, employers)
	}
	return serveAssessed(t, l, freezeToday)
}

// serveAssessed starts a projection runner on l and serves the API with the freeze tests'
// tokens, day being today's business date.
func serveAssessed(t *testing.T, l *storetest.Ledger, day domain.Date) *env {
	t.Helper()
	e := &env{t: t, l: l, today: day}
	e.loadFreezeTokens()
	e.runner = startRunner(t, l.Store)
	e.serve()
	return e
}

// loadDemoLedger executes the demo's steps as cmd/kuozheng's loadDemo does.
func loadDemoLedger(t *testing.T, store *eventstore.Store, employers int) {
	t.Helper()
	steps := demo.Generate(demo.Config{Employers: employers})
	reqs := make([]eventstore.Request, len(steps))
	for i, s := range steps {
		reqs[i] = eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: demo.Today,
			Actor: "demo:generator", IdempotencyKey: fmt.Sprintf("demo-test-%d-%d", employers, i), BodyHash: fmt.Sprintf("demo-%d", i)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, res := range store.ExecuteBulk(ctx, reqs) {
		if res.Err != nil {
			t.Fatalf("demo step %d (%T) for %s: %v", i, steps[i].Command, steps[i].EmployerID, res.Err)
		}
	}
	if err := store.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
}

// tokClerkMost1 is a clerk of group 1's counties but 360721.
const tokClerkMost1 = "clerk-most-1"

// loadFreezeTokens writes and loads the role tokens plus an assessor and tokClerkMost1.
func (e *env) loadFreezeTokens() {
	e.t.Helper()
	e.useTokens(append(roleTokens(), map[string]any{"token": tokAssessor, "name": "ass", "role": "assessor"},
		map[string]any{"token": tokClerkMost1, "name": "most1", "role": "clerk", "counties": []string{"360702", "360771", "360724"}}))
}

// waitViews waits until the runner has applied seq.
func (e *env) waitViews(t testing.TB, seq uint64) {
	t.Helper()
	storetest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if got := e.runner.Seq(); got < seq {
			return fmt.Errorf("the views are at %d, not yet %d", got, seq)
		}
		return nil
	})
}

// manifest is a freeze's manifest as POST /v1/freezes and GET /v1/freezes/{id} answer it.
type manifest struct {
	ID           string          `json:"id"`
	ThroughSeq   uint64          `json:"through_seq"`
	ValidThrough string          `json:"valid_through"`
	ChainHead    string          `json:"chain_head"`
	CodeVersion  string          `json:"code_version"`
	Digest       string          `json:"digest"`
	CreatedAt    string          `json:"created_at"`
	Seq          uint64          `json:"seq"`
	Figures      json.RawMessage `json:"figures"`
}

// freeze makes a freeze through the API, failing the test unless it is made.
func (e *env) freeze(t testing.TB, token, validThrough string, throughSeq uint64) manifest {
	t.Helper()
	body := fmt.Sprintf(`{"valid_through":%q}`, validThrough)
	if throughSeq != 0 {
		body = fmt.Sprintf(`{"valid_through":%q,"through_seq":%d}`, validThrough, throughSeq)
	}
	r := e.post(t, "/v1/freezes", token, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /v1/freezes %s: %s, want 201", body, r)
	}
	var m manifest
	if err := json.Unmarshal(r.Raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.ID == "" || m.Digest == "" || m.ChainHead == "" || m.CodeVersion == "" || m.CreatedAt == "" || m.Seq == 0 || m.ValidThrough != validThrough {
		t.Errorf("POST /v1/freezes %s: incomplete manifest %s", body, r.Raw)
	}
	if _, err := time.Parse(time.RFC3339, m.CreatedAt); err != nil {
		t.Errorf("created_at %q is not RFC 3339: %v", m.CreatedAt, err)
	}
	if loc := r.Header.Get("Location"); loc != "/v1/freezes/"+m.ID {
		t.Errorf("Location %q, want /v1/freezes/%s", loc, m.ID)
	}
	return m
}

// getFreeze reads a freeze back, failing the test unless it answers 200.
func (e *env) getFreeze(t testing.TB, token, id string) manifest {
	t.Helper()
	r := e.get(t, "/v1/freezes/"+id, token)
	var m manifest
	decode(t, r, &m)
	if len(m.Figures) == 0 {
		t.Fatalf("GET /v1/freezes/%s: no figures: %s", id, r.Raw)
	}
	return m
}

// frozenFigures is the figures object of a freeze, decoded; GET /v1/counties and /v1/groups
// answer the same shape, kept raw the same way.
type frozenFigures struct {
	Seq      uint64            `json:"seq"`
	AsOf     string            `json:"as_of"`
	Period   string            `json:"period"`
	Counties []json.RawMessage `json:"counties"`
	Groups   []json.RawMessage `json:"groups"`
	City     json.RawMessage   `json:"city"`
}

func (m manifest) figures(t testing.TB) frozenFigures {
	t.Helper()
	var f frozenFigures
	if err := json.Unmarshal(m.Figures, &f); err != nil {
		t.Fatalf("freeze %s: figures do not decode: %v", m.ID, err)
	}
	return f
}

// scopeOf names a figures object as a restatement does: its code, "group:N", or "city".
func scopeOf(t testing.TB, raw json.RawMessage, city bool) string {
	t.Helper()
	if city {
		return "city"
	}
	var h struct {
		Code  string `json:"code"`
		Group int    `json:"group"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	if h.Code != "" {
		return h.Code
	}
	return "group:" + strconv.Itoa(h.Group)
}

// leaves flattens a figures object into its integer figures by dotted path, leaving out rates,
// names, the group number and flag details (as a restatement does).
func leaves(t testing.TB, raw json.RawMessage) map[string]int64 {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if strings.HasSuffix(k, "_rate") || k == "flags" || k == "group" {
					continue
				}
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, c)
			}
		case json.Number:
			n, err := x.Int64()
			if err != nil {
				t.Fatalf("figure %s = %s is not an integer", prefix, x)
			}
			out[prefix] = n
		}
	}
	walk("", v)
	return out
}

// change is one entry of a restatement's changes.
type change struct {
	Scope  string `json:"scope"`
	Figure string `json:"figure"`
	Frozen int64  `json:"frozen"`
	Now    int64  `json:"now"`
	Delta  int64  `json:"delta"`
}

// diffFigures lists every integer figure that differs between two freezes' figures, scope by
// scope: what a restatement of a must list once the ledger holds what b was made from.
func diffFigures(t testing.TB, a, b frozenFigures) []change {
	t.Helper()
	all := func(f frozenFigures) map[string]json.RawMessage {
		m := map[string]json.RawMessage{}
		for _, c := range f.Counties {
			m[scopeOf(t, c, false)] = c
		}
		for _, g := range f.Groups {
			m[scopeOf(t, g, false)] = g
		}
		m["city"] = f.City
		return m
	}
	ma, mb := all(a), all(b)
	var out []change
	for s, ra := range ma {
		la, lb := leaves(t, ra), leaves(t, mb[s])
		for k, x := range la {
			if y := lb[k]; x != y {
				out = append(out, change{s, k, x, y, y - x})
			}
		}
	}
	sortChanges(out)
	return out
}

func sortChanges(cs []change) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Scope != cs[j].Scope {
			return cs[i].Scope < cs[j].Scope
		}
		return cs[i].Figure < cs[j].Figure
	})
}

// restatementAnswer is GET /v1/freezes/{id}/restatement.
type restatementAnswer struct {
	Freeze  string   `json:"freeze"`
	Changes []change `json:"changes"`
	Events  []struct {
		Seq        uint64 `json:"seq"`
		Type       string `json:"type"`
		EmployerID string `json:"employer_id"`
		County     string `json:"county"`
		OccurredOn string `json:"occurred_on"`
		RecordedAt string `json:"recorded_at"`
		Actor      string `json:"actor"`
	} `json:"events"`
}

func (e *env) restatement(t testing.TB, token, id string) restatementAnswer {
	t.Helper()
	path := "/v1/freezes/" + id
	if !strings.Contains(id, "/") {
		path += "/restatement"
	}
	r := e.get(t, path, token)
	var a restatementAnswer
	decode(t, r, &a)
	if a.Changes == nil || a.Events == nil {
		t.Errorf("restatement of %s: changes and events must be lists, even empty: %s", id, r.Raw)
	}
	return a
}

// freezeEmployer registers an enterprise in county with 5 insured for pension from May, declares
// 2006-10 (due 2006-11-15) and 2006-11 (due 2006-12-15) with base, and returns its id and the
// monthly pension due.
func (e *env) freezeEmployer(t testing.TB, n int, county string, base int64) (string, int64) {
	t.Helper()
	r := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
		`{"name":"冻结测试 %d","county":%q,"org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, n, county, orgCode(n)))
	id := r.str("employer_id")
	e.mustWrite(t, empPath(id, "surveys"), tokAdmin, `{"as_of":"2006-04-20","workforce":5}`)
	e.mustWrite(t, empPath(id, "enrollments"), tokAdmin, `{"insurance":"pension","headcount":5,"effective_on":"2006-05-01"}`)
	for _, d := range [][2]string{{"2006-10", "2006-11-05"}, {"2006-11", "2006-12-05"}} {
		e.mustWrite(t, empPath(id, "declarations"), tokAdmin, fmt.Sprintf(
			`{"declared_on":%q,"period":%q,"lines":[{"insurance":"pension","headcount":5,"wage_base_fen":%d}]}`, d[1], d[0], base))
	}
	return id, pensionDue(base)
}

// pay records a payment allocated in full to one pension period and returns its sequence.
func (e *env) pay(t testing.TB, id, receipt string, fen int64, paidOn, period string) uint64 {
	t.Helper()
	return uint64(e.mustWrite(t, empPath(id, "payments"), tokAdmin, allocated(receipt, fen, paidOn, period)).num("seq"))
}

// jsonDiff lists the paths at which two JSON values differ.
func jsonDiff(path string, a, b any) []string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
		}
		var out []string
		for k := range x {
			out = append(out, jsonDiff(path+"."+k, x[k], y[k])...)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing vs %v", path, k, y[k]))
			}
		}
		sort.Strings(out)
		return out
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
		}
		var out []string
		for i := range x {
			out = append(out, jsonDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(a, b) {
		return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
	}
	return nil
}

func jsonValue(t testing.TB, raw json.RawMessage) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return v
}

// wantSameFigures compares frozen figures objects with live ones, scope by scope, field by field.
func wantSameFigures(t testing.TB, what string, frozen, live []json.RawMessage) {
	t.Helper()
	if len(frozen) != len(live) {
		t.Errorf("%s: %d frozen, %d live", what, len(frozen), len(live))
		return
	}
	for i := range frozen {
		if d := jsonDiff(scopeOf(t, frozen[i], false), jsonValue(t, frozen[i]), jsonValue(t, live[i])); len(d) > 0 {
			t.Errorf("%s: the freeze differs from the live views (frozen vs live):\n%s", what, strings.Join(d, "\n"))
		}
	}
}

// rawDo sends a GET and returns the status, or the transport error (a handler that panicked
// drops the connection).
func (e *env) rawDo(path, token string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// monthlyRows fetches the monthly report as csv and as xlsx and returns both as rows.
func (e *env) monthlyRows(t testing.TB, month, query string) (csvRows, xlsxRows [][]string) {
	t.Helper()
	for _, format := range []string{"csv", "xlsx"} {
		path := "/v1/reports/monthly/" + month + "?format=" + format + query
		status, body, err := e.rawDo(path, tokAssessor)
		if err != nil || status != http.StatusOK {
			t.Fatalf("GET %s: %d %v %.300s", path, status, err, body)
		}
		if format == "csv" {
			if csvRows, err = tableCSV(t, body); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			continue
		}
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		xlsxRows, err = f.GetRows(f.GetSheetList()[0])
		_ = f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return csvRows, padRows(xlsxRows)
}

// padRows gives every row a sheet's GetRows read as many cells as its first (the header): it
// leaves out a row's blank cells at its end.
func padRows(rows [][]string) [][]string {
	for i := range rows {
		for len(rows[i]) < len(rows[0]) {
			rows[i] = append(rows[i], "")
		}
	}
	return rows
}

// reproduced reads freeze id as stored and checks that a fold from sequence 1 reproduces it.
func (e *env) reproduced(t *testing.T, id string) domain.FreezeMade {
	t.Helper()
	stored, _, err := e.l.Store.Freeze(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if err := projections.ReproduceFreeze(context.Background(), e.l.Store, stored); err != nil {
		t.Errorf("a fold from sequence 1 does not reproduce the freeze: %v", err)
	}
	return stored
}
