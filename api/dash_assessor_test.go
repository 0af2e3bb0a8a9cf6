// Over 500 lines for a reason: one Chromium session walks the assessor's freezes and rankings.

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// assessorRankings is GET /v1/rankings.
type assessorRankings struct {
	Freeze       string       `json:"freeze"`
	ValidThrough string       `json:"valid_through"`
	ThroughSeq   uint64       `json:"through_seq"`
	Year         int          `json:"year"`
	Weighting    string       `json:"weighting"`
	Note         string       `json:"note"`
	Rankings     []apiRanking `json:"rankings"`
}

func (e *env) assessorRankings(t testing.TB, token, id string) assessorRankings {
	t.Helper()
	var a assessorRankings
	decode(t, e.get(t, "/v1/rankings?freeze="+id, token), &a)
	return a
}

// download fetches path as token and returns its rows, csv or xlsx as its extension says.
func (e *env) assessorRows(t testing.TB, path, token string) [][]string {
	t.Helper()
	status, body, err := e.rawDo(path, token)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s: %d %v %.300s", path, status, err, body)
	}
	if strings.Contains(path, "format=csv") {
		rows, err := tableCSV(t, body)
		if err != nil {
			t.Fatalf("GET %s: not CSV: %v", path, err)
		}
		return rows
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("GET %s: the xlsx does not open: %v", path, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 1 {
		t.Fatalf("GET %s: sheets %v, want one", path, sheets)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// assessorRankingColumns are the columns of a ranking download: rank, code, name, score, three per
// measure, then the freeze's valid_through, through_seq and id.
const assessorRankingColumns = 4 + 8*3 + 3

// TestRankingsDownload: GET /v1/rankings?format=csv|xlsx holds the rankings the JSON answer
// gives, row for row (rank, code, name, score and each measure's target, actual and completion
// in basis points), with the freeze's (S, D) and id; a scoped reader's file holds its counties
// only, with their city-wide rank; an unknown format is refused naming format.
func TestRankingsDownload(t *testing.T) {
	e := newFreezeEnv(t, 60)
	f := e.freeze(t, tokAssessor, "2006-12-31", 0)
	want := e.assessorRankings(t, tokAssessor, f.ID)
	if len(want.Rankings) != 19 {
		t.Fatalf("rankings of %s: %d counties, want 19 (note %q)", f.ID, len(want.Rankings), want.Note)
	}
	for _, format := range []string{"csv", "xlsx"} {
		path := "/v1/rankings?freeze=" + f.ID + "&format=" + format
		status, _, err := e.rawDo(path, tokAssessor)
		if err != nil || status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, status, err)
		}
		rows := e.assessorRows(t, path, tokAssessor)
		if len(rows) != 1+len(want.Rankings) {
			t.Fatalf("%s: %d rows, want a header and %d counties", format, len(rows), len(want.Rankings))
		}
		if len(rows[0]) != assessorRankingColumns || rows[0][0] != "名次 rank" || !strings.Contains(rows[0][4], "养老参保") || !strings.Contains(rows[0][4], "target") {
			t.Errorf("%s: header %q", format, rows[0])
		}
		for i, rk := range want.Rankings {
			row := rows[i+1]
			if len(row) != assessorRankingColumns {
				t.Errorf("%s row %d: %d columns, want %d: %q", format, i+1, len(row), assessorRankingColumns, row)
				continue
			}
			if row[0] != strconv.Itoa(rk.Rank) || row[1] != rk.Code || row[2] != rk.Name {
				t.Errorf("%s row %d: %q %q %q, want rank %d %s %s", format, i+1, row[0], row[1], row[2], rk.Rank, rk.Code, rk.Name)
			}
			// The score: the mean of the measures' completions in ppm, capped at 1.2 each.
			var sum int64
			for j, m := range rk.Measures {
				if m.Target > 0 {
					sum += min((m.Actual*1_000_000*2+m.Target)/(2*m.Target), 1_200_000)
				}
				got := row[4+3*j : 7+3*j]
				if wantCells := []string{i64s(m.Target), i64s(m.Actual), bpHalfUp(m.Actual, m.Target)}; !slices.Equal(got, wantCells) {
					t.Errorf("%s %s %s: %q, want target, actual, bp %q", format, rk.Code, m.Measure, got, wantCells)
				}
			}
			if got, w := row[3], bpHalfUp(sum, int64(len(rk.Measures))*1_000_000); got != w {
				t.Errorf("%s %s: score %s bp, want %s (JSON %v)", format, rk.Code, got, w, rk.Score)
			}
			if tail := row[assessorRankingColumns-3:]; !slices.Equal(tail, []string{f.ValidThrough, strconv.FormatUint(f.ThroughSeq, 10), f.ID}) {
				t.Errorf("%s %s: tail %q, want the freeze's D, S and id", format, rk.Code, tail)
			}
		}
	}
	res, err := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/rankings?freeze="+f.ID+"&format=xlsx", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Header.Set("Authorization", "Bearer "+tokAssessor)
	ans, err := e.srv.Client().Do(res)
	if err != nil {
		t.Fatal(err)
	}
	ans.Body.Close()
	wantName := fmt.Sprintf(`attachment; filename="kuozheng-ranking-%s-seq%d.xlsx"`, f.ValidThrough, f.ThroughSeq)
	if cd := ans.Header.Get("Content-Disposition"); cd != wantName {
		t.Errorf("Content-Disposition %q, want %q", cd, wantName)
	}

	// The clerk of 360702 gets its county's row, ranked among all 19.
	rows := e.assessorRows(t, "/v1/rankings?freeze="+f.ID+"&format=csv", tokClerkA)
	var rank string
	for _, rk := range want.Rankings {
		if rk.Code == "360702" {
			rank = strconv.Itoa(rk.Rank)
		}
	}
	if len(rows) != 2 || rows[1][1] != "360702" || rows[1][0] != rank {
		t.Errorf("the clerk of 360702 downloads %q, want the header and 360702 at rank %s", rows, rank)
	}
	wantError(t, e.get(t, "/v1/rankings?freeze="+f.ID+"&format=pdf", tokAssessor), http.StatusBadRequest, "invalid", "format")
	wantError(t, e.get(t, "/v1/rankings?format=csv", tokAssessor), http.StatusBadRequest, "invalid", "freeze")
}

// assessorSignIn opens the dashboard in ctx as token and waits for its table, the live stream
// and the freezes list.
func assessorSignIn(t *testing.T, ctx context.Context, url, token string) {
	t.Helper()
	signIn(t, ctx, url, token)
	poll(t, ctx, 15*time.Second, `document.querySelectorAll('#counties-body tr[data-county]').length === 19 && document.getElementById('conn').dataset.state === 'on' && window.kz.freezes.loads > 0`)
}

// assessorPrint is what assessorPrintJS reports.
type assessorPrint struct {
	Problems []string          `json:"problems"`
	Shicheng map[string]string `json:"shicheng"`
}

// assessorPrintJS reports, in print emulation, what a printed page would clip: tables wider than
// their box or the page, scroll boxes, and whether 石城县 (360735, the last county) is shown in
// the ranking and the frozen figures, inside every box around it.
const assessorPrintJS = `(() => {
	const out = { problems: [], shicheng: {} };
	const page = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth > page + 1) out.problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + page);
	const shown = n => n.getClientRects().length > 0;
	for (const tbl of document.querySelectorAll('#view-dashboard table')) {
		if (!shown(tbl)) continue;
		const r = tbl.getBoundingClientRect();
		if (tbl.scrollWidth > tbl.clientWidth + 1) out.problems.push('#' + tbl.id + ' scrollWidth ' + tbl.scrollWidth + ' > clientWidth ' + tbl.clientWidth);
		if (r.right > page + 1) out.problems.push('#' + tbl.id + ' ends at ' + Math.round(r.right) + ' past the page ' + page);
		for (let p = tbl.parentElement; p && p !== document.body; p = p.parentElement) {
			const cs = getComputedStyle(p);
			if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible' || cs.maxHeight !== 'none') out.problems.push('#' + tbl.id + ' inside a box that clips: ' + p.tagName + '#' + p.id + '.' + p.className + ' overflow ' + cs.overflowX + '/' + cs.overflowY + ' max-height ' + cs.maxHeight);
			if (p.scrollWidth > p.clientWidth + 1) out.problems.push('#' + tbl.id + ' in ' + p.tagName + '#' + p.id + '.' + p.className + ' that scrolls: ' + p.scrollWidth + ' > ' + p.clientWidth);
		}
		const last = tbl.querySelector('thead tr') && tbl.querySelector('thead tr').lastElementChild;
		if (last && shown(last) && last.getBoundingClientRect().right > page + 1) out.problems.push('#' + tbl.id + ' last column ends past the page');
	}
	for (const id of ['counties', 'ranking', 'freeze-figures']) {
		const tr = document.querySelector('#' + id + ' tr[data-county="360735"]');
		if (!tr) { out.shicheng[id] = 'missing'; continue; }
		if (!tr.textContent.includes('石城县')) { out.shicheng[id] = 'not 石城县: ' + tr.textContent.slice(0, 20); continue; }
		const r = tr.getBoundingClientRect();
		let ok = r.height > 0 && shown(tr) && getComputedStyle(tr).visibility === 'visible';
		for (let p = tr.parentElement; ok && p !== document.documentElement; p = p.parentElement) {
			const cs = getComputedStyle(p);
			if (cs.display === 'none') ok = false;
			if (cs.overflowY !== 'visible') { const b = p.getBoundingClientRect(); if (r.top < b.top - 1 || r.bottom > b.bottom + 1) ok = false; }
		}
		out.shicheng[id] = ok ? 'shown' : 'clipped';
	}
	return out;
})()`

// assessorPDFPage finds a PDF's page objects (not the /Pages tree): Chromium writes them uncompressed.
var (
	assessorPDFPage     = regexp.MustCompile(`/Type\s*/Page\b[^s]`)
	assessorPDFMediaBox = regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]`)
)

// TestAssessorDashboardInChromium: the assessment team's work from the page, in a real headless
// Chromium on a small demo ledger. An assessor sees the freeze form (default date: the year
// end), a refused date shows its error beside the field, and a freeze asked for shows its
// progress (button disabled, time running) until the answer, then is listed, in this tab and, by
// /v1/live, in a second tab that is not reloaded. Opening it shows the ranking the API answers
// (rows = the 19 counties, ranks 1..19, with the weighting), the figures of every insurance with
// the city total and each county's rank, and download links whose files hold the same ranks.
// Printed (Chromium's own PDF, A4 landscape), nothing is clipped: no table wider than the page
// or inside a scroll box, 石城县 in the ranking and the figures, the freeze cited in the footer.
func TestAssessorDashboardInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the assessor's dashboard test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newFreezeEnv(t, 60)
	ctx := startBrowser(t)
	watchConsole(t, ctx)

	// A second tab, open before the freeze is made, which must list it without a reload.
	other, cancelOther := chromedp.NewContext(ctx)
	defer cancelOther()
	watchConsole(t, other)
	assessorSignIn(t, other, e.srv.URL+"/", tokAssessor)
	otherLoad := eval[string](t, other, `window.kz.loadId`)

	run(t, ctx, chromedp.EmulateViewport(1440, 900))
	assessorSignIn(t, ctx, e.srv.URL+"/", tokAssessor)
	poll(t, ctx, 10*time.Second, `!document.getElementById('freeze-form').hidden`)
	if got := eval[string](t, ctx, `document.getElementById('freeze-valid-through').value`); got != "2006-12-31" {
		t.Errorf("the freeze form's default date is %q, want the year end 2006-12-31", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#freezes tbody tr[data-freeze]').length`); n != 0 {
		t.Errorf("before any freeze the list shows %d", n)
	}

	// A date after today: refused, the error beside the field, nothing stored.
	setDate := func(d string) {
		run(t, ctx, chromedp.Evaluate[chromedp.Void](`(i => { i.value = '`+d+`'; i.dispatchEvent(new Event('input', {bubbles: true})); })(document.getElementById('freeze-valid-through'))`))
	}
	setDate("2007-01-31")
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('freeze-make').click()`))
	poll(t, ctx, 10*time.Second, `document.getElementById('freeze-error').dataset.field === 'valid_through' && !window.kz.freezes.running`)
	t.Logf("a date after today: %s", eval[string](t, ctx, `document.getElementById('freeze-error').textContent`))
	if got := eval[string](t, ctx, `document.getElementById('freeze-valid-through').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("the refused date's field is aria-invalid=%q, want true", got)
	}
	if got := eval[bool](t, ctx, `document.getElementById('freeze-error').closest('#panel-freezes') !== null && document.activeElement.id === 'freeze-valid-through'`); !got {
		t.Errorf("the error is not beside the field, or the field not focused")
	}
	var list struct {
		Freezes []manifest `json:"freezes"`
	}
	decode(t, e.get(t, "/v1/freezes", tokAssessor), &list)
	if len(list.Freezes) != 0 {
		t.Fatalf("a refused freeze stored %d freezes", len(list.Freezes))
	}

	// The freeze of the year end: the request is held in the page until the test has seen the
	// progress (the button disabled, the time counting), then let go.
	setDate("2006-12-31")
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const real = window.fetch;
		window.kzHold = new Promise(r => { window.kzRelease = r; });
		window.fetch = async (url, opts) => {
			if (String(url).endsWith('/v1/freezes') && opts && opts.method === 'POST') await window.kzHold;
			return real(url, opts);
		};
	})()`))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('freeze-make').click()`))
	poll(t, ctx, 5*time.Second, `document.getElementById('freeze-make').disabled && document.getElementById('freeze-form').getAttribute('aria-busy') === 'true' && /冻结中 freezing… \d+\.\d s/.test(document.getElementById('freeze-progress').textContent)`)
	if got := eval[string](t, ctx, `document.getElementById('freeze-error').textContent`); got != "" {
		t.Errorf("the earlier error is still shown while the freeze runs: %q", got)
	}
	first := eval[string](t, ctx, `document.getElementById('freeze-progress').textContent`)
	poll(t, ctx, 5*time.Second, `document.getElementById('freeze-progress').textContent !== `+strconv.Quote(first))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kzRelease()`))
	poll(t, ctx, 30*time.Second, `window.kz.freezes.made.length === 1 && !document.getElementById('freeze-make').disabled`)
	id := eval[string](t, ctx, `window.kz.freezes.made[0].id`)
	f := e.getFreeze(t, tokAssessor, id)
	if f.ValidThrough != "2006-12-31" {
		t.Errorf("the page froze valid through %s, want 2006-12-31", f.ValidThrough)
	}
	rowJS := `document.querySelector('#freezes tbody tr[data-freeze="` + id + `"]')`
	poll(t, ctx, 10*time.Second, rowJS+` !== null`)
	if got := eval[string](t, ctx, rowJS+`.dataset.seq`); got != strconv.FormatUint(f.ThroughSeq, 10) {
		t.Errorf("the listed freeze shows through seq %s, want %d", got, f.ThroughSeq)
	}
	if got := eval[string](t, ctx, `document.getElementById('freeze-progress').textContent`); !strings.Contains(got, "已冻结 frozen") || !strings.Contains(got, "2006-12-31") {
		t.Errorf("after the freeze the progress says %q", got)
	}
	// A second click once it is answered, the same date (a double click): the same freeze.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('freeze-make').click()`))
	poll(t, ctx, 30*time.Second, `window.kz.freezes.made.length === 2 && !document.getElementById('freeze-make').disabled`)
	if !eval[bool](t, ctx, `window.kz.freezes.made[1].duplicate === true && window.kz.freezes.made[1].id === window.kz.freezes.made[0].id`) {
		t.Errorf("a second click made another freeze: %s", eval[string](t, ctx, `JSON.stringify(window.kz.freezes.made)`))
	}
	decode(t, e.get(t, "/v1/freezes", tokAssessor), &list)
	if len(list.Freezes) != 1 {
		t.Errorf("a double click stored %d freezes, want 1", len(list.Freezes))
	}

	// The other tab lists it through /v1/live, without a reload.
	poll(t, other, 10*time.Second, `document.querySelector('#freezes tbody tr[data-freeze="`+id+`"]') !== null`)
	if got := eval[string](t, other, `window.kz.loadId`); got != otherLoad {
		t.Errorf("the second tab was reloaded to list the freeze")
	}

	// Its ranking, as the API answers it.
	want := e.assessorRankings(t, tokAssessor, id)
	if len(want.Rankings) != 19 {
		t.Fatalf("GET /v1/rankings: %d counties (note %q), want 19", len(want.Rankings), want.Note)
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](rowJS+`.querySelector('button[data-open]').click()`))
	poll(t, ctx, 10*time.Second, `document.querySelectorAll('#ranking tbody tr[data-county]').length === 19 && document.querySelectorAll('#freeze-figures tbody tr[data-county]').length === 19`)
	type rankRow struct {
		Code  string  `json:"code"`
		Rank  string  `json:"rank"`
		Cell  string  `json:"cell"`
		Score float64 `json:"score"`
	}
	shown := eval[[]rankRow](t, ctx, `Array.from(document.querySelectorAll('#ranking tbody tr[data-county]')).map(tr => ({code: tr.dataset.county, rank: tr.dataset.rank, cell: tr.cells[0].textContent, score: Number(tr.querySelector('[data-field=score]').dataset.value)}))`)
	for i, rk := range want.Rankings {
		if i >= len(shown) {
			break
		}
		s := shown[i]
		if s.Code != rk.Code || s.Rank != strconv.Itoa(i+1) || s.Cell != strconv.Itoa(rk.Rank) || rk.Rank != i+1 || s.Score != rk.Score {
			t.Errorf("ranking row %d: %+v, want %s at rank %d (score %v)", i+1, s, rk.Code, rk.Rank, rk.Score)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#ranking tbody tr[data-county="360735"] td[data-measure]').length`); n != 8 {
		t.Errorf("石城县's ranking row shows %d measures, want 8", n)
	}
	if got := eval[string](t, ctx, `document.querySelector('#freeze-detail .weighting').textContent`); !strings.Contains(got, want.Weighting) || !strings.Contains(got, "权重") {
		t.Errorf("the weighting shown is %q, want the API's %q with its Chinese", got, want.Weighting)
	}

	// The figures: every insurance of every county, its rank, and the city's block.
	type figRow struct {
		Rows  int               `json:"rows"`
		Ins   []string          `json:"ins"`
		Rank  string            `json:"rank"`
		Cells map[string]string `json:"cells"`
	}
	figs := eval[map[string]figRow](t, ctx, `Object.fromEntries(Array.from(document.querySelectorAll('#freeze-figures tbody')).map(tb => {
		const first = tb.rows[0];
		const key = first.dataset.county || first.dataset.scope;
		const rank = first.querySelector('[data-field=rank]');
		return [key, {rows: tb.rows.length, ins: Array.from(tb.rows).map(r => r.dataset.insurance), rank: rank ? rank.dataset.value : '',
			cells: Object.fromEntries(Array.from(tb.rows).map(r => [r.dataset.insurance, r.querySelector('[data-field=insured]').dataset.value]))}];
	}))`)
	var frozen struct {
		Counties []struct {
			Code       string `json:"code"`
			Insurances map[string]struct {
				Insured int64 `json:"insured"`
			} `json:"insurances"`
		} `json:"counties"`
		City struct {
			Insurances map[string]struct {
				Insured int64 `json:"insured"`
			} `json:"insurances"`
		} `json:"city"`
	}
	if err := json.Unmarshal(f.Figures, &frozen); err != nil {
		t.Fatal(err)
	}
	insurances := []string{"pension", "unemployment", "medical", "work_injury", "maternity"}
	rankOf := map[string]string{}
	for _, rk := range want.Rankings {
		rankOf[rk.Code] = strconv.Itoa(rk.Rank)
	}
	if len(figs) != 20 {
		t.Errorf("the frozen figures show %d blocks, want 19 counties and the city", len(figs))
	}
	for _, c := range frozen.Counties {
		got := figs[c.Code]
		if got.Rows != 5 || !slices.Equal(got.Ins, insurances) || got.Rank != rankOf[c.Code] {
			t.Errorf("frozen figures of %s: %d rows %v rank %q, want the 5 insurances at rank %s", c.Code, got.Rows, got.Ins, got.Rank, rankOf[c.Code])
		}
		for _, ins := range insurances {
			if got.Cells[ins] != i64s(c.Insurances[ins].Insured) {
				t.Errorf("frozen figures of %s %s: insured %q, want %d", c.Code, ins, got.Cells[ins], c.Insurances[ins].Insured)
			}
		}
	}
	for _, ins := range insurances {
		if got := figs["city"].Cells[ins]; got != i64s(frozen.City.Insurances[ins].Insured) {
			t.Errorf("the city's %s insured shows %q, want %d", ins, got, frozen.City.Insurances[ins].Insured)
		}
	}

	// The downloads: the links' files hold the ranks the page shows; a click saves one.
	for _, sel := range []string{`a.download[href*="/v1/rankings"][href$="format=xlsx"]`, `a.download[href*="/v1/rankings"][href$="format=csv"]`} {
		href := eval[string](t, ctx, `document.querySelector('`+sel+`').getAttribute('href')`)
		rows := e.assessorRows(t, href, tokAssessor)
		if len(rows) != 20 {
			t.Fatalf("%s: %d rows, want a header and 19 counties", href, len(rows))
		}
		for i, rk := range want.Rankings {
			if rows[i+1][0] != strconv.Itoa(rk.Rank) || rows[i+1][1] != rk.Code {
				t.Errorf("%s row %d: rank %s county %s, want %d %s", href, i+1, rows[i+1][0], rows[i+1][1], rk.Rank, rk.Code)
			}
		}
	}
	figHref := eval[string](t, ctx, `document.querySelector('a.download[href*="/v1/reports/monthly/2006-12"][href$="format=xlsx"]').getAttribute('href')`)
	if rows := e.assessorRows(t, figHref, tokAssessor); len(rows) != 1+20*5 {
		t.Errorf("%s: %d rows, want a header, 19 × 5 and the city's 5", figHref, len(rows))
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('a.download[href$="format=xlsx"]').click()`))
	poll(t, ctx, 10*time.Second, `window.kz.freezes.downloads.length === 1 && window.kz.freezes.downloads[0].bytes > 0`)
	// Beside them the monthly report as PDF, of the same freeze: a click saves the bytes GET answers.
	pdfLink := `document.querySelector('a.download[href*="/v1/reports/monthly/2006-12"][href$="format=pdf"]')`
	pdfHref := strings.Replace(figHref, "format=xlsx", "format=pdf", 1)
	if got := eval[string](t, ctx, pdfLink+`.getAttribute('href')`); got != pdfHref {
		t.Errorf("the monthly report's PDF link is %q, want %q", got, pdfHref)
	}
	if got, want := eval[string](t, ctx, pdfLink+`.getAttribute('download')`), fmt.Sprintf("kuozheng-%s-seq%d-figures.pdf", f.ValidThrough, f.ThroughSeq); got != want {
		t.Errorf("the monthly report's PDF saves as %q, want %q", got, want)
	}
	offeredBefore := eval[int](t, ctx, `window.kz.documentsOffered || 0`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](pdfLink+`.click()`))
	poll(t, ctx, 10*time.Second, `window.kz.freezes.downloads.length === 2 && window.kz.freezes.downloads[1].bytes > 0`)
	d, b := offered(t, ctx, offeredBefore)
	wantSameDocument(t, e, "the monthly report's PDF", d, b, pdfHref, tokAssessor)
	if text := pdfText(t, b); !strings.Contains(text, "数据来源：冻结 "+id) {
		t.Errorf("the monthly report's PDF does not name the freeze %s:\n%s", id, text)
	}

	// Screenshots for review, the ranking open.
	for _, w := range []int64{1440, 1024, 390} {
		run(t, ctx, chromedp.EmulateViewport(w, 900))
		poll(t, ctx, 5*time.Second, fmt.Sprintf(`window.innerWidth === %d`, w))
		if w == 390 {
			widths := eval[[]float64](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`)
			if widths[0] > widths[1]+1 {
				t.Errorf("at 390 px the page is %v px wide", widths[0])
			}
		}
		if w >= 1024 {
			// Wide enough for the whole ranking and figures: neither scrolls sideways.
			for _, id := range []string{"ranking", "freeze-figures"} {
				if over := eval[float64](t, ctx, `(w => w.scrollWidth - w.clientWidth)(document.getElementById('`+id+`').parentElement)`); over > 1 {
					t.Errorf("at %d px #%s is %v px wider than its box", w, id, over)
				}
			}
		}
		run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('panel-freezes').scrollIntoView()`))
		shot(t, ctx, fmt.Sprintf("kuozheng-assessor-%d.png", w))
	}

	// Print: laid out at the width of A4 landscape within its margins (297 − 2 × 10 mm), nothing
	// clips; the footer cites the freeze.
	widthMM := 297.0 - 2*10
	printable := int64(widthMM / 25.4 * 96) // 1046 CSS px
	run(t, ctx, chromedp.EmulateViewport(printable, 700))
	run(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	poll(t, ctx, 5*time.Second, `getComputedStyle(document.getElementById('panel-flags')).display === 'none' && getComputedStyle(document.getElementById('freeze-form')).display === 'none'`)
	// A county's flag count is a button on screen: printed as its number, not left blank.
	links := eval[[2]int](t, ctx, `(b => [b.length, b.filter(x => getComputedStyle(x).display === 'none').length])(Array.from(document.querySelectorAll('#counties tbody .flags-link')))`)
	if links[0] == 0 || links[1] != 0 {
		t.Errorf("printed: %d of %d counties' flag counts are hidden", links[1], links[0])
	}
	checks := eval[assessorPrint](t, ctx, assessorPrintJS)
	for _, p := range checks.Problems {
		t.Errorf("printed: %s", p)
	}
	for _, id := range []string{"counties", "ranking", "freeze-figures"} {
		if checks.Shicheng[id] != "shown" {
			t.Errorf("printed: 石城县 (360735) in #%s is %q", id, checks.Shicheng[id])
		}
	}
	shot(t, ctx, "kuozheng-assessor-print.png")
	footer := eval[string](t, ctx, `document.getElementById('freeze-print-page').textContent`)
	for _, part := range []string{fmt.Sprintf("(S, D) = (%d, %s)", f.ThroughSeq, f.ValidThrough), f.Digest, "@bottom-left"} {
		if !strings.Contains(footer, part) {
			t.Errorf("the printed footer's rule %q does not hold %q", footer, part)
		}
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperSize{Width: 11.69, Height: 8.27}), chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("print to PDF gave no PDF: %.20q", pdf)
	}
	pages := len(assessorPDFPage.FindAll(pdf, -1))
	boxes := assessorPDFMediaBox.FindAllSubmatch(pdf, -1)
	if len(boxes) != pages || pages < 3 || pages > 10 {
		t.Errorf("the PDF has %d pages and %d media boxes, want 3 to 10 (the county table, the ranking, the figures)", pages, len(boxes))
	}
	for _, b := range boxes {
		w, _ := strconv.ParseFloat(string(b[1]), 64)
		h, _ := strconv.ParseFloat(string(b[2]), 64)
		if w < 840 || w > 843 || h < 594 || h > 597 {
			t.Errorf("a PDF page is %v × %v pt, want A4 landscape 842 × 595", w, h)
		}
	}
	for _, path := range []string{filepath.Join(t.TempDir(), "kuozheng-assessor-ranking.pdf"), filepath.Join(os.TempDir(), "kuozheng-assessor-ranking.pdf")} {
		if err := os.WriteFile(path, pdf, 0o644); err != nil {
			t.Errorf("save the PDF: %v", err)
		}
	}
	t.Logf("ranking printed: %d A4 landscape pages, %d bytes, %s", pages, len(pdf), filepath.Join(os.TempDir(), "kuozheng-assessor-ranking.pdf"))
}
