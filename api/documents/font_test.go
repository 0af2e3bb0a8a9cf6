package documents

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// TestACutFontMapsItsCharactersAloneToTheirOwnGlyphs cuts the embedded font to a few characters
// and reads the cut back: it maps those characters and no other, each to a glyph with the outline
// and metrics it had, the glyphs numbered from 0 (.notdef) in the order they had, and its
// checksums are TrueType's.
func TestACutFontMapsItsCharactersAloneToTheirOwnGlyphs(t *testing.T) {
	whole, err := songtiFace()
	if err != nil {
		t.Fatal(err)
	}
	if len(whole.glyphOf) < 7000 {
		t.Fatalf("the embedded font maps %d characters, want GB2312's 7,000 and more", len(whole.glyphOf))
	}
	text := []rune("缴费单位：赣州市章贡区机械厂 0123‰　，费费")
	ttf, err := whole.cut(slices.Clone(text))
	if err != nil {
		t.Fatal(err)
	}
	cut, err := readFace(ttf)
	if err != nil {
		t.Fatalf("the cut font does not read back: %v", err)
	}
	want := map[rune]bool{}
	for _, r := range text {
		want[r] = true
	}
	if got := slices.Sorted(maps.Keys(cut.glyphOf)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("the cut font maps %q, want %q", string(got), string(slices.Sorted(maps.Keys(want))))
	}
	if len(cut.loca)-1 != len(want)+1 || len(cut.metrics) != len(want)+1 {
		t.Fatalf("the cut has %d glyphs and %d metrics, want one a character and .notdef: %d", len(cut.loca)-1, len(cut.metrics), len(want)+1)
	}
	if !bytes.Equal(cut.glyph(0), padded(whole.glyph(0))) {
		t.Error(".notdef's outline changed in the cut")
	}
	for r, g := range cut.glyphOf {
		old := whole.glyphOf[r]
		if !bytes.Equal(cut.glyph(g), padded(whole.glyph(old))) || cut.metrics[g] != whole.metrics[old] {
			t.Errorf("%q's outline or metrics changed in the cut", r)
		}
		for s, h := range cut.glyphOf {
			if (g < h) != (old < whole.glyphOf[s]) {
				t.Errorf("%q and %q are not in the order they had", r, s)
			}
		}
	}
	if len(ttf) > 40_000 {
		t.Errorf("the cut of %d characters is %d bytes", len(want), len(ttf))
	}
	if sum := checksum(ttf); sum != 0xB1B0AFBA {
		t.Errorf("the file's checksum is %#x, want TrueType's 0xB1B0AFBA", sum)
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	for i := range n {
		rec := ttf[12+16*i:]
		off, size := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		data := slices.Clone(ttf[off : off+size])
		if string(rec[:4]) == "head" {
			binary.BigEndian.PutUint32(data[8:], 0)
		}
		if checksum(data) != binary.BigEndian.Uint32(rec[4:]) {
			t.Errorf("table %q's checksum is wrong", rec[:4])
		}
	}
}

// padded is a copy of b zero-padded to four bytes.
func padded(b []byte) []byte {
	b = slices.Clone(b)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// TestACharacterTheFontLacksIsRefusedByName: 堃 (U+5803) is not in GB2312; a document that would
// print it as nothing is refused, naming the character.
func TestACharacterTheFontLacksIsRefusedByName(t *testing.T) {
	n := Notice{Number: "赣社征〔2006〕章贡-0001", IssuedOn: domain.MustDate("2006-12-31"), Deadline: domain.MustDate("2007-01-15"),
		Name: "赣州市堃龙机械厂", OrgCode: "10000004-0", CountyCode: "360702", CountyName: "章贡区"}
	_, err := n.Render()
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != domain.KindConflict || !strings.Contains(de.Detail, "U+5803") {
		t.Fatalf("printing a name with 堃: %v, want a conflict naming U+5803", err)
	}
}

// TestEveryPrintingPrintsTheSamePages prints a notice of two pages every way documents are
// printed: the same text, and pages identical pixel for pixel, but for our own writer's footers,
// centred on the real page count where fpdf centres the text with {nb} in it (its text is the
// same, spaces aside), and the line-rules printing's line breaks.
func TestEveryPrintingPrintsTheSamePages(t *testing.T) {
	n := longNotice(40)
	var texts []string
	var pages [][]*gray
	for _, p := range Printings {
		pdf, err := n.RenderAs(p)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := n.RenderAs(p)
		if !bytes.Equal(pdf, again) {
			t.Fatalf("printing %d gave different bytes twice", p)
		}
		texts = append(texts, textLines(t, pdf))
		pages = append(pages, rasterize(t, pdf))
		if len(pages[len(pages)-1]) != 2 {
			t.Fatalf("printing %d: %d pages, want 2", p, len(pages[len(pages)-1]))
		}
	}
	if !strings.Contains(texts[0], "责令限期缴纳通知书") {
		t.Fatalf("no title:\n%s", texts[0])
	}
	fpdfs, base := 0, slices.Index(Printings, OwnWriter)
	for i, p := range Printings {
		if p.lineRules() {
			// It breaks lines elsewhere (避头尾): the same text, but for where its lines break.
			if got, want := strings.Join(strings.Fields(texts[i]), ""), strings.Join(strings.Fields(texts[base]), ""); got != want {
				t.Errorf("printing %d's text, its line breaks aside, differs from printing %d's:\n%s\n----\n%s", p, OwnWriter, got, want)
			}
			continue
		}
		if texts[i] != texts[base] {
			t.Errorf("printing %d's text differs from printing %d's:\n%s\n----\n%s", p, OwnWriter, texts[i], texts[base])
		}
		if p == OwnWriter {
			continue
		}
		for j := range 2 {
			if fpdfs > 0 && !bytes.Equal(pages[i][j].pix, pages[fpdfs][j].pix) {
				t.Errorf("page %d differs between printings %d and %d", j+1, p, Printings[fpdfs])
			}
		}
		if fpdfs == 0 {
			fpdfs = i
		}
	}
	for i, p := range Printings {
		if p == OwnWriter {
			for j := range 2 {
				if row := pages[i][j].differsAbove(pages[fpdfs][j], footerTop(pageHeight)); row >= 0 {
					t.Errorf("page %d: our own writer's pixels differ from fpdf's at row %d, above the footer", j+1, row)
				}
			}
		}
	}
}

// TestOwnWriterPrintsThePagesFpdfPrints prints every kind of document with our own writer and
// with fpdf (the font cut to the document's characters): every page is the same pixel for pixel
// above the footer.
func TestOwnWriterPrintsThePagesFpdfPrints(t *testing.T) {
	for _, c := range printedKinds() {
		t.Run(c.name, func(t *testing.T) {
			own, err := c.render(OwnWriter)
			if err != nil {
				t.Fatal(err)
			}
			before, err := c.render(OwnGlyphs)
			if err != nil {
				t.Fatal(err)
			}
			a, b := rasterize(t, own), rasterize(t, before)
			if len(a) != len(b) {
				t.Fatalf("%d pages, fpdf's %d", len(a), len(b))
			}
			for i := range a {
				height := pageHeight
				if a[i].w > a[i].h {
					height = pageWidth
				}
				if row := a[i].differsAbove(b[i], footerTop(height)); row >= 0 {
					t.Errorf("page %d: our own writer's pixels differ from fpdf's at row %d, above the footer", i+1, row)
				}
			}
		})
	}
}

// dpi is the resolution pages are compared at.
const dpi = 40

// gray is a page rasterized by pdftoppm: w by h pixels, a byte each.
type gray struct {
	w, h int
	pix  []byte
}

// rasterize renders pdf's pages with pdftoppm at dpi, in gray.
func rasterize(t *testing.T, pdf []byte) []*gray {
	t.Helper()
	dir := t.TempDir()
	poppler(t, pdf, "pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-", filepath.Join(dir, "page"))
	files, _ := filepath.Glob(filepath.Join(dir, "page*.pgm"))
	slices.Sort(files)
	var out []*gray
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g gray
		var magic string
		var maxval int
		n, err := fmt.Sscan(string(b), &magic, &g.w, &g.h, &maxval)
		if err != nil || n != 4 || magic != "P5" || maxval != 255 || len(b) < g.w*g.h {
			t.Fatalf("%s is not a PGM: %v", f, err)
		}
		g.pix = b[len(b)-g.w*g.h:]
		out = append(out, &g)
	}
	return out
}

// footerTop is the row of a page h mm high where its footer's cell begins.
func footerTop(h float64) int { return int((h - margin) * dpi / 25.4) }

// differsAbove is the first row above row rows where g and o differ, -1 if none does.
func (g *gray) differsAbove(o *gray, rows int) int {
	if g.w != o.w || g.h != o.h {
		return 0
	}
	for y := range min(rows, g.h) {
		if !bytes.Equal(g.pix[y*g.w:(y+1)*g.w], o.pix[y*o.w:(y+1)*o.w]) {
			return y
		}
	}
	return -1
}

// TestEveryGB2312CharacterPrints: every character of GB2312, read by either of the mappings in
// use (A1A4 as U+00B7 or U+30FB, A1AA as U+2014 or U+2015: GB18030 and Go's GBK decoder give the
// first, Python's codec the second), is in the documents' font; a notice to a payer named with
// · and — prints, and pdftotext reads the name back. Before, those two were refused, and with
// them every notice, statement and county list naming such a payer.
func TestEveryGB2312CharacterPrints(t *testing.T) {
	face, err := songtiFace()
	if err != nil {
		t.Fatal(err)
	}
	// testdata/gb2312.txt is GB2312's 7,445 characters as Python's codec reads them (A1A4 as
	// U+30FB, A1AA as U+2015), written by the loop of scripts/subset-font.sh.
	b, err := os.ReadFile(filepath.Join("testdata", "gb2312.txt"))
	if err != nil {
		t.Fatal(err)
	}
	gb := []rune(strings.TrimSuffix(string(b), "\n")) // its first, A1A1, is U+3000, a space
	if len(gb) != 7445 {
		t.Fatalf("testdata/gb2312.txt holds %d characters, want GB2312's 7,445", len(gb))
	}
	var missing []string
	for _, r := range gb {
		if _, ok := face.glyphOf[r]; !ok {
			missing = append(missing, fmt.Sprintf("%q U+%04X", r, r))
		}
	}
	for _, r := range []rune{0x00B7, 0x30FB, 0x2014, 0x2015} {
		if _, ok := face.glyphOf[r]; !ok {
			missing = append(missing, fmt.Sprintf("U+%04X", r))
		}
	}
	if len(missing) > 0 {
		t.Errorf("the documents' font lacks %d characters of GB2312: %v", len(missing), missing[:min(len(missing), 20)])
	}
	notice := Notice{Number: "赣社征〔2006〕章贡-0001", IssuedOn: domain.MustDate("2006-12-31"), Deadline: domain.MustDate("2007-01-15"),
		Name: "赣州市阿卜杜拉·买买提烧烤店——分店", OrgCode: "10000004-0", CountyCode: "360702", CountyName: "章贡区"}
	pdf, err := notice.Render()
	if err != nil {
		t.Fatalf("a notice to a payer named with · and —: %v", err)
	}
	if out := poppler(t, pdf, "pdftotext", "-enc", "UTF-8", "-", "-"); !strings.Contains(string(out), "阿卜杜拉·买买提烧烤店——分店") {
		t.Errorf("pdftotext reads no 阿卜杜拉·买买提烧烤店——分店 in the notice:\n%s", out)
	}
}
