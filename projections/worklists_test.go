// Over 500 lines for a reason: the worklists' rules are a table of cases over one ledger.

package projections

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// TestANoticePastItsDeadlineIsWorkUnlessALaterDatedStepFollowed: the worklist asks for an
// inspection after a notice whose deadline passed with arrears left, judging by the step dated
// last, not the one recorded last: a notice entered late, after the inspection that followed
// it, asks for nothing.
func TestANoticePastItsDeadlineIsWorkUnlessALaterDatedStepFollowed(t *testing.T) {
	notice := domain.EnforcementStepRecorded{Step: domain.StepNotice, On: domain.MustDate("2006-06-01"),
		Deadline: domain.MustDate("2006-06-16"), DocNo: "限改1"}
	inspection := domain.EnforcementStepRecorded{Step: domain.StepInspection, On: domain.MustDate("2006-07-15"), DocNo: "检1"}
	for _, c := range []struct {
		name  string
		steps []domain.EnforcementStepRecorded // in recording order
		want  bool
	}{
		{"a notice past its deadline with arrears left is work", []domain.EnforcementStepRecorded{notice}, true},
		{"an inspection after the notice answers it", []domain.EnforcementStepRecorded{notice, inspection}, false},
		{"the notice recorded after the inspection it preceded answers nothing", []domain.EnforcementStepRecorded{inspection, notice}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, apply := oneEmployerLedger()
			apply(domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1},
				RegisteredOn: domain.MustDate("2006-03-01")})
			p := domain.MustPeriod("2006-04")
			apply(domain.DeclarationFiled{DeclaredOn: domain.MustDate("2006-05-05"), Period: p, DueOn: l.Ref.DueDate(p),
				Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 1, WageBaseFen: 60000, DueFen: 16800}}})
			for _, s := range c.steps {
				apply(s)
			}
			got := false
			for _, it := range l.Worklist(map[string]bool{"360702": true}, domain.MustDate("2006-08-31")) {
				got = got || it.Kind == WorkNoticePastDeadline
			}
			if got != c.want {
				t.Errorf("a notice_past_deadline item: %v, want %v", got, c.want)
			}
		})
	}
}

// TestADeregisteredPayerStillHasTheWorkOfWhatItOwes: a payer deregistered on 06-10 still owes
// June (it was a payer on its first day): a finding of June past its redeclare_by date and a
// notice past its deadline with June's dues unpaid are work still; the plan's targets and the
// registration check are a payer's only.
func TestADeregisteredPayerStillHasTheWorkOfWhatItOwes(t *testing.T) {
	d, p := domain.MustDate, domain.MustPeriod
	l, apply := oneEmployerLedger()
	three := 3
	apply(domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1},
		RegisteredOn: d("2006-03-01")})
	apply(domain.EmployerChanged{On: d("2006-05-01"), RiskClass: &three}) // a work-injury target, not enrolled in it
	apply(domain.EmployerDeregistered{On: d("2006-06-10"), Reason: "停业"})
	apply(domain.DeclarationFiled{DeclaredOn: d("2006-07-05"), Period: p("2006-06"), DueOn: l.Ref.DueDate(p("2006-06")),
		Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 10, WageBaseFen: 600000, DueFen: 168000}}})
	apply(domain.AuditFindingRecorded{FoundOn: d("2006-07-20"), Kind: domain.FindingUnderReportedBase, Period: p("2006-06"), Insurance: domain.Pension,
		ExtraWageBaseFen: 100000, RateBP: 2800, DueFen: 28000, DueOn: l.Ref.DueDate(p("2006-06")), RedeclareBy: d("2006-07-31")})
	apply(domain.EnforcementStepRecorded{Step: domain.StepNotice, On: d("2006-07-20"), Deadline: d("2006-07-31"), DocNo: "限改1"})
	kinds := map[string]bool{}
	for _, it := range l.Worklist(map[string]bool{"360702": true}, d("2006-08-10")) {
		kinds[it.Kind] = true
	}
	if !kinds[WorkFindingPastDeadline] || !kinds[WorkNoticePastDeadline] {
		t.Errorf("the worklist holds %v; want the finding and the notice past their deadlines", kinds)
	}
	if kinds[WorkWorkInjuryTarget] {
		t.Error("a deregistered payer is listed as a work-injury target")
	}
}

// oneEmployerLedger is a ledger holding the reference data, and a func that applies the next
// event of employer "E" to it.
func oneEmployerLedger() (*Ledger, func(domain.Payload)) {
	l := NewLedger()
	var seq uint64
	for _, ev := range refEvents() {
		seq++
		ev.Seq = seq
		l.Apply(ev)
	}
	return l, func(body domain.Payload) {
		seq++
		l.Apply(domain.Event{Envelope: domain.Envelope{Seq: seq, N: seq, EmployerID: "E"}, Body: body})
	}
}

// TestAPeriodIsAnAssessmentCandidateOnlyWhenItIsOwed: an employer with no line for the period
// last due is listed for a 110% assessment only if it owed that period (enrolled and a payer at
// its end, and on its first day or entered during it): not for a month before its enrollment,
// nor for one begun while deregistered, the month of a reinstatement among them (dues start
// again with the next), as the write side decides; without a due for the
// period before to take 110% of, the item asks for the declaration or the lines instead.
func TestAPeriodIsAnAssessmentCandidateOnlyWhenItIsOwed(t *testing.T) {
	d := domain.MustDate
	reg := domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: d("2006-03-01")}
	enrolled := func(on string) domain.Payload {
		return domain.EnrollmentRecorded{Insurance: domain.Pension, Headcount: 5, EffectiveOn: d(on)}
	}
	declared := func(p string) domain.Payload {
		pp := domain.MustPeriod(p)
		return domain.DeclarationFiled{DeclaredOn: pp.Next().FirstDay(), Period: pp, DueOn: (&domain.Reference{}).DueDate(pp),
			Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 5, WageBaseFen: 500000, DueFen: 140000}}}
	}
	for _, c := range []struct {
		name   string
		events []domain.Payload
		asOf   string // the period last due is the month before the one before
		want   string // the item's detail, "" for none
	}{
		{"enrolled during the month before, with nothing declared", []domain.Payload{reg, enrolled("2006-05-10")}, "2006-06-30",
			"no declaration or assessment for 2006-05, due 2006-06-15, and no due for 2006-04 to take 110% of: ask for the declaration, or assess its lines"},
		{"enrolled only after the period", []domain.Payload{reg, enrolled("2006-06-01")}, "2006-06-30", ""},
		{"on the period's due date, when it may still be declared", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-04")}, "2006-06-15", ""},
		{"the day after the period's due date", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-04")}, "2006-06-16",
			"no declaration or assessment for 2006-05, due 2006-06-15: assess at 110% of the previous period"},
		{"enrolled, the month before declared", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-04")}, "2006-06-30",
			"no declaration or assessment for 2006-05, due 2006-06-15: assess at 110% of the previous period"},
		{"reinstated within the period", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-09"),
			domain.EmployerDeregistered{On: d("2006-10-25"), Reason: "停业"}, domain.EmployerReinstated{On: d("2006-11-10")}}, "2006-12-31", ""},
		{"deregistered and reinstated within the period, a payer on its first day", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-09"), declared("2006-10"),
			domain.EmployerDeregistered{On: d("2006-11-05"), Reason: "停业"}, domain.EmployerReinstated{On: d("2006-11-20")}}, "2006-12-31",
			"no declaration or assessment for 2006-11, due 2006-12-15: assess at 110% of the previous period"},
		{"entered and deregistered on the period's first day, reinstated within it", []domain.Payload{
			domain.EmployerRegistered{Profile: reg.Profile, RegisteredOn: d("2006-11-01")}, enrolled("2006-11-01"),
			domain.EmployerDeregistered{On: d("2006-11-01"), Reason: "停业"}, domain.EmployerReinstated{On: d("2006-11-20")}}, "2006-12-31", ""},
		{"deregistered on the period's first day and reinstated within it", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-09"), declared("2006-10"),
			domain.EmployerDeregistered{On: d("2006-11-01"), Reason: "停业"}, domain.EmployerReinstated{On: d("2006-11-20")}}, "2006-12-31", ""},
		{"deregistered within the period, a payer on its first day", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-09"), declared("2006-10"),
			domain.EmployerDeregistered{On: d("2006-11-10"), Reason: "停业"}}, "2006-12-31",
			"no declaration or assessment for 2006-11, due 2006-12-15: assess at 110% of the previous period"},
		{"deregistered on the period's first day", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-09"), declared("2006-10"),
			domain.EmployerDeregistered{On: d("2006-11-01"), Reason: "停业"}}, "2006-12-31", ""},
		{"entered within the period and deregistered later in it", []domain.Payload{
			domain.EmployerRegistered{Profile: reg.Profile, RegisteredOn: d("2006-11-05")}, enrolled("2006-11-05"),
			domain.EmployerDeregistered{On: d("2006-11-20"), Reason: "停业"}}, "2006-12-31",
			"no declaration or assessment for 2006-11, due 2006-12-15, and no due for 2006-10 to take 110% of: ask for the declaration, or assess its lines"},
		{"declared only after the date read", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-04"),
			domain.DeclarationFiled{DeclaredOn: d("2006-07-05"), Period: domain.MustPeriod("2006-05"), DueOn: d("2006-06-15"),
				Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 5, WageBaseFen: 500000, DueFen: 140000}}}}, "2006-06-30",
			"no declaration or assessment for 2006-05, due 2006-06-15: assess at 110% of the previous period"},
		{"assessed only after the date read", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-04"),
			domain.AssessmentMade{AssessedOn: d("2006-07-05"), Period: domain.MustPeriod("2006-05"), Reason: domain.AssessNoDeclaration, DueOn: d("2006-06-15"),
				Lines: []domain.AssessedLine{{Insurance: domain.Pension, DueFen: 154000}}}}, "2006-06-30",
			"no declaration or assessment for 2006-05, due 2006-06-15: assess at 110% of the previous period"},
		{"reinstated before the period", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-09"),
			domain.EmployerDeregistered{On: d("2006-10-05"), Reason: "停业"}, domain.EmployerReinstated{On: d("2006-10-20")}}, "2006-12-31",
			"no declaration or assessment for 2006-11, due 2006-12-15, and no due for 2006-10 to take 110% of: ask for the declaration, or assess its lines"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, apply := oneEmployerLedger()
			for _, ev := range c.events {
				apply(ev)
			}
			got := ""
			for _, it := range l.Worklist(map[string]bool{"360702": true}, d(c.asOf)) {
				if it.Kind == WorkAssessmentCandidate {
					got = it.Detail
				}
			}
			if got != c.want {
				t.Errorf("the assessment item: %q, want %q", got, c.want)
			}
		})
	}
}

// TestAYearsClosingLeavesTheBasisOfAnAssessmentInTheWorklist: the views compact a closed year's
// settled lines, but the period before the one last due still counts as one with a due: the
// write side, which keeps every line, takes 110% of it.
func TestAYearsClosingLeavesTheBasisOfAnAssessmentInTheWorklist(t *testing.T) {
	d := domain.MustDate
	l, apply := heldLedger()
	apply("E", domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: d("2006-03-01")})
	apply("E", domain.EnrollmentRecorded{Insurance: domain.Pension, Headcount: 5, EffectiveOn: d("2006-04-01")})
	for _, p := range []string{"2006-09", "2006-10"} {
		pp := domain.MustPeriod(p)
		apply("E", domain.DeclarationFiled{DeclaredOn: pp.Next().FirstDay(), Period: pp, DueOn: l.Ref.DueDate(pp),
			Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 5, WageBaseFen: 500000, DueFen: 140000}}})
		apply("E", domain.PaymentReceived{PaidOn: pp.Next().FirstDay().AddDays(3), AmountFen: 140000, ReceiptNo: "R" + p})
	}
	want := "no declaration or assessment for 2006-11, due 2006-12-15: assess at 110% of the previous period"
	item := func() string {
		for _, it := range l.Worklist(map[string]bool{"360702": true}, d("2007-01-10")) {
			if it.Kind == WorkAssessmentCandidate {
				return it.Detail
			}
		}
		return ""
	}
	if got := item(); got != want {
		t.Fatalf("before the closing: %q, want %q", got, want)
	}
	apply("", domain.YearClosed{Year: 2006, FreezeID: "f", Digest: "d"})
	if l.Employers.Get("E").Account.CompactedThrough() == 0 {
		t.Fatal("the closing compacted nothing: the test no longer shows a compacted line")
	}
	if got := item(); got != want {
		t.Errorf("after the closing: %q, want %q", got, want)
	}
}

// heldLedger is a ledger of the default reference data that holds its employers' events, from
// which a compaction folds one again; apply records an event of employer id ("": reference data).
func heldLedger() (*Ledger, func(id string, body domain.Payload)) {
	l := NewLedger()
	held := heldEvents{}
	l.Source = held
	apply := func(id string, body domain.Payload) {
		ev := domain.Event{Envelope: domain.Envelope{Seq: l.Seq + 1, EmployerID: id}, Body: body}
		if id != "" {
			ev.N = uint64(len(held[id]) + 1)
			held[id] = append(held[id], ev)
		}
		l.Apply(ev)
	}
	for _, ev := range refEvents() {
		apply("", ev.Body)
	}
	return l, apply
}

// heldEvents keeps every employer's events, from which the views fold one again.
type heldEvents map[string][]domain.Event

func (h heldEvents) EmployerEvents(id string, through uint64) ([]domain.Event, error) {
	var out []domain.Event
	for _, ev := range h[id] {
		if ev.Seq <= through {
			out = append(out, ev)
		}
	}
	return out, nil
}

// TestAYearsClosingChangesNoFlagOrWorkItemOfALaterDate: DOMAIN's closing "changes no figure of
// any date". Each case is one payer's events, some recorded after 2006 is closed. The views that
// closed 2006 (and compacted it) must list the flags and work items that views never closed
// list, as of every date in 2007 the case reads, and those must list (or not) the case's item.
func TestAYearsClosingChangesNoFlagOrWorkItemOfALaterDate(t *testing.T) {
	d, p := domain.MustDate, domain.MustPeriod
	three := 3
	reg := domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: d("2006-03-10")}
	pension := func(n int64, on string) domain.Payload {
		return domain.EnrollmentRecorded{Insurance: domain.Pension, Headcount: n, EffectiveOn: d(on)}
	}
	declared := func(period, on string) domain.Payload {
		pp := p(period)
		return domain.DeclarationFiled{DeclaredOn: d(on), Period: pp, DueOn: pp.Next().FirstDay().AddDays(14),
			Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 10, WageBaseFen: 1000000, DueFen: 280000}}}
	}
	finding := domain.AuditFindingRecorded{FoundOn: d("2007-02-25"), Kind: domain.FindingUnderReportedBase, Period: p("2006-06"),
		Insurance: domain.Pension, ExtraWageBaseFen: 100000, RateBP: 2800, DueFen: 28000, DueOn: d("2006-07-15"), RedeclareBy: d("2007-03-26")}
	closed := domain.YearClosed{Year: 2006, FreezeID: "f", Digest: "d"}
	reopened, err := domain.NewYearReopened(2006, "稽核补录")
	if err != nil {
		t.Fatal(err)
	}
	dueDay := func(from string, day int) domain.Payload {
		s := domain.DefaultSettings
		s.EffectiveFrom, s.DueDay = d(from), day
		return domain.SettingsSet{Settings: s}
	}
	tests := []struct {
		name string
		// The payer's events recorded before and after the closing (reference data too), and
		// the year's reopening and closing again, which the views never closed do not take.
		before, after []domain.Payload
		asOf          string
		// listed is what the worklist as of asOf holds (its item's kind, since and detail,
		// "|"-joined, begins so); absent what it must not hold.
		listed, absent string
	}{
		{"a payer made risk class 3 mid-year is a work-injury target from that day",
			[]domain.Payload{reg, pension(10, "2006-03-10"), domain.EmployerChanged{On: d("2006-07-01"), RiskClass: &three}}, nil,
			"2007-02-01", WorkWorkInjuryTarget + "|2006-07-01|risk class 3", ""},
		{"no due for the period before the one missing is no basis for 110%",
			[]domain.Payload{reg, pension(10, "2006-03-10"), declared("2006-10", "2006-11-10")}, nil,
			"2007-02-01", WorkAssessmentCandidate + "|2007-01-15|no declaration or assessment for 2006-12, due 2007-01-15, and no due for 2006-11", ""},
		{"a period is owed by the enrollment on its last day, not a later one",
			[]domain.Payload{reg, pension(10, "2006-03-10"), declared("2006-10", "2006-11-10"), pension(0, "2006-12-01")}, nil,
			"2007-01-05", WorkAssessmentCandidate + "|2006-12-15|no declaration or assessment for 2006-11, due 2006-12-15: assess at 110%", ""},
		{"a due day moved later after the closing still finds the 110% basis it moved back to",
			[]domain.Payload{dueDay("2006-06-01", 1), reg, pension(10, "2006-03-10"), declared("2006-10", "2006-11-01"),
				domain.PaymentReceived{PaidOn: d("2006-11-01"), AmountFen: 280000, ReceiptNo: "R1"}},
			[]domain.Payload{dueDay("2007-01-01", 15)},
			"2007-01-05", WorkAssessmentCandidate + "|2006-12-01|no declaration or assessment for 2006-11, due 2006-12-01: assess at 110%", ""},
		{"a finding of an old period is answered by its declaration dated after the closing",
			[]domain.Payload{reg, pension(10, "2006-03-10"), declared("2006-06", "2006-07-10")},
			[]domain.Payload{declared("2006-06", "2007-05-01"), reopened, closed, finding}, // compacted again between the two
			"2007-06-30", "", WorkFindingPastDeadline},
		// Decided when 14,000 fen had accrued, the waiver is reviewed against the 8,400 the
		// payment recorded after it leaves accrued by its date: the closing keeps that fee.
		{"a period declared before the closing is no work after it",
			[]domain.Payload{reg, pension(10, "2006-03-10"), declared("2006-10", "2006-11-10"), declared("2006-11", "2006-12-05")}, nil,
			"2007-01-05", "", WorkAssessmentCandidate},
		{"a period declared before the closing and corrected after the date read is no work then",
			[]domain.Payload{reg, pension(10, "2006-03-10"), declared("2006-10", "2006-11-10"), declared("2006-11", "2006-12-05")},
			[]domain.Payload{declared("2006-11", "2007-01-20")},
			"2007-01-05", "", WorkAssessmentCandidate},
		{"a period assessed before the closing and assessed again after the date read is no work then",
			[]domain.Payload{reg, pension(10, "2006-03-10"), declared("2006-10", "2006-11-10"),
				domain.AssessmentMade{AssessedOn: d("2006-12-20"), Period: p("2006-11"), Reason: domain.AssessNoDeclaration, DueOn: d("2006-12-15"),
					Lines: []domain.AssessedLine{{Insurance: domain.Pension, DueFen: 308000}}}},
			[]domain.Payload{domain.AssessmentMade{AssessedOn: d("2007-01-20"), Period: p("2006-11"), Reason: domain.AssessAudit, DueOn: d("2006-12-15"),
				Lines: []domain.AssessedLine{{Insurance: domain.Pension, DueFen: 300000}}}},
			"2007-01-05", "", WorkAssessmentCandidate},
		{"a late-fee waiver is reviewed against the fee its line accrued as folded, compacted too",
			[]domain.Payload{reg, pension(10, "2006-03-10"), declared("2006-05", "2006-06-01"),
				domain.WaiverGranted{DecidedOn: d("2006-07-10"), Kind: domain.WaiverLateFee, AuthorityDoc: "D", Reason: "r", Insurance: domain.Pension,
					Period: p("2006-05"), AmountFen: 7000, AccruedFeeFen: 14000},
				domain.PaymentReceived{PaidOn: d("2006-07-01"), AmountFen: 281400, ReceiptNo: "R1"}}, nil,
			"2007-01-05", "", ""},
		{"a late-fee waiver dated after the closing on a line it settled is reviewed against the fee the line accrued",
			[]domain.Payload{reg, pension(10, "2006-03-10"), declared("2006-05", "2006-06-01"),
				domain.WaiverGranted{DecidedOn: d("2007-02-01"), Kind: domain.WaiverLateFee, AuthorityDoc: "D", Reason: "r", Insurance: domain.Pension,
					Period: p("2006-05"), AmountFen: 5000, AccruedFeeFen: 80000},
				domain.PaymentReceived{PaidOn: d("2006-07-01"), AmountFen: 290000, ReceiptNo: "R1"}}, nil,
			"2007-03-01", "", ""},
	}
	whose := func(b domain.Payload) string {
		if _, ok := b.(domain.SettingsSet); ok {
			return ""
		}
		return "E"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ledger := func(closing bool) *Ledger {
				l, apply := heldLedger()
				for _, b := range tt.before {
					apply(whose(b), b)
				}
				if closing {
					apply("", closed)
					if l.Employers.Get("E").Account.CompactedThrough() == 0 {
						t.Fatal("closing 2006 compacted nothing")
					}
				}
				for _, b := range tt.after {
					switch b.(type) {
					case domain.YearClosed, domain.YearReopened:
						if closing {
							apply("", b)
						}
					default:
						apply(whose(b), b)
					}
				}
				return l
			}
			compacted, open := ledger(true), ledger(false)
			reads := func(l *Ledger, asOf domain.Date) (flags, items string) {
				// By today's rules and by views-18's, which a freeze of that version counts by.
				for _, rules := range []int{0, 18} {
					c, _ := l.Report(Query{Period: DefaultPeriod(&l.Ref, asOf), AsOf: asOf, rules: rules}).County("360702")
					f, _ := json.Marshal(c.EmployerFlags)
					flags += string(f)
				}
				i, _ := json.Marshal(l.Worklist(nil, asOf))
				return flags, string(i)
			}
			for _, asOf := range []domain.Date{d("2007-01-01"), d("2007-01-05"), d("2007-01-16"), d("2007-02-01"), d("2007-06-30"), d(tt.asOf)} {
				cf, ci := reads(compacted, asOf)
				of, oi := reads(open, asOf)
				if cf != of {
					t.Errorf("as of %s, the flags once 2006 is closed:\n%s\nwant those of views never closed:\n%s", asOf, cf, of)
				}
				if ci != oi {
					t.Errorf("as of %s, the worklist once 2006 is closed:\n%s\nwant that of views never closed:\n%s", asOf, ci, oi)
				}
			}
			var held []string
			for _, it := range open.Worklist(nil, d(tt.asOf)) {
				held = append(held, it.Kind+"|"+it.Since.String()+"|"+it.Detail)
			}
			for _, h := range held {
				if tt.absent != "" && strings.HasPrefix(h, tt.absent) {
					t.Errorf("as of %s the worklist holds %q", tt.asOf, h)
				}
			}
			if tt.listed != "" && !slices.ContainsFunc(held, func(h string) bool { return strings.HasPrefix(h, tt.listed) }) {
				t.Errorf("as of %s the worklist holds %q, not %q…", tt.asOf, held, tt.listed)
			}
		})
	}
}

// TestAFindingAnsweredByARedeclarationIsNoWorkAsOfThenThoughDeclaredAgainSince: a finding of
// June to re-declare by 08-31 is answered by June's declaration of 08-20; declared again on
// 10-01, June asked as of 09-15 is still answered by the one then in force: no work.
func TestAFindingAnsweredByARedeclarationIsNoWorkAsOfThenThoughDeclaredAgainSince(t *testing.T) {
	d, p := domain.MustDate, domain.MustPeriod
	l, apply := oneEmployerLedger()
	apply(domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1},
		RegisteredOn: d("2006-03-01")})
	june := func(on string) domain.DeclarationFiled {
		return domain.DeclarationFiled{DeclaredOn: d(on), Period: p("2006-06"), DueOn: l.Ref.DueDate(p("2006-06")),
			Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 10, WageBaseFen: 600000, DueFen: 168000}}}
	}
	apply(june("2006-07-05"))
	apply(domain.AuditFindingRecorded{FoundOn: d("2006-08-01"), Kind: domain.FindingUnderReportedBase, Period: p("2006-06"), Insurance: domain.Pension,
		ExtraWageBaseFen: 100000, RateBP: 2800, DueFen: 28000, DueOn: l.Ref.DueDate(p("2006-06")), RedeclareBy: d("2006-08-31")})
	apply(june("2006-08-20"))
	apply(june("2006-10-01"))
	for _, it := range l.Worklist(map[string]bool{"360702": true}, d("2006-09-15")) {
		if it.Kind == WorkFindingPastDeadline {
			t.Errorf("as of 2006-09-15 the worklist asks for a re-declaration made on 2006-08-20: %+v", it)
		}
	}
}

// TestADeclarationAtAnotherRiskClassIsWork: a change of risk class recorded after a declaration
// and dated on or before its period's first day leaves the declaration charging another class:
// the worklist asks for it to be filed again, until a declaration at the class in force (or a
// change back) answers it. The declaration itself is never rewritten.
func TestADeclarationAtAnotherRiskClassIsWork(t *testing.T) {
	d, p := domain.MustDate, domain.MustPeriod
	march := p("2007-03")
	declare := func(l *Ledger, on string, class int) domain.DeclarationFiled {
		bp, _ := l.Ref.Rate(domain.WorkInjury, domain.KindEnterprise.Payer(), class, march.FirstDay())
		due, _ := domain.ApplyRate(1000000, bp)
		return domain.DeclarationFiled{DeclaredOn: d(on), Period: march, DueOn: l.Ref.DueDate(march),
			Lines: []domain.DeclaredLine{{Insurance: domain.WorkInjury, Headcount: 10, WageBaseFen: 1000000, RateBP: bp, DueFen: due}}}
	}
	class := func(on string, c int) domain.EmployerChanged { return domain.EmployerChanged{On: d(on), RiskClass: &c} }
	for _, c := range []struct {
		name   string
		events func(l *Ledger) []domain.Payload // after the registration at class 1, in recording order
		want   []WorkFacts
	}{
		{"a class changed from the period's first day, recorded after its declaration, asks for it again",
			func(l *Ledger) []domain.Payload {
				return []domain.Payload{declare(l, "2007-04-05", 1), class("2007-03-01", 3)}
			},
			[]WorkFacts{{Period: march, Insurance: domain.WorkInjury, RiskClass: 3, DueFen: 20000, ChargedFen: 5000}}},
		{"a change dated after the period's first day leaves it at the class of that day",
			func(l *Ledger) []domain.Payload {
				return []domain.Payload{declare(l, "2007-04-05", 1), class("2007-03-02", 3)}
			}, nil},
		{"the declaration filed again at the class in force answers it",
			func(l *Ledger) []domain.Payload {
				return []domain.Payload{declare(l, "2007-04-05", 1), class("2007-03-01", 3), declare(l, "2007-04-20", 3)}
			}, nil},
		{"a change back to the class charged answers it",
			func(l *Ledger) []domain.Payload {
				return []domain.Payload{declare(l, "2007-04-05", 1), class("2007-03-01", 3), class("2007-03-01", 1)}
			}, nil},
		{"an assessment after the declaration replaced what it charged",
			func(l *Ledger) []domain.Payload {
				return []domain.Payload{declare(l, "2007-04-05", 1), class("2007-03-01", 3), domain.AssessmentMade{AssessedOn: d("2007-04-25"),
					Period: march, Reason: "audit", DueOn: l.Ref.DueDate(march), Lines: []domain.AssessedLine{{Insurance: domain.WorkInjury, DueFen: 30000}}}}
			}, nil},
		{"a change recorded before the declaration was charged by it",
			func(l *Ledger) []domain.Payload {
				return []domain.Payload{class("2007-03-01", 3), declare(l, "2007-04-05", 3)}
			}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, apply := oneEmployerLedger()
			apply(domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1},
				RegisteredOn: d("2006-03-01")})
			for _, ev := range c.events(l) {
				apply(ev)
			}
			var got []WorkFacts
			for _, it := range l.Worklist(map[string]bool{"360702": true}, d("2007-04-30")) {
				if it.Kind == WorkClassMischarged {
					got = append(got, it.Facts)
					if it.Since != march.FirstDay() {
						t.Errorf("since %s, want the period's first day", it.Since)
					}
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("declared_at_another_risk_class items %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestOnlyAnotherClassesChargeIsWork: the item is for a declaration that charged another risk
// class, not for any that owes otherwise today: a rate table recorded since for its period (the
// class unchanged, another registration fact changed) charges no class as declared, and is not
// listed. A closing ends the item for its year's periods: it folds their lines with what they
// charged, so the views compacted or not say the same (the period may still be declared again
// by a declaration dated in an open year: README).
func TestOnlyAnotherClassesChargeIsWork(t *testing.T) {
	d, p := domain.MustDate, domain.MustPeriod
	refEvent := func(l *Ledger, body domain.Payload) {
		l.Apply(domain.Event{Envelope: domain.Envelope{Seq: l.Seq + 1}, Body: body})
	}
	register := domain.EmployerRegistered{Profile: domain.Profile{Name: "E", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1},
		RegisteredOn: d("2006-03-01")}
	declare := func(l *Ledger, period domain.Period, on string) domain.DeclarationFiled {
		bp, _ := l.Ref.Rate(domain.WorkInjury, domain.KindEnterprise.Payer(), 1, period.FirstDay())
		due, _ := domain.ApplyRate(1000000, bp)
		return domain.DeclarationFiled{DeclaredOn: d(on), Period: period, DueOn: l.Ref.DueDate(period),
			Lines: []domain.DeclaredLine{{Insurance: domain.WorkInjury, Headcount: 10, WageBaseFen: 1000000, RateBP: bp, DueFen: due}}}
	}
	kinds := func(l *Ledger, asOf string) []domain.Period {
		var got []domain.Period
		for _, it := range l.Worklist(nil, d(asOf)) {
			if it.Kind == WorkClassMischarged {
				got = append(got, it.Facts.Period)
			}
		}
		return got
	}

	t.Run("a rate table recorded since, the class unchanged", func(t *testing.T) {
		l, apply := oneEmployerLedger()
		apply(register)
		march := p("2007-03")
		apply(declare(l, march, "2007-04-05"))
		name := "E 改名"
		apply(domain.EmployerChanged{On: d("2007-04-10"), Name: &name})
		table, _ := l.Ref.RatesOn(march.FirstDay())
		table.EffectiveFrom = d("2007-01-01")
		table.Lines = slices.Clone(table.Lines)
		for i := range table.Lines {
			if table.Lines[i].Insurance == domain.WorkInjury {
				table.Lines[i].EmployerBP += 10
			}
		}
		refEvent(l, domain.RatesSet{Table: table})
		if got := kinds(l, "2007-04-30"); len(got) != 0 {
			t.Errorf("listed %v for a rate table recorded since, the class unchanged", got)
		}
	})
	t.Run("a closed year's December is listed until the closing", func(t *testing.T) {
		l, apply := oneEmployerLedger()
		apply(register)
		apply(declare(l, p("2006-12"), "2007-01-05"))
		three := 3
		apply(domain.EmployerChanged{On: d("2006-12-01"), RiskClass: &three})
		if got := kinds(l, "2007-01-20"); !slices.Equal(got, []domain.Period{p("2006-12")}) {
			t.Fatalf("before the closing: %v, want 2006-12", got)
		}
		refEvent(l, domain.YearClosed{Year: 2006, FreezeID: "f", Digest: "d"})
		if got := kinds(l, "2007-01-20"); len(got) != 0 {
			t.Errorf("after the closing: %v, want none", got)
		}
	})
}
