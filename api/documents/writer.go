// Over 500 lines for a reason: a PDF writer of our own (pages, text, tables, rules, a subset font)
// in one place, so that every document prints through the same code.

package documents

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/klauspost/compress/zlib"
)

// writer is our own PDF writer (the OwnWriter and OwnWriterLineRules printings): A4 pages, portrait or landscape, in one
// font, the embedded one cut to the document's characters (a subset) and embedded once as a
// Type0 font of a CIDFontType2 whose CIDs are the subset's glyph ids, encoded Identity-H, with a
// ToUnicode CMap for text extraction. It lays pages out as fpdf does with the calls the documents
// make (unit mm, fpdf's cell margin, baselines, alignment, line feeds and automatic page breaks),
// so that text falls where fpdf puts it (cells align their text horizontally only: the documents
// align none vertically). Its bytes depend on nothing but the document: no clock, no map order,
// zlib at a fixed level.
type writer struct {
	font  *subset
	pages []page
	cur   int // the page cells print on
	// wide documents are landscape and break their own pages.
	wide bool
	// breaks says a cell that would end below the bottom margin goes to a new page.
	breaks bool
	// The position and the sizes of the current page, in mm as fpdf keeps them.
	x, y, lasth float64
	w, h        float64
	size        float64 // the font's size in points
	footer      string
	// lineRules keeps punctuation where Chinese typesetting does at a line's break (carried): the
	// OwnWriterLineRules printing.
	lineRules bool
	// keepTogether breaks no line inside a run of digits and Latin letters nor before any of a
	// run of closing marks (carriedRuns), and keeps a signature with what it closes (doc.keep):
	// the OwnWriterKeepTogether printing.
	keepTogether bool
}

// page is a page's content stream, the footer not yet in it (it needs the page count).
type page struct {
	content []byte
	w, h    float64 // mm
	// size is the font size the content stream last set, 0 for none yet.
	size float64
}

// ptPerMM is fpdf's scale factor k, from mm to points; cellMargin is fpdf's margin in a cell
// (1 mm); a4Width and a4Height are portrait A4 in mm as fpdf has it (595.28 by 841.89 points).
// They are computed as fpdf computes them, so that positions round to the same hundredths.
var (
	ptPerMM           float64 = 72.0 / 25.4
	cellMargin                = 28.35 / ptPerMM / 10
	a4Width, a4Height         = 595.28 / ptPerMM, 841.89 / ptPerMM
)

const (
	bottomMargin = margin + 5
	footerSize   = 9.0
	// baseName is the font's PostScript name.
	baseName = "BousungEG-Light-GB"
	// streamLevel is the zlib level of every stream, klauspost/compress's: its level 2
	// compresses the font, most of a document's bytes and of its cost, four times as fast as
	// compress/zlib's default level, 8% larger. It is part of the printing, like every byte.
	streamLevel = 2
)

// writePDF prints the document body fills with our own writer.
func writePDF(l layout, body func(d *doc), lineRules, keepTogether, fit bool) ([]byte, error) {
	face, err := songtiFace()
	if err != nil {
		return nil, fmt.Errorf("reading the documents' font: %w", err)
	}
	sub, err := face.subset(charactersFor(OwnWriter, l, body))
	if err != nil {
		return nil, err
	}
	w := &writer{font: sub, wide: l.wide, breaks: !l.wide, footer: l.footer, lineRules: lineRules, keepTogether: keepTogether}
	body(&doc{p: w, fit: fit})
	desc, err := songtiDescriptor()
	if err != nil {
		return nil, err
	}
	return w.output(l, desc), nil
}

func (w *writer) addPage() {
	pw, ph := a4Width, a4Height
	if w.wide {
		pw, ph = pageHeight, pageWidth
	}
	// Lines 0.2 mm wide, as fpdf draws them.
	w.pages = append(w.pages, page{w: pw, h: ph, content: append(make([]byte, 0, 4096), "0.57 w\n"...)})
	w.cur = len(w.pages) - 1
	w.w, w.h = pw, ph
	w.x, w.y = margin, margin
}

func (w *writer) setFont(size float64) { w.size = size }

// cell prints s in a cell of cw by ch at the position, as fpdf's CellFormat does (never filled nor
// linked): the cell moves to the next page when it would end below the page's bottom margin, 0
// wide reaches the right margin, border "1" frames it (or any of "LTRB" draws those sides), align
// "L", "C" or "R" places s in it with a margin of 1 mm, and ln says where the position goes
// next: 0 right of the cell, 1 to the left margin below it, 2 below it.
func (w *writer) cell(cw, ch float64, s, border string, ln int, align string) {
	if len(w.pages) == 0 {
		w.addPage()
	}
	if w.breaks && w.y+ch > w.h-bottomMargin {
		x := w.x
		w.addPage()
		w.x = x
	}
	if cw == 0 {
		cw = w.w - margin - w.x
	}
	p := &w.pages[w.cur]
	b := p.content
	border = strings.ToUpper(border)
	if ch > 0 && border == "1" {
		b = appendNums(b, w.x*ptPerMM, (w.h-w.y)*ptPerMM, cw*ptPerMM, -ch*ptPerMM)
		b = append(b, " re S\n"...)
	}
	if border != "1" && border != "" {
		left, top, right, bottom := w.x*ptPerMM, (w.h-w.y)*ptPerMM, (w.x+cw)*ptPerMM, (w.h-(w.y+ch))*ptPerMM
		for _, side := range [...]struct {
			c              string
			x0, y0, x1, y1 float64
		}{{"L", left, top, left, bottom}, {"T", left, top, right, top}, {"R", right, top, right, bottom}, {"B", left, bottom, right, bottom}} {
			if strings.Contains(border, side.c) {
				b = appendNums(b, side.x0, side.y0)
				b = append(b, " m "...)
				b = appendNums(b, side.x1, side.y1)
				b = append(b, " l S\n"...)
			}
		}
	}
	if s != "" {
		var dx float64
		switch {
		case strings.Contains(align, "R"):
			dx = cw - cellMargin - w.width(s)
		case strings.Contains(align, "C"):
			dx = (cw - w.width(s)) / 2
		default:
			dx = cellMargin
		}
		b = append(b, "BT "...)
		if p.size != w.size {
			b = append(b, "/F1 "...)
			b = appendNums(b, w.size)
			b = append(b, " Tf "...)
			p.size = w.size
		}
		b = appendNums(b, (w.x+dx)*ptPerMM, (w.h-(w.y+.5*ch+.3*(w.size/ptPerMM)))*ptPerMM)
		b = append(b, " Td ("...)
		for _, r := range s {
			cid, _ := w.font.code(r)
			for _, c := range [2]byte{byte(cid >> 8), byte(cid)} {
				switch c {
				case '(', ')', '\\':
					b = append(b, '\\', c)
				case '\r':
					b = append(b, '\\', 'r')
				default:
					b = append(b, c)
				}
			}
		}
		b = append(b, ")Tj ET\n"...)
	}
	p.content = b
	w.lasth = ch
	if ln > 0 {
		w.y += ch
		if ln == 1 {
			w.x = margin
		}
	} else {
		w.x += cw
	}
}

// width is the width of s in mm, in the font at its size (fpdf's GetStringWidth).
func (w *writer) width(s string) float64 {
	units := 0
	for _, r := range s {
		_, u := w.font.code(r)
		units += u
	}
	size := w.size / ptPerMM
	return float64(units) * size / 1000
}

// wrap cuts s into lines no wider than width, as doc.wrap does with fpdf (the same widths, summed
// as fpdf sums them), without measuring each line again for every character.
func (w *writer) wrap(s string, width float64) []string {
	var out []string
	var line []rune
	units := 0
	size := w.size / ptPerMM
	for _, r := range s {
		_, u := w.font.code(r)
		if len(line) > 0 && float64(units+u)*size/1000 > width {
			k := 0
			switch {
			case w.keepTogether:
				k = carriedRuns(line, r, func(k int) bool { return float64(w.units(line[len(line)-k:])+u)*size/1000 <= width })
			case w.lineRules:
				k = carried(line, r)
			}
			out = append(out, string(line[:len(line)-k]))
			line = append(line[:0], line[len(line)-k:]...)
			units = 0
			for _, c := range line {
				_, cu := w.font.code(c)
				units += cu
			}
		}
		line = append(line, r)
		units += u
	}
	return append(out, string(line))
}

// carried is how many of a full line's last characters go on to the next line with r, the
// character that did not fit: one when r is punctuation no line may start with (，。：；） and
// the like) or the line's last is one no line may end with (（《“ and the like), so that
// printed lines keep them where Chinese typesetting does (避头尾); else none. A line of one
// character keeps it.
func carried(line []rune, r rune) int {
	if len(line) < 2 {
		return 0
	}
	if strings.ContainsRune(noLineStart, r) || strings.ContainsRune(noLineEnd, line[len(line)-1]) {
		return 1
	}
	return 0
}

// carriedRuns is how many of a full line's last characters go on to the next line with r, the
// character that did not fit, so that the break falls outside a run of characters that join
// (joins: 1,118.60, 2006-07, 91360702MA35000044, 2‰), no line starts with closing punctuation
// however many marks come together ("）：" goes on with the character before it) and none ends
// with opening punctuation. A break between two Chinese characters, or between a Chinese
// character and a run, stays allowed. What goes on must fit on a line with r (fits): when it
// does not, the break keeps the run with the closing punctuation after it, else with the opening
// punctuation before it, else the run alone, else it falls as carried's (a run wider than the
// line breaks as before).
func carriedRuns(line []rune, r rune, fits func(k int) bool) int {
	at := func(i int) rune { // the character at i of line followed by r
		if i < len(line) {
			return line[i]
		}
		return r
	}
	for _, rule := range []struct{ closing, opening bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
		s := len(line) // line[:s] stays, line[s:] goes on
		for s > 0 && (rule.closing && strings.ContainsRune(noLineStart, at(s)) || rule.opening && strings.ContainsRune(noLineEnd, line[s-1]) ||
			joins(line[s-1]) && joins(at(s))) {
			s--
		}
		if s > 0 && fits(len(line)-s) {
			return len(line) - s
		}
	}
	return carried(line, r)
}

// joins reports whether r is one of the characters of amounts, dates, codes and rates a line
// does not break between: ASCII digits and letters, and . , : / - % ‰.
func joins(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || strings.ContainsRune(".,:/-%‰", r)
}

// units is the width of rs in the font's thousandths of an em.
func (w *writer) units(rs []rune) int {
	n := 0
	for _, r := range rs {
		_, u := w.font.code(r)
		n += u
	}
	return n
}

// The punctuation no printed line starts with, and that none ends with.
const (
	noLineStart = "，。、；：！？）》」』”’…—·%,.;:!?)]}"
	noLineEnd   = "（《「『“‘([{"
)

func (w *writer) ln(h float64) {
	w.x = margin
	if h < 0 {
		w.y += w.lasth
	} else {
		w.y += h
	}
}

func (w *writer) setXY(x, y float64) {
	w.x, w.y = margin, y
	if y < 0 {
		w.y = w.h + y
	}
	w.x = x
	if x < 0 {
		w.x = w.w + x
	}
}

func (w *writer) getX() float64 { return w.x }
func (w *writer) getY() float64 { return w.y }

func (w *writer) rect(x, y, rw, rh float64) {
	if len(w.pages) == 0 {
		return
	}
	p := &w.pages[w.cur]
	p.content = appendNums(p.content, x*ptPerMM, (w.h-y)*ptPerMM, rw*ptPerMM, -rh*ptPerMM)
	p.content = append(p.content, " re S\n"...)
}

// appendNums appends vs separated by spaces, to the hundredth, without trailing zeros.
func appendNums(b []byte, vs ...float64) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, ' ')
		}
		at := len(b)
		b = strconv.AppendFloat(b, v, 'f', 2, 64)
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
		if string(b[at:]) == "-0" {
			b = append(b[:at], '0')
		}
	}
	return b
}

// footers print every page's footer, the page count known: l.footer, the page's number and the
// count, centred on the text width at the bottom margin, in 9 points.
func (w *writer) footers() {
	width := textWidth
	if w.wide {
		width = wideWidth
	}
	w.breaks = false
	w.size = footerSize
	for i, p := range w.pages {
		w.cur, w.w, w.h = i, p.w, p.h
		w.x, w.y = margin, p.h-margin
		w.cell(width, 5, fmt.Sprintf("%s　第 %d 页 共 %d 页", w.footer, i+1, len(w.pages)), "", 0, "C")
	}
}

// output writes the document: catalog, page tree, font, metadata (l's title, and l's day at
// midnight in China for its dates), pages, cross-reference table, and a trailer whose /ID is the
// first half of the SHA-256 of all that precedes it: the same document, the same ID.
func (w *writer) output(l layout, desc *descriptor) []byte {
	if len(w.pages) == 0 {
		w.addPage()
	}
	w.footers()
	font := w.font
	const (
		catalog = 1 + iota
		pageTree
		type0
		cidFont
		fontDesc
		fontFile
		toUnicode
		info
		firstPage
	)
	n := firstPage + 2*len(w.pages) // objects, and the free object 0
	offsets := make([]int, n)
	size := 4096 + len(font.ttf)*6/10 + 16*len(font.runes)
	for _, p := range w.pages {
		size += len(p.content) / 2
	}
	b := make([]byte, 0, size)
	b = append(b, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"...)
	obj := func(i int) {
		offsets[i] = len(b)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, " 0 obj\n"...)
	}
	ref := func(i int) { b = append(strconv.AppendInt(b, int64(i), 10), " 0 R"...) }
	end := func() { b = append(b, "\nendobj\n"...) }
	stream := func(i int, dict string, data []byte) {
		obj(i)
		z := deflate(data)
		b = append(b, "<</Filter /FlateDecode /Length "...)
		b = strconv.AppendInt(b, int64(len(z.b)), 10)
		b = append(b, dict...)
		b = append(b, ">>\nstream\n"...)
		b = append(b, z.b...)
		b = append(b, "\nendstream"...)
		z.release()
		end()
	}

	obj(catalog)
	b = append(b, "<</Type /Catalog /Pages "...)
	ref(pageTree)
	b = append(b, ">>"...)
	end()

	obj(pageTree)
	b = append(b, "<</Type /Pages /Count "...)
	b = strconv.AppendInt(b, int64(len(w.pages)), 10)
	b = append(b, " /Kids ["...)
	for i := range w.pages {
		if i > 0 {
			b = append(b, ' ')
		}
		ref(firstPage + 2*i)
	}
	b = append(b, "]>>"...)
	end()

	name := subsetTag(font.runes) + "+" + baseName
	obj(type0)
	b = append(b, "<</Type /Font /Subtype /Type0 /BaseFont /"+name+" /Encoding /Identity-H /DescendantFonts ["...)
	ref(cidFont)
	b = append(b, "] /ToUnicode "...)
	ref(toUnicode)
	b = append(b, ">>"...)
	end()

	obj(cidFont)
	b = append(b, "<</Type /Font /Subtype /CIDFontType2 /BaseFont /"+name+
		" /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> /FontDescriptor "...)
	ref(fontDesc)
	b = append(b, " /CIDToGIDMap /Identity /DW 1000 /W ["...)
	b = appendWidths(b, font.widths)
	b = append(b, "]>>"...)
	end()

	obj(fontDesc)
	b = append(b, "<</Type /FontDescriptor /FontName /"+name...)
	b = fmt.Appendf(b, " /Flags %d /FontBBox [%d %d %d %d] /ItalicAngle %d /Ascent %d /Descent %d /CapHeight %d /StemV %d /FontFile2 ",
		desc.flags, desc.bbox[0], desc.bbox[1], desc.bbox[2], desc.bbox[3], desc.italicAngle, desc.ascent, desc.descent, desc.capHeight, desc.stemV)
	ref(fontFile)
	b = append(b, ">>"...)
	end()

	stream(fontFile, " /Length1 "+strconv.Itoa(len(font.ttf)), font.ttf)
	stream(toUnicode, "", toUnicodeCMap(font.runes))

	obj(info)
	y, m, d := l.on.YMD()
	date := fmt.Sprintf("(D:%04d%02d%02d000000+08'00')", y, m, d)
	b = append(b, "<</Title "...)
	b = appendTextString(b, l.title)
	b = append(b, " /Producer (kuozheng) /CreationDate "+date+" /ModDate "+date+">>"...)
	end()

	for i, p := range w.pages {
		obj(firstPage + 2*i)
		b = append(b, "<</Type /Page /Parent "...)
		ref(pageTree)
		b = append(b, " /MediaBox [0 0 "...)
		b = appendNums(b, p.w*ptPerMM, p.h*ptPerMM)
		b = append(b, "] /Resources <</Font <</F1 "...)
		ref(type0)
		b = append(b, ">>>> /Contents "...)
		ref(firstPage + 2*i + 1)
		b = append(b, ">>"...)
		end()
		stream(firstPage+2*i+1, "", p.content)
	}

	xref := len(b)
	id := sha256.Sum256(b)
	b = append(b, "xref\n0 "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "\n0000000000 65535 f \n"...)
	for _, o := range offsets[1:] {
		b = fmt.Appendf(b, "%010d 00000 n \n", o)
	}
	b = fmt.Appendf(b, "trailer\n<</Size %d /Root %d 0 R /Info %d 0 R /ID [<%x> <%x>]>>\nstartxref\n%d\n%%%%EOF\n",
		n, catalog, info, id[:16], id[:16], xref)
	return b
}

// appendWidths appends the /W entries of the glyphs whose widths are not the default 1000: each
// run of consecutive CIDs as its first CID and the array of their widths.
func appendWidths(b []byte, widths []int) []byte {
	first := true
	for i := 0; i < len(widths); {
		if widths[i] == 1000 {
			i++
			continue
		}
		j := i
		for j < len(widths) && widths[j] != 1000 {
			j++
		}
		if !first {
			b = append(b, ' ')
		}
		first = false
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, " ["...)
		for x, wd := range widths[i:j] {
			if x > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendInt(b, int64(wd), 10)
		}
		b = append(b, ']')
		i = j
	}
	return b
}

// toUnicodeCMap maps every CID of the subset to its character, for text extraction.
func toUnicodeCMap(runes []rune) []byte {
	b := make([]byte, 0, 400+24*len(runes))
	b = append(b, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"+
		"/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n"+
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"+
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"...)
	for at := 0; at < len(runes); at += 100 {
		chunk := runes[at:min(at+100, len(runes))]
		b = strconv.AppendInt(b, int64(len(chunk)), 10)
		b = append(b, " beginbfchar\n"...)
		for i, r := range chunk {
			b = appendHex16(append(b, '<'), uint16(at+i+1))
			b = append(b, "> <"...)
			b = appendUTF16(b, r)
			b = append(b, ">\n"...)
		}
		b = append(b, "endbfchar\n"...)
	}
	return append(b, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"...)
}

// appendTextString appends s as a PDF text string: UTF-16BE with its byte order mark, in hex.
func appendTextString(b []byte, s string) []byte {
	b = append(b, "<FEFF"...)
	for _, r := range s {
		b = appendUTF16(b, r)
	}
	return append(b, '>')
}

// appendUTF16 appends r in UTF-16BE, in hex.
func appendUTF16(b []byte, r rune) []byte {
	if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
		return appendHex16(appendHex16(b, uint16(r1)), uint16(r2))
	}
	return appendHex16(b, uint16(r))
}

// appendHex16 appends v as four hex digits.
func appendHex16(b []byte, v uint16) []byte {
	const digits = "0123456789ABCDEF"
	return append(b, digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15])
}

// subsetTag is the six capital letters naming a subset (PDF 32000 9.6.4), from its characters.
func subsetTag(runes []rune) string {
	h := fnv.New64a()
	for _, r := range runes {
		_ = binary.Write(h, binary.BigEndian, int32(r))
	}
	v := h.Sum64()
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + byte(v%26)
		v /= 26
	}
	return string(tag)
}

// descriptor is what a PDF FontDescriptor says of the font, in thousandths of an em.
type descriptor struct {
	flags, italicAngle, ascent, descent, capHeight, stemV int
	bbox                                                  [4]int
}

// songtiDescriptor describes the embedded font, read on first use.
var songtiDescriptor = sync.OnceValues(func() (*descriptor, error) {
	f, err := songtiFace()
	if err != nil {
		return nil, err
	}
	return readDescriptor(f), nil
})

// readDescriptor reads the font's FontDescriptor from head, hhea, OS/2 and post as fpdf does: the
// ascent and descent hhea's (else OS/2's typographic ones), the cap height OS/2's (version 2 on;
// else the ascent), StemV guessed from the weight class, flags symbolic (4; the font's glyphs are
// not Adobe's standard Latin set), with fixed pitch (1) and italic (64) from post.
func readDescriptor(f *face) *descriptor {
	scale := 1000.0 / float64(f.unitsPerEm())
	i16 := func(b []byte, at int) int {
		if at+2 > len(b) {
			return 0
		}
		return int(int16(binary.BigEndian.Uint16(b[at:])))
	}
	em := func(v int) int { return int(float64(v) * scale) } // truncated, as fpdf does
	d := &descriptor{flags: 4}
	head, hhea, os2, post := f.table("head"), f.table("hhea"), f.table("OS/2"), f.table("post")
	d.bbox = [4]int{em(i16(head, 36)), em(i16(head, 38)), em(i16(head, 40)), em(i16(head, 42))}
	d.ascent, d.descent = em(i16(hhea, 4)), em(i16(hhea, 6))
	if d.ascent == 0 && d.descent == 0 && len(os2) >= 72 {
		d.ascent, d.descent = em(i16(os2, 68)), em(i16(os2, 70))
	}
	d.capHeight = d.ascent
	if len(os2) >= 90 && binary.BigEndian.Uint16(os2) >= 2 {
		d.capHeight = em(i16(os2, 88))
	}
	weight := 400
	if len(os2) >= 6 {
		weight = int(binary.BigEndian.Uint16(os2[4:]))
	}
	d.stemV = 50 + int(math.Pow(float64(weight)/65, 2))
	if len(post) >= 16 {
		d.italicAngle = i16(post, 4)
		if d.italicAngle != 0 {
			d.flags |= 64
		}
		if binary.BigEndian.Uint32(post[12:]) != 0 {
			d.flags |= 1
		}
	}
	return d
}

// zbuf is a compressed stream, its buffer and compressor returned by release for the next one.
type zbuf struct {
	b  []byte
	zw *zlib.Writer
}

func (z *zbuf) Write(p []byte) (int, error) {
	z.b = append(z.b, p...)
	return len(p), nil
}

func (z *zbuf) release() { zbufs.Put(z) }

// zbufs are the compressors, and their buffers, streams are compressed with: a zlib writer
// allocates hundreds of KB, which a document would otherwise throw away with every stream.
var zbufs = sync.Pool{New: func() any {
	z := &zbuf{}
	z.zw, _ = zlib.NewWriterLevel(z, streamLevel)
	return z
}}

// deflate compresses data with zlib at streamLevel; release the result once copied.
func deflate(data []byte) *zbuf {
	z := zbufs.Get().(*zbuf)
	z.b = z.b[:0]
	z.zw.Reset(z)
	_, _ = z.zw.Write(data)
	_ = z.zw.Close()
	return z
}
