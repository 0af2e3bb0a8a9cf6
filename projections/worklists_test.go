package projections

import (
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
// its end, and from its start or entered during it): not for a month before its enrollment, nor
// for the month of a reinstatement (dues start again with the next); without a due for the
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
		{"enrolled, the month before declared", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-04")}, "2006-06-30",
			"no declaration or assessment for 2006-05, due 2006-06-15: assess at 110% of the previous period"},
		{"reinstated within the period", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-09"),
			domain.EmployerDeregistered{On: d("2006-10-25"), Reason: "停业"}, domain.EmployerReinstated{On: d("2006-11-10")}}, "2006-12-31", ""},
		{"deregistered and reinstated within the period", []domain.Payload{reg, enrolled("2006-04-01"), declared("2006-09"), declared("2006-10"),
			domain.EmployerDeregistered{On: d("2006-11-05"), Reason: "停业"}, domain.EmployerReinstated{On: d("2006-11-20")}}, "2006-12-31", ""},
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
	if l.Employers["E"].Account.CompactedThrough() == 0 {
		t.Fatal("the closing compacted nothing: the test no longer shows a compacted line")
	}
	if got := item(); got != want {
		t.Errorf("after the closing: %q, want %q", got, want)
	}
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
