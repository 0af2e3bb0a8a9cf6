package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// IDError names what is wrong with an identifier: which kind it was meant
// to be, the input as given, and the problem, with the 1-based character
// position at fault when there is one.
type IDError struct {
	// Kind is "organisation code" (GB 11714) or "unified social credit code"
	// (GB 32100).
	Kind string
	// Input is the text as given, before upper-casing.
	Input string
	// Pos is the 1-based character position at fault, or 0 when the problem
	// is not one character (e.g. the length).
	Pos int
	// Problem says what is wrong, e.g. "check digit is 'X', want '0'".
	Problem string
}

// Error returns e.g. `"10000004-X" is not a valid organisation code: check
// digit is 'X', want '0'`.
func (e *IDError) Error() string {
	return fmt.Sprintf("%q is not a valid %s: %s", e.Input, e.Kind, e.Problem)
}

const (
	identOrgKind    = "organisation code"
	identCreditKind = "unified social credit code"
	// identCreditAlphabet is GB 32100's 31 characters in value order 0..30;
	// I, O, S, V and Z are left out because they read as 1, 0, 5, U and 2.
	identCreditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
)

// identOrgWeights are GB 11714-1997's weights for the 8 body characters.
var identOrgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// identCreditWeights are GB 32100-2015's weights 3^(i−1) mod 31 for
// positions i = 1..17.
var identCreditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// identOrgValue is the GB 11714 value of an upper-case body character
// (0-9 → 0-9, A-Z → 10-35), or -1.
func identOrgValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// identOrgCheck computes the GB 11714 check character of 8 valid
// upper-case body characters.
func identOrgCheck(body string) byte {
	sum := 0
	for i := 0; i < 8; i++ {
		sum += identOrgValue(body[i]) * identOrgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

// identCreditCheck computes the GB 32100 check character of 17 characters
// already known to be in identCreditAlphabet.
func identCreditCheck(body17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(identCreditAlphabet, body17[i]) * identCreditWeights[i]
	}
	return identCreditAlphabet[(31-sum%31)%31]
}

// identASCII returns an error naming the first non-ASCII character of s, by
// character position, so full-width input gets a clearer message than a
// byte-length complaint.
func identASCII(kind, s string) error {
	pos := 0
	for _, r := range s {
		pos++
		if r >= utf8.RuneSelf {
			return &IDError{Kind: kind, Input: s, Pos: pos,
				Problem: fmt.Sprintf("bad character %q at position %d: want ASCII", r, pos)}
		}
	}
	return nil
}

// OrgCodeCheck returns the GB 11714-1997 check character ('0'-'9' or 'X')
// for 8 body characters, each 0-9 or upper-case A-Z; otherwise an *IDError.
func OrgCodeCheck(body string) (byte, error) {
	if len(body) != 8 {
		return 0, &IDError{Kind: identOrgKind, Input: body,
			Problem: fmt.Sprintf("body has %d characters, want 8", len(body))}
	}
	for i := 0; i < 8; i++ {
		if identOrgValue(body[i]) < 0 {
			return 0, &IDError{Kind: identOrgKind, Input: body, Pos: i + 1,
				Problem: fmt.Sprintf("bad character %q at position %d: want 0-9 or A-Z", body[i], i+1)}
		}
	}
	return identOrgCheck(body), nil
}

// NumberedOrgCode is the valid organisation code whose body is n in eight digits, as
// NormalizeOrgCode gives it: codes for generated and test payers. n must be in [0, 10^8).
func NumberedOrgCode(n int) string {
	body := fmt.Sprintf("%08d", n)
	c, err := OrgCodeCheck(body)
	if err != nil {
		panic(err) // n out of range
	}
	return body + "-" + string(c)
}

// NormalizeOrgCode accepts a GB 11714-1997 organisation code as
// "XXXXXXXX-X" or "XXXXXXXXX", in either case, and returns it upper-cased
// as "XXXXXXXX-X" if its check character is right. Otherwise it returns an
// *IDError naming the problem: the length, a bad character and its
// position, or the check digit found and the one wanted.
func NormalizeOrgCode(s string) (string, error) {
	if err := identASCII(identOrgKind, s); err != nil {
		return "", err
	}
	up := strings.ToUpper(s)
	fail := func(pos int, format string, args ...any) (string, error) {
		return "", &IDError{Kind: identOrgKind, Input: s, Pos: pos, Problem: fmt.Sprintf(format, args...)}
	}
	checkPos := 9
	switch len(up) {
	case 9:
	case 10:
		if up[8] != '-' {
			return fail(9, "bad character %q at position 9: want '-'", up[8])
		}
		checkPos = 10
	default:
		return fail(0, "has %d characters, want 10 (XXXXXXXX-X) or 9", len(up))
	}
	body, got := up[:8], up[checkPos-1]
	for i := 0; i < 8; i++ {
		if identOrgValue(body[i]) < 0 {
			return fail(i+1, "bad character %q at position %d: want 0-9 or A-Z", s[i], i+1)
		}
	}
	if (got < '0' || got > '9') && got != 'X' {
		return fail(checkPos, "bad character %q at position %d: want check digit 0-9 or X", s[checkPos-1], checkPos)
	}
	if want := identOrgCheck(body); got != want {
		return fail(checkPos, "check digit is %q, want %q", got, want)
	}
	return body + "-" + string(got), nil
}

// ReadOrgCode is NormalizeOrgCode of a code as a person typed or pasted it: full-width forms,
// spaces around it and invisible format characters are read as a receipt's are (NormalizeCode),
// since codes compare after NFKC normalisation (DOMAIN.md). An error quotes the code so read.
func ReadOrgCode(s string) (string, error) { return NormalizeOrgCode(NormalizeCode(s)) }

// ReadCreditCode is NormalizeCreditCode of a code as a person typed or pasted it (ReadOrgCode).
func ReadCreditCode(s string) (string, error) { return NormalizeCreditCode(NormalizeCode(s)) }

// CreditCodeCheck returns the GB 32100-2015 check character for the first
// 17 characters of a unified social credit code, each from
// "0123456789ABCDEFGHJKLMNPQRTUWXY" (upper case); otherwise an *IDError.
// It does not look at the embedded organisation code.
func CreditCodeCheck(body17 string) (byte, error) {
	if len(body17) != 17 {
		return 0, &IDError{Kind: identCreditKind, Input: body17,
			Problem: fmt.Sprintf("body has %d characters, want 17", len(body17))}
	}
	for i := 0; i < 17; i++ {
		if strings.IndexByte(identCreditAlphabet, body17[i]) < 0 {
			return 0, &IDError{Kind: identCreditKind, Input: body17, Pos: i + 1,
				Problem: fmt.Sprintf("bad character %q at position %d: want 0-9 or A-Z except I, O, S, V, Z", body17[i], i+1)}
		}
	}
	return identCreditCheck(body17), nil
}

// NormalizeCreditCode accepts an 18-character GB 32100-2015 unified social
// credit code in either case and returns it upper-cased if both its own
// check character (position 18) and the GB 11714 organisation code in
// characters 9-17 are right. Otherwise it returns an *IDError naming the
// problem: the length, a bad character and its position, the wrong credit
// code check character, or the wrong organisation code check digit.
func NormalizeCreditCode(s string) (string, error) {
	if err := identASCII(identCreditKind, s); err != nil {
		return "", err
	}
	up := strings.ToUpper(s)
	fail := func(pos int, format string, args ...any) (string, error) {
		return "", &IDError{Kind: identCreditKind, Input: s, Pos: pos, Problem: fmt.Sprintf(format, args...)}
	}
	if len(up) != 18 {
		return fail(0, "has %d characters, want 18", len(up))
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(identCreditAlphabet, up[i]) < 0 {
			return fail(i+1, "bad character %q at position %d: want 0-9 or A-Z except I, O, S, V, Z", s[i], i+1)
		}
	}
	// The whole-code check first: it covers every character, so a typo
	// anywhere is reported as such rather than as an organisation code fault.
	if got, want := up[17], identCreditCheck(up[:17]); got != want {
		return fail(18, "check character is %q, want %q", got, want)
	}
	if got, want := up[16], identOrgCheck(up[8:16]); got != want {
		return fail(17, "characters 9-17 are not a valid organisation code: check digit is %q, want %q", got, want)
	}
	return up, nil
}

// OrgCodeOfCreditCode returns the organisation code embedded in a unified
// social credit code (characters 9-17) as "XXXXXXXX-X", or "" if code is
// not a valid credit code by NormalizeCreditCode.
func OrgCodeOfCreditCode(code string) string {
	up, err := NormalizeCreditCode(code)
	if err != nil {
		return ""
	}
	return up[8:16] + "-" + up[16:17]
}
