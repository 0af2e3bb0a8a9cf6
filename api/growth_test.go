package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// baselineBody is a baseline of 2005 for every county of 2006: pension in every county (all 0
// but in 360702, 360721 and 360782), work injury in 360702 and 360721 only.
func baselineBody(from, source string, pension721 string) string {
	counties := []string{
		`"360702":{"pension":{"insured":40,"should_insure":50,"paid_insured":30,"due_fen":1000000,"collected_fen":800000},` +
			`"work_injury":{"insured":10,"should_insure":50,"paid_insured":10,"due_fen":5000,"collected_fen":5000}}`,
		`"360721":{"pension":` + pension721 + `,` +
			`"work_injury":{"insured":1,"should_insure":20000,"paid_insured":1,"due_fen":100,"collected_fen":100}}`,
		`"360782":{"pension":{"insured":4,"should_insure":10,"paid_insured":4,"due_fen":100000,"collected_fen":100000}}`,
	}
	for _, c := range domain.DefaultCounties {
		if c.Code != "360702" && c.Code != "360721" && c.Code != "360782" {
			counties = append(counties, fmt.Sprintf(`%q:{"pension":{"insured":0,"should_insure":0,"paid_insured":0,"due_fen":0,"collected_fen":0}}`, c.Code))
		}
	}
	return fmt.Sprintf(`{"effective_from":%q,"year":2005,"source":%q,"counties":{%s}}`, from, source, strings.Join(counties, ","))
}

// growthLedger is the ledger of the growth tests (business date 2006-12-31). Enterprises are
// registered on 2006-04-03, surveyed on 2006-04-20, enrolled in pension from 2006-05-01, and
// declare 2006-11 (due 2006-12-15) on 2006-12-05, pension at 28%:
//
//	360702 K1 survey 30, pension 27, base 2,700,000: due 756000, paid on 2006-12-10.
//	       K2 survey 20, pension 17, base 1,700,000: due 476000, 276000 paid on 2006-12-10.
//	360721 K3 survey 25, pension 25, base 2,000,000: due 560000, paid on 2006-12-10.
//	360782 K4 survey 10, pension 5, base 500,000: due 140000, nothing paid.
//
// and two versions of 2005's baseline (baselineBody): from 2006-01-01 with 360721's pension
// 20 insured of 25, 20 paid, 500000 due and collected; from 2006-12-20 ("corrected") with 25 of
// 25, 25 paid, 560000 due and collected.
func growthLedger(t *testing.T) (*env, int64) {
	t.Helper()
	e, _ := growthFirstBaseline(t)
	last := e.mustWrite(t, "/v1/reference/baselines", tokAdmin, baselineBody("2006-12-20", "2005年报（更正）",
		`{"insured":25,"should_insure":25,"paid_insured":25,"due_fen":560000,"collected_fen":560000}`)).num("seq")
	return e, last
}

// growthFirstBaseline is growthLedger before its corrected baseline: the four payers and the
// first version of 2005's baseline; it answers the sequence of its last write.
func growthFirstBaseline(t *testing.T) (*env, int64) {
	t.Helper()
	e := serveAssessed(t, storetest.Start(t, eventstore.Config{}), today)
	var last int64
	write := func(path, body string) {
		t.Helper()
		last = e.mustWrite(t, path, tokAdmin, body).num("seq")
	}
	payer := func(n int, county string, workforce, insured int, base, paid int64) {
		t.Helper()
		id := e.register(t, tokAdmin, orgCode(n), county)
		write(empPath(id, "surveys"), fmt.Sprintf(`{"as_of":"2006-04-20","workforce":%d}`, workforce))
		write(empPath(id, "enrollments"), fmt.Sprintf(`{"insurance":"pension","headcount":%d,"effective_on":"2006-05-01"}`, insured))
		write(empPath(id, "declarations"), fmt.Sprintf(`{"declared_on":"2006-12-05","period":"2006-11","lines":[{"insurance":"pension","headcount":%d,"wage_base_fen":%d}]}`, insured, base))
		if paid > 0 {
			write(empPath(id, "payments"), allocated(fmt.Sprint("K", n), paid, "2006-12-10", "2006-11"))
		}
	}
	payer(34000001, "360702", 30, 27, 2700000, 756000)
	payer(34000002, "360702", 20, 17, 1700000, 276000)
	payer(34000003, "360721", 25, 25, 2000000, 560000)
	payer(34000004, "360782", 10, 5, 500000, 0)
	write("/v1/reference/baselines", baselineBody("2006-01-01", "2005年报（测试）",
		`{"insured":20,"should_insure":25,"paid_insured":20,"due_fen":500000,"collected_fen":500000}`))
	return e, last
}

// growthAnswer is an insurance's growth as a client decodes it.
type growthAnswer struct {
	BaselineYear             int              `json:"baseline_year"`
	Baseline                 map[string]int64 `json:"baseline"`
	BaselineCoverageRate     json.RawMessage  `json:"baseline_coverage_rate"`
	CoverageGrowthBP         *int64           `json:"coverage_growth_bp"`
	BaselineContributionRate json.RawMessage  `json:"baseline_contribution_rate"`
	ContributionGrowthBP     *int64           `json:"contribution_growth_bp"`
	BaselineCollectionRate   json.RawMessage  `json:"baseline_collection_rate"`
	CollectionGrowthBP       *int64           `json:"collection_growth_bp"`
	Synchronised             *bool            `json:"synchronised"`
}

// growthFigures are a county's (group's, city's) figures the growth tests read.
type growthFigures struct {
	Code         string `json:"code"`
	Group        int    `json:"group"`
	Synchronised *bool  `json:"synchronised"`
	Insurances   map[string]struct {
		Growth *growthAnswer `json:"growth"`
	} `json:"insurances"`
}

// g is a hand-computed growth: the baseline's parts (insured, should-insure, paid-insured, due,
// collected), the growth of coverage, contribution and collection in basis points (nil: null)
// and whether they grew together (nil: null).
type g struct {
	base         [5]int64
	cov, con, co *int64
	sync         *bool
}

func bp(v int64) *int64 { return &v }
func yes() *bool        { v := true; return &v }
func no() *bool         { v := false; return &v }

func (w g) check(t *testing.T, what string, got *growthAnswer) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no growth", what)
		return
	}
	b := got.Baseline
	if got.BaselineYear != 2005 || [5]int64{b["insured"], b["should_insure"], b["paid_insured"], b["due_fen"], b["collected_fen"]} != w.base {
		t.Errorf("%s: baseline %d %v, want 2005 %v", what, got.BaselineYear, b, w.base)
	}
	wantRate(t, what+" baseline_coverage_rate", got.BaselineCoverageRate, w.base[0], w.base[1])
	wantRate(t, what+" baseline_contribution_rate", got.BaselineContributionRate, w.base[2], w.base[0])
	wantRate(t, what+" baseline_collection_rate", got.BaselineCollectionRate, w.base[4], w.base[3])
	show := func(p *int64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	showB := func(p *bool) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	if a, b := fmt.Sprint(show(got.CoverageGrowthBP), show(got.ContributionGrowthBP), show(got.CollectionGrowthBP), showB(got.Synchronised)),
		fmt.Sprint(show(w.cov), show(w.con), show(w.co), showB(w.sync)); a != b {
		t.Errorf("%s: growth (coverage, contribution, collection bp; synchronised) %s, want %s", what, a, b)
	}
}

func TestEachRateGrowsFromItsBaselineAndTheCountySaysWhetherAllThreeGrew(t *testing.T) {
	e, last := growthLedger(t)
	// 360702 pension on 2006-12-15 and 2006-12-31: insured 27 + 17 = 44 of 50; paid in full K1's
	// 27 (K2 owes 200000); due 756000 + 476000 = 1232000, collected 756000 + 276000 = 1032000.
	//   coverage 44/50 − 40/50 = +800 bp; contribution 27/44 − 30/40 = −6/44 = −1363.6 → −1364;
	//   collection 1032000/1232000 − 0.8 = +376.6 → +377: the contribution fell, not synchronised.
	pension702 := g{[5]int64{40, 50, 30, 1000000, 800000}, bp(800), bp(-1364), bp(377), no()}
	// 360702 work injury: nobody insured of 50: 0 − 10/50 = −2000; no insured, no line: null.
	injury702 := g{[5]int64{10, 50, 10, 5000, 5000}, bp(-2000), nil, nil, nil}
	// 360721 work injury: 0/25 − 1/20000 = −0.5 bp, rounded away from zero: −1.
	injury721 := g{[5]int64{1, 20000, 1, 100, 100}, bp(-1), nil, nil, nil}
	// 360782 pension: 5/10 − 4/10 = +1000; 0/5 − 4/4 = −10000; 0/140000 − 1 = −10000.
	pension782 := g{[5]int64{4, 10, 4, 100000, 100000}, bp(1000), bp(-10000), bp(-10000), no()}
	tests := []struct {
		name, query string
		// want: by scope ("360702", "group:1", "city") and insurance; a scope or insurance
		// not listed must have no growth. sync: the figures' synchronised (nil: absent).
		want map[string]map[string]g
		sync map[string]*bool
	}{
		{
			name: "the first version: 360721's three rates grew or held, 360702's contribution fell", query: "as_of=2006-12-15&period=2006-11",
			want: map[string]map[string]g{
				"360702": {"pension": pension702, "work_injury": injury702},
				// 25/25 − 20/25 = +2000; 25/25 − 20/20 = 0; 560000/560000 − 1 = 0: none fell.
				"360721": {"pension": {[5]int64{20, 25, 20, 500000, 500000}, bp(2000), bp(0), bp(0), yes()}, "work_injury": injury721},
				"360782": {"pension": pension782},
				// Group 1 (360702, 360771, 360721, 360724, the two others all 0): now 69 of 75,
				// 52 paid, 1592000 of 1792000; then 60 of 75, 50, 1300000 of 1500000:
				// +9/75 = +1200; 52/69 − 5/6 = −33/414 → −797; 199/224 − 13/15 = 73/3360 → +217.
				// Work injury: 360771 and 360724 have no baseline of it, so the group has none.
				"group:1": {"pension": {[5]int64{60, 75, 50, 1500000, 1300000}, bp(1200), bp(-797), bp(217), no()}},
				// The city: now 74 of 85, 52 paid, 1592000 of 1932000; then 64 of 85, 54,
				// 1400000 of 1600000: +10/85 → +1176; 26/37 − 27/32 = −167/1184 → −1410;
				// 398/483 − 7/8 = −197/3864 → −510.
				"city": {"pension": {[5]int64{64, 85, 54, 1600000, 1400000}, bp(1176), bp(-1410), bp(-510), no()}},
			},
			sync: map[string]*bool{"360702": no(), "360721": yes(), "360782": no(), "group:1": no(), "city": no()},
		},
		{
			name: "the corrected version from its date: 360721 held all three, which is no growth", query: "as_of=2006-12-31",
			want: map[string]map[string]g{
				"360702": {"pension": pension702, "work_injury": injury702},
				"360721": {"pension": {[5]int64{25, 25, 25, 560000, 560000}, bp(0), bp(0), bp(0), no()}, "work_injury": injury721},
				"360782": {"pension": pension782},
				// then 65 of 75, 55, 1360000 of 1560000: +4/75 → +533; 52/69 − 11/13 = −83/897
				// → −925; 199/224 − 34/39 = 145/8736 → +166.
				"group:1": {"pension": {[5]int64{65, 75, 55, 1560000, 1360000}, bp(533), bp(-925), bp(166), no()}},
				// then 69 of 85, 59, 1460000 of 1660000: +5/85 → +588; 26/37 − 59/69 =
				// −389/2553 → −1524; 398/483 − 73/83 = −2225/40089 → −555.
				"city": {"pension": {[5]int64{69, 85, 59, 1660000, 1460000}, bp(588), bp(-1524), bp(-555), no()}},
			},
			sync: map[string]*bool{"360702": no(), "360721": no(), "360782": no(), "group:1": no(), "city": no()},
		},
		{name: "no baseline is in force before its effective date", query: "as_of=2005-12-31"},
		{name: "a segment's figures have no baseline", query: "as_of=2006-12-31&segment=non_public"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var counties struct {
				Counties []growthFigures `json:"counties"`
				City     growthFigures   `json:"city"`
			}
			r := e.get(t, fmt.Sprintf("/v1/counties?%s&min_seq=%d", tt.query, last), tokAdmin)
			decode(t, r, &counties)
			var groups struct {
				Groups []growthFigures `json:"groups"`
			}
			decode(t, e.get(t, fmt.Sprintf("/v1/groups?%s&min_seq=%d", tt.query, last), tokAdmin), &groups)
			all := map[string]growthFigures{"city": counties.City}
			for _, c := range counties.Counties {
				all[c.Code] = c
			}
			for _, gr := range groups.Groups {
				all[fmt.Sprint("group:", gr.Group)] = gr
			}
			for scope, f := range all {
				_, listed := tt.want[scope]
				// Counties not listed have a baseline of 0 and no payer: every rate null, so
				// not synchronised either way; groups not listed are not checked.
				if listed || len(tt.want) == 0 || !strings.HasPrefix(scope, "group:") {
					if a, b := fmt.Sprint(f.Synchronised != nil && *f.Synchronised, f.Synchronised == nil), fmt.Sprint(tt.sync[scope] != nil && *tt.sync[scope], tt.sync[scope] == nil); a != b {
						t.Errorf("%s: synchronised (value, absent) %s, want %s", scope, a, b)
					}
				}
				for _, ins := range domain.Insurances {
					got := f.Insurances[string(ins)].Growth
					if want, ok := tt.want[scope][string(ins)]; ok {
						want.check(t, scope+" "+string(ins), got)
					} else if got != nil && (listed || len(tt.want) == 0) {
						t.Errorf("%s %s: growth %+v, want none", scope, ins, got)
					}
				}
			}
			if len(tt.want) == 0 && strings.Contains(string(r.Raw), `"growth"`) {
				t.Errorf("the answer holds growth: %.300s", r.Raw)
			}
		})
	}
}

// TestAFreezeCarriesTheGrowthAndReproducesItsDigest: a freeze valid through 2006-12-31 holds
// each county's growth and synchronised as the live read of that date gives them, and a fold
// from sequence 1 reproduces it.
func TestAFreezeCarriesTheGrowthAndReproducesItsDigest(t *testing.T) {
	e, last := growthLedger(t)
	e.waitViews(t, uint64(last))
	m := e.freeze(t, tokAssessor, "2006-12-31", uint64(last))
	e.reproduced(t, m.ID)
	frozen := e.getFreeze(t, tokAssessor, m.ID).figures(t)
	var live struct {
		Counties []json.RawMessage `json:"counties"`
		City     json.RawMessage   `json:"city"`
	}
	decode(t, e.get(t, "/v1/counties?as_of=2006-12-31", tokAdmin), &live)
	wantSameFigures(t, "counties", frozen.Counties, live.Counties)
	wantSameFigures(t, "city", []json.RawMessage{frozen.City}, []json.RawMessage{live.City})
	var city growthFigures
	if err := json.Unmarshal(frozen.City, &city); err != nil {
		t.Fatal(err)
	}
	// As TestEachRateGrowsFromItsBaselineAndTheCountySaysWhetherAllThreeGrew computes it.
	g{[5]int64{69, 85, 59, 1660000, 1460000}, bp(588), bp(-1524), bp(-555), no()}.check(t, "frozen city pension", city.Insurances["pension"].Growth)
	if city.Synchronised == nil || *city.Synchronised {
		t.Errorf("frozen city synchronised %v, want false", city.Synchronised)
	}
}
