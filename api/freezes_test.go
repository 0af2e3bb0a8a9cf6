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
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kuozheng/kuozheng/api"
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

// loadFreezeTokens writes and loads the tokens of loadTokens plus an assessor.
func (e *env) loadFreezeTokens() {
	t := e.t
	t.Helper()
	entries := []map[string]any{
		{"token": tokClerkA, "name": "a", "role": "clerk", "counties": []string{"360702"}},
		{"token": tokClerkB, "name": "b", "role": "clerk", "counties": []string{"360721"}},
		{"token": tokAuditor, "name": "aud", "role": "auditor"},
		{"token": tokSuper, "name": "sup", "role": "supervisor", "groups": []int{1}},
		{"token": tokAdmin, "name": "adm", "role": "admin"},
		{"token": tokAssessor, "name": "ass", "role": "assessor"},
	}
	e.useTokens(entries)
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

// frozenFigures is the figures object of a freeze, decoded.
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

// TestFreezeRestatesABackdatedPayment: the same (S, D) always gives the same freeze; a payment
// recorded later but dated on or before D is exactly the difference between (S, D) and (S', D),
// and the restatement names it; a payment dated after D changes nothing at D.
func TestFreezeRestatesABackdatedPayment(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 150)
	const county, group = "360782", "group:2" // 南康市, supervision group 2
	x, due := e.freezeEmployer(t, 99000001, county, 4000000)
	s := e.count()
	e.waitViews(t, s)
	d := novEnd.String()

	f1 := e.freeze(t, tokAssessor, d, 0)
	if f1.ThroughSeq != s || f1.Seq != s+1 {
		t.Errorf("freeze through_seq %d stored at %d, want through the last sequence %d, stored at %d", f1.ThroughSeq, f1.Seq, s, s+1)
	}
	f2 := e.freeze(t, tokAdmin, d, s)
	if f2.ID == f1.ID || f2.Digest != f1.Digest || f2.ChainHead != f1.ChainHead || f2.CodeVersion != f1.CodeVersion {
		t.Errorf("a second freeze of (%d, %s) differs from the first: %+v vs %+v", s, d, f2, f1)
	}
	g1, g2 := e.getFreeze(t, tokAdmin, f1.ID), e.getFreeze(t, tokAdmin, f2.ID)
	if !bytes.Equal(g1.Figures, g2.Figures) {
		t.Errorf("two freezes of (%d, %s) have different figures bytes", s, d)
	}
	if g1.Digest != f1.Digest || g1.ThroughSeq != s || g1.ValidThrough != d || g1.ChainHead != f1.ChainHead {
		t.Errorf("GET /v1/freezes/%s answers another manifest than POST: %+v vs %+v", f1.ID, g1, f1)
	}
	if sum := sha256.Sum256(g1.Figures); hex.EncodeToString(sum[:]) != f1.Digest {
		t.Errorf("digest %s is not the SHA-256 of the figures served (%x)", f1.Digest, sum)
	}
	fig1 := g1.figures(t)
	if fig1.AsOf != d || fig1.Period != "2006-10" || fig1.Seq != s || len(fig1.Counties) != 19 {
		t.Errorf("figures of (%d, %s): seq %d, as_of %s, period %s, %d counties; want %d, %s, 2006-10, 19",
			s, d, fig1.Seq, fig1.AsOf, fig1.Period, len(fig1.Counties), s, d)
	}
	if r := e.restatement(t, tokAssessor, f1.ID); len(r.Changes) != 0 || len(r.Events) != 0 {
		t.Errorf("restatement with nothing recorded since the freeze: %+v, want no changes and no events", r)
	}

	// A payment dated 2006-11-10, before D, recorded after S: 2006-10's pension in full, on time.
	p := e.pay(t, x, "LATE-RECORDED", due, "2006-11-10", "2006-10")
	s2 := e.count()
	if s2 != p {
		t.Fatalf("the payment is at %d but the stream ends at %d", p, s2)
	}
	f3 := e.freeze(t, tokAssessor, d, 0)
	if f3.ThroughSeq != p {
		t.Errorf("freeze through_seq %d, want the payment's %d", f3.ThroughSeq, p)
	}
	if f3.Digest == f1.Digest || f3.ChainHead == f1.ChainHead {
		t.Errorf("freeze (%d, %s) has the digest or chain head of (%d, %s) although a payment dated %s lies between", p, d, s, d, "2006-11-10")
	}
	if again := e.freeze(t, tokAssessor, d, s); again.Digest != f1.Digest {
		t.Errorf("(%d, %s) frozen again after the payment: digest %s, want %s forever", s, d, again.Digest, f1.Digest)
	}
	fig3 := e.getFreeze(t, tokAdmin, f3.ID).figures(t)
	diff := diffFigures(t, fig1, fig3)
	scopes := map[string]bool{}
	for _, c := range diff {
		scopes[c.Scope] = true
		if c.Scope != county && c.Scope != group && c.Scope != "city" {
			t.Errorf("the payment in %s changed %s of %s: %+v", county, c.Figure, c.Scope, c)
		}
	}
	for _, sc := range []string{county, group, "city"} {
		for _, want := range []change{
			{sc, "insurances.pension.period_collected_fen", 0, due, due},
			{sc, "insurances.pension.cumulative_collected_fen", 0, due, due},
		} {
			if !slices.ContainsFunc(diff, func(c change) bool { return c.Scope == want.Scope && c.Figure == want.Figure && c.Delta == want.Delta }) {
				t.Errorf("freeze (%d, %s) vs (%d, %s): %s %s did not move by the payment's %d: %+v", s, d, p, d, sc, want.Figure, due, diff)
			}
		}
		for _, c := range diff {
			if c.Scope == sc && strings.HasSuffix(c.Figure, "_fen") && c.Figure != "late_fee_fen" && c.Delta != due && c.Delta != -due {
				t.Errorf("%s %s moved by %d, not by the payment's ±%d", sc, c.Figure, c.Delta, due)
			}
		}
	}

	for _, f := range []manifest{f1, f2} {
		r := e.restatement(t, tokAssessor, f.ID+"/restatement?min_seq="+strconv.FormatUint(p, 10))
		if len(r.Events) != 1 || r.Events[0].Seq != p || r.Events[0].Type != "payment.received" || r.Events[0].EmployerID != x ||
			r.Events[0].County != county || r.Events[0].OccurredOn != "2006-11-10" || r.Events[0].Actor == "" || r.Events[0].RecordedAt == "" {
			t.Errorf("restatement of %s: events %+v, want only the payment %d of %s in %s dated 2006-11-10", f.ID, r.Events, p, x, county)
		}
		got := slices.Clone(r.Changes)
		sortChanges(got)
		if !reflect.DeepEqual(got, diff) {
			t.Errorf("restatement of %s lists\n%+v\nwant the difference between the freezes (%d, %s) and (%d, %s):\n%+v", f.ID, got, s, d, p, d, diff)
		}
	}
	if r := e.restatement(t, tokAssessor, f3.ID); len(r.Changes) != 0 || len(r.Events) != 0 {
		t.Errorf("restatement of the freeze at the head: %+v, want nothing", r)
	}

	// A payment dated 2006-12-10, after D: nothing changes at D.
	late := e.pay(t, x, "DECEMBER", due, "2006-12-10", "2006-11")
	e.waitViews(t, late)
	if r := e.restatement(t, tokAssessor, f3.ID); len(r.Changes) != 0 || len(r.Events) != 0 {
		t.Errorf("restatement of (%d, %s) after a payment dated 2006-12-10: %+v, want no change and no event", p, d, r)
	}
	f4 := e.freeze(t, tokAssessor, d, 0)
	fig4 := e.getFreeze(t, tokAdmin, f4.ID).figures(t)
	if diff := diffFigures(t, fig3, fig4); len(diff) != 0 {
		t.Errorf("a payment dated after %s changed the figures of a freeze valid through it: %+v", d, diff)
	}
	for i := range fig3.Counties {
		if !bytes.Equal(fig3.Counties[i], fig4.Counties[i]) {
			t.Errorf("county %s differs between (%d, %s) and (%d, %s)", scopeOf(t, fig3.Counties[i], false), p, d, f4.ThroughSeq, d)
		}
	}
	if r := e.restatement(t, tokAssessor, f1.ID); len(r.Events) != 1 || r.Events[0].Seq != p {
		t.Errorf("restatement of the first freeze after a payment dated after D: events %+v, want only %d", r.Events, p)
	}
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

// liveFigures is GET /v1/counties or /v1/groups, kept raw.
type liveFigures struct {
	Seq      uint64            `json:"seq"`
	AsOf     string            `json:"as_of"`
	Period   string            `json:"period"`
	Counties []json.RawMessage `json:"counties"`
	Groups   []json.RawMessage `json:"groups"`
	City     json.RawMessage   `json:"city"`
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

// TestFreezeEqualsTheLiveViewsAndSurvivesARestart: a freeze through the last sequence, valid
// through today, holds the live views' figures; after a restart it is still listed with the same
// digest and figures, and (S, D) frozen again gives the same digest.
func TestFreezeEqualsTheLiveViewsAndSurvivesARestart(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 150)
	s := e.count()
	e.waitViews(t, s)
	var made []manifest
	for _, d := range []domain.Date{freezeToday, novEnd} {
		f := e.freeze(t, tokAssessor, d.String(), s)
		made = append(made, f)
		g := e.getFreeze(t, tokAssessor, f.ID)
		fig := g.figures(t)
		if fig.AsOf != d.String() || fig.Seq != s {
			t.Errorf("freeze (%d, %s): figures as_of %s seq %d", s, d, fig.AsOf, fig.Seq)
		}
		q := fmt.Sprintf("?as_of=%s&period=%s", d, fig.Period)
		var counties, groups liveFigures
		decode(t, e.get(t, "/v1/counties"+q, tokAssessor), &counties)
		decode(t, e.get(t, "/v1/groups"+q, tokAssessor), &groups)
		if counties.AsOf != fig.AsOf || counties.Period != fig.Period || len(counties.Counties) != 19 {
			t.Fatalf("GET /v1/counties%s: as_of %s period %s, %d counties", q, counties.AsOf, counties.Period, len(counties.Counties))
		}
		wantSameFigures(t, "counties "+q, fig.Counties, counties.Counties)
		wantSameFigures(t, "groups "+q, fig.Groups, groups.Groups)
		if diff := jsonDiff("city", jsonValue(t, fig.City), jsonValue(t, counties.City)); len(diff) > 0 {
			t.Errorf("city %s: the freeze differs from the live views:\n%s", q, strings.Join(diff, "\n"))
		}
	}
	before := map[string]manifest{}
	for _, f := range made {
		before[f.ID] = e.getFreeze(t, tokAdmin, f.ID)
	}

	e.restart()
	var list struct {
		Freezes []manifest `json:"freezes"`
	}
	decode(t, e.get(t, "/v1/freezes", tokClerkA), &list)
	if len(list.Freezes) != len(made) {
		t.Fatalf("after a restart GET /v1/freezes lists %d freezes, want %d", len(list.Freezes), len(made))
	}
	for i, f := range made {
		got := list.Freezes[i]
		if got.ID != f.ID || got.Digest != f.Digest || got.ThroughSeq != f.ThroughSeq || got.ValidThrough != f.ValidThrough ||
			got.ChainHead != f.ChainHead || got.CodeVersion != f.CodeVersion || got.Seq != f.Seq || got.CreatedAt != f.CreatedAt {
			t.Errorf("after a restart the list holds %+v, want %+v", got, f)
		}
		g := e.getFreeze(t, tokAdmin, f.ID)
		if g.Digest != f.Digest || !bytes.Equal(g.Figures, before[f.ID].Figures) {
			t.Errorf("after a restart freeze %s answers digest %s (want %s) or other figures", f.ID, g.Digest, f.Digest)
		}
		if again := e.freeze(t, tokAssessor, f.ValidThrough, f.ThroughSeq); again.Digest != f.Digest || again.ChainHead != f.ChainHead {
			t.Errorf("(%d, %s) frozen again after a restart: digest %s, want %s", f.ThroughSeq, f.ValidThrough, again.Digest, f.Digest)
		}
	}

	// Without views (e.restart serves no runner) the reads that need them answer 503 like every
	// other projection read, and do not drop the connection.
	for _, path := range []string{"/v1/freezes/" + made[0].ID + "/restatement", "/v1/rankings?freeze=" + made[0].ID} {
		status, body, err := e.rawDo(path, tokAdmin)
		if err != nil {
			t.Errorf("GET %s on a server without views: %v (the handler panicked?), want 503", path, err)
		} else if status != http.StatusServiceUnavailable && !(status == http.StatusOK && strings.HasPrefix(path, "/v1/rankings")) {
			t.Errorf("GET %s on a server without views: %d %s, want 503", path, status, body)
		}
	}

	e.runner = startRunner(t, e.l.Store)
	e.serve()
	if r := e.restatement(t, tokAssessor, made[1].ID); len(r.Changes) != 0 || len(r.Events) != 0 {
		t.Errorf("restatement after a restart with nothing dated on or before %s recorded since: %+v", made[1].ValidThrough, r)
	}
}

// TestFreezeRefusals: what POST /v1/freezes refuses appends nothing, and the freeze reads answer
// 404 for an unknown freeze and 400 for a missing or mismatched one.
func TestFreezeRefusals(t *testing.T) {
	e := newFreezeEnv(t, 0)
	e.register(t, tokAdmin, orgCode(99000002), "360702")
	last := e.count()
	for _, c := range []struct {
		token, body string
		status      int
		kind, field string
	}{
		{tokAssessor, `{}`, 400, "invalid", "valid_through"},
		{tokAssessor, `{"through_seq":1}`, 400, "invalid", "valid_through"},
		{tokAssessor, `{"valid_through":""}`, 400, "invalid", "valid_through"},
		{tokAssessor, `{"valid_through":"2006-02-30"}`, 400, "invalid", "valid_through"},
		{tokAssessor, `{"valid_through":"30/11/2006"}`, 400, "invalid", "valid_through"},
		{tokAssessor, fmt.Sprintf(`{"valid_through":"2006-11-30","through_seq":%d}`, last+1), 400, "invalid", "through_seq"},
		{tokAssessor, `{"valid_through":"2006-11-30","through_seq":-1}`, 400, "invalid", "through_seq"},
		{tokAssessor, `{"valid_through":"2006-11-30","seq":1}`, 400, "invalid", "seq"},
		{tokClerkA, `{"valid_through":"2006-11-30"}`, 403, "forbidden", ""},
		{tokSuper, `{"valid_through":"2006-11-30"}`, 403, "forbidden", ""},
		{tokAuditor, `{"valid_through":"2006-11-30"}`, 403, "forbidden", ""},
		{"", `{"valid_through":"2006-11-30"}`, 401, "unauthorized", "Authorization"},
	} {
		wantError(t, e.post(t, "/v1/freezes", c.token, c.body), c.status, c.kind, c.field)
	}
	e.wantUnchanged(t, last)

	nov := e.freeze(t, tokAssessor, "2006-11-30", last)
	e.waitViews(t, e.count())
	unknown := "01a00000-0000-7000-8000-000000000000"
	wantError(t, e.get(t, "/v1/freezes/"+unknown, tokAdmin), 404, "not_found", "id")
	wantError(t, e.get(t, "/v1/freezes/"+unknown+"/restatement", tokAdmin), 404, "not_found", "id")
	if r := e.get(t, "/v1/rankings?freeze="+unknown, tokAdmin); r.Status != http.StatusNotFound {
		t.Errorf("rankings of an unknown freeze: %s, want 404", r)
	}
	wantError(t, e.get(t, "/v1/rankings", tokAdmin), 400, "invalid", "freeze")
	wantError(t, e.get(t, "/v1/rankings?freeze=", tokAdmin), 400, "invalid", "freeze")
	wantError(t, e.get(t, "/v1/reports/monthly/2006-10?freeze="+nov.ID, tokAdmin), 400, "invalid", "freeze")
	wantError(t, e.get(t, "/v1/reports/monthly/2006-12?format=csv&freeze="+nov.ID, tokAdmin), 400, "invalid", "freeze")
	t.Run("the error names the query parameter freeze", func(t *testing.T) {
		// The {error, field, detail} field names the request's input: here ?freeze=, not "id".
		wantError(t, e.get(t, "/v1/rankings?freeze="+unknown, tokAdmin), 404, "not_found", "freeze")
		wantError(t, e.get(t, "/v1/reports/monthly/2006-11?freeze="+unknown, tokAdmin), 404, "not_found", "freeze")
	})

	// Every role reads freezes; a clerk sees only its counties' figures.
	for _, tok := range []string{tokClerkA, tokClerkB, tokSuper, tokAuditor, tokAssessor, tokAdmin} {
		var list struct {
			Freezes []manifest `json:"freezes"`
		}
		decode(t, e.get(t, "/v1/freezes", tok), &list)
		if len(list.Freezes) != 1 || list.Freezes[0].ID != nov.ID || list.Freezes[0].ValidThrough != "2006-11-30" {
			t.Errorf("%s: GET /v1/freezes lists %+v, want the one freeze", tok, list.Freezes)
		}
	}
	fig := e.getFreeze(t, tokClerkA, nov.ID).figures(t)
	if len(fig.Counties) != 1 || scopeOf(t, fig.Counties[0], false) != "360702" || len(fig.Groups) != 0 {
		t.Errorf("clerk of 360702 reads a freeze's figures of %d counties and %d groups, want 360702 only", len(fig.Counties), len(fig.Groups))
	}
}

// TestFreezeRestatementIsScoped: a restatement shows a principal only changes it may read; a
// group's or the city's movement caused by another county's payment is not for a clerk.
func TestFreezeRestatementIsScoped(t *testing.T) {
	e := newFreezeEnv(t, 0)
	e.freezeEmployer(t, 99000003, "360702", 3000000) // group 1, clerk A's county
	b, due := e.freezeEmployer(t, 99000004, "360782", 3000000)
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, novEnd.String(), 0)
	p := e.pay(t, b, "B-LATE", due, "2006-11-10", "2006-10")
	e.waitViews(t, p)
	if r := e.restatement(t, tokAdmin, f.ID); len(r.Changes) == 0 || len(r.Events) != 1 {
		t.Fatalf("admin's restatement: %+v, want the payment's changes and event", r)
	}
	for _, tok := range []string{tokClerkA, tokSuper} {
		r := e.restatement(t, tok, f.ID)
		if len(r.Changes) != 0 || len(r.Events) != 0 {
			t.Errorf("%s (who may not read 360782) sees the restatement of a payment in 360782: %+v", tok, r)
		}
	}
}

// TestRankingsFromAFreeze: the 19 counties ranked 1..19 on a freeze, best first, with the
// weighting stated; a later backdated payment does not move them.
func TestRankingsFromAFreeze(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 150)
	x, due := e.freezeEmployer(t, 99000005, "360781", 2500000)
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, freezeToday.String(), 0)
	r := e.get(t, "/v1/rankings?freeze="+f.ID, tokAssessor)
	var a struct {
		Weighting string `json:"weighting"`
		Rankings  []struct {
			Rank     int             `json:"rank"`
			Code     string          `json:"code"`
			Name     string          `json:"name"`
			Score    json.Number     `json:"score"`
			Measures json.RawMessage `json:"measures"`
		} `json:"rankings"`
	}
	decode(t, r, &a)
	if len(strings.TrimSpace(a.Weighting)) < 20 {
		t.Errorf("weighting %q does not state how the score is made", a.Weighting)
	}
	if len(a.Rankings) != 19 {
		t.Fatalf("%d counties ranked, want 19: %s", len(a.Rankings), r.Raw)
	}
	codes := map[string]bool{}
	prev := 2.0
	for i, k := range a.Rankings {
		score, err := k.Score.Float64()
		if k.Rank != i+1 || err != nil || score > prev || score < 0 || score > 1.2 || k.Name == "" || codes[k.Code] ||
			len(k.Measures) < 3 || k.Measures[0] != '[' {
			t.Errorf("ranking %d: rank %d code %s name %q score %s (previous %v) measures %.40s", i, k.Rank, k.Code, k.Name, k.Score, prev, k.Measures)
		}
		if _, ok := e.l.Store.Reference().County(k.Code); !ok {
			t.Errorf("ranking %d: unknown county %q", i, k.Code)
		}
		codes[k.Code] = true
		prev = score
	}
	if score, _ := a.Rankings[0].Score.Float64(); score <= 0 {
		t.Errorf("the best county scores %v: the demo's targets are not being measured", score)
	}

	p := e.pay(t, x, "R-LATE", due, "2006-11-10", "2006-10")
	e.waitViews(t, p)
	if again := e.get(t, "/v1/rankings?freeze="+f.ID, tokAssessor); !bytes.Equal(again.Raw, r.Raw) {
		t.Errorf("rankings of a freeze moved after a backdated payment:\n%s\nthen\n%s", r.Raw, again.Raw)
	}
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
			if csvRows, err = csv.NewReader(bytes.NewReader(body)).ReadAll(); err != nil {
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
	return csvRows, xlsxRows
}

// TestMonthlyBulletinFromAFreeze: the November bulletin served from a freeze valid through
// 2006-11-30 is the live report of that day, the same in csv and xlsx, and never moves.
func TestMonthlyBulletinFromAFreeze(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 150)
	x, due := e.freezeEmployer(t, 99000006, "360733", 2000000)
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, novEnd.String(), 0)
	q := "&freeze=" + f.ID
	csvF, xlsxF := e.monthlyRows(t, "2006-11", q)
	if len(csvF) != 1+19*len(domain.Insurances) {
		t.Fatalf("the bulletin has %d rows, want a header and 19×5", len(csvF))
	}
	if !reflect.DeepEqual(csvF, xlsxF) {
		t.Errorf("the bulletin's csv and xlsx rows differ:\n%q\n%q", csvF[:3], xlsxF[:3])
	}
	liveCSV, liveXLSX := e.monthlyRows(t, "2006-11", "")
	if !reflect.DeepEqual(csvF, liveCSV) || !reflect.DeepEqual(xlsxF, liveXLSX) {
		t.Errorf("the bulletin from a freeze at the head differs from the live report of 2006-11")
	}
	var j struct {
		Month  string `json:"month"`
		Seq    uint64 `json:"seq"`
		AsOf   string `json:"as_of"`
		Period string `json:"period"`
	}
	decode(t, e.get(t, "/v1/reports/monthly/2006-11?format=json"+q, tokAssessor), &j)
	if j.Month != "2006-11" || j.Seq != f.ThroughSeq || j.AsOf != "2006-11-30" || j.Period != "2006-10" {
		t.Errorf("json bulletin: %+v, want month 2006-11, seq %d, as_of 2006-11-30, period 2006-10", j, f.ThroughSeq)
	}

	e.pay(t, x, "M-LATE", due, "2006-11-10", "2006-10")
	p2 := e.pay(t, x, "M-LATE-2", 1, "2006-11-29", "2006-11")
	e.waitViews(t, p2)
	csv2, xlsx2 := e.monthlyRows(t, "2006-11", q)
	if !reflect.DeepEqual(csv2, csvF) || !reflect.DeepEqual(xlsx2, xlsxF) {
		t.Errorf("the bulletin from a freeze moved after backdated payments")
	}
	if live2, _ := e.monthlyRows(t, "2006-11", ""); reflect.DeepEqual(live2, liveCSV) {
		t.Errorf("the live November report did not move after a payment dated 2006-11-10: the test proves nothing")
	}
}

// TestMonthEndBulletins: a freeze for each month end from April to November, all listed.
func TestMonthEndBulletins(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 60)
	var want []manifest
	for m := domain.MustPeriod("2006-04"); m <= domain.MustPeriod("2006-11"); m = m.Next() {
		want = append(want, e.freeze(t, tokAssessor, m.LastDay().String(), 0))
	}
	var list struct {
		Freezes []manifest `json:"freezes"`
	}
	decode(t, e.get(t, "/v1/freezes", tokAssessor), &list)
	if len(list.Freezes) != 8 {
		t.Fatalf("GET /v1/freezes lists %d freezes, want 8", len(list.Freezes))
	}
	ref := e.l.Store.Reference()
	for i, w := range want {
		got := list.Freezes[i]
		if got.ID != w.ID || got.ValidThrough != w.ValidThrough || got.Digest != w.Digest || got.ThroughSeq != w.ThroughSeq || got.Seq != w.Seq {
			t.Errorf("freeze %d listed as %+v, want %+v", i, got, w)
		}
		d := domain.MustDate(w.ValidThrough)
		fig := e.getFreeze(t, tokAssessor, w.ID).figures(t)
		if fig.AsOf != w.ValidThrough || fig.Period != projections.DefaultPeriod(ref, d).String() {
			t.Errorf("bulletin %s: as_of %s period %s", w.ValidThrough, fig.AsOf, fig.Period)
		}
	}
}

// TestFreezeReadsAnswerXLedgerSeq: "every read answers the header X-Ledger-Seq" (API.md).
func TestFreezeReadsAnswerXLedgerSeq(t *testing.T) {
	e := newFreezeEnv(t, 0)
	e.register(t, tokAdmin, orgCode(99000007), "360702")
	f := e.freeze(t, tokAssessor, "2006-11-30", 0)
	e.waitViews(t, f.Seq)
	for _, path := range []string{"/v1/freezes", "/v1/freezes/" + f.ID, "/v1/freezes/" + f.ID + "/restatement", "/v1/rankings?freeze=" + f.ID} {
		r := e.get(t, path, tokAdmin)
		if r.Status != http.StatusOK {
			t.Errorf("GET %s: %s", path, r)
		} else if r.Header.Get("X-Ledger-Seq") == "" {
			t.Errorf("GET %s: 200 without X-Ledger-Seq", path)
		}
	}
}

// A freeze of a long ledger folds for longer than the server's write timeout: its answer must
// still reach the client. Here the timeout has passed before the handler starts.
func TestAFreezeIsAnsweredAfterTheServersWriteTimeout(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(api.New(api.Config{Store: e.l.Store, Today: func() domain.Date { return freezeToday }}))
	srv.Config.WriteTimeout = time.Nanosecond
	srv.Start()
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+"/v1/freezes", "application/json", strings.NewReader(`{"valid_through":"2006-12-31"}`))
	if err != nil {
		t.Fatalf("POST /v1/freezes on a server whose write timeout has passed: %v", err)
	}
	defer resp.Body.Close()
	var m struct {
		ID     string `json:"id"`
		Digest string `json:"digest"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusCreated || m.Digest == "" {
		t.Fatalf("POST /v1/freezes: %s, %+v, %v; want 201 with the freeze", resp.Status, m, err)
	}
}
