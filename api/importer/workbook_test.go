package importer_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/api/importer/xlsxtest"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/xuri/excelize/v2"
)

// sheetOf is a sheet of a workbook written by workbookSheets.
type sheetOf struct {
	name   string
	rows   [][]any
	hidden string   // "", "hidden" or "veryHidden"
	merges []string // merged ranges, such as A2:A3
}

// workbookSheets writes a workbook of sheets, in order, the one numbered active (from 0) shown
// when it is opened.
func workbookSheets(t *testing.T, sheets []sheetOf, active int) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName(f.GetSheetName(0), sh.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sh.rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if err := f.SetCellValue(sh.name, cell, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, m := range sh.merges {
			from, to, _ := strings.Cut(m, ":")
			if err := f.MergeCell(sh.name, from, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	// excelize hides no sheet while it is the one shown: one is shown, the others hidden, then
	// the one to be active is made so, hidden or not.
	f.SetActiveSheet(slices.IndexFunc(sheets, func(s sheetOf) bool { return s.hidden == "" }))
	for _, sh := range sheets {
		if sh.hidden != "" {
			if err := f.SetSheetVisible(sh.name, false, sh.hidden == "veryHidden"); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.SetActiveSheet(active)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTheSheetShownWhenAWorkbookOpensIsTheOneRead: a workbook's rows are read from its active
// sheet, the one a clerk sees on opening it, whichever its place among the sheets, and never
// from a hidden one: a workbook whose active sheet is hidden is refused naming it.
func TestTheSheetShownWhenAWorkbookOpensIsTheOneRead(t *testing.T) {
	sheet := func(name, receipt, hidden string) sheetOf {
		return sheetOf{name: name, hidden: hidden, rows: [][]any{
			{"组织机构代码", "缴费日期", "金额(分)", "票据号"}, {orgCode(5001), "2006-06-10", 100, receipt}}}
	}
	for _, tt := range []struct {
		name    string
		sheets  []sheetOf
		active  int
		read    string               // the receipt of the row read
		refused []string             // what the refusal says
		edit    map[string][2]string // part → text replaced in it, as a hostile or odd writer has it
	}{
		{"a hidden first sheet, the second shown", []sheetOf{sheet("旧", "OLD", "hidden"), sheet("新", "NEW", "")}, 1, "NEW", nil, nil},
		{"a very hidden first sheet, the second shown", []sheetOf{sheet("旧", "OLD", "veryHidden"), sheet("新", "NEW", "")}, 1, "NEW", nil, nil},
		{"two visible sheets, the second shown", []sheetOf{sheet("旧", "OLD", ""), sheet("新", "NEW", "")}, 1, "NEW", nil, nil},
		{"two visible sheets, the first shown", []sheetOf{sheet("新", "NEW", ""), sheet("旧", "OLD", "")}, 0, "NEW", nil, nil},
		{"the shown sheet hidden", []sheetOf{sheet("新", "NEW", ""), sheet("旧", "OLD", "hidden")}, 1, "",
			[]string{`the sheet shown when the workbook is opened, "旧", is hidden`, "nothing was imported"}, nil},
		// excelize finds a sheet by its name, the last of a name, folding case.
		{"a hidden sheet of the shown one's name", []sheetOf{sheet("新", "NEW", ""), sheet("旧", "OLD", "hidden")}, 0, "",
			[]string{`two of its sheets are named "新" and "新"`, "nothing was imported"}, map[string][2]string{"xl/workbook.xml": {`name="旧"`, `name="新"`}}},
		{"two names apart only in case", []sheetOf{sheet("Data", "NEW", ""), sheet("Old", "OLD", "hidden")}, 0, "",
			[]string{`two of its sheets are named "Data" and "DATA"`}, map[string][2]string{"xl/workbook.xml": {`name="Old"`, `name="DATA"`}}},
		// A spreadsheet program reads state and activeTab of no namespace, ignoring x15's.
		{"a hidden shown sheet said visible in another namespace", []sheetOf{sheet("新", "NEW", ""), sheet("旧", "OLD", "hidden")}, 1, "",
			[]string{`the sheet shown when the workbook is opened, "旧", is hidden`}, map[string][2]string{"xl/workbook.xml": {`state="hidden"`, `state="hidden" x15:state="visible"`}}},
		{"another namespace's shown tab", []sheetOf{sheet("新", "NEW", ""), sheet("旧", "OLD", "")}, 0, "NEW", nil,
			map[string][2]string{"xl/workbook.xml": {`windowHeight="8010"`, `windowHeight="8010" activeTab="0" x15:activeTab="1"`}}},
		{"a shown tab with spaces around it", []sheetOf{sheet("旧", "OLD", ""), sheet("新", "NEW", "")}, 0, "NEW", nil,
			map[string][2]string{"xl/workbook.xml": {`windowHeight="8010"`, `windowHeight="8010" activeTab=" 1 "`}}},
		// A Strict workbook's r:id is of another namespace; excelize reads it as the transitional.
		{"a Strict workbook", []sheetOf{sheet("新", "NEW", ""), sheet("旧", "OLD", "hidden")}, 0, "NEW", nil,
			map[string][2]string{"xl/workbook.xml": {`http://schemas.openxmlformats.org/officeDocument/2006/relationships"`, `http://purl.oclc.org/ooxml/officeDocument/relationships"`}}},
		{"a shown tab of no number", []sheetOf{sheet("新", "NEW", "")}, 0, "", []string{`its active sheet is "first", no number`},
			map[string][2]string{"xl/workbook.xml": {`windowHeight="8010"`, `windowHeight="8010" activeTab="first"`}}},
		// excelize reads the last entry of a name, readPart the first.
		{"a part twice", []sheetOf{sheet("新", "NEW", ""), sheet("旧", "OLD", "hidden")}, 0, "",
			[]string{"holds part xl/_rels/workbook.xml.rels twice", "nothing was imported"}, map[string][2]string{"+xl/_rels/workbook.xml.rels": {`Target="worksheets/sheet1.xml"`, `Target="worksheets/sheet2.xml"`}}},
		// excelize reads a target's backslashes as slashes: its rows are counted, as read.
		{"a backslash in the shown sheet's part", []sheetOf{sheet("新", "NEW", "")}, 0, "NEW", nil,
			map[string][2]string{"xl/_rels/workbook.xml.rels": {`Target="worksheets/sheet1.xml"`, `Target="worksheets\sheet1.xml"`}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := workbookSheets(t, tt.sheets, tt.active)
			for part, r := range tt.edit {
				file = replaceInPart(t, file, part, r[0], r[1])
			}
			tb, err := importer.Open(bytes.NewReader(file), "payments.xlsx", "")
			if tt.refused != nil {
				wantRefused(t, tb, err, tt.refused)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tb.Close()
			if read := receipts(t, tb); !slices.Equal(read, []string{tt.read}) || tb.Rows != 1 {
				t.Fatalf("read receipts %q (%d rows counted); want %s alone", read, tb.Rows, tt.read)
			}
		})
	}
}

// TestASheetsPartIsTheOneItsRelationshipsIDNames: a sheet element with an id attribute of no
// namespace beside its r:id: excelize, as a spreadsheet program, reads the part r:id names (here
// the hidden sheet's, three rows); so are its rows counted, and not the plain id's (one row).
func TestASheetsPartIsTheOneItsRelationshipsIDNames(t *testing.T) {
	rows := func(receipts ...string) [][]any {
		out := [][]any{{"组织机构代码", "缴费日期", "金额(分)", "票据号"}}
		for _, r := range receipts {
			out = append(out, []any{orgCode(5001), "2006-06-10", 100, r})
		}
		return out
	}
	file := workbookSheets(t, []sheetOf{{name: "新", rows: rows("NEW")}, {name: "旧", rows: rows("OLD1", "OLD2", "OLD3"), hidden: "hidden"}}, 0)
	file = replaceInPart(t, file, "xl/workbook.xml", `sheetId="1" r:id="rId1"`, `sheetId="1" r:id="rId5" id="rId1"`)
	tb, err := importer.Open(bytes.NewReader(file), "payments.xlsx", "")
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if read := receipts(t, tb); !slices.Equal(read, []string{"OLD1", "OLD2", "OLD3"}) || tb.Rows != 3 {
		t.Errorf("read %q, %d rows counted; want the three rows of the part r:id names, counted", read, tb.Rows)
	}
}

// receipts reads tb's rows of payments through and returns their receipts (the fourth column).
func receipts(t *testing.T, tb *importer.Table) []string {
	t.Helper()
	var read []string
	for {
		rec, _, err := tb.Next()
		if err == io.EOF {
			return read
		}
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, rec[3])
	}
}

// replaceInPart returns the xlsx file data with old replaced by new in its part name, which must
// hold old; with name "+part", the part is kept and followed by a second entry of it, replaced.
func replaceInPart(t *testing.T, data []byte, name, old, new string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	found := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		write := func(b []byte) {
			w, err := zw.Create(f.Name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		if f.Name == strings.TrimPrefix(name, "+") {
			found = bytes.Contains(b, []byte(old))
			if name != f.Name { // "+part": the part as it was, then a second entry of it, replaced
				write(b)
			}
			b = bytes.ReplaceAll(b, []byte(old), []byte(new))
		}
		write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("part %s does not hold %q", name, old)
	}
	return out.Bytes()
}

// mergedSheet writes a workbook of one sheet of rows of text, with merged ranges, as a
// spreadsheet program may: the cells a range covers keep what they held before it was drawn.
func mergedSheet(rows [][]string, merges ...string) []byte {
	var ms strings.Builder
	for _, m := range merges {
		ms.WriteString(`<mergeCell ref="` + m + `"/>`)
	}
	return xlsxtest.File(xlsxtest.Sheet{Head: xlsxtest.Rows(rows...).Head, Cut: true,
		Tail: `</sheetData><mergeCells count="` + strconv.Itoa(len(merges)) + `">` + ms.String() + `</mergeCells></worksheet>`}, nil)
}

// TestAMergedCellsValueHoldsInEveryCellOfItsRange: a merged range shows its top-left cell's value
// across all its cells, whatever they held before, and so it is read: a declaration whose
// organisation code (or date) is merged down its rows is one declaration of all its lines. A row
// blank but for a range drawn past the table stays blank.
func TestAMergedCellsValueHoldsInEveryCellOfItsRange(t *testing.T) {
	org := orgCode(7201)
	header := []string{"组织机构代码", "申报日期", "所属期", "险种", "参保人数", "缴费基数(分)"}
	for _, tt := range []struct {
		name string
		file func(t *testing.T) []byte
	}{
		{"the code merged", func(t *testing.T) []byte {
			return workbookSheets(t, []sheetOf{{name: "申报", merges: []string{"A2:A3"}, rows: [][]any{{"组织机构代码", "申报日期", "所属期", "险种", "参保人数", "缴费基数(分)"},
				{org, "2006-06-05", "2006-05", "养老", 2, 100000}, {nil, "2006-06-05", "2006-05", "医疗", 2, 100000}}}}, 0)
		}},
		{"the code and the date merged", func(*testing.T) []byte {
			return mergedSheet([][]string{header, {org, "2006-06-05", "2006-05", "养老", "2", "100000"}, {"", "", "2006-05", "医疗", "2", "100000"}}, "A2:A3", "B2:B3")
		}},
		{"a date under a merged one", func(*testing.T) []byte {
			return mergedSheet([][]string{header, {org, "2006-06-05", "2006-05", "养老", "2", "100000"}, {org, "2006-07-01", "2006-05", "医疗", "2", "100000"}}, "B2:B3")
		}},
		{"the code merged past the table", func(*testing.T) []byte {
			return mergedSheet([][]string{header, {org, "2006-06-05", "2006-05", "养老", "2", "100000"}, {"", "2006-06-05", "2006-05", "医疗", "2", "100000"}, {"", " "}, {"", " "}}, "A2:A6")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := storetest.Start(t, eventstore.Config{})
			if r := load(t, l.Store, "regs.csv", []byte("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n甲,"+org+",章贡区,企业,1,2006-04-03\n"), importer.Options{}); r.Imported != 1 {
				t.Fatalf("registration: %+v", r)
			}
			rep, err := importer.Import(context.Background(), l.Store, open(t, "decls.xlsx", tt.file(t)), importer.Options{Today: today})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Imported != 2 || len(rep.Rejected) != 0 {
				t.Fatalf("imported %d, refused %+v; want both rows", rep.Imported, rep.Rejected)
			}
			e, _ := l.Store.Employer(domain.EmployerIDForOrgCode(org))
			st := e.Account.Statement(domain.MustDate("2006-12-31"), l.Store.Reference().LateFees)
			for _, ins := range []domain.Insurance{domain.Pension, domain.Medical} {
				if _, ok := st.Line(domain.LineKey{Period: domain.MustPeriod("2006-05"), Insurance: ins}); !ok {
					t.Errorf("the 2006-05 declaration has no %s line", ins)
				}
			}
			if e.N != 2 {
				t.Errorf("the employer has %d events, want 2: its registration and one declaration", e.N)
			}
		})
	}
}

// TestMergedRangesPastTheLimitOrNoRangeOrOverlappingRefuseTheWorkbook: the merged ranges of the
// sheet read are held while it is read, so more than MaxMergedRanges refuse the workbook as too
// large, and a range that names no cells, or ranges that overlap (which no spreadsheet program
// writes, and which would make each row's filling cost every range), refuse it as damaged, before
// any row is read.
func TestMergedRangesPastTheLimitOrNoRangeOrOverlappingRefuseTheWorkbook(t *testing.T) {
	rows := xlsxtest.Rows(paymentsHeader, []string{orgCode(5001), "2006-06-10", "100", "R1"}).Head + "</sheetData><mergeCells>"
	for _, tt := range []struct {
		name    string
		sheet   xlsxtest.Sheet
		tooMany bool
		want    string
	}{
		{"one range past the limit", xlsxtest.Sheet{Head: rows, Unit: `<mergeCell ref="A2:A3"/>`, N: importer.MaxMergedRanges + 1, Tail: "</mergeCells></worksheet>", Cut: true},
			true, "has more than 200,000 merged ranges"},
		{"a range of no cells", xlsxtest.Sheet{Head: rows + `<mergeCell ref="A2:B"/></mergeCells></worksheet>`, Cut: true},
			false, `the merged range "A2:B" is no range of cells; nothing was imported`},
		// Filling a row covered by every one of them would take each row 200,000 ranges' work.
		{"ranges that overlap", xlsxtest.Sheet{Head: rows, Unit: `<mergeCell ref="A2:B9"/>`, N: importer.MaxMergedRanges, Tail: "</mergeCells></worksheet>", Cut: true},
			false, "merged ranges overlap on row 2"},
		{"ranges that overlap in part", xlsxtest.Sheet{Head: rows + `<mergeCell ref="A2:B3"/><mergeCell ref="C2:D9"/><mergeCell ref="D5:E5"/></mergeCells></worksheet>`, Cut: true},
			false, "merged ranges overlap on row 5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importer.Open(bytes.NewReader(xlsxtest.File(tt.sheet, nil)), "merged.xlsx", "")
			if tt.tooMany {
				wantTooLarge(t, err, tt.want)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// TestARowTheReaderRefusesRefusesTheWholeWorkbook: rows are imported a batch at a time, but a
// row of a workbook the reader refuses (a cell past MaxCellBytes that the XML's scan let by, a
// cell reference that names no cell) refuses the file whole, whatever batch it is in: the rows
// of the batches before it were recorded, and the clerk was answered that the file was refused.
func TestARowTheReaderRefusesRefusesTheWholeWorkbook(t *testing.T) {
	org := orgCode(7301)
	for _, tt := range []struct {
		name, bad, want string
	}{
		{"a cell past 8 KiB", `<row><c t="inlineStr"><is><t>` + org + `</t></is></c><c t="inlineStr"><is><t>2006-06-05</t></is></c>` +
			`<c t="inlineStr"><is><t>` + strings.Repeat("1", importer.MaxCellBytes+100) + `</t></is></c></row>`, "longer than 8,192 bytes"},
		{"a cell reference naming no cell", `<row><c r="1C25" t="inlineStr"><is><t>` + org + `</t></is></c></row>`, "1C25"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := storetest.Start(t, eventstore.Config{})
			if r := load(t, l.Store, "regs.csv", []byte("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n甲,"+org+",章贡区,企业,1,2006-04-03\n"), importer.Options{}); r.Imported != 1 {
				t.Fatalf("registration: %+v", r)
			}
			// As far as the stream goes: the registration's event is followed, not only committed.
			if err := l.Store.CatchUp(context.Background()); err != nil {
				t.Fatal(err)
			}
			before := l.Store.Applied()
			var head strings.Builder
			head.WriteString(xlsxtest.Cells("组织机构代码", "签订日期", "新签劳动合同数"))
			for range 23 {
				head.WriteString(xlsxtest.Cells(org, "2006-06-05", "1"))
			}
			head.WriteString(tt.bad)
			head.WriteString(xlsxtest.Cells(org, "2006-06-05", "1"))
			tb, err := importer.Open(bytes.NewReader(xlsxtest.File(xlsxtest.Sheet{Head: head.String()}, nil)), "contracts.xlsx", "")
			if err == nil {
				defer tb.Close()
				_, err = importer.Import(context.Background(), l.Store, tb, importer.Options{Today: today, Batch: 5})
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "25") {
				t.Fatalf("a workbook whose row 25 the reader refuses: %v; want the file refused naming row 25 and %q", err, tt.want)
			}
			if err := l.Store.CatchUp(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := l.Store.Applied(); got != before {
				t.Errorf("the refused workbook appended %d events: its rows before row 25 were recorded", got-before)
			}
		})
	}
}
