package projections

import (
	"math"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// A county's and the city's sums of payers' amounts that would pass int64 (late fees accrued to
// 2199 on arrears at the most a line may hold, over many payers) count as the largest amount,
// never wrap to a negative one.
func TestACountysMoneySumsSaturateRatherThanWrap(t *testing.T) {
	big := domain.Fen(math.MaxInt64/2 + 1)
	s := share{employers: 1, lateFee: big, arrearsPriorYears: big, recovered: big}
	s.insurances[0].ArrearsPriorYearsFen, s.insurances[0].CumulativeDueFen = big, big
	county := newFigures()
	county.addShare(&s)
	county.addShare(&s)
	city := newFigures()
	city.add(county)
	city.add(county)
	for name, f := range map[string]*Figures{"county": county, "city": city} {
		pension := f.Insurances[domain.Pension]
		for field, got := range map[string]domain.Fen{"late_fee_fen": f.LateFeeFen, "arrears_prior_years_fen": f.ArrearsPriorYearsFen,
			"recovered_fen": f.RecoveredFen, "pension arrears_prior_years_fen": pension.ArrearsPriorYearsFen,
			"pension cumulative_due_fen": pension.CumulativeDueFen} {
			if got != math.MaxInt64 {
				t.Errorf("%s %s: %d, want the largest amount %d", name, field, got, domain.Fen(math.MaxInt64))
			}
		}
	}
	if city.Employers != 4 {
		t.Errorf("the city counts %d payers, want 4", city.Employers)
	}
}
