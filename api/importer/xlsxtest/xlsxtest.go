// Package xlsxtest writes xlsx files for tests, among them decompression bombs: files of a few
// megabytes whose sheet expands to gigabytes, written in milliseconds because the sheet is deflated
// by hand as one run of back-references rather than compressed by a compressor.
package xlsxtest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"hash/crc32"
	"io"
	"strings"
)

// Cells is a row of inline-string cells, as a sheet's XML writes it.
func Cells(values ...string) string {
	var b strings.Builder
	b.WriteString("<row>")
	for _, v := range values {
		b.WriteString(`<c t="inlineStr"><is><t>`)
		_ = xml.EscapeText(&b, []byte(v))
		b.WriteString("</t></is></c>")
	}
	b.WriteString("</row>")
	return b.String()
}

// Sheet is a worksheet's XML: head, then unit n times, then tail, inside sheetData.
type Sheet struct {
	Head string
	Unit string
	N    int
	Tail string
	// DeclaredSize, when not 0, is the uncompressed size the zip entry claims instead of the true
	// one (a lying archive).
	DeclaredSize uint64
	// Cut ends the sheet after tail, inside sheetData (a sheet cut short).
	Cut bool
}

const (
	sheetStart = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetEnd = `</sheetData></worksheet>`
)

// Size is how many bytes the sheet's XML expands to.
func (s Sheet) Size() uint64 {
	return uint64(len(sheetStart)+len(s.Head)+len(s.Tail)+len(s.end())) + uint64(len(s.Unit))*uint64(s.N)
}

// end is what closes the sheet: nothing for one cut short.
func (s Sheet) end() string {
	if s.Cut {
		return ""
	}
	return sheetEnd
}

// Rows makes a sheet of a header row and rows, each repeated once.
func Rows(rows ...[]string) Sheet {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(Cells(r...))
	}
	return Sheet{Head: b.String()}
}

// File writes a workbook whose only sheet is s; extra parts, if any, are added as given.
func File(s Sheet, extra map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	part := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			panic(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			panic(err)
		}
	}
	part("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
		`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>`+
		`<Default Extension="xml" ContentType="application/xml"/>`+
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`+
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`+
		`</Types>`)
	part("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>`+
		`</Relationships>`)
	part("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
		`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`+
		`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	part("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`+
		`</Relationships>`)
	for name, body := range extra {
		part(name, body)
	}
	head, tail := sheetStart+s.Head, s.Tail+s.end()
	var z bytes.Buffer
	crc := repeat(&z, head, s.Unit, s.N, tail)
	size := s.Size()
	if s.DeclaredSize != 0 {
		size = s.DeclaredSize
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(z.Len()), UncompressedSize64: size})
	if err != nil {
		panic(err)
	}
	if _, err := w.Write(z.Bytes()); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// repeat writes head, unit n times and tail as one deflate block with the fixed Huffman codes:
// head and the first unit as literals, the other units as copies of the unit before, 258 bytes a
// copy; it returns the CRC-32 of what it expands to. A short unit (or none) is written as
// literals.
func repeat(w *bytes.Buffer, head, unit string, n int, tail string) uint32 {
	bw := &bitWriter{w: w}
	bw.bits(1, 1) // the last block
	bw.bits(1, 2) // fixed Huffman codes
	crc := crc32.Update(0, crc32.IEEETable, []byte(head))
	bw.literals(head)
	if n > 0 {
		bw.literals(unit)
		rest := (n - 1) * len(unit)
		if len(unit) < 3 || len(unit) > 32768 || rest < 3 {
			for range n - 1 {
				bw.literals(unit)
			}
			rest = 0
		}
		for rest > 0 {
			take := min(258, rest)
			if left := rest - take; left > 0 && left < 3 {
				take -= 3 - left
			}
			bw.copy(take, len(unit))
			rest -= take
		}
		crc = crcRepeat(crc, unit, n)
	}
	crc = crc32.Update(crc, crc32.IEEETable, []byte(tail))
	bw.literals(tail)
	bw.code(256)
	bw.flush()
	return crc
}

// crcRepeat extends crc over unit repeated n times, a megabyte at a time.
func crcRepeat(crc uint32, unit string, n int) uint32 {
	per := max(1, (1<<20)/max(1, len(unit)))
	chunk := []byte(strings.Repeat(unit, min(per, n)))
	for ; n >= per; n -= per {
		crc = crc32.Update(crc, crc32.IEEETable, chunk)
	}
	return crc32.Update(crc, crc32.IEEETable, chunk[:n*len(unit)])
}

var (
	lengthBase  = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// bitWriter writes a deflate stream, least significant bit first.
type bitWriter struct {
	w   *bytes.Buffer
	acc uint64
	n   uint
}

func (b *bitWriter) bits(v uint64, n uint) {
	b.acc |= v << b.n
	b.n += n
	for b.n >= 8 {
		b.w.WriteByte(byte(b.acc))
		b.acc >>= 8
		b.n -= 8
	}
}

// huffman writes a Huffman code of n bits, which deflate stores most significant bit first.
func (b *bitWriter) huffman(code uint64, n uint) {
	var r uint64
	for i := uint(0); i < n; i++ {
		r = r<<1 | (code>>i)&1
	}
	b.bits(r, n)
}

// code writes a symbol of the fixed literal/length alphabet.
func (b *bitWriter) code(sym int) {
	switch {
	case sym < 144:
		b.huffman(uint64(0x30+sym), 8)
	case sym < 256:
		b.huffman(uint64(0x190+sym-144), 9)
	case sym < 280:
		b.huffman(uint64(sym-256), 7)
	default:
		b.huffman(uint64(0xc0+sym-280), 8)
	}
}

func (b *bitWriter) literals(s string) {
	for i := 0; i < len(s); i++ {
		b.code(int(s[i]))
	}
}

// copy writes a back-reference of length bytes (3 to 258) at distance dist (1 to 32768).
func (b *bitWriter) copy(length, dist int) {
	i := len(lengthBase) - 1
	if length != 258 {
		i = 0
		for i+1 < len(lengthBase)-1 && lengthBase[i+1] <= length {
			i++
		}
	}
	b.code(257 + i)
	b.bits(uint64(length-lengthBase[i]), lengthExtra[i])
	j := 0
	for j+1 < len(distBase) && distBase[j+1] <= dist {
		j++
	}
	b.huffman(uint64(j), 5)
	b.bits(uint64(dist-distBase[j]), distExtra[j])
}

func (b *bitWriter) flush() {
	if b.n > 0 {
		b.bits(0, 8-b.n)
	}
}
