// Over 500 lines for a reason: a TrueType reader and subsetter for the embedded font, its tables
// read and written together.

package documents

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"

	"github.com/kuozheng/kuozheng/domain"
)

// face is a TrueType font read once: its tables and the glyph of every character it maps.
// fpdf parses and subsets the font it is given for every document, at a cost that grows with the
// characters the font maps (7,600 here); cutting it first to the characters a document prints
// makes a document about three times cheaper.
type face struct {
	tables   []table
	glyphOf  map[rune]uint16
	loca     []uint32 // numGlyphs+1 offsets into glyf
	glyf     []byte
	longLoca bool
	// metrics are every glyph's advance width and left side bearing, as hmtx stores them.
	metrics [][4]byte
}

// kept are the tables a cut font keeps (with new glyph ids, tables that refer to glyphs by id,
// such as kern or GSUB, would be wrong; the documents print no ligatures nor kerning).
var kept = map[string]bool{"head": true, "hhea": true, "maxp": true, "OS/2": true, "name": true, "cmap": true, "post": true,
	"loca": true, "glyf": true, "hmtx": true, "cvt ": true, "fpgm": true, "prep": true, "gasp": true}

type table struct {
	tag  string
	data []byte
}

// songtiFace is the embedded font with the glyphs of songtiMore, read on first use.
var songtiFace = sync.OnceValues(func() (*face, error) {
	f, err := readFace(songti)
	if err != nil {
		return nil, err
	}
	more, err := readFace(songtiMore)
	if err != nil {
		return nil, err
	}
	return f, f.add(more, map[rune]rune{0x30FB: 0x00B7, 0x2015: 0x2014})
})

// add gives f the glyphs of more's characters that f lacks, and each rune of alias the glyph of
// the character it names (another code point of the same character). The two fonts must be cut
// from one font: the same units per em, outlines in the same form.
func (f *face) add(more *face, alias map[rune]rune) error {
	if f.unitsPerEm() != more.unitsPerEm() {
		return fmt.Errorf("font: %d units per em beside %d", more.unitsPerEm(), f.unitsPerEm())
	}
	// Appending copies (f.glyf is the embedded file's), after the last glyph's end.
	glyf := slices.Clip(f.glyf[:f.loca[len(f.loca)-1]])
	for _, r := range slices.Sorted(maps.Keys(more.glyphOf)) {
		if _, ok := f.glyphOf[r]; ok {
			continue
		}
		g := more.glyphOf[r]
		if components(more.glyph(g)) != nil {
			return fmt.Errorf("font: the added glyph of U+%04X is composite", r)
		}
		glyf = append(glyf, more.glyph(g)...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		f.glyphOf[r] = uint16(len(f.loca) - 1)
		f.loca = append(f.loca, uint32(len(glyf)))
		f.metrics = append(f.metrics, more.metrics[g])
	}
	f.glyf = glyf
	for r, to := range alias {
		if g, ok := f.glyphOf[to]; ok {
			if _, has := f.glyphOf[r]; !has {
				f.glyphOf[r] = g
			}
		}
	}
	return nil
}

// readFace reads a TrueType font with glyf outlines and a Unicode BMP (format 4) cmap.
func readFace(b []byte) (*face, error) {
	if len(b) < 12 {
		return nil, errors.New("font: too short")
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	f := &face{}
	byTag := map[string][]byte{}
	for i := range n {
		rec := 12 + 16*i
		if rec+16 > len(b) {
			return nil, errors.New("font: table directory cut short")
		}
		tag := string(b[rec : rec+4])
		off, size := int(binary.BigEndian.Uint32(b[rec+8:])), int(binary.BigEndian.Uint32(b[rec+12:]))
		if off < 0 || size < 0 || off+size > len(b) {
			return nil, fmt.Errorf("font: table %q out of the file", tag)
		}
		byTag[tag] = b[off : off+size]
		f.tables = append(f.tables, table{tag, b[off : off+size]})
	}
	for _, tag := range []string{"head", "maxp", "loca", "glyf", "cmap", "hhea", "hmtx"} {
		if byTag[tag] == nil {
			return nil, fmt.Errorf("font: no %q table", tag)
		}
	}
	if len(byTag["head"]) < 54 || len(byTag["maxp"]) < 6 {
		return nil, errors.New("font: head or maxp cut short")
	}
	f.longLoca = binary.BigEndian.Uint16(byTag["head"][50:]) == 1
	glyphs := int(binary.BigEndian.Uint16(byTag["maxp"][4:]))
	loca := byTag["loca"]
	f.glyf = byTag["glyf"]
	f.loca = make([]uint32, glyphs+1)
	for i := range f.loca {
		switch {
		case f.longLoca && 4*i+4 <= len(loca):
			f.loca[i] = binary.BigEndian.Uint32(loca[4*i:])
		case !f.longLoca && 2*i+2 <= len(loca):
			f.loca[i] = 2 * uint32(binary.BigEndian.Uint16(loca[2*i:]))
		default:
			return nil, errors.New("font: loca cut short")
		}
		if f.loca[i] > uint32(len(f.glyf)) || i > 0 && f.loca[i] < f.loca[i-1] {
			return nil, fmt.Errorf("font: glyph %d out of glyf", i)
		}
	}
	hhea, hmtx := byTag["hhea"], byTag["hmtx"]
	if len(hhea) < 36 {
		return nil, errors.New("font: hhea cut short")
	}
	long := int(binary.BigEndian.Uint16(hhea[34:]))
	if long == 0 || long > glyphs || len(hmtx) < 4*long+2*(glyphs-long) {
		return nil, errors.New("font: hmtx cut short")
	}
	f.metrics = make([][4]byte, glyphs)
	for g := range glyphs {
		if g < long {
			copy(f.metrics[g][:], hmtx[4*g:])
		} else {
			copy(f.metrics[g][:2], hmtx[4*(long-1):])
			copy(f.metrics[g][2:], hmtx[4*long+2*(g-long):])
		}
	}
	var err error
	f.glyphOf, err = readCmap(byTag["cmap"], glyphs)
	return f, err
}

// readCmap reads the Windows Unicode BMP subtable (platform 3, encoding 1, format 4).
func readCmap(c []byte, glyphs int) (map[rune]uint16, error) {
	u16 := func(at int) (int, error) {
		if at < 0 || at+2 > len(c) {
			return 0, errors.New("font: cmap cut short")
		}
		return int(binary.BigEndian.Uint16(c[at:])), nil
	}
	n, err := u16(2)
	if err != nil {
		return nil, err
	}
	sub := -1
	for i := range n {
		platform, _ := u16(4 + 8*i)
		encoding, _ := u16(6 + 8*i)
		if platform == 3 && encoding == 1 && 12+8*i <= len(c) {
			sub = int(binary.BigEndian.Uint32(c[8+8*i:]))
		}
	}
	if format, err := u16(sub); err != nil || format != 4 {
		return nil, errors.New("font: no Unicode BMP cmap of format 4")
	}
	segX2, err := u16(sub + 6)
	if err != nil {
		return nil, err
	}
	ends, starts, deltas, ranges := sub+14, sub+16+segX2, sub+16+2*segX2, sub+16+3*segX2
	out := map[rune]uint16{}
	for s := 0; s < segX2; s += 2 {
		end, err1 := u16(ends + s)
		start, err2 := u16(starts + s)
		delta, err3 := u16(deltas + s)
		rangeOff, err4 := u16(ranges + s)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, err
		}
		for ch := start; ch <= end && ch != 0xFFFF; ch++ {
			g := (ch + delta) & 0xFFFF
			if rangeOff != 0 {
				if g, err = u16(ranges + s + rangeOff + 2*(ch-start)); err != nil {
					return nil, err
				}
				if g != 0 {
					g = (g + delta) & 0xFFFF
				}
			}
			if g != 0 && g < glyphs {
				out[rune(ch)] = uint16(g)
			}
		}
	}
	return out, nil
}

// glyph is glyph g's outline.
func (f *face) glyph(g uint16) []byte { return f.glyf[f.loca[g]:f.loca[g+1]] }

// cut returns the font with the glyphs of runes alone (and .notdef, and the parts of composite
// glyphs), numbered from 0 in the order they had, and a cmap that maps runes alone. A rune the
// font has no glyph for is an error: the document would print it as nothing.
func (f *face) cut(runes []rune) ([]byte, error) {
	slices.Sort(runes)
	runes = slices.Compact(runes)
	keep := map[uint16]bool{0: true}
	var todo []uint16
	if err := f.lacks(runes); err != nil {
		return nil, err
	}
	for _, r := range runes {
		if g := f.glyphOf[r]; !keep[g] {
			keep[g] = true
			todo = append(todo, g)
		}
	}
	for len(todo) > 0 {
		g := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, part := range components(f.glyph(g)) {
			if int(part.glyph)+1 < len(f.loca) && !keep[part.glyph] {
				keep[part.glyph] = true
				todo = append(todo, part.glyph)
			}
		}
	}
	old := make([]uint16, 0, len(keep))
	size := 0
	for g := range keep {
		old = append(old, g)
		size += (len(f.glyph(g)) + 3) &^ 3
	}
	slices.Sort(old)
	renumber := make(map[uint16]uint16, len(old))
	for i, g := range old {
		renumber[g] = uint16(i)
	}
	glyf, loca, hmtx := f.renumbered(old, renumber, size)
	cmap := make(map[rune]uint16, len(runes))
	for _, r := range runes {
		cmap[r] = renumber[f.glyphOf[r]]
	}
	return assemble(f.cutTables(kept, len(old), glyf, loca, hmtx, cmapTable(runes, cmap))), nil
}

// cutTables are the tables of f that keep names, those that list glyphs replaced by the cut's:
// its n glyphs' outlines glyf (long loca offsets) and metrics hmtx, and its cmap.
func (f *face) cutTables(keep map[string]bool, n int, glyf, loca, hmtx, cmap []byte) []table {
	tables := make([]table, 0, len(f.tables))
	for _, t := range f.tables {
		if !keep[t.tag] {
			continue
		}
		switch t.tag {
		case "cmap":
			t.data = cmap
		case "loca":
			t.data = loca
		case "glyf":
			t.data = glyf
		case "hmtx":
			t.data = hmtx
		case "head":
			t.data = slices.Clone(t.data)
			binary.BigEndian.PutUint32(t.data[8:], 0)  // checkSumAdjustment, set by assemble
			binary.BigEndian.PutUint16(t.data[50:], 1) // long loca offsets
		case "maxp":
			t.data = slices.Clone(t.data)
			binary.BigEndian.PutUint16(t.data[4:], uint16(n))
		case "hhea":
			t.data = slices.Clone(t.data)
			binary.BigEndian.PutUint16(t.data[34:], uint16(n))
		case "post":
			if len(t.data) < 32 {
				continue
			}
			// Version 3: no glyph names, which would be by the old ids.
			t.data = append(binary.BigEndian.AppendUint32(nil, 0x00030000), t.data[4:32]...)
		}
		tables = append(tables, t)
	}
	return tables
}

// component is one part of a composite glyph: the glyph it uses, and where in the composite
// glyph's bytes that id is written.
type component struct {
	glyph uint16
	at    int
}

// lacks refuses, naming it, the first of runes the font has no glyph for: a document would
// print it as nothing.
func (f *face) lacks(runes []rune) error {
	for _, r := range runes {
		if _, ok := f.glyphOf[r]; !ok {
			return &domain.Error{Kind: domain.KindConflict, Field: "document",
				Detail: fmt.Sprintf("cannot print %q (U+%04X): the documents' font has no glyph for it", r, r)}
		}
	}
	return nil
}

// components lists the parts of a composite glyph (none for a simple one).
func components(g []byte) []component {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil
	}
	const (
		argsAreWords   = 0x0001
		haveScale      = 0x0008
		moreComponents = 0x0020
		haveXYScale    = 0x0040
		haveTwoByTwo   = 0x0080
	)
	var out []component
	for at := 10; at+4 <= len(g); {
		flags := binary.BigEndian.Uint16(g[at:])
		out = append(out, component{binary.BigEndian.Uint16(g[at+2:]), at + 2})
		at += 4 + 2
		if flags&argsAreWords != 0 {
			at += 2
		}
		switch {
		case flags&haveScale != 0:
			at += 2
		case flags&haveXYScale != 0:
			at += 4
		case flags&haveTwoByTwo != 0:
			at += 8
		}
		if flags&moreComponents == 0 {
			break
		}
	}
	return out
}

// cmapTable is a cmap table with one format-4 subtable (Windows, Unicode BMP) mapping runes,
// sorted and without repeats, to their glyphs: a segment a run of consecutive characters, its
// glyphs listed in the glyph array.
func cmapTable(runes []rune, glyphOf map[rune]uint16) []byte {
	type segment struct{ start, end int }
	var segs []segment
	for _, r := range runes {
		if r >= 0xFFFF {
			continue
		}
		if n := len(segs); n > 0 && segs[n-1].end+1 == int(r) {
			segs[n-1].end++
		} else {
			segs = append(segs, segment{int(r), int(r)})
		}
	}
	segs = append(segs, segment{0xFFFF, 0xFFFF})
	n := len(segs)
	search, selector := 2, 0
	for search*2 <= 2*n {
		search *= 2
		selector++
	}
	var glyphs []byte
	ends, starts, deltas, offsets := []byte{}, []byte{}, []byte{}, []byte{}
	for i, s := range segs {
		ends = binary.BigEndian.AppendUint16(ends, uint16(s.end))
		starts = binary.BigEndian.AppendUint16(starts, uint16(s.start))
		if s.start == 0xFFFF {
			deltas = binary.BigEndian.AppendUint16(deltas, 1)
			offsets = binary.BigEndian.AppendUint16(offsets, 0)
			continue
		}
		deltas = binary.BigEndian.AppendUint16(deltas, 0)
		// From this segment's idRangeOffset entry to its first glyph in the array.
		offsets = binary.BigEndian.AppendUint16(offsets, uint16(2*(n-i)+len(glyphs)))
		for ch := s.start; ch <= s.end; ch++ {
			glyphs = binary.BigEndian.AppendUint16(glyphs, glyphOf[rune(ch)])
		}
	}
	length := 16 + 8*n + len(glyphs)
	sub := binary.BigEndian.AppendUint16(nil, 4)
	sub = binary.BigEndian.AppendUint16(sub, uint16(length))
	sub = binary.BigEndian.AppendUint16(sub, 0) // language
	sub = binary.BigEndian.AppendUint16(sub, uint16(2*n))
	sub = binary.BigEndian.AppendUint16(sub, uint16(search))
	sub = binary.BigEndian.AppendUint16(sub, uint16(selector))
	sub = binary.BigEndian.AppendUint16(sub, uint16(2*n-search))
	sub = append(sub, ends...)
	sub = binary.BigEndian.AppendUint16(sub, 0) // reservedPad
	sub = append(append(append(append(sub, starts...), deltas...), offsets...), glyphs...)
	out := []byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12} // version 0, one subtable (3, 1) at 12
	return append(out, sub...)
}

// assemble writes tables as a TrueType file, its directory sorted by tag, every table on a
// four-byte boundary with its checksum, and head's checkSumAdjustment set.
func assemble(tables []table) []byte {
	slices.SortFunc(tables, func(a, b table) int {
		if a.tag < b.tag {
			return -1
		}
		if a.tag > b.tag {
			return 1
		}
		return 0
	})
	n := len(tables)
	search, selector := 1, 0
	for search*2 <= n {
		search *= 2
		selector++
	}
	out := binary.BigEndian.AppendUint32(nil, 0x00010000)
	out = binary.BigEndian.AppendUint16(out, uint16(n))
	out = binary.BigEndian.AppendUint16(out, uint16(16*search))
	out = binary.BigEndian.AppendUint16(out, uint16(selector))
	out = binary.BigEndian.AppendUint16(out, uint16(16*(n-search)))
	at := 12 + 16*n
	size := at
	for _, t := range tables {
		size += (len(t.data) + 3) &^ 3
	}
	out = slices.Grow(out, size-len(out))
	head := -1
	for _, t := range tables {
		out = append(out, t.tag...)
		out = binary.BigEndian.AppendUint32(out, checksum(t.data))
		out = binary.BigEndian.AppendUint32(out, uint32(at))
		out = binary.BigEndian.AppendUint32(out, uint32(len(t.data)))
		at += (len(t.data) + 3) &^ 3
	}
	for _, t := range tables {
		if t.tag == "head" {
			head = len(out)
		}
		out = append(out, t.data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	if head >= 0 {
		binary.BigEndian.PutUint32(out[head+8:], 0xB1B0AFBA-checksum(out))
	}
	return out
}

// checksum is TrueType's table checksum: the sum of its big-endian 32-bit words, zero-padded.
func checksum(b []byte) uint32 {
	var sum uint32
	for len(b) >= 4 {
		sum += binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	if len(b) > 0 {
		var w [4]byte
		copy(w[:], b)
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// subset is the font our own writer embeds in a document, cut as cut cuts it (the same tables,
// the name table with the font's copyright and licence among them) but for the order of its
// glyphs: .notdef, then a glyph for each character the document prints, in the order of the
// characters, then the parts of composite glyphs; a character's glyph id is its CID, the code
// its text is written in.
type subset struct {
	runes []rune // sorted, without repeats: runes[i] is glyph i+1
	// widths are the characters' advance widths in thousandths of the font size, rounded as
	// fpdf rounds them (so that lines wrap and cells align as fpdf's do).
	widths []int
	ttf    []byte
}

// subset cuts f to runes (in any order, repeats allowed; sorted in place). A rune the font has
// no glyph for is an error: the document would print it as nothing.
func (f *face) subset(runes []rune) (*subset, error) {
	slices.Sort(runes)
	runes = slices.Compact(runes)
	if err := f.lacks(runes); err != nil {
		return nil, err
	}
	s := &subset{runes: runes, widths: make([]int, len(runes))}
	scale := 1000.0 / float64(f.unitsPerEm())
	old := make([]uint16, 1, len(runes)+1) // the glyph of each new id
	size := (len(f.glyph(0)) + 3) &^ 3
	for i, r := range runes {
		g := f.glyphOf[r]
		old = append(old, g)
		size += (len(f.glyph(g)) + 3) &^ 3
		s.widths[i] = int(math.Round(scale * float64(binary.BigEndian.Uint16(f.metrics[g][:]))))
	}
	// Composite glyphs' parts, numbered after the characters' glyphs (this font has none).
	var renumber map[uint16]uint16
	for i := 0; i < len(old); i++ {
		for _, part := range components(f.glyph(old[i])) {
			if renumber == nil {
				renumber = make(map[uint16]uint16, len(old))
				for j, g := range old {
					if _, ok := renumber[g]; !ok {
						renumber[g] = uint16(j)
					}
				}
			}
			if _, ok := renumber[part.glyph]; !ok && int(part.glyph)+1 < len(f.loca) {
				renumber[part.glyph] = uint16(len(old))
				old = append(old, part.glyph)
				size += (len(f.glyph(part.glyph)) + 3) &^ 3
			}
		}
	}
	glyf, loca, hmtx := f.renumbered(old, renumber, size)
	cmap := make(map[rune]uint16, len(runes))
	for i, r := range runes {
		cmap[r] = uint16(i + 1)
	}
	s.ttf = assemble(f.cutTables(kept, len(old), glyf, loca, hmtx, cmapTable(runes, cmap)))
	return s, nil
}

// code is the glyph id, and CID, of character r in the subset, and its width; 0 and 0
// (.notdef) for one the subset lacks.
func (s *subset) code(r rune) (uint16, int) {
	if i, ok := slices.BinarySearch(s.runes, r); ok {
		return uint16(i + 1), s.widths[i]
	}
	return 0, 0
}

// unitsPerEm is the font's design units per em (head).
func (f *face) unitsPerEm() int {
	if head := f.table("head"); len(head) >= 20 {
		if u := int(binary.BigEndian.Uint16(head[18:])); u > 0 {
			return u
		}
	}
	return 1000
}

// table is the table of f tagged tag, nil if it has none.
func (f *face) table(tag string) []byte {
	for _, t := range f.tables {
		if t.tag == tag {
			return t.data
		}
	}
	return nil
}

// renumbered are the glyf, loca (long) and hmtx tables of glyphs old, in that order, each glyph
// padded to four bytes and its components' ids renumbered; size is glyf's size.
func (f *face) renumbered(old []uint16, renumber map[uint16]uint16, size int) (glyf, loca, hmtx []byte) {
	glyf = make([]byte, 0, size)
	loca = make([]byte, 0, 4*(len(old)+1))
	hmtx = make([]byte, 0, 4*len(old))
	for _, g := range old {
		loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
		at := len(glyf)
		glyf = append(glyf, f.glyph(g)...)
		for _, c := range components(glyf[at:]) {
			binary.BigEndian.PutUint16(glyf[at+c.at:], renumber[c.glyph])
		}
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		hmtx = append(hmtx, f.metrics[g][:]...)
	}
	return glyf, binary.BigEndian.AppendUint32(loca, uint32(len(glyf))), hmtx
}
