package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
)

// monthlyAnswer is GET /v1/reports/monthly/{month}?format=json.
type monthlyAnswer struct {
	Month    string     `json:"month"`
	Seq      uint64     `json:"seq"`
	AsOf     string     `json:"as_of"`
	Period   string     `json:"period"`
	Counties []*figures `json:"counties"`
	City     *figures   `json:"city"`
}

// monthlyPDF fetches the monthly report as a PDF, failing the test unless it is one, named as
// a download of the month; it returns the bytes and their text.
func (e *env) monthlyPDF(t testing.TB, month, query, token string) ([]byte, string) {
	t.Helper()
	path := "/v1/reports/monthly/" + month + "?format=pdf" + query
	a := e.raw(t, http.MethodGet, path, token, "")
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(a.body, []byte("%PDF-")) {
		t.Fatalf("GET %s: %d %s %.300s", path, a.status, a.header.Get("Content-Type"), a.body)
	}
	if got, want := a.header.Get("Content-Disposition"), `attachment; filename="kuozheng-monthly-`+month+`.pdf"`; got != want {
		t.Errorf("GET %s: Content-Disposition %q, want %q", path, got, want)
	}
	if got := a.header.Get("X-Document-SHA256"); got != sha(a.body) {
		t.Errorf("GET %s: X-Document-SHA256 %q, the body's is %s", path, got, sha(a.body))
	}
	return a.body, pdfText(t, a.body)
}

// percentCell is a rate as the report prints it: the csv's basis points as a percentage with two
// decimals, － when the denominator is 0.
func percentCell(num, den int64) string {
	bp := bpHalfUp(num, den)
	if bp == "" {
		return "－"
	}
	n, _ := strconv.ParseInt(bp, 10, 64)
	return fmt.Sprintf("%d.%02d%%", n/100, n%100)
}

func yuanCell(fen int64) string { return documents.Yuan(domain.Fen(fen)) }

// monthlyCells are the cells of an insurance's figures in the report's two tables: coverage and
// the period's collection; cumulative collection, arrears and recovery.
func monthlyCells(x *insFigures) (coverage, arrears []string) {
	return []string{i64s(x.Insured), i64s(x.ShouldInsure), percentCell(x.Insured, x.ShouldInsure), i64s(x.PaidInsured),
			percentCell(x.PaidInsured, x.Insured), yuanCell(x.PeriodDueFen), yuanCell(x.PeriodCollectedFen),
			percentCell(x.PeriodCollectedFen, x.PeriodDueFen)},
		[]string{yuanCell(x.CumulativeDueFen), yuanCell(x.CumulativeCollectedFen), percentCell(x.CumulativeCollectedFen, x.CumulativeDueFen),
			yuanCell(x.ArrearsCurrentYearFen), yuanCell(x.ArrearsPriorYearsFen), yuanCell(x.RecoveredFen)}
}

// monthlyTables cuts the report's text into its tables, each from its heading to the next: the
// total's two, then two per insurance. Each table is the set of its lines, spaces trimmed.
func monthlyTables(t testing.TB, text string) map[string]map[string]bool {
	t.Helper()
	headings := []string{"（一）参保、缴费人数与当期征缴", "（二）累计征缴、欠费与清欠"}
	for _, ins := range domain.Insurances {
		name := documents.InsuranceName(ins)
		headings = append(headings, "（一）"+name+"：参保、缴费人数与当期征缴", "（二）"+name+"：累计征缴、欠费与清欠")
	}
	tables := map[string]map[string]bool{}
	at := 0
	for i, h := range headings {
		j := strings.Index(text[at:], h)
		if j < 0 {
			t.Fatalf("no heading %q after the %d before it:\n%s", h, i, text)
		}
		at += j + len(h)
		end := len(text)
		if i+1 < len(headings) {
			if k := strings.Index(text[at:], headings[i+1]); k >= 0 {
				end = at + k
			}
		}
		lines := map[string]bool{}
		for _, l := range strings.Split(text[at:end], "\n") {
			lines[strings.TrimSpace(l)] = true
		}
		tables[h] = lines
	}
	return tables
}

// wantMonthlyPDF checks a monthly report's text against its JSON answer: the header states the
// month, as_of, period and sequence (and the freeze, when given); the total's tables give each
// insurance's total under name; each insurance's two tables give every county's row, code, name
// and figures, then the total row, and no other county.
func wantMonthlyPDF(t *testing.T, text string, j monthlyAnswer, scope, total string, f *manifest) {
	t.Helper()
	month := domain.MustPeriod(j.Month)
	asOf := domain.MustDate(j.AsOf)
	want := []string{
		fmt.Sprintf("社会保险扩面征缴月报（%d年%d月）", month.Year(), month.Month()),
		"报告月份：" + j.Month, "数据截至：" + documents.ChineseDate(asOf) + " 核算期",
		"核算期（当期）：" + j.Period, "范围：" + scope, fmt.Sprintf("S=%d", j.Seq), "一、各险种汇总（" + total + "）",
	}
	if f != nil {
		want = append(want, fmt.Sprintf("数据来源：冻结 %s，账本序列 S=%d", f.ID, f.ThroughSeq), "冻结摘要："+f.Digest)
	} else {
		want = append(want, fmt.Sprintf("数据来源：实时台账，账本序列 S=%d（未冻结：此后记录的事项可能改变本月数字", j.Seq))
	}
	// A Chinese document, its date in Chinese; and live figures promise no reprint at their
	// sequence (the report cannot be asked through one).
	for _, w := range []string{"as_of", "同一序列打印相同内容"} {
		if strings.Contains(text, w) {
			t.Errorf("the report prints %q:\n%s", w, text)
		}
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the report does not print %q:\n%s", w, text)
		}
	}
	// Every page's footer: the month, the day, the source, its number of the count.
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	for i, p := range pages {
		if w := fmt.Sprintf("第 %d 页 共 %d 页", i+1, len(pages)); !strings.Contains(p, w) || !strings.Contains(p, "月报 "+j.Month+"（截至"+documents.ChineseDate(asOf)) {
			t.Errorf("page %d does not end with the footer %q:\n%s", i+1, w, p)
		}
	}

	tables := monthlyTables(t, text)
	row := func(table string, cells ...string) {
		t.Helper()
		if r := strings.Join(cells, " "); !tables[table][r] {
			t.Errorf("table %s has no row %q", table, r)
		}
	}
	for _, ins := range domain.Insurances {
		name := documents.InsuranceName(ins)
		cov, arr := monthlyCells(j.City.Insurances[string(ins)])
		row("（一）参保、缴费人数与当期征缴", append([]string{name}, cov...)...)
		row("（二）累计征缴、欠费与清欠", append([]string{name}, arr...)...)
		covT, arrT := "（一）"+name+"：参保、缴费人数与当期征缴", "（二）"+name+"：累计征缴、欠费与清欠"
		for _, c := range j.Counties {
			cov, arr := monthlyCells(c.Insurances[string(ins)])
			row(covT, append([]string{c.Code, c.Name}, cov...)...)
			row(arrT, append([]string{c.Code, c.Name}, arr...)...)
		}
		row(covT, append([]string{total}, cov...)...)
		row(arrT, append([]string{total}, arr...)...)
		// The rows with a county code are the answer's counties, no more.
		for _, table := range []string{covT, arrT} {
			n := 0
			for l := range tables[table] {
				if code, _, _ := strings.Cut(l, " "); len(code) == 6 && strings.Trim(code, "0123456789") == "" {
					n++
				}
			}
			if n != len(j.Counties) {
				t.Errorf("table %s has %d county rows, the answer %d counties", table, n, len(j.Counties))
			}
		}
	}
}

// TestMonthlyReportAsPDF prints the monthly report of November on a demo ledger, live and from a
// month-end freeze, for readers of the city, a supervision group and a county, and checks each
// against the JSON answer of the same reader and source: every county's code and name and every
// figure (amounts in yuan, rates as the csv's basis points in percent) in its insurance's table,
// the total row, no county outside the reader's scope, the header and page footers. The same
// request prints the same bytes; a freeze's report does not move after a backdated payment nor
// across a restart, while the live one does; an unknown format is refused naming format, the
// formats and the value clipped.
func TestMonthlyReportAsPDF(t *testing.T) {
	e := newFreezeEnv(t, 60)
	x, due := e.freezeEmployer(t, 99000017, "360702", 2000000)
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, novEnd.String(), 0)
	e.waitViews(t, e.count()) // the live report's sequence is the freeze event's in every read below
	const month = "2006-11"

	city := map[string]string{}
	var all monthlyAnswer
	decode(t, e.get(t, "/v1/reports/monthly/"+month, tokAdmin), &all)
	for _, c := range all.Counties {
		city[c.Code] = c.Name
	}
	if len(city) != 19 {
		t.Fatalf("the city's report has %d counties, want 19", len(city))
	}
	nonzero := map[string]bool{}
	for _, c := range all.Counties {
		for ins, x := range c.Insurances {
			if x.ArrearsCurrentYearFen > 0 {
				nonzero["arrears "+ins] = true
			}
			if x.RecoveredFen > 0 {
				nonzero["recovered "+ins] = true
			}
			if x.Insured == 0 {
				nonzero["no insured"] = true
			}
		}
	}
	t.Logf("the demo ledger's November report has %v", nonzero)

	prints := map[string][]byte{}
	for _, src := range []struct {
		name, query string
		freeze      *manifest
	}{
		{"live", "", nil},
		{"freeze", "&freeze=" + f.ID, &f},
	} {
		for _, rd := range []struct {
			name, token, scope, total string
			counties                  []string
		}{
			{"admin", tokAdmin, "全市", "全市合计", nil},
			{"supervisor of group 1", tokSuper, "本辖区（sup）", "本辖区合计", []string{"360702", "360721", "360724", "360771"}},
			{"clerk of 360702", tokClerkA, "本辖区（a）", "本辖区合计", []string{"360702"}},
		} {
			t.Run(src.name+"/"+rd.name, func(t *testing.T) {
				var j monthlyAnswer
				decode(t, e.get(t, "/v1/reports/monthly/"+month+"?format=json"+src.query, rd.token), &j)
				if src.freeze != nil && j.Seq != f.ThroughSeq {
					t.Fatalf("the freeze's JSON report has seq %d, the freeze S=%d", j.Seq, f.ThroughSeq)
				}
				got := map[string]bool{}
				for _, c := range j.Counties {
					got[c.Code] = true
					wantRatesConsistent(t, c.Code, c)
				}
				wantRatesConsistent(t, "total", j.City)
				if rd.counties != nil && len(got) != len(rd.counties) {
					t.Fatalf("the JSON report holds counties %v, want %v", got, rd.counties)
				}
				for _, c := range rd.counties {
					if !got[c] {
						t.Fatalf("the JSON report holds counties %v, want %v", got, rd.counties)
					}
				}
				b, text := e.monthlyPDF(t, month, src.query, rd.token)
				prints[src.name+"/"+rd.name] = b
				wantMonthlyPDF(t, text, j, rd.scope, rd.total, src.freeze)
				flat := strings.Join(strings.Fields(text), "")
				for code, name := range city {
					if !got[code] && (strings.Contains(flat, code) || strings.Contains(flat, name)) {
						t.Errorf("the report prints %s (%s), outside the reader's counties", code, name)
					}
				}
				if again, _ := e.monthlyPDF(t, month, src.query, rd.token); !bytes.Equal(again, b) {
					t.Errorf("the same report asked twice: %d bytes (%s), then %d (%s)", len(b), sha(b), len(again), sha(again))
				}
			})
		}
	}

	// A payment backdated into November moves the live report, not the freeze's.
	p := e.pay(t, x, "MP-LATE", due, "2006-11-10", "2006-10")
	e.waitViews(t, p)
	if b, text := e.monthlyPDF(t, month, "", tokAdmin); bytes.Equal(b, prints["live/admin"]) || !strings.Contains(text, fmt.Sprintf("S=%d", p)) {
		t.Errorf("the live report after a payment backdated into November: the same bytes, or not S=%d", p)
	}
	frozen := prints["freeze/admin"]
	if b, _ := e.monthlyPDF(t, month, "&freeze="+f.ID, tokAdmin); !bytes.Equal(b, frozen) {
		t.Errorf("the freeze's report moved after a backdated payment: %s, then %s", sha(frozen), sha(b))
	}
	e.restart()
	e.runner = startRunner(t, e.l.Store)
	e.serve()
	if b, _ := e.monthlyPDF(t, month, "&freeze="+f.ID, tokAdmin); !bytes.Equal(b, frozen) {
		t.Errorf("the freeze's report after a restart: %s, before %s", sha(b), sha(frozen))
	}

	for _, format := range []string{"docx", "PDF", "pdf,csv", strings.Repeat("pdf", 400)} {
		r := e.get(t, "/v1/reports/monthly/"+month+"?format="+format, tokAdmin)
		wantError(t, r, http.StatusBadRequest, "invalid", "format")
		if d := r.str("detail"); !strings.Contains(d, "json, csv, xlsx or pdf") || len(d) > 200 {
			t.Errorf("format %.20q: detail %q, want the formats listed and the value clipped", format, d)
		}
	}
}
