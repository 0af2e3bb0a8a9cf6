package projections

import (
	"math/big"
	"testing"
)

// Places go by the exact mean of min(actual/target, 1.2), not by the score shown, which is rounded
// to a millionth of each measure: two counties whose means differ by less than that are not tied
// or swapped (found by hand: 2/3 ÷ 8 against (0.333333 + 0.3333335) ÷ 8 ranked the lower first).
func TestPlacesGoByTheExactScore(t *testing.T) {
	measures := func(ps ...Progress) []Progress {
		for len(ps) < 8 {
			ps = append(ps, Progress{Target: 1})
		}
		return ps
	}
	x := Ranking{Code: "360722", Measures: measures(Progress{Target: 3, Actual: 1}, Progress{Target: 3, Actual: 1})}
	y := Ranking{Code: "360723", Measures: measures(Progress{Target: 1_000_000, Actual: 333_333}, Progress{Target: 2_000_000, Actual: 666_667})}
	x.Score, y.Score = score(x.Measures), score(y.Measures)
	if x.Score.Num >= y.Score.Num {
		t.Fatalf("the rounded scores %v and %v no longer show the case", x.Score, y.Score)
	}
	for _, order := range [][]Ranking{{x, y}, {y, x}} {
		placeByScore(order)
		if order[0].Code != x.Code || order[0].Rank != 1 || order[1].Rank != 2 {
			t.Errorf("ranked %s first, %s second; want %s (2/3 ÷ 8) above %s", order[0].Code, order[1].Code, x.Code, y.Code)
		}
	}
	if CompareScores(x, y) != 1 || CompareScores(y, x) != -1 || CompareScores(x, x) != 0 {
		t.Errorf("CompareScores(x, y) %d, (y, x) %d, (x, x) %d; want 1, -1, 0", CompareScores(x, y), CompareScores(y, x), CompareScores(x, x))
	}
}

// A province freeze stores its cities in the order of their rounded scores, which its digest
// keeps: province verify recomputes freezes made before places went by the exact score.
func TestAProvinceRanksByTheRoundedScoreItsFreezesHold(t *testing.T) {
	x := Ranking{Code: "360200", Measures: []Progress{{Target: 3, Actual: 1}, {Target: 3, Actual: 1}}}
	y := Ranking{Code: "360300", Measures: []Progress{{Target: 1_000_000, Actual: 333_333}, {Target: 2_000_000, Actual: 666_667}}}
	x.Score, y.Score = score(x.Measures), score(y.Measures)
	order := []Ranking{x, y}
	placeByRoundedScore(order)
	if order[0].Code != y.Code {
		t.Errorf("ranked %s first; want %s, whose rounded score is higher", order[0].Code, y.Code)
	}
}

// A negative actual (a figure wrapped before sums saturated) counts 0 in the score shown, as in
// the place: not the cap of 1.2 an overflow of the ratio counts.
func TestANegativeActualCountsNothing(t *testing.T) {
	ms := []Progress{{Target: 10, Actual: -5}, {Target: 10, Actual: 10}}
	if got := score(ms); got.Num != 1_000_000 || got.Den != 2_000_000 {
		t.Errorf("score %d/%d, want 1000000/2000000 (0 and 1 over 2 measures)", got.Num, got.Den)
	}
	if exactScore(ms).Cmp(big.NewRat(1, 2)) != 0 {
		t.Errorf("exact score %v, want 1/2", exactScore(ms))
	}
}
