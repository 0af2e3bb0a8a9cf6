package api_test

import (
	"encoding/json"
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

// A flag names its payer wherever it is shown, whoever reads it: a page of flags, a page of
// employers and the flags under each, and an export; for readers of every county, who are
// shown every flag, as for a clerk, whose flags are each judged by the payer's county now.
func TestEveryFlagShownNamesItsPayer(t *testing.T) {
	e := newReadEnv(t, today)
	names := map[string]string{}
	var seq int64
	for n, county := range []string{"360702", "360702", "360721"} {
		token := map[string]string{"360702": tokClerkA, "360721": tokClerkB}[county]
		r := e.mustWrite(t, "/v1/employers", token, fmt.Sprintf(`{"name":"名矿%d","county":%q,"org_code":%q,"kind":"enterprise","risk_class":3,"registered_on":"2006-04-03"}`, n, county, orgCode(8600+n)))
		names[r.str("employer_id")], seq = fmt.Sprintf("名矿%d", n), r.num("seq")
	}
	e.waitViews(t, uint64(seq))
	for _, token := range []string{tokAdmin, tokClerkA} {
		var flags struct {
			Flags []struct {
				ID   string `json:"employer_id"`
				Name string `json:"name"`
			} `json:"flags"`
			Employers []struct {
				ID    string `json:"employer_id"`
				Name  string `json:"name"`
				Flags []struct {
					ID   string `json:"employer_id"`
					Name string `json:"name"`
				} `json:"flags"`
			} `json:"employers"`
		}
		shown := 0
		check := func(where, id, name string) {
			t.Helper()
			shown++
			if names[id] == "" || name != names[id] {
				t.Errorf("%s: %s, a flag of %s names %q, want %q", token, where, id, name, names[id])
			}
		}
		for _, path := range []string{"/v1/flags?limit=2&page=2", "/v1/flags?by=employer&limit=1&page=2"} {
			r := e.get(t, path, token)
			if err := json.Unmarshal(r.Raw, &flags); r.Status != 200 || err != nil {
				t.Fatalf("%s: GET %s: %s (%v)", token, path, r, err)
			}
			for _, f := range flags.Flags {
				check(path, f.ID, f.Name)
			}
			for _, emp := range flags.Employers {
				check(path, emp.ID, emp.Name)
				for _, f := range emp.Flags {
					check(path+", under its employer", f.ID, f.Name)
				}
			}
		}
		status, csv, err := e.rawDo("/v1/flags?format=csv", token)
		if status != 200 || err != nil {
			t.Fatalf("%s: GET /v1/flags?format=csv: %d %v", token, status, err)
		}
		for id, name := range names {
			if strings.Contains(string(csv), id) != strings.Contains(string(csv), ","+name+",") {
				t.Errorf("%s: the csv holds %s without its name %s, or the name alone: %s", token, id, name, csv)
			}
		}
		if shown < 3 || !strings.Contains(string(csv), "名矿0") {
			t.Errorf("%s: %d flags shown on the second pages, and a csv without 名矿0; want a few", token, shown)
		}
	}
}
