// Over 500 lines for a reason: the scanner of the generated decoder: every JSON token it reads, in
// one place.

package domain

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/bits"
	"unicode/utf8"
)

// scanner reads an event as Encode writes it, for the decoder generated into codec_gen.go:
// compact JSON (no whitespace), every object's keys in its struct's field order, strings of valid
// UTF-8 whose escapes name no surrogate, integers with neither fraction nor exponent nor minus
// zero. Each method reads one token or value and reports false on anything else, leaving the
// position anywhere: the caller then gives up, and decodeFallback, which reads any JSON, decides
// what the input means. So a method may refuse more than the fallback refuses, but never accepts
// what the fallback refuses, nor reads a value otherwise than it does.
type scanner struct {
	data []byte
	pos  int
	// buf holds a string's bytes with its escapes undone, until the next string is read.
	buf []byte
}

// maxRawDepth bounds the nesting of a raw JSON value the scanner checks; deeper values go to the
// fallback.
const maxRawDepth = 64

// plainByte marks the bytes a string holds as they are: printable ASCII but the quote and the
// backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainASCII reports whether d[i:j], which holds no quote, holds only plain bytes (plainByte),
// testing eight at once: a byte below 0x20 borrows when 0x20 is taken from it, which sets its high
// bit, as a byte at or above 0x80 has it; a backslash is a zero byte once xored with backslashes,
// and borrows when 1 is taken from it. A borrow may also mark bytes above the one that borrowed,
// never a byte below. When fewer than eight bytes are left, the last eight before j are tested
// again: they may reach before i, so a plain string may be refused (and read by textFrom), never
// another accepted.
func plainASCII(d []byte, i, j int) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	special := func(x uint64) uint64 {
		b := x ^ (ones * '\\')
		return ((x - ones*0x20) | x | (b-ones)&^b) & highs
	}
	seg := d[i:j]
	for len(seg) >= 16 {
		if special(binary.LittleEndian.Uint64(seg))|special(binary.LittleEndian.Uint64(seg[8:])) != 0 {
			return false
		}
		seg = seg[16:]
	}
	if len(seg) >= 8 {
		if special(binary.LittleEndian.Uint64(seg)) != 0 {
			return false
		}
		seg = seg[8:]
	}
	switch {
	case len(seg) == 0:
		return true
	case j >= 8:
		return special(binary.LittleEndian.Uint64(d[j-8:j])) == 0
	}
	for _, c := range seg {
		if !plainByte[c] {
			return false
		}
	}
	return true
}

// expect reads the byte c.
func (s *scanner) expect(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// after reads what follows a value of an object or array that c closes: a comma (done false,
// another member follows) or c (done true).
func (s *scanner) after(c byte) (done, ok bool) {
	if s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',':
			s.pos++
			return false, true
		case c:
			s.pos++
			return true, true
		}
	}
	return false, false
}

// null reads null.
func (s *scanner) null() bool {
	if s.pos+4 <= len(s.data) && string(s.data[s.pos:s.pos+4]) == "null" {
		s.pos += 4
		return true
	}
	return false
}

// text reads a string and returns its bytes with the escapes undone. The bytes are the input's
// or the scanner's buffer's: valid until the next string is read.
func (s *scanner) text() ([]byte, bool) {
	d, i := s.data, s.pos
	if i >= len(d) || d[i] != '"' {
		return nil, false
	}
	i++
	// Most strings are plain ASCII: the bytes up to the next quote, checked eight at a time.
	if n := bytes.IndexByte(d[i:], '"'); n >= 0 && plainASCII(d, i, i+n) {
		s.pos = i + n + 1
		return d[i : i+n], true
	}
	return s.textFrom(i)
}

// textFrom reads the rest of a string from d[i], just after its opening quote, a byte at a time:
// escapes, UTF-8 sequences (each checked) and plain bytes.
func (s *scanner) textFrom(i int) ([]byte, bool) {
	d, start := s.data, i
	for {
		for i < len(d) && plainByte[d[i]] {
			i++
		}
		if i >= len(d) {
			return nil, false
		}
		switch c := d[i]; {
		case c == '"':
			s.pos = i + 1
			return d[start:i], true
		case c == '\\':
			s.buf = append(s.buf[:0], d[start:i]...)
			return s.unescape(i)
		case c < 0x20:
			return nil, false
		default:
			n, ok := runeLen(d[i:])
			if !ok {
				return nil, false
			}
			i += n
		}
	}
}

// runeLen is the length of the valid UTF-8 sequence b starts with.
func runeLen(b []byte) (int, bool) {
	r, n := utf8.DecodeRune(b)
	return n, r != utf8.RuneError || n > 1
}

// unescape reads the rest of a string from d[i], at a backslash, appending it to s.buf with its
// escapes undone. Escapes of surrogates (halves of a pair, or lone) go to the fallback: Encode
// writes none.
func (s *scanner) unescape(i int) ([]byte, bool) {
	d := s.data
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return s.buf, true
		case c == '\\':
			if i+1 >= len(d) {
				return nil, false
			}
			switch e := d[i+1]; e {
			case '"', '\\', '/':
				s.buf = append(s.buf, e)
			case 'b':
				s.buf = append(s.buf, '\b')
			case 'f':
				s.buf = append(s.buf, '\f')
			case 'n':
				s.buf = append(s.buf, '\n')
			case 'r':
				s.buf = append(s.buf, '\r')
			case 't':
				s.buf = append(s.buf, '\t')
			case 'u':
				r, ok := hex4(d[i+2:])
				if !ok || (r >= 0xD800 && r < 0xE000) {
					return nil, false
				}
				s.buf = utf8.AppendRune(s.buf, r)
				i += 4
			default:
				return nil, false
			}
			i += 2
		case c < 0x20:
			return nil, false
		case c < 0x80:
			s.buf = append(s.buf, c)
			i++
		default:
			n, ok := runeLen(d[i:])
			if !ok {
				return nil, false
			}
			s.buf = append(s.buf, d[i:i+n]...)
			i += n
		}
	}
	return nil, false
}

// hex4 reads the four hexadecimal digits b starts with.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// plainText reads a string written without escapes and returns its bytes, the input's.
func (s *scanner) plainText() ([]byte, bool) {
	start := s.pos
	b, ok := s.text()
	return b, ok && s.pos-start == len(b)+2
}

// readString reads a string into *p, a string of its own unless *p holds the same already.
func (s *scanner) readString(p *string) bool {
	b, ok := s.text()
	if ok && string(b) != *p {
		*p = string(b)
	}
	return ok
}

// readInsurance reads a string into *p; one of the five insurances is the name they all share,
// anything else a string of its own.
func (s *scanner) readInsurance(p *Insurance) bool {
	// The five names as Encode writes them, compared in place; anything else as any string.
	d, i := s.data, s.pos
	switch {
	case i+9 <= len(d) && string(d[i:i+9]) == `"pension"`:
		*p, s.pos = Pension, i+9
		return true
	case i+14 <= len(d) && string(d[i:i+14]) == `"unemployment"`:
		*p, s.pos = Unemployment, i+14
		return true
	case i+9 <= len(d) && string(d[i:i+9]) == `"medical"`:
		*p, s.pos = Medical, i+9
		return true
	case i+13 <= len(d) && string(d[i:i+13]) == `"work_injury"`:
		*p, s.pos = WorkInjury, i+13
		return true
	case i+11 <= len(d) && string(d[i:i+11]) == `"maternity"`:
		*p, s.pos = Maternity, i+11
		return true
	}
	b, ok := s.text()
	if !ok {
		return false
	}
	switch string(b) {
	case string(Pension):
		*p = Pension
	case string(Unemployment):
		*p = Unemployment
	case string(Medical):
		*p = Medical
	case string(WorkInjury):
		*p = WorkInjury
	case string(Maternity):
		*p = Maternity
	default:
		*p = Insurance(b)
	}
	return true
}

// integer reads an integer as Encode writes it: 0, or a digit 1-9 and more digits, with a minus
// before when signed; a negative one's magnitude is at most 1<<63 (minus zero goes to the
// fallback), a positive one's at most max. It returns a negative integer as two's complement.
func (s *scanner) integer(signed bool, max uint64) (uint64, bool) {
	d, i := s.data, s.pos
	neg := false
	if signed && i < len(d) && d[i] == '-' {
		neg = true
		i++
	}
	if i >= len(d) || d[i] < '0' || d[i] > '9' {
		return 0, false
	}
	if d[i] == '0' {
		s.pos = i + 1
		return 0, !neg
	}
	first := i
	var u uint64
	n := 0
	if i+8 <= len(d) {
		n, u = digits8(binary.LittleEndian.Uint64(d[i:]))
		i += n
	}
	if n == 0 || n == 8 {
		// Fewer than eight bytes were left, or there are more digits: the rest one at a time.
		// Nineteen digits cannot overflow; a twentieth may.
		for end := min(len(d), first+19); i < end && d[i] >= '0' && d[i] <= '9'; i++ {
			u = u*10 + uint64(d[i]-'0')
		}
		if i < len(d) && d[i] >= '0' && d[i] <= '9' {
			c := uint64(d[i] - '0')
			if u > (math.MaxUint64-c)/10 {
				return 0, false
			}
			u = u*10 + c
			if i++; i < len(d) && d[i] >= '0' && d[i] <= '9' {
				return 0, false
			}
		}
	}
	s.pos = i
	switch {
	case neg:
		return -u, u <= 1<<63
	case u > max:
		return 0, false
	}
	return u, true
}

// digits8 reads the decimal digits the eight bytes of x (little-endian: its low byte first)
// start with: how many there are and their value. A byte is a digit when its high nibble is 3
// and stays 3 once 6 is added to it; a carry out of a byte that is no digit may spoil the test of
// the bytes above it, never below, so the lowest byte found is the first that is no digit. The
// digits, moved to the top and taken as 0-9, are then summed in pairs, fours and eights.
func digits8(x uint64) (int, uint64) {
	const lows, highs = 0x0f0f0f0f0f0f0f0f, 0xf0f0f0f0f0f0f0f0
	other := (x&highs | (x+0x0606060606060606)&highs>>4) ^ 0x3333333333333333
	n := bits.TrailingZeros64(other) / 8
	if n == 0 {
		return 0, 0
	}
	v := (x & lows) << (64 - 8*n)
	v = (v * (10<<8 + 1)) >> 8 & 0x00ff00ff00ff00ff
	v = (v * (100<<16 + 1)) >> 16 & 0x0000ffff0000ffff
	v = (v * (10000<<32 + 1)) >> 32
	return n, v
}

// readInt64 reads an integer within int64 into *p.
func (s *scanner) readInt64(p *int64) bool {
	u, ok := s.integer(true, math.MaxInt64)
	*p = int64(u)
	return ok
}

// readFen reads an amount as Fen.UnmarshalJSON does: an integer within int64.
func (s *scanner) readFen(p *Fen) bool {
	return s.readInt64((*int64)(p))
}

// readInt reads an integer within int into *p.
func (s *scanner) readInt(p *int) bool {
	var n int64
	ok := s.readInt64(&n)
	*p = int(n)
	return ok && int64(int(n)) == n
}

// readUint64 reads an integer within uint64 into *p.
func (s *scanner) readUint64(p *uint64) bool {
	u, ok := s.integer(false, math.MaxUint64)
	*p = u
	return ok
}

// readBool reads true or false into *p.
func (s *scanner) readBool(p *bool) bool {
	switch d, i := s.data, s.pos; {
	case i+4 <= len(d) && string(d[i:i+4]) == "true":
		*p = true
		s.pos += 4
	case i+5 <= len(d) && string(d[i:i+5]) == "false":
		*p = false
		s.pos += 5
	default:
		return false
	}
	return true
}

// readDate reads a date as Date.UnmarshalText does: a string, "" for the zero Date.
func (s *scanner) readDate(p *Date) bool {
	// A date as Encode writes it is ten bytes between quotes; dateText accepts them only if
	// they are digits and dashes, so none is an escape. Anything else is read as any string.
	if d, i := s.data, s.pos; i+12 <= len(d) && d[i] == '"' && d[i+11] == '"' {
		if v, ok := dateText(d[i+1 : i+11]); ok {
			*p, s.pos = v, i+12
			return true
		}
	}
	b, ok := s.text()
	if !ok {
		return false
	}
	*p, ok = dateText(b)
	return ok
}

// readPeriod reads a period as Period.UnmarshalText does: a string, "" for the zero Period.
func (s *scanner) readPeriod(p *Period) bool {
	// Seven bytes between quotes, as readDate reads ten.
	if d, i := s.data, s.pos; i+9 <= len(d) && d[i] == '"' && d[i+8] == '"' {
		if v, ok := periodText(d[i+1 : i+8]); ok {
			*p, s.pos = v, i+9
			return true
		}
	}
	b, ok := s.text()
	if !ok {
		return false
	}
	*p, ok = periodText(b)
	return ok
}

// readRaw reads any JSON value into *p, a copy of its bytes.
func (s *scanner) readRaw(p *json.RawMessage) bool {
	start := s.pos
	if !s.skip(0) {
		return false
	}
	*p = bytes.Clone(s.data[start:s.pos])
	return true
}

// skip reads a JSON value nested depth deep.
func (s *scanner) skip(depth int) bool {
	if depth > maxRawDepth || s.pos >= len(s.data) {
		return false
	}
	switch s.data[s.pos] {
	case '{':
		s.pos++
		if s.expect('}') {
			return true
		}
		for {
			if _, ok := s.text(); !ok || !s.expect(':') || !s.skip(depth+1) {
				return false
			}
			if done, ok := s.after('}'); !ok || done {
				return ok
			}
		}
	case '[':
		s.pos++
		if s.expect(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if done, ok := s.after(']'); !ok || done {
				return ok
			}
		}
	case '"':
		_, ok := s.text()
		return ok
	case 't', 'f':
		var b bool
		return s.readBool(&b)
	case 'n':
		return s.null()
	}
	return s.number()
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() bool {
	s.expect('-')
	if !s.expect('0') && !s.someDigits() {
		return false
	}
	if s.expect('.') && !s.someDigits() {
		return false
	}
	if s.expect('e') || s.expect('E') {
		if !s.expect('+') {
			s.expect('-')
		}
		return s.someDigits()
	}
	return true
}

// someDigits reads one or more decimal digits.
func (s *scanner) someDigits() bool {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos > start
}
