package domain

import (
	"fmt"
	"strings"
	"testing"
)

func TestAtNamesAListElementsField(t *testing.T) {
	for _, i := range []int{0, 1, atKept - 1, atKept, 1000} {
		want := fmt.Sprintf("lines[%d].insurance", i)
		if got := at("lines", i, "insurance"); got != want {
			t.Errorf("at(lines, %d, insurance) = %q, want %q", i, got, want)
		}
		if got := at("lines", i, "insurance"); got != want {
			t.Errorf("at(lines, %d, insurance) the second time = %q, want %q", i, got, want)
		}
	}
	if got, want := at("allocations", 2, "amount_fen"), "allocations[2].amount_fen"; got != want {
		t.Errorf("at = %q, want %q", got, want)
	}
}

func TestACheckOfADeclarationAllocatesNoFieldNames(t *testing.T) {
	ctx := Context{Ref: defaultRef(), Today: MustDate("2006-12-31")}
	cmd := &FileDeclaration{DeclaredOn: "2006-06-05", Period: "2006-05", Lines: []DeclareLine{
		{Insurance: "pension", Headcount: "12", WageBaseFen: "960000"},
		{Insurance: "medical", Headcount: "12", WageBaseFen: "960000"},
	}}
	if err := cmd.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// The lines' event slice is reused and the map of insurances seen is the one allocation
	// left; building "lines[i].…" for each field took six more.
	if n := testing.AllocsPerRun(100, func() { _ = cmd.Check(ctx) }); n > 1 {
		t.Errorf("a valid declaration's check allocates %v times, want at most 1", n)
	}
}

// A number refused names the real problem: out of range, an exponent, a fraction, not a number;
// a long one is clipped in the message.
func TestAWholeNumberRefusedSaysWhy(t *testing.T) {
	long := strings.Repeat("9", 200)
	for _, tt := range []struct {
		name, n, want string
	}{
		{"beyond int64 is above the maximum", "9223372036854775808", "9223372036854775808 is above the maximum 1000"},
		{"below int64 is below the minimum", "-9223372036854775809", "-9223372036854775809 is below the minimum 0"},
		{"an exponent is said", "1e2", "1e2 has an exponent: want a whole number of fen in digits"},
		{"a fraction is not whole", "12.5", "12.5 is not a whole number of fen"},
		{"a fraction with an exponent is not whole", "1.5e2", "1.5e2 is not a whole number of fen"},
		{"an exponent is said before a range", "12345678901234567890e-15", "12345678901234567890e-15 has an exponent: want a whole number of fen in digits"},
		{"a word is not a number", "true", "true is not a number: want a whole number of fen"},
		{"a long number is clipped", long, long[:40] + "… is above the maximum 1000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &checker{}
			c.integer("amount_fen", Number(tt.n), true, 0, 1000, "fen")
			if de, ok := c.err.(*Error); !ok || de.Field != "amount_fen" || de.Detail != tt.want {
				t.Errorf("%s: refused with %+v; want %q naming amount_fen", tt.n, c.err, tt.want)
			}
		})
	}
}
