// Over 500 lines for a reason: TestProjectionReadsOverASmallLedger builds one ledger and checks
// every read route against figures worked out by hand from its events; its subtests share that
// ledger and those figures, so they stay one function in one file.

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

func TestProjectionReadsOverASmallLedger(t *testing.T) {
	t.Parallel()
	l := newReadLedger(t)
	june := fmt.Sprintf("?period=2006-06&as_of=2006-08-31&min_seq=%d", l.lastSeq)

	t.Run("county figures for 2006-06 as of 2006-08-31 are the hand-computed ones", func(t *testing.T) {
		r := l.get(t, "/v1/counties"+june, tokAdmin)
		if seq, err := strconv.ParseInt(r.Header.Get("X-Ledger-Seq"), 10, 64); err != nil || seq < l.lastSeq {
			t.Errorf("X-Ledger-Seq %q, want at least the last write's %d", r.Header.Get("X-Ledger-Seq"), l.lastSeq)
		}
		var a countiesAnswer
		decode(t, r, &a)
		if a.AsOf != "2006-08-31" || a.Period != "2006-06" || len(a.Counties) != 19 || a.Scope != "city" {
			t.Fatalf("as_of %s, period %s, %d counties, scope %q: want 2006-08-31, 2006-06, 19, city", a.AsOf, a.Period, len(a.Counties), a.Scope)
		}
		c := a.county(t, "360702")
		p := c.pension()
		due := pensionDue(baseA) + pensionDue(baseB)
		collected := pensionDue(baseA) + partB
		arrears := (pensionDue(baseB) - partB) + pensionDue(baseB) // B's 2006-06 rest and its whole 2006-07
		want := []struct {
			name      string
			got, want int64
		}{
			{"employers", c.Employers, 2},
			{"pension insured", p.Insured, 8 + 5},
			{"pension should_insure", p.ShouldInsure, 10 + 7},
			{"pension paid_insured (only A paid 2006-06 in full)", p.PaidInsured, 8},
			{"pension period_due_fen", p.PeriodDueFen, due},
			{"pension period_due_fen (written out)", p.PeriodDueFen, 345679 + 168001},
			{"pension period_collected_fen", p.PeriodCollectedFen, collected},
			{"pension cumulative_due_fen (no earlier 2006 lines)", p.CumulativeDueFen, due},
			{"pension cumulative_collected_fen", p.CumulativeCollectedFen, collected},
			{"pension arrears_current_year_fen", p.ArrearsCurrentYearFen, arrears},
			{"county arrears_current_year_fen", c.ArrearsCurrentYearFen, arrears},
			{"pension arrears_prior_years_fen", p.ArrearsPriorYearsFen, 0},
			{"pension recovered_fen (B paid after 2006-07-15)", p.RecoveredFen, partB},
			{"unemployment should_insure (the survey counts every insurance)", c.Insurances["unemployment"].ShouldInsure, 17},
		}
		for _, w := range want {
			if w.got != w.want {
				t.Errorf("360702 %s = %d, want %d", w.name, w.got, w.want)
			}
		}
		wantRate(t, "360702 pension coverage_rate", p.CoverageRate, 13, 17)
		wantRate(t, "360702 pension contribution_rate", p.ContributionRate, 8, 13)
		wantRate(t, "360702 pension period_collection_rate", p.PeriodCollectionRate, collected, due)
		wantRate(t, "360702 unemployment coverage_rate (0 insured of 17)", c.Insurances["unemployment"].CoverageRate, 0, 17)
		wantRate(t, "360702 unemployment contribution_rate (nobody insured)", c.Insurances["unemployment"].ContributionRate, 0, 0)
		for _, f := range a.Counties {
			wantRatesConsistent(t, f.Code, f)
		}
		wantRatesConsistent(t, "city", a.City)
	})

	t.Run("a county with no employers has every rate null", func(t *testing.T) {
		a := l.counties(t, june, tokAdmin)
		c := a.county(t, "360724")
		if c.Employers != 0 || slices.ContainsFunc(c.sums(), func(v int64) bool { return v != 0 }) {
			t.Errorf("360724 has figures %v, want all 0", c.sums())
		}
		for _, ins := range domain.Insurances {
			x := c.Insurances[string(ins)]
			for name, raw := range map[string]json.RawMessage{"coverage_rate": x.CoverageRate, "contribution_rate": x.ContributionRate,
				"period_collection_rate": x.PeriodCollectionRate, "cumulative_collection_rate": x.CumulativeCollectionRate} {
				if string(raw) != "null" {
					t.Errorf("360724 %s %s = %s, want null", ins, name, raw)
				}
			}
		}
	})

	t.Run("the city sums every county", func(t *testing.T) {
		a := l.counties(t, june, tokAdmin)
		if got, want := a.City.sums(), sumFigures(a.Counties); !slices.Equal(got, want) {
			t.Errorf("city %v, want the sum of the counties %v", got, want)
		}
		if p := a.City.pension(); p.Insured != 26 || p.ShouldInsure != 30 {
			t.Errorf("city pension insured %d of %d, want 26 of 30", p.Insured, p.ShouldInsure)
		}
	})

	t.Run("a group sums its counties", func(t *testing.T) {
		var g struct {
			Group    *figures   `json:"group"`
			Counties []*figures `json:"counties"`
		}
		decode(t, l.get(t, "/v1/groups/1"+june, tokAdmin), &g)
		var codes []string
		for _, c := range g.Counties {
			codes = append(codes, c.Code)
		}
		slices.Sort(codes)
		if want := []string{"360702", "360721", "360724", "360771"}; !slices.Equal(codes, want) {
			t.Fatalf("group 1 counties %v, want %v", codes, want)
		}
		if got, want := g.Group.sums(), sumFigures(g.Counties); !slices.Equal(got, want) {
			t.Errorf("group 1 %v, want the sum of its counties %v", got, want)
		}
		if p := g.Group.pension(); g.Group.Group != 1 || p.Insured != 13+4 || p.ShouldInsure != 17+4 {
			t.Errorf("group %d pension insured %d of %d, want group 1 with 17 of 21", g.Group.Group, p.Insured, p.ShouldInsure)
		}
		wantRatesConsistent(t, "group 1", g.Group)
		var all struct {
			Groups []*figures `json:"groups"`
		}
		decode(t, l.get(t, "/v1/groups"+june, tokAdmin), &all)
		if len(all.Groups) != 6 || !slices.Equal(all.Groups[0].sums(), g.Group.sums()) {
			t.Errorf("/v1/groups: %d groups, the first %v: want 6, the first as /v1/groups/1", len(all.Groups), all.Groups)
		}
	})

	t.Run("tokens cut the reads to their scope", func(t *testing.T) {
		group1 := []string{"360702", "360721", "360724", "360771"}
		cases := []struct {
			name  string
			token string
			want  []string
			scope string
		}{
			{"a supervisor of group 1 sees only group 1's counties", tokSuper, group1, "visible counties"},
			{"a clerk sees only its county", tokClerkA, []string{"360702"}, "visible counties"},
			{"an auditor sees the whole city", tokAuditor, nil, "city"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := l.counties(t, june, c.token)
				if c.want != nil && !slices.Equal(a.codes(), c.want) {
					t.Errorf("counties %v, want %v", a.codes(), c.want)
				}
				if c.want == nil && len(a.Counties) != 19 {
					t.Errorf("%d counties, want 19", len(a.Counties))
				}
				if a.Scope != c.scope {
					t.Errorf("scope %q, want %q", a.Scope, c.scope)
				}
				if got, want := a.City.sums(), sumFigures(a.Counties); !slices.Equal(got, want) {
					t.Errorf("city %v, want the sum of the visible counties %v", got, want)
				}
			})
		}
		errs := []struct {
			name   string
			path   string
			token  string
			status int
			kind   string
			field  string
		}{
			{"a supervisor of group 1 reading a county of group 3 is 403", "/v1/counties/360722", tokSuper, 403, "forbidden", ""},
			{"a supervisor of group 1 reading group 3 is 403", "/v1/groups/3", tokSuper, 403, "forbidden", ""},
			{"a clerk reading another county is 403", "/v1/counties/360721", tokClerkA, 403, "forbidden", ""},
			{"a clerk reading another county's worklist is 403", "/v1/worklists?county=360782", tokClerkA, 403, "forbidden", "county"},
			{"an unknown county code is 404", "/v1/counties/360799", tokAdmin, 404, "not_found", "code"},
			{"group 7 is 404", "/v1/groups/7", tokAdmin, 404, "not_found", "n"},
			{"a period that does not exist is 400 naming period", "/v1/counties?period=2006-13", tokAdmin, 400, "invalid", "period"},
			{"a period that is not a period is 400 naming period", "/v1/counties/360702?period=June", tokAdmin, 400, "invalid", "period"},
			{"as_of 2006-02-30 is 400 naming as_of", "/v1/groups?as_of=2006-02-30", tokAdmin, 400, "invalid", "as_of"},
			{"a read without a token is 401", "/v1/counties", "", 401, "unauthorized", "Authorization"},
		}
		for _, c := range errs {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, l.get(t, c.path, c.token), c.status, c.kind, c.field)
			})
		}
		t.Run("a supervisor of group 1 reading a county of its group is 200", func(t *testing.T) {
			var one struct {
				County *figures `json:"county"`
			}
			decode(t, l.get(t, "/v1/counties/360721"+june, tokSuper), &one)
			if one.County.Code != "360721" || one.County.pension().Insured != 4 {
				t.Errorf("county %+v, want 360721 with 4 insured", one.County)
			}
		})
		t.Run("a supervisor of group 1 sees only group 1 in /v1/groups", func(t *testing.T) {
			var g struct {
				Groups []*figures `json:"groups"`
			}
			decode(t, l.get(t, "/v1/groups", tokSuper), &g)
			if len(g.Groups) != 1 || g.Groups[0].Group != 1 {
				t.Errorf("groups %v, want only group 1", g.Groups)
			}
		})
	})

	t.Run("the employer list shows only employers in scope, filtered and paged", func(t *testing.T) {
		type list struct {
			Total     int `json:"total"`
			Page      int `json:"page"`
			PageSize  int `json:"page_size"`
			Employers []struct {
				EmployerID string `json:"employer_id"`
				Name       string `json:"name"`
				County     string `json:"county"`
			} `json:"employers"`
		}
		cases := []struct {
			name  string
			query string
			token string
			want  []string
		}{
			{"an admin sees every employer, in the order they entered", "", tokAdmin, []string{l.a, l.b, l.c, l.d, l.e}},
			{"a clerk sees its county's employers", "", tokClerkA, []string{l.a, l.b}},
			{"a supervisor sees its group's employers", "", tokSuper, []string{l.a, l.b, l.c}},
			{"county= filters", "?county=360782", tokAdmin, []string{l.d}},
			{"q= filters by name", "?q=" + url.QueryEscape("钨业"), tokAdmin, []string{l.a}},
			{"q= finds an organisation code", "?q=" + orgCode(20000004), tokAdmin, []string{l.d}},
			{"q= respects scope", "?q=" + url.QueryEscape("南康"), tokClerkA, []string{}},
			{"q= that matches nothing is an empty list", "?q=nothing-like-this", tokAdmin, []string{}},
			{"page 2 of a small ledger is empty", "?page=2", tokAdmin, []string{}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := l.get(t, "/v1/employers"+c.query, c.token)
				if r.Header.Get("X-Ledger-Seq") == "" {
					t.Errorf("no X-Ledger-Seq")
				}
				if got := fmt.Sprintf("%T", r.JSON["employers"]); got != "[]interface {}" {
					t.Errorf("employers is %v (%s), want a JSON list, [] when empty: %s", r.JSON["employers"], got, bytes.TrimSpace(r.Raw))
				}
				var ls list
				decode(t, r, &ls)
				var ids []string
				for _, e := range ls.Employers {
					ids = append(ids, e.EmployerID)
				}
				if !slices.Equal(ids, c.want) && !(len(ids) == 0 && len(c.want) == 0) {
					t.Errorf("employers %v, want %v", ids, c.want)
				}
				if ls.PageSize != 100 {
					t.Errorf("page_size %d, want 100", ls.PageSize)
				}
				if c.query == "?page=2" && (ls.Total != 5 || ls.Page != 2) {
					t.Errorf("total %d, page %d: want 5 and 2", ls.Total, ls.Page)
				}
			})
		}
		t.Run("county= outside a clerk's scope is 403", func(t *testing.T) {
			wantError(t, l.get(t, "/v1/employers?county=360782", tokClerkA), 403, "forbidden", "county")
		})
		for _, bad := range []struct{ query, field string }{{"?page=0", "page"}, {"?page=-1", "page"}, {"?page=two", "page"}, {"?county=360799", "county"}} {
			t.Run("bad "+bad.query+" is 400", func(t *testing.T) {
				wantError(t, l.get(t, "/v1/employers"+bad.query, tokAdmin), 400, "invalid", bad.field)
			})
		}
	})

	t.Run("the city's pension_insured target progress is the city's pension insured against 275000", func(t *testing.T) {
		var tp struct {
			Year int    `json:"year"`
			AsOf string `json:"as_of"`
			City []struct {
				Measure string          `json:"measure"`
				Target  int64           `json:"target"`
				Actual  int64           `json:"actual"`
				Rate    json.RawMessage `json:"rate"`
			} `json:"city"`
			Counties map[string]json.RawMessage `json:"counties"`
		}
		decode(t, l.get(t, "/v1/targets", tokAdmin), &tp)
		a := l.counties(t, "", tokAdmin) // the same default query: today and the period last due
		if tp.Year != 2006 || tp.AsOf != "2006-08-31" || len(tp.Counties) != 19 {
			t.Errorf("year %d, as_of %s, %d counties: want 2006, 2006-08-31, 19", tp.Year, tp.AsOf, len(tp.Counties))
		}
		i := slices.IndexFunc(tp.City, func(p struct {
			Measure string          `json:"measure"`
			Target  int64           `json:"target"`
			Actual  int64           `json:"actual"`
			Rate    json.RawMessage `json:"rate"`
		}) bool {
			return p.Measure == "pension_insured"
		})
		if i < 0 {
			t.Fatalf("no pension_insured in the city's progress: %+v", tp.City)
		}
		p := tp.City[i]
		if p.Target != 275000 || p.Actual != a.City.pension().Insured || p.Actual != 26 {
			t.Errorf("pension_insured target %d, actual %d: want 275000 and the city's pension insured %d (26)", p.Target, p.Actual, a.City.pension().Insured)
		}
		wantRate(t, "pension_insured rate", p.Rate, 26, 275000)
		var clerk struct {
			Counties map[string]json.RawMessage `json:"counties"`
		}
		decode(t, l.get(t, "/v1/targets", tokClerkA), &clerk)
		if len(clerk.Counties) != 1 || clerk.Counties["360702"] == nil {
			t.Errorf("a clerk's targets show counties %v, want only 360702", clerk.Counties)
		}
	})

	t.Run("worklists", func(t *testing.T) {
		type item struct {
			Kind       string `json:"kind"`
			EmployerID string `json:"employer_id"`
			County     string `json:"county"`
			Since      string `json:"since"`
		}
		cases := []struct {
			name  string
			query string
			token string
			want  []item
		}{
			{"an enrolled employer with no line for 2006-07 and a notice past its deadline with arrears", "", tokAdmin, []item{
				{"no_line_for_due_period", l.c, "360721", "2006-08-15"},
				{"notice_past_deadline", l.d, "360782", "2006-08-20"},
			}},
			{"a notice is not listed before its deadline has passed", "?as_of=2006-08-19", tokAdmin, []item{
				{"no_line_for_due_period", l.c, "360721", "2006-08-15"},
			}},
			{"county= keeps one county", "?county=360782", tokAdmin, []item{{"notice_past_deadline", l.d, "360782", "2006-08-20"}}},
			{"a supervisor of group 1 sees its counties' items only", "", tokSuper, []item{{"no_line_for_due_period", l.c, "360721", "2006-08-15"}}},
			{"a clerk with nothing to do gets an empty list", "", tokClerkA, []item{}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var w struct {
					AsOf  string `json:"as_of"`
					Items []item `json:"items"`
				}
				r := l.get(t, "/v1/worklists"+c.query, c.token)
				decode(t, r, &w)
				if w.Items == nil {
					t.Errorf("items is not a list: %s", r.Raw)
				}
				slices.SortFunc(w.Items, func(x, y item) int { return strings.Compare(x.Kind, y.Kind) })
				if !slices.Equal(w.Items, c.want) && !(len(w.Items) == 0 && len(c.want) == 0) {
					t.Errorf("items %+v, want %+v", w.Items, c.want)
				}
			})
		}
	})

	t.Run("the monthly report of 2006-07", func(t *testing.T) {
		var m struct {
			Month    string     `json:"month"`
			AsOf     string     `json:"as_of"`
			Period   string     `json:"period"`
			Counties []*figures `json:"counties"`
			City     *figures   `json:"city"`
		}
		decode(t, l.get(t, "/v1/reports/monthly/2006-07", tokAdmin), &m)
		if m.Month != "2006-07" || m.AsOf != "2006-07-31" || m.Period != "2006-06" || len(m.Counties) != 19 {
			t.Fatalf("month %s, as_of %s, period %s, %d counties: want 2006-07, 2006-07-31 (end of month), 2006-06 (last due), 19",
				m.Month, m.AsOf, m.Period, len(m.Counties))
		}
		if got, want := m.City.sums(), sumFigures(m.Counties); !slices.Equal(got, want) {
			t.Errorf("city %v, want the sum of the counties %v", got, want)
		}
		ja := &countiesAnswer{Counties: m.Counties}
		p := ja.county(t, "360702").pension()
		// On 2006-07-31 B's 2006-06 rest is in arrears; the 2006-07 declarations came in August.
		if p.ArrearsCurrentYearFen != pensionDue(baseB)-partB || p.PeriodCollectedFen != pensionDue(baseA)+partB {
			t.Errorf("360702 pension arrears %d, collected %d: want %d and %d", p.ArrearsCurrentYearFen, p.PeriodCollectedFen,
				pensionDue(baseB)-partB, pensionDue(baseA)+partB)
		}
		want := []string{"360702", "章贡区", "pension", i64s(p.Insured), i64s(p.ShouldInsure), bpHalfUp(p.Insured, p.ShouldInsure),
			i64s(p.PaidInsured), bpHalfUp(p.PaidInsured, p.Insured), i64s(p.PeriodDueFen), i64s(p.PeriodCollectedFen),
			bpHalfUp(p.PeriodCollectedFen, p.PeriodDueFen), i64s(p.CumulativeDueFen), i64s(p.CumulativeCollectedFen),
			bpHalfUp(p.CumulativeCollectedFen, p.CumulativeDueFen), i64s(p.ArrearsCurrentYearFen), i64s(p.ArrearsPriorYearsFen),
			i64s(p.RecoveredFen), "2006-06", "2006-07-31", i64s(p.PriorYearsRecoveredFen)}
		if want[5] != "7647" || want[7] != "6154" { // 13/17 and 8/13, half up
			t.Fatalf("hand check of the basis points: %s and %s, want 7647 and 6154", want[5], want[7])
		}

		res, body := l.rawGet(t, "/v1/reports/monthly/2006-07?format=csv", tokAdmin)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %q: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		rows, err := tableCSV(t, body)
		if err != nil {
			t.Fatalf("the csv does not parse: %v", err)
		}
		if len(rows) != 1+20*5 || len(rows[0]) != 21 || !strings.Contains(rows[0][0], "county") {
			t.Fatalf("csv has %d rows (header %v), want a header, 19 × 5 rows and the city's 5, of 21 columns", len(rows), rows[0])
		}
		i := slices.IndexFunc(rows, func(r []string) bool { return r[0] == "360702" && r[2] == "pension" })
		if i < 0 || !slices.Equal(rows[i][:20], want) || (rows[i][20] == "") != (string(p.RecoveryRate) == "null") {
			t.Errorf("csv row of 360702 pension\n%q\nwant (from the json)\n%q and a recovery rate of %s", rows[max(i, 0)], want, p.RecoveryRate)
		}
		// The city's rows close the table: the counties summed, as the json's city.
		city := m.City.Insurances["pension"]
		last := rows[len(rows)-5]
		if last[0] != "" || last[1] != "全市合计 city" || last[2] != "pension" || last[3] != i64s(city.Insured) || last[8] != i64s(city.PeriodDueFen) || last[16] != i64s(city.RecoveredFen) {
			t.Errorf("the csv's first total row %q, want the city's pension (insured %d, period due %d, recovered %d)", last, city.Insured, city.PeriodDueFen, city.RecoveredFen)
		}
		if j := slices.IndexFunc(rows, func(r []string) bool { return r[0] == "360724" && r[2] == "pension" }); j < 0 || rows[j][5] != "" || rows[j][10] != "" {
			t.Errorf("csv row of 360724 pension %q: want empty rates (denominator 0)", rows[max(j, 0)])
		}

		res, body = l.rawGet(t, "/v1/reports/monthly/2006-07?format=xlsx", tokAdmin)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			t.Fatalf("xlsx: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("the xlsx does not open: %v", err)
		}
		defer f.Close()
		// The workbook is dated as the report is (midnight of its as_of in China), made by the
		// ledger: not the spreadsheet library's own author and date (an outside review).
		if props, err := f.GetDocProps(); err != nil || props.Creator != "kuozheng" || props.Created != "2006-07-30T16:00:00Z" || props.Modified != props.Created {
			t.Errorf("the workbook's properties %+v (%v): want made by kuozheng on 2006-07-31 in China (2006-07-30T16:00:00Z)", props, err)
		}
		sheets := f.GetSheetList()
		if len(sheets) != 1 {
			t.Fatalf("sheets %v, want one", sheets)
		}
		xrows, err := f.GetRows(sheets[0])
		if err != nil {
			t.Fatal(err)
		}
		xrows = padRows(xrows)
		if len(xrows) != len(rows) {
			t.Fatalf("xlsx has %d rows, the csv %d", len(xrows), len(rows))
		}
		for k := range rows {
			if !slices.Equal(xrows[k], rows[k]) {
				t.Errorf("xlsx row %d %q, csv %q", k+1, xrows[k], rows[k])
			}
		}

		t.Run("a clerk's csv holds only its county", func(t *testing.T) {
			res, body := l.rawGet(t, "/v1/reports/monthly/2006-07?format=csv", tokClerkA)
			rows, err := tableCSV(t, body)
			if res.StatusCode != 200 || err != nil || len(rows) != 1+5+5 || rows[len(rows)-1][1] != "本辖区合计 visible counties" {
				t.Errorf("%d, %d rows (%v): want 200 with a header, 5 rows and 5 of their total, not the city's", res.StatusCode, len(rows), err)
			}
		})
		for _, c := range []struct{ name, path, field string }{
			{"format=docx is 400", "/v1/reports/monthly/2006-07?format=docx", "format"},
			{"a month that has not begun (2007-01 on 2006-08-31) is 400", "/v1/reports/monthly/2007-01", "month"},
			{"the next month (2006-09 on 2006-08-31) is 400", "/v1/reports/monthly/2006-09?format=csv", "month"},
			{"month 2006-13 is 400", "/v1/reports/monthly/2006-13", "month"},
		} {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, l.get(t, c.path, tokAdmin), 400, "invalid", c.field)
			})
		}
	})

	t.Run("readyz answers 200 once caught up", func(t *testing.T) {
		r := l.get(t, "/readyz", "")
		if r.Status != 200 || r.str("status") != "ready" || r.num("seq") < l.lastSeq {
			t.Errorf("/readyz %s, want 200 ready with seq ≥ %d", r, l.lastSeq)
		}
	})

	t.Run("read your writes: min_seq of a payment's seq shows the payment", func(t *testing.T) {
		july := "/v1/counties/360702?period=2006-07&as_of=2006-08-31"
		collected := func(r resp) int64 {
			t.Helper()
			var one struct {
				County *figures `json:"county"`
			}
			decode(t, r, &one)
			return one.County.pension().PeriodCollectedFen
		}
		before := collected(l.get(t, july+fmt.Sprintf("&min_seq=%d", l.lastSeq), tokAdmin))
		pay := l.mustWrite(t, empPath(l.b, "payments"), tokClerkA, allocated("B-07a", 1000, "2006-08-31", "2006-07"))
		s := pay.num("seq")
		r := l.get(t, july+fmt.Sprintf("&min_seq=%d", s), tokAdmin)
		if seq, err := strconv.ParseInt(r.Header.Get("X-Ledger-Seq"), 10, 64); err != nil || seq < s {
			t.Errorf("X-Ledger-Seq %q, want at least the payment's %d", r.Header.Get("X-Ledger-Seq"), s)
		}
		if got := collected(r); got != before+1000 {
			t.Errorf("360702 pension collected for 2006-07 = %d after the payment, want %d + 1000", got, before)
		}
		for _, bad := range []string{"abc", "-1", "1.5"} {
			wantError(t, l.get(t, "/v1/counties?min_seq="+bad, tokAdmin), 400, "invalid", "min_seq")
		}
	})

	t.Run("live streams an event when the views advance", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.srv.URL+"/v1/live", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tokAdmin)
		res, err := l.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("/v1/live: %d %q, want 200 text/event-stream", res.StatusCode, res.Header.Get("Content-Type"))
		}
		events := sseEvents(res.Body)
		next := func() liveEvent {
			t.Helper()
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatal("the event stream ended")
				}
				return ev
			case <-time.After(5 * time.Second):
				t.Fatal("no event within 5 s")
			}
			return liveEvent{}
		}
		first := next()
		if first.Event != "views" || first.Data.Seq <= 0 || first.ID != strconv.FormatInt(first.Data.Seq, 10) || first.Data.City == nil {
			t.Fatalf("first event %+v: want event views with id = data.seq and the city's figures", first)
		}
		pay := l.mustWrite(t, empPath(l.b, "payments"), tokAdmin, allocated("B-07b", 2000, "2006-08-31", "2006-07"))
		for {
			ev := next()
			if ev.Event != "views" {
				t.Fatalf("event %+v, want views", ev)
			}
			if ev.Data.Seq >= pay.num("seq") {
				if ev.Data.Seq <= first.Data.Seq {
					t.Fatalf("a later event's seq %d is not above the first's %d", ev.Data.Seq, first.Data.Seq)
				}
				break
			}
		}
		cancel()
	})
}

// A min_seq the views have not reached within 5 s answers 503 naming min_seq, with Retry-After;
// one past the stream's last sequence, which no write was answered with, is refused at once.
// The 503 case waits out the 5 s, so it runs in parallel with the other read tests.
func TestMinSeqNotReachedAnswers503AndOnePastTheStreamIsRefused(t *testing.T) {
	t.Parallel()
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), today: readDay}
	e.loadTokens()
	// Views that stop following once caught up: what is written after, they never reach.
	ctx, cancel := context.WithCancel(context.Background())
	e.runner = projections.NewRunner(e.l.Store, projections.RunnerConfig{NoSnapshots: true})
	if err := e.runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.CheckFor(t, time.Minute, 5*time.Millisecond, func() error {
		if !e.runner.Ready() {
			return fmt.Errorf("the views are at %d", e.runner.Seq())
		}
		return nil
	})
	cancel()
	e.runner.Wait()
	e.serve()
	seq := e.runner.Seq()
	r := e.post(t, "/v1/employers", tokAdmin, registration(orgA, "360702"))
	written := uint64(r.num("seq"))
	if written <= seq {
		t.Fatalf("the write answered sequence %d, not past %d", written, seq)
	}
	r = e.get(t, fmt.Sprintf("/v1/counties?min_seq=%d", written), tokAdmin)
	wantError(t, r, http.StatusServiceUnavailable, "unavailable", "min_seq")
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	for _, path := range []string{"/v1/counties", "/v1/freezes"} {
		r = e.get(t, fmt.Sprintf("%s?min_seq=%d", path, written+1000), tokAdmin)
		wantError(t, r, http.StatusBadRequest, "invalid", "min_seq")
	}
}

func TestReadsWithoutARunnerAnswer503(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/readyz", "/v1/counties", "/v1/employers", "/v1/reports/monthly/2006-07"} {
		t.Run(path, func(t *testing.T) {
			r := e.get(t, path, "")
			if r.Status != http.StatusServiceUnavailable {
				t.Errorf("%s, want 503", r)
			}
		})
	}
}

// The employer list's pages, read one after the other, hold every employer in scope once, in
// the order they entered, each page with the total; the page after the last is empty.
func TestTheEmployerListsPagesHoldEveryEmployerOnce(t *testing.T) {
	e := newFreezeEnv(t, 250)
	for _, tok := range []string{tokAdmin, tokClerkA} {
		var all []string
		total := -1
		for page := 1; ; page++ {
			var ls struct {
				Total     int `json:"total"`
				Employers []struct {
					EmployerID string `json:"employer_id"`
					County     string `json:"county"`
				} `json:"employers"`
			}
			decode(t, e.get(t, fmt.Sprintf("/v1/employers?page=%d", page), tok), &ls)
			if total >= 0 && ls.Total != total {
				t.Fatalf("%s: page %d says %d employers, page 1 said %d", tok, page, ls.Total, total)
			}
			total = ls.Total
			if len(ls.Employers) == 0 {
				break
			}
			if len(ls.Employers) > 100 || (len(all)+len(ls.Employers) < total && len(ls.Employers) != 100) {
				t.Fatalf("%s: page %d holds %d employers of %d", tok, page, len(ls.Employers), total)
			}
			for _, em := range ls.Employers {
				if tok == tokClerkA && em.County != "360702" {
					t.Fatalf("clerk of 360702 sees an employer of %s", em.County)
				}
				all = append(all, em.EmployerID)
			}
		}
		var want []string
		e.runner.View(func(l *projections.Ledger) {
			for _, id := range l.Order {
				if tok == tokAdmin || l.Employers.Get(id).County == "360702" {
					want = append(want, id)
				}
			}
		})
		if !slices.Equal(all, want) || total != len(want) {
			t.Errorf("%s: the pages hold %d employers (total %d), want the %d in scope in order", tok, len(all), total, len(want))
		}
		if tok == tokAdmin && len(want) < 201 {
			t.Fatalf("the ledger has %d employers: too few for three pages", len(want))
		}
	}
}

// GET /v1/counties?with=groups answers the groups' totals the reader may read, as GET /v1/groups
// does, of the same sequence as the counties: the dashboard read the two apart, and a group's
// row could be of another sequence than its counties' under writes (a supervisor saw one).
func TestCountiesWithGroupsAnswerBothOfOneSequence(t *testing.T) {
	e := newReadEnv(t, today)
	id := e.register(t, tokClerkA, orgCode(9600), "360702")
	// The write's own sequence: the store may not have folded it yet when the write answers.
	last := e.mustWrite(t, empPath(id, "surveys"), tokClerkA, `{"as_of":"2006-05-01","workforce":7}`).num("seq")
	e.waitViews(t, uint64(last))
	type answer struct {
		Seq      uint64            `json:"seq"`
		Counties []json.RawMessage `json:"counties"`
		Groups   []json.RawMessage `json:"groups"`
	}
	for _, tok := range []string{tokAdmin, tokSuper, tokClerkA} {
		var both, counties, groups answer
		decode(t, e.get(t, "/v1/counties?with=groups", tok), &both)
		decode(t, e.get(t, "/v1/counties", tok), &counties)
		decode(t, e.get(t, "/v1/groups", tok), &groups)
		if both.Seq != counties.Seq || both.Seq != groups.Seq {
			t.Fatalf("%s: sequences %d, %d and %d on a quiet ledger", tok, both.Seq, counties.Seq, groups.Seq)
		}
		if fmt.Sprint(both.Counties) != fmt.Sprint(counties.Counties) || fmt.Sprint(both.Groups) != fmt.Sprint(groups.Groups) || both.Groups == nil {
			t.Errorf("%s: with=groups answers %d counties and %d groups, not those of /v1/counties (%d) and /v1/groups (%d)",
				tok, len(both.Counties), len(both.Groups), len(counties.Counties), len(groups.Groups))
		}
		if counties.Groups != nil {
			t.Errorf("%s: /v1/counties without with=groups answers groups", tok)
		}
	}
	wantError(t, e.get(t, "/v1/counties?with=group", tokAdmin), http.StatusBadRequest, "invalid", "with")
}
