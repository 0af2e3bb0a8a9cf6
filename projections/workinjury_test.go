package projections

import (
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// TestThePlansWorkInjuryTargetIsCheckedOnItsPayers: every payer of the high_risk segment (a
// named sector, or risk class 3) that is active and registered on the date asked should be
// enrolled in work injury (一(一): all coal mines, construction, furniture makers and high-risk
// enterprises this year). Each case is one payer registered on 2006-04-03 (or found on it),
// read on 2006-12-31; the flag and the worklist item say the same.
func TestThePlansWorkInjuryTargetIsCheckedOnItsPayers(t *testing.T) {
	d := domain.MustDate
	ptr := func(s string) *string { return &s }
	three := 3
	enterprise := func(risk int, sector, industry string) domain.Profile {
		return domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: risk, Sector: sector, Industry: industry}
	}
	registered := func(p domain.Profile) domain.Payload {
		return domain.EmployerRegistered{Profile: p, RegisteredOn: d("2006-04-03")}
	}
	workInjury := func(n int64, on string) domain.Payload {
		return domain.EnrollmentRecorded{Insurance: domain.WorkInjury, Headcount: n, EffectiveOn: d(on)}
	}
	tests := []struct {
		name   string
		events []domain.Payload
		// detail is how the flag's detail and the item's begin, since their date; "" for neither.
		detail string
		since  string
	}{
		{"a coal mine without work injury", []domain.Payload{registered(enterprise(2, domain.SectorCoal, "B"))},
			"sector coal (煤矿), registered 2006-04-03", "2006-04-03"},
		{"a builder without work injury", []domain.Payload{registered(enterprise(1, domain.SectorConstruction, "E"))},
			"sector construction (建筑施工)", "2006-04-03"},
		{"a furniture maker enrolled in work injury is not", []domain.Payload{registered(enterprise(1, domain.SectorFurniture, "C")), workInjury(12, "2006-05-01")}, "", ""},
		{"an enrollment dated after the date asked does not count yet", []domain.Payload{registered(enterprise(1, domain.SectorFurniture, "C")), workInjury(12, "2007-01-05")},
			"sector furniture (家具制造)", "2006-04-03"},
		{"an enrollment of 0 persons is none", []domain.Payload{registered(enterprise(1, domain.SectorMining, "B")), workInjury(12, "2006-05-01"), workInjury(0, "2006-10-01")},
			"sector mining (非煤矿山)", "2006-04-03"},
		{"risk class 3 without a named sector", []domain.Payload{registered(enterprise(3, "", "C"))}, "risk class 3", "2006-04-03"},
		{"risk class 1 without a named sector is not", []domain.Payload{registered(enterprise(1, "", "C"))}, "", ""},
		{"a payer becomes one on the date of its change", []domain.Payload{registered(enterprise(1, "", "C")), domain.EmployerChanged{On: d("2006-09-01"), RiskClass: &three}},
			"risk class 3", "2006-09-01"},
		{"a change dated after the date asked does not count", []domain.Payload{registered(enterprise(1, "", "B")), domain.EmployerChanged{On: d("2007-02-01"), Sector: ptr(domain.SectorCoal)}}, "", ""},
		{"a payer found but not registered is not (it is to register first)", []domain.Payload{domain.EmployerFound{Profile: enterprise(3, domain.SectorCoal, "B"), FoundOn: d("2006-04-03")}}, "", ""},
		{"a payer found, registered later, is from its registration", []domain.Payload{domain.EmployerFound{Profile: enterprise(3, domain.SectorCoal, "B"), FoundOn: d("2006-04-03")},
			domain.RegistrationCompleted{RegisteredOn: d("2006-06-20")}}, "sector coal (煤矿), registered 2006-06-20", "2006-06-20"},
		{"a deregistered payer is not", []domain.Payload{registered(enterprise(3, domain.SectorCoal, "B")), domain.EmployerDeregistered{On: d("2006-10-01")}}, "", ""},
		{"an individual business carries no work injury", []domain.Payload{registered(domain.Profile{Name: "E", County: "360702", Kind: domain.KindIndividualBusiness, RiskClass: 3, Sector: domain.SectorConstruction})}, "", ""},
	}
	asOf := d("2006-12-31")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, apply := oneEmployerLedger()
			for _, p := range tt.events {
				apply(p)
			}
			rep := l.Report(Query{Period: DefaultPeriod(&l.Ref, asOf), AsOf: asOf})
			c, _ := rep.County("360702")
			var flags []Flag
			for _, f := range c.EmployerFlags {
				if f.Kind == FlagWorkInjuryTarget {
					flags = append(flags, f)
				}
			}
			var items []WorkItem
			for _, it := range l.Worklist(map[string]bool{"360702": true}, asOf) {
				if it.Kind == WorkWorkInjuryTarget {
					items = append(items, it)
				}
			}
			var counted int64
			for _, f := range c.Flags {
				if f.Kind == FlagWorkInjuryTarget {
					counted = f.Count
				}
			}
			if tt.detail == "" {
				if len(flags)+len(items) > 0 || counted != 0 {
					t.Fatalf("flagged %+v, listed %+v; want neither", flags, items)
				}
				return
			}
			if len(flags) != 1 || len(items) != 1 || counted != 1 {
				t.Fatalf("flags %+v (counted %d), items %+v; want one of each", flags, counted, items)
			}
			f, it := flags[0], items[0]
			if !strings.HasPrefix(f.Detail, tt.detail) || it.Detail != f.Detail || f.Since != d(tt.since) || it.Since != f.Since {
				t.Errorf("flag %q since %s, item %q since %s; want %q… since %s", f.Detail, f.Since, it.Detail, it.Since, tt.detail, tt.since)
			}
		})
	}
}

// TestAPayerFoundAndNotRegisteredIsWorkAfter30Days: a payer the survey found (employer.found)
// must register within 30 days (登记 rule); more than 30 days after found_on without a
// registration dated by then it is on the worklist, from the deadline on.
func TestAPayerFoundAndNotRegisteredIsWorkAfter30Days(t *testing.T) {
	d := domain.MustDate
	found := domain.EmployerFound{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1}, FoundOn: d("2006-04-10")}
	tests := []struct {
		name   string
		events []domain.Payload
		asOf   string
		want   bool
	}{
		// 2006-04-10 + 30 days = 2006-05-10, the last day to register.
		{"30 days after found_on it may still register", []domain.Payload{found}, "2006-05-10", false},
		{"31 days after without registering it is work", []domain.Payload{found}, "2006-05-11", true},
		{"registered within the 30 days it is not", []domain.Payload{found, domain.RegistrationCompleted{RegisteredOn: d("2006-05-02")}}, "2006-08-31", false},
		{"registered late it is work until the registration", []domain.Payload{found, domain.RegistrationCompleted{RegisteredOn: d("2006-07-01")}}, "2006-06-30", true},
		{"and not from it on", []domain.Payload{found, domain.RegistrationCompleted{RegisteredOn: d("2006-07-01")}}, "2006-07-01", false},
		{"a payer registered on entry never is", []domain.Payload{domain.EmployerRegistered{Profile: found.Profile, RegisteredOn: d("2006-04-10")}}, "2006-08-31", false},
		{"a payer deregistered (closed) is not", []domain.Payload{found, domain.EmployerDeregistered{On: d("2006-06-01")}}, "2006-08-31", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, apply := oneEmployerLedger()
			for _, p := range tt.events {
				apply(p)
			}
			var got []WorkItem
			for _, it := range l.Worklist(map[string]bool{"360702": true}, d(tt.asOf)) {
				if it.Kind == WorkFoundNotRegistered {
					got = append(got, it)
				}
			}
			switch {
			case !tt.want && len(got) > 0:
				t.Fatalf("listed %+v, want nothing", got)
			case tt.want && (len(got) != 1 || got[0].Since != d("2006-05-10") ||
				got[0].Detail != "found by the survey on 2006-04-10 and not registered within 30 days (by 2006-05-10)"):
				t.Fatalf("listed %+v, want one item since 2006-05-10", got)
			}
		})
	}
}
