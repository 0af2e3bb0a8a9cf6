package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/api/importer/xlsxtest"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/xuri/excelize/v2"
)

// payments returns the payments recorded for the employer of org, by receipt number.
func payments(t *testing.T, l *storetest.Ledger, org string) map[string]domain.Fen {
	t.Helper()
	raw, err := l.Store.History(context.Background(), domain.EmployerIDForOrgCode(org))
	if err != nil {
		t.Fatal(err)
	}
	paid := map[string]domain.Fen{}
	for _, ev := range raw {
		if p, ok := ev.Body.(domain.PaymentReceived); ok {
			paid[p.ReceiptNo] = p.AmountFen
		}
	}
	return paid
}

// rejectsByRow maps each rejected row's line to its reason.
func rejectsByRow(r *importer.Report) map[int]string {
	m := map[int]string{}
	for _, rj := range r.Rejected {
		m[rj.Row] = rj.Reason
	}
	return m
}

// TestARowWithMoreValuesThanItsHeaderIsRefused: a CSV row with values past its header's columns
// has had a value move a column (an amount written 1,234 without quotes read as an amount of 1
// and a receipt number 234): it is refused, naming the counts, even when what spilled past the
// header is empty (1,234.50 unquoted before an empty optional column). Quoted commas are read,
// and so are a spreadsheet's trailing commas when its header has them too.
func TestARowWithMoreValuesThanItsHeaderIsRefused(t *testing.T) {
	l := hundredPayers(t)
	org := orgCode(5000)
	file := "组织机构代码,缴费日期,金额(分),票据号\n" +
		org + ",2006-08-02,1,234,RAG-2\n" + // line 2: moved
		org + ",2006-08-02,700,\"RAG,001\"\n" + // line 3: quoted
		org + ",2006-08-02,\"1,234\",RAG-3,,\n" // line 4: past the header, empty
	r := load(t, l.Store, "payments.csv", []byte(file), importer.Options{})
	rejected := rejectsByRow(r)
	if r.Imported != 1 || len(rejected) != 2 || !strings.Contains(rejected[2], "the row has 5 values where the header has 4 columns") || !strings.Contains(rejected[4], "the row has 6 values") {
		t.Fatalf("imported %d, rejected %v; want lines 2 and 4 refused for their values, line 3 imported", r.Imported, rejected)
	}
	moved := "组织机构代码,缴费日期,金额(元),票据号,备注\n" + org + ",2006-08-02,1,234.50,R-77,\n"
	if r := load(t, l.Store, "payments.csv", []byte(moved), importer.Options{}); r.Imported != 0 || len(r.Rejected) != 1 {
		t.Fatalf("1,234.50 unquoted before an empty remark: %+v; want it refused", r)
	}
	padded := "组织机构代码,缴费日期,金额(分),票据号,,\n" + org + ",2006-08-02,\"1,234\",RAG-3,,\n"
	if r := load(t, l.Store, "payments.csv", []byte(padded), importer.Options{}); r.Imported != 1 {
		t.Fatalf("trailing commas in the header and its rows: %+v; want the row imported", r)
	}
	paid := payments(t, l, org)
	if len(paid) != 2 || paid["RAG,001"] != 700 || paid["RAG-3"] != 1234 {
		t.Fatalf("payments %v; want RAG,001 of 700 and RAG-3 of 1234 fen", paid)
	}
}

// TestAnAmountsColumnSaysItsUnit: an amount's column says whether it holds fen or yuan.
// 缴费基数 or 缴费金额 alone refuse the file (a base typed in yuan and read as fen is recorded a
// hundred times too small); a column in yuan is read to the fen exactly, and refuses a value
// with more than two decimals.
func TestAnAmountsColumnSaysItsUnit(t *testing.T) {
	l := hundredPayers(t)
	for _, tt := range []struct{ name, file string }{
		{"payments.csv", "组织机构代码,缴费日期,缴费金额,票据号\n" + orgCode(5000) + ",2006-08-02,3600,U-1\n"},
		{"declarations.csv", "组织机构代码,申报日期,所属期,险种,参保人数,缴费基数\n" + orgCode(5000) + ",2006-07-05,2006-06,养老,31,24800\n"},
	} {
		_, err := importer.Import(context.Background(), l.Store, open(t, tt.name, []byte(tt.file)), importer.Options{Today: today})
		if err == nil || !strings.Contains(err.Error(), "does not say its unit") || !strings.Contains(err.Error(), "(元) if it holds yuan") {
			t.Errorf("%s: %v; want it refused for a column without its unit", tt.name, err)
		}
	}
	if paid := payments(t, l, orgCode(5000)); len(paid) != 0 {
		t.Fatalf("recorded %v from refused files", paid)
	}

	org := orgCode(5001)
	file := "组织机构代码,缴费日期,金额(元),票据号\n" +
		org + ",2006-08-02,\"1,234.50\",Y-1\n" +
		org + ",2006-08-02,36,Y-2\n" +
		org + ",2006-08-02,0.07,Y-3\n" +
		org + ",2006-08-02,１２.３０,Y-4\n" +
		org + ",2006-08-02,12.345,Y-5\n" + // line 6: below the fen
		org + ",2006-08-02,12.3.4,Y-6\n" + // line 7: no number
		org + ",2006-08-02,1e3,Y-7\n" + // line 8: a float's form, not an amount
		org + ",2006-08-02,＋１２,Y-8\n" + // line 9: 12 yuan, not 12 fen
		org + ",2006-08-02,-12.50,Y-9\n" + // line 10: below 0, said in yuan
		org + ",2006-08-02,-0.00,Y-11\n" + // line 11: 0, not below it (and no amount to pay)
		org + ",2006-08-02,99999999999999,Y-10\n" // line 12: above the most, said in yuan
	r := load(t, l.Store, "payments.csv", []byte(file), importer.Options{})
	rejected := rejectsByRow(r)
	if r.Imported != 5 || len(rejected) != 6 || !strings.Contains(rejected[6], "12.345 yuan is not a whole number of fen") ||
		!strings.Contains(rejected[7], "12.3.4 is not an amount in yuan") || !strings.Contains(rejected[8], "1e3 is not an amount in yuan") ||
		!strings.Contains(rejected[10], "-12.50 yuan is below 0") || strings.Contains(rejected[11], "below 0") ||
		!strings.Contains(rejected[12], "99999999999999 yuan is above the most an amount may be, 10000000000.00 yuan") {
		t.Fatalf("imported %d, rejected %v; want lines 6 to 8 and 10 to 12 refused, -0.00 not as below 0", r.Imported, rejected)
	}
	want := map[string]domain.Fen{"Y-1": 123450, "Y-2": 3600, "Y-3": 7, "Y-4": 1230, "Y-8": 1200}
	if paid := payments(t, l, org); fmt.Sprint(paid) != fmt.Sprint(want) {
		t.Fatalf("payments %v, want %v", paid, want)
	}

	decls := "组织机构代码,申报日期,所属期,险种,参保人数,缴费基数(元)\n" + org + ",2006-07-05,2006-06,养老,31,24800\n"
	if r := load(t, l.Store, "declarations.csv", []byte(decls), importer.Options{}); r.Imported != 1 {
		t.Fatalf("declaration in yuan: %+v", r)
	}
	e, _ := l.Store.Employer(domain.EmployerIDForOrgCode(org))
	st := e.Account.Statement(today, l.Store.Reference().LateFees)
	if line, ok := st.Line(domain.LineKey{Period: domain.MustPeriod("2006-06"), Insurance: domain.Pension}); !ok || line.DueFen != 694400 {
		t.Fatalf("2006-06 pension %+v; want 6,944.00 yuan due (28%% of a base of 24,800.00 yuan)", line)
	}
}

// creditCodeOf is a valid credit code holding the organisation code org.
func creditCodeOf(t *testing.T, org string) string {
	t.Helper()
	body := "91360702" + strings.ReplaceAll(org, "-", "")
	c, err := domain.CreditCodeCheck(body)
	if err != nil {
		t.Fatal(err)
	}
	return body + string(c)
}

// TestARowNamingTwoEmployersIsRefused: a row that names its employer more than once (its id,
// credit code and organisation code) is read only when all of them name the same employer: the
// one read first used to win, and a payment went to an employer the clerk did not see named.
func TestARowNamingTwoEmployersIsRefused(t *testing.T) {
	l := hundredPayers(t)
	a, b := orgCode(5000), orgCode(5001)
	idA, idB := domain.EmployerIDForOrgCode(a), domain.EmployerIDForOrgCode(b)
	file := "组织机构代码,统一社会信用代码,employer_id,缴费日期,金额(分),票据号\n" +
		a + ",," + idB + ",2006-08-02,100,M-1\n" + // line 2: two employers
		a + "," + creditCodeOf(t, b) + ",,2006-08-02,100,M-2\n" + // line 3: two employers
		a + "," + creditCodeOf(t, a) + "," + idA + ",2006-08-02,100,M-3\n" + // line 4: one, three times
		",," + idB + ",2006-08-02,100,M-4\n" + // line 5: the id alone
		",," + strings.ToUpper(idB) + ",2006-08-02,100,M-5\n" + // line 6: the id in upper case, the same
		a + ",," + strings.ToUpper(idA) + ",2006-08-02,100,M-6\n" // line 7: so beside its code
	r := load(t, l.Store, "payments.csv", []byte(file), importer.Options{})
	rejected := rejectsByRow(r)
	if r.Imported != 4 || len(rejected) != 2 || !strings.Contains(rejected[2], "names another employer than the org code "+a) ||
		!strings.Contains(rejected[3], "is not the organisation code within the credit code") {
		t.Fatalf("imported %d, rejected %v; want lines 2 and 3 refused as naming two employers", r.Imported, rejected)
	}
	if pa, pb := payments(t, l, a), payments(t, l, b); len(pa) != 2 || pa["M-3"] != 100 || pa["M-6"] != 100 || len(pb) != 2 || pb["M-4"] != 100 || pb["M-5"] != 100 {
		t.Fatalf("payments of a %v, of b %v; want M-3 and M-6 to a, M-4 and M-5 to b", pa, pb)
	}
}

// TestAWorkbookCellIsReadAsTheNumberItHolds: an amount is the number its cell holds, not the
// one its format rounds it to: 12.6 shown as 13 is refused as no whole number of fen, 1234 shown
// as 1,234.00 is 1234. A cell that shows more than a number (¥1,234.00) is read as shown, and
// refused, rather than taken for an amount the clerk does not see.
func TestAWorkbookCellIsReadAsTheNumberItHolds(t *testing.T) {
	l := hundredPayers(t)
	org := orgCode(5002)
	cases := []struct {
		format string
		value  float64
		fen    domain.Fen // 0: refused
	}{
		{"0", 12.6, 0},
		{"#,##0", 1234.4, 0},
		{"#,##0.00", 1234, 1234},
		{"0.00", 700, 700},
		{`"¥"#,##0.00`, 1234, 0},
		{"", 900, 900},
	}
	rows := [][]any{{"组织机构代码", "缴费日期", "金额(分)", "票据号"}}
	styles := map[string]*excelize.Style{}
	for i, c := range cases {
		rows = append(rows, []any{org, "2006-08-02", c.value, fmt.Sprint("W-", i)})
		if c.format != "" {
			styles[fmt.Sprint("C", i+2)] = &excelize.Style{CustomNumFmt: ptr(c.format)}
		}
	}
	r := load(t, l.Store, "payments.xlsx", workbookOf(t, rows, styles), importer.Options{})
	paid, rejected := payments(t, l, org), rejectsByRow(r)
	for i, c := range cases {
		got, recorded := paid[fmt.Sprint("W-", i)]
		if c.fen == 0 && (recorded || rejected[i+2] == "") || c.fen != 0 && got != c.fen {
			t.Errorf("%v formatted %q: recorded %v (%d fen), refused %q; want %d fen (0: refused)", c.value, c.format, recorded, got, rejected[i+2], c.fen)
		}
	}
	if !strings.Contains(rejected[2], "the cell shows 13 but holds 12.6") {
		t.Errorf("12.6 shown as 13 refused with %q; want what it shows and holds named", rejected[2])
	}

	// A cell holds the float nearest what was typed or computed: 14.2 is stored 14.199999999999999,
	// 0.1+0.2 0.30000000000000004; a spreadsheet shows and counts them as 14.2 and 0.3, and so
	// are they read, in yuan to the fen.
	file := xlsxtest.File(xlsxtest.Sheet{Head: xlsxtest.Cells("组织机构代码", "缴费日期", "金额(元)", "票据号") +
		`<row><c t="inlineStr"><is><t>` + org + `</t></is></c><c t="inlineStr"><is><t>2006-08-04</t></is></c><c><v>14.199999999999999</v></c><c t="inlineStr"><is><t>F-1</t></is></c></row>` +
		`<row><c t="inlineStr"><is><t>` + org + `</t></is></c><c t="inlineStr"><is><t>2006-08-04</t></is></c><c><v>0.30000000000000004</v></c><c t="inlineStr"><is><t>F-2</t></is></c></row>`}, nil)
	r = load(t, l.Store, "payments.xlsx", file, importer.Options{})
	if paid = payments(t, l, org); r.Imported != 2 || paid["F-1"] != 1420 || paid["F-2"] != 30 {
		t.Errorf("floats of 14.2 and 0.3 yuan: %+v, paid %v; want 1420 and 30 fen", r, paid)
	}

	// In yuan, 1234.4 is an amount to the fen, but shown 1,234 the clerk does not see it.
	rows = [][]any{{"组织机构代码", "缴费日期", "金额(元)", "票据号"}, {org, "2006-08-03", 1234.4, "V-1"}, {org, "2006-08-03", 1234.5, "V-2"}}
	r = load(t, l.Store, "payments.xlsx", workbookOf(t, rows, map[string]*excelize.Style{"C2": {CustomNumFmt: ptr("#,##0")}, "C3": {CustomNumFmt: ptr("#,##0.00")}}), importer.Options{})
	paid, rejected = payments(t, l, org), rejectsByRow(r)
	if _, recorded := paid["V-1"]; recorded || !strings.Contains(rejected[2], "the cell shows 1,234 but holds 1234.4") || paid["V-2"] != 123450 {
		t.Errorf("yuan cells: rejected %v, paid V-1 %v, V-2 %d; want 1234.4 shown 1,234 refused, 1234.5 shown 1,234.50 paid 123450 fen", rejected, recorded, paid["V-2"])
	}
}

// TestARowRefusedForItsCellsRefusesItsDeclaration: a row refused whatever its values say (values
// past the header, hidden, an amount in yuan below the fen) refuses the declaration it is a
// line of, as a row refused for its values does: recorded without it, the declaration would
// replace the period's whole and drop that line.
func TestARowRefusedForItsCellsRefusesItsDeclaration(t *testing.T) {
	l := hundredPayers(t)
	line := func(org, ins string, base any) []any { return []any{org, "2006-06-05", "2006-05", ins, 10, base} }
	header := []any{"组织机构代码", "申报日期", "所属期", "险种", "参保人数", "缴费基数(元)"}
	a, b, c := orgCode(5010), orgCode(5011), orgCode(5012)
	csvFile := "组织机构代码,申报日期,所属期,险种,参保人数,缴费基数(元)\n" +
		a + ",2006-06-05,2006-05,养老,10,10000\n" + a + ",2006-06-05,2006-05,医疗,10,10000,extra\n" + a + ",2006-06-05,2006-05,失业,10,10000\n" +
		b + ",2006-06-05,2006-05,养老,10,10000\n" + b + ",2006-06-05,2006-05,医疗,10,1000.125\n"
	r := load(t, l.Store, "declarations.csv", []byte(csvFile), importer.Options{})
	if r.Imported != 0 || len(r.Rejected) != 5 {
		t.Errorf("CSV: imported %d, rejected %v; want both declarations refused whole", r.Imported, rejectsByRow(r))
	}
	d := orgCode(5013)
	other := domain.EmployerIDForOrgCode(orgCode(5014))
	named := "组织机构代码,employer_id,申报日期,所属期,险种,参保人数,缴费基数(元)\n" +
		d + ",,2006-06-05,2006-05,养老,10,10000\n" + d + "," + other + ",2006-06-05,2006-05,医疗,10,10000\n" + d + ",,2006-06-05,2006-05,失业,10,10000\n"
	r = load(t, l.Store, "declarations.csv", []byte(named), importer.Options{})
	if rejected := rejectsByRow(r); r.Imported != 0 || len(rejected) != 3 || !strings.Contains(rejected[3], "names another employer") || strings.Contains(rejected[4], "consecutive") {
		t.Errorf("a line naming another employer: imported %d, rejected %v; want the declaration refused whole, its other lines for it", r.Imported, rejected)
	}
	// The code the mistake, the id the declaration's: refused whole too.
	g, h := orgCode(5015), orgCode(5016)
	idG := domain.EmployerIDForOrgCode(g)
	typo := "组织机构代码,employer_id,申报日期,所属期,险种,参保人数,缴费基数(元)\n" +
		g + "," + idG + ",2006-06-05,2006-05,养老,10,10000\n" + h + "," + idG + ",2006-06-05,2006-05,医疗,10,10000\n" + g + "," + idG + ",2006-06-05,2006-05,失业,10,10000\n"
	r = load(t, l.Store, "declarations.csv", []byte(typo), importer.Options{})
	if rejected := rejectsByRow(r); r.Imported != 0 || len(rejected) != 3 {
		t.Errorf("a line whose code is the mistake: imported %d, rejected %v; want the declaration refused whole", r.Imported, rejected)
	}
	credit := "组织机构代码,统一社会信用代码,申报日期,所属期,险种,参保人数,缴费基数(元)\n" +
		"," + creditCodeOf(t, g) + ",2006-06-06,2006-05,养老,10,10000\n" + h + "," + creditCodeOf(t, g) + ",2006-06-06,2006-05,医疗,10,10000\n" +
		"," + creditCodeOf(t, g) + ",2006-06-06,2006-05,失业,10,10000\n"
	r = load(t, l.Store, "declarations.csv", []byte(credit), importer.Options{})
	if rejected := rejectsByRow(r); r.Imported != 0 || len(rejected) != 3 {
		t.Errorf("a line whose org code is not its credit code's: imported %d, rejected %v; want the declaration refused whole", r.Imported, rejected)
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, row := range [][]any{header, line(c, "养老", 10000), line(c, "医疗", 10000), line(c, "失业", 10000)} {
		if err := f.SetSheetRow(sheet, fmt.Sprint("A", i+1), &row); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SetRowVisible(sheet, 3, false); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	r = load(t, l.Store, "declarations.xlsx", buf.Bytes(), importer.Options{})
	if r.Imported != 0 || len(r.Rejected) != 3 {
		t.Errorf("xlsx with its 医疗 line hidden: imported %d, rejected %v; want the declaration refused whole", r.Imported, rejectsByRow(r))
	}
	for _, org := range []string{a, b, c, d, g, h} {
		if e, _ := l.Store.Employer(domain.EmployerIDForOrgCode(org)); e.Declared[domain.MustPeriod("2006-05")] {
			t.Errorf("%s's 2006-05 is declared, though a line of its declaration was refused", org)
		}
	}
}

// TestHiddenRowsAndColumnsAreNotImported: a workbook's row hidden (or filtered out) is refused,
// its other rows imported, and a hidden column that gives a field refuses the file: nothing the
// clerk did not see is imported. A hidden column the file's kind does not read is left aside.
func TestHiddenRowsAndColumnsAreNotImported(t *testing.T) {
	l := hundredPayers(t)
	org := orgCode(5003)
	book := func(hideRow int, hideCol string) []byte {
		f := excelize.NewFile()
		defer f.Close()
		sheet := f.GetSheetName(0)
		rows := [][]any{{"组织机构代码", "缴费日期", "金额(分)", "票据号", "备注"}}
		for i := range 3 {
			rows = append(rows, []any{org, "2006-08-02", 100 + i, fmt.Sprintf("H%s%s-%d", hideCol, fmt.Sprint(hideRow), i), "note"})
		}
		for r, row := range rows {
			if err := f.SetSheetRow(sheet, fmt.Sprint("A", r+1), &row); err != nil {
				t.Fatal(err)
			}
		}
		if hideRow != 0 {
			if err := f.SetRowVisible(sheet, hideRow, false); err != nil {
				t.Fatal(err)
			}
		}
		if hideCol != "" {
			if err := f.SetColVisible(sheet, hideCol, false); err != nil {
				t.Fatal(err)
			}
		}
		buf, err := f.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	r := load(t, l.Store, "payments.xlsx", book(3, ""), importer.Options{})
	if rejected := rejectsByRow(r); r.Imported != 2 || len(rejected) != 1 || !strings.Contains(rejected[3], "row 3 is hidden in the workbook") {
		t.Fatalf("imported %d, rejected %v; want row 3 refused as hidden, rows 2 and 4 imported", r.Imported, rejected)
	}
	if paid := payments(t, l, org); len(paid) != 2 || paid["H3-1"] != 0 {
		t.Fatalf("payments %v; want the hidden row's H3-1 not among them", paid)
	}
	_, err := importer.Import(context.Background(), l.Store, open(t, "payments.xlsx", book(0, "C")), importer.Options{Today: today})
	if err == nil || !strings.Contains(err.Error(), `column 3 ("金额(分)") is hidden in the workbook`) {
		t.Fatalf("a hidden amount column: %v; want the file refused naming it", err)
	}
	if r := load(t, l.Store, "payments.xlsx", book(0, "E"), importer.Options{}); r.Imported != 3 {
		t.Fatalf("a hidden column of notes: %+v; want every row imported", r)
	}

	// Narrowed or lowered to nothing is not seen either.
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, row := range [][]any{{"组织机构代码", "缴费日期", "金额(分)", "票据号"}, {org, "2006-08-03", 100, "Z-1"}, {org, "2006-08-03", 101, "Z-2"}} {
		if err := f.SetSheetRow(sheet, fmt.Sprint("A", i+1), &row); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SetRowHeight(sheet, 3, 0); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	r = load(t, l.Store, "payments.xlsx", buf.Bytes(), importer.Options{})
	if rejected := rejectsByRow(r); r.Imported != 1 || !strings.Contains(rejected[3], "row 3 is hidden") {
		t.Errorf("a row of no height: imported %d, rejected %v; want it refused as hidden", r.Imported, rejected)
	}
	if err := f.SetColWidth(sheet, "C", "C", 0); err != nil {
		t.Fatal(err)
	}
	if buf, err = f.WriteToBuffer(); err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Import(context.Background(), l.Store, open(t, "payments.xlsx", buf.Bytes()), importer.Options{Today: today}); err == nil || !strings.Contains(err.Error(), "is hidden in the workbook") {
		t.Errorf("an amount column of no width: %v; want the file refused naming it", err)
	}
}

// TestHiddenAsAnXMLParserReadsIt: a row or column is hidden however its sheet's XML writes it, as
// a parser (and the spreadsheet program) reads the attribute: a character reference
// (hidden="&#49;"), white space around a value, a size below one point or character, and a sheet
// whose rows or columns are hidden by default is refused whole.
func TestHiddenAsAnXMLParserReadsIt(t *testing.T) {
	l := hundredPayers(t)
	org := orgCode(5020)
	row := func(n int, attrs, receipt string) string {
		return fmt.Sprintf(`<row r="%d" %s><c t="inlineStr"><is><t>%s</t></is></c><c t="inlineStr"><is><t>2006-08-05</t></is></c><c><v>100</v></c><c t="inlineStr"><is><t>%s</t></is></c></row>`, n, attrs, org, receipt)
	}
	head := strings.Replace(xlsxtest.Cells("组织机构代码", "缴费日期", "金额(分)", "票据号"), "<row>", `<row r="1">`, 1)
	book := func(before string, rows ...string) []byte {
		file := xlsxtest.File(xlsxtest.Sheet{Head: head + strings.Join(rows, "")}, nil)
		if before == "" {
			return file
		}
		return replaceInPart(t, file, "xl/worksheets/sheet1.xml", "<sheetData>", before+"<sheetData>")
	}
	r := load(t, l.Store, "payments.xlsx", book("", row(2, `hidden="&#49;"`, "X-1"), row(3, `ht=" 0.5 " customHeight="1"`, "X-2"), row(4, `hidden=" true"`, "X-3"), row(5, `ht="15"`, "X-4")), importer.Options{})
	if rejected := rejectsByRow(r); r.Imported != 1 || len(rejected) != 3 || !strings.Contains(rejected[2], "row 2 is hidden") || !strings.Contains(rejected[3], "row 3 is hidden") || !strings.Contains(rejected[4], "row 4 is hidden") {
		t.Errorf("rows hidden as a parser reads them: imported %d, rejected %v; want rows 2 to 4 refused as hidden", r.Imported, rejected)
	}
	// A row's number written so too: row 5 after row 2, hidden, is refused as row 5.
	gap := strings.Replace(row(5, `hidden="1"`, "W-1"), `r="5"`, `r="&#53;"`, 1)
	r = load(t, l.Store, "payments.xlsx", book("", row(2, "", "W-0"), gap), importer.Options{})
	if rejected := rejectsByRow(r); r.Imported != 1 || !strings.Contains(rejected[5], "row 5 is hidden") {
		t.Errorf("a hidden row numbered &#53;: imported %d, rejected %v; want row 5 refused as hidden", r.Imported, rejected)
	}
	for _, before := range []string{`<cols><col min="3" max="3" width="9" hidden="&#49;"/></cols>`, `<cols><col min="3" max="3" width="0.01"/></cols>`} {
		_, err := importer.Import(context.Background(), l.Store, open(t, "payments.xlsx", book(before, row(2, "", "Y-1"))), importer.Options{Today: today})
		if err == nil || !strings.Contains(err.Error(), `column 3 ("金额(分)") is hidden`) {
			t.Errorf("%s: %v; want the file refused for its hidden amount column", before, err)
		}
	}
	for _, before := range []string{`<sheetFormatPr zeroHeight="1" defaultRowHeight="15"/>`, `<sheetFormatPr defaultRowHeight="0"/>`, `<sheetFormatPr defaultRowHeight="15" defaultColWidth="0"/>`} {
		if _, err := importer.Open(bytes.NewReader(book(before, row(2, "", "Z-1"))), "payments.xlsx", ""); err == nil || !strings.Contains(err.Error(), "hides its rows or columns") {
			t.Errorf("%s: %v; want the workbook refused", before, err)
		}
	}
	if paid := payments(t, l, org); len(paid) != 2 || paid["X-4"] != 100 || paid["W-0"] != 100 {
		t.Errorf("payments %v; want X-4 and W-0 alone", paid)
	}
}
