// Over 500 lines for a reason: one Chromium session walks the supervisor's page; starting a
// browser per part would cost more than the parts.

package api_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// supFlag is one flag of GET /v1/flags.
type supFlag struct {
	Kind       string `json:"kind"`
	EmployerID string `json:"employer_id"`
	County     string `json:"county"`
	Name       string `json:"name"`
	AmountFen  int64  `json:"amount_fen"`
	Since      string `json:"since"`
	AgeDays    int    `json:"age_days"`
}

// supFlags is the part of a GET /v1/flags answer the supervisor's tests read.
type supFlags struct {
	Total          int       `json:"total"`
	FlagsTotal     int       `json:"flags_total"`
	EmployersTotal int       `json:"employers_total"`
	Flags          []supFlag `json:"flags"`
	Employers      []struct {
		EmployerID string `json:"employer_id"`
		County     string `json:"county"`
		AmountFen  int64  `json:"amount_fen"`
		Since      string `json:"since"`
		Flags      []struct {
			AmountFen int64  `json:"amount_fen"`
			Since     string `json:"since"`
		} `json:"flags"`
	} `json:"employers"`
}

// supSeries is the part of a GET /v1/series answer the charts draw.
type supSeries struct {
	Insurance string   `json:"insurance"`
	Group     int      `json:"group"`
	Months    []string `json:"months"`
	Counties  []struct {
		Code           string     `json:"code"`
		Group          int        `json:"group"`
		DueFen         []int64    `json:"due_fen"`
		CollectionRate []*float64 `json:"collection_rate"`
		ArrearsFen     []int64    `json:"arrears_fen"`
	} `json:"counties"`
	City struct {
		DueFen []int64 `json:"due_fen"`
	} `json:"city"`
}

// supCounties is the part of GET /v1/counties the tests compare the flags and charts with.
type supCounties struct {
	Period   string `json:"period"`
	Counties []struct {
		Code       string                                `json:"code"`
		Group      int                                   `json:"group"`
		Insurances map[string]map[string]json.RawMessage `json:"insurances"`
		Flags      []struct {
			Count int `json:"count"`
		} `json:"flags"`
	} `json:"counties"`
}

// flagCounts are the counties' flag counts (the table's 标记 column), by code, and their groups.
func (c supCounties) flagCounts() (counts map[string]int, groups map[string]int) {
	counts, groups = map[string]int{}, map[string]int{}
	for _, x := range c.Counties {
		for _, f := range x.Flags {
			counts[x.Code] += f.Count
		}
		groups[x.Code] = x.Group
	}
	return counts, groups
}

func supGetFlags(t *testing.T, e *env, token, query string) supFlags {
	t.Helper()
	var f supFlags
	decode(t, e.get(t, "/v1/flags?"+query, token), &f)
	return f
}

// supWan is fen in 万元 with two decimals and grouped thousands, rounded half away from zero:
// how the page and the exports show money.
func supWan(fen int64) string {
	sign := ""
	if fen < 0 {
		fen = -fen
		if fen >= 5000 {
			sign = "-"
		}
	}
	h := (fen + 5000) / 10000
	whole := strconv.FormatInt(h/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return fmt.Sprintf("%s%s.%02d", sign, whole, h%100)
}

// supMoney is fen with its unit as a flag's wording gives it: in 万元 from one 万元 on, in 元
// with two decimals and grouped thousands below it.
func supMoney(fen int64) string {
	if fen >= 1_000_000 {
		return supWan(fen) + " 万元"
	}
	whole := strconv.FormatInt(fen/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return fmt.Sprintf("%s.%02d 元", whole, fen%100)
}

// TestFlagsAndSeriesForTheDashboard: GET /v1/flags filters by group, county, kind and a search
// (codes with or without their hyphen), sorts by amount and age, groups by employer and
// exports with bilingual details in 万元; GET /v1/series answers one insurance's figures, and
// one group's, which the county table's figures agree with.
func TestFlagsAndSeriesForTheDashboard(t *testing.T) {
	e := newFreezeEnv(t, 80)
	var counties supCounties
	decode(t, e.get(t, "/v1/counties", tokAssessor), &counties)
	counts, groups := counties.flagCounts()
	all := supGetFlags(t, e, tokAssessor, "limit=1000")
	sum := 0
	for _, n := range counts {
		sum += n
	}
	if all.FlagsTotal != sum || all.Total != sum || len(all.Flags) != sum {
		t.Fatalf("GET /v1/flags answers %d flags (total %d, %d rows), the counties' figures count %d", all.FlagsTotal, all.Total, len(all.Flags), sum)
	}
	if sum < 10 {
		t.Fatalf("the demo ledger of 80 payers raises %d flags: too few for this test", sum)
	}

	t.Run("group and county", func(t *testing.T) {
		for _, g := range []int{1, 2} {
			f := supGetFlags(t, e, tokAssessor, fmt.Sprintf("group=%d&limit=1000", g))
			want := 0
			for code, n := range counts {
				if groups[code] == g {
					want += n
				}
			}
			if f.FlagsTotal != want || len(f.Flags) != want {
				t.Errorf("group %d: %d flags (%d rows), its counties count %d", g, f.FlagsTotal, len(f.Flags), want)
			}
			for _, x := range f.Flags {
				if groups[x.County] != g {
					t.Errorf("group %d: a flag of county %s (group %d)", g, x.County, groups[x.County])
				}
			}
		}
		// The supervisor of group 1 reads only its group: asking for another is refused.
		wantError(t, e.get(t, "/v1/flags?group=2", tokSuper), http.StatusForbidden, "forbidden", "group")
		for code, n := range counts {
			if f := supGetFlags(t, e, tokAssessor, "county="+code); f.FlagsTotal != n {
				t.Errorf("county %s: %d flags, its figures count %d", code, f.FlagsTotal, n)
			}
		}
	})

	t.Run("by employer", func(t *testing.T) {
		f := supGetFlags(t, e, tokAssessor, "by=employer&limit=1000")
		ids := map[string]bool{}
		for _, x := range all.Flags {
			ids[x.EmployerID] = true
		}
		if all.EmployersTotal != len(ids) {
			t.Errorf("a page of flags counts %d employers, its flags are of %d", all.EmployersTotal, len(ids))
		}
		if f.Total != len(ids) || f.EmployersTotal != len(ids) || f.FlagsTotal != sum || len(f.Employers) != len(ids) {
			t.Fatalf("by employer: total %d, employers_total %d, %d rows, flags_total %d; want %d employers and %d flags", f.Total, f.EmployersTotal, len(f.Employers), f.FlagsTotal, len(ids), sum)
		}
		n := 0
		for _, emp := range f.Employers {
			var amount int64
			since := ""
			for _, x := range emp.Flags {
				amount += x.AmountFen
				if x.Since != "" && (since == "" || x.Since < since) {
					since = x.Since
				}
			}
			n += len(emp.Flags)
			if emp.AmountFen != amount || emp.Since != since {
				t.Errorf("employer %s: amount %d since %q, its flags add up to %d since %q", emp.EmployerID, emp.AmountFen, emp.Since, amount, since)
			}
		}
		if n != sum {
			t.Errorf("the employers hold %d flags, want %d", n, sum)
		}
		page := supGetFlags(t, e, tokAssessor, "by=employer&limit=2&page=2")
		if len(page.Employers) != min(2, max(0, len(ids)-2)) || page.Employers[0].EmployerID != f.Employers[2].EmployerID {
			t.Errorf("page 2 of 2 employers starts with %v, want the third employer %s", page.Employers, f.Employers[2].EmployerID)
		}
	})

	t.Run("sort", func(t *testing.T) {
		byAmount := supGetFlags(t, e, tokAssessor, "sort=amount&limit=1000")
		if !slices.IsSortedFunc(byAmount.Flags, func(a, b supFlag) int { return cmp.Compare(b.AmountFen, a.AmountFen) }) || byAmount.Flags[0].AmountFen == 0 {
			t.Errorf("sort=amount: the flags are not largest amount first")
		}
		byAge := supGetFlags(t, e, tokAssessor, "sort=age&limit=1000")
		var dates []string
		undated := false
		for _, x := range byAge.Flags {
			if x.Since == "" {
				undated = true
				continue
			}
			if undated {
				t.Fatalf("sort=age: a flag since %s after one without a date", x.Since)
			}
			dates = append(dates, x.Since)
			if want := int(supDays(t, "2006-12-31") - supDays(t, x.Since)); x.AgeDays != want {
				t.Errorf("a flag since %s is %d days old on 2006-12-31, want %d", x.Since, x.AgeDays, want)
			}
		}
		if !slices.IsSorted(dates) || len(dates) == 0 {
			t.Errorf("sort=age: the dates are not oldest first: %v", dates)
		}
	})

	t.Run("search", func(t *testing.T) {
		x := all.Flags[0]
		name := []rune(x.Name)
		q := string(name[len(name)-min(4, len(name)):])
		f := supGetFlags(t, e, tokAssessor, "limit=1000&q="+url.QueryEscape(q))
		if f.FlagsTotal == 0 {
			t.Fatalf("q=%s (part of %s's name) finds no flags", q, x.Name)
		}
		for _, y := range f.Flags {
			if !strings.Contains(y.Name, q) {
				t.Errorf("q=%s finds a flag of %q", q, y.Name)
			}
		}
		// An organisation code without its hyphen finds the employer too.
		// (One without a credit code, which holds the organisation code without its hyphen.)
		for _, y := range all.Flags {
			var emp struct {
				OrgCode    string `json:"org_code"`
				CreditCode string `json:"credit_code"`
			}
			decode(t, e.get(t, empPath(y.EmployerID, ""), tokAssessor), &emp)
			if emp.OrgCode == "" || emp.CreditCode != "" {
				continue
			}
			for _, code := range []string{emp.OrgCode, strings.ReplaceAll(emp.OrgCode, "-", "")} {
				f := supGetFlags(t, e, tokAssessor, "limit=1000&q="+url.QueryEscape(code))
				if !slices.ContainsFunc(f.Flags, func(z supFlag) bool { return z.EmployerID == y.EmployerID }) {
					t.Errorf("q=%s finds no flag of %s, whose organisation code is %s", code, y.EmployerID, emp.OrgCode)
				}
			}
			return
		}
		t.Fatal("no flagged employer has an organisation code and no credit code")
	})

	t.Run("export", func(t *testing.T) {
		a := e.raw(t, http.MethodGet, "/v1/flags?format=csv&sort=amount&group=1", tokSuper, "")
		status, ctype, body := a.status, a.header.Get("Content-Type"), a.body
		if status != http.StatusOK || !strings.HasPrefix(ctype, "text/csv") {
			t.Fatalf("GET /v1/flags?format=csv: %d %s", status, ctype)
		}
		rows, err := tableCSV(t, body)
		if err != nil {
			t.Fatal(err)
		}
		want := supGetFlags(t, e, tokSuper, "group=1&sort=amount&limit=1000")
		if len(rows) != want.FlagsTotal+1 || want.FlagsTotal == 0 {
			t.Fatalf("the csv has %d rows, want a header and %d flags", len(rows), want.FlagsTotal)
		}
		for i, f := range want.Flags {
			row := rows[i+1]
			if row[1] != f.EmployerID || row[2] != f.Name || row[6] != strconv.FormatInt(f.AmountFen, 10) {
				t.Errorf("csv row %d: %v, want the flag %s %s of %d fen", i+1, row, f.EmployerID, f.Name, f.AmountFen)
			}
			if f.AmountFen > 0 && !strings.Contains(row[5], supMoney(f.AmountFen)) {
				t.Errorf("csv row %d words %d fen as %q, want %s in it", i+1, f.AmountFen, row[5], supMoney(f.AmountFen))
			}
			if !regexp.MustCompile(`\p{Han}`).MatchString(row[5]) || strings.Contains(row[5], "{") {
				t.Errorf("csv row %d: detail %q is not worded in Chinese and English", i+1, row[5])
			}
		}
		if a := e.raw(t, http.MethodGet, "/v1/flags?format=xlsx", tokSuper, ""); a.status != http.StatusOK || !bytes.HasPrefix(a.body, []byte("PK")) {
			t.Errorf("GET /v1/flags?format=xlsx: %d, %d bytes", a.status, len(a.body))
		}
	})

	t.Run("bad queries", func(t *testing.T) {
		for _, c := range []struct{ query, field string }{
			{"group=99", "group"}, {"group=x", "group"}, {"sort=name", "sort"}, {"by=county", "by"},
			{"limit=0", "limit"}, {"format=pdf", "format"}, {"kind=late", "kind"}, {"page=0", "page"},
		} {
			wantError(t, e.get(t, "/v1/flags?"+c.query, tokSuper), http.StatusBadRequest, "invalid", c.field)
		}
		wantError(t, e.get(t, "/v1/series?insurance=dental", tokSuper), http.StatusBadRequest, "invalid", "insurance")
		wantError(t, e.get(t, "/v1/series?group=0", tokSuper), http.StatusBadRequest, "invalid", "group")
	})

	t.Run("series by insurance and group", func(t *testing.T) {
		var pension, medical, group supSeries
		decode(t, e.get(t, "/v1/series?insurance=pension", tokAssessor), &pension)
		decode(t, e.get(t, "/v1/series?insurance=medical", tokAssessor), &medical)
		decode(t, e.get(t, "/v1/series?insurance=pension&group=2", tokAssessor), &group)
		if pension.Insurance != "pension" || medical.Insurance != "medical" || fmt.Sprint(pension.Counties) == fmt.Sprint(medical.Counties) {
			t.Fatalf("the pension and medical series are the same (insurances %q, %q)", pension.Insurance, medical.Insurance)
		}
		// The month of the table's period is the table's period collection rate, county by county.
		i := slices.Index(pension.Months, counties.Period)
		if i < 0 {
			t.Fatalf("the series' months %v miss the table's period %s", pension.Months, counties.Period)
		}
		for j, c := range pension.Counties {
			table := string(counties.Counties[j].Insurances["pension"]["period_collection_rate"])
			got := "" // null: nothing was due
			if r := c.CollectionRate[i]; r != nil {
				got = strconv.FormatFloat(*r, 'g', -1, 64)
			}
			if counties.Counties[j].Code != c.Code || !sameValue(got, json.RawMessage(table)) {
				t.Errorf("county %s: the series' pension collection rate for %s is %s, the table's %s", c.Code, counties.Period, got, table)
			}
		}
		if group.Group != 2 || len(group.Counties) == 0 {
			t.Fatalf("series of group 2: group %d, %d counties", group.Group, len(group.Counties))
		}
		due := make([]int64, len(group.Months))
		for _, c := range group.Counties {
			if c.Group != 2 {
				t.Errorf("series of group 2 holds county %s of group %d", c.Code, c.Group)
			}
			for k, v := range c.DueFen {
				due[k] += v
			}
		}
		if !slices.Equal(due, group.City.DueFen) {
			t.Errorf("series of group 2: the total is due %v, its counties add up to %v", group.City.DueFen, due)
		}
	})
}

// supA11yJS lists what the dashboard's panels break of the accessibility rules: a
// figure drawn under 12 px (an SVG text by the size the chart is drawn at), a label cut with an
// ellipsis, a bar's fill or a chart's line under 3:1 against what is behind it, a target's
// state told by colour alone, a box or menu without a label.
const supA11yJS = `(() => {
	const rgb = c => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
	const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
	const out = [];
	const panels = '#panel-counties, #panel-targets, #panel-charts, #panel-flags';
	for (const n of document.querySelectorAll(':is(' + panels + ') :is(td.num, .bar-num, .code)')) {
		if (n.offsetParent && parseFloat(getComputedStyle(n).fontSize) < 12) out.push('small figure ' + n.textContent.trim().slice(0, 20) + ' ' + getComputedStyle(n).fontSize);
	}
	for (const t of document.querySelectorAll('#panel-charts svg text')) {
		const svg = t.ownerSVGElement;
		const px = parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
		if (px < 11.5) out.push('small axis label ' + t.textContent + ' ' + px.toFixed(1) + 'px');
	}
	for (const n of document.querySelectorAll(':is(' + panels + ') *')) {
		const cs = getComputedStyle(n);
		if (cs.textOverflow === 'ellipsis' && n.scrollWidth > n.clientWidth + 1) out.push('cut label ' + n.textContent.slice(0, 20));
	}
	for (const f of document.querySelectorAll('.bar-fill')) {
		const track = getComputedStyle(f.parentNode).backgroundColor, fill = getComputedStyle(f).backgroundColor;
		if (contrast(fill, track) < 3) out.push('bar fill ' + fill + ' on ' + track + ': ' + contrast(fill, track).toFixed(2));
	}
	for (const l of document.querySelectorAll('#panel-charts polyline')) {
		if (contrast(getComputedStyle(l).stroke, 'rgb(255, 255, 255)') < 3) out.push('line ' + getComputedStyle(l).stroke);
	}
	for (const b of document.querySelectorAll('.bar[data-state]:not([data-state=""])')) {
		const s = b.querySelector('.state');
		if (!s || !s.textContent.trim()) out.push('target state by colour only: ' + b.dataset.measure);
	}
	for (const c of document.querySelectorAll(':is(' + panels + ') :is(input, select)')) {
		if (!c.labels || !c.labels.length) out.push('unlabelled ' + c.tagName + '#' + c.id);
	}
	return out;
})()`

// supAccessible fails the test on what supA11yJS finds.
func supAccessible(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	for _, p := range eval[[]string](t, ctx, supA11yJS) {
		t.Errorf("at %s: %s", when, p)
	}
}

// supDays is a date as a day number, for differences in days.
func supDays(t *testing.T, d string) int64 {
	t.Helper()
	x, err := time.Parse("2006-01-02", d)
	if err != nil {
		t.Fatal(err)
	}
	return x.Unix() / 86400
}

// supChoose sets a menu of the page and tells the page it changed, as a person's choice does.
func supChoose(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(s => { s.value = %q; s.dispatchEvent(new Event('change')); })(document.getElementById(%q))`, value, id)))
}

// supAnswerToken gives the page a token through its token dialog.
func supAnswerToken(t *testing.T, ctx context.Context, token string) {
	t.Helper()
	poll(t, ctx, 10*time.Second, `document.getElementById('token-dialog').open`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('token-input').value = ''`))
	run(t, ctx, chromedp.SendKeys(chromedp.ID("token-input"), token))
	run(t, ctx, chromedp.Click(chromedp.ID("token-ok")))
}

// supFlagRowsJS lists the flags panel's rows: county, and the query the panel asked.
const supFlagRowsJS = `({query: document.getElementById('flags').dataset.query || '',
	flags: Number(document.getElementById('flags-total').dataset.flags),
	counties: Array.from(document.querySelectorAll('#flags tbody tr[data-employer]')).map(tr => tr.dataset.county)})`

type supFlagPanel struct {
	Query    string   `json:"query"`
	Flags    int      `json:"flags"`
	Counties []string `json:"counties"`
}

// supChartJS reads a chart's data table: each line's figure for each month, as the page holds it.
const supChartJS = `(id => Object.fromEntries(Array.from(document.querySelectorAll('#chart-' + id + '-table tbody tr')).map(tr =>
	[tr.dataset.key, Array.from(tr.querySelectorAll('td')).map(td => td.dataset.value)])))`

// TestDashboardSupervisorInChromium drives the supervisor's dashboard in a real headless
// Chromium: the header names the supervisor; the group filter narrows the flags, and a county's
// flag count opens that county's flags; the charts draw the insurance chosen, as GET /v1/series
// answers it, and the legend hides and isolates lines; money is in 万元 with two decimals; the
// view is in the URL; at 1024 px the county column stays while the table scrolls, and at 390 px
// the page fits the phone. Screenshots at 1440, 1024 and 390 px.
func TestDashboardSupervisorInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the dashboard test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newFreezeEnv(t, 80)
	freeze := e.freeze(t, tokAssessor, "2006-12-31", 0) // restated by nothing: an empty restatement
	var counties supCounties
	decode(t, e.get(t, "/v1/counties", tokSuper), &counties)
	counts, groups := counties.flagCounts()
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	run(t, ctx, chromedp.EmulateViewport(1440, 900))
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/"))

	// A bad token is refused with one reason, said in both languages; the right one opens the page.
	supAnswerToken(t, ctx, "not-a-token")
	poll(t, ctx, 10*time.Second, `document.getElementById('token-dialog').open && document.getElementById('token-reason').textContent.includes('令牌无效')`)
	if got := eval[string](t, ctx, `document.getElementById('token-reason').textContent`); !strings.Contains(got, "令牌无效或已过期") || !strings.Contains(got, "not valid") {
		t.Errorf("the bad token's reason reads %q, want the same in Chinese and English", got)
	}
	supAnswerToken(t, ctx, tokSuper)
	poll(t, ctx, 15*time.Second, `document.querySelectorAll('#counties-body tr[data-county]').length === 4 && document.querySelectorAll('#chart-rate-table tbody tr').length === 5 && document.getElementById('flags-total').dataset.flags !== undefined`)

	// The page stays light: its own files, as the browser fetched them (gzipped).
	page := eval[float64](t, ctx, `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource').filter(r => r.name.includes('/assets/'))].reduce((n, r) => n + r.encodedBodySize, 0)`)
	t.Logf("the supervisor's page: %.0f bytes of its own files, as transferred", page)
	if page > 96<<10 {
		t.Errorf("the supervisor's page fetches %.0f bytes of its own files, want at most 96 KiB", page)
	}

	// The header: the supervisor's name, role and group; one state of the figures.
	poll(t, ctx, 10*time.Second, `document.getElementById('who').dataset.role === 'supervisor'`)
	if who := eval[string](t, ctx, `document.getElementById('who').textContent`); !strings.Contains(who, "sup") || !strings.Contains(who, "督查 supervisor") || !strings.Contains(who, "第1组") {
		t.Errorf("the header names the user %q, want sup, 督查 supervisor and 第1组", who)
	}
	poll(t, ctx, 10*time.Second, `document.getElementById('conn').dataset.state === 'on' && document.getElementById('caught-up').dataset.state === 'ok'`)
	if scope := eval[string](t, ctx, `document.getElementById('scope').textContent`); !strings.Contains(scope, "4 counties") {
		t.Errorf("the header's scope reads %q", scope)
	}

	// A freeze with nothing restated says so, and only so.
	run(t, ctx, chromedp.Click(chromedp.CSS(`#freezes tr[data-freeze="`+freeze.ID+`"]`)))
	poll(t, ctx, 10*time.Second, `document.querySelector('#freeze-detail').textContent.includes('无变化')`)
	if text := eval[string](t, ctx, `document.getElementById('freeze-detail').textContent`); strings.Contains(text, "null") {
		t.Errorf("an empty restatement reads %q", text)
	}
	// Its figures' total sums the supervisor's counties and says so, though the freeze gives it
	// its group.
	if total := eval[string](t, ctx, `document.querySelector('#freeze-figures tbody.total th.name').textContent`); !strings.Contains(total, "可见合计") {
		t.Errorf("the supervisor's frozen total is named %q, want 可见合计 visible counties", total)
	}

	// Money: 万元 with two decimals in the table, the unit in the headers.
	cells := eval[[][2]string](t, ctx, `Array.from(document.querySelectorAll('#counties tbody [data-field$="_fen"], #counties tfoot [data-field$="_fen"]')).map(td => [td.dataset.value, td.textContent])`)
	if len(cells) < 4*4 {
		t.Fatalf("the county table has %d money cells", len(cells))
	}
	for _, c := range cells {
		fen, err := strconv.ParseInt(c[0], 10, 64)
		if err != nil || c[1] != supWan(fen) {
			t.Errorf("a money cell of %s fen shows %q, want %s (万元, two decimals)", c[0], c[1], supWan(fen))
		}
	}
	// Rates to a tenth of a percent: one short of all never reads as all, one above none never as none.
	rates, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`import('/assets/format.js').then(m => [0.99996, 1, 1.2, 0.0004, 0, 0.5, -0.0004].map(m.fmtRate))`, chromedp.EvalAwaitPromise))
	if want := []string{"99.9%", "100.0%", "120.0%", "0.1%", "0.0%", "50.0%", "-0.1%"}; err != nil || !slices.Equal(rates, want) {
		t.Errorf("rates 0.99996, 1, 1.2, 0.0004, 0, 0.5, -0.0004 read %v (%v), want %v", rates, err, want)
	}
	for _, h := range eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#counties-head th[data-field$="_fen"]')).map(th => th.textContent)`) {
		if !strings.Contains(h, "万元") {
			t.Errorf("the money column %q does not name its unit 万元", h)
		}
	}

	supAccessible(t, ctx, "1440 px")

	// A link naming a group the token may not read shows the token's counties, and says so; a
	// group chosen then puts the note away.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '#/?group=2'`))
	poll(t, ctx, 10*time.Second, `!document.getElementById('group-note').hidden`)
	if note := eval[string](t, ctx, `document.getElementById('group-note').textContent`); !strings.Contains(note, "第2组") || !strings.Contains(note, "Group 2") {
		t.Errorf("the note on a link to group 2 reads %q", note)
	}
	if got := eval[[]any](t, ctx, `[document.getElementById('group').value, document.querySelectorAll('#counties-body tr[data-county]').length, location.hash.includes('group=2')]`); got[0] != "" || got[1] != float64(4) || got[2] != false {
		t.Errorf("after a link to group 2: group %q chosen, %v county rows, link still naming it %v; want all, 4, false", got[0], got[1], got[2])
	}
	supChoose(t, ctx, "group", "1")
	poll(t, ctx, 10*time.Second, `document.getElementById('group-note').hidden`)
	// Opened with such a link, the page says so too.
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/?opened=1#/?group=2"))
	poll(t, ctx, 15*time.Second, `document.querySelectorAll('#counties-body tr[data-county]').length === 4 && document.getElementById('group').options.length > 1 && !location.hash.includes('group=2')`)
	if note := eval[string](t, ctx, `document.getElementById('group-note').hidden ? '' : document.getElementById('group-note').textContent`); !strings.Contains(note, "第2组") {
		t.Errorf("opened with a link to group 2 the note reads %q, want it shown naming 第2组", note)
	}
	supChoose(t, ctx, "group", "1")
	poll(t, ctx, 10*time.Second, `document.getElementById('group-note').hidden`)

	// The group filter reaches the flags: the rows are the group's, the count the API's.
	supChoose(t, ctx, "group", "1")
	want := supGetFlags(t, e, tokSuper, "group=1")
	sum := 0
	for code, n := range counts {
		if groups[code] == 1 {
			sum += n
		}
	}
	if want.FlagsTotal != sum || sum == 0 {
		t.Fatalf("GET /v1/flags?group=1 answers %d flags, the group's counties count %d", want.FlagsTotal, sum)
	}
	poll(t, ctx, 10*time.Second, `document.getElementById('flags').dataset.query.includes('group=1')`)
	p := eval[supFlagPanel](t, ctx, supFlagRowsJS)
	if p.Flags != sum || len(p.Counties) == 0 {
		t.Errorf("with group 1 the flags panel counts %d flags on %d rows, want %d", p.Flags, len(p.Counties), sum)
	}
	for _, c := range p.Counties {
		if groups[c] != 1 {
			t.Errorf("with group 1 the flags panel shows a flag of county %s (group %d)", c, groups[c])
		}
	}
	amounts := eval[[][2]string](t, ctx, `Array.from(document.querySelectorAll('#flags td.amount')).map(td => [td.dataset.value, td.textContent])`)
	for _, a := range amounts {
		fen, _ := strconv.ParseInt(a[0], 10, 64)
		want := supWan(fen)
		if fen > 0 && fen < 5000 {
			want = "<0.01" // not 0.00 beside a flag of arrears
		}
		if fen > 0 && a[1] != want {
			t.Errorf("a flagged employer's amount of %d fen shows %q, want %s", fen, a[1], want)
		}
	}

	// A county's flag count opens that county's flags.
	county, most := "", 0
	for code, n := range counts {
		if n > most || (n == most && code < county) {
			county, most = code, n
		}
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	run(t, ctx, chromedp.Click(chromedp.CSS(`#counties-body tr[data-county="`+county+`"] button.flags-link`)))
	poll(t, ctx, 10*time.Second, `document.getElementById('flags').dataset.query.includes('county=`+county+`')`)
	p = eval[supFlagPanel](t, ctx, supFlagRowsJS)
	if p.Flags != most || len(p.Counties) == 0 {
		t.Errorf("after a click on county %s's %d flags the panel counts %d on %d rows", county, most, p.Flags, len(p.Counties))
	}
	for _, c := range p.Counties {
		if c != county {
			t.Errorf("after a click on county %s's flags the panel shows one of county %s", county, c)
		}
	}
	if !eval[bool](t, ctx, `(r => r.top > -5 && r.top < window.innerHeight)(document.getElementById('panel-flags').getBoundingClientRect()) && document.activeElement.id === 'flags-heading'`) {
		t.Errorf("after a click on a flag count the flags panel is not in view with its heading focused")
	}
	supChoose(t, ctx, "flags-county", "")
	poll(t, ctx, 10*time.Second, `!document.getElementById('flags').dataset.query.includes('county=')`)

	// The charts draw the insurance chosen, figure for figure as GET /v1/series answers it;
	// this month's point is the table's period collection rate.
	chart := func(ins string) (rates, arrears map[string][]string) {
		t.Helper()
		poll(t, ctx, 10*time.Second, `document.getElementById('panel-charts').dataset.insurance === '`+ins+`'`)
		var s supSeries
		decode(t, e.get(t, "/v1/series?insurance="+ins+"&group=1", tokSuper), &s)
		rates = eval[map[string][]string](t, ctx, supChartJS+`('rate')`)
		arrears = eval[map[string][]string](t, ctx, supChartJS+`('arrears')`)
		if len(s.Counties) != 4 || len(rates) != 5 {
			t.Fatalf("%s: the API's series has %d counties, the chart %d lines (4 counties and the total)", ins, len(s.Counties), len(rates))
		}
		for _, c := range s.Counties {
			for i := range s.Months {
				r := ""
				if c.CollectionRate[i] != nil {
					r = strconv.FormatFloat(*c.CollectionRate[i], 'g', -1, 64)
				}
				if !sameValue(rates[c.Code][i], json.RawMessage(r)) {
					t.Errorf("%s chart, county %s, %s: rate %q, the API's %q", ins, c.Code, s.Months[i], rates[c.Code][i], r)
				}
				if arrears[c.Code][i] != strconv.FormatInt(c.ArrearsFen[i], 10) {
					t.Errorf("%s chart, county %s, %s: arrears %q, the API's %d", ins, c.Code, s.Months[i], arrears[c.Code][i], c.ArrearsFen[i])
				}
			}
		}
		return rates, arrears
	}
	pensionRates, pensionArrears := chart("pension")
	month := slices.Index(eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#chart-rate-table tbody tr:first-child td')).map(td => td.dataset.month)`), counties.Period)
	for code, v := range eval[map[string]string](t, ctx, `Object.fromEntries(Array.from(document.querySelectorAll('#counties-body tr[data-county]')).map(tr => [tr.dataset.county, tr.querySelector('[data-field="period_collection_rate"]').dataset.value]))`) {
		if month < 0 || pensionRates[code][month] != v {
			t.Errorf("county %s: the chart's pension rate for %s is %q, the table's %q", code, counties.Period, pensionRates[code][max(month, 0)], v)
		}
	}
	if caption := eval[string](t, ctx, `document.querySelector('#chart-rate-title').textContent`); !strings.Contains(caption, "养老") {
		t.Errorf("the rate chart's caption %q does not name the insurance", caption)
	}
	shot(t, ctx, "kuozheng-supervisor-1440.png")
	supChoose(t, ctx, "insurance", "medical")
	medicalRates, medicalArrears := chart("medical")
	if fmt.Sprint(pensionRates) == fmt.Sprint(medicalRates) && fmt.Sprint(pensionArrears) == fmt.Sprint(medicalArrears) {
		t.Errorf("the charts draw the same figures for pension and medical")
	}

	// The legend: a line's "only" shows it alone, again shows all; its name hides it.
	code := eval[string](t, ctx, `document.querySelector('#legend-rate .item[data-key]').dataset.key`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#legend-rate .item[data-key="`+code+`"] button.solo`)))
	poll(t, ctx, 5*time.Second, `(g => g.length === 1 && g[0].dataset.key === '`+code+`')(document.querySelectorAll('#chart-rate svg g.line'))`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#legend-rate .item[data-key="`+code+`"] button.solo`)))
	poll(t, ctx, 5*time.Second, `document.querySelectorAll('#chart-rate svg g.line').length === 5`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#legend-rate .item[data-key="`+code+`"] button.toggle`)))
	poll(t, ctx, 5*time.Second, `document.querySelectorAll('#chart-rate svg g.line').length === 4 && !document.querySelector('#chart-rate svg g.line[data-key="`+code+`"]') && document.querySelector('#legend-rate .item[data-key="`+code+`"] button.toggle').getAttribute('aria-pressed') === 'false'`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#legend-rate .item[data-key="`+code+`"] button.toggle`)))

	// The view is in the URL: a reload shows medical, group 1 and the order chosen.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#counties-head th[data-field="recovered_fen"]').click()`))
	hash := eval[string](t, ctx, `location.hash`)
	for _, part := range []string{"ins=medical", "group=1", "sort=-recovered_fen"} {
		if !strings.Contains(hash, part) {
			t.Errorf("the location %q does not hold %s", hash, part)
		}
	}
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/"+hash))
	poll(t, ctx, 15*time.Second, `document.getElementById('insurance').value === 'medical' && document.getElementById('group').value === '1' && document.getElementById('panel-charts').dataset.insurance === 'medical' && document.querySelector('#counties-head th.sorted') !== null && document.querySelector('#counties-head th.sorted').dataset.field === 'recovered_fen'`)
	supChoose(t, ctx, "insurance", "pension")
	poll(t, ctx, 10*time.Second, `document.getElementById('panel-charts').dataset.insurance === 'pension'`)

	// 1024 px: every column can be reached, and while the figures scroll the county column
	// stays. The demo's figures fit; a narrower box (a city's larger figures) makes it scroll.
	draws := eval[int](t, ctx, `window.kz.chartDraws`)
	run(t, ctx, chromedp.EmulateViewport(1024, 800))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.innerWidth === 1024 && window.kz.chartDraws > %d`, draws))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	shot(t, ctx, "kuozheng-supervisor-1024.png")
	if !eval[bool](t, ctx, `(w => w.scrollWidth <= w.clientWidth + 1 ? document.querySelector('#counties-body tr td[data-field="flags"]').getBoundingClientRect().right <= w.getBoundingClientRect().right + 1 : !document.getElementById('counties-more').hidden)(document.getElementById('counties-wrap'))`) {
		t.Errorf("at 1024 px the flag counts are off the table's box with nothing to say so")
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('counties-wrap').style.maxWidth = '560px'; window.dispatchEvent(new Event('resize'))`))
	poll(t, ctx, 5*time.Second, `!document.getElementById('counties-more').hidden && document.getElementById('counties-more').dataset.more === 'right'`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(w => { w.scrollLeft = w.scrollWidth; })(document.getElementById('counties-wrap'))`))
	poll(t, ctx, 5*time.Second, `document.getElementById('counties-more').dataset.more === 'left'`)
	stays := eval[map[string]float64](t, ctx, `(() => {
		const w = document.getElementById('counties-wrap').getBoundingClientRect();
		const th = document.querySelector('#counties-body tr[data-county] th.name');
		const r = th.getBoundingClientRect();
		const top = document.elementFromPoint(r.left + 5, r.top + r.height / 2);
		const flags = document.querySelector('#counties-body tr[data-county] td[data-field="flags"]').getBoundingClientRect();
		return {scrolled: document.getElementById('counties-wrap').scrollLeft, left: r.left - w.left, covered: th.contains(top) ? 0 : 1, flagsOut: flags.right - w.right};
	})()`)
	if stays["scrolled"] < 50 || stays["left"] < -1 || stays["left"] > 2 || stays["covered"] != 0 || stays["flagsOut"] > 1 {
		t.Errorf("at 1024 px, scrolled %v px to the right, the county column is %v px from the box's left edge (covered: %v) and the flags %v px past its right: want the county column in place and the flags in view", stays["scrolled"], stays["left"], stays["covered"], stays["flagsOut"])
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('counties-wrap').style.maxWidth = ''; window.dispatchEvent(new Event('resize'))`))

	// 390 px: nothing wider than the phone, every county's figures and flags in view, dates
	// on one line.
	draws = eval[int](t, ctx, `window.kz.chartDraws`)
	run(t, ctx, chromedp.EmulateViewport(390, 844))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.innerWidth === 390 && window.kz.chartDraws > %d`, draws))
	if w := eval[float64](t, ctx, `document.documentElement.scrollWidth`); w > 391 {
		wide := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('body *')).filter(n => n.getBoundingClientRect().right > window.innerWidth + 1 && !n.closest('.table-wrap')).slice(0, 8).map(n => n.tagName + '#' + n.id + '.' + n.className)`)
		t.Errorf("at 390 px the page is %v px wide: %v", w, wide)
	}
	if out := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#counties tr[data-county] [data-field]')).filter(c => { const r = c.getBoundingClientRect(); return r.right > window.innerWidth || r.left < 0 || r.width === 0; }).map(c => c.closest('tr').dataset.county + ' ' + c.dataset.field)`); len(out) > 0 {
		t.Errorf("at 390 px these county figures are off the screen: %v", out)
	}
	if wrapped := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#flags .nowrap, #flags td.date, #as-of, #period')).filter(n => n.getClientRects().length > 1 || getComputedStyle(n).whiteSpace !== 'nowrap').map(n => n.textContent)`); len(wrapped) > 0 {
		t.Errorf("at 390 px these dates break across lines: %v", wrapped)
	}
	supAccessible(t, ctx, "390 px")
	shot(t, ctx, "kuozheng-supervisor-390.png")

	// The export downloads the flags the panel shows.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('flags-csv').click()`))
	poll(t, ctx, 10*time.Second, `window.kz.lastFlagExport && window.kz.lastFlagExport.format === 'csv' && window.kz.lastFlagExport.bytes > 0 && window.kz.lastFlagExport.query.includes('group=1')`)

	// Someone who reads the whole city: choosing a group narrows the flags from the city's to
	// the group's.
	run(t, ctx, chromedp.EmulateViewport(1440, 900))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('kuozheng-token', '`+tokAssessor+`')`))
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/")) // without a hash: a new load, not a hash change
	poll(t, ctx, 15*time.Second, `document.querySelectorAll('#counties-body tr[data-county]').length === 19 && document.getElementById('flags').dataset.query !== undefined && !document.getElementById('flags').dataset.query.includes('group=')`)
	var city supCounties
	decode(t, e.get(t, "/v1/counties", tokAssessor), &city)
	cityCounts, cityGroups := city.flagCounts()
	cityAll, group2 := 0, 0
	for code, n := range cityCounts {
		cityAll += n
		if cityGroups[code] == 2 {
			group2 += n
		}
	}
	poll(t, ctx, 10*time.Second, `document.querySelectorAll('#targets-city .bar').length > 0 && document.querySelectorAll('#chart-rate-table tbody tr').length === 20`)
	supAccessible(t, ctx, "1440 px, the city")
	if group2 == 0 || group2 == cityAll {
		t.Fatalf("group 2 raises %d of the city's %d flags: the demo ledger cannot show the filter narrowing", group2, cityAll)
	}
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`Number(document.getElementById('flags-total').dataset.flags) === %d`, cityAll))
	supChoose(t, ctx, "group", "2")
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`Number(document.getElementById('flags-total').dataset.flags) !== %d`, cityAll))
	p = eval[supFlagPanel](t, ctx, supFlagRowsJS)
	if api := supGetFlags(t, e, tokAssessor, "group=2"); p.Flags != group2 || api.FlagsTotal != group2 || len(p.Counties) == 0 {
		t.Errorf("with group 2 the flags panel counts %d flags on %d rows; the API %d, the group's counties %d (the city %d)", p.Flags, len(p.Counties), api.FlagsTotal, group2, cityAll)
	}
	for _, c := range p.Counties {
		if cityGroups[c] != 2 {
			t.Errorf("with group 2 the flags panel shows a flag of county %s (group %d)", c, cityGroups[c])
		}
	}
	if opts := eval[int](t, ctx, `document.querySelectorAll('#flags-county option[value]:not([value=""])').length`); opts != len(slices.DeleteFunc(slices.Collect(maps.Values(cityGroups)), func(g int) bool { return g != 2 })) {
		t.Errorf("with group 2 the flags' county menu lists %d counties, not the group's", opts)
	}

	// A payment announced live redraws the counties and their groups' totals of one sequence:
	// a group's row is the sum of its counties' rows (read apart, they could be of two).
	var list struct {
		Employers []struct {
			ID string `json:"employer_id"`
		} `json:"employers"`
	}
	// A payer of group 2, the group chosen: its row moves with the payment.
	var payCounty string
	for _, code := range slices.Sorted(maps.Keys(cityGroups)) {
		if cityGroups[code] == 2 {
			payCounty = code
			break
		}
	}
	decode(t, e.get(t, "/v1/employers?limit=1&county="+payCounty, tokAdmin), &list)
	if len(list.Employers) == 0 {
		t.Fatalf("no employer of %s to pay for", payCounty)
	}
	// The freeze shown, restated by nothing yet.
	run(t, ctx, chromedp.Click(chromedp.CSS(`#freezes tr[data-freeze="`+freeze.ID+`"]`)))
	poll(t, ctx, 10*time.Second, `document.querySelector('#freeze-detail .restatement') !== null && document.querySelector('#restatement-changes') === null`)
	loadID := eval[string](t, ctx, `window.kz.loadId`)
	paid := e.mustWrite(t, empPath(list.Employers[0].ID, "payments"), tokAdmin, paymentBody("LIVE-1", 12345, "2006-12-20")).num("seq")
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.seq >= %d && window.kz.refreshes > 0`, paid))
	if seqs := eval[[]int](t, ctx, `[window.kz.seq, window.kz.groupsSeq]`); seqs[0] != seqs[1] {
		t.Errorf("after a live refresh the counties show sequence %d and the groups' totals %d", seqs[0], seqs[1])
	}
	// The group chosen (2) has its row: each figure that is a sum is its counties' rows' sum.
	if bad := eval[string](t, ctx, `(() => {
		const foot = document.querySelector('#counties-foot tr.total[data-county="group:2"]');
		if (!foot) return 'no row for group 2';
		const bad = [];
		for (const f of ['insured', 'period_collected_fen', 'arrears_current_year_fen', 'arrears_prior_years_fen', 'recovered_fen', 'flags']) {
			let sum = 0;
			for (const tr of document.querySelectorAll('#counties-body tr[data-county]')) sum += Number(tr.querySelector('[data-field="' + f + '"]').dataset.value || 0);
			const g = Number(foot.querySelector('[data-field="' + f + '"]').dataset.value || 0);
			if (g !== sum) bad.push(f + ': group ' + g + ', its counties ' + sum);
		}
		return bad.join('; ');
	})()`); bad != "" {
		t.Errorf("after a live refresh group 2's row is not the sum of its counties': %s", bad)
	}
	// A payer registered in 360702 dated before the freeze's date restates it: the restatement
	// shown says so as the sequence moves, without a reload (it said "no changes" until reopened).
	e.freezeEmployer(t, 1, "360702", 1000000)
	poll(t, ctx, 30*time.Second, `document.querySelector('#restatement-changes tr[data-scope="360702"]') !== null`)
	if eval[string](t, ctx, `window.kz.loadId`) != loadID {
		t.Error("the page was reloaded to show the restatement")
	}
}
