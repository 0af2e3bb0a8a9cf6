package domain

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// Fen is an amount of money in fen (0.01 yuan). Whole fen only: amounts are
// never floats, so sums and comparisons are exact.
type Fen int64

// BasisPoints is a rate in 1/10000: 2800 is 28%.
type BasisPoints int64

// String returns the amount in yuan with exactly two decimals and no
// grouping: 123456 → "1234.56", -5 → "-0.05". It is exact for every int64.
func (f Fen) String() string {
	// Work on the magnitude as uint64 so math.MinInt64 needs no special case.
	u, sign := uint64(f), ""
	if f < 0 {
		u, sign = -u, "-"
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// UnmarshalJSON accepts only a JSON integer: an optional '-' and digits with
// no leading zero, no fraction and no exponent, within int64. It rejects
// 12.5, 1e3, "12", true and null (null is not zero fen), leaving *f
// unchanged on error.
func (f *Fen) UnmarshalJSON(b []byte) error {
	s := string(b)
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c >= '0' && c <= '9' {
			continue
		}
		// Numbers with a fraction or exponent get the message naming the
		// real problem; anything else is not a number at all.
		if i > 0 && (c == '.' || c == 'e' || c == 'E') {
			return fmt.Errorf("%s is not a whole number of fen", fenExcerpt(s))
		}
		return fmt.Errorf("%s is not a whole number of fen: want a JSON integer", fenExcerpt(s))
	}
	if digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return fmt.Errorf("%s is not a whole number of fen: want a JSON integer", fenExcerpt(s))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s fen is out of range", fenExcerpt(s))
	}
	*f = Fen(n)
	return nil
}

// fenExcerpt caps untrusted input quoted in an error, so a huge request
// body is not echoed back whole.
func fenExcerpt(s string) string {
	n := 40
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n-- // do not split a UTF-8 sequence
	}
	return s[:n] + "…"
}

// MulDivHalfUp returns x*num/den rounded half up (…5 goes away from zero),
// computed exactly through a 128-bit product so no precision is lost for
// any int64 inputs. It requires x >= 0, num >= 0 and den > 0, and reports
// an error, not a wrapped value, when the result exceeds int64.
func MulDivHalfUp(x, num, den int64) (int64, error) {
	if x < 0 || num < 0 || den <= 0 {
		return 0, fmt.Errorf("MulDivHalfUp(%d, %d, %d): want x >= 0, num >= 0, den > 0", x, num, den)
	}
	hi, lo := bits.Mul64(uint64(x), uint64(num))
	q, ok := divHalfUp(hi, lo, uint64(den))
	if !ok {
		return 0, fmt.Errorf("MulDivHalfUp(%d, %d, %d): result overflows int64", x, num, den)
	}
	return q, nil
}

// divHalfUp returns the 128-bit hi:lo divided by d > 0, rounded half up; false when the result
// exceeds int64.
func divHalfUp(hi, lo, d uint64) (int64, bool) {
	if hi >= d { // bits.Div64 would panic: the quotient needs more than 64 bits
		return 0, false
	}
	q, r := bits.Div64(hi, lo, d)
	if q > math.MaxInt64 {
		return 0, false
	}
	if r >= d-r { // r/d >= 1/2, written so 2r cannot overflow
		if q == math.MaxInt64 {
			return 0, false
		}
		q++
	}
	return int64(q), true
}

// ApplyRate returns base × bp / 10000 rounded half up once, e.g. 12345 fen
// at 2800 bp is 3457 fen. base and bp must be non-negative.
func ApplyRate(base Fen, bp BasisPoints) (Fen, error) {
	v, err := MulDivHalfUp(int64(base), int64(bp), 10000)
	if err != nil {
		return 0, fmt.Errorf("applying %d bp to %s yuan: %w", bp, base, err)
	}
	return Fen(v), nil
}

// Percent returns amount × pct / 100 rounded half up once, e.g. 110% of
// 12345 fen is 13580 fen. amount and pct must be non-negative.
func Percent(amount Fen, pct int64) (Fen, error) {
	v, err := MulDivHalfUp(int64(amount), pct, 100)
	if err != nil {
		return 0, fmt.Errorf("taking %d%% of %s yuan: %w", pct, amount, err)
	}
	return Fen(v), nil
}

// Plus is f + g, or the largest (smallest) Fen when the sum would pass it: a sum of many payers'
// figures (a county's late fees accrued to 2199 on arrears at the most a line may hold) counts
// as the most a figure can be, never as a wrapped, negative one.
func (f Fen) Plus(g Fen) Fen {
	s := f + g
	switch {
	case f > 0 && g > 0 && s < 0:
		return math.MaxInt64
	case f < 0 && g < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

// AddFen returns a + b, or an error instead of a wrapped value when the sum
// does not fit in int64.
func AddFen(a, b Fen) (Fen, error) {
	s := a + b
	// Overflow happened iff both operands have the same sign and the sum's
	// sign differs from it.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, fmt.Errorf("adding %s and %s yuan: sum overflows int64 fen", a, b)
	}
	return s, nil
}
