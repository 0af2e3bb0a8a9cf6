package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// growthDash is the ledger of the dashboard's growth test (business date 2006-12-31):
// growthLedger's four payers and the first version of its 2005 baseline alone (in force from
// 2006-01-01), so that 360721's three rates grew or held (synchronised) and 360702's and
// 360782's did not; and two park payers of 360702 registered on 2006-04-03, Q1 inspected on
// 2006-05-12, Q2 not (yet).
func growthDash(t *testing.T) (*env, map[string]string) {
	t.Helper()
	e, _ := growthFirstBaseline(t)
	ids := map[string]string{}
	for i, name := range []string{"Q1", "Q2"} {
		ids[name] = e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
			`{"name":"单位%s","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03","park":"章贡工业园"}`,
			name, orgCode(34000011+i))).str("employer_id")
	}
	e.mustWrite(t, empPath(ids["Q1"], "inspections"), tokAuditor, `{"on":"2006-05-12","team":"市稽核一组","scope":"full","result":"clean"}`)
	return e, ids
}

// growthCounty is a county's (the city's) figures the growth table shows, as the API gives them.
type growthCounty struct {
	Code         string `json:"code"`
	Synchronised *bool  `json:"synchronised"`
	Insurances   map[string]struct {
		Growth *growthAnswer `json:"growth"`
	} `json:"insurances"`
	FieldWork struct {
		ParkPayers          int64           `json:"park_payers"`
		ParkPayersInspected int64           `json:"park_payers_inspected"`
		ParkAuditCoverage   json.RawMessage `json:"park_audit_coverage_rate"`
	} `json:"field_work"`
}

// ppText is a growth in basis points as the page shows it: signed percentage points to one
// decimal, rounded half away from zero; "—" for null.
func ppText(bp *int64) string {
	if bp == nil {
		return "—"
	}
	a := *bp
	sign := "+"
	if a < 0 {
		a, sign = -a, "−"
	} else if a == 0 {
		sign = ""
	}
	tenths := (a + 5) / 10
	return fmt.Sprintf("%s%d.%d", sign, tenths/10, tenths%10)
}

// growthCell is a cell of the growth table: data-value, the text shown, and (for the mark)
// the words a screen reader says.
type growthCell struct {
	Value string `json:"value"`
	Text  string `json:"text"`
	Mark  string `json:"mark"`
	Said  string `json:"said"`
}

const growthCellsJS = `Object.fromEntries(Array.from(document.querySelectorAll('#growth tr[data-county]')).map(tr => [tr.dataset.county,
	Object.fromEntries(Array.from(tr.querySelectorAll('td[data-field]')).map(td => [td.dataset.field, {value: td.dataset.value, text: td.textContent,
		mark: (td.querySelector('.mark') || {}).textContent || '', said: (td.querySelector('.sr-only') || {}).textContent || ''}]))]))`

// growthDiffs compares the growth table with GET /v1/counties: each county's and the city's
// pension growth in points, synchronised mark and park audit coverage.
func growthDiffs(cells map[string]map[string]growthCell, counties []growthCounty, city growthCounty) []string {
	var out []string
	city.Code = "city"
	for _, c := range append(counties, city) {
		row, ok := cells[c.Code]
		if !ok {
			out = append(out, c.Code+": no row")
			continue
		}
		g := c.Insurances["pension"].Growth
		for _, f := range []struct {
			field string
			bp    func(*growthAnswer) *int64
		}{
			{"coverage_growth_bp", func(g *growthAnswer) *int64 { return g.CoverageGrowthBP }},
			{"contribution_growth_bp", func(g *growthAnswer) *int64 { return g.ContributionGrowthBP }},
			{"collection_growth_bp", func(g *growthAnswer) *int64 { return g.CollectionGrowthBP }},
		} {
			var bp *int64
			if g != nil {
				bp = f.bp(g)
			}
			want := ""
			if bp != nil {
				want = strconv.FormatInt(*bp, 10)
			}
			if got := row[f.field]; got.Value != want || got.Text != ppText(bp) {
				out = append(out, fmt.Sprintf("%s %s: %q shown as %q, want %q shown as %q", c.Code, f.field, got.Value, got.Text, want, ppText(bp)))
			}
		}
		s := row["synchronised"]
		switch {
		case c.Synchronised == nil && (s.Value != "" || s.Text != "—"):
			out = append(out, fmt.Sprintf("%s synchronised: %+v, the API gives none: want —", c.Code, s))
		case c.Synchronised != nil && *c.Synchronised && (s.Value != "true" || s.Mark != "✓" || s.Said != "同步增长 synchronised"):
			out = append(out, fmt.Sprintf("%s synchronised: %+v, want ✓ said 同步增长 synchronised", c.Code, s))
		case c.Synchronised != nil && !*c.Synchronised && (s.Value != "false" || s.Mark != "✗" || s.Said != "未同步增长 not synchronised"):
			out = append(out, fmt.Sprintf("%s synchronised: %+v, want ✗ said 未同步增长 not synchronised", c.Code, s))
		}
		w := c.FieldWork
		wantCount := "—"
		if w.ParkPayers > 0 {
			wantCount = fmt.Sprintf("%d/%d", w.ParkPayersInspected, w.ParkPayers)
		}
		if got := row["park_payers_inspected"]; got.Text != wantCount || got.Value != fmt.Sprintf("%d/%d", w.ParkPayersInspected, w.ParkPayers) {
			out = append(out, fmt.Sprintf("%s parks inspected: %+v, want %s", c.Code, got, wantCount))
		}
		if got := row["park_audit_coverage_rate"]; !sameValue(got.Value, w.ParkAuditCoverage) || got.Text != segRateText(w.ParkAuditCoverage) {
			out = append(out, fmt.Sprintf("%s park audit coverage: %+v, want %s shown as %q", c.Code, got, w.ParkAuditCoverage, segRateText(w.ParkAuditCoverage)))
		}
	}
	if len(cells) != len(counties)+1 {
		out = append(out, fmt.Sprintf("the growth table has %d rows, want %d counties and the city", len(cells), len(counties)))
	}
	return out
}

// TestDashboardGrowthAndParkAuditsInChromium drives the growth table under the county table in
// a real headless Chromium, on a small ledger with 2005's baseline posted and a park payer of
// 360702 inspected: every county's and the city's pension growth of coverage, contribution and
// collection shows the API's basis points as signed points (— where null), the 同步增长 mark is
// ✓ or ✗ as the API's synchronised (said in words to a screen reader), park audit coverage
// shows inspected/park payers and the rate (— for a county without park payers); an inspection
// recorded then reaches the table without a reload; a segment's figures, which have no
// baseline, show — for growth.
func TestDashboardGrowthAndParkAuditsInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the dashboard test needs a real browser at %s: %v", chromiumPath, err)
	}
	e, ids := growthDash(t)
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	run(t, ctx, chromedp.EmulateViewport(1440, 900))
	assessorSignIn(t, ctx, e.srv.URL+"/", tokAssessor)

	compare := func(when, query string) map[string]map[string]growthCell {
		t.Helper()
		seq := eval[string](t, ctx, `document.getElementById('counties').dataset.seq`)
		var want struct {
			Counties []growthCounty `json:"counties"`
			City     growthCounty   `json:"city"`
		}
		decode(t, e.get(t, "/v1/counties?min_seq="+seq+query, tokAssessor), &want)
		cells := eval[map[string]map[string]growthCell](t, ctx, growthCellsJS)
		for _, d := range growthDiffs(cells, want.Counties, want.City) {
			t.Errorf("%s: %s", when, d)
		}
		return cells
	}
	cells := compare("at load", "")
	// Hand-computed (api/growth_test.go): 360702 +800, −1364, +377 bp, not synchronised;
	// 360721 +2000, 0, 0, synchronised; 360781 no park payer.
	if r := cells["360702"]; r["coverage_growth_bp"].Text != "+8.0" || r["contribution_growth_bp"].Text != "−13.6" || r["collection_growth_bp"].Text != "+3.8" || r["synchronised"].Mark != "✗" {
		t.Errorf("360702's growth shows %+v, want +8.0 −13.6 +3.8 ✗", r)
	}
	if r := cells["360721"]; r["coverage_growth_bp"].Text != "+20.0" || r["contribution_growth_bp"].Text != "0.0" || r["synchronised"].Mark != "✓" {
		t.Errorf("360721's growth shows %+v, want +20.0 0.0 0.0 ✓", r)
	}
	if r := cells["360702"]; r["park_payers_inspected"].Text != "1/2" || r["park_audit_coverage_rate"].Text != "50.0%" {
		t.Errorf("360702 has 2 park payers, 1 inspected: shows %+v", r)
	}
	if r := cells["360781"]; r["park_payers_inspected"].Text != "—" || r["park_audit_coverage_rate"].Text != "—" {
		t.Errorf("360781 has no park payer: shows %+v, want —", r)
	}
	shot(t, ctx, "kuozheng-growth-1440.png")

	// Q2 inspected now: 2/2 without a reload.
	loadID := eval[string](t, ctx, `window.kz.loadId`)
	seq := e.mustWrite(t, empPath(ids["Q2"], "inspections"), tokAuditor, `{"on":"2006-12-20","team":"市稽核二组","scope":"registration","result":"clean"}`).num("seq")
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`Number(document.getElementById('counties').dataset.seq) >= %d`, seq))
	if r := compare("after Q2's inspection", "")["360702"]; r["park_payers_inspected"].Text != "2/2" || r["park_audit_coverage_rate"].Text != "100.0%" {
		t.Errorf("after Q2's inspection 360702 shows %+v, want 2/2 100.0%%", r)
	}
	if got := eval[string](t, ctx, `window.kz.loadId`); got != loadID {
		t.Errorf("the page was loaded again to show the inspection")
	}

	// On a phone the growth table scrolls within its box; its marks said to a screen reader
	// (absolutely placed) do not widen the page.
	run(t, ctx, chromedp.EmulateViewport(390, 844))
	poll(t, ctx, 5*time.Second, `window.innerWidth === 390 && document.querySelectorAll('#growth-wrap .sr-only').length > 0`)
	if widths := eval[[]float64](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); widths[0] > widths[1]+1 {
		t.Errorf("at 390 px with the growth table the page is %v px wide", widths[0])
	}
	// Its columns past the screen's edge are announced, as the county table's are.
	poll(t, ctx, 5*time.Second, `document.getElementById('growth-wrap').scrollWidth <= document.getElementById('growth-wrap').clientWidth + 1 || (!document.getElementById('growth-more').hidden && document.getElementById('growth-more').dataset.more === 'right')`)
	run(t, ctx, chromedp.EmulateViewport(1440, 900))
	poll(t, ctx, 5*time.Second, `window.innerWidth === 1440`)

	// A segment has no baseline: growth is —, the park's field work is the park's.
	supChoose(t, ctx, "segment", "park")
	poll(t, ctx, 10*time.Second, `document.getElementById('counties').dataset.segment === 'park'`)
	if r := compare("the park segment", "&segment=park")["360721"]; r["coverage_growth_bp"].Text != "—" || r["synchronised"].Text != "—" {
		t.Errorf("with the park segment 360721's growth shows %+v, want —", r)
	}
	if eval[bool](t, ctx, `document.getElementById('growth-note').hidden`) {
		t.Errorf("with the park segment the growth table does not say why its growth is —")
	}
	supAccessible(t, ctx, "1440 px, the growth table")
}
