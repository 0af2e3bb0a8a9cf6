package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// A page of flags is encoded once for every reader of the same views, query and scope: read
// again it is the same bytes; a write that flags a payer is in the next read of the same query;
// and a clerk of another county, reading at the same sequence, is given the flags of their own
// county, not the ones encoded for the first reader.
func TestAPageOfFlagsIsSharedOnlyByReadersOfTheSameViewsAndScope(t *testing.T) {
	e := newReadEnv(t, today)
	register := func(token, county string, n int) (string, int64) {
		t.Helper()
		r := e.mustWrite(t, "/v1/employers", token, fmt.Sprintf(`{"name":"矿%d","county":%q,"org_code":%q,"kind":"enterprise","risk_class":3,"registered_on":"2006-04-03"}`, n, county, orgCode(8500+n)))
		return r.str("employer_id"), r.num("seq")
	}
	a, _ := register(tokClerkA, "360702", 1)
	b, seq := register(tokClerkB, "360721", 2)
	e.waitViews(t, uint64(seq))
	first := e.get(t, "/v1/flags", tokAdmin)
	again := e.get(t, "/v1/flags", tokAdmin)
	if first.Status != 200 || string(first.Raw) != string(again.Raw) || !strings.Contains(string(first.Raw), a) || !strings.Contains(string(first.Raw), b) {
		t.Fatalf("the admin's flags, twice: %s\nthen %s\nwant the same, flagging %s and %s", first, again, a, b)
	}
	clerk := e.get(t, "/v1/flags", tokClerkB)
	if clerk.num("seq") != first.num("seq") || strings.Contains(string(clerk.Raw), a) || !strings.Contains(string(clerk.Raw), b) {
		t.Errorf("the clerk of 360721 at the same sequence is given %s, want %s flagged and not %s", clerk, b, a)
	}
	c, seq := register(tokClerkA, "360702", 3)
	e.waitViews(t, uint64(seq))
	if later := e.get(t, "/v1/flags", tokAdmin); !strings.Contains(string(later.Raw), c) {
		t.Errorf("after a payer was flagged, the same query answers %s, without %s", later, c)
	}
}
