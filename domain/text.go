package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text typed by people is compared and stored in one normal form, so that two spellings that
// read the same are the same to the ledger: a receipt number with a zero-width space inside, in
// other letter case or in full-width forms is the receipt already recorded, and a name or a
// reason made only of invisible characters is no name or reason at all.
//
// Two kinds of text are told apart:
//   - free text (names, reasons, authority documents, ownership): NormalizeText;
//   - codes (receipt, certificate and document numbers): NormalizeCode, which also folds case.
//
// Both are pure functions of their input, applied when a command is checked: an event keeps the
// text as it was stored then, and text stored before a rule was added is compared with text
// normalised now through Stored.

// ignorable reports the default-ignorable code points (Unicode's Default_Ignorable_Code_Point
// without its white space): the format characters (general category Cf: zero-width space and
// joiners, BOM, direction marks, soft hyphen, invisible operators, tags), fillers such as
// HANGUL FILLER, and variation selectors. None of them shows anything of its own.
func ignorable(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r)
}

// visible reports a character that shows: graphic, not white space, not default-ignorable, not
// the Braille blank (U+2800), which is graphic but draws nothing, and not a nonspacing mark,
// which shows only on the character before it.
func visible(r rune) bool {
	return unicode.IsGraphic(r) && !unicode.IsSpace(r) && !ignorable(r) && r != braille && !unicode.Is(unicode.Mn, r)
}

// braille is the Braille blank, a space to the eye.
const braille = '\u2800'

// unseen removes the default-ignorable characters from free text and reads the Braille blank as
// a space: what draws nothing cannot tell two names apart.
func unseen(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case ignorable(r):
			return -1
		case r == braille:
			return ' '
		}
		return r
	}, s)
}

// dash reports a character that reads as a hyphen in a code: the dash punctuation (Pd: hyphen,
// non-breaking hyphen, en and em dashes, …) and the minus sign. A code keeps them all as "-".
func dash(r rune) bool {
	return r != '-' && (unicode.Is(unicode.Pd, r) || r == '\u2212' || r == '\u2043')
}

// asciiOnly reports whether s is all ASCII, for which NFKC changes nothing and which holds no
// format character.
func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// drop removes the characters for which strip is true.
func drop(s string, strip func(rune) bool) string {
	if strings.IndexFunc(s, strip) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if strip(r) {
			return -1
		}
		return r
	}, s)
}

// NormalizeText returns the form in which free text (a name, a reason, an authority document)
// is stored: default-ignorable characters removed (the format characters, Cf: zero-width space
// and joiners, BOM, direction marks, soft hyphen; fillers such as HANGUL FILLER; variation
// selectors; the combining grapheme joiner), the Braille blank read as a space, Unicode NFKC
// applied (so full-width letters, digits and punctuation become their ordinary forms), and white
// space trimmed from both ends. Letter case is kept. Two names that look the same are then one
// text. It never fails and NormalizeText(NormalizeText(s)) == NormalizeText(s); whether the
// result has a visible character is for the caller to judge.
func NormalizeText(s string) string {
	if asciiOnly(s) {
		return strings.TrimSpace(s)
	}
	n := norm.NFKC.String(unseen(s))
	// NFKC may spell a character out as an ignorable one (U+FFA0 as U+1160), and taking an
	// ignorable one out may let its neighbours compose: again until nothing changes.
	for range 3 {
		m := unseen(n)
		if m == n {
			break
		}
		n = norm.NFKC.String(m)
	}
	return strings.TrimSpace(n)
}

// Stored returns free text as NormalizeText stores it now, for comparing with text normalised
// now: a name recorded before the default-ignorable characters and the Braille blank were taken
// out still holds them in its event. Text that holds none is returned as it is, at the cost of
// one scan.
func Stored(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r == braille || ignorable(r) }) < 0 {
		return s
	}
	return NormalizeText(s)
}

// NormalizeCode returns the form in which a code typed by people (a receipt, certificate or
// document number) is compared and stored: every default-ignorable character removed (the
// format characters of NormalizeText, and fillers and variation selectors too), letters folded
// to upper case, Unicode NFKC applied, and white space trimmed from both ends. Two codes that
// differ only in those respects have the same NormalizeCode: "gz-0001", "GZ\u200b-0001" and
// "ＧＺ－０００１" are all "GZ-0001", and so is "GZ‑0001" with any dash or the minus sign. Case is folded on decomposed text, as Unicode's
// compatibility caseless match does (NFD, fold, NFKD, fold, then NFKC to store), so that a
// letter and its canonical equivalents fold alike (İ is I with a dot above, not I). It never
// fails and is idempotent.
func NormalizeCode(s string) string {
	if asciiOnly(s) {
		return strings.ToUpper(strings.TrimSpace(s))
	}
	s = upper(norm.NFD.String(drop(s, ignorable)))
	s = upper(norm.NFKD.String(s))
	s = strings.TrimSpace(drop(norm.NFKC.String(s), ignorable))
	if strings.IndexFunc(s, dash) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if dash(r) {
			return '-'
		}
		return r
	}, s)
}

// upper folds letter case one character at a time to upper case, through lower case so that
// the characters of one case class meet (ſ, s and S all give S; ς, σ and Σ all give Σ).
func upper(s string) string {
	return strings.Map(func(r rune) rune { return unicode.ToUpper(unicode.ToLower(r)) }, s)
}

// Clip shortens s to at most n bytes, on a character boundary, marking the cut with "…", so that
// an answer never echoes a long or hostile input whole.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
