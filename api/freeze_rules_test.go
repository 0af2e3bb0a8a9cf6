package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// rankingRows reads /v1/rankings of a freeze as token sees it.
func (e *env) rankingRows(t *testing.T, token, freeze string) (resp, []map[string]any) {
	t.Helper()
	r := e.get(t, "/v1/rankings?freeze="+freeze, token)
	var a struct {
		Rankings []map[string]any `json:"rankings"`
	}
	decode(t, r, &a)
	return r, a.Rankings
}

// TestAFreezesRankingUsesTheTargetsOfItsSequence: everything served from a freeze uses the
// reference data as of its S, so new targets recorded later do not move its ranking.
func TestAFreezesRankingUsesTheTargetsOfItsSequence(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 60)
	f := e.freeze(t, tokAssessor, freezeToday.String(), 0)
	before, rows := e.rankingRows(t, tokAssessor, f.ID)
	if len(rows) != 19 {
		t.Fatalf("%d counties ranked, want 19: %s", len(rows), before.Raw)
	}
	// Targets a hundred times higher from December: a ranking made with them would score lower.
	e.mustWrite(t, "/v1/reference/targets", tokAdmin, `{"effective_from":"2006-12-01","year":2006,"city":{
		"pension_insured":90000000,"pension_collected_fen":9000000000000,"unemployment_insured":90000000,
		"unemployment_collected_fen":9000000000000,"medical_insured":90000000,"work_injury_insured":90000000,
		"maternity_insured":90000000,"contracts_signed":90000000}}`)
	e.waitViews(t, e.count())
	after, _ := e.rankingRows(t, tokAssessor, f.ID)
	if !bytes.Equal(before.Raw, after.Raw) {
		t.Errorf("a freeze's ranking moved when targets changed after it:\n%s\nthen\n%s", before.Raw, after.Raw)
	}
	// A freeze made after the change ranks with the new targets.
	g := e.freeze(t, tokAssessor, freezeToday.String(), 0)
	if later, _ := e.rankingRows(t, tokAssessor, g.ID); bytes.Equal(bytes.ReplaceAll(later.Raw, []byte(g.ID), []byte(f.ID)), before.Raw) {
		t.Errorf("a freeze made after the new targets ranks as the one before them: %s", later.Raw)
	}
}

// TestFreezesRecordTheirMakerAndTakeAnIdempotencyKey: a freeze is recorded as made by the
// principal who asked (not "system"); a retry with the same key answers the first freeze, and
// the key with another body is refused.
func TestFreezesRecordTheirMakerAndTakeAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 0)
	e.register(t, tokAdmin, orgA, "360702")
	key := map[string]string{"Idempotency-Key": "freeze-nov"}
	first := e.do(t, req{Path: "/v1/freezes", Token: tokAssessor, Body: []byte(`{"valid_through":"2006-11-30"}`), Header: key})
	if first.Status != http.StatusCreated || first.str("made_by") != "assessor:ass" {
		t.Fatalf("a freeze by the assessor: %s, want 201 made_by assessor:ass", first)
	}
	e.register(t, tokAdmin, orgB, "360702") // the stream moves on; the retry is still the first freeze
	before := e.count()
	again := e.do(t, req{Path: "/v1/freezes", Token: tokAssessor, Body: []byte(`{"valid_through":"2006-11-30"}`), Header: key})
	if again.Status != http.StatusOK || again.JSON["duplicate"] != true || again.str("id") != first.str("id") {
		t.Errorf("a retry of the freeze: %s, want 200 duplicate of %s", again, first.str("id"))
	}
	wantError(t, e.do(t, req{Path: "/v1/freezes", Token: tokAssessor, Body: []byte(`{"valid_through":"2006-10-31"}`), Header: key}),
		http.StatusUnprocessableEntity, "idempotency_mismatch", "Idempotency-Key")
	e.wantUnchanged(t, before)
	var list struct {
		Freezes []struct {
			ID     string `json:"id"`
			MadeBy string `json:"made_by"`
		} `json:"freezes"`
	}
	decode(t, e.get(t, "/v1/freezes", tokAssessor), &list)
	if len(list.Freezes) != 1 || list.Freezes[0].MadeBy != "assessor:ass" {
		t.Errorf("the freezes listed: %+v, want one made by assessor:ass", list.Freezes)
	}
}

// TestScopedReadersSeeOnlyTheirCounties: a clerk or supervisor learns nothing of other counties:
// not in targets (no city actuals), not in a freeze's ranking, not in a registration's conflict,
// and an employer of another county is forbidden without its name or county.
func TestScopedReadersSeeOnlyTheirCounties(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 60)
	f := e.freeze(t, tokAssessor, freezeToday.String(), 0)

	t.Run("rankings", func(t *testing.T) {
		r, rows := e.rankingRows(t, tokSuper, f.ID)
		group1 := map[string]bool{}
		for _, c := range e.l.Store.Reference().Counties {
			if c.Group == 1 {
				group1[c.Code] = true
			}
		}
		if len(rows) != len(group1) {
			t.Errorf("the supervisor of group 1 sees %d ranked counties, want its %d: %s", len(rows), len(group1), r.Raw)
		}
		for _, row := range rows {
			if code, _ := row["code"].(string); !group1[code] {
				t.Errorf("the supervisor of group 1 sees the ranking of %s", code)
			}
		}
	})
	t.Run("targets", func(t *testing.T) {
		var tp struct {
			City     []map[string]any           `json:"city"`
			Counties map[string]json.RawMessage `json:"counties"`
		}
		decode(t, e.get(t, "/v1/targets", tokClerkA), &tp)
		if len(tp.City) != 0 {
			t.Errorf("a clerk of 360702 sees the city's progress: %v", tp.City)
		}
		if len(tp.Counties) != 1 || tp.Counties["360702"] == nil {
			t.Errorf("a clerk of 360702 sees the targets of %d counties", len(tp.Counties))
		}
	})
	t.Run("the monthly report's total", func(t *testing.T) {
		var m struct {
			City struct {
				Name string `json:"name"`
			} `json:"city"`
		}
		decode(t, e.get(t, "/v1/reports/monthly/2006-11", tokClerkA), &m)
		if m.City.Name == "赣州市" {
			t.Errorf("a clerk's monthly report calls the sum of its county the city's")
		}
	})
	t.Run("a registration's conflict", func(t *testing.T) {
		id := e.register(t, tokAdmin, orgCode(55500001), "360782")
		r := e.post(t, "/v1/employers", tokClerkA, registration(orgCode(55500001), "360702"))
		if r.Status != http.StatusConflict || strings.Contains(string(r.Raw), id) || strings.Contains(string(r.Raw), "单位") {
			t.Errorf("a clerk registering a code taken in another county: %s, want 409 naming neither the employer nor its name", r)
		}
	})
	t.Run("another county's employer is forbidden, a missing one not found, neither named", func(t *testing.T) {
		other := e.register(t, tokAdmin, orgCode(55500002), "360782")
		missing := "00000000-0000-5000-8000-000000000000"
		for _, sub := range []string{"", "history", "payments", "declarations"} {
			method := http.MethodPost
			if sub == "" || sub == "history" {
				method = http.MethodGet
			}
			body := []byte(paymentBody("NY-1", 100, "2006-06-20"))
			if method == http.MethodGet {
				body = nil
			}
			a := e.do(t, req{Method: method, Path: empPath(other, sub), Token: tokClerkA, Body: body})
			b := e.do(t, req{Method: method, Path: empPath(missing, sub), Token: tokClerkA, Body: body})
			if a.Status != http.StatusForbidden || b.Status != http.StatusNotFound || strings.Contains(string(a.Raw), "单位") || strings.Contains(string(a.Raw), "360782") {
				t.Errorf("%s %s: another county's employer answers %s, a missing one %s: want 403 naming neither its name nor its county, and 404", method, sub, a, b)
			}
		}
	})
}
