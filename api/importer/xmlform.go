package importer

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"unicode/utf8"
)

// xmlForm follows, as xmlScan reads a part's bytes, what a streaming XML parser stops at: an end
// tag that closes another element than the one open, a reference to an entity XML does not
// define, a part that ends with elements still open. excelize reads a sheet's rows through such
// a parser and, when it stops, ends the sheet there without an error: a damaged sheet would be
// imported up to the damage and the rest dropped in silence. Found here, before any row is
// imported, the whole file is refused.
type xmlForm struct {
	open  []uint64 // the qualified names of the elements open, outermost first, hashed
	root  bool     // the root element was opened
	inRef bool     // reading an entity reference of the text, after its '&'
	ref   []byte   // the reference read so far
	carry []byte   // the first bytes of a character the next bytes end
	// declared: the part declares an encoding other than UTF-8 (the spreadsheet library decodes
	// it), so its bytes are checked for control characters only.
	declared bool
}

// declares reads the encoding a part's XML declaration names, if any, from its first bytes; a
// part that names none, or UTF-8, is UTF-8.
func (f *xmlForm) declares(head []byte) {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	end := bytes.Index(head, []byte("?>"))
	if !bytes.HasPrefix(head, []byte("<?xml")) || end < 0 {
		return
	}
	decl := head[:end]
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return
	}
	v := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n=")
	if len(v) == 0 || (v[0] != '"' && v[0] != '\'') {
		return
	}
	name, _, _ := bytes.Cut(v[1:], v[:1])
	switch strings.ToLower(string(name)) {
	case "utf-8", "utf8":
	default:
		f.declared = true
	}
}

var formSeed = maphash.MakeSeed()

// tagName is the qualified name a tag (without its angle brackets and, for an end tag, its '/')
// begins with.
func tagName(tag []byte) []byte {
	if end := bytes.IndexAny(tag, " \t\r\n/"); end >= 0 {
		return tag[:end]
	}
	return tag
}

// start opens the element of a start tag; closed, a self-closing one, opens and closes it.
func (f *xmlForm) start(tag []byte, closed bool) error {
	if len(f.open) == 0 && f.root {
		return fmt.Errorf("an element <%s> after the root element closed", echo(string(tagName(tag))))
	}
	f.root = true
	if err := refsIn(tag); err != nil {
		return err
	}
	if !closed {
		f.open = append(f.open, maphash.Bytes(formSeed, tagName(tag)))
	}
	return nil
}

// end closes the element an end tag names, which must be the one open.
func (f *xmlForm) end(tag []byte) error {
	name := tagName(tag)
	if len(f.open) == 0 || f.open[len(f.open)-1] != maphash.Bytes(formSeed, name) {
		return fmt.Errorf("</%s> closes no element open there", echo(string(name)))
	}
	f.open = f.open[:len(f.open)-1]
	return nil
}

// text checks the entity references of the next bytes of text (a reference may span calls).
func (f *xmlForm) text(p []byte) error {
	for len(p) > 0 {
		if !f.inRef {
			i := bytes.IndexByte(p, '&')
			if i < 0 {
				return nil
			}
			f.inRef, f.ref = true, f.ref[:0]
			p = p[i+1:]
			continue
		}
		i := bytes.IndexByte(p, ';')
		if i < 0 {
			i = len(p)
		}
		if len(f.ref)+i > maxRef {
			return fmt.Errorf("&%s… is no entity reference", echo(string(append(f.ref, p[:min(i, maxRef)]...))))
		}
		f.ref = append(f.ref, p[:i]...)
		if i == len(p) {
			return nil
		}
		if !validRef(f.ref) {
			return fmt.Errorf("&%s; is no entity XML defines", echo(string(f.ref)))
		}
		f.inRef = false
		p = p[i+1:]
	}
	return nil
}

// chars checks that the next bytes of the part, tags and text alike, are UTF-8 and characters
// XML allows (a character may span calls): a parser stops at a control character or a byte that
// is not UTF-8 as it does at a malformed tag.
func (f *xmlForm) chars(p []byte) error {
	for len(f.carry) > 0 && len(p) > 0 {
		f.carry, p = append(f.carry, p[0]), p[1:]
		if utf8.FullRune(f.carry) {
			err := charOf(f.carry)
			f.carry = f.carry[:0]
			if err != nil {
				return err
			}
		}
	}
	for i := 0; i < len(p); {
		if c := p[i]; c < utf8.RuneSelf || f.declared {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return fmt.Errorf("it holds the character U+%04X, which XML does not allow", c)
			}
			i++
			continue
		}
		if !utf8.FullRune(p[i:]) {
			f.carry = append(f.carry, p[i:]...)
			return nil
		}
		if err := charOf(p[i:]); err != nil {
			return err
		}
		_, n := utf8.DecodeRune(p[i:])
		i += n
	}
	return nil
}

// charOf checks the character p begins with, whole.
func charOf(p []byte) error {
	r, n := utf8.DecodeRune(p)
	switch {
	case r == utf8.RuneError && n <= 1:
		return fmt.Errorf("it holds the byte 0x%02X, which is not UTF-8 (the parts of an xlsx file are UTF-8 text)", p[0])
	case !xmlChar(r):
		return fmt.Errorf("it holds the character U+%04X, which XML does not allow", r)
	}
	return nil
}

// xmlChar reports a character XML allows in a document.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// finish checks that the part ended whole: its root element opened and closed, no reference or
// character cut.
func (f *xmlForm) finish() error {
	switch {
	case len(f.carry) > 0:
		return fmt.Errorf("it ends inside a character: the byte 0x%02X begins one that is not whole", f.carry[0])
	case f.inRef:
		return fmt.Errorf("it ends inside the entity reference &%s", echo(string(f.ref)))
	case !f.root:
		return fmt.Errorf("it holds no element")
	case len(f.open) > 0:
		return fmt.Errorf("it ends with %d elements still open (cut short?)", len(f.open))
	}
	return nil
}

// maxRef is the longest entity reference read (between '&' and ';'): the longest XML defines,
// #x10FFFF or #1114111, is 8 bytes; the rest leaves room for leading zeros, which XML allows.
const maxRef = 32

// refsIn checks the entity references of a whole tag (its attributes' values).
func refsIn(tag []byte) error {
	for {
		i := bytes.IndexByte(tag, '&')
		if i < 0 {
			return nil
		}
		tag = tag[i+1:]
		j := bytes.IndexByte(tag, ';')
		if j < 0 || j > maxRef || !validRef(tag[:j]) {
			return fmt.Errorf("&%s is no entity reference XML defines", echo(string(tag[:min(max(j, 0), maxRef)])))
		}
		tag = tag[j+1:]
	}
}

// validRef reports whether ref (between '&' and ';') is one of XML's five entities, or a
// character reference to a character XML allows.
func validRef(ref []byte) bool {
	switch string(ref) {
	case "lt", "gt", "amp", "quot", "apos":
		return true
	}
	if len(ref) < 2 || ref[0] != '#' {
		return false
	}
	digits, base := ref[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || digits[0] == '+' || digits[0] == '-' {
		return false
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil {
		return false
	}
	return xmlChar(rune(n))
}
