package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// segDash is the ledger of the dashboard's segment test: newSegmentLedger's park and non-park
// payers (business date 2007-03-31), and
//
//	P2 pays 60000 of its 2006-11 pension on 2007-02-10: prior years' arrears recovered in 2007,
//	   so that 360702's 清欠率 is 60000 / (60000 + 140000), for its park payers and for all;
//	C1 a coal mine of 360702 (section B), registered 2006-04-03, never enrolled in work injury;
//	U1 a payer of 360702 the survey found on 2007-01-05, not registered since;
//
// and a freeze valid through 2006-12-31 of all of it.
type segDash struct {
	*segmentLedger
	freeze manifest
}

func newSegDash(t *testing.T) *segDash {
	t.Helper()
	l := newSegmentLedger(t)
	l.mustWrite(t, empPath(l.ids["P2"], "payments"), tokAdmin, allocated("P2-R1", 60000, "2007-02-10", "2006-11"))
	l.ids["C1"] = l.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
		`{"name":"单位C1 煤矿","county":"360702","org_code":%q,"kind":"enterprise","risk_class":2,"industry":"B","sector":"coal","registered_on":"2006-04-03"}`,
		orgCode(32000008))).str("employer_id")
	l.ids["U1"] = l.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
		`{"name":"单位U1","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"found_on":"2007-01-05"}`,
		orgCode(32000009))).str("employer_id")
	return &segDash{segmentLedger: l, freeze: l.freeze(t, tokAssessor, "2006-12-31", 0)}
}

// segCounties is GET /v1/counties as the segment test compares it with the page.
type segCounties struct {
	dashCounties
	Segment string `json:"segment"`
}

// rate is a county's pension 清欠率 as the answer gives it.
func (a segCounties) rate(code string) string {
	for _, c := range a.Counties {
		if c.Code == code {
			return string(c.Insurances["pension"]["recovery_rate"])
		}
	}
	return "no county " + code
}

// segRateText is a rate as the page shows it: a percentage to one decimal, "—" for null.
func segRateText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "—"
	}
	v, _ := strconv.ParseFloat(string(raw), 64)
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

// segRecoveryJS reads the county table's 清欠率 cells, the counties' and the totals': county (or
// city, group:N) → [data-value, text].
const segRecoveryJS = `Object.fromEntries(Array.from(document.querySelectorAll('#counties tr[data-county]')).map(tr => {
	const td = tr.querySelector('[data-field="recovery_rate"]');
	return [tr.dataset.county, [td.dataset.value, td.textContent]];
}))`

// segTable compares the county table, as the page shows it now, with GET /v1/counties for the
// segment ("": every payer) at the page's sequence: every pension figure and flag count of every
// county (rowDiffs), and the 清欠率 of each county and of the city, its value and its text.
func (d *segDash) segTable(t *testing.T, ctx context.Context, segment string) segCounties {
	t.Helper()
	seq := eval[string](t, ctx, `document.getElementById('counties').dataset.seq`)
	var want segCounties
	decode(t, d.get(t, "/v1/counties?segment="+segment+"&min_seq="+seq, tokAssessor), &want)
	if want.Segment != segment || len(want.Counties) != 19 {
		t.Fatalf("GET /v1/counties?segment=%s answers segment %q, %d counties", segment, want.Segment, len(want.Counties))
	}
	if got := eval[string](t, ctx, `document.getElementById('counties').dataset.segment`); got != segment {
		t.Errorf("the table shows segment %q, want %q", got, segment)
	}
	for _, diff := range rowDiffs(eval[[]domRow](t, ctx, readRowsJS), want.dashCounties) {
		t.Errorf("segment %q: %s", segment, diff)
	}
	cells := eval[map[string][2]string](t, ctx, segRecoveryJS)
	check := func(key string, f dashFigures) {
		raw := f.Insurances["pension"]["recovery_rate"]
		if c, ok := cells[key]; !ok || !sameValue(c[0], raw) || c[1] != segRateText(raw) {
			t.Errorf("segment %q: %s's 清欠率 cell holds %q, want the API's %s shown as %q", segment, key, cells[key], raw, segRateText(raw))
		}
	}
	for _, c := range want.Counties {
		check(c.Code, c)
	}
	check("city", want.City)
	return want
}

// TestDashboardSegmentsInChromium drives the segments' figures through the page in a real
// headless Chromium, on a small ledger of park and non-park payers: the segment menu lists every
// payer and every segment, named in Chinese and English in the domain's order; choosing 工业园区
// shows, county by county and for the city and a group, exactly the figures GET /v1/counties?
// segment=park answers, and the flags panel and its export follow; the 清欠率 column holds the
// API's recovery_rate (30.0% where prior years' arrears were recovered, — where there were none);
// the segment is in the location and a reload shows it again; a payment recorded then reaches the
// park's figures without a reload; a freeze's view shows the park's figures as the freeze stored
// them, and every payer's when chosen; the coal segment's flags name the coal mine without work
// injury, worded in both languages. A clerk's worklist shows the coal mine without work injury
// and the payer found and not registered, as GET /v1/worklists lists them with their kinds named,
// and drops the latter once it registers, without a reload.
func TestDashboardSegmentsInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the dashboard test needs a real browser at %s: %v", chromiumPath, err)
	}
	d := newSegDash(t)
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	run(t, ctx, chromedp.EmulateViewport(1440, 900))
	assessorSignIn(t, ctx, d.srv.URL+"/", tokAssessor)

	// The menu: every payer, then the domain's segments, each named in Chinese and English.
	options := eval[[][2]string](t, ctx, `Array.from(document.querySelectorAll('#segment option')).map(o => [o.value, o.textContent])`)
	values := []string{""}
	for _, sg := range domain.Segments {
		values = append(values, string(sg))
	}
	bilingual := regexp.MustCompile(`^\p{Han}+ [a-z][a-z ,-]+$`)
	for i, o := range options {
		if i >= len(values) || o[0] != values[i] || (i > 0 && !bilingual.MatchString(o[1])) {
			t.Errorf("segment menu option %d is %q, want %q named in Chinese and English", i, o, values[min(i, len(values)-1)])
		}
	}
	if len(options) != len(values) {
		t.Errorf("the segment menu offers %d options, want every payer and %d segments", len(options), len(domain.Segments))
	}

	// Every payer: the figures and 清欠率 of GET /v1/counties.
	all := d.segTable(t, ctx, "")
	// 工业园区: the park's figures, which are not every payer's.
	supChoose(t, ctx, "segment", "park")
	poll(t, ctx, 10*time.Second, `document.getElementById('counties').dataset.segment === 'park'`)
	park := d.segTable(t, ctx, "park")
	cells := eval[map[string][2]string](t, ctx, segRecoveryJS)
	if c := cells["360702"]; c[1] != "30.0%" {
		t.Errorf("360702's park payers recovered 60000 of 200000 fen of prior years' arrears: 清欠率 shows %q, want 30.0%%", c)
	}
	if c := cells["360781"]; c[1] != "—" {
		t.Errorf("360781 has no park payer and no prior years' arrears: 清欠率 shows %q, want —", c)
	}
	if string(park.City.Insurances["pension"]["insured"]) == string(all.City.Insurances["pension"]["insured"]) {
		t.Fatalf("the park's city insured equals every payer's (%s): the ledger cannot tell them apart", park.City.Insurances["pension"]["insured"])
	}
	if got := eval[string](t, ctx, `document.getElementById('counties-segment').textContent`); !strings.HasPrefix(got, "工业园区") {
		t.Errorf("the table's heading names the segment %q, want 工业园区…", got)
	}
	// A group's total is the park's too.
	supChoose(t, ctx, "group", "1")
	poll(t, ctx, 10*time.Second, `document.querySelector('#counties-foot tr[data-county="group:1"]') !== null`)
	var group struct {
		Segment string      `json:"segment"`
		Group   dashFigures `json:"group"`
	}
	decode(t, d.get(t, "/v1/groups/1?segment=park", tokAssessor), &group)
	shown := eval[map[string]string](t, ctx, `Object.fromEntries(Array.from(document.querySelectorAll('#counties-foot tr[data-county="group:1"] [data-field]')).map(td => [td.dataset.field, td.dataset.value]))`)
	for _, f := range append(slices.Clone(tableFields), "recovery_rate") {
		if group.Segment != "park" || !sameValue(shown[f], group.Group.Insurances["pension"][f]) {
			t.Errorf("group 1's park total shows %s = %q, GET /v1/groups/1?segment=park %s (segment %q)", f, shown[f], group.Group.Insurances["pension"][f], group.Segment)
		}
	}
	supChoose(t, ctx, "group", "")

	// The flags panel counts the park's flags, and its export asks for them.
	poll(t, ctx, 10*time.Second, `document.getElementById('flags').dataset.query.includes('segment=park')`)
	flags := supGetFlags(t, d.env, tokAssessor, "segment=park")
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('flags').dataset.query.includes('segment=park') && Number(document.getElementById('flags-total').dataset.flags) === %d`, flags.FlagsTotal))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('flags-csv').click()`))
	poll(t, ctx, 10*time.Second, `window.kz.lastFlagExport && window.kz.lastFlagExport.query.includes('segment=park') && window.kz.lastFlagExport.bytes > 0`)

	// The segment is in the location: a reload shows the park again.
	if hash := eval[string](t, ctx, `location.hash`); !strings.Contains(hash, "seg=park") {
		t.Errorf("the location %q does not hold seg=park", hash)
	}
	loadID := eval[string](t, ctx, `window.kz.loadId`)
	run(t, ctx, chromedp.Reload())
	poll(t, ctx, 15*time.Second, `window.kz && window.kz.loadId !== '`+loadID+`' && document.getElementById('segment').value === 'park' && document.getElementById('counties').dataset.segment === 'park' && document.querySelectorAll('#counties-body tr[data-county]').length === 19 && document.getElementById('conn').dataset.state === 'on'`)
	d.segTable(t, ctx, "park")

	// A payment recorded now (P3 pays 5000 more of its 2005 arrears) reaches the park's figures
	// in place: the table follows the views and keeps the segment.
	loadID = eval[string](t, ctx, `window.kz.loadId`)
	pay := d.mustWrite(t, empPath(d.ids["P3"], "payments"), tokAdmin, allocated("P3-R2", 5000, "2007-03-20", "2005-12")).num("seq")
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`Number(document.getElementById('counties').dataset.seq) >= %d`, pay))
	after := d.segTable(t, ctx, "park")
	if was, now := park.rate("360702"), after.rate("360702"); was == now {
		t.Errorf("P3's payment left 360702's park 清欠率 at %s", was)
	}
	if got := eval[string](t, ctx, `window.kz.loadId`); got != loadID {
		t.Errorf("the page was loaded again to show the payment")
	}

	// The freeze's view: the park's figures as the freeze stored them (the menu starts at the
	// table's segment); every payer's again when chosen.
	type figures struct {
		Segment  string        `json:"segment"`
		Counties []dashFigures `json:"counties"`
		City     dashFigures   `json:"city"`
	}
	var stored struct {
		figures
		Segments []figures `json:"segments"`
	}
	if err := json.Unmarshal(d.getFreeze(t, tokAssessor, d.freeze.ID).Figures, &stored); err != nil || len(stored.Segments) != len(domain.Segments) {
		t.Fatalf("the freeze's figures hold %d segments (%v), want %d", len(stored.Segments), err, len(domain.Segments))
	}
	poll(t, ctx, 10*time.Second, `document.querySelector('#freezes tr[data-freeze="`+d.freeze.ID+`"]') !== null`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#freezes tr[data-freeze="`+d.freeze.ID+`"]').click()`))
	poll(t, ctx, 10*time.Second, `document.querySelectorAll('#freeze-figures tbody tr[data-county]').length === 19 && document.getElementById('freeze-figures').dataset.segment === 'park' && document.getElementById('freeze-segment').value === 'park'`)
	frozenCells := func() map[string]map[string]map[string]string {
		return eval[map[string]map[string]map[string]string](t, ctx, `Object.fromEntries(Array.from(document.querySelectorAll('#freeze-figures tbody')).map(tb => [tb.rows[0].dataset.county || tb.rows[0].dataset.scope,
			Object.fromEntries(Array.from(tb.rows).map(r => [r.dataset.insurance, Object.fromEntries(Array.from(r.querySelectorAll('td[data-field]:not([data-field=rank])')).map(td => [td.dataset.field, td.dataset.value]))]))]))`)
	}
	compareFrozen := func(what string, counties []dashFigures, city dashFigures) {
		t.Helper()
		got := frozenCells()
		n := 0
		for _, c := range append(slices.Clone(counties), city) {
			key := c.Code
			if key == "" {
				key = "city"
			}
			for ins, figs := range got[key] {
				for field, v := range figs {
					n++
					if want := c.Insurances[ins][field]; !sameValue(v, want) {
						t.Errorf("%s: %s %s %s shows %q, the freeze stored %s", what, key, ins, field, v, want)
					}
				}
			}
		}
		// 20 blocks of 5 insurances, 12 figures each, 清欠率 among them.
		if n != 20*5*12 || len(got["360702"]["pension"]["recovery_rate"]) == 0 {
			t.Errorf("%s: the freeze's table shows %d figures (360702's pension 清欠率 %q), want 20 × 5 × 12", what, n, got["360702"]["pension"]["recovery_rate"])
		}
	}
	i := slices.IndexFunc(stored.Segments, func(s figures) bool { return s.Segment == "park" })
	if i < 0 {
		t.Fatal("the freeze holds no figures of the park segment")
	}
	compareFrozen("the freeze's park figures", stored.Segments[i].Counties, stored.Segments[i].City)
	if got := eval[string](t, ctx, `document.querySelector('#freeze-figures tbody[data-code="360702"] tr[data-insurance="pension"] [data-field="recovery_rate"]').textContent`); got != "33.3%" {
		t.Errorf("360702's park payers recovered 10000 of 30000 fen of 2005's arrears by 2006-12-31: the freeze's 清欠率 shows %q, want 33.3%%", got)
	}
	supChoose(t, ctx, "freeze-segment", "")
	poll(t, ctx, 10*time.Second, `document.getElementById('freeze-figures').dataset.segment === ''`)
	compareFrozen("the freeze's figures of every payer", stored.Counties, stored.City)
	shot(t, ctx, "kuozheng-segments-1440.png")

	// 煤矿: the coal segment's figures, and its flags panel shows C1's work-injury flag, named
	// and worded in Chinese and English.
	supChoose(t, ctx, "segment", "coal")
	poll(t, ctx, 10*time.Second, `document.getElementById('counties').dataset.segment === 'coal' && document.getElementById('flags').dataset.query.includes('segment=coal')`)
	d.segTable(t, ctx, "coal")
	c1 := `#flags tr[data-employer="` + d.ids["C1"] + `"]`
	poll(t, ctx, 10*time.Second, `document.querySelector('`+c1+` li[data-kind="`+projections.FlagWorkInjuryTarget+`"]') !== null`)
	if got := eval[string](t, ctx, `document.querySelector('`+c1+` .chip').textContent`); got != "工伤扩面对象未参保 work-injury target not enrolled" {
		t.Errorf("C1's flag is named %q, want 工伤扩面对象未参保 work-injury target not enrolled", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('`+c1+` li').textContent`); !strings.Contains(got, "未参加工伤保险") || !strings.Contains(got, "no work-injury enrollment since 2006-04-03") || strings.Contains(got, "{") {
		t.Errorf("C1's flag reads %q, want it worded in Chinese and English, since 2006-04-03", got)
	}

	// A clerk of 360702, in a tab of its own: the worklist above the search lists what GET
	// /v1/worklists lists, the coal mine without work injury and the payer found unregistered
	// among them, each kind named.
	clerk, cancelClerk := chromedp.NewContext(ctx)
	defer cancelClerk()
	watchConsole(t, clerk)
	signIn(t, clerk, d.srv.URL+"/#/employer", tokClerkA)
	poll(t, clerk, 15*time.Second, `!document.getElementById('desk-worklist').hidden && window.kz.worklist && window.kz.worklist.loads > 0`)
	type workRow struct {
		Kind     string `json:"kind"`
		Employer string `json:"employer"`
		County   string `json:"county"`
		Since    string `json:"since"`
		Label    string `json:"label"`
		Link     string `json:"link"`
		Detail   string `json:"detail"`
	}
	const workRowsJS = `Array.from(document.querySelectorAll('#worklist tbody tr[data-kind]')).map(tr => ({kind: tr.dataset.kind, employer: tr.dataset.employer,
		county: tr.dataset.county, since: tr.dataset.since, label: tr.cells[0].textContent, link: tr.querySelector('a').getAttribute('href'), detail: tr.cells[4].textContent}))`
	var listed struct {
		Items []projections.WorkItem `json:"items"`
	}
	decode(t, d.get(t, "/v1/worklists", tokClerkA), &listed)
	rows := eval[[]workRow](t, clerk, workRowsJS)
	key := func(kind, id string) string { return kind + " " + id }
	var wantKeys, gotKeys []string
	for _, it := range listed.Items {
		wantKeys = append(wantKeys, key(it.Kind, it.EmployerID))
	}
	byKey := map[string]workRow{}
	for _, r := range rows {
		gotKeys = append(gotKeys, key(r.Kind, r.Employer))
		byKey[key(r.Kind, r.Employer)] = r
	}
	slices.Sort(wantKeys)
	slices.Sort(gotKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("the clerk's worklist shows %v, GET /v1/worklists lists %v", gotKeys, wantKeys)
	}
	// Each item worded in Chinese from its facts, then the API's English.
	han := regexp.MustCompile(`\p{Han}`)
	for _, it := range listed.Items {
		r := byKey[key(it.Kind, it.EmployerID)]
		zh, english := strings.CutSuffix(r.Detail, " "+it.Detail)
		if !english || !han.MatchString(zh) || strings.Contains(zh, "{") || r.Since != it.Since.String() || r.County != it.County || r.Link != "#/employer/"+it.EmployerID {
			t.Errorf("the worklist's %s item of %s reads %+v, the API's %+v: want it in Chinese, then the API's detail", it.Kind, it.EmployerID, r, it)
		}
	}
	coal := byKey[key(projections.WorkWorkInjuryTarget, d.ids["C1"])]
	if coal.Label != "工伤扩面对象未参保 work-injury target not enrolled" || !strings.Contains(coal.Detail, "sector coal (煤矿)") {
		t.Errorf("the coal mine without work injury reads %+v, want 工伤扩面对象未参保 and its sector", coal)
	}
	found := byKey[key(projections.WorkFoundNotRegistered, d.ids["U1"])]
	if found.Label != "摸底未登记 found by the survey, not registered" || found.Since != "2007-02-04" {
		t.Errorf("the payer found on 2007-01-05 reads %+v, want 摸底未登记 since 2007-02-04 (30 days after)", found)
	}
	// One kind chosen: its items alone.
	supChoose(t, clerk, "worklist-kind", projections.WorkFoundNotRegistered)
	if got := eval[[]workRow](t, clerk, workRowsJS); len(got) != 1 || got[0].Employer != d.ids["U1"] {
		t.Errorf("with 摸底未登记 chosen the worklist shows %+v, want U1 alone", got)
	}
	shot(t, clerk, "kuozheng-worklist.png")
	// U1 registers: its item leaves the open page without a reload.
	d.mustWrite(t, empPath(d.ids["U1"], "registration"), tokClerkA, `{"registered_on":"2007-03-25"}`)
	poll(t, clerk, 10*time.Second, `document.querySelectorAll('#worklist tbody tr[data-kind]').length === 0 && document.getElementById('worklist').dataset.total === '0'`)
}
