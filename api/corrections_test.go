package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
)

type correctionsAnswer struct {
	Rows []struct {
		County    string `json:"county"`
		Actor     string `json:"actor"`
		Recorded  int    `json:"recorded"`
		Voided    int    `json:"voided"`
		VoidsMade int    `json:"voids_made"`
		RateBP    *int   `json:"rate_bp"`
		Flagged   bool   `json:"flagged"`
	} `json:"rows"`
	Voids []struct {
		EventActor string `json:"event_actor"`
		Actor      string `json:"actor"`
		EventType  string `json:"event_type"`
	} `json:"voids"`
}

// TestCorrectionsCountVoidsPerCountyAndActor: the voids of a clerk's surveys, per county and
// actor beside what each recorded, flagged once three or more are voided at 5% or more; scoped
// to the counties the reader may read; refused to clerks and for periods over a year.
func TestCorrectionsCountVoidsPerCountyAndActor(t *testing.T) {
	e := newReadEnv(t, today)
	a := e.register(t, tokClerkA, orgCode(9300), "360702")
	b := e.register(t, tokClerkB, orgCode(9301), "360721")
	var surveys []string
	for i := range 4 {
		r := e.mustWrite(t, empPath(a, "surveys"), tokClerkA, fmt.Sprintf(`{"as_of":"2006-05-%02d","workforce":%d}`, i+1, 10+i))
		surveys = append(surveys, r.JSON["event_ids"].([]any)[0].(string))
	}
	e.mustWrite(t, empPath(b, "surveys"), tokClerkB, `{"as_of":"2006-05-01","workforce":3}`)
	c := e.register(t, tokAdmin, orgCode(9302), "360782") // group 2
	e.mustWrite(t, empPath(c, "surveys"), tokAdmin, `{"as_of":"2006-05-01","workforce":3}`)
	for i, id := range surveys[:3] {
		e.mustWrite(t, empPath(a, "voids"), tokClerkA, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-05-%02d","reason":"录错 mistyped"}`, id, i+10))
	}
	// The fourth survey is voided after the payer moved to 360721: the mistake still counts in
	// 360702, where it was recorded; the void in 360721, where it was made.
	e.mustWrite(t, empPath(a, "transfer"), tokAdmin, `{"on":"2006-06-01","county":"360721"}`)
	e.mustWrite(t, empPath(a, "voids"), tokAdmin, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-06-02","reason":"录错 mistyped"}`, surveys[3]))
	// The period is of recorded times, the stream's clock: a day either side of now (the test
	// may cross midnight).
	now := domain.DateInChina(time.Now())
	period := func(q string) string { return fmt.Sprintf("/v1/corrections?from=%s&to=%s%s", now-1, now+1, q) }
	var ans correctionsAnswer
	decode(t, e.get(t, period(""), tokAuditor), &ans)
	rows := map[string]int{}
	for i, r := range ans.Rows {
		rows[r.County+" "+r.Actor] = i
	}
	ra, ok := rows["360702 clerk:a"]
	if !ok {
		t.Fatalf("no row for clerk a in 360702: %+v", ans.Rows)
	}
	got := ans.Rows[ra]
	// Clerk a recorded a registration and four surveys (5 events) and three voids of them; the
	// admin voided the fourth.
	if got.Recorded != 5 || got.Voided != 4 || got.VoidsMade != 3 || got.RateBP == nil || *got.RateBP != 8000 || !got.Flagged {
		t.Errorf("clerk a's row: %+v; want 5 recorded, 4 voided, 3 voids made, 8000 bp, flagged", got)
	}
	if rv := ans.Rows[rows["360721 admin:adm"]]; rv.Actor != "admin:adm" || rv.VoidsMade != 1 || rv.Voided != 0 {
		t.Errorf("the admin's row in 360721: %+v; want the void made there", rv)
	}
	if rb := ans.Rows[rows["360721 clerk:b"]]; rb.Actor != "clerk:b" || rb.Recorded != 2 || rb.Voided != 0 || rb.Flagged {
		t.Errorf("clerk b's row: %+v; want 2 recorded, nothing voided, not flagged", rb)
	}
	if len(ans.Voids) != 4 || ans.Voids[0].EventType != "survey.counted" || ans.Voids[3].EventActor != "clerk:a" || ans.Voids[3].Actor != "admin:adm" {
		t.Errorf("voids: %+v; want the four surveys of clerk a", ans.Voids)
	}
	if rc := ans.Rows[rows["360782 admin:adm"]]; rc.Actor != "admin:adm" || rc.Recorded != 2 {
		t.Errorf("the admin's row in 360782: %+v; want 2 recorded", rc)
	}
	// A supervisor of group 1 reads 360702 (group 1), not 360782 (group 2).
	decode(t, e.get(t, period(""), tokSuper), &ans)
	seen := map[string]bool{}
	for _, r := range ans.Rows {
		seen[r.County] = true
	}
	if !seen["360702"] || seen["360782"] {
		t.Errorf("the supervisor of group 1 reads the corrections of %v; want 360702's, not 360782's", seen)
	}
	wantError(t, e.get(t, period("&county=360782"), tokSuper), http.StatusForbidden, "forbidden", "county")
	// An actor filter keeps that actor's rows and voids.
	decode(t, e.get(t, period("&actor=b"), tokAdmin), &ans)
	if len(ans.Rows) != 1 || ans.Rows[0].Actor != "clerk:b" || len(ans.Voids) != 0 {
		t.Errorf("actor=b: %+v, voids %+v; want clerk b's row alone", ans.Rows, ans.Voids)
	}
	wantError(t, e.get(t, period(""), tokClerkA), http.StatusForbidden, "forbidden", "")
	wantError(t, e.get(t, period("&county=999999"), tokAuditor), http.StatusBadRequest, "invalid", "county")
	wantError(t, e.get(t, fmt.Sprintf("/v1/corrections?from=%s&to=%s", now-366, now), tokAuditor), http.StatusBadRequest, "invalid", "to")
	wantError(t, e.get(t, "/v1/corrections?from=2006-04-31&to=2006-05-01", tokAuditor), http.StatusBadRequest, "invalid", "from")
}

// The dashboard asks for this month's corrections every 30 s; each read scanned every event
// recorded in the month (464,000 on the demo: 3.5-34 s a read). A read again reads only what
// was recorded since, and answers exactly what a server reading the whole period answers.
func TestCorrectionsReadAgainReadOnlyWhatWasRecordedSince(t *testing.T) {
	e := newReadEnv(t, today)
	cached := httptest.NewServer(api.New(api.Config{Store: e.l.Store, Runner: e.runner, Tokens: e.tokens, Metrics: api.NewMetrics(),
		Today: func() domain.Date { return today }}))
	t.Cleanup(cached.Close)
	read := func() uint64 { return correctionsRead(t, cached.URL) }
	now := domain.DateInChina(time.Now())
	period := func(q string) string { return fmt.Sprintf("/v1/corrections?from=%s&to=%s%s", now-1, now+1, q) }
	// Each answer of the server that keeps its tallies is the one a new server (which has none)
	// gives.
	same := func(what, path, token string) {
		t.Helper()
		fresh := httptest.NewServer(api.New(api.Config{Store: e.l.Store, Runner: e.runner, Tokens: e.tokens, Today: func() domain.Date { return today }}))
		defer fresh.Close()
		if got, want := getOK(t, cached.URL, path, token), getOK(t, fresh.URL, path, token); !bytes.Equal(got, want) {
			t.Errorf("%s: the kept tally answers\n%s\nreading the whole period answers\n%s", what, got, want)
		}
	}
	a := e.register(t, tokClerkA, orgCode(9400), "360702")
	b := e.register(t, tokClerkB, orgCode(9401), "360721")
	var surveys []string
	for i := range 4 {
		r := e.mustWrite(t, empPath(a, "surveys"), tokClerkA, fmt.Sprintf(`{"as_of":"2006-05-%02d","workforce":%d}`, i+1, 10+i))
		surveys = append(surveys, r.JSON["event_ids"].([]any)[0].(string))
	}
	e.mustWrite(t, empPath(a, "voids"), tokClerkA, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-05-10","reason":"录错 mistyped"}`, surveys[0]))

	views := []struct{ what, query, token string }{
		{"an auditor's", "", tokAuditor},
		{"a supervisor's", "", tokSuper},
		{"one county's", "&county=360721", tokAdmin},
		{"one actor's", "&actor=a", tokAdmin},
	}
	before := read()
	same("the first read", period(""), tokAuditor)
	if got, want := read()-before, e.events(); got != want {
		t.Fatalf("the first read read %d events, want the period's %d", got, want)
	}
	for _, v := range views[1:] {
		same(v.what+" first read", period(v.query), v.token)
	}

	for round := range 3 {
		e.mustWrite(t, empPath(a, "voids"), tokAdmin, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-05-11","reason":"录错 mistyped"}`, surveys[round+1]))
		e.mustWrite(t, empPath(b, "surveys"), tokClerkB, fmt.Sprintf(`{"as_of":"2006-05-%02d","workforce":3}`, round+1))
		if round == 1 {
			e.mustWrite(t, empPath(a, "transfer"), tokAdmin, `{"on":"2006-06-01","county":"360721"}`)
		}
		before := read()
		same(fmt.Sprintf("round %d, an auditor's read again", round), period(""), tokAuditor)
		if got, want := read()-before, uint64(2+boolInt(round == 1)); got != want {
			t.Errorf("round %d: a read again read %d events, want the %d recorded since", round, got, want)
		}
		for _, v := range views[1:] {
			same(fmt.Sprintf("round %d, %s read again", round, v.what), period(v.query), v.token)
		}
	}
	before = read()
	same("a read with nothing recorded since", period(""), tokAuditor)
	if got := read() - before; got != 0 {
		t.Errorf("a read with nothing recorded since read %d events", got)
	}
}

// getOK answers the body of GET base+path with token, and fails the test unless it is 200.
func getOK(t *testing.T, base, path, token string) []byte {
	t.Helper()
	r := rawGetFrom(t, http.DefaultClient, base+path, token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
	}
	return r.Raw
}

// correctionsRead answers kuozheng_corrections_events_read_total of the server at base.
func correctionsRead(t *testing.T, base string) uint64 {
	t.Helper()
	n, ok := scrape(t, base, tokAdmin)["kuozheng_corrections_events_read_total"]
	if !ok {
		t.Fatal("no kuozheng_corrections_events_read_total in /metrics")
	}
	return uint64(n)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A period asked for before it begins counts nothing recorded before it, and an empty answer
// lists its voids as [], not null; the tallies asked for most lately stay when others push the
// rest out.
func TestCorrectionsTalliesKeepToTheirPeriodAndTheLatestAsked(t *testing.T) {
	e := newReadEnv(t, today)
	srv := httptest.NewServer(api.New(api.Config{Store: e.l.Store, Runner: e.runner, Tokens: e.tokens, Metrics: api.NewMetrics(),
		Today: func() domain.Date { return today }}))
	t.Cleanup(srv.Close)
	get := func(path, token string) []byte { return getOK(t, srv.URL, path, token) }
	read := func() uint64 { return correctionsRead(t, srv.URL) }
	now := domain.DateInChina(time.Now())
	a := e.register(t, tokClerkA, orgCode(9500), "360702")

	future := fmt.Sprintf("/v1/corrections?from=%s&to=%s", now+2, now+3)
	if got := string(get(future, tokAuditor)); !strings.Contains(got, `"rows":[]`) || !strings.Contains(got, `"voids":[]`) {
		t.Fatalf("a period to come: %s; want no rows and voids []", got)
	}
	r := e.mustWrite(t, empPath(a, "surveys"), tokClerkA, `{"as_of":"2006-05-01","workforce":3}`)
	e.mustWrite(t, empPath(a, "voids"), tokClerkA, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-05-10","reason":"录错 mistyped"}`, r.JSON["event_ids"].([]any)[0]))
	if got := string(get(future, tokAuditor)); !strings.Contains(got, `"rows":[]`) || !strings.Contains(got, `"voids":[]`) {
		t.Errorf("a period to come, asked again after a survey and its void were recorded: %s; want them left out", got)
	}

	kept := fmt.Sprintf("/v1/corrections?from=%s&to=%s", now-1, now+1)
	get(kept, tokAuditor)
	before := read()
	others := 0
	for i := range 70 { // more than the tallies kept
		get(fmt.Sprintf("%s&actor=nobody-%d", kept, i), tokAuditor)
		others += int(e.events())
		get(kept, tokAuditor)
	}
	if got := read() - before; got != uint64(others) {
		t.Errorf("70 other tallies and the one asked for after each read %d events, want only the others' %d: the one asked for most lately was pushed out", got, others)
	}
	before = read()
	get(kept+"&actor=nobody-0", tokAuditor)
	if got := read() - before; got != e.events() {
		t.Errorf("the tally asked for least lately, asked for again, read %d events; want it read again from the start, %d", got, e.events())
	}
}
