// Over 500 lines for a reason: the byte-level checks of a workbook (zip sizes, XML runs, hidden
// rows and columns, number formats, characters) must all run before excelize reads a cell, in one
// streaming pass over each part.

package importer

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/cases"
)

// streamAbove is the size over which excelize keeps a sheet or the shared strings in a temporary
// file, read as a stream, rather than in memory.
const streamAbove = 1 << 20

// maxXMLRun is the longest a tag, a run of text or all of one cell's XML may be in a sheet or
// the shared strings: room for a cell of MaxCellBytes with every character escaped.
const maxXMLRun = 4 * MaxCellBytes

// openXLSX checks an xlsx file within the limits, from what its zip directory declares and then
// from a pass over its sheets and shared strings that expands them without keeping them, and opens
// its active sheet (the one shown when the workbook is opened) as a stream of rows. A workbook
// whose active sheet is hidden is refused, so that no row the clerk did not see is imported.
func openXLSX(r io.ReadSeeker) (*Table, error) {
	n, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	ra, ok := r.(io.ReaderAt)
	if !ok {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		ra = bytes.NewReader(data)
	}
	zr, err := openZip(ra, n)
	if err != nil {
		return nil, err
	}
	if err := checkParts(zr); err != nil {
		return nil, err
	}
	active, err := activeSheet(zr)
	if err != nil {
		return nil, err
	}
	if err := checkFormats(zr); err != nil {
		return nil, err
	}
	var merges []mergeRange
	var hiddenCols, hiddenRows []int
	for _, zf := range zr.File {
		name := strings.ToLower(partName(zf.Name))
		isActive := partName(zf.Name) == active.part
		sheet := strings.HasPrefix(name, "xl/worksheets/sheet") || isActive
		if !sheet && name != "xl/sharedstrings.xml" {
			continue
		}
		sc := &xmlScan{part: partName(zf.Name), sheet: sheet, active: isActive}
		if err := sc.scan(zf); err != nil {
			return nil, err
		}
		if isActive {
			merges, hiddenCols, hiddenRows = sc.merges, sc.hiddenColumns(), sc.hiddenRows
		}
	}
	f, err := excelize.OpenReader(io.NewSectionReader(ra, 0, n), excelize.Options{UnzipSizeLimit: MaxUncompressedBytes, UnzipXMLSizeLimit: streamAbove})
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, fmt.Errorf("xlsx: %s", domain.Clip(err.Error(), maxReason))
	}
	// The rows are read through once before any is imported, as a CSV file's are: a row the
	// reader refuses (a cell past its limit, a cell reference it cannot read) refuses the file
	// whole, not after the rows before it were recorded. The pass counts the rows exactly too.
	rows, err := readThrough(f, active.name, merges)
	if err != nil {
		f.Close()
		return nil, err
	}
	t, err := sheetTable(f, active.name, merges, hiddenRows)
	if err != nil {
		f.Close()
		return nil, err
	}
	closeRows := t.close
	t.close = func() error { return errors.Join(closeRows(), f.Close()) }
	t.Rows = rows
	t.hiddenCols = hiddenCols
	return t, nil
}

// readThrough reads the sheet of f named sheet to its end as sheetTable shows it, its merged
// ranges filled, and returns how many rows besides the header are not blank, or the first error
// reading them met.
func readThrough(f *excelize.File, sheet string, merges []mergeRange) (int, error) {
	m, err := newMerger(merges)
	if err != nil {
		return 0, err
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return 0, fmt.Errorf("xlsx: %s", domain.Clip(err.Error(), maxReason))
	}
	defer rows.Close()
	n := 0
	for line := 1; rows.Next(); line++ {
		rec, err := rows.Columns()
		if err != nil {
			return 0, fmt.Errorf("xlsx: row %d: %s; nothing was imported", line, domain.Clip(err.Error(), maxReason))
		}
		rec, _ = m.fill(line, rec, nil)
		if err := checkRow(rec, line); err != nil {
			return 0, err
		}
		if !blank(rec) {
			n++
		}
	}
	if err := rows.Error(); err != nil {
		return 0, fmt.Errorf("xlsx: %s; nothing was imported", domain.Clip(err.Error(), maxReason))
	}
	return max(n-1, 0), nil
}

// sheetTable reads the sheet of f named sheet up to its header, each cell of one of its merged
// ranges holding the value of the range's top-left cell, a row of hiddenRows (its numbers, in
// order) refused (Table.Flaw). Closing the table leaves f open: the caller closes it.
func sheetTable(f *excelize.File, sheet string, merges []mergeRange, hiddenRows []int) (*Table, error) {
	m, err := newMerger(merges)
	if err != nil {
		return nil, err
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("xlsx: %s", domain.Clip(err.Error(), maxReason))
	}
	// values reads the same rows unformatted, for the dates of short date cells.
	values, err := f.Rows(sheet)
	if err != nil {
		rows.Close()
		return nil, fmt.Errorf("xlsx: %s", domain.Clip(err.Error(), maxReason))
	}
	props, _ := f.GetWorkbookProps()
	date1904 := props.Date1904 != nil && *props.Date1904
	line := 0
	t := &Table{Encoding: "xlsx"}
	t.next = func() ([]string, int, error) {
		if !rows.Next() {
			if err := rows.Error(); err != nil {
				return nil, 0, fmt.Errorf("xlsx: row %d: %s", line+1, domain.Clip(err.Error(), maxReason))
			}
			return nil, 0, io.EOF
		}
		line++
		rec, err := rows.Columns()
		var raw []string
		if err == nil && values.Next() {
			raw, err = values.Columns(excelize.Options{RawCellValue: true})
		}
		if err != nil {
			return nil, 0, fmt.Errorf("xlsx: row %d: %s", line, domain.Clip(err.Error(), maxReason))
		}
		rec, raw = m.fill(line, rec, raw)
		if err := checkRow(rec, line); err != nil {
			return nil, 0, err
		}
		t.dates = shortDates(rec, raw, date1904)
		t.values = heldNumbers(rec, raw)
		t.flaw = nil
		for len(hiddenRows) > 0 && hiddenRows[0] < line {
			hiddenRows = hiddenRows[1:]
		}
		if len(hiddenRows) > 0 && hiddenRows[0] == line {
			t.flaw = fmt.Errorf("row %d is hidden in the workbook (hidden, filtered out, or under a point high): a row the clerk did not see is not imported; show it and import the file again, or delete it", line)
		}
		return rec, line, nil
	}
	t.close = func() error {
		return errors.Join(rows.Close(), values.Close())
	}
	rec, _, err := t.Next()
	if err == io.EOF {
		err = fmt.Errorf("xlsx: the sheet %q, the one shown when the workbook is opened, is empty: a header row is required", echo(sheet))
	}
	if err != nil {
		rows.Close()
		values.Close()
		return nil, err
	}
	t.Header = rec
	return t, nil
}

// shortDates returns, for each cell of row in Excel's default short date format or one like it,
// its date, YYYY-MM-DD (Table.Dates); nil when it has none. The workbook reader writes such a
// cell mm-dd-yy, which says nothing of the day by itself (a text typed so, a dd-mm-yy or
// yy-mm-dd date read the same): a cell is taken as a date only when its value is a day number
// (raw) that one of those orders writes as the cell reads, and its date is then that day's.
// Only a date column reads it so: a number shown 00-00-00 can read as a day number too.
func shortDates(row, raw []string, date1904 bool) []string {
	var dated []string
	for i, c := range row {
		if i >= len(raw) || !shortDate.MatchString(c) {
			continue
		}
		n, err := strconv.ParseFloat(raw[i], 64)
		if err != nil || n < 1 {
			continue
		}
		day, err := excelize.ExcelDateToTime(n, date1904)
		if err != nil || !slices.ContainsFunc(shortDateOrders, func(o string) bool { return day.Format(o) == c }) {
			continue
		}
		if dated == nil {
			dated = make([]string, len(row))
		}
		dated[i] = day.Format(time.DateOnly)
	}
	return dated
}

// heldNumbers returns, for each cell of row that shows a plain number (digits, thousands
// separators, a decimal point) other than the number it holds (raw), that number; nil when no
// cell does. A cell shown otherwise (¥1,234.00, 50%, a date) keeps what it shows: its number
// would read as another amount than the one the clerk sees.
func heldNumbers(row, raw []string) []string {
	var held []string
	for i, c := range row {
		if i >= len(raw) || raw[i] == c || !plainNumber.MatchString(c) {
			continue
		}
		n, err := strconv.ParseFloat(raw[i], 64)
		if err != nil {
			continue
		}
		if held == nil {
			held = make([]string, len(row))
		}
		held[i] = excelNumber(n)
	}
	return held
}

// excelNumber is n as a spreadsheet program takes it, to 15 significant digits, in decimal: a
// cell holds the binary float nearest a typed 14.2 or a formula's 0.1+0.2, stored
// 14.199999999999999 and 0.30000000000000004, and shows and computes with 14.2 and 0.3.
func excelNumber(n float64) string {
	r, err := strconv.ParseFloat(strconv.FormatFloat(n, 'g', 15, 64), 64)
	if err != nil {
		return strconv.FormatFloat(n, 'g', -1, 64) // past the largest float once rounded up
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

var plainNumber = regexp.MustCompile(`^ *-?[0-9,]*[0-9][0-9,]*(\.[0-9]*)? *$`)

var (
	shortDate       = regexp.MustCompile(`^\d\d-\d\d-\d\d$`)
	shortDateOrders = []string{"01-02-06", "02-01-06", "06-01-02"} // mm-dd-yy, dd-mm-yy, yy-mm-dd
)

// sheetRef is a sheet of a workbook: its name and the zip part that holds it.
type sheetRef struct{ name, part string }

// Relationship types of an xlsx file's workbook, transitional and strict.
const (
	relOfficeDocument       = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
	relOfficeDocumentStrict = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
)

type xmlRels struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

// xmlWorkbook is what a workbook part says of its sheets: a sheet's name and r:id as excelize
// reads them (a name of any namespace, the last), its state and the shown tab as a spreadsheet
// program does (of no namespace: plainAttr).
type xmlWorkbook struct {
	Views []struct {
		Attrs []xml.Attr `xml:",any,attr"`
	} `xml:"bookViews>workbookView"`
	Sheets []struct {
		Name string `xml:"name,attr"`
		RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		// RIDStrict is r:id in a Strict workbook, which excelize reads as the transitional one.
		RIDStrict string     `xml:"http://purl.oclc.org/ooxml/officeDocument/relationships id,attr"`
		Attrs     []xml.Attr `xml:",any,attr"`
	} `xml:"sheets>sheet"`
}

// plainAttr is the value of the last attribute local of no namespace among as. Go's decoder takes
// an attribute of any namespace for a field's (x:state="visible" for state), which a spreadsheet
// program ignores.
func plainAttr(as []xml.Attr, local string) string {
	v := ""
	for _, a := range as {
		if a.Name.Space == "" && a.Name.Local == local {
			v = a.Value
		}
	}
	return v
}

// activeSheet finds the workbook's active sheet, the one shown when it is opened (the workbook's
// first view's activeTab, or its first sheet), and refuses it hidden.
func activeSheet(zr *zip.Reader) (sheetRef, error) {
	var root xmlRels
	if err := readPart(zr, "_rels/.rels", &root); err != nil {
		return sheetRef{}, err
	}
	book := "" // the first, as excelize takes it (getWorkbookPath)
	for _, r := range root.Rels {
		if book == "" && (r.Type == relOfficeDocument || r.Type == relOfficeDocumentStrict) {
			book = strings.TrimPrefix(r.Target, "/")
		}
	}
	if book == "" {
		return sheetRef{}, fmt.Errorf("xlsx: not a valid xlsx file: it names no workbook")
	}
	var wb xmlWorkbook
	if err := readPart(zr, book, &wb); err != nil {
		return sheetRef{}, err
	}
	var rels xmlRels
	if err := readPart(zr, path.Join(path.Dir(book), "_rels", path.Base(book)+".rels"), &rels); err != nil {
		return sheetRef{}, err
	}
	// excelize finds a sheet by its name, folding case: two of one name would let it read a
	// sheet other than the one shown.
	names := map[string]string{}
	for _, sh := range wb.Sheets {
		k := cases.Fold().String(sh.Name)
		if other, ok := names[k]; ok {
			return sheetRef{}, fmt.Errorf("xlsx: the file is damaged: two of its sheets are named %q and %q; give each a name of its own, save the workbook and import it again; nothing was imported", echo(other), echo(sh.Name))
		}
		names[k] = sh.Name
	}
	tab := 0
	if len(wb.Views) > 0 {
		if v := strings.TrimSpace(plainAttr(wb.Views[0].Attrs, "activeTab")); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return sheetRef{}, fmt.Errorf("xlsx: the file is damaged: its active sheet is %q, no number; open it in a spreadsheet program and save it again; nothing was imported", echo(v))
			}
			tab = n
		}
	}
	if tab < 0 || tab >= len(wb.Sheets) {
		return sheetRef{}, fmt.Errorf("xlsx: the file is damaged: its active sheet, number %d, is not among its %d sheets; open it in a spreadsheet program and save it again; nothing was imported", tab+1, len(wb.Sheets))
	}
	sh := wb.Sheets[tab]
	if state := plainAttr(sh.Attrs, "state"); state == "hidden" || state == "veryHidden" {
		return sheetRef{}, fmt.Errorf("xlsx: the sheet shown when the workbook is opened, %q, is hidden; show the sheet to import and make it the one open, save the workbook and import it again; nothing was imported", echo(sh.Name))
	}
	rid := sh.RID
	if rid == "" {
		rid = sh.RIDStrict
	}
	parts := map[string]bool{}
	for _, zf := range zr.File {
		parts[partName(zf.Name)] = true
	}
	// The last relationship of the sheet's id whose part is there, as excelize maps it.
	part := ""
	for _, r := range rels.Rels {
		if p := worksheetPath(book, r.Target); r.ID == rid && parts[p] {
			part = p
		}
	}
	if part == "" {
		return sheetRef{}, fmt.Errorf("xlsx: the file is damaged: its sheet %q has no part; nothing was imported", echo(sh.Name))
	}
	return sheetRef{sh.Name, part}, nil
}

// worksheetPath is the part a workbook's relationship target names, as excelize resolves it
// (getWorksheetPath): relative to the workbook's folder unless absolute, backslashes as slashes.
func worksheetPath(book, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(strings.ReplaceAll(path.Clean(target), "\\", "/"), "/")
	}
	return strings.TrimPrefix(strings.ReplaceAll(path.Clean(path.Dir(book)+"/"+target), "\\", "/"), "/")
}

// stylesPart is the part the workbook reader takes a workbook's styles from, whatever the
// workbook's relationships name.
const stylesPart = "xl/styles.xml"

// xmlStyles is what the styles part says of its number formats: each format's code, and the
// x16r2:formatCode16 the workbook reader takes in its place when it is there.
type xmlStyles struct {
	Formats []struct {
		Code   string `xml:"formatCode,attr"`
		Code16 string `xml:"formatCode16,attr"`
	} `xml:"numFmts>numFmt"`
}

// checkFormats refuses a workbook whose styles hold a number format longer than MaxFormatCode
// characters, with more than MaxFormatTexts @ or more than MaxFormatPercents %, before any cell
// is shown through it.
func checkFormats(zr *zip.Reader) error {
	if !slices.ContainsFunc(zr.File, func(zf *zip.File) bool { return partName(zf.Name) == stylesPart }) {
		return nil
	}
	var st xmlStyles
	if err := readPart(zr, stylesPart, &st); err != nil {
		return err
	}
	for i, f := range st.Formats {
		for _, code := range []string{f.Code, f.Code16} {
			if n := utf8.RuneCountInString(code); n > MaxFormatCode {
				return tooLarge("number format %d of the xlsx file's styles is %s characters long, more than the %d allowed; give the cells a shorter format, save the workbook and import it again",
					i+1, thousands(int64(n)), MaxFormatCode)
			}
			if n := strings.Count(code, "@"); n > MaxFormatTexts {
				return tooLarge("number format %d of the xlsx file's styles repeats the cell's text (@) %d times, more than the %d allowed; give the cells a plain text format, save the workbook and import it again",
					i+1, n, MaxFormatTexts)
			}
			if n := percents(code); n > MaxFormatPercents {
				return tooLarge("number format %d of the xlsx file's styles has %d %% signs in one section, more than the %d allowed (each multiplies the number by 100); give the cells a plain number format, save the workbook and import it again",
					i+1, n, MaxFormatPercents)
			}
		}
	}
	return nil
}

// percents is the most % signs one section of a number format holds that multiply its number:
// not quoted ("%") nor escaped (\%), which are text; a format's sections, split by ;, are one
// each for positive, negative and zero numbers and text, and a number is shown through one.
func percents(code string) int {
	most, n, quoted := 0, 0, false
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\\':
			i++ // the character after it is text
		case c == ';':
			most, n = max(most, n), 0
		case c == '%':
			n++
		}
	}
	return max(most, n)
}

// readPart decodes the XML of the zip's part name (a part checkParts bounds to MaxPartBytes).
func readPart(zr *zip.Reader, name string, v any) error {
	for _, zf := range zr.File {
		if partName(zf.Name) != name {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("xlsx: part %s: %w", echo(name), err)
		}
		defer rc.Close()
		if err := xml.NewDecoder(io.LimitReader(rc, MaxPartBytes)).Decode(v); err != nil {
			return fmt.Errorf("xlsx: the file is damaged: part %s: %s; nothing was imported", echo(name), domain.Clip(err.Error(), maxReason))
		}
		return nil
	}
	return fmt.Errorf("xlsx: not a valid xlsx file: it has no part %s", echo(name))
}

// mergeRange is a merged range of cells, by row and column numbers from 1, ends included.
type mergeRange struct{ top, left, bottom, right int }

// merger fills each cell of a sheet's merged ranges with the value of the range's top-left cell,
// as a spreadsheet program shows it, in rows read in order.
type merger struct {
	ranges []mergeRange // by top row, those not yet begun
	open   []openRange  // begun, and not yet ended
}

// openRange is a merged range begun, with its top-left cell's value, as shown and unformatted.
type openRange struct {
	mergeRange
	value, raw string
}

// newMerger fills the cells of ranges; those wholly past MaxColumns hold nothing and are left
// out. Merged ranges never overlap in a workbook a spreadsheet program wrote: ones that do are
// refused, and with them the work of filling a row stays within its MaxColumns cells.
func newMerger(ranges []mergeRange) (*merger, error) {
	ranges = slices.DeleteFunc(slices.Clone(ranges), func(r mergeRange) bool { return r.left > MaxColumns })
	slices.SortStableFunc(ranges, func(a, b mergeRange) int { return a.top - b.top })
	// The ranges open on a row are apart, each from a column of its own: at most MaxColumns.
	var open []mergeRange
	for _, r := range ranges {
		open = slices.DeleteFunc(open, func(o mergeRange) bool { return o.bottom < r.top })
		for _, o := range open {
			if o.left <= r.right && r.left <= o.right {
				return nil, fmt.Errorf("xlsx: the file is damaged: merged ranges overlap on row %d; open it in a spreadsheet program and save it again; nothing was imported", r.top)
			}
		}
		open = append(open, r)
	}
	return &merger{ranges: ranges}, nil
}

// fill fills row line's cells (rec as shown, raw unformatted) that merged ranges cover. A row
// blank but for such cells stays blank: a range drawn past the rows of a table holds no row.
func (m *merger) fill(line int, rec, raw []string) ([]string, []string) {
	m.open = slices.DeleteFunc(m.open, func(o openRange) bool { return o.bottom < line })
	for len(m.ranges) > 0 && m.ranges[0].top <= line {
		r := m.ranges[0]
		m.ranges = m.ranges[1:]
		if r.top == line {
			m.open = append(m.open, openRange{r, cell(rec, r.left), cell(raw, r.left)})
		}
	}
	if len(m.open) == 0 || blank(rec) {
		return rec, raw
	}
	for _, o := range m.open {
		// No cell past MaxColumns holds anything: a range drawn across them refuses no row.
		for c := o.left; c <= min(o.right, MaxColumns); c++ {
			rec, raw = setCell(rec, c, o.value), setCell(raw, c, o.raw)
		}
	}
	return rec, raw
}

// cell is the value of column c (from 1) of row, "" past its end.
func cell(row []string, c int) string {
	if c > len(row) {
		return ""
	}
	return row[c-1]
}

// setCell sets column c (from 1) of row, lengthening it as needed.
func setCell(row []string, c int, v string) []string {
	for len(row) < c {
		row = append(row, "")
	}
	row[c-1] = v
	return row
}

// budgetReaderAt fails reads past a budget, so that reading a zip's directory stops at
// MaxDirectoryBytes whatever the directory claims.
type budgetReaderAt struct {
	r      io.ReaderAt
	budget int64 // bytes left; below 0, no limit
}

var errDirectoryTooLarge = errors.New("zip directory too large")

func (b *budgetReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if b.budget >= 0 {
		if int64(len(p)) > b.budget {
			return 0, errDirectoryTooLarge
		}
		b.budget -= int64(len(p))
	}
	return b.r.ReadAt(p, off)
}

// openZip reads an xlsx file's zip directory, refusing one over MaxDirectoryBytes before it is
// read whole (the directory's end record, which is searched for in the file's last 65 KiB, is
// allowed besides).
func openZip(r io.ReaderAt, n int64) (*zip.Reader, error) {
	br := &budgetReaderAt{r: r, budget: MaxDirectoryBytes + 1<<10 + 65<<10 + 4<<10}
	zr, err := zip.NewReader(br, n)
	if errors.Is(err, errDirectoryTooLarge) {
		return nil, tooLarge("the xlsx file's list of parts is longer than %s: too many parts", Size(MaxDirectoryBytes))
	}
	if err != nil {
		return nil, fmt.Errorf("xlsx: not a valid xlsx (zip) file: %w", err)
	}
	br.budget = -1
	return zr, nil
}

// partName is a part's name as excelize knows it.
func partName(name string) string {
	return strings.ReplaceAll(name, "\\", "/")
}

// checkParts refuses, from the sizes its zip directory declares (archive/zip fails a part that
// expands past its declared size), an xlsx file that expands past MaxUncompressedBytes, or whose
// parts that excelize holds in memory are past MaxPartBytes or together MaxInMemoryBytes.
func checkParts(zr *zip.Reader) error {
	var total, inMemory uint64
	seen := map[string]bool{}
	for _, zf := range zr.File {
		// excelize keeps the last entry of a name, readPart the first: one of each is read alike.
		if seen[partName(zf.Name)] {
			return fmt.Errorf("xlsx: the file is damaged: it holds part %s twice; open it in a spreadsheet program and save it again; nothing was imported", echo(partName(zf.Name)))
		}
		seen[partName(zf.Name)] = true
		n := zf.UncompressedSize64
		if n > MaxUncompressedBytes || total+n > MaxUncompressedBytes {
			return tooLarge("the xlsx file expands to more than %s (part %s alone declares %s); split the file",
				Size(MaxUncompressedBytes), echo(partName(zf.Name)), Size(int64(min(n, 1<<62))))
		}
		total += n
		name := strings.ToLower(partName(zf.Name))
		streamed := (strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml") && n > streamAbove
		if streamed {
			continue
		}
		if n > MaxPartBytes && !strings.HasPrefix(name, "xl/worksheets/sheet") && name != "xl/sharedstrings.xml" {
			return tooLarge("part %s of the xlsx file expands to %s, more than the %s allowed a part other than a sheet",
				echo(partName(zf.Name)), Size(int64(n)), Size(MaxPartBytes))
		}
		if inMemory += n; inMemory > MaxInMemoryBytes {
			return tooLarge("the parts of the xlsx file read into memory (all but its sheets and shared strings over %s) expand to more than %s",
				Size(streamAbove), Size(MaxInMemoryBytes))
		}
	}
	return nil
}

// xmlScan checks a sheet's or the shared strings' XML, as it is inflated, against the limits:
// rows, columns, the length of a cell, and how deep elements nest. It looks at bytes, not at XML
// tokens, so that nothing it reads is ever held whole, and errs on the side of counting too much
// (a row is counted if any cell of it has a value or formula element, even an empty one).
type xmlScan struct {
	part   string
	sheet  bool // a sheet; else the shared strings
	active bool // the sheet read: its merged ranges are kept

	inTag bool
	tag   []byte // the tag being read, without its angle brackets
	run   int    // bytes of the text being read

	row       int  // number of the row being read
	inRow     bool // inside a row element
	hasValue  bool // the row has a value
	col       int  // column of the cell being read
	inItem    bool // inside a cell (sheet) or a string item (shared strings)
	itemBytes int  // bytes of that cell's or item's XML so far

	rows   int                  // rows with a value
	items  int                  // shared strings
	merges []mergeRange         // the active sheet's merged ranges
	hidden [MaxColumns + 1]bool // the active sheet's hidden columns, by number from 1
	// hiddenRows are the active sheet's hidden rows with a value, in order; rowHidden says the
	// row being read is hidden.
	hiddenRows []int
	rowHidden  bool

	form xmlForm // what an XML parser would stop at
}

// damaged is the error of a part an XML parser would stop reading at err.
func (s *xmlScan) damaged(err error) error {
	where := fmt.Sprintf("row %d", max(s.row, 1))
	if !s.sheet {
		where = fmt.Sprintf("text %d", max(s.items, 1))
	}
	return fmt.Errorf("xlsx: the file is damaged: part %s, near %s: %v; nothing was imported", echo(s.part), where, err)
}

func (s *xmlScan) scan(zf *zip.File) error {
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("xlsx: part %s: %w", echo(s.part), err)
	}
	defer rc.Close()
	buf := make([]byte, 64<<10)
	for first := true; ; first = false {
		n, err := rc.Read(buf)
		if first {
			s.form.declares(buf[:n])
		}
		if serr := s.feed(buf[:n]); serr != nil {
			return serr
		}
		if err == io.EOF {
			if ferr := s.form.finish(); ferr != nil {
				return s.damaged(ferr)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("xlsx: the file is damaged: part %s: %w", echo(s.part), err)
		}
	}
}

// feed scans the next bytes of the part.
func (s *xmlScan) feed(p []byte) error {
	for len(p) > 0 {
		if !s.inTag {
			i := bytes.IndexByte(p, '<')
			if i < 0 {
				i = len(p)
			}
			// With the '<' after it: a character cut short there is not UTF-8.
			if err := s.form.chars(p[:min(i+1, len(p))]); err != nil {
				return s.damaged(err)
			}
			if err := s.form.text(p[:i]); err != nil {
				return s.damaged(err)
			}
			s.run += i
			if err := s.grow(i); err != nil {
				return err
			}
			if s.run > maxXMLRun {
				return s.tooLong()
			}
			if i == len(p) {
				return nil
			}
			s.inTag, s.tag, s.run = true, s.tag[:0], 0
			p = p[i+1:]
			continue
		}
		i := bytes.IndexByte(p, '>')
		end := i >= 0
		if !end {
			i = len(p)
		}
		if len(s.tag)+i > maxXMLRun {
			return s.tooLong()
		}
		// A comment's or processing instruction's characters are not the parser's to check.
		if !remark(s.tag, p[:i]) {
			if err := s.form.chars(p[:min(i+1, len(p))]); err != nil {
				return s.damaged(err)
			}
		}
		s.tag = append(s.tag, p[:i]...)
		if !end {
			return nil
		}
		p = p[i+1:]
		if opaque(s.tag) {
			// A comment or CDATA section runs on to its own end: its '>' and '&' are text.
			s.tag = append(s.tag, '>')
			continue
		}
		s.inTag = false
		if err := s.grow(len(s.tag) + 2); err != nil {
			return err
		}
		if err := s.element(); err != nil {
			return err
		}
	}
	return nil
}

// remark reports whether the tag whose first bytes are read, then more, is a comment or a
// processing instruction (the XML declaration among them).
func remark(read, more []byte) bool {
	start := read
	if len(start) < 3 {
		start = append(slices.Clip(start), more[:min(len(more), 3-len(start))]...)
	}
	return bytes.HasPrefix(start, []byte("!--")) || bytes.HasPrefix(start, []byte("?"))
}

// opaque reports whether tag (read to a '>') is a comment or CDATA section not yet ended.
func opaque(tag []byte) bool {
	switch {
	case bytes.HasPrefix(tag, []byte("!--")):
		return len(tag) < 5 || !bytes.HasSuffix(tag, []byte("--"))
	case bytes.HasPrefix(tag, []byte("![CDATA[")):
		return !bytes.HasSuffix(tag[len("![CDATA["):], []byte("]]"))
	}
	return false
}

// grow counts n more bytes of the cell or string item being read.
func (s *xmlScan) grow(n int) error {
	if !s.inItem {
		return nil
	}
	if s.itemBytes += n; s.itemBytes > maxXMLRun {
		return s.tooLong()
	}
	return nil
}

func (s *xmlScan) tooLong() error {
	if s.sheet {
		return tooLarge("a cell of row %d of sheet %s is longer than %s", max(s.row, 1), echo(s.part), Size(MaxCellBytes))
	}
	return tooLarge("text %d of the xlsx file's shared strings is longer than %s", s.items, Size(MaxCellBytes))
}

// element acts on the tag just read.
func (s *xmlScan) element() error {
	t := s.tag
	if len(t) == 0 || t[0] == '?' || t[0] == '!' {
		return nil // a declaration, comment or CDATA section
	}
	if t[0] == '/' {
		if err := s.form.end(t[1:]); err != nil {
			return s.damaged(err)
		}
		switch localName(t[1:]) {
		case "row":
			s.endRow()
		case "c", "si":
			s.inItem = false
		}
		return s.checkRows()
	}
	closed := t[len(t)-1] == '/'
	if err := s.startTag(t, closed); err != nil {
		return err
	}
	// After the row it may open is counted: damage in a row's tag is near that row.
	if err := s.form.start(t, closed); err != nil {
		return s.damaged(err)
	}
	return nil
}

// startTag acts on a start tag t, closed if it closes itself.
func (s *xmlScan) startTag(t []byte, closed bool) error {
	if !closed {
		if len(s.form.open)+1 > maxXMLDepth { // form.start opens it next
			return tooLarge("part %s of the xlsx file nests elements more than %d deep", echo(s.part), maxXMLDepth)
		}
	}
	name := localName(t)
	if !s.sheet {
		if name == "si" {
			if s.items++; s.items > MaxSharedStrings {
				return tooLarge("the xlsx file's shared strings hold more than %s texts", thousands(MaxSharedStrings))
			}
			s.inItem, s.itemBytes = !closed, len(t)+2
		}
		return nil
	}
	switch name {
	case "row":
		s.endRow()
		last := s.row
		s.row++
		if r, ok := attrValue(t, "r"); ok {
			if n, err := strconv.Atoi(r); err == nil && n > 0 {
				s.row = n
			}
		}
		if s.row <= last {
			// The spreadsheet library adds such a row's cells to the row before it, and the
			// rows after the header's width were dropped in silence. No spreadsheet program
			// writes one.
			return fmt.Errorf("xlsx: the file is damaged: part %s: row %d comes after row %d, where rows are in order; open it in a spreadsheet program and save it again; nothing was imported", echo(s.part), s.row, last)
		}
		s.inRow, s.hasValue, s.col = !closed, false, 0
		// Hidden (filtered out too), or under a point high: either way not seen.
		s.rowHidden = attrTrue(t, "hidden") || attrBelow(t, "ht", 1)
	case "c":
		if !s.inRow {
			return nil
		}
		s.col++
		if r, ok := attrValue(t, "r"); ok {
			if c := column([]byte(r)); c > 0 {
				s.col = c
			}
		}
		if s.col > MaxColumns {
			return tooLarge("row %d of sheet %s has more than %d columns", s.row, echo(s.part), MaxColumns)
		}
		s.inItem, s.itemBytes = !closed, len(t)+2
	case "v", "is", "f":
		if s.inRow {
			s.hasValue = true
		}
	case "sheetFormatPr":
		// Rows or columns hidden unless they say otherwise: which are shown is a spreadsheet
		// program's to work out, not guessed here.
		if s.active && (attrTrue(t, "zeroHeight") || attrBelow(t, "defaultRowHeight", 1) || attrBelow(t, "defaultColWidth", 1)) {
			return fmt.Errorf("xlsx: sheet %s hides its rows or columns unless each says otherwise (its default height or width is none); give them a height and a width, save the workbook and import it again; nothing was imported", echo(s.part))
		}
	case "col":
		// Hidden, or under a character wide: either way not seen.
		if s.active && (attrTrue(t, "hidden") || attrBelow(t, "width", 1)) {
			lo, _ := attrValue(t, "min")
			hi, _ := attrValue(t, "max")
			from, err1 := strconv.Atoi(lo)
			to, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || from < 1 || to < from {
				return fmt.Errorf("xlsx: the file is damaged: part %s: a hidden column range from %q to %q; nothing was imported", echo(s.part), echo(lo), echo(hi))
			}
			for c := from; c <= min(to, MaxColumns); c++ {
				s.hidden[c] = true
			}
		}
	case "mergeCell":
		if !s.active {
			return nil
		}
		ref, _ := attrValue(t, "ref")
		r, ok := mergeRef(ref)
		if !ok {
			return fmt.Errorf("xlsx: the file is damaged: part %s: the merged range %q is no range of cells; nothing was imported", echo(s.part), echo(ref))
		}
		if len(s.merges) == MaxMergedRanges {
			return tooLarge("sheet %s has more than %s merged ranges", echo(s.part), thousands(MaxMergedRanges))
		}
		s.merges = append(s.merges, r)
	}
	return nil
}

// mergeRef reads a merged range's reference, such as A2:A3 (or A2, a range of one cell).
func mergeRef(ref string) (mergeRange, bool) {
	from, to, ok := strings.Cut(strings.ReplaceAll(ref, "$", ""), ":")
	if !ok {
		to = from
	}
	c1, r1, err1 := excelize.CellNameToCoordinates(from)
	c2, r2, err2 := excelize.CellNameToCoordinates(to)
	if err1 != nil || err2 != nil {
		return mergeRange{}, false
	}
	return mergeRange{top: min(r1, r2), left: min(c1, c2), bottom: max(r1, r2), right: max(c1, c2)}, true
}

// hiddenColumns lists the active sheet's hidden columns within MaxColumns, by number from 1.
func (s *xmlScan) hiddenColumns() []int {
	var cols []int
	for c, h := range s.hidden {
		if h {
			cols = append(cols, c)
		}
	}
	return cols
}

// endRow ends the row being read, if any.
func (s *xmlScan) endRow() {
	if s.inRow && s.hasValue {
		s.rows++
		if s.rowHidden && s.active {
			s.hiddenRows = append(s.hiddenRows, s.row)
		}
	}
	s.inRow, s.inItem = false, false
}

// checkRows refuses a sheet of more rows with a value than a header and MaxRows.
func (s *xmlScan) checkRows() error {
	if s.rows > MaxRows+1 {
		return tooManyRows("sheet " + echo(s.part))
	}
	return nil
}

// localName is the name of the element a tag opens, without its namespace prefix.
func localName(tag []byte) string {
	end := bytes.IndexAny(tag, " \t\r\n/")
	if end < 0 {
		end = len(tag)
	}
	name := tag[:end]
	if i := bytes.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	return string(name)
}

// attr finds the value of the attribute of a tag with the given local name.
func attr(tag []byte, name string) ([]byte, bool) {
	i := bytes.IndexAny(tag, " \t\r\n")
	if i < 0 {
		return nil, false
	}
	t := tag[i:]
	for {
		t = bytes.TrimLeft(t, " \t\r\n")
		eq := bytes.IndexByte(t, '=')
		if eq < 0 {
			return nil, false
		}
		key := bytes.TrimSpace(t[:eq])
		if k := bytes.LastIndexByte(key, ':'); k >= 0 {
			key = key[k+1:]
		}
		t = bytes.TrimLeft(t[eq+1:], " \t\r\n")
		if len(t) == 0 || (t[0] != '"' && t[0] != '\'') {
			return nil, false
		}
		q := t[0]
		end := bytes.IndexByte(t[1:], q)
		if end < 0 {
			return nil, false
		}
		if string(key) == name {
			return t[1 : 1+end], true
		}
		t = t[2+end:]
	}
}

// attrValue is the value of a tag's attribute as an XML parser reads it: its character and
// entity references replaced (hidden="&#49;" is hidden="1"), white space trimmed, as a number
// or a boolean of the sheet's schema is read.
func attrValue(tag []byte, name string) (string, bool) {
	v, ok := attr(tag, name)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(html.UnescapeString(string(v))), true
}

// attrTrue reports whether a tag's boolean attribute is true.
func attrTrue(tag []byte, name string) bool {
	v, _ := attrValue(tag, name)
	return v == "1" || v == "true"
}

// attrBelow reports whether a tag's number attribute is below limit (a row height in points, a
// column width in characters: under 1 nothing of a cell shows).
func attrBelow(tag []byte, name string, limit float64) bool {
	v, ok := attrValue(tag, name)
	if !ok {
		return false
	}
	n, err := strconv.ParseFloat(v, 64)
	return err == nil && n < limit
}

// column is the column number of a cell reference such as "AB12" (A is 1), or 0 if it has none;
// any number over MaxColumns reads as MaxColumns+1.
func column(ref []byte) int {
	c := 0
	for _, ch := range ref {
		switch {
		case ch >= 'A' && ch <= 'Z':
			c = c*26 + int(ch-'A') + 1
		case ch >= 'a' && ch <= 'z':
			c = c*26 + int(ch-'a') + 1
		default:
			return c
		}
		if c > MaxColumns {
			return MaxColumns + 1
		}
	}
	return c
}
