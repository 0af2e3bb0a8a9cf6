// Package importer loads the survey's and registration drives' spreadsheets into the ledger: CSV
// (UTF-8 or GBK) or xlsx, one kind of row per file, Chinese or English column names, every row
// checked and reported, every row's idempotency key derived from its content and position so
// that an import can be re-run or resumed without appending anything twice.
//
// A file is read as a stream: Open checks it against the limits of limits.go in a first pass that
// keeps nothing, and Import takes its rows a batch at a time, so that memory is bounded by a batch
// whatever the file expands to.
package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Encodings of CSV files.
const (
	EncodingUTF8 = "utf-8"
	EncodingGBK  = "gbk"
)

// Table is a file being read: its header, then its rows one at a time from Next.
type Table struct {
	Header []string
	// Encoding is what the file was read as: utf-8, gbk or xlsx.
	Encoding string
	// Rows is how many rows besides the header Open counted: exactly those Next will return.
	Rows int
	// next returns the next row, blank or not, and its line; io.EOF after the last.
	next  func() ([]string, int, error)
	close func() error
	read  int // rows returned, the header included
	// dates holds the dates of the last row's short date cells (Dates).
	dates []string
	// flaw is what refuses the last row whatever its cells hold (Flaw).
	flaw error
	// hiddenCols are a workbook's hidden columns, by number from 1.
	hiddenCols []int
	// values holds the values of the last row's cells that show a number other than they hold
	// (Values).
	values []string
}

// Next returns the next row that is not blank and its line number in the file (the header's is
// 1, or more if blank rows come first); io.EOF after the last row.
func (t *Table) Next() ([]string, int, error) {
	for {
		rec, line, err := t.next()
		if err != nil {
			return nil, 0, err
		}
		if blank(rec) {
			continue
		}
		if t.read++; t.read > MaxRows+1 {
			return nil, 0, tooManyRows("the file")
		}
		return rec, line, nil
	}
}

// Dates returns, for the last row Next returned, the date each cell in Excel's default short date
// format holds, YYYY-MM-DD ("" for every other cell); nil when the row has none (always, for
// CSV). Next returns such a cell as the workbook reader writes it, mm-dd-yy, which says nothing
// of the day by itself; a row's key digests the cells as Next returns them.
func (t *Table) Dates() []string { return t.dates }

// Values returns, for the last row Next returned, the value each cell of a workbook holds when it
// shows a plain number other than that value ("" for every other cell): a format that rounds
// 12.6 to 13, or writes 1234 as 1,234.00. nil when the row has none (always, for CSV). Amounts
// and counts are read from it, and refused when it is another number than the one shown.
func (t *Table) Values() []string { return t.values }

// Flaw returns, for the last row Next returned, what refuses it whatever its cells say (nil:
// nothing): a CSV row with values past the header's columns, whose values may have moved a
// column (an amount written 1,234 without quotes).
func (t *Table) Flaw() error { return t.flaw }

// Close releases what the table holds (an xlsx file's temporary files).
func (t *Table) Close() error {
	if t.close == nil {
		return nil
	}
	return t.close()
}

// Open opens a CSV or xlsx file for reading, after checking it within the limits (an error of kind
// TooLarge says which it passes). For CSV, encoding is utf-8, gbk, or "" to detect: a file that is
// not valid UTF-8 is read as GBK (which every GB 2312 file also is) if all of it is valid GBK, and
// is refused otherwise, naming the line and byte of the first byte that is not UTF-8. r is read
// more than once.
func Open(r io.ReadSeeker, name, encoding string) (*Table, error) {
	magic := make([]byte, 4)
	n, err := io.ReadFull(r, magic)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if strings.HasSuffix(strings.ToLower(name), ".xlsx") || bytes.Equal(magic[:n], []byte("PK\x03\x04")) {
		return openXLSX(r)
	}
	return openCSV(r, encoding)
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func openCSV(r io.ReadSeeker, encoding string) (*Table, error) {
	if err := notUTF16(r); err != nil {
		return nil, err
	}
	enc := strings.ToLower(strings.ReplaceAll(encoding, "_", "-"))
	switch enc {
	case "", "utf8", EncodingUTF8:
		sc, err := scanUTF8(r)
		if err != nil {
			return nil, err
		}
		bad := sc.bad
		switch {
		case bad == nil && enc == "" && sc.two > sc.more:
			// A GBK file may be valid UTF-8 too (盛通实业 reads as ʢͨɻҵ): one more of two-byte
			// characters (Latin, Greek, Cyrillic) than of Chinese in UTF-8 that is GBK whole is
			// not guessed at.
			if gbk, err := rereadGBK(r); err != nil {
				return nil, err
			} else if gbk {
				return nil, fmt.Errorf("the file reads as UTF-8 (with few Chinese characters) and as GBK: give its encoding, utf-8 or gbk (--encoding, or the upload's encoding field)")
			}
			enc = EncodingUTF8
		case bad == nil:
			enc = EncodingUTF8
		case enc != "":
			return nil, fmt.Errorf("the file is not valid UTF-8: %s (is it GBK? give --encoding gbk)", bad)
		case 10*sc.inUTF8 >= 9*sc.high:
			// A file is GBK only if it is not mostly UTF-8: a UTF-8 file with a damaged byte
			// would otherwise be read as GBK and its good rows stored garbled (UTF-8 Chinese
			// often reads as GBK too).
			return nil, fmt.Errorf("the file is UTF-8 but damaged: %s; mend it and import it again (or, if it is GBK, give --encoding gbk)", bad)
		default:
			gbk, err := rereadGBK(r)
			if err != nil {
				return nil, err
			}
			if !gbk {
				return nil, fmt.Errorf("the file is neither valid UTF-8 nor GBK: %s, and it does not read as GBK either; save it again as UTF-8", bad)
			}
			enc = EncodingGBK
		}
	case "gb2312", "gb18030", "cp936", EncodingGBK:
		// UTF-8 Chinese mostly reads as GBK too, garbled (章贡 as 绔犺础): a file given as GBK
		// whose Chinese is valid UTF-8 is the wrong encoding given, not GBK.
		sc, err := scanUTF8(r)
		if err != nil {
			return nil, err
		}
		if sc.bad == nil && sc.more > 0 && sc.more >= sc.two {
			return nil, fmt.Errorf("the file is UTF-8 (its Chinese reads as UTF-8), not %s: read as GBK it would be stored garbled; import it as utf-8 (or without an encoding)", echo(encoding))
		}
		enc = EncodingGBK
	default:
		return nil, fmt.Errorf("%w %q: want utf-8 or gbk", ErrUnknownEncoding, echo(encoding))
	}
	// A first pass checks the limits and counts the rows, keeping nothing; the second reads.
	t, err := csvTable(r, enc, true)
	if err != nil {
		return nil, err
	}
	rows := 0
	for {
		_, _, err := t.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		rows++
	}
	if t, err = csvTable(r, enc, false); err != nil {
		return nil, err
	}
	t.Rows = rows
	return t, nil
}

// csvTable reads a CSV file from its start up to its header.
func csvTable(r io.ReadSeeker, enc string, reuse bool) (*Table, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	c := newCSVReader(r, enc, reuse)
	t := &Table{Encoding: enc}
	t.next = func() ([]string, int, error) {
		rec, line, err := c.next()
		t.flaw = nil
		// Empty values past it too: an amount 1,234.50 unquoted spills as much into an empty
		// optional column after it (a spreadsheet's export pads its header as wide as its rows).
		if w := len(t.Header); err == nil && w > 0 && len(rec) > w {
			t.flaw = fmt.Errorf("the row has %d values where the header has %d columns: a value holding a comma (an amount written 1,234, a name) must be in double quotes, or the row's values have moved a column", len(rec), w)
		}
		return rec, line, err
	}
	rec, _, err := t.Next()
	if err == io.EOF {
		return nil, fmt.Errorf("the file is empty: a header row is required")
	}
	if err != nil {
		return nil, err
	}
	t.Header = rec
	return t, nil
}

// notUTF8 is where a file stops being UTF-8.
type notUTF8 struct {
	line, col int // the line, from 1, and the byte within it, from 1
	b         byte
}

func (n *notUTF8) String() string {
	return fmt.Sprintf("line %d, byte %d (0x%02X) is not UTF-8", n.line, n.col, n.b)
}

// utf8Scan is what one pass over a file tells of it as UTF-8.
type utf8Scan struct {
	bad *notUTF8 // the first byte not part of valid UTF-8; nil when the file is valid UTF-8
	// high counts the bytes past ASCII, and inUTF8 those of them in valid sequences: in a UTF-8
	// file with a damaged byte nearly all are, in GBK Chinese text few (DOMAIN.md's and the 2006
	// plan's Chinese lines, in GBK: 25% and 34%; no line of more than two characters over 70%).
	high, inUTF8 int64
	// two and more count the valid characters of two bytes (Latin, Greek, Cyrillic) and of more
	// (Chinese).
	two, more int64
}

// scanUTF8 reads r through once and tells what it is as UTF-8.
func scanUTF8(r io.Reader) (utf8Scan, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var sc utf8Scan
	line, col := 1, 0 // col: the bytes of the line before the character read
	for {
		c, size, err := br.ReadRune()
		if err == io.EOF {
			return sc, nil
		}
		if err != nil {
			return sc, err
		}
		switch {
		case c == utf8.RuneError && size == 1:
			sc.high++
			if sc.bad == nil {
				_ = br.UnreadRune()
				b, _ := br.ReadByte()
				sc.bad = &notUTF8{line: line, col: col + 1, b: b}
			}
		case size == 2:
			sc.two++
		case size > 2:
			sc.more++
		}
		if size > 1 {
			sc.high += int64(size)
			sc.inUTF8 += int64(size)
		}
		col += size
		if c == '\n' {
			line, col = line+1, 0
		}
	}
}

// rereadGBK reads r from its start and reports whether all of it decodes as GBK (validGBK).
func rereadGBK(r io.ReadSeeker) (bool, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	return validGBK(r)
}

// validGBK reads r through and reports whether all of it decodes as GBK (as GB18030, which
// reads every GBK and GB 2312 file), without a byte sequence the decoder must replace.
func validGBK(r io.Reader) (bool, error) {
	br := bufio.NewReader(transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder()))
	for {
		c, _, err := br.ReadRune()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if c == utf8.RuneError {
			return false, nil
		}
	}
}

// errRowTooLong stops the CSV reader in a row longer than MaxRowBytes.
var errRowTooLong = errors.New("row too long")

// rowLimit lets a CSV reader read at most MaxRowBytes+1 bytes past the end of the last row it
// finished, so that no row, however long, is held whole.
type rowLimit struct {
	r     io.Reader
	read  int64 // bytes given to the CSV reader
	until int64 // how many it may have
}

func (l *rowLimit) Read(p []byte) (int, error) {
	if l.read >= l.until {
		return 0, errRowTooLong
	}
	if int64(len(p)) > l.until-l.read {
		p = p[:l.until-l.read]
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}

// csvReader reads the records of a CSV file, refusing any past the limits.
type csvReader struct {
	cr   *csv.Reader
	lim  *rowLimit
	prev int64 // offset of the end of the last record
	last int   // the line the last record ended on (0: none read)
}

// newCSVReader reads r as CSV in encoding enc; reuse lets each record reuse the last one's memory
// (for a pass that keeps nothing).
func newCSVReader(r io.Reader, enc string, reuse bool) *csvReader {
	if enc == EncodingGBK {
		r = transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder())
	}
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	lim := &rowLimit{r: br, until: MaxRowBytes + 1}
	cr := csv.NewReader(lim)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = reuse
	return &csvReader{cr: cr, lim: lim}
}

func (c *csvReader) next() ([]string, int, error) {
	rec, err := c.cr.Read()
	if errors.Is(err, errRowTooLong) {
		// Where the row began is known from the record before it: after a failed read the
		// reader may know no field's place at all (FieldPos would panic on a quoted first field).
		if c.last == 0 {
			return nil, 0, headerTooLong()
		}
		return nil, 0, rowTooLongAfter(c.last)
	}
	if err == io.EOF {
		return nil, 0, err
	}
	if err != nil {
		return nil, 0, fmt.Errorf("CSV: %w", err)
	}
	line, _ := c.cr.FieldPos(0)
	end := c.cr.InputOffset()
	if end-c.prev > MaxRowBytes {
		return nil, 0, rowTooLong(line)
	}
	// The record ends on its last field's line, and as many lines on as that field holds.
	endLine, _ := c.cr.FieldPos(len(rec) - 1)
	c.prev, c.last = end, endLine+strings.Count(rec[len(rec)-1], "\n")
	c.lim.until = end + MaxRowBytes + 1
	if err := checkRow(rec, line); err != nil {
		return nil, 0, err
	}
	return rec, line, nil
}

// tooManyRows refuses a file or sheet (what) of more than MaxRows rows.
func tooManyRows(what string) error {
	return tooLarge("%s has more than %s rows besides its header; split it into files of at most %s rows each",
		what, thousands(MaxRows), thousands(MaxRows))
}

func rowTooLong(line int) error {
	return tooLarge("the row on line %d is longer than %s; %s", line, Size(MaxRowBytes), rowLimits())
}

// rowTooLongAfter refuses the row that begins after line (a blank line between them aside).
func rowTooLongAfter(line int) error {
	return tooLarge("the row after line %d is longer than %s; %s", line, Size(MaxRowBytes), rowLimits())
}

func headerTooLong() error {
	return tooLarge("the first row (the header) is longer than %s; %s", Size(MaxRowBytes), rowLimits())
}

func rowLimits() string {
	return fmt.Sprintf("a row may have at most %d columns of at most %s each, and %s in all", MaxColumns, Size(MaxCellBytes), Size(MaxRowBytes))
}

// checkRow refuses a row of too many columns or with too long a cell.
func checkRow(rec []string, line int) error {
	if len(rec) > MaxColumns {
		return tooLarge("the row on line %d has %s columns, more than the limit of %d", line, thousands(int64(len(rec))), MaxColumns)
	}
	for i, c := range rec {
		if len(c) > MaxCellBytes {
			return tooLarge("the cell in column %d of line %d is longer than %s", i+1, line, Size(MaxCellBytes))
		}
	}
	return nil
}

// notUTF16 refuses a file that begins with UTF-16's byte-order mark (Excel's "Unicode text"),
// naming it, rather than as bytes that are neither UTF-8 nor GBK; r is left at its start.
func notUTF16(r io.ReadSeeker) error {
	var bom [2]byte
	n, err := io.ReadFull(r, bom[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if n == 2 && (bom == [2]byte{0xFF, 0xFE} || bom == [2]byte{0xFE, 0xFF}) {
		return fmt.Errorf("the file is UTF-16 text (it begins with the byte-order mark %X %X): save it again as CSV UTF-8 (or as an xlsx workbook)", bom[0], bom[1])
	}
	return nil
}
