package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// nankangRedefinition is the real change: 南康市 360782 became 南康区 360703 on 2013-01-01.
const nankangRedefinition = `{"code":"360703","name":"南康区","name_en":"Nankang District","predecessor":"360782","effective_from":"2013-01-01"}`

// nankangLedger is a ledger with one 南康市 employer declaring 2012-11 to 2013-02 and paying two
// of those months, with (redefined) or without the 2013 redefinition; it returns the env and the
// employer's id.
func nankangLedger(t *testing.T, redefined bool) (*env, string) {
	t.Helper()
	if redefined {
		return nankangLedgerWith(t, nankangRedefinition)
	}
	return nankangLedgerWith(t, "")
}

// nankangLedgerWith is nankangLedger with the given redefinition (none if empty).
func nankangLedgerWith(t *testing.T, redefinition string) (*env, string) {
	t.Helper()
	e := newReadEnv(t, domain.MustDate("2014-12-31"))
	if redefinition != "" {
		e.mustWrite(t, "/v1/reference/county-redefinitions", tokAdmin, redefinition)
	}
	id := e.mustWrite(t, "/v1/employers", tokAdmin, `{"name":"南康家具厂","county":"360782","org_code":"`+orgCode(78200001)+
		`","kind":"enterprise","risk_class":1,"registered_on":"2012-01-05"}`).str("employer_id")
	e.mustWrite(t, empPath(id, "surveys"), tokAdmin, `{"as_of":"2012-01-20","workforce":4}`)
	e.mustWrite(t, empPath(id, "enrollments"), tokAdmin, `{"insurance":"pension","headcount":4,"effective_on":"2012-02-01"}`)
	for _, d := range [][2]string{{"2012-11", "2012-12-05"}, {"2012-12", "2013-01-05"}, {"2013-01", "2013-02-05"}, {"2013-02", "2013-03-05"}} {
		e.mustWrite(t, empPath(id, "declarations"), tokAdmin, fmt.Sprintf(
			`{"declared_on":%q,"period":%q,"lines":[{"insurance":"pension","headcount":4,"wage_base_fen":800000}]}`, d[1], d[0]))
	}
	e.mustWrite(t, empPath(id, "payments"), tokAdmin, allocated("NK-1", pensionDue(800000), "2012-12-10", "2012-11"))
	seq := e.mustWrite(t, empPath(id, "payments"), tokAdmin, allocated("NK-2", pensionDue(800000), "2013-02-10", "2013-01"))
	e.waitViews(t, uint64(seq.num("seq")))
	return e, id
}

// withoutSeq decodes a read's answer and drops its "seq" (the two ledgers hold different numbers
// of events), re-encoding the rest.
func withoutSeq(t *testing.T, r resp) string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("read answered %s", r)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "seq")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// countyOf returns the entry with code among the "counties" of an answer, or nil.
func countyOf(t *testing.T, r resp, code string) map[string]any {
	t.Helper()
	list, _ := r.JSON["counties"].([]any)
	for _, c := range list {
		if m := c.(map[string]any); m["code"] == code {
			return m
		}
	}
	return nil
}

// TestCountyRedefinitionKeepsFiguresAcrossTheChange: 南康市 360782 became 南康区 360703 on
// 2013-01-01. Before that date the counties read exactly as on a ledger without the change; from
// it 360703 stands in 360782's place with the same employer's figures; the series of 360703 runs
// on from 360782's months; the employer's county as of each date is the code then in force; a
// read of the old code after the change names the new one; restart keeps it.
func TestCountyRedefinitionKeepsFiguresAcrossTheChange(t *testing.T) {
	t.Parallel()
	plain, _ := nankangLedger(t, false)
	e, id := nankangLedger(t, true)

	t.Run("before the change the counties read as without it", func(t *testing.T) {
		for _, q := range []string{"?as_of=2012-12-31", "?as_of=2012-12-31&period=2012-11", "?as_of=2012-06-30"} {
			got, want := withoutSeq(t, e.get(t, "/v1/counties"+q, tokAdmin)), withoutSeq(t, plain.get(t, "/v1/counties"+q, tokAdmin))
			if got != want {
				t.Errorf("/v1/counties%s differs from the ledger without the redefinition:\n got %s\nwant %s", q, got, want)
			}
			if !strings.Contains(got, `"360782"`) || strings.Contains(got, `"360703"`) {
				t.Errorf("/v1/counties%s: want 360782 and no 360703: %s", q, got)
			}
		}
		c := countyOf(t, e.get(t, "/v1/counties?as_of=2012-12-31&period=2012-11", tokAdmin), "360782")
		if c == nil || fmt.Sprint(c["period_due_fen"]) == "0" {
			t.Errorf("360782 as of 2012-12-31 has no 2012-11 due: %v", c)
		}
	})

	t.Run("after the change the successor carries the predecessor's employers", func(t *testing.T) {
		for _, q := range []string{"?as_of=2013-06-30", "?as_of=2013-06-30&period=2013-02", "?as_of=2014-12-31"} {
			r, p := e.get(t, "/v1/counties"+q, tokAdmin), plain.get(t, "/v1/counties"+q, tokAdmin)
			if countyOf(t, r, "360782") != nil {
				t.Errorf("/v1/counties%s still lists 360782", q)
			}
			got, want := countyOf(t, r, "360703"), countyOf(t, p, "360782")
			if got == nil || want == nil {
				t.Fatalf("/v1/counties%s: 360703 %v, plain 360782 %v", q, got, want)
			}
			if got["name"] != "南康区" {
				t.Errorf("/v1/counties%s: 360703 named %v, want 南康区", q, got["name"])
			}
			delete(got, "code")
			delete(got, "name")
			delete(got, "name_en")
			delete(want, "code")
			delete(want, "name")
			delete(want, "name_en")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("/v1/counties%s: 360703's figures\n %v\ndiffer from 360782's without the change\n %v", q, got, want)
			}
			if fmt.Sprint(r.JSON["city"]) != fmt.Sprint(p.JSON["city"]) {
				t.Errorf("/v1/counties%s: the city differs from the ledger without the change", q)
			}
		}
	})

	t.Run("the successor's series runs on from the predecessor's months", func(t *testing.T) {
		const q = "/v1/series?as_of=2013-12-31&from=2012-01&to=2013-12"
		r, p := e.get(t, q, tokAdmin), plain.get(t, q, tokAdmin)
		got, want := countyOf(t, r, "360703"), countyOf(t, p, "360782")
		if got == nil || want == nil || countyOf(t, r, "360782") != nil {
			t.Fatalf("%s: want 360703 and no 360782: %s", q, r.Raw)
		}
		for _, k := range []string{"due_fen", "collected_fen", "arrears_fen"} {
			if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
				t.Errorf("%s: 360703's %s %v, want 360782's without the change %v", q, k, got[k], want[k])
			}
		}
		due := got["due_fen"].([]any)
		if fmt.Sprint(due[10]) == "0" || fmt.Sprint(due[12]) == "0" {
			t.Errorf("%s: 360703's due has a gap at the change: %v", q, due)
		}
	})

	employerCounty := []struct {
		asOf, want string
	}{{"2012-06-30", "360782"}, {"2012-12-31", "360782"}, {"2013-01-01", "360703"}, {"2014-12-31", "360703"}}
	checkEmployer := func(t *testing.T) {
		for _, c := range employerCounty {
			if got := e.get(t, empPath(id, "")+"?as_of="+c.asOf, tokAdmin).str("county"); got != c.want {
				t.Errorf("employer as of %s: county %q, want %q", c.asOf, got, c.want)
			}
			if got := e.get(t, empPath(id, "history")+"?as_of="+c.asOf, tokAdmin).str("county"); got != c.want {
				t.Errorf("employer's history as of %s: county %q, want %q", c.asOf, got, c.want)
			}
		}
	}
	t.Run("the employer's county as of each date is the code then in force", checkEmployer)

	t.Run("a county read under a code not in force names the one that is", func(t *testing.T) {
		for _, c := range []struct{ path, names string }{
			{"/v1/counties/360782?as_of=2013-06-30", "360703"},
			{"/v1/counties/360703?as_of=2012-12-31", "360782"},
		} {
			r := e.get(t, c.path, tokAdmin)
			wantError(t, r, http.StatusNotFound, "not_found", "code")
			if !strings.Contains(r.str("detail"), c.names) {
				t.Errorf("%s: detail %q does not name %s", c.path, r.str("detail"), c.names)
			}
		}
		if r := e.get(t, "/v1/counties/360703?as_of=2013-06-30", tokAdmin); r.Status != http.StatusOK {
			t.Errorf("/v1/counties/360703 after the change: %s", r)
		}
	})

	t.Run("freezes before and after the change", func(t *testing.T) {
		before := e.getFreeze(t, tokAdmin, e.freeze(t, tokAdmin, "2012-12-31", 0).ID)
		after := e.getFreeze(t, tokAdmin, e.freeze(t, tokAdmin, "2013-06-30", 0).ID)
		if !strings.Contains(string(before.Figures), `"360782"`) || strings.Contains(string(before.Figures), `"360703"`) {
			t.Errorf("the freeze valid through 2012-12-31 should hold 360782 and not 360703")
		}
		if !strings.Contains(string(after.Figures), `"360703"`) || strings.Contains(string(after.Figures), `"360782"`) {
			t.Errorf("the freeze valid through 2013-06-30 should hold 360703 and not 360782")
		}
	})

	t.Run("restart keeps the redefinition", func(t *testing.T) {
		e.restart()
		if got := e.l.Store.Reference().CountyCodeOn("360782", domain.MustDate("2013-06-30")); got != "360703" {
			t.Errorf("after restart 360782 reads as %s on 2013-06-30, want 360703", got)
		}
		checkEmployer(t)
	})
}

// TestCountyRedefinitionRefusals: a redefinition naming an unknown predecessor, a code in use, an
// already replaced county or a date before 1990 is refused and appends nothing.
func TestCountyRedefinitionRefusals(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	e.mustWrite(t, "/v1/reference/county-redefinitions", tokAdmin, nankangRedefinition)
	for _, c := range []struct {
		name, token, body string
		status            int
		kind, field       string
	}{
		{"an unknown predecessor is refused", tokAdmin, `{"code":"360799","name":"某区","predecessor":"360799","effective_from":"2013-01-01"}`, 400, "invalid", "predecessor"},
		{"a new code already in use is refused", tokAdmin, `{"code":"360702","name":"章贡区","predecessor":"360721","effective_from":"2016-01-01"}`, 409, "conflict", "code"},
		{"a county already replaced is refused", tokAdmin, `{"code":"360799","name":"南康某区","predecessor":"360782","effective_from":"2014-01-01"}`, 409, "conflict", "predecessor"},
		{"an effective date before 1990 is refused", tokAdmin, `{"code":"360704","name":"赣县区","predecessor":"360721","effective_from":"1989-12-31"}`, 400, "invalid", "effective_from"},
		{"a code that is not 6 digits is refused", tokAdmin, `{"code":"36070","name":"赣县区","predecessor":"360721","effective_from":"2016-01-01"}`, 400, "invalid", "code"},
		{"a name is required", tokAdmin, `{"code":"360704","predecessor":"360721","effective_from":"2016-01-01"}`, 400, "invalid", "name"},
		{"an unknown group is refused", tokAdmin, `{"code":"360704","name":"赣县区","predecessor":"360721","effective_from":"2016-01-01","group":9}`, 400, "invalid", "group"},
		{"only admins redefine counties", tokAuditor, `{"code":"360704","name":"赣县区","predecessor":"360721","effective_from":"2016-01-01"}`, 403, "forbidden", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			wantError(t, e.post(t, "/v1/reference/county-redefinitions", c.token, c.body), c.status, c.kind, c.field)
			e.wantUnchanged(t, before)
		})
	}
	e.mustWrite(t, "/v1/reference/county-redefinitions", tokAdmin, `{"code":"360704","name":"赣县区","predecessor":"360721","effective_from":"2016-01-01"}`)
}

// TestTokensNamingThePredecessorReadTheSuccessor: a clerk whose token names 360782 reads, after
// the change, 360703's figures and the employers recorded under 360782; a clerk of another county
// does not.
func TestTokensNamingThePredecessorReadTheSuccessor(t *testing.T) {
	t.Parallel()
	e, id := nankangLedger(t, true)
	e.useTokens([]map[string]any{
		{"token": "clerk-nk", "name": "nk", "role": "clerk", "counties": []string{"360782"}},
		{"token": "clerk-a", "name": "a", "role": "clerk", "counties": []string{"360702"}},
	})
	e.serve()
	for _, c := range []struct {
		name, path, token string
		status            int
	}{
		{"the predecessor's clerk reads the successor's figures", "/v1/counties/360703?as_of=2013-06-30", "clerk-nk", 200},
		{"the predecessor's clerk reads the employer after the change", empPath(id, "") + "?as_of=2013-06-30", "clerk-nk", 200},
		{"another county's clerk does not read the successor", "/v1/counties/360703?as_of=2013-06-30", "clerk-a", 403},
		{"another county's clerk does not read the employer", empPath(id, "") + "?as_of=2013-06-30", "clerk-a", 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := e.get(t, c.path, c.token); r.Status != c.status {
				t.Errorf("GET %s as %s: %s, want %d", c.path, c.token, r, c.status)
			}
		})
	}
	r := e.get(t, "/v1/employers?county=360703", "clerk-nk")
	if !strings.Contains(string(r.Raw), id) {
		t.Errorf("GET /v1/employers?county=360703 as the clerk of 360782 does not list %s: %s", id, r)
	}
}

// TestAClerkOfEitherCodeWritesTheCountysPayers: after 南康市 360782 became 南康区 360703, a clerk
// whose token names the code in force writes the payers recorded under the old one (every payer
// the county had before the change), and one naming the old code writes those registered under
// the new, as each reads them; a clerk of another county writes neither.
func TestAClerkOfEitherCodeWritesTheCountysPayers(t *testing.T) {
	t.Parallel()
	e, old := nankangLedger(t, true)
	e.useTokens([]map[string]any{
		{"token": "clerk-nkq", "name": "nkq", "role": "clerk", "counties": []string{"360703"}},
		{"token": "clerk-nk", "name": "nk", "role": "clerk", "counties": []string{"360782"}},
		{"token": "clerk-a", "name": "a", "role": "clerk", "counties": []string{"360702"}},
	})
	e.serve()
	fresh := e.mustWrite(t, "/v1/employers", "clerk-nkq", `{"name":"南康区家具城","county":"360703","org_code":"`+orgCode(78200002)+
		`","kind":"enterprise","risk_class":1,"registered_on":"2014-01-12"}`).str("employer_id")
	for _, c := range []struct {
		name, id, token string
		status          int
	}{
		{"the new code's clerk pays in a payer recorded under the old", old, "clerk-nkq", 201},
		{"the old code's clerk pays in a payer registered under the new", fresh, "clerk-nk", 201},
		{"another county's clerk does not", old, "clerk-a", 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"paid_on":"2014-03-10","amount_fen":1000,"receipt_no":"NK-%s"}`, c.token)
			if r := e.post(t, empPath(c.id, "payments"), c.token, body); r.Status != c.status {
				t.Errorf("a payment as %s: %s, want %d", c.token, r, c.status)
			}
		})
	}
}

// TestACountyRedefinedThroughAnotherReplicaIsKnownAtOnce: county codes are redefined through
// another replica, and each new code is written to here at once, a registration under it and a
// county's batch of notices: neither is refused as an unknown county on this replica's
// reference data from before the redefinition (the two-replica review saw 3 of 23 registrations
// refused so; the diff's review a batch answered 404).
func TestACountyRedefinedThroughAnotherReplicaIsKnownAtOnce(t *testing.T) {
	e := newReadEnv(t, today)
	other := e.secondReplica(t)
	for i, pred := range []string{"360721", "360722", "360723", "360724", "360725", "360726", "360727", "360728"} {
		code := fmt.Sprintf("3607%d", 90+i)
		if _, err := other.ExecuteRef(context.Background(), eventstore.RefRequest{Actor: "admin:b", On: today,
			Payload: domain.CountyRedefined{Code: code, Name: fmt.Sprintf("新区%d", i), Predecessor: pred, EffectiveFrom: domain.MustDate("2006-07-01")}}); err != nil {
			t.Fatal(err)
		}
		// Half the rounds the batch goes first, half the registration: whichever is first is
		// the one sent before this replica followed.
		if i%2 == 0 {
			if r := e.raw(t, http.MethodPost, "/v1/counties/"+code+"/notices", tokAuditor, `{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":30}`); r.status != http.StatusOK {
				t.Errorf("a batch of notices of %s, redefined through another replica a moment ago: %d %.300s, want 200", code, r.status, r.body)
			}
		}
		if r := e.post(t, "/v1/employers", tokAdmin, fmt.Sprintf(`{"name":"新区单位%d","county":%q,"org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-08-01"}`,
			i, code, orgCode(78300000+i))); r.Status != http.StatusCreated {
			t.Errorf("a registration under %s, redefined through another replica a moment ago: %s, want 201", code, r)
		}
		if i%2 == 1 {
			if r := e.raw(t, http.MethodPost, "/v1/counties/"+code+"/notices", tokAuditor, `{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":30}`); r.status != http.StatusOK {
				t.Errorf("a batch of notices of %s, redefined through another replica a moment ago: %d %.300s, want 200", code, r.status, r.body)
			}
		}
	}
}

// TestAnImportNamesASuccessorCountyAsTheLedgerDoes: after 南康市 360782 became 南康区 360703, an
// import's 所属区县 may name the county as the ledger's reads name it (南康区, Nankang District)
// as well as by either code or the old name, and a code typed in full-width digits is the code,
// in a file and in a JSON registration alike (the review of clerks' text saw 南康区 refused as
// an unknown county while GET /v1/counties named it).
func TestAnImportNamesASuccessorCountyAsTheLedgerDoes(t *testing.T) {
	t.Parallel()
	e, _ := nankangLedger(t, true)
	var csv strings.Builder
	csv.WriteString("单位名称,组织机构代码,所属区县,单位类型,经济类型,行业风险类别,是否工业园区,登记日期\n")
	spellings := []string{"南康区", "Nankang District", "３６０７０３", "360703", "南康市", "360782"}
	for i, county := range spellings {
		fmt.Fprintf(&csv, "南康家具%d厂,%s,%s,企业,私营,1,否,2014-02-0%d\n", i, orgCode(78300001+i), county, i+1)
	}
	r := e.upload(t, tokAdmin, "nankang.csv", []byte(csv.String()))
	if r.Status != http.StatusOK || r.num("imported") != int64(len(spellings)) {
		t.Fatalf("an import naming the county six ways: %s, want all %d rows imported", r, len(spellings))
	}
	for i, county := range spellings {
		id := domain.EmployerIDForOrgCode(orgCode(78300001 + i))
		if got := e.get(t, "/v1/employers/"+id+"?as_of=2014-12-31", tokAdmin).str("county"); got != "360703" {
			t.Errorf("the payer whose row named %q reads in county %q, want 360703", county, got)
		}
	}
	reg := e.mustWrite(t, "/v1/employers", tokAdmin, `{"name":"南康木业","county":"３６０７０３","org_code":"`+orgCode(78300009)+
		`","kind":"enterprise","risk_class":1,"registered_on":"2014-03-01"}`)
	if got := e.get(t, "/v1/employers/"+reg.str("employer_id"), tokAdmin).str("county"); got != "360703" {
		t.Errorf("a registration naming the county in full-width digits reads in %q, want 360703", got)
	}
}
