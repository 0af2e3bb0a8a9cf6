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
