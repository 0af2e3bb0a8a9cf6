package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// A payer deregistered on 08-01 and reinstated on 10-01 counts in its county's figures before
// and after the gap, not within it; its read as of a day in the gap says deregistered.
func TestAReinstatedPayerCountsAgainFromItsReinstatement(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	reg := e.mustWrite(t, "/v1/employers", tokAdmin, registration(orgA, "360702"))
	id, seq := reg.str("employer_id"), reg.num("seq") // reads wait for the views to hold seq
	employersOn := func(asOf string) int64 {
		t.Helper()
		r := e.get(t, fmt.Sprintf("/v1/counties/360702?as_of=%s&min_seq=%d", asOf, seq), tokAdmin)
		if r.Status != http.StatusOK {
			t.Fatalf("county read as of %s: %s", asOf, r)
		}
		county, _ := r.JSON["county"].(map[string]any)
		n, _ := county["employers"].(interface{ Int64() (int64, error) })
		if n == nil {
			t.Fatalf("county read as of %s has no employers count: %s", asOf, r)
		}
		v, _ := n.Int64()
		return v
	}
	if n := employersOn("2006-07-31"); n != 1 {
		t.Fatalf("employers of 360702 as of 2006-07-31 before any deregistration: %d, want 1", n)
	}
	e.mustWrite(t, empPath(id, "deregistration"), tokAdmin, `{"on":"2006-08-01","reason":"停业"}`)
	if r := e.post(t, empPath(id, "reinstatement"), tokAdmin, `{"reinstated_on":"2006-07-01","reason":"复业"}`); r.Status != http.StatusConflict || r.str("field") != "reinstated_on" {
		t.Fatalf("a reinstatement before the deregistration: %s, want 409 on reinstated_on", r)
	}
	seq = e.mustWrite(t, empPath(id, "reinstatement"), tokAdmin, `{"reinstated_on":"2006-10-01","reason":"复业"}`).num("seq")
	for _, c := range []struct {
		asOf string
		want int64
	}{{"2006-07-31", 1}, {"2006-09-15", 0}, {"2006-10-01", 1}, {"2006-12-31", 1}} {
		if got := employersOn(c.asOf); got != c.want {
			t.Errorf("employers of 360702 as of %s: %d, want %d", c.asOf, got, c.want)
		}
	}
	for asOf, want := range map[string]bool{"2006-09-15": true, "2006-10-02": false} {
		r := e.get(t, fmt.Sprintf("%s?as_of=%s&min_seq=%d", empPath(id, ""), asOf, seq), tokAdmin)
		if got, _ := r.JSON["deregistered"].(bool); r.Status != http.StatusOK || got != want {
			t.Errorf("employer read as of %s: %s, want deregistered %v", asOf, r, want)
		}
	}
	if r := e.post(t, empPath(id, "reinstatement"), tokAdmin, `{"reinstated_on":"2006-11-01","reason":"again"}`); r.Status != http.StatusConflict {
		t.Fatalf("a second reinstatement of an active payer: %s, want 409", r)
	}
}
