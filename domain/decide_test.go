// Over 500 lines for a reason: the commands' decisions are a table of cases over one employer.

package domain

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func defaultRef() *Reference {
	r := &Reference{}
	for _, p := range DefaultReferenceEvents() {
		r.Apply(p)
	}
	return r
}

// decide checks and decides cmd against e, then folds the events into e.
func decide(t *testing.T, e *Employer, cmd Command) []Payload {
	t.Helper()
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	if err := cmd.Check(ctx); err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
	ps, err := cmd.Decide(e, ctx)
	if err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
	for _, p := range ps {
		e.Apply(Event{Envelope: Envelope{Seq: e.Version + 1, N: e.N + 1}, Body: p})
	}
	return ps
}

func registered(kind EmployerKind, risk int) *Employer {
	return fold(EmployerRegistered{Profile: Profile{Name: "x", County: "360702", Kind: kind, RiskClass: risk}, RegisteredOn: MustDate("2006-04-01")})
}

func TestDueAmountsComeFromTheRateTableInForceOnThePeriodsFirstDay(t *testing.T) {
	tests := []struct {
		name string
		kind EmployerKind
		risk int
		ins  string
		base string
		want Fen
	}{
		{"pension for a unit is 20% + 8%, rounded half up once", KindEnterprise, 1, "pension", "1234567", 345679},
		{"unemployment for a unit is 2% + 1%", KindEnterprise, 1, "unemployment", "1234567", 37037},
		{"medical for a unit is 6% + 2%", KindEnterprise, 1, "medical", "1234567", 98765},
		{"work injury follows the risk class (class III: 2%)", KindEnterprise, 3, "work_injury", "1234567", 24691},
		{"work injury class I is 0.5%", KindEnterprise, 1, "work_injury", "1234567", 6173},
		{"maternity is 0.7%", KindEnterprise, 1, "maternity", "1234567", 8642},
		{"individual payers pay pension at 20% of their base", KindFlexible, 1, "pension", "150000", 30000},
		{"individual payers pay medical at 8%", KindIndividualBusiness, 1, "medical", "150050", 12004},
		{"exactly half a fen rounds up (50 × 3% = 1.5)", KindEnterprise, 1, "unemployment", "50", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := registered(tt.kind, tt.risk)
			ps := decide(t, e, &FileDeclaration{DeclaredOn: "2006-05-10", Period: "2006-04",
				Lines: []DeclareLine{{Insurance: tt.ins, Headcount: "1", WageBaseFen: Number(tt.base)}}})
			if got := ps[0].(DeclarationFiled).Lines[0].DueFen; got != tt.want {
				t.Fatalf("due %d fen, want %d", got, tt.want)
			}
		})
	}
}

// A period's work-injury rate is its risk class's on the period's first day, as its rates are
// those in force then: a change of class takes effect from its date, whenever it was recorded,
// on the write side (folded without its history) as on the views.
func TestWorkInjuryFollowsTheRiskClassOnThePeriodsFirstDay(t *testing.T) {
	change := func(on string, class int) EmployerChanged {
		return EmployerChanged{On: MustDate(on), RiskClass: new(class)}
	}
	const classI, classII, classIII = 6173, 12346, 24691 // 1234567 fen at 0.5%, 1% and 2%
	tests := []struct {
		name    string
		changes []EmployerChanged
		period  string
		want    Fen
	}{
		{"a period before a change recorded first keeps the class it began in", []EmployerChanged{change("2006-06-10", 3)}, "2006-05", classI},
		{"a period begun before the change's date within its month keeps the class", []EmployerChanged{change("2006-06-10", 3)}, "2006-06", classI},
		{"a period begun after the change takes the new class", []EmployerChanged{change("2006-06-10", 3)}, "2006-07", classIII},
		{"a change dated on the period's first day applies to it", []EmployerChanged{change("2006-07-01", 3)}, "2006-07", classIII},
		{"a change recorded later but dated earlier applies from its date", []EmployerChanged{change("2006-08-01", 3), change("2006-06-01", 2)}, "2006-07", classII},
		{"the change dated last applies, whatever the order recorded", []EmployerChanged{change("2006-08-01", 3), change("2006-06-01", 2)}, "2006-09", classIII},
		{"of two changes of one day the one recorded later applies", []EmployerChanged{change("2006-06-01", 3), change("2006-06-01", 2)}, "2006-07", classII},
		{"a change of another field leaves the class", []EmployerChanged{{On: MustDate("2006-05-01"), Name: new("y")}}, "2006-07", classI},
		{"a change dated the day it entered corrects the class of a back-paid period", []EmployerChanged{change("2006-04-01", 3)}, "2006-02", classIII},
		{"a period before it entered takes its class on that day, not a later one", []EmployerChanged{change("2006-04-02", 3)}, "2006-02", classI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := []Payload{EmployerRegistered{Profile: Profile{Name: "x", County: "360702", Kind: KindEnterprise, RiskClass: 1}, RegisteredOn: MustDate("2006-04-01")}}
			for _, c := range tt.changes {
				ps = append(ps, c)
			}
			for side, e := range map[string]*Employer{"write side": foldWriteSide(ps...), "views": fold(ps...)} {
				got := decide(t, e, &FileDeclaration{DeclaredOn: "2006-10-10", Period: tt.period,
					Lines: []DeclareLine{{Insurance: "work_injury", Headcount: "1", WageBaseFen: "1234567"}}})
				if due := got[0].(DeclarationFiled).Lines[0].DueFen; due != tt.want {
					t.Errorf("%s: declaration due %d fen, want %d", side, due, tt.want)
				}
				got = decide(t, e, &RecordAuditFinding{FoundOn: "2006-10-20", Kind: FindingUnderReportedBase, Period: tt.period,
					Insurance: "work_injury", ExtraWageBaseFen: "1234567", RedeclareBy: "2006-11-20"})
				if due := got[0].(AuditFindingRecorded).DueFen; due != tt.want {
					t.Errorf("%s: audit finding due %d fen, want %d", side, due, tt.want)
				}
			}
		})
	}
}

// A period is missing its declaration only once its due date has passed: until then the payer
// may declare it, and an assessment for no declaration is refused naming assessed_on.
func TestAnAssessmentForNoDeclarationWaitsForThePeriodsDueDate(t *testing.T) {
	for _, tt := range []struct {
		on   string
		want bool
	}{{"2006-06-01", false}, {"2006-06-15", false}, {"2006-06-16", true}} {
		e := registered(KindEnterprise, 1)
		decide(t, e, &FileDeclaration{DeclaredOn: "2006-05-10", Period: "2006-04",
			Lines: []DeclareLine{{Insurance: "pension", Headcount: "10", WageBaseFen: "1234567"}}})
		cmd := &MakeAssessment{AssessedOn: tt.on, Period: "2006-05", Reason: AssessNoDeclaration}
		ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
		if err := cmd.Check(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := cmd.Decide(e, ctx)
		var de *Error
		switch {
		case tt.want && err != nil:
			t.Errorf("assessed on %s, the day after 2006-05's due date: %v", tt.on, err)
		case !tt.want && (!errors.As(err, &de) || de.Kind != KindConflict || de.Field != "assessed_on"):
			t.Errorf("assessed on %s, by 2006-05's due date 2006-06-15: %v; want a conflict naming assessed_on", tt.on, err)
		}
	}
}

// Two copies of a write-side state (a bulk load's round, the cache's) each keep their own
// changes of class: a change folded into one is not seen by the other.
func TestClonesKeepTheirOwnRiskClasses(t *testing.T) {
	e := foldWriteSide(EmployerRegistered{Profile: Profile{Name: "x", County: "360702", Kind: KindEnterprise, RiskClass: 1}, RegisteredOn: MustDate("2006-04-01")},
		EmployerChanged{On: MustDate("2006-05-01"), RiskClass: new(2)}, EmployerChanged{On: MustDate("2006-06-01"), RiskClass: new(1)})
	a, b := e.Clone(), e.Clone()
	a.Apply(Event{Envelope: Envelope{Seq: 4, N: 4}, Body: EmployerChanged{On: MustDate("2006-08-01"), RiskClass: new(3)}})
	b.Apply(Event{Envelope: Envelope{Seq: 4, N: 4}, Body: EmployerChanged{On: MustDate("2006-08-01"), RiskClass: new(2)}})
	d := MustDate("2006-09-01")
	if got := [3]int{a.RiskClassOn(d), b.RiskClassOn(d), e.RiskClassOn(d)}; got != [3]int{3, 2, 1} {
		t.Errorf("classes on %s of the two clones and the original: %v, want [3 2 1]", d, got)
	}
}

func TestAssessmentForNoDeclarationIs110PercentOfThePreviousPeriod(t *testing.T) {
	e := registered(KindEnterprise, 1)
	decide(t, e, &FileDeclaration{DeclaredOn: "2006-05-10", Period: "2006-04",
		Lines: []DeclareLine{{Insurance: "pension", Headcount: "10", WageBaseFen: "1234567"}}})
	// 345679 × 110% = 380246.9 → 380247.
	ps := decide(t, e, &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration})
	if got := ps[0].(AssessmentMade).Lines[0].DueFen; got != 380247 {
		t.Fatalf("first assessment %d, want 380247", got)
	}
	// A second assessed month is 110% of the assessed one: 380247 × 110% = 418271.7 → 418272.
	ps = decide(t, e, &MakeAssessment{AssessedOn: "2006-07-20", Period: "2006-06", Reason: AssessNoDeclaration})
	if got := ps[0].(AssessmentMade).Lines[0].DueFen; got != 418272 {
		t.Fatalf("second assessment %d, want 418272", got)
	}
	// The declaration of 2006-05 settles its assessment.
	decide(t, e, &FileDeclaration{DeclaredOn: "2006-07-25", Period: "2006-05",
		Lines: []DeclareLine{{Insurance: "pension", Headcount: "10", WageBaseFen: "1000000"}}})
	st := e.Account.Statement(MustDate("2006-07-25"), DefaultLateFees)
	if l, _ := st.Line(LineKey{MustPeriod("2006-05"), Pension}); l.DueFen != 280000 {
		t.Fatalf("settled line due %d, want 280000", l.DueFen)
	}
	// A declared period cannot be assessed for no declaration.
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	cmd := &MakeAssessment{AssessedOn: "2006-08-01", Period: "2006-05", Reason: AssessNoDeclaration}
	_ = cmd.Check(ctx)
	if _, err := cmd.Decide(e, ctx); err == nil {
		t.Fatal("assessing a declared period for no declaration was allowed")
	}
}

// DOMAIN.md: an assessment for no declaration sets each line at 110% of the previous period's due
// of its insurance; lines are given only with no previous period. A clerk's other amount does not
// stand under that rule's name.
func TestAnAssessmentForNoDeclarationTakesGivenLinesOnlyWithNoPreviousPeriod(t *testing.T) {
	declared := func(base string) *Employer {
		e := registered(KindEnterprise, 1)
		headcount := "10"
		if base == "0" {
			headcount = "0"
		}
		decide(t, e, &FileDeclaration{DeclaredOn: "2006-05-10", Period: "2006-04",
			Lines: []DeclareLine{{Insurance: "pension", Headcount: Number(headcount), WageBaseFen: Number(base)}}})
		return e
	}
	assess := `{"assessed_on":"2006-06-20","period":"2006-05","reason":"no_declaration","lines":%s}`
	for _, c := range []struct {
		name, lines, base, field string
	}{
		{"a line of an insurance due before at another amount is refused", `[{"insurance":"pension","due_fen":1}]`, "1234567", "lines[0].due_fen"},
		{"the rule's figure of a due of 0 is 0", `[{"insurance":"pension","due_fen":99999999}]`, "0", "lines[0].due_fen"},
		{"an insurance the previous period has no line of is refused", `[{"insurance":"pension","due_fen":380247},{"insurance":"medical","due_fen":50000}]`, "1234567", "lines[1].insurance"},
		{"a previous period whose dues are all 0 sets nothing", `[]`, "0", "lines"},
	} {
		t.Run(c.name, func(t *testing.T) {
			refuses(t, declared(c.base), &MakeAssessment{}, fmt.Sprintf(assess, c.lines), c.field)
		})
	}
	t.Run("the rule's own figure given is taken", func(t *testing.T) {
		ps := decide(t, declared("1234567"), &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration,
			Lines: []AssessLine{{Insurance: "pension", DueFen: "380247"}}})
		if got := ps[0].(AssessmentMade).Lines; len(got) != 1 || got[0] != (AssessedLine{Pension, 380247}) {
			t.Fatalf("lines %v, want pension 380247", got)
		}
	})
	t.Run("with no previous period the lines are the given ones", func(t *testing.T) {
		ps := decide(t, registered(KindEnterprise, 1), &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessNoDeclaration,
			Lines: []AssessLine{{Insurance: "pension", DueFen: "1"}}})
		if got := ps[0].(AssessmentMade).Lines; len(got) != 1 || got[0] != (AssessedLine{Pension, 1}) {
			t.Fatalf("lines %v, want pension 1", got)
		}
	})
	t.Run("an audit assessment sets the lines it gives", func(t *testing.T) {
		ps := decide(t, declared("1234567"), &MakeAssessment{AssessedOn: "2006-06-20", Period: "2006-05", Reason: AssessAudit,
			Lines: []AssessLine{{Insurance: "pension", DueFen: "1"}, {Insurance: "medical", DueFen: "50000"}}})
		if got := ps[0].(AssessmentMade).Lines; len(got) != 2 || got[0] != (AssessedLine{Pension, 1}) {
			t.Fatalf("lines %v, want pension 1 and medical 50000", got)
		}
	})
}

func TestAuditFindingOfUnderReportedBaseAddsItsContributions(t *testing.T) {
	e := registered(KindEnterprise, 1)
	decide(t, e, &FileDeclaration{DeclaredOn: "2006-06-05", Period: "2006-05",
		Lines: []DeclareLine{{Insurance: "pension", Headcount: "10", WageBaseFen: "1000000"}}})
	ps := decide(t, e, &RecordAuditFinding{FoundOn: "2006-08-01", Kind: FindingUnderReportedBase, Period: "2006-05",
		Insurance: "pension", ExtraWageBaseFen: "500000", RedeclareBy: "2006-08-31"})
	if got := ps[0].(AuditFindingRecorded).DueFen; got != 140000 {
		t.Fatalf("extra due %d, want 140000 (28%% of 500000)", got)
	}
	st := e.Account.Statement(MustDate("2006-08-01"), DefaultLateFees)
	l, _ := st.Line(LineKey{MustPeriod("2006-05"), Pension})
	// 420000 overdue from 2006-06-16 through 2006-08-01 (47 days) at 2‰: 39480.
	if l.DueFen != 420000 || l.LateFeeFen != 39480 {
		t.Fatalf("line due %d, fee %d; want 420000 and 39480", l.DueFen, l.LateFeeFen)
	}
	ps = decide(t, e, &RecordAuditFinding{FoundOn: "2006-08-02", Kind: FindingMissedWorkers, Period: "2006-05",
		Insurance: "pension", ExtraHeadcount: "3", ExtraWageBaseFen: "300000", RedeclareBy: "2006-08-31"})
	if got := ps[0].(AuditFindingRecorded).DueFen; got != 84000 || e.EnrolledOn(Pension, MustDate("2006-08-02")) != 3 {
		t.Fatalf("missed workers: due %d, enrolled %d; want 84000 and 3 more", got, e.EnrolledOn(Pension, MustDate("2006-08-02")))
	}
}

func TestWaiverAndDeregistrationRules(t *testing.T) {
	e := registered(KindEnterprise, 1)
	decide(t, e, &FileDeclaration{DeclaredOn: "2006-05-10", Period: "2006-04",
		Lines: []DeclareLine{{Insurance: "pension", Headcount: "10", WageBaseFen: "1000000"}}})
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	tests := []struct {
		name  string
		cmd   Command
		field string
	}{
		{"a late-fee waiver above the fee owed is refused", &GrantWaiver{DecidedOn: "2006-05-20", Kind: WaiverLateFee, AuthorityDoc: "赣市劳社字〔2006〕1号", Reason: "r",
			Insurance: "pension", Period: "2006-04", AmountFen: "999999"}, "amount_fen"},
		{"a waiver of a line that does not exist is refused", &GrantWaiver{DecidedOn: "2006-05-20", Kind: WaiverLateFee, AuthorityDoc: "d", Reason: "r",
			Insurance: "medical", Period: "2006-04", AmountFen: "1"}, "period"},
		{"deregistration with arrears is refused", &Deregister{On: "2006-06-01", Reason: "closed"}, "on"},
		{"nothing may be dated before the employer entered the ledger", &RecordPayment{PaidOn: "2006-03-31", AmountFen: "1", ReceiptNo: "R"}, "paid_on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cmd.Check(ctx); err != nil {
				t.Fatalf("check: %v", err)
			}
			_, err := tt.cmd.Decide(e, ctx)
			var de *Error
			if !errors.As(err, &de) || de.Kind != KindConflict || de.Field != tt.field {
				t.Fatalf("got %v, want a conflict on %s", err, tt.field)
			}
		})
	}
}

func TestReinstatementEndsADeregistrationFromItsDate(t *testing.T) {
	e := registered(KindEnterprise, 1)
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	refused := func(cmd Command, kind Kind, field string) {
		t.Helper()
		err := cmd.Check(ctx)
		if err == nil {
			_, err = cmd.Decide(e, ctx)
		}
		var de *Error
		if !errors.As(err, &de) || de.Kind != kind || de.Field != field {
			t.Fatalf("%+v: got %v, want %v on %s", cmd, err, kind, field)
		}
	}
	refused(&Reinstate{ReinstatedOn: "2006-09-01", Reason: "复业"}, KindConflict, "reinstated_on") // not deregistered
	decide(t, e, &Deregister{On: "2006-08-01", Reason: "停业"})
	refused(&Reinstate{ReinstatedOn: "2006-07-31", Reason: "复业"}, KindConflict, "reinstated_on") // before the deregistration
	refused(&Reinstate{ReinstatedOn: "2006-10-01"}, KindInvalid, "reason")
	refused(&Reinstate{ReinstatedOn: "2007-01-01", Reason: "复业"}, KindInvalid, "reinstated_on") // after today
	refused(&FileDeclaration{DeclaredOn: "2006-09-10", Period: "2006-08", Lines: []DeclareLine{{Insurance: "pension", Headcount: "1", WageBaseFen: "100000"}}}, KindConflict, "period")
	decide(t, e, &Reinstate{ReinstatedOn: "2006-10-01", Reason: "复业"})
	for _, c := range []struct {
		on     string
		active bool
	}{{"2006-07-31", true}, {"2006-08-01", false}, {"2006-09-30", false}, {"2006-10-01", true}, {"2006-12-31", true}} {
		if got := e.ActiveOn(MustDate(c.on)); got != c.active {
			t.Errorf("active on %s: %v, want %v", c.on, got, c.active)
		}
	}
	// Dues start again: the next period is declared, and the payer may be deregistered again.
	decide(t, e, &FileDeclaration{DeclaredOn: "2006-11-10", Period: "2006-10", Lines: []DeclareLine{{Insurance: "pension", Headcount: "1", WageBaseFen: "100000"}}})
	refused(&Reinstate{ReinstatedOn: "2006-11-01", Reason: "again"}, KindConflict, "reinstated_on")
}

// TestAnEnrollmentIsOfADayTheEmployerWasAPayer: an enrollment effective while the employer was
// a payer is recorded whenever it comes, after a deregistration too; one effective on or after
// the deregistration, or within one a reinstatement ended, is refused on effective_on.
func TestAnEnrollmentIsOfADayTheEmployerWasAPayer(t *testing.T) {
	e := registered(KindEnterprise, 1)
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	enroll := func(on string) *RecordEnrollment {
		return &RecordEnrollment{Insurance: "medical", Headcount: "5", EffectiveOn: on}
	}
	conflictOn := func(cmd Command, field string) {
		t.Helper()
		err := cmd.Check(ctx)
		if err == nil {
			_, err = cmd.Decide(e, ctx)
		}
		var de *Error
		if !errors.As(err, &de) || de.Kind != KindConflict || de.Field != field {
			t.Errorf("%T %+v: got %v, want a conflict on %s", cmd, cmd, err, field)
		}
	}
	decide(t, e, &Deregister{On: "2006-08-01", Reason: "停业"})
	decide(t, e, enroll("2006-07-31"))
	conflictOn(enroll("2006-08-01"), "effective_on")
	decide(t, e, &Reinstate{ReinstatedOn: "2006-10-01", Reason: "复业"})
	conflictOn(enroll("2006-09-30"), "effective_on")
	decide(t, e, enroll("2006-07-10"))
	decide(t, e, enroll("2006-10-01"))
	// What a deregistered employer may not do names the employer: a form shows it beside it.
	decide(t, e, &Deregister{On: "2006-11-01", Reason: "停业"})
	for _, cmd := range []Command{&ChangeEmployer{On: "2006-11-10", RiskClass: new(Number("2"))}, &Transfer{On: "2006-11-10", County: "360721"},
		&Deregister{On: "2006-11-10", Reason: "again"}} {
		conflictOn(cmd, "employer_id")
	}
}

// TestAnOpeningBalanceCarriesOnlyPeriodsBeforeTheEmployerEntered: DOMAIN.md's opening balances
// are arrears carried over from before the ledger; a period begun since the employer entered
// (2006-04-01 here) is the ledger's own, declared, assessed or found by an audit, and so is one
// before it that the ledger declared (a back-payment of 2006-02).
func TestAnOpeningBalanceCarriesOnlyPeriodsBeforeTheEmployerEntered(t *testing.T) {
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	for _, tt := range []struct {
		name   string
		period string
		field  string // "" when accepted
	}{
		{"a period of the year before is carried over", "2005-11", ""},
		{"the month before the entry is carried over", "2006-03", ""},
		{"the period begun on the day of entry is the ledger's own", "2006-04", "lines[1].period"},
		{"a later period is the ledger's own", "2006-11", "lines[1].period"},
		{"a period before the entry, declared in the ledger (a back-payment), is the ledger's own", "2006-02", "lines[1].period"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := &RecordOpeningBalance{AsOf: "2006-12-10", Lines: []OpeningInput{
				{Period: "2005-01", Insurance: "pension", OutstandingFen: "100"},
				{Period: tt.period, Insurance: "pension", OutstandingFen: "7000"}}}
			if err := cmd.Check(ctx); err != nil {
				t.Fatal(err)
			}
			e := registered(KindEnterprise, 1)
			decide(t, e, &FileDeclaration{DeclaredOn: "2006-04-20", Period: "2006-02", Lines: []DeclareLine{{Insurance: "pension", Headcount: "1", WageBaseFen: "100000"}}})
			_, err := cmd.Decide(e, ctx)
			var de *Error
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.field != "" && (!errors.As(err, &de) || de.Kind != KindConflict || de.Field != tt.field):
				t.Errorf("got %v, want a conflict on %s", err, tt.field)
			}
		})
	}
}

// TestATransferIsDatedOnOrAfterTheLatestOne: a transfer dated before the employer's latest move
// would leave the county it is in now (whose clerks write to it) other than its county on
// today's date (where its figures count); it is refused naming its date.
func TestATransferIsDatedOnOrAfterTheLatestOne(t *testing.T) {
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	e := registered(KindEnterprise, 1)
	decide(t, e, &Transfer{On: "2006-06-01", County: "360721"})
	cmd := &Transfer{On: "2006-05-31", County: "360781"}
	if err := cmd.Check(ctx); err != nil {
		t.Fatal(err)
	}
	var de *Error
	if _, err := cmd.Decide(e, ctx); !errors.As(err, &de) || de.Kind != KindConflict || de.Field != "on" || !strings.Contains(de.Detail, "2006-06-01") {
		t.Errorf("a transfer dated before the latest: %v, want a conflict on on naming 2006-06-01", err)
	}
	decide(t, e, &Transfer{On: "2006-06-01", County: "360781"}) // on the latest's day: accepted
	if got := e.CountyOn(ctx.Today); e.County != "360781" || got != "360781" {
		t.Errorf("the county now %s, on today's date %s; want 360781 both", e.County, got)
	}
}

// Dues stop while a payer is deregistered and start again with the period after its
// reinstatement: a month is owed by whoever was a payer on its first day, on the write side's
// state too (a checkpoint restored). A line already standing in such a month may be corrected.
func TestNoDuesAriseForMonthsBegunWhileDeregistered(t *testing.T) {
	line := []DeclareLine{{Insurance: "pension", Headcount: "1", WageBaseFen: "100000"}}
	none := []DeclareLine{{Insurance: "pension", Headcount: "0", WageBaseFen: "0"}}
	payer := func(t *testing.T, before ...Command) *Employer {
		t.Helper()
		e := &Employer{SkipHistory: true}
		e.Apply(Event{Envelope: Envelope{Seq: 1, N: 1}, Body: EmployerRegistered{Profile: Profile{Name: "x", County: "360702", Kind: KindEnterprise, RiskClass: 1},
			RegisteredOn: MustDate("2006-04-01")}})
		for _, c := range before {
			decide(t, e, c)
		}
		b, err := e.AppendState(nil)
		if err != nil {
			t.Fatal(err)
		}
		if e, err = ReadState(b); err != nil {
			t.Fatal(err)
		}
		return e
	}
	away := func(from, until string) []Command {
		return []Command{&Deregister{On: from, Reason: "停业"}, &Reinstate{ReinstatedOn: until, Reason: "复业"}}
	}
	gone := func(on string) []Command { return []Command{&Deregister{On: on, Reason: "停业"}} }
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	for _, tt := range []struct {
		name   string
		before []Command
		cmd    Command
		again  string // "" when owed; else when the refusal says dues start again
	}{
		{"the month the deregistration began in is owed: the payer was one on its first day", away("2006-07-10", "2006-09-05"),
			&FileDeclaration{DeclaredOn: "2006-09-10", Period: "2006-07", Lines: line}, ""},
		{"a month begun while deregistered is not", away("2006-07-10", "2006-09-05"),
			&FileDeclaration{DeclaredOn: "2006-09-10", Period: "2006-08", Lines: line}, "2006-10"},
		{"nor is the month of the reinstatement", away("2006-07-10", "2006-09-05"),
			&FileDeclaration{DeclaredOn: "2006-10-10", Period: "2006-09", Lines: line}, "2006-10"},
		{"nor is it assessed for no declaration", away("2006-07-10", "2006-09-05"),
			&MakeAssessment{AssessedOn: "2006-10-20", Period: "2006-09", Reason: AssessNoDeclaration}, "2006-10"},
		{"dues start again with the month after the reinstatement", away("2006-07-10", "2006-09-05"),
			&FileDeclaration{DeclaredOn: "2006-11-10", Period: "2006-10", Lines: line}, ""},
		{"a payer reinstated on a 1st owes that month", away("2006-08-01", "2006-10-01"),
			&FileDeclaration{DeclaredOn: "2006-11-10", Period: "2006-10", Lines: line}, ""},
		{"and not the one before", away("2006-08-01", "2006-10-01"),
			&FileDeclaration{DeclaredOn: "2006-11-10", Period: "2006-09", Lines: line}, "2006-10"},
		{"a payer reinstated the day it was deregistered was never away", away("2006-07-01", "2006-07-01"),
			&FileDeclaration{DeclaredOn: "2006-08-10", Period: "2006-07", Lines: line}, ""},
		{"nor are dues found of it by an audit", away("2006-07-10", "2006-09-05"),
			&RecordAuditFinding{FoundOn: "2006-11-10", Kind: FindingUnderReportedBase, Period: "2006-08", Insurance: "pension", ExtraWageBaseFen: "100000", RedeclareBy: "2006-12-10"}, "2006-10"},
		{"an audit of a line standing in such a month may add to it",
			append([]Command{&FileDeclaration{DeclaredOn: "2006-08-01", Period: "2006-08", Lines: line}}, away("2006-07-10", "2006-09-05")...),
			&RecordAuditFinding{FoundOn: "2006-11-10", Kind: FindingUnderReportedBase, Period: "2006-08", Insurance: "pension", ExtraWageBaseFen: "100000", RedeclareBy: "2006-12-10"}, ""},
		{"an audit of an assessed line standing in such a month may add to it",
			append([]Command{&MakeAssessment{AssessedOn: "2006-08-01", Period: "2006-08", Reason: AssessAudit, Lines: []AssessLine{{Insurance: "pension", DueFen: "28000"}}}},
				away("2006-07-10", "2006-09-05")...),
			&RecordAuditFinding{FoundOn: "2006-11-10", Kind: FindingUnderReportedBase, Period: "2006-08", Insurance: "pension", ExtraWageBaseFen: "100000", RedeclareBy: "2006-12-10"}, ""},
		{"a line standing in a month begun while deregistered may be corrected",
			append([]Command{&FileDeclaration{DeclaredOn: "2006-08-01", Period: "2006-08", Lines: line}}, away("2006-07-10", "2006-09-05")...),
			&FileDeclaration{DeclaredOn: "2006-09-10", Period: "2006-08", Lines: none}, ""},
		// A payer deregistered on the 10th owes the month before (due on the 15th) and its own:
		// they are declared, assessed or found after the deregistration, else they escape.
		{"a payer still deregistered is declared for the month before its deregistration", gone("2006-07-10"),
			&FileDeclaration{DeclaredOn: "2006-08-10", Period: "2006-06", Lines: line}, ""},
		{"and for the month of its deregistration", gone("2006-07-10"),
			&FileDeclaration{DeclaredOn: "2006-08-10", Period: "2006-07", Lines: line}, ""},
		{"or assessed for it", gone("2006-07-10"),
			&MakeAssessment{AssessedOn: "2006-08-20", Period: "2006-07", Reason: AssessAudit, Lines: []AssessLine{{Insurance: "pension", DueFen: "28000"}}}, ""},
		{"or found owing more of it by an audit", gone("2006-07-10"),
			&RecordAuditFinding{FoundOn: "2006-11-10", Kind: FindingUnderReportedBase, Period: "2006-07", Insurance: "pension", ExtraWageBaseFen: "100000", RedeclareBy: "2006-12-10"}, ""},
		{"a month begun after a deregistration that stands is not owed", gone("2006-07-10"),
			&FileDeclaration{DeclaredOn: "2006-09-10", Period: "2006-08", Lines: line}, "its reinstatement"},
		{"nor assessed", gone("2006-07-10"),
			&MakeAssessment{AssessedOn: "2006-09-20", Period: "2006-08", Reason: AssessAudit, Lines: []AssessLine{{Insurance: "pension", DueFen: "28000"}}}, "its reinstatement"},
		{"nor found by an audit", gone("2006-07-10"),
			&RecordAuditFinding{FoundOn: "2006-11-10", Kind: FindingUnderReportedBase, Period: "2006-08", Insurance: "pension", ExtraWageBaseFen: "100000", RedeclareBy: "2006-12-10"}, "its reinstatement"},
		{"nor is the month of a deregistration on its 1st", gone("2006-07-01"),
			&FileDeclaration{DeclaredOn: "2006-08-10", Period: "2006-07", Lines: line}, "its reinstatement"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := payer(t, tt.before...)
			if err := tt.cmd.Check(ctx); err != nil {
				t.Fatal(err)
			}
			_, err := tt.cmd.Decide(e, ctx)
			var de *Error
			switch {
			case tt.again == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.again != "" && (!errors.As(err, &de) || de.Kind != KindConflict || de.Field != "period" || !strings.Contains(err.Error(), "start again with "+tt.again)):
				t.Fatalf("got %v, want a conflict on period saying dues start again with %s", err, tt.again)
			}
		})
	}
}
