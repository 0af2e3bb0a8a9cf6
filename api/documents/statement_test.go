package documents

import (
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

// TestAStatementKeepsItsTotalsAndSignOffOnOnePage: however many rows fill the pages before,
// the closing totals, the office and the date print on one page; with 8 rows the date alone was
// printed on a second page.
func TestAStatementKeepsItsTotalsAndSignOffOnOnePage(t *testing.T) {
	payer := Payer{Name: "赣州市章贡区机械厂（集体）", OrgCode: "10000004-0", CountyCode: "360702", CountyName: "章贡区"}
	for n := range 40 {
		st := Statement{From: domain.MustDate("2006-01-01"), To: domain.MustDate("2006-12-31"), ThroughSeq: 812, Payer: payer}
		for i := range n {
			st.Rows = append(st.Rows, StatementRow{Seq: uint64(100 + i), On: domain.MustDate("2006-01-15") + domain.Date(5*i), What: "缴费 100.00 元",
				Balances: projections.Balances{DueFen: domain.Fen(100000 + 28000*i)}})
		}
		pdf, err := st.Render()
		if err != nil {
			t.Fatal(err)
		}
		pages := strings.Split(string(poppler(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8", "-", "-")), "\f")
		for _, want := range []string{"截至2006年12月31日：", "溢缴余额：人民币", payer.office()} {
			if i := pageOf(pages, want); i != pageOf(pages, "2006年12月31日\n") {
				t.Errorf("%d rows: %q is on page %d, the date that signs off on page %d", n, want, i+1, pageOf(pages, "2006年12月31日\n")+1)
			}
		}
	}
}

// pageOf is the index of the last page holding s, -1 for none.
func pageOf(pages []string, s string) int {
	for i := len(pages) - 1; i >= 0; i-- {
		if strings.Contains(pages[i], s) {
			return i
		}
	}
	return -1
}

// Every event an employer's statement can print has a name in Chinese, not its code.
func TestEveryEmployerEventHasADocumentName(t *testing.T) {
	for _, typ := range domain.EventTypes() {
		if strings.HasPrefix(typ, "reference.") || strings.HasPrefix(typ, "freeze.") || strings.HasPrefix(typ, "province.") || strings.HasPrefix(typ, "year.") {
			continue // not an employer's: no statement prints it
		}
		if EventName(typ) == typ {
			t.Errorf("event type %s has no name in documents", typ)
		}
	}
}

// A statement's row names an enforcement step and its document (and a notice's deadline), and
// a survey by the desk's word, 摸底调查, with the count it found; every step and stage has a name.
func TestAStatementNamesEnforcementStepsAndSurveys(t *testing.T) {
	for _, s := range append([]string{domain.StageNone, domain.StageClosed}, domain.EnforcementSteps...) {
		if StepName(s) == s {
			t.Errorf("enforcement step or stage %s has no name in documents", s)
		}
	}
	d := domain.MustDate
	for _, tc := range []struct {
		body domain.Payload
		want string
	}{
		{domain.EnforcementStepRecorded{Step: domain.StepNotice, On: d("2006-07-01"), DocNo: "赣社征〔2006〕章贡-0001", Deadline: d("2006-07-15")},
			"执法：催缴通知，文号 赣社征〔2006〕章贡-0001，限期 2006-07-15"},
		{domain.EnforcementStepRecorded{Step: domain.StepCourtResult, On: d("2006-11-01"), DocNo: "（2006）章执字第12号"},
			"执法：法院裁决，文号 （2006）章执字第12号"},
		{domain.SurveyCounted{AsOf: d("2006-03-31"), Workforce: 40, Migrants: 15}, "摸底调查，截至 2006-03-31 职工 40 人（农民工 15 人）"},
	} {
		if got, fen := describe(domain.Event{Envelope: domain.Envelope{Type: tc.body.EventType()}, Body: tc.body}, nil, nil); got != tc.want || fen != 0 {
			t.Errorf("%T reads %q (%d fen), want %q", tc.body, got, fen, tc.want)
		}
	}
}

// A statement's transfer row names the counties the payer left and went to, by name and code.
func TestAStatementNamesATransfersCounties(t *testing.T) {
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	body := domain.EmployerTransferred{On: domain.MustDate("2006-09-01"), From: "360702", To: "360722"}
	got, fen := describe(domain.Event{Envelope: domain.Envelope{Type: body.EventType()}, Body: body}, nil, ref)
	if want := "转移：由 章贡区（360702） 转至 信丰县（360722）"; got != want || fen != 0 {
		t.Errorf("a transfer reads %q (%d fen), want %q", got, fen, want)
	}
	// Its void too, read from the transfer among the payer's events.
	raw := []eventstore.RawEvent{{Event: domain.Event{Envelope: domain.Envelope{Type: body.EventType(), Seq: 7}, Body: body}}}
	void := domain.EventVoided{TargetSeq: 7, TargetType: body.EventType(), TargetOn: body.On, Reason: "误录"}
	got, _ = describe(domain.Event{Envelope: domain.Envelope{Type: void.EventType(), Seq: 9}, Body: void}, raw, ref)
	if want := "冲正 第 7 号 转移（2006-09-01，由 章贡区（360702） 转至 信丰县（360722））：误录"; got != want {
		t.Errorf("a transfer's void reads %q, want %q", got, want)
	}
}

// An official document in Chinese words an assessment's reason, never the API's code for it.
func TestAStatementWordsAnAssessmentsReason(t *testing.T) {
	for reason, want := range map[string]string{domain.AssessNoDeclaration: "（养老保险 308.00；未申报核定）",
		domain.AssessAudit: "（养老保险 308.00；稽核核定）"} {
		body := domain.AssessmentMade{Period: domain.MustPeriod("2006-05"), Reason: reason, DueOn: domain.MustDate("2006-06-15"),
			Lines: []domain.AssessedLine{{Insurance: domain.Pension, DueFen: 30800}}}
		got, fen := describe(domain.Event{Envelope: domain.Envelope{Type: body.EventType()}, Body: body}, nil, nil)
		if !strings.HasSuffix(got, want) || fen != 30800 {
			t.Errorf("an assessment for %s reads %q (%d fen), want it to end %q", reason, got, fen, want)
		}
	}
}

// A line the current printing prints neither starts with closing punctuation nor ends with
// opening punctuation (避头尾): the character before goes on to the next line with it.
func TestPrintedLinesKeepPunctuationWhereChineseTypesettingDoes(t *testing.T) {
	for name, s := range map[string]string{
		"a full stop that does not fit":      "缴费期限为2006年12月31日。逾期不缴的，依法加收滞纳金。",
		"an opening bracket at a line's end": "欠缴本金共计人民币（大写）伍佰玖拾壹元玖角陆分（591.96 元）",
	} {
		tc := struct{ name, s string }{name, s}
		t.Run(tc.name, func(t *testing.T) {
			face, err := songtiFace()
			if err != nil {
				t.Fatal(err)
			}
			sub, err := face.subset([]rune(tc.s))
			if err != nil {
				t.Fatal(err)
			}
			w := &writer{font: sub, size: 10, lineRules: true}
			// Every width from four characters to the whole: some break falls on punctuation.
			full := w.width(tc.s)
			for width := full / float64(len([]rune(tc.s))) * 4; width < full; width += 0.5 {
				lines := w.wrap(tc.s, width)
				if strings.Join(lines, "") != tc.s {
					t.Fatalf("width %.1f: lines %q do not make the text", width, lines)
				}
				checkLineEnds(t, width, lines)
			}
		})
	}
}

// checkLineEnds wants no line of lines, wrapped to width, to start with a mark that may not
// start one, nor any but the last to end with one that may not end one.
func checkLineEnds(t *testing.T, width float64, lines []string) {
	t.Helper()
	for i, l := range lines {
		r := []rune(l)
		if i > 0 && strings.ContainsRune(noLineStart, r[0]) {
			t.Errorf("width %.2f: line %d starts with %q: %q", width, i+1, r[0], lines)
		}
		if i < len(lines)-1 && strings.ContainsRune(noLineEnd, r[len(r)-1]) {
			t.Errorf("width %.2f: line %d ends with %q: %q", width, i+1, r[len(r)-1], lines)
		}
	}
}

// TestAnAmountWiderThanItsCellPrintsWholeWithinIt: a statement's balance of 100,000,000.00 yuan
// and a publicity list's total of 1,233,124,551.52 read back whole, each a word of its own:
// printed smaller to fit its cell. The printing before ran the first into the cell to its left
// ("0.00100,000,000.00") and wrapped the second ("1,233,124,551.5" over "2").
func TestAnAmountWiderThanItsCellPrintsWholeWithinIt(t *testing.T) {
	words := func(pdf []byte) []string {
		return strings.Fields(string(poppler(t, pdf, "pdftotext", "-enc", "UTF-8", "-", "-")))
	}
	st := Statement{From: domain.MustDate("2012-01-01"), To: domain.MustDate("2012-06-30"), ThroughSeq: 9,
		Payer:   Payer{Name: "赣州市大额欠费公司", OrgCode: "10000004-0", CountyCode: "360702", CountyName: "章贡区"},
		Opening: projections.Balances{DueFen: 10_000_000_000, OutstandingFen: 10_000_000_000, LateFeeFen: 9_876_543_210}}
	st.Closing = st.Opening
	list := PublicityList{CountyCode: "360702", CountyName: "章贡区", AsOf: domain.MustDate("2012-06-30"), Seq: 9}
	for range 2 {
		list.Rows = append(list.Rows, PublicityRow{Name: "大额欠费单位", Code: "10000004-0", ArrearsCurrentYearFen: 61_656_227_576,
			MonthsOverdue: 6, Oldest: domain.MustPeriod("2012-01"), Stage: "未采取措施"})
	}
	for _, p := range []Printing{Printings[0], OwnWriterPersons} {
		fits := p == Printings[0]
		pdf, err := st.RenderAs(p)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(words(pdf), func(w string) bool { return w != "100,000,000.00" && strings.Contains(w, "100,000,000.00") }); (i < 0) != fits {
			t.Errorf("printing %d: the statement runs 100,000,000.00 into another cell: %v, want %v", p, i >= 0, !fits)
		}
		if pdf, err = list.RenderAs(p); err != nil {
			t.Fatal(err)
		}
		if cut := slices.Contains(words(pdf), "1,233,124,551.5"); cut == fits || slices.Contains(words(pdf), "1,233,124,551.52") != fits {
			t.Errorf("printing %d: the list cuts its total 1,233,124,551.52: %v, want %v", p, cut, !fits)
		}
	}
}
