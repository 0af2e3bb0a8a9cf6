package api_test

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
)

// listedEmployer is a row of GET /v1/employers.
type listedEmployer struct {
	EmployerID string     `json:"employer_id"`
	Name       string     `json:"name"`
	ArrearsFen domain.Fen `json:"arrears_fen"`
}

// TestPublicityListPrintsTheListsFigures prints 360702's arrears publicity list as of the demo
// ledger's today above a threshold and checks it against GET /v1/employers?county=&
// arrears_above_fen= and each employer's GET /v1/employers/{id}?as_of=: every listed employer's
// name, code and amounts in order of arrears, none at or below the threshold, the totals; the
// same bytes twice; who may read it; bad parameters.
func TestPublicityListPrintsTheListsFigures(t *testing.T) {
	e := newFreezeEnv(t, 300)
	e.waitViews(t, e.count())
	const county, above = "360702", 50000
	asOf := freezeToday.String()

	var list struct {
		Total     int              `json:"total"`
		Employers []listedEmployer `json:"employers"`
	}
	decode(t, e.get(t, fmt.Sprintf("/v1/employers?county=%s&arrears_above_fen=%d&limit=1000", county, above), tokAuditor), &list)
	if list.Total < 3 || list.Total != len(list.Employers) {
		t.Fatalf("GET /v1/employers of %s above %d fen: %d employers (%d on the page); want a few, on one page", county, above, list.Total, len(list.Employers))
	}
	path := fmt.Sprintf("/v1/counties/%s/arrears-list.pdf?as_of=%s&above_fen=%d", county, asOf, above)
	a := e.raw(t, http.MethodGet, path, tokSuper, "")
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(a.body, []byte("%PDF-")) {
		t.Fatalf("GET %s: %d %s %.300s", path, a.status, a.header.Get("Content-Type"), a.body)
	}
	text := pdfText(t, a.body)
	for _, w := range []string{"欠费单位公示名单", "章贡区（360702）", "2006年12月31日", "超过人民币 500.00 元", fmt.Sprintf("下列 %d 户单位", list.Total)} {
		if !strings.Contains(text, w) {
			t.Errorf("the list does not print %q:\n%s", w, text)
		}
	}
	type row struct {
		name, line string
		arrears    domain.Fen
	}
	var rows []row
	var cur, prior, fee domain.Fen
	for _, x := range list.Employers {
		var v struct {
			Name       string             `json:"name"`
			OrgCode    string             `json:"org_code"`
			CreditCode string             `json:"credit_code"`
			Stage      string             `json:"enforcement_stage"`
			Lines      []domain.LineState `json:"lines"`
			Totals     domain.Totals      `json:"totals"`
		}
		decode(t, e.get(t, empPath(x.EmployerID, "")+"?as_of="+asOf, tokAuditor), &v)
		if got := v.Totals.ArrearsFen(); got != x.ArrearsFen || got <= above {
			t.Fatalf("employer %s: the list says %d fen of arrears, the employer as of %s %d (threshold %d)", x.EmployerID, x.ArrearsFen, asOf, got, above)
		}
		code := v.CreditCode
		if code == "" {
			code = v.OrgCode
		}
		periods, oldest := map[domain.Period]bool{}, domain.Period(0)
		for _, l := range v.Lines {
			if c, p := l.Arrears(freezeToday); c+p > 0 {
				if len(periods) == 0 || l.Period < oldest {
					oldest = l.Period
				}
				periods[l.Period] = true
			}
		}
		months := len(periods)
		rows = append(rows, row{v.Name, strings.Join([]string{code, documents.Yuan(v.Totals.ArrearsCurrentYearFen), documents.Yuan(v.Totals.ArrearsPriorYearsFen),
			documents.Yuan(x.ArrearsFen), documents.Yuan(v.Totals.LateFeeFen), strconv.Itoa(months), oldest.String()}, " "), x.ArrearsFen})
		cur, prior, fee = cur+v.Totals.ArrearsCurrentYearFen, prior+v.Totals.ArrearsPriorYearsFen, fee+v.Totals.LateFeeFen
	}
	// Each row's figures, in order of arrears (most first, ties in the list's order); the names
	// may wrap in their cell, so they are looked for with the line breaks taken out.
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(b.arrears, a.arrears) })
	flat := strings.Join(strings.Fields(text), "")
	at := -1
	for i, r := range rows {
		j := strings.Index(text, r.line)
		switch {
		case j < 0:
			t.Errorf("the list does not print %s's row %q:\n%s", r.name, r.line, text)
		case j < at:
			t.Errorf("row %d (%s, %d fen) is printed before the row it follows", i+1, r.name, r.arrears)
		default:
			at = j
		}
		if !strings.Contains(flat, strings.Join(strings.Fields(r.name), "")) {
			t.Errorf("the list does not print the name %q", r.name)
		}
		if !strings.Contains(text, "\n"+strconv.Itoa(i+1)+" ") {
			t.Errorf("the list has no row numbered %d", i+1)
		}
	}
	if strings.Contains(text, "\n"+strconv.Itoa(len(rows)+1)+" ") {
		t.Errorf("the list has a row numbered %d, the API lists %d employers above the threshold:\n%s", len(rows)+1, len(rows), text)
	}
	total := fmt.Sprintf("合计 %d 户 %s %s %s %s", len(rows), documents.Yuan(cur), documents.Yuan(prior), documents.Yuan(cur+prior), documents.Yuan(fee))
	if !strings.Contains(text, total) {
		t.Errorf("the list does not print the totals %q:\n%s", total, text)
	}
	// The same request gives the same bytes.
	if b := e.raw(t, http.MethodGet, path, tokAdmin, ""); !bytes.Equal(b.body, a.body) || b.header.Get("X-Ledger-Seq") != a.header.Get("X-Ledger-Seq") {
		t.Errorf("the same list asked twice: %d and %d bytes (seq %s, %s)", len(a.body), len(b.body), a.header.Get("X-Ledger-Seq"), b.header.Get("X-Ledger-Seq"))
	}
	// Readers of the county only; unknown county 404; bad parameters 400 naming them.
	before := e.count()
	for _, tok := range []string{tokClerkA, tokAuditor, tokAssessor, tokAdmin, tokSuper} {
		if g := e.raw(t, http.MethodGet, path, tok, ""); g.status != http.StatusOK {
			t.Errorf("%s reading 360702's list: %d, want 200", tok, g.status)
		}
	}
	if g := e.raw(t, http.MethodGet, path, tokClerkB, ""); g.status != http.StatusForbidden {
		t.Errorf("a clerk of 360721 reading 360702's list: %d, want 403", g.status)
	}
	if g := e.raw(t, http.MethodGet, "/v1/counties/369999/arrears-list.pdf", tokAdmin, ""); g.status != http.StatusNotFound {
		t.Errorf("an unknown county's list: %d, want 404", g.status)
	}
	wantError(t, e.get(t, "/v1/counties/360702/arrears-list.pdf?as_of=2006-02-30", tokAdmin), 400, "invalid", "as_of")
	wantError(t, e.get(t, "/v1/counties/360702/arrears-list.pdf?above_fen=-1", tokAdmin), 400, "invalid", "above_fen")
	wantError(t, e.get(t, "/v1/counties/360702/arrears-list.pdf?above_fen=1.5", tokAdmin), 400, "invalid", "above_fen")
	e.wantUnchanged(t, before)
}

// TestAPublicityListPrintsANameTheFontLacksWithABox: one payer whose name holds a character
// outside the documents' font (堃) does not withhold its county's list: its name is printed with
// □ in the character's place, beside its code, and a note says what □ means.
func TestAPublicityListPrintsANameTheFontLacksWithABox(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-06-30"))
	var codes []string
	for i, name := range []string{"甲厂", "赣州市堃龙机械厂"} {
		codes = append(codes, orgCode(76000001+i))
		id := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(`{"name":%q,"county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`,
			name, codes[i])).str("employer_id")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	}
	e.waitViews(t, e.count()) // the list is read from the views as they stand
	a := e.raw(t, http.MethodGet, "/v1/counties/360702/arrears-list.pdf?as_of=2006-06-30", tokAuditor, "")
	if a.status != http.StatusOK {
		t.Fatalf("the list: %d %.300s", a.status, a.body)
	}
	text := pdfText(t, a.body)
	for _, w := range []string{"甲厂", "赣州市□龙机械厂", codes[1], "“□”是本名单字库印不出的字"} {
		if !strings.Contains(text, w) {
			t.Errorf("the list does not print %q:\n%s", w, text)
		}
	}
}
