// Over 500 lines for a reason: every limit of a file is one case of one table, with the memory
// each may take.

package importer_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/api/importer/xlsxtest"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// memoryBound is how much a refused or streamed file may make the process allocate, in all.
const memoryBound = 64 << 20

// allocated runs f and returns how many bytes the process allocated meanwhile: an upper bound of
// how much f's peak added to the heap, whatever the garbage collector did.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// wantTooLarge fails unless err is a TooLarge error on the file whose detail says all of want.
func wantTooLarge(t *testing.T, err error, want ...string) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != domain.KindTooLarge || de.Field != "file" {
		t.Fatalf("got %v, want a TooLarge error on the file", err)
	}
	for _, w := range want {
		if !strings.Contains(de.Detail, w) {
			t.Fatalf("the error %q does not say %q", de.Detail, w)
		}
	}
	if len(de.Detail) > 512 {
		t.Fatalf("the error is %d bytes long: %.200q…", len(de.Detail), de.Detail)
	}
}

var paymentsHeader = []string{"组织机构代码", "缴费日期", "金额(分)", "票据号"}

// TestXLSXBombsAreRefusedBeforeTheyExpand: sheets that expand far past the limits, in files of a
// few megabytes, are refused with the limit they pass, while the process allocates less than
// memoryBound in all: each is refused from its zip directory or by a scan that stops at the limit,
// never expanded into memory.
func TestXLSXBombsAreRefusedBeforeTheyExpand(t *testing.T) {
	row := `<row><c><v>1</v></c></row>`
	for _, tt := range []struct {
		name  string
		sheet xlsxtest.Sheet
		want  []string
	}{
		{"a sheet expanding to 600 MB", xlsxtest.Sheet{Head: xlsxtest.Cells(paymentsHeader...), Unit: row, N: 600_000_000 / len(row)},
			[]string{"expands to more than 268,435,456 bytes (256 MiB)", "split the file"}},
		{"8 million rows in 200 MB", xlsxtest.Sheet{Head: xlsxtest.Cells(paymentsHeader...), Unit: row, N: 8_000_000},
			[]string{"more than 200,000 rows besides its header", "split it"}},
		{"a row of 10 million cells", xlsxtest.Sheet{Head: "<row>", Unit: `<c><v>1</v></c>`, N: 10_000_000, Tail: "</row>"},
			[]string{"row 1 of sheet xl/worksheets/sheet1.xml has more than 256 columns"}},
		{"a cell at column XFD", xlsxtest.Sheet{Head: `<row><c r="XFD1"><v>1</v></c></row>`},
			[]string{"more than 256 columns"}},
		{"a cell of 100 MB", xlsxtest.Sheet{Head: xlsxtest.Cells(paymentsHeader...) + `<row><c t="inlineStr"><is><t>`, Unit: strings.Repeat("a", 1000), N: 100_000, Tail: "</t></is></c></row>"},
			[]string{"a cell of row 2 of sheet xl/worksheets/sheet1.xml is longer than 8,192 bytes (8 KiB)"}},
		{"elements nested 10 million deep", xlsxtest.Sheet{Head: xlsxtest.Cells(paymentsHeader...), Unit: "<x>", N: 10_000_000},
			[]string{"nests elements more than 64 deep"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := xlsxtest.File(tt.sheet, nil)
			var err error
			n := allocated(func() { _, err = importer.Open(bytes.NewReader(file), "bomb.xlsx", "") })
			wantTooLarge(t, err, tt.want...)
			if n > memoryBound {
				t.Fatalf("refusing a %d-byte file whose sheet expands to %d bytes allocated %d MiB, more than %d MiB",
					len(file), tt.sheet.Size(), n>>20, memoryBound>>20)
			}
			t.Logf("%d-byte file, sheet of %d MB: refused after allocating %.1f MiB: %v", len(file), tt.sheet.Size()/1e6, float64(n)/(1<<20), err)
		})
	}
}

// TestAnXLSXThatLiesAboutItsSizeIsRefused: a sheet declaring 1 MB that expands to 600 MB is
// refused as damaged once it passes its declared size, with little allocated.
func TestAnXLSXThatLiesAboutItsSizeIsRefused(t *testing.T) {
	row := xlsxtest.Cells("1")
	file := xlsxtest.File(xlsxtest.Sheet{Head: xlsxtest.Cells(paymentsHeader...), Unit: row, N: 600_000_000 / len(row), DeclaredSize: 1 << 20}, nil)
	var err error
	n := allocated(func() { _, err = importer.Open(bytes.NewReader(file), "liar.xlsx", "") })
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("got %v, want the file refused as damaged", err)
	}
	if n > memoryBound {
		t.Fatalf("refusing it allocated %d MiB", n>>20)
	}
}

// A sheet whose rows are numbered out of order, or a number twice, is refused whole naming both
// rows: the spreadsheet library adds such a row's cells to the row before it, and the payments
// past the header's width were lost without a word. Rows numbered with gaps, or some without a
// number, are read as before.
func TestASheetWithRowsOutOfOrderIsRefusedWhole(t *testing.T) {
	row := func(r, receipt string) string {
		cells := strings.TrimPrefix(xlsxtest.Cells("12345678-9", "2006-06-10", "100", receipt), "<row>")
		if r == "" {
			return "<row>" + cells
		}
		return `<row r="` + r + `">` + cells
	}
	head := `<row r="1">` + strings.TrimPrefix(xlsxtest.Cells(paymentsHeader...), "<row>")
	for _, tt := range []struct {
		name, rows, want string
	}{
		{"a row numbered back", row("3", "A") + row("12", "B") + row("11", "C"), "row 11 comes after row 12"},
		{"a row numbered twice", row("3", "A") + row("20", "B") + row("20", "C"), "row 20 comes after row 20"},
		{"a row numbered before one without a number", row("6", "A") + row("", "B") + row("7", "C"), "row 7 comes after row 7"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importer.Open(bytes.NewReader(xlsxtest.File(xlsxtest.Sheet{Head: head + tt.rows}, nil)), "rows.xlsx", "")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was imported") {
				t.Fatalf("got %v, want the file refused saying %q", err, tt.want)
			}
		})
	}
	tb, err := importer.Open(bytes.NewReader(xlsxtest.File(xlsxtest.Sheet{Head: head + row("3", "A") + row("", "B") + row("9", "C")}, nil)), "gaps.xlsx", "")
	if err != nil {
		t.Fatalf("rows numbered with gaps: %v", err)
	}
	defer tb.Close()
	var receipts []string
	for {
		rec, _, err := tb.Next()
		if err != nil {
			break
		}
		receipts = append(receipts, rec[3])
	}
	if strings.Join(receipts, ",") != "A,B,C" {
		t.Fatalf("rows numbered with gaps read %q, want A,B,C", receipts)
	}
}

// TestADamagedSheetIsRefusedWhole: a sheet an XML parser stops reading in its fourth row (an
// entity XML does not define, an end tag closing no element open, a character reference to
// NUL, a sheet cut short, a character XML does not allow or bytes that are not UTF-8) is refused whole, naming the part and the row, before any row is
// read: excelize would end the sheet at the damage without an error, and the rows after it
// would be dropped in silence. References XML defines (with leading zeros too) are read as
// their characters, and a comment's or a CDATA section's '>' and '&' as text.
func TestADamagedSheetIsRefusedWhole(t *testing.T) {
	good := xlsxtest.Cells(paymentsHeader...) + xlsxtest.Cells("12345678-9", "2006-06-10", "100", "R1") + xlsxtest.Cells("12345678-9", "2006-06-11", "200", "R2")
	after := xlsxtest.Cells("12345678-9", "2006-06-12", "300", "R3")
	for _, tt := range []struct {
		name   string
		damage string
		cut    bool
		want   string
	}{
		{"an entity XML does not define", `<row><c t="inlineStr"><is><t>&bogus;</t></is></c></row>`, false, "&bogus; is no entity XML defines"},
		{"an end tag closing no element open", `<row><c><v>1</v></c></col></row>`, false, "</col> closes no element open there"},
		{"a character reference to NUL", `<row><c t="inlineStr"><is><t>a&#0;b</t></is></c></row>`, false, "&#0; is no entity XML defines"},
		{"an attribute with an undefined entity", `<row r="&x;"><c><v>1</v></c></row>`, false, "is no entity reference XML defines"},
		{"a sheet cut short", `<row><c t="inlineStr"><is><t>cut`, true, "ends with 6 elements still open"},
		{"a control character in a cell", "<row><c t=\"inlineStr\"><is><t>name\x01</t></is></c></row>", false, "U+0001, which XML does not allow"},
		{"a vertical tab in a cell", "<row><c t=\"inlineStr\"><is><t>a\x0bb</t></is></c></row>", false, "U+000B, which XML does not allow"},
		{"bytes that are not UTF-8", "<row><c t=\"inlineStr\"><is><t>a\xff\xfeb</t></is></c></row>", false, "byte 0xFF, which is not UTF-8"},
		{"a noncharacter", "<row><c t=\"inlineStr\"><is><t>a\uffffb</t></is></c></row>", false, "U+FFFF, which XML does not allow"},
		{"a control character in a tag", "<row><c r=\"A4\x1f\"><v>1</v></c></row>", false, "U+001F, which XML does not allow"},
		{"a character cut at the tag after it", "<row><c t=\"inlineStr\"><is><t>\xe4\xb8</t></is></c></row>", false, "which is not UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sheet := xlsxtest.Sheet{Head: good + tt.damage, Tail: after, Cut: tt.cut}
			if tt.cut {
				sheet.Tail = ""
			}
			_, err := importer.Open(bytes.NewReader(xlsxtest.File(sheet, nil)), "damaged.xlsx", "")
			if err == nil {
				t.Fatalf("a damaged sheet was opened")
			}
			for _, w := range []string{"damaged", "xl/worksheets/sheet1.xml", "near row 4", tt.want, "nothing was imported"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error %q does not say %q", err, w)
				}
			}
		})
	}
	refs := `<row><c t="inlineStr"><is><t>a&amp;b &lt;&#20013;&#x6587;&quot;</t></is></c></row>` +
		`<!-- a > b & c --><row><c t="inlineStr"><is><t><![CDATA[A>B & Co]]>&#x000000041;</t></is></c></row>`
	tb, err := importer.Open(bytes.NewReader(xlsxtest.File(xlsxtest.Sheet{Head: good + refs + after}, nil)), "refs.xlsx", "")
	if err != nil {
		t.Fatalf("a sheet with the references XML defines: %v", err)
	}
	defer tb.Close()
	var texts []string
	for {
		rec, _, err := tb.Next()
		if err != nil {
			break
		}
		texts = append(texts, rec[0])
	}
	if want := []string{"12345678-9", "12345678-9", `a&b <中文"`, "A>B & CoA", "12345678-9"}; !slices.Equal(texts, want) {
		t.Errorf("the rows' first cells read %q, want %q", texts, want)
	}
}

// TestAPartInAnotherEncodingOrWithRemarksIsRead: what the spreadsheet library reads is not
// refused as damaged: shared strings declared GBK (it decodes them), and a comment or processing
// instruction holding a control character, which the parser does not check (the diff's review).
func TestAPartInAnotherEncodingOrWithRemarksIsRead(t *testing.T) {
	name, err := simplifiedchinese.GBK.NewEncoder().String("章贡社保")
	if err != nil {
		t.Fatal(err)
	}
	sst := `<?xml version="1.0" encoding="GBK" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>` + name + `</t></si></sst>`
	remarks := "<!-- a \x01 remark --><?app \x02?>"
	sheet := xlsxtest.Sheet{Head: xlsxtest.Cells(paymentsHeader...) + remarks + `<row><c t="s"><v>0</v></c><c><v>7</v></c></row>`}
	tb, err := importer.Open(bytes.NewReader(xlsxtest.File(sheet, map[string]string{"xl/sharedStrings.xml": sst})), "gbk.xlsx", "")
	if err != nil {
		t.Fatalf("a workbook whose shared strings are GBK, with remarks: %v", err)
	}
	defer tb.Close()
	rec, _, err := tb.Next()
	if err != nil || len(rec) < 2 || rec[0] != "章贡社保" || rec[1] != "7" {
		t.Errorf("its row read %q (%v), want 章贡社保 and 7", rec, err)
	}
}

// TestOtherPartsOfAnXLSXAreBounded: a part excelize reads into memory whole (here the styles) is
// refused past MaxPartBytes, from its declared size; shared strings past MaxSharedStrings texts
// are refused as they are scanned.
func TestOtherPartsOfAnXLSXAreBounded(t *testing.T) {
	styles := `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + strings.Repeat(" ", importer.MaxPartBytes) + `</styleSheet>`
	file := xlsxtest.File(xlsxtest.Rows(paymentsHeader), map[string]string{"xl/styles.xml": styles})
	_, err := importer.Open(bytes.NewReader(file), "styled.xlsx", "")
	wantTooLarge(t, err, "part xl/styles.xml of the xlsx file expands to", "more than the 2,097,152 bytes (2 MiB) allowed")

	sst := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + strings.Repeat("<si><t>a</t></si>", importer.MaxSharedStrings+1) + `</sst>`
	file = xlsxtest.File(xlsxtest.Sheet{Head: `<row><c t="s"><v>0</v></c></row>`}, map[string]string{"xl/sharedStrings.xml": sst})
	_, err = importer.Open(bytes.NewReader(file), "texts.xlsx", "")
	wantTooLarge(t, err, "the xlsx file's shared strings hold more than 1,000,000 texts")
}

// TestASheetAtTheLimitIsReadAsAStream: a sheet of MaxRows rows of two cells is read row by row
// with the heap, sampled every 10,000 rows, staying within memoryBound, the header first and every
// row in order with its line number.
func TestASheetAtTheLimitIsReadAsAStream(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200,000 rows")
	}
	sheet := xlsxtest.Sheet{Head: xlsxtest.Cells(paymentsHeader...), Unit: `<row><c><v>100</v></c><c t="inlineStr"><is><t>R</t></is></c></row>`, N: importer.MaxRows}
	file := xlsxtest.File(sheet, nil)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	tb, err := importer.Open(bytes.NewReader(file), "big.xlsx", "")
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if tb.Header[0] != "组织机构代码" || tb.Rows != importer.MaxRows {
		t.Fatalf("header %q, %d rows counted", tb.Header, tb.Rows)
	}
	rows := 0
	for {
		rec, line, err := tb.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		if line != rows+1 || len(rec) != 2 || rec[0] != "100" || rec[1] != "R" {
			t.Fatalf("row %d: line %d, %q", rows, line, rec)
		}
		if rows%10_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if rows != importer.MaxRows {
		t.Fatalf("read %d rows, want %d", rows, importer.MaxRows)
	}
	if grew := peak - base; grew > memoryBound {
		t.Fatalf("reading %d rows (a sheet of %d MB) grew the heap by %d MiB", rows, sheet.Size()/1e6, grew>>20)
	}
	t.Logf("%d rows, a sheet of %d MB: the heap grew by at most %.1f MiB", rows, sheet.Size()/1e6, float64(peak-base)/(1<<20))
}

// TestCSVFilesPastTheLimitsAreRefused: a header of a million columns, too many columns within the
// row limit, a long cell, a long quoted cell over many lines and too many rows are each refused
// as too large, with a short answer (never the header echoed back).
func TestCSVFilesPastTheLimitsAreRefused(t *testing.T) {
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString("组织机构代码,缴费日期,金额(分),票据号\n")
		for i := range n {
			fmt.Fprintf(&b, "12345678-9,2006-06-10,%d,R%d\n", i, i)
		}
		return b.String()
	}
	for _, tt := range []struct {
		name, file string
		want       []string
	}{
		{"a header of a million columns", strings.Repeat("a,", 1_000_000) + "a\n1\n",
			[]string{"the first row (the header) is longer than 262,144 bytes (256 KiB)", "at most 256 columns"}},
		{"a header of 100,000 columns", strings.Repeat("a,", 99_999) + "a\n1\n",
			[]string{"the row on line 1 has 100,000 columns, more than the limit of 256"}},
		{"a cell of 9 KiB", "组织机构代码,缴费日期,金额(分),票据号\n12345678-9,2006-06-10,1," + strings.Repeat("R", 9<<10) + "\n",
			[]string{"the cell in column 4 of line 2 is longer than 8,192 bytes (8 KiB)"}},
		{"a quoted cell of 300,000 lines", "组织机构代码,缴费日期,金额(分),票据号\n12345678-9,2006-06-10,1,\"" + strings.Repeat("\n", 300_000) + "\"\n",
			[]string{"the row after line 1 is longer than 262,144 bytes"}},
		{"a quoted first cell of 256 KiB after a cell of three lines", "组织机构代码,缴费日期,金额(分),票据号\n12345678-9,2006-06-10,1,\"R\n1\n2\"\n\"" + strings.Repeat("x", 256<<10) + "\",2006-06-10,1,R2\n",
			[]string{"the row after line 4 is longer than 262,144 bytes"}},
		{"a quoted first cell of 256 KiB in the header", "\"" + strings.Repeat("x", 256<<10) + "\"\n1\n",
			[]string{"the first row (the header) is longer than 262,144 bytes (256 KiB)", "at most 256 columns"}},
		{"200,001 rows", rows(importer.MaxRows + 1),
			[]string{"the file has more than 200,000 rows besides its header; split it into files of at most 200,000 rows each"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = importer.Open(strings.NewReader(tt.file), "x.csv", "") })
			wantTooLarge(t, err, tt.want...)
			if n > memoryBound {
				t.Fatalf("refusing a CSV file of %d bytes allocated %d MiB", len(tt.file), n>>20)
			}
		})
	}
	// Within the limits, the same shapes are read.
	tb, err := importer.Open(strings.NewReader(rows(importer.MaxRows)), "x.csv", "")
	if err != nil {
		t.Fatal(err)
	}
	if tb.Rows != importer.MaxRows {
		t.Fatalf("%d rows counted, want %d", tb.Rows, importer.MaxRows)
	}
}

// TestAnUnknownHeaderIsNotEchoedWhole: a header of 200 long unknown column names is answered in
// a few hundred bytes, naming the first columns shortened and counting the rest.
func TestAnUnknownHeaderIsNotEchoedWhole(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	var cols []string
	for i := range 200 {
		cols = append(cols, fmt.Sprintf("column %d %s", i, strings.Repeat("长", 300)))
	}
	_, err := importer.Import(context.Background(), l.Store, open(t, "x.csv", []byte(strings.Join(cols, ",")+"\n1\n")), importer.Options{Today: today})
	if err == nil || !strings.Contains(err.Error(), "cannot tell the kind of file from its columns") || !strings.Contains(err.Error(), "and 184 more") {
		t.Fatalf("got %v", err)
	}
	if len(err.Error()) > 4096 {
		t.Fatalf("the error is %d bytes long", len(err.Error()))
	}
}

// TestADeclarationSpanningBatchesIsOneDeclaration: consecutive lines of one declaration (employer,
// period, date) make one declaration even when the batch ends between them, and the keys do not
// depend on the batch size: the same file in batches of 1 and of 50,000 is the same commands.
func TestADeclarationSpanningBatchesIsOneDeclaration(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	org := orgCode(7001)
	if r := load(t, l.Store, "regs.csv", []byte("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n甲,"+org+",章贡区,企业,1,2006-04-03\n"), importer.Options{}); r.Imported != 1 {
		t.Fatalf("registration: %+v", r)
	}
	decls := "组织机构代码,申报日期,所属期,险种,参保人数,缴费基数(分)\n" +
		org + ",2006-06-05,2006-05,养老,2,100000\n" +
		org + ",2006-06-05,2006-05,医疗,2,100000\n" +
		org + ",2006-06-05,2006-05,失业,2,100000\n" +
		org + ",2006-05-05,2006-04,养老,2,100000\n"
	if r := load(t, l.Store, "decls.csv", []byte(decls), importer.Options{Batch: 1}); r.Imported != 4 || len(r.Rejected) != 0 {
		t.Fatalf("declarations in batches of 1: %+v", r)
	}
	e, _ := l.Store.Employer(domain.EmployerIDForOrgCode(org))
	if e.N != 3 {
		t.Fatalf("the employer has %d events, want 3: its registration and two declarations", e.N)
	}
	if r := load(t, l.Store, "decls.csv", []byte(decls), importer.Options{}); r.Duplicates != 4 {
		t.Fatalf("the same file in one batch: %+v", r)
	}
}

// TestADeclarationsLinesAreRecordedWholeOrNotAtAll: a declaration replaces its period's whole,
// so one recorded without some of its lines drops them. A file sorted by insurance, whose lines of
// one declaration are not on consecutive rows, has the later rows refused naming the first (the
// declaration of the first stands whole, nothing dropped); a declaration one of whose rows is
// refused is recorded with none of its lines, in whichever batch they fall.
func TestADeclarationsLinesAreRecordedWholeOrNotAtAll(t *testing.T) {
	for _, batch := range []int{1, 50000} {
		t.Run(fmt.Sprintf("batches of %d", batch), func(t *testing.T) {
			l := storetest.Start(t, eventstore.Config{})
			a, b, c := orgCode(7101), orgCode(7102), orgCode(7103)
			regs := "单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n甲," + a + ",章贡区,企业,1,2006-04-03\n乙," + b + ",章贡区,企业,1,2006-04-03\n丙," + c + ",章贡区,企业,1,2006-04-03\n"
			if r := load(t, l.Store, "regs.csv", []byte(regs), importer.Options{}); r.Imported != 3 {
				t.Fatalf("registrations: %+v", r)
			}
			decls := "组织机构代码,申报日期,所属期,险种,参保人数,缴费基数(分)\n" +
				a + ",2006-05-10,2006-04,养老,2,100000\n" + // line 2
				b + ",2006-05-10,2006-04,养老,2,100000\n" + // line 3
				a + ",2006-05-10,2006-04,医疗,2,100000\n" + // line 4: a's declaration again, apart
				b + ",2006-06-10,2006-05,养老,2,100000\n" + // line 5
				b + ",2006-06-10,2006-05,医疗,2,-1\n" + // line 6: refused
				b + ",2006-06-10,2006-05,失业,2,100000\n" + // line 7: of the refused declaration
				c + ",2006-05-10,2006-04,养老,2,100000\n" + // line 8
				strings.Replace(c, "-", "", 1) + ",2006-05-10,2006-04,医疗,2,100000\n" // line 9: 丙's code written without its hyphen
			r := load(t, l.Store, "decls.csv", []byte(decls), importer.Options{Batch: batch})
			rows := map[int]string{}
			for _, rj := range r.Rejected {
				rows[rj.Row] = rj.Reason
			}
			if r.Imported != 4 || len(rows) != 4 || !strings.Contains(rows[4], "row 2") || !strings.Contains(rows[5], "row 6") || rows[6] == "" || !strings.Contains(rows[7], "row 6") {
				t.Fatalf("imported %d, rejected %v; want lines 2, 3, 8 and 9 imported, 4 refused naming row 2, 5 to 7 refused (5 and 7 naming row 6)", r.Imported, rows)
			}
			ea, _ := l.Store.Employer(domain.EmployerIDForOrgCode(a))
			st := ea.Account.Statement(domain.MustDate("2006-12-31"), l.Store.Reference().LateFees)
			if line, ok := st.Line(domain.LineKey{Period: domain.MustPeriod("2006-04"), Insurance: domain.Pension}); !ok || line.DueFen != 28000 {
				t.Errorf("甲's 2006-04 pension line %+v, want 280.00 yuan due (28%% of 1,000.00): not dropped", line)
			}
			ec, _ := l.Store.Employer(domain.EmployerIDForOrgCode(c))
			if st := ec.Account.Statement(domain.MustDate("2006-12-31"), l.Store.Reference().LateFees); st.Totals.DueFen != 28000+8000 {
				t.Errorf("丙's due %s, want one declaration of both lines (280.00 + 80.00 yuan), whichever way its code is written", st.Totals.DueFen)
			}
			if eb, _ := l.Store.Employer(domain.EmployerIDForOrgCode(b)); eb.Declared[domain.MustPeriod("2006-05")] {
				t.Errorf("乙's 2006-05 is declared, though a row of its declaration was refused")
			}
		})
	}
}

// TestANumberFormatThatWouldMultiplyACellIsRefused: the workbook reader builds what a cell shows
// from its number format by concatenation, so a format that repeats the cell's text thousands
// of times made a file of 2 KiB hold a server's core and a gigabyte for minutes a cell. A
// format longer than MaxFormatCode characters, or with more than MaxFormatTexts @, in its code
// or in the x16r2:formatCode16 the reader takes in its place, refuses the workbook before any
// cell is read; formats at those limits are read, and shown.
func TestANumberFormatThatWouldMultiplyACellIsRefused(t *testing.T) {
	escape := func(v string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(v))
		return b.String()
	}
	// A workbook whose receipt cell R-1 has number format 200: code, or code16 in its place.
	book := func(code, code16 string) []byte {
		attrs := `formatCode="` + escape(code) + `"`
		if code16 != "" {
			attrs = `formatCode="0.00" x16r2:formatCode16="` + escape(code16) + `"`
		}
		styles := `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/02/main">` +
			`<numFmts count="2"><numFmt numFmtId="164" formatCode="0.00"/><numFmt numFmtId="200" ` + attrs + `/></numFmts>` +
			`<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="200" applyNumberFormat="1"/></cellXfs></styleSheet>`
		row := `<row><c t="inlineStr"><is><t>00000001-1</t></is></c><c t="inlineStr"><is><t>2006-06-01</t></is></c><c><v>100</v></c>` +
			`<c s="1" t="inlineStr"><is><t>R-1</t></is></c></row>`
		return xlsxtest.File(xlsxtest.Sheet{Head: xlsxtest.Cells(paymentsHeader...) + row}, map[string]string{"xl/styles.xml": styles})
	}
	for _, tt := range []struct {
		name, code, code16 string
		want               []string // nothing: read
		shows              string   // read: what the receipt cell shows
	}{
		{"five texts", strings.Repeat("@", importer.MaxFormatTexts+1), "", []string{"number format 2 of the xlsx file's styles repeats the cell's text (@) 5 times, more than the 4 allowed"}, ""},
		{"sixty thousand texts", strings.Repeat("@", 60000), "", []string{"number format 2", "60,000 characters long, more than the 128 allowed"}, ""},
		{"a long run of literals", strings.Repeat(`\x`, 64) + "0", "", []string{"129 characters long"}, ""},
		{"texts in its formatCode16", "", strings.Repeat("@", 2000), []string{"number format 2", "2,000 characters long"}, ""},
		{"three per cents", "0%%%", "", []string{"number format 2 of the xlsx file's styles has 3 % signs in one section, more than the 2 allowed"}, ""},
		{"a per cent in each of three sections", `0.0%;[Red]-0.0%;0.0%`, "", nil, "R-1"},
		{"per cents quoted or escaped", `0.0%"%%%"\%\%`, "", nil, "R-1"},
		{"four texts", `"单位："@@@@`, "", nil, "单位：R-1R-1R-1R-1"},
		{"two per cents", "0.00%%", "", nil, "R-1"},
		{"four texts in its formatCode16", "", "@@@@", nil, "R-1R-1R-1R-1"},
		{"128 characters", strings.Repeat("0", importer.MaxFormatCode), "", nil, "R-1"},
		{"an accounting format", `_ [$¥-804]* #,##0.00_ ;_ [$¥-804]* \-#,##0.00_ ;_ [$¥-804]* "-"??_ ;_ @_ `, "", nil, " R-1 "},
		{"128 Chinese characters", strings.Repeat("元", importer.MaxFormatCode), "", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := importer.Open(bytes.NewReader(book(tt.code, tt.code16)), "styled.xlsx", "")
			if tt.want != nil {
				wantTooLarge(t, err, tt.want...)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			defer tb.Close()
			rec, _, err := tb.Next()
			if err != nil || !slices.Equal(tb.Header, paymentsHeader) || (tt.shows != "" && rec[3] != tt.shows) {
				t.Fatalf("header %q, row %q (%v); want the receipt shown %q", tb.Header, rec, err, tt.shows)
			}
		})
	}
}
