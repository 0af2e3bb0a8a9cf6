package documents

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// wrapped wraps s at every width from chars characters' to the whole's, as the current printing
// does (OwnWriterKeepTogether), at size points, and calls check with each width's lines, after
// checking that they make s and that no line but one of a single character is wider.
func wrapped(t *testing.T, s string, size float64, chars int, check func(w *writer, width float64, lines []string)) {
	t.Helper()
	face, err := songtiFace()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := face.subset([]rune(s))
	if err != nil {
		t.Fatal(err)
	}
	if !Printings[0].keepTogether() || !Printings[0].lineRules() {
		t.Fatalf("the current printing %d does not keep runs and marks together", Printings[0])
	}
	w := &writer{font: sub, size: size, lineRules: Printings[0].lineRules(), keepTogether: Printings[0].keepTogether()}
	full := w.width(s)
	for width := full / float64(len([]rune(s))) * float64(chars); width < full; width += 0.25 {
		lines := w.wrap(s, width)
		if strings.Join(lines, "") != s {
			t.Fatalf("width %.2f: lines %q do not make the text", width, lines)
		}
		for i, l := range lines {
			if i > 0 && w.width(l) > width && len([]rune(l)) > 1 {
				t.Errorf("width %.2f: line %d is %.2f mm wide: %q", width, i+1, w.width(l), lines)
			}
		}
		check(w, width, lines)
	}
}

// The rule "no break inside a run": the current printing breaks no line between two of the
// characters of an amount, a date or a code (digits, Latin letters and . , : / - % ‰) unless the
// run alone is wider than the line; a statement printed "养老保险 1,11⏎8.60 元", a bulletin
// "（36⏎0725）", a void note "2⏎006-07".
func TestRuleNoBreakInsideARunOfDigitsAndLetters(t *testing.T) {
	for _, tc := range []struct {
		name, s string
		size    float64
	}{
		{"an amount", "分配：养老保险 1,118.60 元；医疗保险 234.56 元；失业保险 20.00 元；工伤保险 1,234,567.89 元", 11},
		{"a county code", "所在县（市、区）：章贡区（360725）；赣县（360721）；信丰县（360722）；瑞金市（360781）", 11},
		{"a period and a date", "更正事项：第 4711 号 申报 2006-07（2006-08-10，业务编号 0b8e3c2a）：应缴 280.00 元，缴费期限 2006-08-15", 11},
		{"a code and a rate", "统一社会信用代码：91360702MA35000044，按日加收 0.5‰，完成率 101.25%，比率 3/4，时刻 12:30", 9},
		{"a run wider than the line", "哈希：9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f", 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrapped(t, tc.s, tc.size, 6, func(w *writer, width float64, lines []string) {
				for i := 1; i < len(lines); i++ {
					before, after := []rune(lines[i-1]), []rune(lines[i])
					if !joins(before[len(before)-1]) || !joins(after[0]) {
						continue
					}
					// The run the break falls in, whole: wider than the line, it may break.
					a, b := len(before), 0
					for a > 0 && joins(before[a-1]) {
						a--
					}
					for b < len(after) && joins(after[b]) {
						b++
					}
					run := string(before[a:]) + string(after[:b])
					if w.width(run) <= width {
						t.Errorf("width %.2f: %q breaks between lines %d and %d: %q", width, run, i, i+1, lines)
					}
				}
			})
		})
	}
}

// The rule "no closing marks start a line": the current printing starts no line but the first
// with closing punctuation, however many marks come together ("）：", "。」", "”，"): carried
// moved one mark, and a line started "：" after "）" went on; and ends none with an opening one.
// Lines are eight characters wide or more: a narrower one cannot hold "（360702）：" whole, and
// keeps the code whole first (TestRuleNoBreakInsideARunOfDigitsAndLetters).
func TestRuleNoLineStartsWithClosingMarks(t *testing.T) {
	for _, tc := range []struct{ name, s string }{
		{"a bracket and a colon", "所在县（市、区）：章贡区（360702）：缴费单位（集体）：赣州市章贡区机械厂（集体）：明细如下（单位：元）：养老保险"},
		{"a full stop and a quote", "通知称「请于限期内缴纳。」又称「逾期加收滞纳金。」再称「依法申请强制执行。」并称「特此通知。」"},
		{"a quote and a comma", "所谓“欠费”，即“应缴未缴”，包括“本年度”、“以前年度”；“滞纳金”另计！“合计”为二者之和？"},
		{"three marks", "本金（大写）。」：其后（附表）。」；再其后（附件）。」，至此（完）。」！"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrapped(t, tc.s, 10, 8, func(w *writer, width float64, lines []string) {
				checkLineEnds(t, width, lines)
			})
		})
	}
}

// The rule "the signature keeps with what it closes": however long the document, its last page
// prints, besides the signature (the office and the date) and the footer, at least two lines of
// what comes before it. A notice of 15 lines printed its signature alone on its second page.
func TestRuleTheSignatureIsNotAloneOnItsPage(t *testing.T) {
	on := domain.MustDate("2006-12-31")
	payer := Payer{Name: "赣州市章贡区机械厂（集体）", OrgCode: "10000004-0", CountyCode: "360702", CountyName: "章贡区"}
	type printed struct {
		render         func() ([]byte, error)
		office, signed string
	}
	for _, tc := range []struct {
		name  string
		sizes int
		doc   func(n int) printed
	}{
		{"notice", 70, func(n int) printed {
			no := longNotice(n)
			return printed{no.Render, no.Office(), ChineseDate(no.IssuedOn)}
		}},
		{"statement", 45, func(n int) printed {
			st := Statement{From: domain.MustDate("2006-01-01"), To: on, ThroughSeq: 812, Payer: payer}
			for i := range n {
				st.Rows = append(st.Rows, StatementRow{Seq: uint64(100 + i), On: domain.MustDate("2006-01-15") + domain.Date(5*i), What: "缴费 100.00 元",
					Balances: projections.Balances{DueFen: domain.Fen(100000 + 28000*i)}})
			}
			return printed{st.Render, payer.office(), ChineseDate(on)}
		}},
		{"void note", 80, func(n int) printed {
			v := EventDocument{Title: "冲正通知", Seq: 4712, ID: "1c9f4d3b-7a6e-4d2f-8b8c-3e5a7f9b1d2c", Hash: strings.Repeat("9f2c4e6a", 8), On: on, Payer: payer,
				AmountFen: 123456, Corrects: "第 4711 号 缴费（2006-11-20）", Reason: strings.Repeat("收据号录入错误，", 4*n), VoidedBy: 4800}
			return printed{v.Render, payer.office(), ChineseDate(on)}
		}},
		{"publicity list", 60, func(n int) printed {
			l := PublicityList{CountyCode: "360702", CountyName: "章贡区", AsOf: on, AboveFen: 1000000}
			for i := range n {
				l.Rows = append(l.Rows, PublicityRow{Name: "赣州市章贡区第" + strconv.Itoa(i+1) + "机械厂", Code: fmt.Sprintf("91360702MA%08d", 35000000+i),
					ArrearsCurrentYearFen: 1234567, MonthsOverdue: 12, Oldest: domain.MustPeriod("2005-01"), Stage: "通知"})
			}
			return printed{l.Render, "章贡区社会保险事业管理局", ChineseDate(on)}
		}},
		{"bulletin", 40, func(n int) printed {
			b := Bulletin{FreezeID: "frz-2006-12", ThroughSeq: 88123, ValidThrough: on, Period: domain.MustPeriod("2006-11"), Scope: "全市",
				Total: figures("", "合计", 10), Measures: []string{"扩面"}, Weighting: "扩面 100%"}
			for i := range n {
				b.Counties = append(b.Counties, figures(strconv.Itoa(360700+i), "第"+strconv.Itoa(i+1)+"县", 1))
			}
			return printed{b.Render, bureau(""), ChineseDate(on)}
		}},
		{"monthly report", 30, func(n int) printed {
			m := MonthlyReport{Month: domain.MustPeriod("2006-12"), AsOf: on, Period: domain.MustPeriod("2006-11"), Seq: 88123, Scope: "全市",
				Total: figures("", "合计", 10), TotalName: "全市合计"}
			for i := range n {
				m.Counties = append(m.Counties, figures(strconv.Itoa(360700+i), "第"+strconv.Itoa(i+1)+"县", 1))
			}
			return printed{m.Render, bureau(""), ChineseDate(on)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for n := range tc.sizes {
				p := tc.doc(n)
				pdf, err := p.render()
				if err != nil {
					t.Fatal(err)
				}
				pages := strings.Split(strings.TrimRight(string(poppler(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8", "-", "-")), "\f\n"), "\f")
				var rest []string
				for _, l := range strings.Split(pages[len(pages)-1], "\n") {
					if l = strings.TrimSpace(l); l != "" && l != p.office && l != p.signed && !strings.Contains(l, "共 "+strconv.Itoa(len(pages))+" 页") {
						rest = append(rest, l)
					}
				}
				if pageOf(pages, p.office) != len(pages)-1 || len(rest) < 2 {
					t.Errorf("%d: the signature is on page %d of %d with %d other lines: %q", n, pageOf(pages, p.office)+1, len(pages), len(rest), rest)
				}
			}
		})
	}
}
