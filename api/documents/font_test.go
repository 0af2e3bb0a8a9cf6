package documents

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
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

// TestEveryPrintingPrintsTheSamePages prints a notice of two pages both ways documents are
// printed: the same text, and pages identical pixel for pixel.
func TestEveryPrintingPrintsTheSamePages(t *testing.T) {
	n := longNotice(40)
	var texts, pages [][]byte
	for _, p := range Printings {
		pdf, err := n.RenderAs(p)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := n.RenderAs(p)
		if !bytes.Equal(pdf, again) {
			t.Fatalf("printing %d gave different bytes twice", p)
		}
		texts = append(texts, poppler(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8", "-", "-"))
		dir := t.TempDir()
		poppler(t, pdf, "pdftoppm", "-r", "40", "-gray", "-", filepath.Join(dir, "page"))
		files, _ := filepath.Glob(filepath.Join(dir, "page*"))
		if len(files) != 2 {
			t.Fatalf("printing %d: %d pages, want 2", p, len(files))
		}
		slices.Sort(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, b)
		}
	}
	if !strings.Contains(string(texts[0]), "责令限期缴纳通知书") || !bytes.Equal(texts[0], texts[1]) {
		t.Fatalf("the printings' texts differ:\n%s\n----\n%s", texts[0], texts[1])
	}
	for i := range 2 {
		if !bytes.Equal(pages[i], pages[2+i]) {
			t.Errorf("page %d differs between the printings", i+1)
		}
	}
}
