// Package importer loads the survey's and registration drives' spreadsheets into the ledger: CSV
// (UTF-8 or GBK) or xlsx, one kind of row per file, Chinese or English column names, every row
// checked and reported, every row's idempotency key derived from its content and position so
// that an import can be re-run or resumed without appending anything twice.
package importer

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Encodings of CSV files.
const (
	EncodingUTF8 = "utf-8"
	EncodingGBK  = "gbk"
)

// Table is a file's header and rows, as text.
type Table struct {
	Header []string
	Rows   [][]string
	// Lines holds each row's line number in the file (1 is the header).
	Lines []int
	// Encoding is what the file was read as.
	Encoding string
}

// Read reads a CSV or xlsx file. For CSV, encoding is utf-8, gbk, or "" to detect (a file that
// is not valid UTF-8 is read as GBK, which every GB 2312 file also is).
func Read(r io.Reader, name, encoding string) (*Table, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(strings.ToLower(name), ".xlsx") || bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return readXLSX(data)
	}
	enc := strings.ToLower(strings.ReplaceAll(encoding, "_", "-"))
	switch enc {
	case "":
		enc = EncodingUTF8
		if !utf8.Valid(data) {
			enc = EncodingGBK
		}
	case "utf8":
		enc = EncodingUTF8
	case "gb2312", "gb18030", "cp936":
		enc = EncodingGBK
	case EncodingUTF8, EncodingGBK:
	default:
		return nil, fmt.Errorf("unknown encoding %q: want utf-8 or gbk", encoding)
	}
	if enc == EncodingGBK {
		dec, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), data)
		if err != nil {
			return nil, fmt.Errorf("the file is not valid GBK: %w", err)
		}
		data = dec
	} else if !utf8.Valid(data) {
		return nil, fmt.Errorf("the file is not valid UTF-8 (is it GBK? give --encoding gbk)")
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	t := &Table{Encoding: enc}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("CSV: %w", err)
		}
		if t.Header == nil {
			t.Header = rec
			continue
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		t.Rows = append(t.Rows, rec)
		t.Lines = append(t.Lines, line)
	}
	if t.Header == nil {
		return nil, fmt.Errorf("the file is empty: a header row is required")
	}
	return t, nil
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func readXLSX(data []byte) (*Table, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("xlsx: no sheet")
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	t := &Table{Encoding: "xlsx"}
	for i, rec := range rows {
		if t.Header == nil {
			if blank(rec) {
				continue
			}
			t.Header = rec
			continue
		}
		if blank(rec) {
			continue
		}
		t.Rows = append(t.Rows, rec)
		t.Lines = append(t.Lines, i+1)
	}
	if t.Header == nil {
		return nil, fmt.Errorf("xlsx: the first sheet is empty: a header row is required")
	}
	return t, nil
}
