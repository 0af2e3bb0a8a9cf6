package domain

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCarriedLinesReadBackAsTheyWerePacked(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 2015))
	amount := func() Fen {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return -Fen(r.Int64N(1 << 40))
		case 2:
			return Fen(r.Int64())
		}
		return Fen(r.Int64N(100000))
	}
	for trial := range 200 {
		lines := make([]carriedLine, r.IntN(60))
		p := MustPeriod("1995-01") + Period(r.IntN(100))
		for i := range lines {
			p += Period(r.IntN(3))
			cl := carriedLine{Period: p, DueOn: p.FirstDay() + Date(r.IntN(200)-100), Rank: uint8(r.IntN(len(Insurances))), Fixed: r.IntN(2) == 0,
				Undeclared: r.IntN(3) == 0}
			for _, x := range cl.amounts() {
				*x = amount()
			}
			if !cl.Fixed {
				cl.Reductions = int32(r.IntN(1000))
			}
			lines[i] = cl
		}
		packed := packLines(lines)
		if got := unpackLines(packed, len(lines)); !slices.Equal(got, lines) {
			t.Fatalf("trial %d: read back\n%+v\nwant\n%+v", trial, got, lines)
		}
	}
	fixed := carriedLine{Period: MustPeriod("2010-04"), DueOn: MustDate("2010-05-15"), Base: 246913, Paid: 246913, Recovered: 246913, Fee: 3712, Fixed: true}
	if n := len(packLines([]carriedLine{fixed})); n > 20 {
		t.Fatalf("a fixed line packs into %d bytes, want at most 20", n)
	}
}
