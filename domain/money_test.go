package domain

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestFenString(t *testing.T) {
	tests := []struct {
		name string
		f    Fen
		want string
	}{
		{"123456 fen is 1234.56 yuan", 123456, "1234.56"},
		{"-5 fen is -0.05 yuan: the sign survives a zero yuan part", -5, "-0.05"},
		{"zero is 0.00 yuan", 0, "0.00"},
		{"100 fen is 1.00 yuan: always two decimals", 100, "1.00"},
		{"-100 fen is -1.00 yuan", -100, "-1.00"},
		{"MaxInt64 fen prints exactly", math.MaxInt64, "92233720368547758.07"},
		{"MinInt64 fen prints exactly: its magnitude does not fit int64", math.MinInt64, "-92233720368547758.08"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.String(); got != tc.want {
				t.Errorf("Fen(%d).String() = %q, want %q", int64(tc.f), got, tc.want)
			}
		})
	}
}

func TestFenUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    Fen
		wantErr string
	}{
		{"12345 is 12345 fen", "12345", 12345, ""},
		{"-5 is -5 fen", "-5", -5, ""},
		{"0 is zero fen", "0", 0, ""},
		{"-0 is zero fen: JSON allows it", "-0", 0, ""},
		{"MaxInt64 is accepted", "9223372036854775807", math.MaxInt64, ""},
		{"MinInt64 is accepted", "-9223372036854775808", math.MinInt64, ""},
		{"12.5 is rejected: fen are whole", "12.5", 0, "12.5 is not a whole number of fen"},
		{"12.0 is rejected: a fraction is written even if it is zero", "12.0", 0, "12.0 is not a whole number of fen"},
		{"1e3 is rejected: exponents are a float form", "1e3", 0, "1e3 is not a whole number of fen"},
		{"a quoted \"12\" is rejected: amounts are numbers, not strings", `"12"`, 0, `"12" is not a whole number of fen: want a JSON integer`},
		{"true is rejected: not a number", "true", 0, "true is not a whole number of fen: want a JSON integer"},
		{"null is rejected: a missing amount is not zero fen", "null", 0, "null is not a whole number of fen: want a JSON integer"},
		{"a lone minus is rejected", "-", 0, "- is not a whole number of fen: want a JSON integer"},
		{"007 is rejected: JSON forbids leading zeros", "007", 0, "007 is not a whole number of fen: want a JSON integer"},
		{"+5 is rejected: JSON has no plus sign", "+5", 0, "+5 is not a whole number of fen: want a JSON integer"},
		{"MaxInt64+1 is rejected: out of range", "9223372036854775808", 0, "9223372036854775808 fen is out of range"},
		{"MinInt64-1 is rejected: out of range", "-9223372036854775809", 0, "-9223372036854775809 fen is out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Fen(777) // must be overwritten on success and kept on error
			err := f.UnmarshalJSON([]byte(tc.json))
			if tc.wantErr == "" {
				if err != nil || f != tc.want {
					t.Fatalf("UnmarshalJSON(%s) = %d, %v; want %d", tc.json, f, err, tc.want)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("UnmarshalJSON(%s) error = %v, want %s", tc.json, err, tc.wantErr)
			}
			if f != 777 {
				t.Errorf("UnmarshalJSON(%s) changed the value to %d on error", tc.json, f)
			}
		})
	}
}

func TestFenJSONThroughEncodingJSON(t *testing.T) {
	type line struct {
		Amount Fen `json:"amount"`
	}
	b, err := json.Marshal(line{Amount: -12345})
	if err != nil || string(b) != `{"amount":-12345}` {
		t.Fatalf("json.Marshal = %s, %v; want an integer", b, err)
	}
	var got line
	if err := json.Unmarshal(b, &got); err != nil || got.Amount != -12345 {
		t.Fatalf("json.Unmarshal(%s) = %+v, %v", b, got, err)
	}
	if err := json.Unmarshal([]byte(`{"amount":12.5}`), &got); err == nil ||
		!strings.Contains(err.Error(), "12.5 is not a whole number of fen") {
		t.Errorf("json.Unmarshal of 12.5 fen: error %v", err)
	}
}

func TestFenErrorExcerptIsCapped(t *testing.T) {
	long := `"` + strings.Repeat("长", 100) + `"`
	var f Fen
	err := f.UnmarshalJSON([]byte(long))
	if err == nil || len(err.Error()) > 100 {
		t.Errorf("error for a %d-byte input is %d bytes, want a short excerpt", len(long), len(err.Error()))
	}
	if err != nil && !strings.Contains(err.Error(), "长…") {
		t.Errorf("excerpt %q did not end on a whole character", err)
	}
}

func TestMulDivHalfUp(t *testing.T) {
	tests := []struct {
		name         string
		x, num, den  int64
		want         int64
		wantOverflow bool
		wantBadInput bool
	}{
		{"12345 × 2800 / 10000 = 3456.6 rounds up to 3457", 12345, 2800, 10000, 3457, false, false},
		{"5 × 1000 / 10000 = 0.5 exactly rounds up to 1", 5, 1000, 10000, 1, false, false},
		{"4 × 1000 / 10000 = 0.4 rounds down to 0", 4, 1000, 10000, 0, false, false},
		{"15 × 1000 / 10000 = 1.5 rounds up to 2, not to even", 15, 1000, 10000, 2, false, false},
		{"25 × 1000 / 10000 = 2.5 rounds up to 3, not to even", 25, 1000, 10000, 3, false, false},
		{"an odd denominator: 1 × 1 / 3 = 0.33 rounds down", 1, 1, 3, 0, false, false},
		{"an odd denominator: 2 × 1 / 3 = 0.67 rounds up", 2, 1, 3, 1, false, false},
		{"zero times anything is zero", 0, math.MaxInt64, 1, 0, false, false},
		{"MaxInt64 × MaxInt64 / MaxInt64 is exact: the product is 128-bit", math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64, false, false},
		{"MaxInt64 × 3 / 4 is exact through 128 bits", math.MaxInt64, 3, 4, 6917529027641081855, false, false},
		{"MaxInt64 × 2 / 1 is reported: the quotient needs 64 bits", math.MaxInt64, 2, 1, 0, true, false},
		{"MaxInt64 × MaxInt64 / 1 is reported: the quotient needs 126 bits", math.MaxInt64, math.MaxInt64, 1, 0, true, false},
		{"MaxInt64 × 2 / 2 is MaxInt64: only the intermediate exceeds int64", math.MaxInt64, 2, 2, math.MaxInt64, false, false},
		{"(2^32−1)(2^32+1) / 2 = 2^63−0.5 is reported: rounding up passes MaxInt64", 1<<32 - 1, 1<<32 + 1, 2, 0, true, false},
		{"(2^33−1)(2^33+1) / 4 = 2^64−0.25 is reported, not wrapped to 0 by rounding", 1<<33 - 1, 1<<33 + 1, 4, 0, true, false},
		{"a negative x is rejected: half up is ambiguous below zero", -1, 1, 1, 0, false, true},
		{"a negative num is rejected", 1, -1, 1, 0, false, true},
		{"a zero den is rejected", 1, 1, 0, 0, false, true},
		{"a negative den is rejected", 1, 1, -1, 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MulDivHalfUp(tc.x, tc.num, tc.den)
			switch {
			case tc.wantOverflow:
				if err == nil || !strings.Contains(err.Error(), "overflows int64") {
					t.Errorf("MulDivHalfUp(%d, %d, %d) = %d, %v; want an overflow error", tc.x, tc.num, tc.den, got, err)
				}
			case tc.wantBadInput:
				if err == nil || !strings.Contains(err.Error(), "want x >= 0") {
					t.Errorf("MulDivHalfUp(%d, %d, %d) = %d, %v; want an input error", tc.x, tc.num, tc.den, got, err)
				}
			default:
				if err != nil || got != tc.want {
					t.Errorf("MulDivHalfUp(%d, %d, %d) = %d, %v; want %d", tc.x, tc.num, tc.den, got, err, tc.want)
				}
			}
		})
	}
}

func TestMulDivHalfUpRoundsUpAtHalfNearMaxInt64(t *testing.T) {
	// x/2 with x = 2^63−1 is 2^62−0.5, which must round up to 2^62.
	if got, err := MulDivHalfUp(math.MaxInt64, 1, 2); err != nil || got != 1<<62 {
		t.Errorf("MulDivHalfUp(MaxInt64, 1, 2) = %d, %v; want %d", got, err, int64(1)<<62)
	}
	// MaxInt64·MaxInt64 / (MaxInt64−1) is just over MaxInt64: an overflow.
	if got, err := MulDivHalfUp(math.MaxInt64, math.MaxInt64, math.MaxInt64-1); err == nil {
		t.Errorf("MulDivHalfUp(Max, Max, Max−1) = %d, want an overflow error", got)
	}
}

func TestPlusSaturatesRatherThanWraps(t *testing.T) {
	const top, bottom = Fen(math.MaxInt64), Fen(math.MinInt64)
	for _, c := range []struct {
		name       string
		a, b, want Fen
	}{
		{"a sum within int64 is the sum", 12345, -345, 12000},
		{"a sum one past the largest is the largest", top, 1, top},
		{"two large late fees sum to the largest, not a negative amount", top - 10, top - 10, top},
		{"a sum below the smallest is the smallest", bottom, -1, bottom},
		{"the largest and the smallest sum exactly", top, bottom, -1},
	} {
		if got := c.a.Plus(c.b); got != c.want {
			t.Errorf("%s: %d.Plus(%d) = %d, want %d", c.name, c.a, c.b, got, c.want)
		}
	}
}

func TestApplyRate(t *testing.T) {
	tests := []struct {
		name    string
		base    Fen
		bp      BasisPoints
		want    Fen
		wantErr bool
	}{
		{"12345 fen at 2800 bp is 3456.6 fen, rounded up to 3457", 12345, 2800, 3457, false},
		{"5 fen at 1000 bp is exactly 0.5 fen, rounded up to 1", 5, 1000, 1, false},
		{"1 fen at 10000 bp is 1 fen: 10000 bp is 100%", 1, 10000, 1, false},
		{"any base at 0 bp is 0", 99999, 0, 0, false},
		{"a negative base is rejected", -12345, 2800, 0, true},
		{"a negative rate is rejected", 12345, -1, 0, true},
		{"an overflowing product is reported, not wrapped", math.MaxInt64, 20000, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ApplyRate(tc.base, tc.bp)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ApplyRate(%d, %d) = %d, %v; want %d, wantErr %v", tc.base, tc.bp, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		name    string
		amount  Fen
		pct     int64
		want    Fen
		wantErr bool
	}{
		{"110% of 12345 fen is 13579.5, rounded up to 13580", 12345, 110, 13580, false},
		{"100% of an amount is the amount", 12345, 100, 12345, false},
		{"50% of 1 fen is exactly 0.5, rounded up to 1", 1, 50, 1, false},
		{"a negative amount is rejected", -1, 110, 0, true},
		{"an overflowing product is reported, not wrapped", math.MaxInt64, 200, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Percent(tc.amount, tc.pct)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("Percent(%d, %d) = %d, %v; want %d, wantErr %v", tc.amount, tc.pct, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestAddFen(t *testing.T) {
	tests := []struct {
		name    string
		a, b    Fen
		want    Fen
		wantErr bool
	}{
		{"1 + 2 is 3", 1, 2, 3, false},
		{"-5 + 3 is -2", -5, 3, -2, false},
		{"MaxInt64 + MinInt64 is -1: opposite signs never overflow", math.MaxInt64, math.MinInt64, -1, false},
		{"MaxInt64 + 0 is MaxInt64", math.MaxInt64, 0, math.MaxInt64, false},
		{"MaxInt64 + 1 overflows", math.MaxInt64, 1, 0, true},
		{"MinInt64 + -1 overflows", math.MinInt64, -1, 0, true},
		{"MinInt64 + MinInt64 overflows to exactly zero bits and is still caught", math.MinInt64, math.MinInt64, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AddFen(tc.a, tc.b)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("AddFen(%d, %d) = %d, %v; want %d, wantErr %v", tc.a, tc.b, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
