// Over 500 lines for a reason: one Chromium session checks the dashboard's table, charts and live
// updates.

package api_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// chromiumPath is Debian's chromium, which .ci/run installs when it is missing.
const chromiumPath = "/usr/bin/chromium"

// dashCounties is the part of GET /v1/counties the dashboard's table shows.
type dashCounties struct {
	Seq      uint64        `json:"seq"`
	Counties []dashFigures `json:"counties"`
	City     dashFigures   `json:"city"`
}

type dashFigures struct {
	Code       string                                `json:"code"`
	Insurances map[string]map[string]json.RawMessage `json:"insurances"`
	Flags      []struct {
		Count int64 `json:"count"`
	} `json:"flags"`
}

// domRow is a county row of the page's table: its data-field cells' data-value attributes.
type domRow struct {
	County    string            `json:"county"`
	Insurance string            `json:"insurance"`
	Cells     map[string]string `json:"cells"`
}

// tableFields are the insurance figures the table shows, with the attribute names it uses.
var tableFields = []string{"insured", "coverage_rate", "contribution_rate", "period_collection_rate", "cumulative_collection_rate",
	"period_collected_fen", "arrears_current_year_fen", "arrears_prior_years_fen", "recovered_fen"}

const readRowsJS = `Array.from(document.querySelectorAll('#counties-body tr[data-county]')).map(tr => ({
	county: tr.dataset.county, insurance: tr.dataset.insurance,
	cells: Object.fromEntries(Array.from(tr.querySelectorAll('[data-field]')).map(td => [td.dataset.field, td.dataset.value || '']))}))`

// TestDashboardInChromium drives the embedded dashboard in a real headless Chromium against a
// real ledger: the county table matches GET /v1/counties, a payment reaches the page through
// /v1/live without a reload, the page fits a phone's width, and an employer's page is linkable.
func TestDashboardInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the dashboard test needs a real browser at %s: %v; install Debian's chromium (apt-get install chromium), as .ci/run does", chromiumPath, err)
	}
	l := storetest.Start(t, eventstore.Config{})
	loadDemoLedger(t, l.Store, 200)
	e := &env{t: t, l: l, today: demo.Today}
	// The series is of every new sequence: the charts follow the payment below once the page
	// reads them again.
	e.runner = startRunner(t, l.Store)
	e.serve()
	// A freeze of the ledger as it is, so the freezes panel has one and the payment below
	// restates it.
	freeze := e.post(t, "/v1/freezes", "", `{"valid_through":"2006-12-31"}`)
	if freeze.Status != http.StatusCreated {
		t.Fatalf("POST /v1/freezes: %s", freeze)
	}

	// The server that asks for tokens starts before the browser, so that the browser is stopped
	// before it: a page still loading its panels when the test ends would otherwise see its
	// requests cut ("Failed to fetch") and log an error.
	e.loadTokens()
	authSrv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: e.runner, Tokens: e.tokens, Today: func() domain.Date { return demo.Today }}))
	t.Cleanup(func() { authSrv.CloseClientConnections(); authSrv.Close() })

	ctx := startBrowser(t)
	watchConsole(t, ctx)

	// 1280×800: the table drawn, figure for figure as the API answers.
	run(t, ctx, chromedp.EmulateViewport(1280, 800))
	start := time.Now()
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/"))
	poll(t, ctx, 15*time.Second, `document.querySelectorAll('#counties-body tr[data-county]').length === 19`)
	drawn := time.Since(start)
	// The modules loaded, labels.js with them: the insurance menu lists the domain's insurances.
	var insurances []string
	for _, ins := range domain.Insurances {
		insurances = append(insurances, string(ins))
	}
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#insurance option')).map(o => o.value)`); !slices.Equal(got, insurances) {
		t.Errorf("the insurance menu offers %v, want %v", got, insurances)
	}
	inPage := eval[float64](t, ctx, `window.kz.tableDrawnAt`)
	t.Logf("county table drawn %v after navigation started (the page's own clock: %.0f ms)", drawn.Round(time.Millisecond), inPage)
	loadID := eval[string](t, ctx, `window.kz.loadId`)
	pageSeq := eval[string](t, ctx, `document.getElementById('counties').dataset.seq`)
	before := countiesAt(t, e, pageSeq)
	compareRows(t, "at load", eval[[]domRow](t, ctx, readRowsJS), before)
	if got := eval[string](t, ctx, `document.querySelector('#counties-foot tr[data-county="city"] [data-field="period_collected_fen"]').dataset.value`); got != string(before.City.Insurances["pension"]["period_collected_fen"]) {
		t.Errorf("city row period_collected_fen = %s, want %s", got, before.City.Insurances["pension"]["period_collected_fen"])
	}

	// A payment through the API reaches the page through /v1/live, without a reload. The series
	// and the corrections are read again at most once a window, which a test shortens.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kz.throttleMs = 1000`))
	corrections := eval[int](t, ctx, `window.kz.corrections.loads`)
	id, county, period, owed := owingPensionLine(t, e)
	pay := e.mustWrite(t, empPath(id, "payments"), "", fmt.Sprintf(`{"paid_on":"2006-12-20","amount_fen":%d,"receipt_no":"DASH-1","allocations":[{"insurance":"pension","period":%q,"amount_fen":%d}]}`, owed, period, owed))
	after := countiesAt(t, e, strconv.FormatInt(pay.num("seq"), 10))
	changed := changedFields(before, after)
	if len(changed) == 0 {
		t.Fatalf("paying %d fen of %s's pension for %s changed none of the table's figures", owed, id, period)
	}
	t.Logf("paid %d fen for employer %s (county %s, period %s): %s changed", owed, id, county, period, strings.Join(changed, ", "))
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := eval[[]domRow](t, ctx, readRowsJS)
		if diff := rowDiffs(rows, after); len(diff) == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("10 s after the payment (seq %d) the page still shows: %s", pay.num("seq"), strings.Join(diff, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := eval[string](t, ctx, `window.kz.loadId`); got != loadID {
		t.Errorf("the page was loaded again (load id %s, was %s): figures must update in place", got, loadID)
	}
	if got := eval[int](t, ctx, `window.kz.loads`); got != 1 {
		t.Errorf("the page counts %d loads in this tab, want 1", got)
	}
	if got, err := strconv.ParseInt(eval[string](t, ctx, `document.getElementById('seq').textContent`), 10, 64); err != nil || got < pay.num("seq") {
		t.Errorf("the header shows seq %d (%v), want at least %d", got, err, pay.num("seq"))
	}
	// The charts and the corrections, read at the page's load less than a window before, are
	// read again when the window ends: the payment reaches them too.
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`Number(document.getElementById('panel-charts').dataset.seq) >= %d && window.kz.corrections.loads > %d`, pay.num("seq"), corrections))

	// The series charts, the targets and the flags have been drawn by now; the arrears chart
	// leaves the city's line out until asked for (it would squash the counties' lines).
	poll(t, ctx, 15*time.Second, `document.querySelectorAll('#chart-rate svg polyline').length === 20 && document.querySelectorAll('#chart-arrears svg polyline').length === 19`)
	poll(t, ctx, 5*time.Second, `document.querySelectorAll('#targets-city .bar').length === 8 && document.querySelectorAll('#targets-counties tr[data-county]').length === 19`)
	poll(t, ctx, 5*time.Second, `document.querySelectorAll('#flags tbody tr').length > 0`)
	// A group chosen: its four counties, its total and the city; the charts follow. Sorting by a
	// header orders the rows by that figure.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(s => { s.value = '1'; s.dispatchEvent(new Event('change')); })(document.getElementById('group'))`))
	poll(t, ctx, 5*time.Second, `document.querySelectorAll('#counties-body tr[data-county]').length === 4 && document.querySelector('#counties-foot tr[data-county="group:1"]') !== null && document.querySelectorAll('#chart-rate svg polyline').length === 5`)
	// The paid county's group, chosen after the payment: its total is the group's with it.
	type countyGroup struct {
		Code  string `json:"code"`
		Group int    `json:"group"`
	}
	var paid struct {
		Counties []countyGroup `json:"counties"`
	}
	decode(t, e.get(t, "/v1/counties", ""), &paid)
	g := paid.Counties[slices.IndexFunc(paid.Counties, func(c countyGroup) bool { return c.Code == county })].Group
	run(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(s => { s.value = '%d'; s.dispatchEvent(new Event('change')); })(document.getElementById('group'))`, g)))
	poll(t, ctx, 5*time.Second, fmt.Sprintf(`document.querySelector('#counties-foot tr[data-county="group:%d"]') !== null`, g))
	var group struct {
		Group struct {
			Insurances map[string]map[string]json.Number `json:"insurances"`
		} `json:"group"`
	}
	decode(t, e.get(t, fmt.Sprintf("/v1/groups/%d?min_seq=%d", g, pay.num("seq")), ""), &group)
	if got, want := eval[string](t, ctx, fmt.Sprintf(`document.querySelector('#counties-foot tr[data-county="group:%d"] [data-field="period_collected_fen"]').dataset.value`, g)), string(group.Group.Insurances["pension"]["period_collected_fen"]); got != want {
		t.Errorf("group %d's row, chosen after a payment in its county %s, shows period_collected_fen %s; /v1/groups/%d answers %s", g, county, got, g, want)
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(s => { s.value = ''; s.dispatchEvent(new Event('change')); })(document.getElementById('group'))`))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#counties-head th[data-field="period_collected_fen"]').click()`))
	sorted := eval[[]float64](t, ctx, `Array.from(document.querySelectorAll('#counties-body tr[data-county] td[data-field="period_collected_fen"]')).map(td => Number(td.dataset.value))`)
	if len(sorted) != 19 || !slices.IsSortedFunc(sorted, func(a, b float64) int { return cmp.Compare(b, a) }) {
		t.Errorf("after a click on 当期实缴 the rows are not in descending order of period_collected_fen: %v", sorted)
	}

	// The freeze and its restatement: the payment is dated within it.
	poll(t, ctx, 5*time.Second, `document.querySelector('#freezes tr[data-freeze="`+freeze.str("id")+`"]') !== null`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#freezes tr[data-freeze="`+freeze.str("id")+`"]').click()`))
	poll(t, ctx, 10*time.Second, `document.querySelectorAll('#freeze-figures tbody tr[data-county]').length === 19 && document.querySelectorAll('#restatement-changes tbody tr').length > 0 && document.querySelectorAll('#restatement-events tbody tr[data-seq]').length > 0`)
	shot(t, ctx, "kuozheng-dashboard-1280.png")

	// A phone: the table is still there, and nothing is wider than the screen once the charts
	// have been drawn again for the new width (counted, not timed).
	draws := eval[int](t, ctx, `window.kz.chartDraws`)
	run(t, ctx, chromedp.EmulateViewport(390, 844))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.innerWidth === 390 && window.kz.chartDraws > %d`, draws))
	if n := eval[int](t, ctx, `document.querySelectorAll('#counties-body tr[data-county]').length`); n != 19 {
		t.Errorf("at 390 px the table has %d county rows, want 19", n)
	}
	if v := eval[bool](t, ctx, `getComputedStyle(document.getElementById('counties')).display !== 'none' && document.getElementById('counties').getBoundingClientRect().height > 0`); !v {
		t.Errorf("at 390 px the county table is not shown")
	}
	widths := eval[map[string]float64](t, ctx, `({body: document.body.scrollWidth, doc: document.documentElement.scrollWidth, inner: window.innerWidth})`)
	if widths["body"] > widths["inner"]+1 || widths["doc"] > widths["inner"]+1 {
		wide := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('body *')).filter(n => n.getBoundingClientRect().right > window.innerWidth + 1 && !n.closest('.table-wrap')).slice(0, 8).map(n => n.tagName + '#' + n.id + '.' + n.className + ' ' + Math.round(n.getBoundingClientRect().right))`)
		t.Errorf("at 390 px the page is wider than the viewport: body %v, document %v, window %v; widest: %v", widths["body"], widths["doc"], widths["inner"], wide)
	}
	shot(t, ctx, "kuozheng-dashboard-390.png")

	// The employer page, opened from a link: its history as the API answers it.
	run(t, ctx, chromedp.EmulateViewport(1280, 800))
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/employer/"+id))
	history := e.get(t, empPath(id, "history"), "")
	events, _ := history.JSON["events"].([]any)
	if len(events) == 0 {
		t.Fatalf("GET history of %s: no events: %s", id, history)
	}
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.querySelectorAll('#history tbody tr[data-seq]').length === %d`, len(events)))
	if got := eval[string](t, ctx, `document.querySelector('#history tbody tr[data-seq]:last-child').dataset.type`); got != "payment.received" {
		t.Errorf("the last event of the employer's history on the page is %q, want the payment", got)
	}
	if got := eval[string](t, ctx, `document.getElementById('history-chain').dataset.chainOk`); got != "true" {
		t.Errorf("the page shows chain_ok %q, want true", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('#employer-facts [data-field="enforcement_stage"]').dataset.value`); got == "" {
		t.Errorf("the employer page shows no enforcement stage")
	}
	shot(t, ctx, "kuozheng-dashboard-employer.png")

	// With a tokens file: the first 401 asks for a token, which is then sent as a bearer token;
	// a supervisor of group 1 sees the four counties of that group.
	run(t, ctx, chromedp.Navigate(authSrv.URL+"/"))
	poll(t, ctx, 10*time.Second, `document.getElementById('token-dialog').open`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID("token-input"), tokSuper))
	run(t, ctx, chromedp.Click(chromedp.ID("token-ok")))
	poll(t, ctx, 10*time.Second, `document.querySelectorAll('#counties-body tr[data-county]').length === 4 && document.getElementById('conn').dataset.state === 'on'`)
	codes := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#counties-body tr[data-county]')).map(tr => tr.dataset.county)`)
	if want := []string{"360702", "360771", "360721", "360724"}; !slices.Equal(codes, want) {
		t.Errorf("the supervisor of group 1 sees counties %v, want %v", codes, want)
	}
	if got := eval[string](t, ctx, `sessionStorage.getItem('kuozheng-token')`); got != tokSuper {
		t.Errorf("the token kept in sessionStorage is %q, want %q", got, tokSuper)
	}
}

// startBrowser starts headless Chromium with its own profile and temporary folder (it leaves a
// singleton socket there when stopped); it is stopped when the test ends, before the HTTP server
// (whose /v1/live stream it holds open) is closed.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	storetest.HoldNetwork(t, false) // no interface comes or goes while the browser runs
	profile, tmp := t.TempDir(), t.TempDir()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(profile),
		chromedp.Env("TMPDIR="+tmp),
		chromedp.WindowSize(1280, 800),
	)
	ctx, cancelTab := chromedp.NewContext(actx)
	// Each step waits with a deadline of its own (poll); the session as a whole only must end
	// before the test binary's, so that a hung browser fails this test and not the package.
	session := 5 * time.Minute
	if d, ok := t.Deadline(); ok {
		session = min(session, time.Until(d)-30*time.Second)
	}
	ctx, cancelTime := context.WithTimeout(ctx, session)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, a); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// poll waits up to d for js to hold. An exception while the page is still loading (an element
// or a dataset value not there yet) counts as not yet, not as a failure: the last one is
// reported if js never holds.
func poll(t *testing.T, ctx context.Context, d time.Duration, js string) {
	t.Helper()
	guarded := `(() => { try { return !!(` + js + `); } catch (e) { window.kzPollError = String(e); return false; } })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](guarded, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(d))); err != nil {
		last, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.kzPollError || '')`))
		// What the page showed, so that a failure seen once on a busy machine can be read.
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const q = s => document.querySelector(s);
			return 'location ' + location.hash + '; token prompt ' + (q('#token-dialog') && q('#token-dialog').open ? 'open: ' + q('#token-reason').textContent : 'closed') +
				'; error ' + (q('#error') && !q('#error').hidden ? q('#error').textContent : 'none'); })()`))
		t.Fatalf("waited %v for %s: %v (last exception: %s; page: %s)", d, js, err, last, state)
	}
}

// watchConsole gathers the page's JavaScript errors and reports them when the test ends (an API
// answer of 4xx, which the page handles, is logged by the browser and is not one).
func watchConsole(t *testing.T, ctx context.Context) {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// The browser logs every API answer of 4xx or 5xx as a network error; the page
			// handles those (a 401 asks for a token, a 403 hides a panel, a 503 is retried). A
			// file of the page's own that fails to load is an error all the same.
			if m.Type == chromedp.ConsoleError && m.Source == "network" && !strings.Contains(m.URL, "/assets/") {
				continue
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%s %s:%d: %s", m.Type, m.URL, m.Line+1, m.Text))
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range errs {
			t.Errorf("JavaScript error: %s", m)
		}
	})
}

// shot saves a full-page PNG in the test's folder and in /tmp, for people to look at.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	wantReadable(t, ctx, "document.body")
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	for _, path := range []string{filepath.Join(t.TempDir(), name), filepath.Join(os.TempDir(), name)} {
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Errorf("save the screenshot: %v", err)
		}
	}
	t.Logf("screenshot %s (%d bytes)", filepath.Join(os.TempDir(), name), len(png))
}

func countiesAt(t *testing.T, e *env, minSeq string) dashCounties {
	t.Helper()
	r := e.get(t, "/v1/counties?min_seq="+minSeq, "")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/counties: %s", r)
	}
	var c dashCounties
	if err := json.Unmarshal(r.Raw, &c); err != nil {
		t.Fatalf("GET /v1/counties: %v", err)
	}
	if len(c.Counties) != 19 {
		t.Fatalf("GET /v1/counties answered %d counties, want 19", len(c.Counties))
	}
	return c
}

// sameValue compares a data-value attribute with the API's JSON number (or null), as numbers.
func sameValue(dom string, api json.RawMessage) bool {
	if string(api) == "null" || len(api) == 0 {
		return dom == ""
	}
	a, err1 := strconv.ParseFloat(dom, 64)
	b, err2 := strconv.ParseFloat(string(api), 64)
	return err1 == nil && err2 == nil && (a == b || math.Abs(a-b) < 1e-12)
}

func rowDiffs(rows []domRow, want dashCounties) []string {
	var diffs []string
	if len(rows) != len(want.Counties) {
		diffs = append(diffs, fmt.Sprintf("%d county rows, want %d", len(rows), len(want.Counties)))
	}
	byCode := map[string]domRow{}
	for _, r := range rows {
		byCode[r.County] = r
	}
	for _, c := range want.Counties {
		r, ok := byCode[c.Code]
		if !ok {
			diffs = append(diffs, "no row for county "+c.Code)
			continue
		}
		if r.Insurance != "pension" {
			diffs = append(diffs, fmt.Sprintf("county %s shows insurance %q, want pension", c.Code, r.Insurance))
		}
		for _, f := range tableFields {
			if !sameValue(r.Cells[f], c.Insurances["pension"][f]) {
				diffs = append(diffs, fmt.Sprintf("county %s %s = %q, want %s", c.Code, f, r.Cells[f], c.Insurances["pension"][f]))
			}
		}
		var flags int64
		for _, f := range c.Flags {
			flags += f.Count
		}
		if r.Cells["flags"] != strconv.FormatInt(flags, 10) {
			diffs = append(diffs, fmt.Sprintf("county %s flags = %q, want %d", c.Code, r.Cells["flags"], flags))
		}
	}
	return diffs
}

func compareRows(t *testing.T, when string, rows []domRow, want dashCounties) {
	t.Helper()
	for _, d := range rowDiffs(rows, want) {
		t.Errorf("%s: %s", when, d)
	}
}

// changedFields lists the table's pension figures that differ between two answers.
func changedFields(a, b dashCounties) []string {
	var out []string
	for i, c := range a.Counties {
		for _, f := range tableFields {
			if string(c.Insurances["pension"][f]) != string(b.Counties[i].Insurances["pension"][f]) {
				out = append(out, fmt.Sprintf("%s %s %s→%s", c.Code, f, c.Insurances["pension"][f], b.Counties[i].Insurances["pension"][f]))
			}
		}
	}
	return out
}

// owingPensionLine finds an employer owing pension for a period of 2006 up to the one last due
// (2006-11 on 2006-12-31), preferring that period, whose payment changes the table's figures.
func owingPensionLine(t *testing.T, e *env) (id, county, period string, owed int64) {
	t.Helper()
	var list struct {
		Employers []struct {
			ID     string `json:"employer_id"`
			County string `json:"county"`
		} `json:"employers"`
	}
	decode(t, e.get(t, "/v1/employers?page=1", ""), &list)
	for _, emp := range list.Employers {
		var st struct {
			Lines []struct {
				Period         string `json:"period"`
				Insurance      string `json:"insurance"`
				OutstandingFen int64  `json:"outstanding_fen"`
			} `json:"lines"`
		}
		decode(t, e.get(t, empPath(emp.ID, ""), ""), &st)
		for _, ln := range st.Lines {
			if ln.Insurance != "pension" || ln.OutstandingFen <= 0 || ln.Period < "2006-01" || ln.Period > "2006-11" {
				continue
			}
			if ln.Period == "2006-11" {
				return emp.ID, emp.County, ln.Period, ln.OutstandingFen
			}
			if id == "" {
				id, county, period, owed = emp.ID, emp.County, ln.Period, ln.OutstandingFen
			}
		}
	}
	if id == "" {
		t.Fatal("no employer of the demo ledger owes pension for a period of 2006")
	}
	return id, county, period, owed
}

// readableJS lists the text shown in the element it is called with whose colour has less
// contrast with the background behind it than WCAG's 4.5:1 for normal text (charts, whose
// text is drawn in its fill, and disabled controls, which WCAG leaves out, aside).
const readableJS = `(root => {
	const rgba = c => (c.match(/[\d.]+/g) || []).map(Number);
	const lum = c => { const [r, g, b] = rgba(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	// The background drawn behind n: its own and its ancestors' colours laid over one another,
	// down to the first opaque one (or the page's white).
	const behind = n => {
		const layers = [];
		for (; n; n = n.parentElement) {
			const [r, g, b, a = 1] = rgba(getComputedStyle(n).backgroundColor);
			if (a > 0) layers.push([r, g, b, a]);
			if (a >= 1) break;
		}
		let bg = [255, 255, 255];
		for (const [r, g, b, a] of layers.reverse()) bg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
		return 'rgb(' + bg.map(Math.round).join(', ') + ')';
	};
	const out = [];
	for (const n of root.querySelectorAll('*')) {
		if (!n.offsetParent || n.closest('svg, :disabled') || ![...n.childNodes].some(c => c.nodeType === 3 && c.textContent.trim())) continue;
		const fg = getComputedStyle(n).color, bg = behind(n);
		const [x, y] = [lum(fg), lum(bg)].sort((p, q) => q - p);
		const ratio = (x + 0.05) / (y + 0.05);
		if (ratio < 4.5) out.push(n.textContent.trim().slice(0, 30) + ': ' + fg + ' on ' + bg + ' ' + ratio.toFixed(2));
	}
	return out;
})`

// wantReadable fails the test for text in the element sel whose contrast is too low to read.
func wantReadable(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	for _, p := range eval[[]string](t, ctx, readableJS+`(`+sel+`)`) {
		t.Errorf("hard to read: %s", p)
	}
}
