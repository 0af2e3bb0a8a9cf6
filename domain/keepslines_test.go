package domain

import (
	"strings"
	"testing"
)

// A declaration or assessment replaces its period's whole: one that leaves out an insurance the
// one standing has a due for is refused, naming the insurance and the standing one, so that a
// line corrected alone (or a row imported again without its others) does not drop the others'
// dues unseen. A line of no persons and no base says "none" and is recorded.
func TestADeclarationThatWouldDropADueUnseenIsRefused(t *testing.T) {
	both := func(on string, pension, medical string) *FileDeclaration {
		return &FileDeclaration{DeclaredOn: on, Period: "2006-05", Lines: []DeclareLine{
			{Insurance: "pension", Headcount: "3", WageBaseFen: Number(pension)}, {Insurance: "medical", Headcount: "3", WageBaseFen: Number(medical)}}}
	}
	pensionOnly := &FileDeclaration{DeclaredOn: "2006-06-12", Period: "2006-05", Lines: []DeclareLine{{Insurance: "pension", Headcount: "3", WageBaseFen: "1200000"}}}
	for _, tc := range []struct {
		name  string
		setup func(b *payerBook)
		cmd   Command
		ok    bool
	}{
		{"a declaration leaving out a declared insurance is refused", func(b *payerBook) { b.must("clerk:wang", both("2006-06-10", "1000000", "1000000")) },
			pensionOnly, false},
		{"a line of no persons and no base drops it", func(b *payerBook) { b.must("clerk:wang", both("2006-06-10", "1000000", "1000000")) },
			&FileDeclaration{DeclaredOn: "2006-06-12", Period: "2006-05", Lines: []DeclareLine{{Insurance: "pension", Headcount: "3", WageBaseFen: "1200000"},
				{Insurance: "medical", Headcount: "0", WageBaseFen: "0"}}}, true},
		{"an insurance standing with no due may be left out", func(b *payerBook) { b.must("clerk:wang", both("2006-06-10", "1000000", "0")) },
			pensionOnly, true},
		{"an audit assessment leaving out a declared insurance is refused", func(b *payerBook) { b.must("clerk:wang", both("2006-06-10", "1000000", "1000000")) },
			&MakeAssessment{AssessedOn: "2006-08-01", Period: "2006-05", Reason: AssessAudit, Lines: []AssessLine{{Insurance: "pension", DueFen: "300000"}}}, false},
		{"an audit assessment with a due of 0 for it is recorded", func(b *payerBook) { b.must("clerk:wang", both("2006-06-10", "1000000", "1000000")) },
			&MakeAssessment{AssessedOn: "2006-08-01", Period: "2006-05", Reason: AssessAudit, Lines: []AssessLine{{Insurance: "pension", DueFen: "300000"},
				{Insurance: "medical", DueFen: "0"}}}, true},
		{"a declaration after an audit assessment leaving out its insurance is refused", func(b *payerBook) {
			b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessAudit,
				Lines: []AssessLine{{Insurance: "pension", DueFen: "300000"}, {Insurance: "medical", DueFen: "80000"}}})
		}, &FileDeclaration{DeclaredOn: "2006-06-21", Period: "2006-05", Lines: []DeclareLine{{Insurance: "pension", Headcount: "3", WageBaseFen: "1200000"}}}, false},
		{"the first declaration of a period gives what lines it has", func(b *payerBook) {}, pensionOnly, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPayerBook(t)
			tc.setup(b)
			if tc.ok {
				b.must("clerk:wang", tc.cmd)
				return
			}
			if detail := b.refused("clerk:wang", tc.cmd, KindConflict, "lines"); !strings.Contains(detail, "medical") || !strings.Contains(detail, "stands") {
				t.Errorf("the refusal %q does not name the insurance left out and the standing one", detail)
			}
		})
	}
}

// An insurance that no rate covers from a month on (maternity merged into medical) is dropped from
// that month's settlement, after a 110% assessment that carried it, by a line of none: it needs
// no rate, as nothing is due.
func TestALineOfNoneNeedsNoRate(t *testing.T) {
	b := newPayerBook(t)
	june, _ := b.ref.RatesOn(MustDate("2006-06-01"))
	july := RateTable{EffectiveFrom: MustDate("2006-07-01")}
	for _, l := range june.Lines {
		if l.Insurance != Maternity {
			july.Lines = append(july.Lines, l)
		}
	}
	b.ref.Apply(RatesSet{Table: july})
	b.must("clerk:wang", &FileDeclaration{DeclaredOn: "2006-07-05", Period: "2006-06", Lines: []DeclareLine{
		{Insurance: "pension", Headcount: "3", WageBaseFen: "1000000"}, {Insurance: "maternity", Headcount: "3", WageBaseFen: "1000000"}}})
	b.must("clerk:wang", &MakeAssessment{AssessedOn: "2006-08-16", Period: "2006-07", Reason: AssessNoDeclaration})
	pension := DeclareLine{Insurance: "pension", Headcount: "3", WageBaseFen: "1100000"}
	b.refused("clerk:wang", &FileDeclaration{DeclaredOn: "2006-08-20", Period: "2006-07", Lines: []DeclareLine{pension}}, KindConflict, "lines")
	b.refused("clerk:wang", &FileDeclaration{DeclaredOn: "2006-08-20", Period: "2006-07", Lines: []DeclareLine{pension,
		{Insurance: "maternity", Headcount: "1", WageBaseFen: "1"}}}, KindConflict, "lines[1].insurance")
	b.must("clerk:wang", &FileDeclaration{DeclaredOn: "2006-08-20", Period: "2006-07", Lines: []DeclareLine{pension,
		{Insurance: "maternity", Headcount: "0", WageBaseFen: "0"}}})
}

// A void of a declaration between two others of its period is refused when the one after it
// leaves out an insurance the one before it has a due for: the one after was decided against the
// voided one (which dropped it with a line of none), and would drop that due unseen.
func TestAVoidThatWouldLetADueDropUnseenIsRefused(t *testing.T) {
	b := newPayerBook(t)
	line := func(ins, heads, base string) DeclareLine {
		return DeclareLine{Insurance: ins, Headcount: Number(heads), WageBaseFen: Number(base)}
	}
	decl := func(on string, lines ...DeclareLine) *FileDeclaration {
		return &FileDeclaration{DeclaredOn: on, Period: "2006-03", Lines: lines}
	}
	b.must("clerk:wang", decl("2006-04-10", line("pension", "10", "1000000"), line("medical", "10", "1000000")))
	none := b.must("clerk:wang", decl("2006-04-12", line("pension", "10", "1000000"), line("medical", "0", "0")))
	alone := b.must("clerk:wang", decl("2006-04-13", line("pension", "10", "1000000")))
	if detail := b.refused("auditor:li", void(none.ID, "2006-05-31"), KindConflict, "event_id"); !strings.Contains(detail, alone.ID) || !strings.Contains(detail, "medical") {
		t.Errorf("the refusal %q does not name the declaration after it and the insurance", detail)
	}
	b.must("auditor:li", void(alone.ID, "2006-05-31"))
	b.must("auditor:li", void(none.ID, "2006-05-31"))
}
