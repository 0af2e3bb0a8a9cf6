package api

import (
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// Money in a flag's wording is in 元 below one 万元, where 万元 would read 0.00, and in 万元 from
// it on, in either language.
func TestMoneyInAFlagsWordingHasTheUnitThatShowsIt(t *testing.T) {
	for _, tt := range []struct {
		fen  domain.Fen
		lang int
		want string
	}{
		{2444, 0, "24.44 元"},
		{2444, 1, "24.44 yuan"},
		{999_999, 0, "9,999.99 元"},
		{1_000_000, 0, "1.00 万元"},
		{123_456_789, 1, "123.46 ×10k yuan"},
		{-2444, 0, "-24.44 元"},
	} {
		if got := money(tt.fen, tt.lang); got != tt.want {
			t.Errorf("money(%d, %d) = %q, want %q", tt.fen, tt.lang, got, tt.want)
		}
	}
}
