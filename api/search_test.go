package api_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
)

// searchList is the JSON answer of GET /v1/employers.
type searchList struct {
	Total      int    `json:"total"`
	Page       int    `json:"page"`
	PageSize   int    `json:"page_size"`
	NextCursor string `json:"next_cursor"`
	Employers  []struct {
		ID         string `json:"employer_id"`
		County     string `json:"county"`
		Kind       string `json:"kind"`
		InPark     bool   `json:"in_industrial_park"`
		ArrearsFen int64  `json:"arrears_fen"`
		Stage      string `json:"enforcement_stage"`
	} `json:"employers"`
	Principal struct {
		Role   string   `json:"role"`
		Writes []string `json:"writes"`
	} `json:"principal"`
}

func (l searchList) ids() []string {
	var out []string
	for _, e := range l.Employers {
		out = append(out, e.ID)
	}
	return out
}

// searchFixture is a small ledger of known employers: two counties, every kind of filter met
// by some and missed by others.
type searchFixture struct {
	e                                  *env
	plain, park, owing, noticed, indiv string // employers of 360702
	other                              string // of 360721
	seq                                int64
}

func newSearchFixture(t *testing.T) *searchFixture {
	t.Helper()
	e := newReadEnv(t, today)
	f := &searchFixture{e: e}
	f.plain = e.register(t, tokAdmin, orgCode(7001), "360702")
	park := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(`{"name":"园区 电子厂","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"in_industrial_park":true,"registered_on":"2006-04-03","certificate_no":"GZ-CERT-778"}`, orgCode(7002)))
	f.park = park.str("employer_id")
	credit := creditCodeOf(orgCode(7003), "360702")
	f.owing = e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(`{"name":"欠费 机械厂","county":"360702","credit_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, credit)).str("employer_id")
	f.noticed = e.register(t, tokAdmin, orgCode(7004), "360702")
	f.indiv = e.mustWrite(t, "/v1/employers", tokAdmin, `{"name":"个体 小吃店","county":"360702","kind":"individual_business","risk_class":1,"registered_on":"2006-04-03"}`).str("employer_id")
	f.other = e.register(t, tokAdmin, orgCode(7005), "360721")
	// 280,000 fen of pension due for 2006-05 (28% of 1,000,000), unpaid: in arrears since 2006-06-16.
	decl := `{"declared_on":"2006-06-01","period":"2006-05","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`
	e.mustWrite(t, empPath(f.owing, "declarations"), tokAdmin, decl)
	e.mustWrite(t, empPath(f.noticed, "declarations"), tokAdmin, decl)
	e.mustWrite(t, empPath(f.noticed, "payments"), tokAdmin, paymentBody("S-1", 100000, "2006-06-10"))
	f.seq = e.mustWrite(t, empPath(f.noticed, "enforcement"), tokAuditor, `{"step":"notice","on":"2006-07-01","doc_no":"N-1","deadline":"2006-07-31"}`).num("seq")
	return f
}

func (f *searchFixture) list(t *testing.T, token string, params url.Values) searchList {
	t.Helper()
	params.Set("min_seq", strconv.FormatInt(f.seq, 10))
	r := f.e.get(t, "/v1/employers?"+params.Encode(), token)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/employers?%s: %s", params.Encode(), r)
	}
	var l searchList
	decode(t, r, &l)
	return l
}

func TestEmployerSearchFilters(t *testing.T) {
	f := newSearchFixture(t)
	all := []string{f.plain, f.park, f.owing, f.noticed, f.indiv}
	for _, c := range []struct {
		name   string
		token  string
		params url.Values
		want   []string
	}{
		{"everything an admin reads", tokAdmin, url.Values{}, append(slices.Clone(all), f.other)},
		{"a clerk reads its county only", tokClerkA, url.Values{}, all},
		{"the other county's clerk", tokClerkB, url.Values{}, []string{f.other}},
		{"county", tokAdmin, url.Values{"county": {"360721"}}, []string{f.other}},
		{"kind", tokAdmin, url.Values{"kind": {"individual_business"}}, []string{f.indiv}},
		{"in park", tokAdmin, url.Values{"in_park": {"true"}}, []string{f.park}},
		{"not in park", tokClerkA, url.Values{"in_park": {"false"}}, []string{f.plain, f.owing, f.noticed, f.indiv}},
		{"stage notice", tokAdmin, url.Values{"stage": {"notice"}}, []string{f.noticed}},
		{"stage none", tokClerkA, url.Values{"stage": {"none"}}, []string{f.plain, f.park, f.owing, f.indiv}},
		{"arrears above 0", tokAdmin, url.Values{"arrears_above_fen": {"0"}}, []string{f.owing, f.noticed}},
		{"arrears above 180,000", tokAdmin, url.Values{"arrears_above_fen": {"180000"}}, []string{f.owing}},
		{"arrears above 280,000", tokAdmin, url.Values{"arrears_above_fen": {"280000"}}, nil},
		{"flag: park employer not enrolled", tokAdmin, url.Values{"flag": {"park_employer_not_enrolled"}}, []string{f.park}},
		{"flag any, with a stage", tokAdmin, url.Values{"flag": {"any"}, "stage": {"none"}}, []string{f.park, f.owing}},
		{"certificate number, part", tokAdmin, url.Values{"q": {"cert-77"}}, []string{f.park}},
		{"organisation code without its hyphen", tokAdmin, url.Values{"q": {strings.ReplaceAll(orgCode(7005), "-", "")}}, []string{f.other}},
		{"certificate number without its hyphens", tokAdmin, url.Values{"q": {"gzcert778"}}, []string{f.park}},
		{"credit code, part", tokAdmin, url.Values{"q": {creditCodeOf(orgCode(7003), "360702")[2:12]}}, []string{f.owing}},
		{"name, Chinese, part", tokAdmin, url.Values{"q": {"机械"}}, []string{f.owing}},
		{"name and kind", tokAdmin, url.Values{"q": {"单位"}, "kind": {"enterprise"}}, []string{f.plain, f.noticed, f.other}},
		{"the other clerk searches for a name of 360702", tokClerkB, url.Values{"q": {"机械"}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := f.list(t, c.token, c.params)
			if got := l.ids(); !slices.Equal(got, c.want) || l.Total != len(c.want) {
				t.Errorf("?%s: %v (total %d), want %v", c.params.Encode(), got, l.Total, c.want)
			}
		})
	}
	// Each row tells its arrears and stage as the employer read does.
	l := f.list(t, tokAdmin, url.Values{"stage": {"notice"}})
	var st struct {
		Stage  string `json:"enforcement_stage"`
		Totals struct {
			Cur   int64 `json:"arrears_current_year_fen"`
			Prior int64 `json:"arrears_prior_years_fen"`
		} `json:"totals"`
	}
	decode(t, f.e.get(t, empPath(f.noticed, ""), tokAdmin), &st)
	if row := l.Employers[0]; row.Stage != st.Stage || row.ArrearsFen != st.Totals.Cur+st.Totals.Prior || row.ArrearsFen != 180000 {
		t.Errorf("the row of %s says stage %q, arrears %d; the employer read says %q, %d (want 180000)", f.noticed, row.Stage, row.ArrearsFen, st.Stage, st.Totals.Cur+st.Totals.Prior)
	}
	// The principal and what it may write.
	for tok, want := range map[string][]string{tokClerkA: {"employer", "void"}, tokAuditor: {"audit", "void"}, tokSuper: {}, tokAdmin: {"employer", "audit", "void"}} {
		if got := f.list(t, tok, url.Values{}).Principal.Writes; !slices.Equal(got, want) {
			t.Errorf("token %s: writes %v, want %v", tok, got, want)
		}
	}
}

func TestEmployerSearchCursorPaging(t *testing.T) {
	f := newSearchFixture(t)
	whole := f.list(t, tokAdmin, url.Values{"limit": {"1000"}})
	if len(whole.Employers) < 6 || whole.NextCursor != "" {
		t.Fatalf("one page of 1000: %d employers, next cursor %q", len(whole.Employers), whole.NextCursor)
	}
	// Pages of two by cursor: every employer once, in the same order, even with an employer
	// added between two pages (it comes last, so it is on the last page).
	var got []string
	params := url.Values{"limit": {"2"}}
	added := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatalf("more than 10 pages of 2 for %d employers", len(whole.Employers))
		}
		l := f.list(t, tokAdmin, params)
		if len(l.Employers) > 2 || l.PageSize != 2 {
			t.Fatalf("a page of %d employers (page_size %d), want at most 2", len(l.Employers), l.PageSize)
		}
		got = append(got, l.ids()...)
		if pages == 0 {
			added = f.e.register(t, tokAdmin, orgCode(7010), "360702")
			f.seq = f.e.get(t, empPath(added, ""), tokAdmin).num("version")
		}
		if l.NextCursor == "" {
			break
		}
		params.Set("cursor", l.NextCursor)
	}
	if want := append(whole.ids(), added); !slices.Equal(got, want) {
		t.Errorf("paged by cursor: %v, want %v", got, want)
	}
	// Numbered pages still work, and agree.
	p2 := f.list(t, tokAdmin, url.Values{"limit": {"2"}, "page": {"2"}})
	if !slices.Equal(p2.ids(), got[2:4]) || p2.Page != 2 {
		t.Errorf("page 2 of 2: %v (page %d), want %v", p2.ids(), p2.Page, got[2:4])
	}
	// A cursor with filters pages the filtered list.
	one := f.list(t, tokAdmin, url.Values{"limit": {"1"}, "county": {"360702"}})
	next := f.list(t, tokAdmin, url.Values{"limit": {"1"}, "county": {"360702"}, "cursor": {one.NextCursor}})
	if len(one.Employers) != 1 || len(next.Employers) != 1 || one.Employers[0].ID != f.plain || next.Employers[0].ID != f.park {
		t.Errorf("360702 one by one: %v then %v, want %s then %s", one.ids(), next.ids(), f.plain, f.park)
	}
}

// TestACursorTellsNothingOfOtherCounties: a clerk's cursor carries no position in the ledger's
// entry order (which would count the employers of other counties entered before its own), and
// a cursor naming an employer the clerk may not read is refused as one never given, not taken
// as a place to go on from.
func TestACursorTellsNothingOfOtherCounties(t *testing.T) {
	f := newSearchFixture(t)
	after := f.e.register(t, tokAdmin, orgCode(7011), "360702") // so that a page ending at f.other has a next one
	f.seq = f.e.get(t, empPath(after, ""), tokAdmin).num("version")
	whole := f.list(t, tokAdmin, url.Values{"limit": {"1000"}}).ids()
	at := slices.Index(whole, f.other)
	if at < 0 || at == len(whole)-1 {
		t.Fatalf("the 360721 employer %s at %d of %v", f.other, at, whole)
	}
	admins := f.list(t, tokAdmin, url.Values{"limit": {strconv.Itoa(at + 1)}})
	if ids := admins.ids(); len(ids) == 0 || ids[len(ids)-1] != f.other || admins.NextCursor == "" {
		t.Fatalf("the admin's page of %d ends %v, cursor %q; want it to end at %s with a cursor", at+1, ids, admins.NextCursor, f.other)
	}
	// The clerk of 360721 reads it, and goes on from it; the clerk of 360702 does not.
	if r := f.e.get(t, "/v1/employers?limit=1&cursor="+url.QueryEscape(admins.NextCursor), tokClerkB); r.Status != http.StatusOK {
		t.Errorf("the clerk of 360721 with a cursor at its employer: %s, want 200", r)
	}
	wantError(t, f.e.get(t, "/v1/employers?limit=1&cursor="+url.QueryEscape(admins.NextCursor), tokClerkA), http.StatusBadRequest, "invalid", "cursor")

	clerks := f.list(t, tokClerkA, url.Values{"limit": {"1"}})
	raw, err := base64.RawURLEncoding.DecodeString(clerks.NextCursor)
	if err != nil || clerks.NextCursor == "" {
		t.Fatalf("the clerk's cursor %q: %v", clerks.NextCursor, err)
	}
	for _, part := range strings.Split(string(raw), ":") {
		if _, err := strconv.Atoi(part); err == nil {
			t.Errorf("the clerk's cursor %q carries the number %s", raw, part)
		}
	}
}

func TestEmployerSearchExport(t *testing.T) {
	f := newSearchFixture(t)
	want := f.list(t, tokClerkA, url.Values{"in_park": {"false"}}).ids()
	r := rawGet(t, f.e, "/v1/employers?in_park=false&format=csv&limit=1&min_seq="+strconv.FormatInt(f.seq, 10), tokClerkA)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv export: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	rows, err := tableCSV(t, r.Raw)
	if err != nil {
		t.Fatalf("csv export: %v", err)
	}
	var ids []string
	for _, row := range rows[1:] {
		ids = append(ids, row[0])
	}
	if rows[0][0] != "单位编号 employer id" || !slices.Equal(ids, want) {
		t.Errorf("csv export: header %q, ids %v, want %v (every match, whatever the limit)", rows[0][0], ids, want)
	}
	r = rawGet(t, f.e, "/v1/employers?stage=notice&format=xlsx&min_seq="+strconv.FormatInt(f.seq, 10), tokAdmin)
	if r.Status != http.StatusOK {
		t.Fatalf("xlsx export: %d", r.Status)
	}
	x, err := excelize.OpenReader(bytes.NewReader(r.Raw))
	if err != nil {
		t.Fatalf("xlsx export: %v", err)
	}
	defer x.Close()
	sheet := x.GetSheetName(0)
	xrows, err := x.GetRows(sheet)
	if err != nil || len(xrows) != 2 || xrows[1][0] != f.noticed || xrows[1][9] != "180000" || xrows[1][10] != "notice" {
		t.Errorf("xlsx export: %v (%v), want a header and %s with 180000 fen at stage notice", xrows, err, f.noticed)
	}
	if typ, _ := x.GetCellType(sheet, "J2"); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("xlsx export: arrears is a cell of type %v, want a number", typ)
	}
}

func TestEmployerSearchBadParameters(t *testing.T) {
	e := newReadEnv(t, today)
	e.register(t, tokAdmin, orgCode(7020), "360702")
	seq := e.mustWrite(t, "/v1/employers", tokAdmin, registration(orgCode(7021), "360702")).num("seq")
	var first searchList
	decode(t, e.get(t, fmt.Sprintf("/v1/employers?limit=1&min_seq=%d", seq), tokAdmin), &first)
	good := first.NextCursor
	if good == "" {
		t.Fatalf("a page of 1 of 2 employers gave no next cursor")
	}
	for param, v := range map[string]string{
		"county": "999999", "kind": "company", "in_park": "maybe", "stage": "jail",
		"arrears_above_fen": "-1", "flag": "red", "limit": "0", "format": "pdf", "page": "x", "cursor": "bm9wZQ",
	} {
		r := e.get(t, "/v1/employers?"+url.Values{param: {v}}.Encode(), tokAdmin)
		wantError(t, r, http.StatusBadRequest, "invalid", param)
	}
	wantError(t, e.get(t, "/v1/employers?arrears_above_fen=1.5", tokAdmin), http.StatusBadRequest, "invalid", "arrears_above_fen")
	wantError(t, e.get(t, "/v1/employers?limit=1001", tokAdmin), http.StatusBadRequest, "invalid", "limit")
	wantError(t, e.get(t, "/v1/employers?page=2&cursor="+good, tokAdmin), http.StatusBadRequest, "invalid", "page")
	// A cursor whose employer is not where it said is refused, not silently restarted.
	forged := base64.RawURLEncoding.EncodeToString([]byte("e1:1:" + uuid.NewString()))
	wantError(t, e.get(t, "/v1/employers?cursor="+forged, tokAdmin), http.StatusBadRequest, "invalid", "cursor")
}

// rawGet reads an answer that is not JSON (an export).
func rawGet(t *testing.T, e *env, path, token string) resp {
	t.Helper()
	return rawGetFrom(t, e.srv.Client(), e.srv.URL+path, token, nil)
}

// rawGetFrom sends GET url through client, with token ("" sends none) and the headers given,
// and answers what came back, undecoded.
func rawGetFrom(t *testing.T, client *http.Client, url, token string, header map[string]string) resp {
	t.Helper()
	hr, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	res, err := client.Do(hr)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
}
