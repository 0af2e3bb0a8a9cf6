package importer

import (
	"fmt"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// Limits on what a file may hold. A file past one is refused as a whole, before any of its rows
// is imported, with an error of kind TooLarge (413 over HTTP) saying which limit and what to do.
// Within them, an import holds at most three batches of rows in memory (each Options.Batch rows
// and MaxBatchBytes of cells: one read ahead, two appending), besides the xlsx file itself (at
// most api.MaxImport over HTTP) and its shared strings.
const (
	// MaxRows is the most rows a file may have besides its header (blank rows are not counted).
	MaxRows = 200_000
	// MaxColumns is the most columns a row may have.
	MaxColumns = 256
	// MaxCellBytes is the longest a cell's text may be, in bytes of UTF-8 (Excel's own limit is
	// 32,767 characters; no field of the ledger comes near this).
	MaxCellBytes = 8 << 10
	// MaxRowBytes is the longest a row of a CSV file may be, in bytes.
	MaxRowBytes = 256 << 10
	// MaxUncompressedBytes is the most an xlsx file may expand to, all its parts together (the
	// sheet read is read as a stream from a temporary file, never held in memory).
	MaxUncompressedBytes = 256 << 20
	// MaxPartBytes is the most a part of an xlsx file other than a sheet or the shared strings
	// (the workbook, styles, theme, pictures) may expand to: those are read into memory whole.
	MaxPartBytes = 2 << 20
	// MaxInMemoryBytes is the most all those parts together may expand to.
	MaxInMemoryBytes = 16 << 20
	// MaxSharedStrings is the most distinct texts an xlsx file's shared strings table may hold;
	// the table is the one part of an xlsx read at random, and costs about 40 bytes of memory a
	// text (40 MiB at the limit).
	MaxSharedStrings = 1_000_000
	// MaxMergedRanges is the most merged ranges the sheet read may have: they are held in memory
	// while it is read.
	MaxMergedRanges = 200_000
	// MaxDirectoryBytes is the most an xlsx file's zip directory (its list of parts) may take.
	MaxDirectoryBytes = 1 << 20
	// MaxBatchBytes is the most bytes of cells a batch of rows holds: a batch ends at
	// Options.Batch rows or at this, whichever comes first.
	MaxBatchBytes = 16 << 20
	// MaxFormatCode is the longest, in characters, a number format code of an xlsx file's styles
	// may be, and MaxFormatTexts how many @ (the cell's text) it may hold: the workbook reader
	// builds what a cell shows from its format by concatenation, and a style of 2 KiB whose
	// format repeats @ 60,000 times kept it busy for minutes a cell at a gigabyte of memory. Its
	// cost grows faster than a format's length: 11 µs a cell for #,##0.00, 17 for a four-part
	// accounting format (57 characters), 113 for 128 zeros, 463 for 255 (Excel's own limit).
	// Number formats a spreadsheet program writes are a few dozen characters, with one @.
	MaxFormatCode  = 128
	MaxFormatTexts = 4
	// MaxFormatPercents is how many % a number format may hold: each multiplies the number by
	// 100 before it is shown, and 127 of them made a cell cost 1.6 ms (a percentage has one).
	MaxFormatPercents = 2
	// maxXMLDepth is how deep the elements of a sheet may nest (a sheet needs about 8).
	maxXMLDepth = 64
	// maxEcho is the most bytes of a file's own text (a column name, a cell) an error or a report
	// repeats back.
	maxEcho = 64
	// maxReason is the longest a rejected row's reason may be (it may quote the row's values).
	maxReason = 320
)

// tooLarge is the error of a file past a limit.
func tooLarge(format string, args ...any) *domain.Error {
	return &domain.Error{Kind: domain.KindTooLarge, Field: "file", Detail: fmt.Sprintf(format, args...)}
}

// Size writes a number of bytes as a reader would: 262,144 bytes (256 KiB).
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%s bytes (%d MiB)", thousands(n), n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%s bytes (%d KiB)", thousands(n), n>>10)
	}
	return thousands(n) + " bytes"
}

// thousands writes n (not negative) with commas between thousands: 200,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// echo shortens text from the file to at most maxEcho bytes, on a character boundary, marking the
// cut, so that an answer never repeats a file's long text back.
func echo(s string) string {
	return domain.Clip(s, maxEcho)
}

// echoHeader lists at most 16 of a header's columns, each shortened, and counts the rest.
func echoHeader(header []string) string {
	const most = 16
	var b strings.Builder
	for i, h := range header {
		if i == most {
			fmt.Fprintf(&b, " and %s more", thousands(int64(len(header)-most)))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", echo(h))
	}
	return b.String()
}
