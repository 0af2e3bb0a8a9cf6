package domain

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// at names field of element i of a list, as "lines[2].insurance". A check names every field it
// checks but uses the name only when the field is wrong, so the names of the first elements are
// made once and kept: a command's check costs no allocation for them.
func at(list string, i int, field string) string {
	k := atKey{list, i, field}
	if name, ok := atNames.Load(k); ok {
		return name.(string)
	}
	name := list + "[" + strconv.Itoa(i) + "]." + field
	if i < atKept {
		atNames.Store(k, name)
	}
	return name
}

// atKept is how many elements of a list at keeps names of; lists (a command's lines) are short.
const atKept = 16

type atKey struct {
	list  string
	i     int
	field string
}

// atNames holds the names at made: a few for each list field of a command.
var atNames sync.Map

// checker collects the first field error while parsing raw inputs.
type checker struct {
	ctx Context
	err error
}

func (c *checker) fail(err error) {
	if c.err != nil {
		return
	}
	var de *Error
	if !errors.As(err, &de) {
		de = &Error{Kind: KindInvalid, Detail: err.Error()} // the checks' own errors are all *Error
	}
	c.err = de
}

// text checks free text (a name, a reason, an authority document) and returns its stored form,
// NormalizeText(s). White space alone is an absent value ("is required" when one is); text whose
// other characters are all invisible (zero-width, BOM, direction marks) is refused.
func (c *checker) text(field, s string, required bool, maxLen int) string {
	return c.normalized(field, s, required, maxLen, NormalizeText)
}

// code checks a code typed by people (a receipt, certificate or document number) and returns
// its compared and stored form, NormalizeCode(s), by the rules of text.
func (c *checker) code(field, s string, required bool, maxLen int) string {
	return c.normalized(field, s, required, maxLen, NormalizeCode)
}

// normalized refuses invalid UTF-8, control characters and bidirectional overrides (which are
// refused, not removed: they make text display differently from what it is), then judges
// normalize(s): it needs a visible character and at most maxLen characters, as given and as
// stored. It returns "" when the field is absent or refused.
func (c *checker) normalized(field, s string, required bool, maxLen int, normalize func(string) string) string {
	if !utf8.ValidString(s) {
		c.fail(Invalid(field, "is not valid UTF-8"))
		return ""
	}
	if i := strings.IndexFunc(s, Unprintable); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		c.fail(Invalid(field, "contains the character U+%04X, which is not allowed (a control, direction-override or line-separator character, a noncharacter, or U+FFFD, which stands for text damaged before it was sent)", r))
		return ""
	}
	if strings.TrimSpace(s) == "" {
		if required {
			c.fail(Invalid(field, "is required"))
		}
		return ""
	}
	if utf8.RuneCountInString(s) > maxLen {
		c.fail(Invalid(field, "is longer than %d characters", maxLen))
		return ""
	}
	n := normalize(s)
	if strings.IndexFunc(n, visible) < 0 {
		c.fail(Invalid(field, "has no visible character: it holds only spaces and invisible (zero-width or format) characters"))
		return ""
	}
	if utf8.RuneCountInString(n) > maxLen {
		c.fail(Invalid(field, "is longer than %d characters once normalised (NFKC spells some characters out)", maxLen))
		return ""
	}
	return n
}

func (c *checker) date(field, s string, required bool) Date {
	if s == "" {
		if required {
			c.fail(Invalid(field, "is required (YYYY-MM-DD)"))
		}
		return 0
	}
	d, err := ParseDate(s)
	if err != nil {
		c.fail(Invalid(field, "%v", err))
		return 0
	}
	if e := happened(field, d, c.ctx.Today); e != nil {
		c.fail(e)
	}
	if e := checkYearOpen(c.ctx.Ref, field, d); e != nil {
		c.fail(e)
	}
	return d
}

func (c *checker) period(field, s string) Period {
	if s == "" {
		c.fail(Invalid(field, "is required (YYYY-MM)"))
		return 0
	}
	p, err := ParsePeriod(s)
	if err != nil {
		c.fail(Invalid(field, "%v", err))
		return 0
	}
	if p.Year() < EarliestDate.Year() {
		c.fail(Invalid(field, "%s is before 1990", p))
	}
	return p
}

// integer parses a JSON number that must be a whole number in [lo, hi].
func (c *checker) integer(field string, n Number, required bool, lo, hi int64, unit string) int64 {
	if n == "" {
		if required {
			c.fail(Invalid(field, "is required"))
		}
		return 0
	}
	if n[0] == '"' {
		c.fail(Invalid(field, "%s is not a number: want a whole number of %s (in JSON a number, not a string)", n, unit))
		return 0
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		shown := Clip(string(n), 40)
		// How it is written first: a range is said only of digits.
		switch first := n[0]; {
		case first != '-' && (first < '0' || first > '9'):
			c.fail(Invalid(field, "%s is not a number: want a whole number of %s", shown, unit))
		case strings.Contains(string(n), "."):
			c.fail(Invalid(field, "%s is not a whole number of %s", shown, unit))
		case strings.ContainsAny(string(n), "eE"):
			c.fail(Invalid(field, "%s has an exponent: want a whole number of %s in digits", shown, unit))
		case errors.Is(err, strconv.ErrRange) && first == '-':
			c.fail(Invalid(field, "%s is below the minimum %d", shown, lo))
		case errors.Is(err, strconv.ErrRange):
			c.fail(Invalid(field, "%s is above the maximum %d", shown, hi))
		default:
			c.fail(Invalid(field, "%s is not a whole number of %s", shown, unit))
		}
		return 0
	}
	if v < lo {
		if lo == 0 {
			c.fail(Invalid(field, "%d is negative", v))
		} else {
			c.fail(Invalid(field, "%d is below the minimum %d", v, lo))
		}
		return 0
	}
	if v > hi {
		c.fail(Invalid(field, "%d is above the maximum %d", v, hi))
		return 0
	}
	return v
}

func (c *checker) fen(field string, n Number, required bool, positive bool) Fen {
	lo := int64(0)
	if positive {
		lo = 1
	}
	return Fen(c.integer(field, n, required, lo, MaxFen, "fen"))
}

func (c *checker) insurance(field, s string) Insurance {
	if s == "" {
		c.fail(Invalid(field, "is required"))
		return ""
	}
	i, err := ParseInsurance(field, s)
	if err != nil {
		c.fail(err)
	}
	return i
}

func (c *checker) oneOf(field, s string, options ...string) string {
	if s == "" {
		c.fail(Invalid(field, "is required: one of %s", strings.Join(options, ", ")))
	} else if !slices.Contains(options, s) {
		c.fail(Invalid(field, "unknown value %q: want one of %s", s, strings.Join(options, ", ")))
	}
	return s
}

// Unprintable reports the characters no text of the ledger may hold: controls, the
// bidirectional overrides that make text display differently from what it is, the line and
// paragraph separators (a line break inside a name in a CSV cell or a printed table), U+FFFD and
// the noncharacters, which stand for no character at all.
func Unprintable(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == utf8.RuneError ||
		r == 0x2028 || r == 0x2029 || (r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}
