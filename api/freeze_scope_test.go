package api_test

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAScopedReadersFrozenCitySumsItsCountiesFlags: a clerk reading a freeze gets, as its city,
// the sum of the counties it may read; flags included, as a live read of the same date gives
// them (a frozen county keeps its flag counts, not the employers behind them).
func TestAScopedReadersFrozenCitySumsItsCountiesFlags(t *testing.T) {
	l := newSegmentLedger(t)
	through := uint64(l.last)
	l.waitViews(t, through)
	m := l.freeze(t, tokAssessor, "2006-12-31", through)
	type scoped struct {
		Counties []struct {
			Code  string          `json:"code"`
			Flags json.RawMessage `json:"flags"`
		} `json:"counties"`
		City struct {
			Flags json.RawMessage `json:"flags"`
		} `json:"city"`
		Segments []struct {
			Segment  string `json:"segment"`
			Counties []struct {
				Flags json.RawMessage `json:"flags"`
			} `json:"counties"`
			City struct {
				Flags json.RawMessage `json:"flags"`
			} `json:"city"`
		} `json:"segments"`
	}
	var frozen scoped
	if err := json.Unmarshal(l.getFreeze(t, tokClerkA, m.ID).Figures, &frozen); err != nil {
		t.Fatal(err)
	}
	if len(frozen.Counties) != 1 || frozen.Counties[0].Code != "360702" {
		t.Fatalf("the clerk of 360702 reads %d counties", len(frozen.Counties))
	}
	// 360702 on 2006-12-31: P3's arrears, more than 90 days past due with no step.
	want := frozen.Counties[0].Flags
	if !bytes.Contains(want, []byte(`"arrears_without_enforcement"`)) {
		t.Fatalf("360702 frozen with flags %s, want P3's arrears", want)
	}
	if !bytes.Equal(frozen.City.Flags, want) {
		t.Errorf("the clerk's frozen city has flags %s, its one county %s", frozen.City.Flags, want)
	}
	var live scoped
	decode(t, l.get(t, "/v1/counties?as_of=2006-12-31", tokClerkA), &live)
	if !bytes.Equal(live.City.Flags, want) {
		t.Errorf("the clerk's live city has flags %s, the frozen one %s", live.City.Flags, want)
	}
	for _, sg := range frozen.Segments {
		if !bytes.Equal(sg.City.Flags, sg.Counties[0].Flags) {
			t.Errorf("segment %s: the clerk's frozen city has flags %s, its one county %s", sg.Segment, sg.City.Flags, sg.Counties[0].Flags)
		}
	}
}

// TestASupervisorReadsItsGroupInAFreezeAndItsRestatement: a supervisor reads a freeze's figures
// of its group's counties and of the group itself, as a reader of every county gets them, with
// the city named as the sum of its counties; the restatement shows it the group's changes and
// none of another group's or the city's.
func TestASupervisorReadsItsGroupInAFreezeAndItsRestatement(t *testing.T) {
	l := newSegmentLedger(t)
	through := uint64(l.last)
	l.waitViews(t, through)
	m := l.freeze(t, tokAssessor, "2006-12-31", through)

	whole := l.getFreeze(t, tokAdmin, m.ID).figures(t)
	var group1 json.RawMessage
	for _, g := range whole.Groups {
		if scopeOf(t, g, false) == "group:1" {
			group1 = g
		}
	}
	if group1 == nil {
		t.Fatalf("the whole freeze has no group 1 among %d groups", len(whole.Groups))
	}
	r := l.get(t, "/v1/freezes/"+m.ID, tokSuper)
	var answer struct {
		Scope   string `json:"scope"`
		Figures struct {
			frozenFigures
			City struct {
				Name string `json:"name"`
			} `json:"city"`
		} `json:"figures"`
	}
	decode(t, r, &answer)
	got := answer.Figures
	if len(got.Groups) != 1 || !bytes.Equal(got.Groups[0], group1) {
		t.Errorf("the supervisor of group 1 reads groups %s, want group 1 as the whole freeze has it: %s", got.Groups, group1)
	}
	if answer.Scope != "visible counties" || got.City.Name != "visible counties" {
		t.Errorf("the supervisor's freeze has scope %q and a city named %q, want both \"visible counties\"", answer.Scope, got.City.Name)
	}
	if len(got.Counties) != 4 {
		t.Errorf("the supervisor of group 1 reads %d counties, want its 4", len(got.Counties))
	}
	if raw := l.get(t, "/v1/freezes/"+m.ID, tokAdmin).Raw; !bytes.Contains(raw, []byte(`"scope":"city"`)) {
		t.Errorf("freeze %s read by an admin does not say scope city: %s", m.ID, raw)
	}

	// Payments dated within the freeze, recorded after it: one in group 1 (P2 of 360702), one in
	// group 2 (P6 of 360782).
	l.mustWrite(t, empPath(l.ids["P2"], "payments"), tokAdmin, allocated("P2-late", 50000, "2006-12-20", "2006-11"))
	last := l.mustWrite(t, empPath(l.ids["P6"], "payments"), tokAdmin, allocated("P6-late", 40000, "2006-12-20", "2006-11")).num("seq")
	l.waitViews(t, uint64(last))
	scopes := func(token string) map[string]bool { return restatedScopes(t, l.env, token, m.ID) }
	all := scopes(tokAdmin)
	for _, s := range []string{"360702", "group:1", "360782", "group:2", "city"} {
		if !all[s] {
			t.Fatalf("the admin's restatement changes %v, want %s among them", all, s)
		}
	}
	sup := scopes(tokSuper)
	if !sup["360702"] || !sup["group:1"] || sup["360782"] || sup["group:2"] || sup["city"] {
		t.Errorf("the supervisor of group 1's restatement changes %v, want 360702 and group:1, not 360782, group:2 or the city", sup)
	}
}

// TestAFrozenGroupIsReadByItsOwnCounties: a redefinition recorded after a freeze, effective
// within it, moves 360721 out of group 1; the frozen group 1 still counts 360721's payer, so a
// reader of group 1's other counties but not 360721 does not read it.
func TestAFrozenGroupIsReadByItsOwnCounties(t *testing.T) {
	l := newSegmentLedger(t)
	through := uint64(l.last)
	l.waitViews(t, through)
	m := l.freeze(t, tokAssessor, "2006-12-31", through)
	const reader = tokClerkMost1
	if n := len(l.getFreeze(t, reader, m.ID).figures(t).Groups); n != 0 {
		t.Fatalf("before the redefinition %s reads %d frozen groups, want none", reader, n)
	}
	// None is an empty list, as GET /v1/groups answers it, not null.
	if raw := l.getFreeze(t, reader, m.ID).Figures; !bytes.Contains(raw, []byte(`"groups":[]`)) {
		t.Errorf("%s's frozen figures do not list their groups as an empty list: %.300s", reader, raw)
	}
	l.mustWrite(t, "/v1/reference/county-redefinitions", tokAdmin,
		`{"code":"360799","name":"新区","predecessor":"360721","effective_from":"2006-06-01","group":2}`)
	if groups := l.getFreeze(t, reader, m.ID).figures(t).Groups; len(groups) != 0 {
		t.Errorf("after the redefinition %s reads frozen groups %s, which count 360721's payer", reader, groups)
	}
	// Nor group 1's changes in the restatement: its frozen figures count 360721's payer, though
	// group 1 now is counties the reader reads.
	last := l.mustWrite(t, empPath(l.ids["P2"], "payments"), tokAdmin, allocated("P2-late", 50000, "2006-12-20", "2006-11")).num("seq")
	l.waitViews(t, uint64(last))
	scopes := func(token string) map[string]bool { return restatedScopes(t, l.env, token, m.ID) }
	if all := scopes(tokAdmin); !all["group:1"] || !all["360702"] {
		t.Fatalf("the admin's restatement changes %v, want group:1 and 360702 among them", all)
	}
	if got := scopes(reader); got["group:1"] || !got["360702"] {
		t.Errorf("%s's restatement changes %v, want 360702 and not group:1", reader, got)
	}
}

// restatedScopes are the scopes whose figures freeze id's restatement, read with token, changes.
func restatedScopes(t *testing.T, e *env, token, id string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, c := range e.restatement(t, token, id).Changes {
		out[c.Scope] = true
	}
	return out
}
