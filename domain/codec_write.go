package domain

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The writers the generated encoder (codec_gen.go) calls: each appends a value exactly as
// encoding/json writes it, or reports that encoding/json would fail on it.

// appendJSONString appends s as encoding/json writes a string: '<', '>' and '&' escaped for HTML,
// control characters as \b, \f, \n, \r, \t or \u00XX, invalid UTF-8 as \ufffd, and U+2028 and
// U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes encoding/json writes as they are, with HTML escaping on.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendDateJSON appends d as encoding/json writes it (its MarshalText, quoted); false for a date
// MarshalText refuses.
func appendDateJSON(b []byte, d Date) ([]byte, bool) {
	b, err := d.AppendText(append(b, '"'))
	if err != nil {
		return b, false
	}
	return append(b, '"'), true
}

// appendPeriodJSON appends p as encoding/json writes it (its MarshalText, quoted); false for a
// period MarshalText refuses.
func appendPeriodJSON(b []byte, p Period) ([]byte, bool) {
	b, err := p.AppendText(append(b, '"'))
	if err != nil {
		return b, false
	}
	return append(b, '"'), true
}

// appendRawJSON appends m as encoding/json writes a json.RawMessage: null when nil, else compacted
// with '<', '>', '&', U+2028 and U+2029 escaped; false when m is not JSON.
func appendRawJSON(b []byte, m json.RawMessage) ([]byte, bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	var compact, escaped bytes.Buffer
	if json.Compact(&compact, m) != nil {
		return b, false
	}
	json.HTMLEscape(&escaped, compact.Bytes())
	return append(b, escaped.Bytes()...), true
}
