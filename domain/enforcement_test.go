package domain

import (
	"strings"
	"testing"
)

// The enforcement ladder (DOMAIN.md): a step after the notice needs a notice dated on or before
// it and comes after that notice's deadline; a case closes when the arrears are cleared or a
// court outcome is recorded, and a notice after that opens another.
func TestEnforcementLadder(t *testing.T) {
	notice := func(on, deadline string) *RecordEnforcement {
		return &RecordEnforcement{Step: StepNotice, On: on, DocNo: "N-" + on, Deadline: deadline}
	}
	step := func(s, on string) *RecordEnforcement { return &RecordEnforcement{Step: s, On: on, DocNo: s + "-" + on} }
	type refusal struct {
		cmd   *RecordEnforcement
		field string
		says  string
	}
	for _, tc := range []struct {
		name    string
		taken   []*RecordEnforcement
		refused refusal
	}{
		{"a step before any notice is refused", nil,
			refusal{step(StepInspection, "2006-07-20"), "step", "needs a notice"}},
		{"a step before the first notice is refused", []*RecordEnforcement{notice("2006-07-01", "2006-07-15")},
			refusal{step(StepInspection, "2006-06-20"), "on", "before the notice of 2006-07-01"}},
		{"escalation within the notice's deadline is refused", []*RecordEnforcement{notice("2006-07-01", "2006-07-15")},
			refusal{step(StepInspection, "2006-07-10"), "on", "deadline 2006-07-15"}},
		{"escalation on the deadline's own day is refused", []*RecordEnforcement{notice("2006-07-01", "2006-07-15")},
			refusal{step(StepCourtResult, "2006-07-15"), "on", "deadline 2006-07-15"}},
		{"escalation the day after the deadline is taken", []*RecordEnforcement{notice("2006-07-01", "2006-07-15"), step(StepInspection, "2006-07-16")},
			refusal{}},
		{"a later notice's deadline governs the steps after it", []*RecordEnforcement{notice("2006-07-01", "2006-07-15"), step(StepInspection, "2006-07-20"),
			notice("2006-08-01", "2006-08-31"), step(StepMediaExposure, "2006-09-01")},
			refusal{step(StepForcedCollection, "2006-08-10"), "on", "deadline 2006-08-31 of the notice of 2006-08-01"}},
		{"a step dated between two notices follows the first one's deadline", []*RecordEnforcement{notice("2006-07-01", "2006-07-15"),
			notice("2006-08-01", "2006-08-31"), step(StepInspection, "2006-07-25")},
			refusal{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPayerBook(t)
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

	owing := Totals{ArrearsCurrentYearFen: 160_000}
	n := notice("2006-07-01", "2006-07-15")
	for _, tc := range []struct {
		name  string
		steps []*RecordEnforcement
		t     Totals
		want  string
	}{
		{"no step: none", nil, owing, StageNone},
		{"a step with arrears: that step", []*RecordEnforcement{n, step(StepInspection, "2006-07-20")}, owing, StepInspection},
		{"arrears cleared: closed", []*RecordEnforcement{n, step(StepInspection, "2006-07-20")}, Totals{}, StageClosed},
		{"a court outcome closes the case with arrears left", []*RecordEnforcement{n, step(StepCourtApplication, "2006-08-01"),
			step(StepCourtResult, "2006-09-01")}, owing, StageClosed},
		{"a notice after a court outcome opens another case", []*RecordEnforcement{n, step(StepCourtResult, "2006-09-01"),
			notice("2006-10-01", "2006-10-31")}, owing, StepNotice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPayerBook(t)
			for _, c := range tc.steps {
				b.must("auditor:li", c)
			}
			if got := b.e.Stage(tc.t); got != tc.want {
				t.Fatalf("stage %q, want %q", got, tc.want)
			}
		})
	}
}
