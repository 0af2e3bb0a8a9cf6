package xlsxtest

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestARepeatedSheetExpandsToWhatItSays: the hand-made deflate stream inflates, CRC checked, to
// the head, the unit n times and the tail, for units and counts around the 258-byte copies.
func TestARepeatedSheetExpandsToWhatItSays(t *testing.T) {
	for _, tt := range []struct {
		unit string
		n    int
	}{
		{Cells("a", "b"), 1}, {Cells("a", "b"), 2}, {Cells("x"), 1000}, {"ab", 7}, {"abc", 87}, {"abcd", 65}, {"", 0},
		{strings.Repeat("y", 300), 3}, {Cells("银行", "<&>"), 10001},
	} {
		s := Sheet{Head: Cells("h"), Unit: tt.unit, N: tt.n, Tail: "<!-- end -->"}
		file := File(s, nil)
		zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		for _, f := range zr.File {
			if f.Name != "xl/worksheets/sheet1.xml" {
				continue
			}
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			if got, err = io.ReadAll(r); err != nil {
				t.Fatalf("unit %q × %d: %v", tt.unit, tt.n, err)
			}
		}
		want := sheetStart + s.Head + strings.Repeat(tt.unit, tt.n) + s.Tail + sheetEnd
		if string(got) != want || uint64(len(want)) != s.Size() {
			t.Fatalf("unit %q × %d: expands to %d bytes, want %d (Size says %d)", tt.unit, tt.n, len(got), len(want), s.Size())
		}
	}
}

// TestExcelizeReadsTheFiles: what File writes is a workbook excelize opens and reads.
func TestExcelizeReadsTheFiles(t *testing.T) {
	s := Rows([]string{"org_code", "amount_fen"}, []string{"12345678-9", "100"})
	s.Unit, s.N = Cells("x", "y"), 3
	f, err := excelize.OpenReader(bytes.NewReader(File(s, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "org_code" || rows[1][1] != "100" || rows[4][1] != "y" {
		t.Fatalf("rows: %q", rows)
	}
}
