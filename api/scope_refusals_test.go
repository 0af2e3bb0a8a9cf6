package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestListFiltersOutsideScopeAreRefused: a list read whose county= or group= names a county or
// group outside the caller's scope is refused, 403 "forbidden" naming the parameter in field
// and the county or group in detail, in json, csv and xlsx alike, as GET /v1/worklists?county=
// and GET /v1/groups/{n} are; it is not answered empty as if there were nothing there. A filter
// within the scope, and the same filter for a reader of every county, answers 200 with the
// county's rows. A group is within the scope when the caller reads every county of it (the rule
// of GET /v1/groups/{n}): a clerk of one county of group 1 is refused group=1.
func TestListFiltersOutsideScopeAreRefused(t *testing.T) {
	e := newReadEnv(t, today)
	// A payer of 南康市 360782 (group 2) raising a flag (risk class 3, no work-injury enrollment),
	// and one of 章贡区 360702 (group 1) raising the same.
	body := func(name, county string, n int) string {
		return fmt.Sprintf(`{"name":%q,"county":%q,"org_code":%q,"kind":"enterprise","risk_class":3,"registered_on":"2006-04-03"}`, name, county, orgCode(n))
	}
	outside := e.mustWrite(t, "/v1/employers", tokAdmin, body("南康高危厂", "360782", 8501)).str("employer_id")
	w := e.mustWrite(t, "/v1/employers", tokClerkA, body("章贡高危厂", "360702", 8502))
	inside, seq := w.str("employer_id"), w.num("seq")
	e.waitViews(t, uint64(seq))
	if f := e.get(t, "/v1/flags?county=360782", tokAdmin); f.Status != 200 || !strings.Contains(string(f.Raw), outside) {
		t.Fatalf("the admin's flags of 360782 do not hold the payer's flag: %s", f)
	}

	const corr = "/v1/corrections?from=2006-01-01&to=2006-12-31&county="
	type route struct{ path, field, names string }
	var cases []struct {
		route
		token  string
		status int
		holds  string // an employer id a 200 answer in json or csv holds
	}
	add := func(r route, token string, status int, holds string) {
		cases = append(cases, struct {
			route
			token  string
			status int
			holds  string
		}{r, token, status, holds})
	}
	for _, format := range []string{"", "&format=json", "&format=csv", "&format=xlsx"} {
		flagsOut := route{"/v1/flags?county=360782" + format, "county", "360782"}
		flagsIn := route{"/v1/flags?county=360702" + format, "county", "360702"}
		flagsG2 := route{"/v1/flags?group=2" + format, "group", "group 2"}
		flagsG1 := route{"/v1/flags?group=1" + format, "group", "group 1"}
		empOut := route{"/v1/employers?county=360782" + format, "county", "360782"}
		empIn := route{"/v1/employers?county=360702" + format, "county", "360702"}
		for _, r := range []route{flagsOut, flagsG2, empOut} {
			add(r, tokAdmin, 200, outside)
			add(r, tokAuditor, 200, outside)
			add(r, tokSuper, 403, "")
			add(r, tokClerkA, 403, "")
		}
		for _, r := range []route{flagsIn, flagsG1, empIn} {
			add(r, tokAdmin, 200, inside)
			add(r, tokSuper, 200, inside)
		}
		add(flagsIn, tokClerkA, 200, inside)
		add(empIn, tokClerkA, 200, inside)
		add(flagsG1, tokClerkA, 403, "") // reads 360702, not the rest of group 1
		add(flagsIn, tokClerkB, 403, "")
		add(empIn, tokClerkB, 403, "")
	}
	series2 := route{"/v1/series?group=2", "group", "group 2"}
	series1 := route{"/v1/series?group=1", "group", "group 1"}
	add(series2, tokAdmin, 200, "")
	add(series2, tokSuper, 403, "")
	add(series2, tokClerkA, 403, "")
	add(series1, tokSuper, 200, "")
	add(series1, tokClerkA, 403, "")
	work := route{"/v1/worklists?county=360782", "county", "360782"}
	add(work, tokAdmin, 200, "")
	add(work, tokSuper, 403, "")
	add(work, tokClerkA, 403, "")
	add(route{corr + "360782", "county", "360782"}, tokSuper, 403, "")
	add(route{corr + "360702", "county", "360702"}, tokSuper, 200, "")

	for _, c := range cases {
		t.Run(c.token+" "+c.path, func(t *testing.T) {
			status, raw, err := e.rawDo(c.path, c.token)
			if err != nil {
				t.Fatal(err)
			}
			if status != c.status {
				t.Fatalf("status %d, want %d: %.300s", status, c.status, raw)
			}
			if status != http.StatusOK {
				var b struct{ Error, Field, Detail string }
				if err := json.Unmarshal(raw, &b); err != nil {
					t.Fatalf("the refusal is not a JSON error: %v: %.300s", err, raw)
				}
				if b.Error != "forbidden" || b.Field != c.field || !strings.Contains(b.Detail, c.names) {
					t.Errorf("refused with %+v, want error forbidden, field %s, a detail naming %s", b, c.field, c.names)
				}
				return
			}
			if c.holds != "" && !strings.Contains(c.path, "xlsx") && !strings.Contains(string(raw), c.holds) {
				t.Errorf("the answer does not hold %s: %.300s", c.holds, raw)
			}
		})
	}
}
