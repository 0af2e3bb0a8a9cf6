package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// TestABaselineIsRefusedNamingTheFieldAndNothingIsAppended: POST /v1/reference/baselines is an
// admin's; a baseline the domain refuses (TestABaselineIsRefusedNamingTheFieldAtFault) answers
// 400 naming the field, and nothing is appended; a valid one answers 201, and again with its
// Idempotency-Key 200.
func TestABaselineIsRefusedNamingTheFieldAndNothingIsAppended(t *testing.T) {
	e := newAuthEnv(t)
	valid := `{"effective_from":"2006-01-01","year":2005,"counties":{"360702":{"pension":{"insured":8,"should_insure":10,"paid_insured":6,"due_fen":1000,"collected_fen":900}}}}`
	tests := []struct {
		name, body, field string
	}{
		{"an unknown county", strings.Replace(valid, "360702", "360799", 1), "counties.360799"},
		{"a negative count", strings.Replace(valid, `"insured":8`, `"insured":-8`, 1), "counties.360702.pension.insured"},
		{"more paid in full than insured", strings.Replace(valid, `"paid_insured":6`, `"paid_insured":9`, 1), "counties.360702.pension.paid_insured"},
		{"more insured than should be insured", strings.Replace(valid, `"should_insure":10`, `"should_insure":7`, 1), "counties.360702.pension.insured"},
		{"more collected than due", strings.Replace(valid, `"collected_fen":900`, `"collected_fen":1001`, 1), "counties.360702.pension.collected_fen"},
		{"an unknown insurance", strings.Replace(valid, `"pension"`, `"pensions"`, 1), "counties.360702.pensions"},
		// Unknown fields are named as every route names them (encoding/json gives no path).
		{"an unknown field of an insurance's figures", strings.Replace(valid, `"due_fen"`, `"owed_fen"`, 1), "counties.360702.pension.owed_fen"},
		{"a year's figures in force within the year", strings.Replace(valid, "2006-01-01", "2005-12-31", 1), "effective_from"},
		{"no effective date", strings.Replace(valid, `"effective_from":"2006-01-01",`, "", 1), "effective_from"},
		{"no county", `{"effective_from":"2006-01-01","year":2005,"counties":{}}`, "counties"},
		{"a source of invisible characters", strings.Replace(valid, `"year":2005`, `"year":2005,"source":"\u200b"`, 1), "source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count()
			wantError(t, e.post(t, "/v1/reference/baselines", tokAdmin, tt.body), http.StatusBadRequest, "invalid", tt.field)
			e.wantUnchanged(t, before)
		})
	}
	t.Run("only an admin sets baselines", func(t *testing.T) {
		before := e.count()
		for _, tok := range []string{tokClerkA, tokAuditor, tokSuper} {
			wantError(t, e.post(t, "/v1/reference/baselines", tok, valid), http.StatusForbidden, "forbidden", "")
		}
		e.wantUnchanged(t, before)
	})
	t.Run("a valid baseline is appended once", func(t *testing.T) {
		key := map[string]string{"Idempotency-Key": "baseline-2005"}
		first := e.do(t, req{Method: http.MethodPost, Path: "/v1/reference/baselines", Token: tokAdmin, Body: []byte(valid), Header: key})
		if first.Status != http.StatusCreated {
			t.Fatalf("answer %s, want 201", first)
		}
		again := e.do(t, req{Method: http.MethodPost, Path: "/v1/reference/baselines", Token: tokAdmin, Body: []byte(valid), Header: key})
		if again.Status != http.StatusOK || again.num("seq") != first.num("seq") {
			t.Errorf("the retry answered %s, want 200 with the first result", again)
		}
		if b, ok := e.l.Store.Reference().BaselineOn(domain.MustDate("2006-12-31")); !ok || b.Counties["360702"][domain.Pension].PaidInsured != 6 {
			t.Errorf("the store's reference data holds %+v (%v)", b, ok)
		}
	})
}
