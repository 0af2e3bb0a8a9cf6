package importer_test

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/xuri/excelize/v2"
)

// sheetOf is a sheet of a workbook written by workbookSheets.
type sheetOf struct {
	name   string
	rows   [][]any
	hidden string // "", "hidden" or "veryHidden"
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
		read    string   // the receipt of the row read
		refused []string // what the refusal says
	}{
		{"a hidden first sheet, the second shown", []sheetOf{sheet("旧", "OLD", "hidden"), sheet("新", "NEW", "")}, 1, "NEW", nil},
		{"a very hidden first sheet, the second shown", []sheetOf{sheet("旧", "OLD", "veryHidden"), sheet("新", "NEW", "")}, 1, "NEW", nil},
		{"two visible sheets, the second shown", []sheetOf{sheet("旧", "OLD", ""), sheet("新", "NEW", "")}, 1, "NEW", nil},
		{"two visible sheets, the first shown", []sheetOf{sheet("新", "NEW", ""), sheet("旧", "OLD", "")}, 0, "NEW", nil},
		{"the shown sheet hidden", []sheetOf{sheet("新", "NEW", ""), sheet("旧", "OLD", "hidden")}, 1, "",
			[]string{`the sheet shown when the workbook is opened, "旧", is hidden`, "nothing was imported"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := importer.Open(bytes.NewReader(workbookSheets(t, tt.sheets, tt.active)), "payments.xlsx", "")
			if tt.refused != nil {
				if err == nil {
					tb.Close()
					t.Fatal("the workbook was read; want it refused")
				}
				for _, w := range tt.refused {
					if !strings.Contains(err.Error(), w) {
						t.Fatalf("refused with %q; want it to say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tb.Close()
			var read []string
			for {
				rec, _, err := tb.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				read = append(read, rec[3])
			}
			if !slices.Equal(read, []string{tt.read}) || tb.Rows != 1 {
				t.Fatalf("read receipts %q (%d rows counted); want %s alone", read, tb.Rows, tt.read)
			}
		})
	}
}
