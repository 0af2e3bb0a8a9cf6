package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// The ledger of the any-year tests (issue 13) runs from 2006 into 2007, today being 2007-12-31.
// The admin posts a 2007 rate table whose pension employer rate is 21% (a test value, so that
// 2007 periods are visibly priced by the table in force on their first day: 2900 bp against
// 2006's 2800 bp) and the 2007 targets below. Only pension is declared.
//
//	A 360702: survey 10, pension 8 from 2006-05-01, base 1,000,000 fen.
//	  2006-11 due 280000 (2800 bp), paid 2007-03-10 (overdue since 2006-12-16: recovered).
//	  2007-04 due 290000 (2900 bp), paid on time 2007-05-10; 2007-05 due 290000, paid on time 2007-06-10.
//	  Contracts: 4 signed 2006-09-01, 3 signed 2007-02-01.
//	B 360721: survey 5, pension 5 from 2006-05-01, base 500,000 fen.
//	  2006-12 due 140000 (2800 bp, due 2007-01-15), never paid.
//	  2007-01 due 145000, never paid; 2007-02 due 145000, paid 2007-03-12 (on time);
//	  2007-05 due 145000, 50000 paid 2007-06-10 (on time, partial).
const (
	yearBaseA, yearBaseB = 1000000, 500000
	dueA2006, dueA2007   = 280000, 290000 // 1,000,000 × 2800 / 10000; × 2900 / 10000
	dueB2006, dueB2007   = 140000, 145000 // 500,000 × 2800 / 10000; × 2900 / 10000
	partB2007            = 50000
)

// targets2007 are the 2007 city targets the admin posts.
var targets2007 = map[string]int64{
	domain.TargetPensionInsured: 20, domain.TargetPensionCollectedFen: 2000000,
	domain.TargetUnemploymentInsured: 10, domain.TargetUnemploymentCollected: 100000,
	domain.TargetMedicalInsured: 10, domain.TargetWorkInjuryInsured: 10,
	domain.TargetMaternityInsured: 10, domain.TargetContractsSigned: 10,
}

// yearLedger is the 2006–2007 ledger above, served with today 2007-12-31.
type yearLedger struct {
	*env
	a, b    string
	lastSeq uint64
}

// newYearEnv starts a ledger, a projection runner and the API with the freeze tests' tokens, day
// being today's business date.
func newYearEnv(t *testing.T, day domain.Date) *env {
	t.Helper()
	return serveAssessed(t, storetest.Start(t, eventstore.Config{}), day)
}

// rates2007 is the default rate table with the pension employer rate at 2100 bp from 2007-01-01.
func rates2007(t testing.TB) string {
	t.Helper()
	table := domain.DefaultRates
	table.EffectiveFrom = domain.MustDate("2007-01-01")
	table.Lines = append([]domain.RateLine(nil), table.Lines...)
	for i, l := range table.Lines {
		if l.Insurance == domain.Pension && l.Payer == domain.PayerUnit {
			table.Lines[i].EmployerBP = 2100
		}
	}
	b, err := json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newYearLedger(t *testing.T, withTargets bool) *yearLedger {
	t.Helper()
	l := &yearLedger{env: newYearEnv(t, domain.MustDate("2007-12-31"))}
	write := func(path, body string) {
		t.Helper()
		l.lastSeq = uint64(l.mustWrite(t, path, tokAdmin, body).num("seq"))
	}
	write("/v1/reference/rates", rates2007(t))
	if withTargets {
		b, err := json.Marshal(domain.Targets{EffectiveFrom: domain.MustDate("2007-01-05"), Year: 2007, City: targets2007})
		if err != nil {
			t.Fatal(err)
		}
		write("/v1/reference/targets", string(b))
	}
	employer := func(n int, county string, workforce, insured int) string {
		t.Helper()
		id := l.register(t, tokAdmin, orgCode(n), county)
		write(empPath(id, "surveys"), fmt.Sprintf(`{"as_of":"2006-04-20","workforce":%d}`, workforce))
		write(empPath(id, "enrollments"), fmt.Sprintf(`{"insurance":"pension","headcount":%d,"effective_on":"2006-05-01"}`, insured))
		return id
	}
	declare := func(id, period, declaredOn string, headcount int, base int64) {
		t.Helper()
		write(empPath(id, "declarations"), fmt.Sprintf(
			`{"declared_on":%q,"period":%q,"lines":[{"insurance":"pension","headcount":%d,"wage_base_fen":%d}]}`, declaredOn, period, headcount, base))
	}
	l.a = employer(30000001, "360702", 10, 8)
	l.b = employer(30000002, "360721", 5, 5)
	declare(l.a, "2006-11", "2006-12-05", 8, yearBaseA)
	declare(l.a, "2007-04", "2007-05-05", 8, yearBaseA)
	declare(l.a, "2007-05", "2007-06-05", 8, yearBaseA)
	write(empPath(l.a, "payments"), allocated("A-0611", dueA2006, "2007-03-10", "2006-11"))
	write(empPath(l.a, "payments"), allocated("A-0704", dueA2007, "2007-05-10", "2007-04"))
	write(empPath(l.a, "payments"), allocated("A-0705", dueA2007, "2007-06-10", "2007-05"))
	write(empPath(l.a, "contracts"), `{"signed_on":"2006-09-01","count":4}`)
	write(empPath(l.a, "contracts"), `{"signed_on":"2007-02-01","count":3}`)
	declare(l.b, "2006-12", "2007-01-05", 5, yearBaseB)
	declare(l.b, "2007-01", "2007-02-05", 5, yearBaseB)
	declare(l.b, "2007-02", "2007-03-05", 5, yearBaseB)
	declare(l.b, "2007-05", "2007-06-05", 5, yearBaseB)
	write(empPath(l.b, "payments"), allocated("B-0702", dueB2007, "2007-03-12", "2007-02"))
	write(empPath(l.b, "payments"), allocated("B-0705", partB2007, "2007-06-10", "2007-05"))
	l.waitViews(t, l.lastSeq)
	return l
}

// pensionWant is one county's pension figures as computed by hand.
type pensionWant struct {
	insured, should, paidInsured                      int64
	periodDue, periodCollected, cumDue, cumCollected  int64
	arrearsCurrent, arrearsPrior, recovered, contract int64
}

func checkPension(t *testing.T, what string, f *figures, w pensionWant) {
	t.Helper()
	p := f.pension()
	got := pensionWant{p.Insured, p.ShouldInsure, p.PaidInsured, p.PeriodDueFen, p.PeriodCollectedFen, p.CumulativeDueFen,
		p.CumulativeCollectedFen, p.ArrearsCurrentYearFen, p.ArrearsPriorYearsFen, p.RecoveredFen, f.ContractsSigned}
	if got != w {
		t.Errorf("%s pension figures\n got %+v\nwant %+v", what, got, w)
	}
	if f.ArrearsCurrentYearFen != w.arrearsCurrent || f.ArrearsPriorYearsFen != w.arrearsPrior {
		t.Errorf("%s arrears current %d prior %d, want %d and %d", what, f.ArrearsCurrentYearFen, f.ArrearsPriorYearsFen, w.arrearsCurrent, w.arrearsPrior)
	}
}

// TestFiguresOfAYearAfter2006 reads the figures of 2007 the way 2006's are read.
func TestFiguresOfAYearAfter2006(t *testing.T) {
	t.Parallel()
	l := newYearLedger(t, true)

	t.Run("counties as of 2007-06-30 default to period 2007-05, count 2007 cumulatively and split arrears at 2007", func(t *testing.T) {
		a := l.countiesAt(t, "?as_of=2007-06-30")
		if a.AsOf != "2007-06-30" || a.Period != "2007-05" {
			t.Fatalf("as_of %s period %s, want 2007-06-30 and 2007-05 (due 2007-06-15)", a.AsOf, a.Period)
		}
		// A: 2007-05 paid in full (8 paid insured); cumulative 2007-01..05 is 2007-04 and 2007-05 only,
		// not 2006-11; 2006-11 paid late in 2007 is recovered; 3 contracts signed in 2007.
		checkPension(t, "360702", a.county(t, "360702"), pensionWant{8, 10, 8, dueA2007, dueA2007, 2 * dueA2007, 2 * dueA2007, 0, 0, dueA2006, 3})
		// B: 2007-05 partly paid; cumulative 2007-01, 02, 05; current-year arrears 2007-01 and the rest of
		// 2007-05; prior-year arrears 2006-12 (a 2006 period due in 2007 is still a prior year's).
		checkPension(t, "360721", a.county(t, "360721"), pensionWant{5, 5, 0, dueB2007, partB2007, 3 * dueB2007, dueB2007 + partB2007,
			dueB2007 + dueB2007 - partB2007, dueB2006, 0, 0})
	})

	t.Run("the monthly report of 2007-03 is the figures at 2007-03-31 for period 2007-02", func(t *testing.T) {
		r := l.get(t, "/v1/reports/monthly/2007-03", tokAdmin)
		var a countiesAnswer
		decode(t, r, &a)
		if a.AsOf != "2007-03-31" || a.Period != "2007-02" {
			t.Fatalf("as_of %s period %s, want 2007-03-31 and 2007-02", a.AsOf, a.Period)
		}
		checkPension(t, "360702", a.county(t, "360702"), pensionWant{8, 10, 0, 0, 0, 0, 0, 0, 0, dueA2006, 3})
		checkPension(t, "360721", a.county(t, "360721"), pensionWant{5, 5, 5, dueB2007, dueB2007, 2 * dueB2007, dueB2007, dueB2007, dueB2006, 0, 0})
	})

	t.Run("targets as of 2007-12-31 are the 2007 targets, measured on 2007 periods", func(t *testing.T) {
		tp := l.targetsAt(t, "?as_of=2007-12-31")
		if tp.Year != 2007 || tp.Note != "" {
			t.Errorf("year %d note %q, want 2007 and no note", tp.Year, tp.Note)
		}
		// Collected for 2007 periods: A 2 × 290000, B 145000 + 50000; not A's 2006-11 paid in 2007.
		wantProgress(t, "city", tp.City, map[string][2]int64{
			domain.TargetPensionInsured:      {20, 13},
			domain.TargetPensionCollectedFen: {2000000, 2*dueA2007 + dueB2007 + partB2007},
			domain.TargetContractsSigned:     {10, 3},
		})
		// County targets share the city's by should-insure: 360702 10/15, 360721 5/15, half up.
		wantProgress(t, "360702", tp.Counties["360702"], map[string][2]int64{
			domain.TargetPensionInsured:      {13, 8},
			domain.TargetPensionCollectedFen: {1333333, 2 * dueA2007},
			domain.TargetContractsSigned:     {7, 3},
		})
		wantProgress(t, "360721", tp.Counties["360721"], map[string][2]int64{
			domain.TargetPensionInsured:      {7, 5},
			domain.TargetPensionCollectedFen: {666667, dueB2007 + partB2007},
		})
	})

	t.Run("a freeze valid through 2007-12-31 ranks on the 2007 targets", func(t *testing.T) {
		f := l.freeze(t, tokAssessor, "2007-12-31", 0)
		if fig := l.getFreeze(t, tokAssessor, f.ID).figures(t); fig.AsOf != "2007-12-31" || fig.Period != "2007-11" {
			t.Errorf("freeze as_of %s period %s, want 2007-12-31 and 2007-11", fig.AsOf, fig.Period)
		}
		var a struct {
			Rankings []struct {
				Rank     int         `json:"rank"`
				Code     string      `json:"code"`
				Score    json.Number `json:"score"`
				Measures []progress  `json:"measures"`
			} `json:"rankings"`
		}
		decode(t, l.get(t, "/v1/rankings?freeze="+f.ID, tokAssessor), &a)
		if len(a.Rankings) < 2 || a.Rankings[0].Code != "360702" || a.Rankings[1].Code != "360721" {
			t.Fatalf("rankings %+v, want 360702 first and 360721 second", a.Rankings)
		}
		// Score = mean over 8 measures of min(actual/target, 1.2), each in ppm half up:
		// 360702: 8/13 → 615385, 580000/1333333 → 435000, 3/7 → 428571; 360721: 5/7 → 714286,
		// 195000/666667 → 292500.
		for i, want := range []struct {
			pensionTarget, pensionActual, num int64
		}{{13, 8, 615385 + 435000 + 428571}, {7, 5, 714286 + 292500}} {
			k := a.Rankings[i]
			score, _ := k.Score.Float64()
			if wantScore := float64(want.num) / 8e6; score != wantScore {
				t.Errorf("%s score %v, want %v", k.Code, score, wantScore)
			}
			wantProgress(t, "ranking "+k.Code, k.Measures, map[string][2]int64{domain.TargetPensionInsured: {want.pensionTarget, want.pensionActual}})
		}
	})

	t.Run("the series as of 2007-12-31 defaults to the months of 2007", func(t *testing.T) {
		var s struct {
			Months   []string `json:"months"`
			Counties []struct {
				Code   string  `json:"code"`
				DueFen []int64 `json:"due_fen"`
			} `json:"counties"`
			City struct {
				DueFen       []int64 `json:"due_fen"`
				CollectedFen []int64 `json:"collected_fen"`
			} `json:"city"`
		}
		decode(t, l.get(t, "/v1/series?as_of=2007-12-31", tokAdmin), &s)
		if len(s.Months) != 12 || s.Months[0] != "2007-01" || s.Months[11] != "2007-12" {
			t.Fatalf("months %v, want 2007-01 to 2007-12", s.Months)
		}
		wantDue := []int64{dueB2007, dueB2007, 0, dueA2007, dueA2007 + dueB2007, 0, 0, 0, 0, 0, 0, 0}
		wantCollected := []int64{0, dueB2007, 0, dueA2007, dueA2007 + partB2007, 0, 0, 0, 0, 0, 0, 0}
		if fmt.Sprint(s.City.DueFen) != fmt.Sprint(wantDue) || fmt.Sprint(s.City.CollectedFen) != fmt.Sprint(wantCollected) {
			t.Errorf("city due %v collected %v, want %v and %v", s.City.DueFen, s.City.CollectedFen, wantDue, wantCollected)
		}
	})
}

// TestTargetsOfAYearWithoutTargets: a year without targets answers an empty progress with a note,
// never the targets of an earlier year.
func TestTargetsOfAYearWithoutTargets(t *testing.T) {
	t.Parallel()
	l := newYearLedger(t, false)
	for _, tc := range []struct {
		name, query string
		year        int
	}{
		{"2007 before its targets are posted has none, not 2006's", "?as_of=2007-12-31", 2007},
		{"2005, before the ledger's first targets, has none", "?as_of=2005-12-31", 2005},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := l.targetsAt(t, tc.query)
			if tp.Year != tc.year || len(tp.City) != 0 || len(tp.Counties) != 0 {
				t.Errorf("year %d, %d city measures, %d counties: want %d and an empty progress", tp.Year, len(tp.City), len(tp.Counties), tc.year)
			}
			if want := fmt.Sprintf("no targets recorded for %d", tc.year); !strings.HasPrefix(tp.Note, want) {
				t.Errorf("note %q, want it to begin %q", tp.Note, want)
			}
		})
	}
	t.Run("a freeze of 2007 without 2007 targets ranks no county and says why", func(t *testing.T) {
		f := l.freeze(t, tokAssessor, "2007-12-31", 0)
		var a struct {
			Year     int               `json:"year"`
			Note     string            `json:"note"`
			Rankings []json.RawMessage `json:"rankings"`
		}
		decode(t, l.get(t, "/v1/rankings?freeze="+f.ID, tokAssessor), &a)
		if a.Year != 2007 || len(a.Rankings) != 0 || !strings.HasPrefix(a.Note, "no targets recorded for 2007") {
			t.Errorf("year %d, %d rankings, note %q: want 2007, none, and a note naming 2007", a.Year, len(a.Rankings), a.Note)
		}
	})
	t.Run("2006 keeps its targets", func(t *testing.T) {
		tp := l.targetsAt(t, "?as_of=2006-12-31")
		wantProgress(t, "city", tp.City, map[string][2]int64{domain.TargetPensionInsured: {275000, 13}})
	})
}

// TestTargetsAreThoseInForceOnTheDateRead: a year's targets are dated like all reference data: a
// revision of 2007's from 2007-07-01 measures the reads from that day, the version before it the
// reads before, and none is in force before the first takes effect. A version taking effect after
// its year ended, which no read of the year would meet, is refused and nothing is appended.
func TestTargetsAreThoseInForceOnTheDateRead(t *testing.T) {
	t.Parallel()
	l := newYearLedger(t, true)
	revised := maps.Clone(targets2007)
	revised[domain.TargetPensionInsured] = 40
	b, err := json.Marshal(domain.Targets{EffectiveFrom: domain.MustDate("2007-07-01"), Year: 2007, City: revised})
	if err != nil {
		t.Fatal(err)
	}
	l.waitViews(t, uint64(l.mustWrite(t, "/v1/reference/targets", tokAdmin, string(b)).num("seq")))
	for _, tc := range []struct {
		asOf   string
		target int64 // 0: no targets in force
	}{{"2007-01-04", 0}, {"2007-01-05", 20}, {"2007-06-30", 20}, {"2007-07-01", 40}, {"2007-12-31", 40}} {
		tp := l.targetsAt(t, "?as_of="+tc.asOf)
		if tc.target == 0 {
			if len(tp.City) != 0 || !strings.HasPrefix(tp.Note, "no targets in force for 2007 on "+tc.asOf+": the first version of them takes effect on 2007-01-05") {
				t.Errorf("as of %s: %d city measures, note %q: want none in force yet", tc.asOf, len(tp.City), tp.Note)
			}
			continue
		}
		found := false
		for _, p := range tp.City {
			if p.Measure == domain.TargetPensionInsured {
				found = p.Target == tc.target
			}
		}
		if !found {
			t.Errorf("as of %s the city's pension target is not %d: %+v", tc.asOf, tc.target, tp.City)
		}
	}
	before := l.count()
	late, err := json.Marshal(domain.Targets{EffectiveFrom: domain.MustDate("2008-01-10"), Year: 2007, City: revised})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, l.do(t, req{Path: "/v1/reference/targets", Token: tokAdmin, Body: late}), http.StatusBadRequest, "invalid", "effective_from")
	l.wantUnchanged(t, before)
}

// TestLateFeeAcrossTheSocialInsuranceLaw: a line due 2011-06-15 and paid 2011-08-10 bears 2‰ a day
// through 2011-06-30 and 0.5‰ a day from 2011-07-01.
func TestLateFeeAcrossTheSocialInsuranceLaw(t *testing.T) {
	t.Parallel()
	e := newYearEnv(t, domain.MustDate("2011-12-31"))
	id := e.register(t, tokAdmin, orgCode(30000003), "360702")
	e.mustWrite(t, empPath(id, "declarations"), tokAdmin,
		`{"declared_on":"2011-06-05","period":"2011-05","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`)
	e.mustWrite(t, empPath(id, "payments"), tokAdmin, allocated("L-1105", 280000, "2011-08-10", "2011-05"))
	var st struct {
		Lines []struct {
			Period     string `json:"period"`
			DueDate    string `json:"due_date"`
			DueFen     int64  `json:"due_fen"`
			LateFeeFen int64  `json:"late_fee_fen"`
		} `json:"lines"`
	}
	decode(t, e.get(t, empPath(id, "")+"?as_of=2011-08-31", tokAdmin), &st)
	// 280000 × 20 bp × 15 days (06-16..06-30) = 8400; 280000 × 5 bp × 40 days (07-01..08-09) = 5600;
	// nothing on the day of payment.
	if len(st.Lines) != 1 || st.Lines[0].DueDate != "2011-06-15" || st.Lines[0].DueFen != 280000 || st.Lines[0].LateFeeFen != 8400+5600 {
		t.Errorf("lines %+v, want one line 2011-05 due 280000 on 2011-06-15 with a late fee of 14000", st.Lines)
	}
}

// progress is one measure of a targets or rankings answer.
type progress struct {
	Measure string `json:"measure"`
	Target  int64  `json:"target"`
	Actual  int64  `json:"actual"`
}

// targetsAnswer is GET /v1/targets as a client decodes it.
type targetsAnswer struct {
	Year     int                   `json:"year"`
	Note     string                `json:"note"`
	City     []progress            `json:"city"`
	Counties map[string][]progress `json:"counties"`
}

func (l *yearLedger) targetsAt(t testing.TB, query string) targetsAnswer {
	t.Helper()
	var tp targetsAnswer
	decode(t, l.get(t, "/v1/targets"+query, tokAdmin), &tp)
	return tp
}

func (l *yearLedger) countiesAt(t testing.TB, query string) *countiesAnswer {
	t.Helper()
	var a countiesAnswer
	r := l.get(t, "/v1/counties"+query, tokAdmin)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/counties%s: %s", query, r)
	}
	decode(t, r, &a)
	return &a
}

// wantProgress checks the target and actual of some measures of list.
func wantProgress(t testing.TB, what string, list []progress, want map[string][2]int64) {
	t.Helper()
	for m, w := range want {
		found := false
		for _, p := range list {
			if p.Measure == m {
				found = true
				if p.Target != w[0] || p.Actual != w[1] {
					t.Errorf("%s %s: target %d actual %d, want %d and %d", what, m, p.Target, p.Actual, w[0], w[1])
				}
			}
		}
		if !found {
			t.Errorf("%s: no measure %s in %+v", what, m, list)
		}
	}
}
