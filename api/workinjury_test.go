package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/kuozheng/kuozheng/projections"
)

// TestThePlansWorkInjuryTargetIsFlaggedAndListed: every coal, construction, furniture and
// high-risk payer (risk class 3) active and registered should be enrolled in work injury. On
// 2006-12-31, in 360702:
//
//	W1 a coal mine, registered, no work-injury enrollment              → flagged and listed
//	W2 a builder enrolled in work injury (20 from 2006-05-01)          → neither
//	W3 risk class 3, no named sector, no enrollment                    → flagged and listed
//	W4 a furniture maker enrolled only from 2007-01-05 (after the date) → flagged and listed
//	W5 a coal mine the survey found on 2006-11-01, not registered      → not flagged (registering
//	   comes first); on the worklist as found and not registered once 2006-12-01 has passed
//	W6 an ordinary risk-class-1 enterprise                             → neither
//
// and in 360721 W7, a mine that became coal on 2007-01-10 (a change dated after the date).
func TestThePlansWorkInjuryTargetIsFlaggedAndListed(t *testing.T) {
	e := newReadEnv(t, goldenDay)
	var last int64
	reg := func(n int, county, extra string) string {
		t.Helper()
		r := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
			`{"name":"单位%d","county":%q,"org_code":%q,"kind":"enterprise","registered_on":"2006-04-03"%s}`, n, county, orgCode(n), extra))
		last = r.num("seq")
		return r.str("employer_id")
	}
	w1 := reg(33000001, "360702", `,"risk_class":2,"industry":"B","sector":"coal"`)
	w2 := reg(33000002, "360702", `,"risk_class":3,"industry":"E","sector":"construction"`)
	e.mustWrite(t, empPath(w2, "enrollments"), tokAdmin, `{"insurance":"work_injury","headcount":20,"effective_on":"2006-05-01"}`)
	w3 := reg(33000003, "360702", `,"risk_class":3`)
	w4 := reg(33000004, "360702", `,"risk_class":1,"industry":"C","sector":"furniture"`)
	e.mustWrite(t, empPath(w4, "enrollments"), tokAdmin, `{"insurance":"work_injury","headcount":9,"effective_on":"2007-01-05"}`)
	w5 := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(
		`{"name":"单位W5","county":"360702","org_code":%q,"kind":"enterprise","risk_class":3,"industry":"B","sector":"coal","found_on":"2006-11-01"}`, orgCode(33000005))).str("employer_id")
	reg(33000006, "360702", `,"risk_class":1`)
	w7 := reg(33000007, "360721", `,"risk_class":1,"industry":"B"`)
	last = e.mustWrite(t, empPath(w7, "changes"), tokAdmin, `{"on":"2007-01-10","sector":"coal"}`).num("seq")
	q := fmt.Sprintf("as_of=2006-12-31&min_seq=%d", last)

	flagged := []string{w1, w3, w4}
	slices.Sort(flagged)
	t.Run("the county counts the flag", func(t *testing.T) {
		a := (&readLedger{env: e}).counties(t, "?"+q, tokAdmin)
		for code, want := range map[string]int64{"360702": 3, "360721": 0} {
			var got int64
			for _, raw := range a.county(t, code).Flags {
				var f projections.Flag
				_ = json.Unmarshal(raw, &f)
				if f.Kind == projections.FlagWorkInjuryTarget {
					got = f.Count
				}
			}
			if got != want {
				t.Errorf("%s counts %d %s flags, want %d", code, got, projections.FlagWorkInjuryTarget, want)
			}
		}
	})
	t.Run("the flags name the payers and their sectors", func(t *testing.T) {
		var a struct {
			Flags []projections.Flag `json:"flags"`
		}
		decode(t, e.get(t, "/v1/flags?kind="+projections.FlagWorkInjuryTarget+"&"+q, tokAdmin), &a)
		var ids []string
		details := map[string]string{}
		for _, f := range a.Flags {
			ids = append(ids, f.EmployerID)
			details[f.EmployerID] = f.Detail
		}
		slices.Sort(ids)
		if fmt.Sprint(ids) != fmt.Sprint(flagged) {
			t.Fatalf("flagged %v, want W1, W3 and W4 %v", ids, flagged)
		}
		for id, want := range map[string]string{w1: "sector coal (煤矿), registered 2006-04-03: ", w3: "risk class 3, registered 2006-04-03: ", w4: "sector furniture (家具制造), registered 2006-04-03: "} {
			if d := details[id]; len(d) < len(want) || d[:len(want)] != want {
				t.Errorf("flag of %s: %q, want it to begin %q", id, d, want)
			}
		}
	})
	t.Run("the worklist lists the same payers, and the payer found and not registered", func(t *testing.T) {
		var a struct {
			Items []projections.WorkItem `json:"items"`
		}
		decode(t, e.get(t, "/v1/worklists?"+q, tokAdmin), &a)
		byKind := map[string][]string{}
		for _, it := range a.Items {
			byKind[it.Kind] = append(byKind[it.Kind], it.EmployerID)
			if it.Kind == projections.WorkFoundNotRegistered && (it.Since.String() != "2006-12-01" || it.County != "360702") {
				t.Errorf("found and not registered: %+v, want since 2006-12-01 in 360702", it)
			}
		}
		got := byKind[projections.WorkWorkInjuryTarget]
		slices.Sort(got)
		if fmt.Sprint(got) != fmt.Sprint(flagged) || fmt.Sprint(byKind[projections.WorkFoundNotRegistered]) != fmt.Sprint([]string{w5}) {
			t.Errorf("listed %v, want %v for work injury and [%s] as found, not registered", byKind, flagged, w5)
		}
	})
	t.Run("after the dates of the enrollment and the change", func(t *testing.T) {
		// On 2007-03-31 W4 is enrolled and W7 is a coal mine.
		var a struct {
			Items []projections.WorkItem `json:"items"`
		}
		decode(t, e.get(t, fmt.Sprintf("/v1/worklists?as_of=2007-03-31&min_seq=%d", last), tokAdmin), &a)
		var got []string
		for _, it := range a.Items {
			if it.Kind == projections.WorkWorkInjuryTarget {
				got = append(got, it.EmployerID)
			}
		}
		want := []string{w1, w3, w7}
		slices.Sort(got)
		slices.Sort(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("listed %v, want W1, W3 and W7 %v", got, want)
		}
	})
}
