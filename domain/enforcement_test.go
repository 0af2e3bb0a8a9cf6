package domain

import (
	"strings"
	"testing"
)

// The enforcement ladder (DOMAIN.md): notice → inspection → media exposure → forced collection
// → court application → court result. A notice needs principal overdue; a later step needs a
// notice dated on or before it and comes after that notice's deadline, climbs its case's
// ladder in order, and needs principal overdue on its date, but for the court's result, which
// needs the application; a case closes when the arrears are cleared or a court outcome is
// recorded, and a notice after that opens another.
func TestEnforcementLadder(t *testing.T) {
	type refusal struct {
		cmd   *RecordEnforcement
		field string
		says  string
	}
	n := notice("2006-07-01", "2006-07-15")
	for _, tc := range []struct {
		name    string
		clear   bool // the employer owes nothing
		taken   []Command
		refused refusal
	}{
		{"a step before any notice is refused", false, nil,
			refusal{step(StepInspection, "2006-07-20"), "step", "needs a notice"}},
		{"a step before the first notice is refused", false, []Command{n},
			refusal{step(StepInspection, "2006-06-20"), "on", "before the first notice, of 2006-07-01"}},
		{"a step before the first notice names the earliest, not the first recorded", false, []Command{n, notice("2006-06-01", "2006-06-15")},
			refusal{step(StepInspection, "2006-05-20"), "on", "before the first notice, of 2006-06-01"}},
		{"escalation within the notice's deadline is refused", false, []Command{n},
			refusal{step(StepInspection, "2006-07-10"), "on", "deadline 2006-07-15"}},
		{"escalation on the deadline's own day is refused", false, []Command{n},
			refusal{step(StepCourtResult, "2006-07-15"), "on", "deadline 2006-07-15"}},
		{"escalation the day after the deadline is taken", false, []Command{n, step(StepInspection, "2006-07-16")},
			refusal{}},
		{"a later notice's deadline governs the steps after it", false, []Command{n, step(StepInspection, "2006-07-20"),
			notice("2006-08-01", "2006-08-31"), step(StepMediaExposure, "2006-09-01")},
			refusal{step(StepForcedCollection, "2006-08-10"), "on", "deadline 2006-08-31 of the notice of 2006-08-01"}},
		{"a step dated between two notices follows the first one's deadline", false, []Command{n,
			notice("2006-08-01", "2006-08-31"), step(StepInspection, "2006-07-25")},
			refusal{}},
		{"a notice with no principal overdue is refused", true, nil,
			refusal{notice("2006-07-01", "2006-07-15"), "on", "no principal overdue on 2006-07-01"}},
		{"a step may repeat, and rungs may be passed over", false, []Command{n, step(StepInspection, "2006-07-20"),
			step(StepInspection, "2006-07-25"), step(StepCourtApplication, "2006-08-01"), step(StepCourtResult, "2006-09-01")},
			refusal{}},
		{"the ladder does not go back", false, []Command{n, step(StepForcedCollection, "2006-07-20")},
			refusal{step(StepInspection, "2006-07-25"), "step", "reached forced_collection on 2006-07-20: the ladder does not go back to inspection"}},
		{"a step is not dated before a lower step of its case", false, []Command{n, step(StepInspection, "2006-08-01")},
			refusal{step(StepForcedCollection, "2006-07-20"), "on", "took the lower step inspection on 2006-08-01"}},
		{"a lower step found late is dated before the higher one", false, []Command{n, step(StepForcedCollection, "2006-08-01"),
			step(StepInspection, "2006-07-20")},
			refusal{}},
		{"a court's result needs the application to court", false, []Command{n, step(StepForcedCollection, "2006-07-20")},
			refusal{step(StepCourtResult, "2006-08-01"), "step", "needs the application to court"}},
		{"a court's result closes the case", false, []Command{n, step(StepCourtApplication, "2006-07-20"), step(StepCourtResult, "2006-08-01")},
			refusal{step(StepForcedCollection, "2006-08-10"), "step", "closed with the court's result of 2006-08-01"}},
		{"a notice after a court's result opens another case", false, []Command{n, step(StepCourtApplication, "2006-07-20"),
			step(StepCourtResult, "2006-08-01"), notice("2006-08-10", "2006-08-20"), step(StepInspection, "2006-08-21")},
			refusal{}},
		{"arrears cleared close the case: no step follows", false, []Command{n, step(StepInspection, "2006-07-20"), payAll("2006-07-25")},
			refusal{step(StepForcedCollection, "2006-08-01"), "on", "cleared on 2006-07-25"}},
		{"a step on the day the arrears are cleared is refused", false, []Command{n, payAll("2006-07-20")},
			refusal{step(StepInspection, "2006-07-20"), "on", "no principal overdue on 2006-07-20: the case is closed"}},
		{"the court's result of an application follows arrears cleared since", false, []Command{n, step(StepCourtApplication, "2006-07-20"),
			payAll("2006-07-25"), step(StepCourtResult, "2006-08-01")},
			refusal{}},
		{"arrears cleared close the case though new ones fall due", false, []Command{n, step(StepInspection, "2006-07-20"), payOff("2006-07-25"),
			declaration("2006-08-10", "2006-07", "1000000")},
			refusal{step(StepForcedCollection, "2006-10-01"), "on", "cleared on 2006-07-25, which closed the case of the notice of 2006-07-01"}},
		{"a case cleared by an opening balance recorded again lower is closed", true, []Command{
			&RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-04-01"}, opening("2006-06-01", "2006-03", "1000"),
			n, payment("2006-07-03", "R-part", "400"), declaration("2006-07-06", "2006-06", "1000000"), opening("2006-07-10", "2006-03", "400")},
			refusal{step(StepInspection, "2006-07-20"), "on", "cleared on 2006-07-10"}},
		{"a case cleared by a payment recorded late is closed", false, []Command{n, declaration("2006-07-06", "2006-06", "1000000"),
			step(StepInspection, "2006-07-20"), payOff("2006-07-05")},
			refusal{step(StepMediaExposure, "2006-08-01"), "on", "cleared on 2006-07-05"}},
		{"a notice on a court result's day opens a case without it", false, []Command{n, step(StepCourtApplication, "2006-07-20"),
			step(StepCourtResult, "2006-08-01"), notice("2006-08-01", "2006-08-10"), step(StepInspection, "2006-08-15")},
			refusal{}},
		{"a notice on a step's day opens a case below it", false, []Command{n, step(StepForcedCollection, "2006-08-01"),
			notice("2006-08-01", "2006-08-10"), step(StepInspection, "2006-08-15")},
			refusal{}},
		// A notice dated before steps already recorded takes them into its case: they must
		// follow its deadline and climb its ladder as though it had been recorded first.
		{"a notice whose deadline a later step falls within is refused", false, []Command{n, step(StepInspection, "2006-08-01")},
			refusal{notice("2006-07-15", "2006-08-31"), "deadline", "the inspection of 2006-08-01"}},
		{"a notice whose deadline a later step falls on is refused", false, []Command{n, step(StepInspection, "2006-08-01")},
			refusal{notice("2006-07-15", "2006-08-01"), "deadline", "the inspection of 2006-08-01"}},
		{"a notice whose deadline the later steps follow is taken", false, []Command{n, step(StepInspection, "2006-08-01"),
			notice("2006-07-20", "2006-07-31")},
			refusal{}},
		{"a notice is checked against the steps of its own case only", false, []Command{n, step(StepInspection, "2006-07-20"),
			notice("2006-08-10", "2006-08-31"), step(StepInspection, "2006-09-01"), notice("2006-07-25", "2006-08-05")},
			refusal{}},
		{"a second notice on a notice's day is refused", false, []Command{n},
			refusal{notice("2006-07-01", "2006-07-31"), "on", "a notice to correct dated 2006-07-01 is recorded already"}},
		{"a notice between a court application and its result is refused", false, []Command{n, step(StepCourtApplication, "2006-08-01"),
			step(StepCourtResult, "2006-09-01")},
			refusal{notice("2006-08-10", "2006-08-20"), "on", "the court's result of 2006-09-01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPayerBook(t)
			if !tc.clear {
				owe(b)
			}
			for _, c := range tc.taken {
				b.must("auditor:li", c)
			}
			if tc.refused.cmd != nil {
				if why := b.refused("auditor:li", tc.refused.cmd, KindConflict, tc.refused.field); !strings.Contains(why, tc.refused.says) {
					t.Fatalf("refused with %q, want it to say %q", why, tc.refused.says)
				}
			}
		})
	}

	// The stage on 2006-12-31.
	for _, tc := range []struct {
		name  string
		steps []Command
		want  string
	}{
		{"no step: none", nil, StageNone},
		{"a step with arrears: that step", []Command{n, step(StepInspection, "2006-07-20")}, StepInspection},
		{"arrears cleared: closed", []Command{n, step(StepInspection, "2006-07-20"), payAll("2006-07-25")}, StageClosed},
		{"arrears cleared, then owed again: closed till a notice", []Command{n, step(StepInspection, "2006-07-20"), payOff("2006-07-25"),
			declaration("2006-08-10", "2006-07", "1000000")}, StageClosed},
		{"a court outcome closes the case with arrears left", []Command{n, step(StepCourtApplication, "2006-08-01"),
			step(StepCourtResult, "2006-09-01")}, StageClosed},
		{"a notice after a court outcome opens another case", []Command{n, step(StepCourtApplication, "2006-08-01"),
			step(StepCourtResult, "2006-09-01"), notice("2006-10-01", "2006-10-31")}, StepNotice},
		{"the stage is the latest step by date, not the last recorded", []Command{n, step(StepForcedCollection, "2006-08-01"),
			step(StepInspection, "2006-07-20")}, StepForcedCollection},
		{"a payment recorded late, dated within the case, clears it: closed", []Command{n, declaration("2006-07-06", "2006-06", "1000000"),
			step(StepInspection, "2006-07-20"), payOff("2006-07-05")}, StageClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPayerBook(t)
			owe(b)
			for _, c := range tc.steps {
				b.must("auditor:li", c)
			}
			day := MustDate("2006-12-31")
			if got := b.e.Stage(day, b.e.Account.Statement(day, b.ref.LateFees).Totals, b.ref.LateFees); got != tc.want {
				t.Fatalf("stage %q, want %q", got, tc.want)
			}
		})
	}
}

// TestACaseStandsPastANoticeUntilItClosesOrANoticeBeginsAnother: EscalatedOn (which a county's
// batch of notices leaves out) is the step past a notice a case stands at on a day: not a notice,
// a court's result, a case whose arrears were cleared, one begun again by a notice (of the same
// day too), nor a step dated after the day.
func TestACaseStandsPastANoticeUntilItClosesOrANoticeBeginsAnother(t *testing.T) {
	n := notice("2006-07-01", "2006-07-15")
	for _, tc := range []struct {
		name  string
		steps []Command
		want  string // "": not escalated on 2006-10-01
	}{
		{"no step", nil, ""},
		{"a notice", []Command{n}, ""},
		{"forced collection after a notice", []Command{n, step(StepForcedCollection, "2006-08-01")}, StepForcedCollection},
		{"an application to court", []Command{n, step(StepInspection, "2006-07-20"), step(StepCourtApplication, "2006-08-01")}, StepCourtApplication},
		{"a court's result closes it", []Command{n, step(StepCourtApplication, "2006-08-01"), step(StepCourtResult, "2006-09-01")}, ""},
		{"its arrears cleared", []Command{n, step(StepInspection, "2006-07-20"), payAll("2006-07-25")}, ""},
		{"a notice after it begins another case", []Command{n, step(StepInspection, "2006-07-20"), notice("2006-09-01", "2006-09-15")}, ""},
		{"a notice on its day begins another case", []Command{n, step(StepInspection, "2006-07-20"), notice("2006-07-20", "2006-07-31")}, ""},
		{"a step dated after the day", []Command{n, step(StepForcedCollection, "2006-11-01")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPayerBook(t)
			owe(b)
			for _, c := range tc.steps {
				b.must("auditor:li", c)
			}
			x, ok := b.e.EscalatedOn(MustDate("2006-10-01"), b.ref.LateFees)
			if got := map[bool]string{true: x.Step}[ok]; got != tc.want {
				t.Fatalf("escalated at %q (%v), want %q", got, x, tc.want)
			}
		})
	}
}

// notice, step, payAll and payOff are the enforcement tests' commands: a notice to correct, a
// later step of the ladder, a payment of everything owed and one of owe's principal (300 bp of
// 1,000,000).
func notice(on, deadline string) *RecordEnforcement {
	return &RecordEnforcement{Step: StepNotice, On: on, DocNo: "N-" + on, Deadline: deadline}
}

func step(s, on string) *RecordEnforcement {
	return &RecordEnforcement{Step: s, On: on, DocNo: s + "-" + on}
}
func payAll(on string) Command { return payment(on, "R-"+on, "10000000") }
func payOff(on string) Command { return payment(on, "R-"+on, "30000") }

// owe puts b's employer in arrears from 2006-05-16: April's unemployment, declared and unpaid.
func owe(b *payerBook) {
	b.must("clerk:wang", &RecordEnrollment{Insurance: "unemployment", Headcount: "3", EffectiveOn: "2006-04-01"})
	b.must("clerk:wang", declaration("2006-05-10", "2006-04", "1000000"))
}

// opening records period's unemployment outstanding as carried over, as of on.
func opening(on, period, fen string) Command {
	return &RecordOpeningBalance{AsOf: on, Lines: []OpeningInput{{Period: period, Insurance: "unemployment", OutstandingFen: Number(fen)}}}
}

// TestAPrintedNoticeTakesNoStepIntoItsCaseAgainstTheLadder: a notice the ledger prints is a
// notice step like one recorded, and is refused alike when a step already recorded, dated
// after it, would fall within its deadline.
func TestAPrintedNoticeTakesNoStepIntoItsCaseAgainstTheLadder(t *testing.T) {
	b := newPayerBook(t)
	owe(b)
	b.must("auditor:li", &RecordEnforcement{Step: StepNotice, On: "2006-07-01", DocNo: "N-1", Deadline: "2006-07-15"})
	b.must("auditor:li", &RecordEnforcement{Step: StepInspection, On: "2006-08-01", DocNo: "I-1"})
	printed := func(on, deadline string) *IssueNotice {
		n := &IssueNotice{IssuedOn: on, Deadline: deadline}
		n.Document("赣社征〔2006〕章贡-0001", strings.Repeat("a", 64))
		return n
	}
	if why := b.refused("clerk:wang", printed("2006-07-15", "2006-08-31"), KindConflict, "deadline"); !strings.Contains(why, "the inspection of 2006-08-01") {
		t.Errorf("refused with %q, want it to name the inspection of 2006-08-01", why)
	}
	b.must("clerk:wang", printed("2006-07-15", "2006-07-31"))
}

// TestANoticeDeadlineIsWithinMaxNoticeDays: a notice, printed or recorded, orders payment after
// its date and within MaxNoticeDays of it; another step's deadline is within MaxStepDays of its
// date; a later deadline (9999-12-31, a mistyped year) is refused naming it, and escalation could
// never follow it.
func TestANoticeDeadlineIsWithinMaxNoticeDays(t *testing.T) {
	b := newPayerBook(t)
	owe(b)
	printed := func(on, deadline string) *IssueNotice {
		n := &IssueNotice{IssuedOn: on, Deadline: deadline}
		n.Document("赣社征〔2006〕章贡-0001", strings.Repeat("a", 64))
		return n
	}
	if why := b.refused("auditor:li", &RecordEnforcement{Step: StepNotice, On: "2006-07-01", DocNo: "N-0", Deadline: "2006-07-01"}, KindInvalid, "deadline"); !strings.Contains(why, "not after the notice's date 2006-07-01") {
		t.Errorf("a notice step due the day it is dated: refused with %q", why)
	}
	for _, deadline := range []string{"2006-09-30", "2007-07-01", "9999-12-31"} { // 91 days on
		if why := b.refused("auditor:li", printed("2006-07-01", deadline), KindInvalid, "deadline"); !strings.Contains(why, "more than 90 days after the issue date 2006-07-01") {
			t.Errorf("printed, deadline %s: refused with %q", deadline, why)
		}
		recorded := &RecordEnforcement{Step: StepNotice, On: "2006-07-01", DocNo: "N-1", Deadline: deadline}
		if why := b.refused("auditor:li", recorded, KindInvalid, "deadline"); !strings.Contains(why, "more than 90 days after the step's date 2006-07-01") {
			t.Errorf("recorded, deadline %s: refused with %q", deadline, why)
		}
	}
	// Another step's deadline, a year on at most: 2099 is a mistyped year.
	for _, deadline := range []string{"2007-07-03", "2099-01-01"} { // 367 days on
		inspection := &RecordEnforcement{Step: StepInspection, On: "2006-07-01", DocNo: "I-1", Deadline: deadline}
		if why := b.refused("auditor:li", inspection, KindInvalid, "deadline"); !strings.Contains(why, "more than 366 days after the step's date 2006-07-01") {
			t.Errorf("an inspection, deadline %s: refused with %q", deadline, why)
		}
	}
	first := b.must("auditor:li", printed("2006-07-01", "2006-09-29")) // 90 days on
	// A second the same day is refused, printed or recorded; voided, the first leaves the day.
	b.refused("auditor:li", printed("2006-07-01", "2006-07-15"), KindConflict, "issued_on")
	b.refused("auditor:li", &RecordEnforcement{Step: StepNotice, On: "2006-07-01", DocNo: "N-2", Deadline: "2006-07-15"}, KindConflict, "on")
	b.must("admin:root", void(first.ID, "2006-07-02"))
	b.must("auditor:li", printed("2006-07-01", "2006-07-15"))
}
