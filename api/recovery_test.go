package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// recoveryFigures are the parts of a county's figures 清欠率 is read from.
type recoveryFigures struct {
	Code                   string          `json:"code"`
	ArrearsPriorYearsFen   int64           `json:"arrears_prior_years_fen"`
	RecoveredFen           int64           `json:"recovered_fen"`
	PriorYearsRecoveredFen int64           `json:"prior_years_recovered_fen"`
	RecoveryRate           json.RawMessage `json:"recovery_rate"`
	Insurances             map[string]struct {
		ArrearsPriorYearsFen   int64           `json:"arrears_prior_years_fen"`
		PriorYearsRecoveredFen int64           `json:"prior_years_recovered_fen"`
		RecoveryRate           json.RawMessage `json:"recovery_rate"`
	} `json:"insurances"`
}

// TestRecoveryRateIsPriorYearsPrincipalRecoveredInTheYearOverItselfAndWhatIsStillOwed checks
// 清欠率 (DOMAIN.md, rules of the second wave) by hand on three pension payers, every payment
// allocated to its line:
//
//	R1 360702: an opening balance of 50000 for 2005-12 (due 2006-01-15); pays 20000 on
//	   2006-09-10 and 10000 on 2007-03-01.
//	R2 360702: declares 2006-11 on a base of 1,000,000 (due 280000 on 2006-12-15) and pays
//	   100000 of it on 2007-02-20; declares 2006-12 (280000, due 2007-01-15) and pays it on
//	   time on 2007-01-10: a prior year's line paid on time recovers nothing.
//	R3 360721: declares 2006-11 on a base of 500000 (due 140000) and pays nothing.
//	360782 has no payer: 0 ÷ 0, null.
func TestRecoveryRateIsPriorYearsPrincipalRecoveredInTheYearOverItselfAndWhatIsStillOwed(t *testing.T) {
	e := newReadEnv(t, goldenDay)
	reg := func(n int, county string) string { return e.register(t, tokAdmin, orgCode(n), county) }
	var last int64
	write := func(id, sub, body string) {
		t.Helper()
		last = e.mustWrite(t, empPath(id, sub), tokAdmin, body).num("seq")
	}
	declare := func(id, period, on string, base int64) {
		write(id, "declarations", fmt.Sprintf(`{"declared_on":%q,"period":%q,"lines":[{"insurance":"pension","headcount":10,"wage_base_fen":%d}]}`, on, period, base))
	}
	r1, r2, r3 := reg(31000001, "360702"), reg(31000002, "360702"), reg(31000003, "360721")
	write(r1, "opening-balances", `{"as_of":"2006-04-03","lines":[{"period":"2005-12","insurance":"pension","outstanding_fen":50000}]}`)
	write(r1, "payments", allocated("R1-1", 20000, "2006-09-10", "2005-12"))
	write(r1, "payments", allocated("R1-2", 10000, "2007-03-01", "2005-12"))
	declare(r2, "2006-11", "2006-12-05", 1000000) // 280000
	declare(r2, "2006-12", "2007-01-05", 1000000) // 280000
	write(r2, "payments", allocated("R2-12", 280000, "2007-01-10", "2006-12"))
	write(r2, "payments", allocated("R2-11", 100000, "2007-02-20", "2006-11"))
	declare(r3, "2006-11", "2006-12-05", 500000) // 140000

	type want struct {
		recovered, arrears int64 // prior_years_recovered_fen, arrears_prior_years_fen (pension and all)
	}
	tests := []struct {
		name  string
		asOf  string
		want  map[string]want // by county; "city" for the city
		total int64           // recovered_fen of 360702, all years, as a check of the ledger
	}{
		{
			name: "in 2006 the prior years are 2005: R1's 20000 of 50000 recovered, 2006's own arrears not counted",
			asOf: "2006-12-31",
			// 360702: 20000 ÷ (20000 + 30000) = 0.4; R2's 280000 are current-year arrears.
			// 360721: R3's 140000 are 2006's own: 0 ÷ 0, null.
			want:  map[string]want{"360702": {20000, 30000}, "360721": {0, 0}, "360782": {0, 0}, "city": {20000, 30000}},
			total: 20000,
		},
		{
			name: "on 2007-01-10 nothing of 2007 is recovered yet, and the December line not yet due is no arrears",
			asOf: "2007-01-10",
			// 360702: R1 30000 + R2's November 280000 in arrears; the December line was paid before
			// its due date: 0 ÷ 310000 = 0. 360721: 0 ÷ 140000.
			want:  map[string]want{"360702": {0, 310000}, "360721": {0, 140000}, "360782": {0, 0}, "city": {0, 450000}},
			total: 20000,
		},
		{
			name: "on 2007-02-28 R2's 100000 are recovered, R1's March payment is not yet",
			asOf: "2007-02-28",
			// 360702: 100000 ÷ (100000 + 30000 + 180000) = 100000/310000.
			want:  map[string]want{"360702": {100000, 210000}, "360721": {0, 140000}, "360782": {0, 0}, "city": {100000, 350000}},
			total: 120000,
		},
		{
			name: "on 2007-03-31 both payments of 2007 count, 2006's 20000 no longer",
			asOf: "2007-03-31",
			// 360702: (10000 + 100000) ÷ (110000 + 20000 + 180000) = 110000/310000.
			// City: 110000 ÷ (110000 + 200000 + 140000) = 110000/450000.
			want:  map[string]want{"360702": {110000, 200000}, "360721": {0, 140000}, "360782": {0, 0}, "city": {110000, 340000}},
			total: 130000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a struct {
				Counties []recoveryFigures `json:"counties"`
				City     recoveryFigures   `json:"city"`
			}
			decode(t, e.get(t, fmt.Sprintf("/v1/counties?as_of=%s&min_seq=%d", tt.asOf, last), tokAdmin), &a)
			got := map[string]recoveryFigures{"city": a.City}
			for _, c := range a.Counties {
				got[c.Code] = c
			}
			for scope, w := range tt.want {
				f := got[scope]
				p := f.Insurances[string(domain.Pension)]
				if p.PriorYearsRecoveredFen != w.recovered || p.ArrearsPriorYearsFen != w.arrears || f.PriorYearsRecoveredFen != w.recovered || f.ArrearsPriorYearsFen != w.arrears {
					t.Errorf("%s: pension recovered %d of prior years' %d in arrears, all insurances %d of %d; want %d of %d",
						scope, p.PriorYearsRecoveredFen, p.ArrearsPriorYearsFen, f.PriorYearsRecoveredFen, f.ArrearsPriorYearsFen, w.recovered, w.arrears)
				}
				wantRate(t, scope+" pension recovery_rate", p.RecoveryRate, w.recovered, w.recovered+w.arrears)
				wantRate(t, scope+" recovery_rate", f.RecoveryRate, w.recovered, w.recovered+w.arrears)
				for _, ins := range domain.Insurances[1:] {
					wantRate(t, scope+" "+string(ins)+" recovery_rate", f.Insurances[string(ins)].RecoveryRate, 0, 0)
				}
			}
			if r := got["360702"].RecoveredFen; r != tt.total {
				t.Errorf("360702 recovered_fen %d, want %d", r, tt.total)
			}
		})
	}
}
