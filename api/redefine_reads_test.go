package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestEmployerListNamesTheCountyInForce: on a business date after 南康市 360782 became 南康区
// 360703, GET /v1/employers lists the employer recorded under 360782 with county 360703, as the
// employer's own read does; without the change it stays 360782.
func TestEmployerListNamesTheCountyInForce(t *testing.T) {
	t.Parallel()
	plain, _ := nankangLedger(t, false)
	e, id := nankangLedger(t, true)
	for _, c := range []struct {
		e    *env
		want string
	}{{plain, "360782"}, {e, "360703"}} {
		for _, q := range []string{"", "?county=360782", "?county=360703", "?q=南康"} {
			if q == "?county=360703" && c.e == plain {
				continue // unknown without the change
			}
			r := c.e.get(t, "/v1/employers"+q, tokAdmin)
			rows, _ := r.JSON["employers"].([]any)
			if r.Status != http.StatusOK || len(rows) != 1 {
				t.Fatalf("GET /v1/employers%s: want one row: %s", q, r)
			}
			row := rows[0].(map[string]any)
			if row["employer_id"] != id && c.e == e {
				t.Errorf("GET /v1/employers%s lists %v, want %s", q, row["employer_id"], id)
			}
			if row["county"] != c.want {
				t.Errorf("GET /v1/employers%s: county %v, want the code in force today %s", q, row["county"], c.want)
			}
		}
	}
	if got := e.get(t, empPath(id, ""), tokAdmin).str("county"); got != "360703" {
		t.Errorf("the employer's own read names %q, want 360703", got)
	}
}

// TestCountyFiltersFollowTheCodeInForce: GET /v1/flags?county= and GET /v1/worklists?county=
// answer a code not in force on as_of (360782 after 2013-01-01, 360703 before it) as GET
// /v1/counties/{code} does, 404 naming the code in force; the code in force finds exactly what
// 360782 finds on the ledger without the change.
func TestCountyFiltersFollowTheCodeInForce(t *testing.T) {
	t.Parallel()
	plain, _ := nankangLedger(t, false)
	e, id := nankangLedger(t, true)
	for _, route := range []string{"/v1/flags", "/v1/worklists"} {
		for _, c := range []struct{ asOf, old, now string }{{"2013-06-30", "360782", "360703"}, {"2012-12-31", "360703", "360782"}} {
			path := fmt.Sprintf("%s?as_of=%s&county=", route, c.asOf)
			r := e.get(t, path+c.old, tokAdmin)
			wantError(t, r, http.StatusNotFound, "not_found", "county")
			if !strings.Contains(r.str("detail"), c.now) {
				t.Errorf("%s%s: detail %q does not name %s", path, c.old, r.str("detail"), c.now)
			}
			got, want := e.get(t, path+c.now, tokAdmin), plain.get(t, path+"360782", tokAdmin)
			if got.Status != http.StatusOK || want.Status != http.StatusOK {
				t.Fatalf("%s%s: %s; plain %s", path, c.now, got, want)
			}
			for _, k := range []string{"flags", "items"} {
				g, _ := got.JSON[k].([]any)
				w, _ := want.JSON[k].([]any)
				if len(g) != len(w) {
					t.Errorf("%s%s lists %d %s, want %d as 360782 without the change", path, c.now, len(g), k, len(w))
				}
			}
			if route == "/v1/flags" && c.asOf == "2013-06-30" && got.num("total") == 0 {
				t.Errorf("%s%s finds no flag: %s", path, c.now, got)
			}
			if route == "/v1/worklists" && !strings.Contains(string(got.Raw), id) && len(want.JSON["items"].([]any)) > 0 {
				t.Errorf("%s%s does not list %s: %s", path, c.now, id, got)
			}
		}
	}
}

// TestCountyTargetsFollowTheCodeInForce: a 2013 target split naming 360782 counts for 360703
// after the change (not the share of the city target 360703 would otherwise get), and, as of
// 2012, a 2012 split naming 360703 counts for 360782.
func TestCountyTargetsFollowTheCodeInForce(t *testing.T) {
	t.Parallel()
	e, _ := nankangLedger(t, true)
	for _, c := range []struct{ year, named, asOf, now string }{{"2013", "360782", "2013-06-30", "360703"}, {"2012", "360703", "2012-06-30", "360782"}} {
		e.mustWrite(t, "/v1/reference/targets", tokAdmin, fmt.Sprintf(`{"effective_from":"%s-01-01","year":%s,
			"city":{"pension_insured":1000},"counties":{%q:{"pension_insured":7}}}`, c.year, c.year, c.named))
		e.waitViews(t, e.count())
		r := e.get(t, "/v1/targets?as_of="+c.asOf, tokAdmin)
		counties, _ := r.JSON["counties"].(map[string]any)
		list, _ := counties[c.now].([]any)
		if len(list) == 0 {
			t.Fatalf("/v1/targets?as_of=%s has no %s: %s", c.asOf, c.now, r)
		}
		if _, ok := counties[c.named]; ok {
			t.Errorf("/v1/targets?as_of=%s lists %s, not in force then", c.asOf, c.named)
		}
		for _, p := range list {
			if m := p.(map[string]any); m["measure"] == "pension_insured" && fmt.Sprint(m["target"]) != "7" {
				t.Errorf("/v1/targets?as_of=%s: %s's pension_insured target %v, want 7 set for %s", c.asOf, c.now, m["target"], c.named)
			}
		}
	}
}

// TestGroupAccessFollowsTheGroupsInForce: 南康市 360782 (group 2) became 南康区 360703 on
// 2013-01-01, here moved to group 3. Group reads are allowed on the groups in force on as_of
// (GroupsOn): a clerk of group 2's other counties reads group 2 after the change, not before. A
// supervisor of either group the county has been in reads it under both codes: group 3's reads the
// employer recorded under 360782 and 360703's figures; group 2's reads 360703 too; group 1's
// neither.
func TestGroupAccessFollowsTheGroupsInForce(t *testing.T) {
	t.Parallel()
	e, id := nankangLedgerWith(t, `{"code":"360703","name":"南康区","predecessor":"360782","effective_from":"2013-01-01","group":3}`)
	e.useTokens([]map[string]any{
		{"token": "sup-2", "name": "s2", "role": "supervisor", "groups": []int{2}},
		{"token": "sup-3", "name": "s3", "role": "supervisor", "groups": []int{3}},
		{"token": "sup-1", "name": "s1", "role": "supervisor", "groups": []int{1}},
		{"token": "clerk-g2", "name": "g2", "role": "clerk", "counties": []string{"360723", "360725"}},
	})
	e.serve()
	for _, c := range []struct {
		name, path, token string
		status            int
	}{
		{"group 2's other counties' clerk reads group 2 after the change", "/v1/groups/2?as_of=2013-06-30", "clerk-g2", 200},
		{"group 2's other counties' clerk does not read group 2 before it", "/v1/groups/2?as_of=2012-12-31", "clerk-g2", 403},
		{"the successor's group's supervisor reads group 3 after the change", "/v1/groups/3?as_of=2013-06-30", "sup-3", 200},
		{"the successor's group's supervisor reads the successor", "/v1/counties/360703?as_of=2013-06-30", "sup-3", 200},
		{"the successor's group's supervisor reads the employer recorded under 360782", empPath(id, "") + "?as_of=2013-06-30", "sup-3", 200},
		{"the successor's group's supervisor reads the predecessor before the change", "/v1/counties/360782?as_of=2012-12-31", "sup-3", 200},
		{"the predecessor's group's supervisor reads the successor", "/v1/counties/360703?as_of=2013-06-30", "sup-2", 200},
		{"the predecessor's group's supervisor reads the employer", empPath(id, "") + "?as_of=2013-06-30", "sup-2", 200},
		{"another group's supervisor does not read the successor", "/v1/counties/360703?as_of=2013-06-30", "sup-1", 403},
		{"another group's supervisor does not read the employer", empPath(id, "") + "?as_of=2013-06-30", "sup-1", 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := e.get(t, c.path, c.token); r.Status != c.status {
				t.Errorf("GET %s as %s: %s, want %d", c.path, c.token, r, c.status)
			}
		})
	}
	r := e.get(t, "/v1/groups?as_of=2013-06-30", "clerk-g2")
	if groups, _ := r.JSON["groups"].([]any); len(groups) != 1 {
		t.Errorf("GET /v1/groups?as_of=2013-06-30 as group 2's other counties' clerk: want group 2 only: %s", r)
	}
}
