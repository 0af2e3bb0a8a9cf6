package projections

import (
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// TestArrearsWithoutEnforcementConcernsArrearsNoStepAddressedSinceTheyFellDue checks the flag
// against one employer with two unpaid lines: 2004-04 (100.00 yuan, due 2004-05-15) and 2006-04
// (168.00 yuan, due 2006-05-15). The grace period is 90 days: 2006-05-15 + 90 days is 2006-08-13
// (16 days to 05-31, 30 to 06-30, 31 to 07-31, 13 more), so the 2006 line is past it from
// 2006-08-14. A step on day S addresses the arrears of S, the lines due before S.
func TestArrearsWithoutEnforcementConcernsArrearsNoStepAddressedSinceTheyFellDue(t *testing.T) {
	step := func(kind, on string) domain.EnforcementStepRecorded {
		d := domain.MustDate(on)
		return domain.EnforcementStepRecorded{Step: kind, On: d, Deadline: d.AddDays(15), DocNo: "N-" + on}
	}
	tests := []struct {
		name  string
		steps []domain.EnforcementStepRecorded // in recording order
		asOf  string
		// want is the flag's opening "<owed> yuan in arrears … (since <oldest due date>)", or ""
		// for no flag.
		want string
	}{
		{
			name: "with no step at all both lines are flagged", asOf: "2006-08-31",
			want: "268.00 yuan in arrears more than 90 days past due (since 2004-05-15)",
		},
		{
			name:  "a 2004 notice does not cover arrears that fell due in 2006",
			steps: []domain.EnforcementStepRecorded{step(domain.StepNotice, "2004-07-01")}, asOf: "2006-08-31",
			want: "168.00 yuan in arrears more than 90 days past due (since 2006-05-15)",
		},
		{
			name:  "a step after the 2006 arrears fell due covers them and the older ones",
			steps: []domain.EnforcementStepRecorded{step(domain.StepNotice, "2004-07-01"), step(domain.StepInspection, "2006-06-01")}, asOf: "2006-08-31",
		},
		{
			name:  "a step on the due date comes before the arrears arise the day after",
			steps: []domain.EnforcementStepRecorded{step(domain.StepNotice, "2006-05-15")}, asOf: "2006-08-31",
			want: "168.00 yuan in arrears more than 90 days past due (since 2006-05-15)",
		},
		{
			name:  "a step the day after the due date covers the arrears",
			steps: []domain.EnforcementStepRecorded{step(domain.StepNotice, "2006-05-16")}, asOf: "2006-08-31",
		},
		{
			name:  "a step dated after as_of does not count yet",
			steps: []domain.EnforcementStepRecorded{step(domain.StepNotice, "2006-09-10")}, asOf: "2006-08-31",
			want: "268.00 yuan in arrears more than 90 days past due (since 2004-05-15)",
		},
		{
			name:  "new arrears 90 days past due are still within the grace period",
			steps: []domain.EnforcementStepRecorded{step(domain.StepNotice, "2004-07-01")}, asOf: "2006-08-13",
		},
		{
			name:  "new arrears 91 days past due are past the grace period",
			steps: []domain.EnforcementStepRecorded{step(domain.StepNotice, "2004-07-01")}, asOf: "2006-08-14",
			want: "168.00 yuan in arrears more than 90 days past due (since 2006-05-15)",
		},
		{
			name:  "the latest step by business date counts, not the last recorded",
			steps: []domain.EnforcementStepRecorded{step(domain.StepNotice, "2006-06-01"), step(domain.StepNotice, "2004-07-01")}, asOf: "2006-08-31",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, apply := oneEmployerLedger()
			decl := func(period string, declaredOn string, due domain.Fen) domain.DeclarationFiled {
				p := domain.MustPeriod(period)
				return domain.DeclarationFiled{DeclaredOn: domain.MustDate(declaredOn), Period: p, DueOn: l.Ref.DueDate(p),
					Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 1, WageBaseFen: 60000, DueFen: due}}}
			}
			apply(domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1},
				RegisteredOn: domain.MustDate("2004-03-01")})
			apply(decl("2004-04", "2004-05-10", 10000))
			apply(decl("2006-04", "2006-05-05", 16800))
			for _, s := range tt.steps {
				apply(s)
			}
			asOf := domain.MustDate(tt.asOf)
			rep := l.Report(Query{Period: DefaultPeriod(&l.Ref, asOf), AsOf: asOf})
			c, _ := rep.County("360702")
			var got []string
			for _, f := range c.EmployerFlags {
				if f.Kind == FlagArrearsWithoutEnforcement {
					got = append(got, f.Detail)
				}
			}
			switch {
			case tt.want == "" && len(got) > 0:
				t.Fatalf("flagged %q, want no arrears_without_enforcement flag", got)
			case tt.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tt.want)):
				t.Fatalf("flags %q, want one starting %q", got, tt.want)
			}
		})
	}
}

// TestRegistrationFlagsFollowTheFactsAsOfTheirDate: the park and risk-class flags read the
// payer's registration facts as of as_of, dated as changes are: a change dated after as_of
// does not count yet (a December freeze replayed after a January change gives the same
// flags), one dated before counts, whenever it was recorded.
func TestRegistrationFlagsFollowTheFactsAsOfTheirDate(t *testing.T) {
	yes, three := true, 3
	tests := []struct {
		name   string
		change domain.EmployerChanged
		asOf   string
		want   string // the flag raised, or "" for none
	}{
		{"risk class 3 from a date after as_of does not count yet", domain.EmployerChanged{On: domain.MustDate("2007-01-10"), RiskClass: &three}, "2006-12-31", ""},
		{"risk class 3 from a date before as_of counts", domain.EmployerChanged{On: domain.MustDate("2006-12-01"), RiskClass: &three}, "2006-12-31", FlagHighRiskWithoutWorkInjury},
		{"risk class 3 counts from its own date on", domain.EmployerChanged{On: domain.MustDate("2007-01-10"), RiskClass: &three}, "2007-01-10", FlagHighRiskWithoutWorkInjury},
		{"a park from a date after as_of does not count yet", domain.EmployerChanged{On: domain.MustDate("2007-01-10"), InIndustrialPark: &yes}, "2006-12-31", ""},
		{"a park from a date before as_of counts", domain.EmployerChanged{On: domain.MustDate("2006-06-01"), InIndustrialPark: &yes}, "2006-12-31", FlagParkEmployerNotEnrolled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, apply := oneEmployerLedger()
			apply(domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1},
				RegisteredOn: domain.MustDate("2006-03-01")})
			apply(tt.change)
			asOf := domain.MustDate(tt.asOf)
			c, _ := l.Report(Query{Period: DefaultPeriod(&l.Ref, asOf), AsOf: asOf}).County("360702")
			var got []string
			for _, f := range c.EmployerFlags {
				if f.Kind == FlagHighRiskWithoutWorkInjury || f.Kind == FlagParkEmployerNotEnrolled {
					got = append(got, f.Kind)
				}
			}
			if (tt.want == "" && len(got) != 0) || (tt.want != "" && !slices.Equal(got, []string{tt.want})) {
				t.Errorf("as of %s the flags are %q, want %q", tt.asOf, got, tt.want)
			}
		})
	}
}
