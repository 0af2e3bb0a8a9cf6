package projections

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
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

// TestCountyTargetsSharedFromTheCityAddUpToIt: counties without a split share the city's target
// by their should-insure, and their shares add up to it (three equal counties of 100: 34, 33, 33,
// the first of equal remainders taking the unit left); beside a county with a split they share
// their part of it. A freeze of views-22 or before keeps its own rounding, each share alone (33
// each: one short of the city's), so that its ranking does not move.
func TestCountyTargetsSharedFromTheCityAddUpToIt(t *testing.T) {
	report := func(rules int, should ...int64) *Report {
		r := &Report{rules: rules, City: &Figures{Insurances: map[domain.Insurance]*InsuranceFigures{}}}
		var sum int64
		for i, s := range should {
			r.Counties = append(r.Counties, &Figures{Code: fmt.Sprint(360700 + i), Insurances: map[domain.Insurance]*InsuranceFigures{domain.Pension: {ShouldInsure: s}}})
			sum += s
		}
		r.City.Insurances[domain.Pension] = &InsuranceFigures{ShouldInsure: sum}
		return r
	}
	for _, c := range []struct {
		name  string
		city  int64
		r     *Report
		split map[string]map[string]int64
		want  []int64
	}{
		{"three equal counties share 100 as 34, 33, 33", 100, report(0, 5, 5, 5), nil, []int64{34, 33, 33}},
		{"the largest remainder takes the unit left", 10, report(0, 1, 3, 2), nil, []int64{2, 5, 3}},
		{"a target of 0 shares 0", 0, report(0, 1, 2), nil, []int64{0, 0}},
		{"a county with a split shares nothing; the others share their part", 100, report(0, 5, 5, 5, 5),
			map[string]map[string]int64{"360700": {"m": 7}}, []int64{0, 25, 25, 25}},
		{"a freeze of views-22 keeps each share rounded alone", 100, report(22, 5, 5, 5), nil, []int64{33, 33, 33}},
		{"no should-insure shares nothing", 100, report(0, 0, 0), nil, []int64{0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sharedTargets(c.city, c.r, c.split, "m"); !slices.Equal(got, c.want) {
				t.Errorf("shares %v, want %v", got, c.want)
			}
		})
	}
}

// TestAFreezeReadBackKeepsTheRulesItWasMadeBy: a freeze made by views-22 is read back with its
// rules, so its county targets (and ranking) keep each share rounded alone; one made now is read
// with today's.
func TestAFreezeReadBackKeepsTheRulesItWasMadeBy(t *testing.T) {
	l := NewLedger()
	for i, ev := range refEvents() {
		ev.Seq = uint64(i + 1)
		l.Apply(ev)
	}
	for _, c := range []struct {
		version string
		rules   int
	}{{"views-22", 22}, {CodeVersion, 0}} {
		d := domain.MustDate("2006-12-31")
		_, figures, digest, err := FreezeFiguresIn(l, d, c.version)
		if err != nil {
			t.Fatal(err)
		}
		r, err := FrozenReport(domain.FreezeMade{ID: "f", ValidThrough: d, CodeVersion: c.version, Digest: digest, Figures: figures})
		if err != nil {
			t.Fatal(err)
		}
		follows := (Query{rules: r.rules}).follows(rulesTargetsShared)
		if want := c.rules == 0; follows != want || (c.rules != 0 && r.rules != c.rules) {
			t.Errorf("a freeze of %s read back by the rules of views-%d (targets shared whole: %v)", c.version, r.rules, follows)
		}
	}
}

// TestTargetsAreReadByTheRulesOfTheirReport: a report of now (and a freeze made by views-24 on)
// is measured against the version of its year in force on its date, none before the first takes
// effect (the note says when it does); a freeze made by views-23 or before keeps the version of
// its year recorded last, whatever its date, as it was ranked when made.
func TestTargetsAreReadByTheRulesOfTheirReport(t *testing.T) {
	ref := defaultReference()
	late := domain.DefaultTargets
	late.EffectiveFrom, late.City = domain.MustDate("2007-06-01"), map[string]int64{domain.TargetPensionInsured: 1000}
	ref.Apply(domain.TargetsSet{Targets: late})
	for _, c := range []struct {
		name  string
		rules int
		asOf  string
		want  int64 // 0: none
	}{
		{"now, on 31 December: the version in force", 0, "2006-12-31", domain.DefaultTargets.City[domain.TargetPensionInsured]},
		{"now, before the first version takes effect: none", 0, "2006-03-31", 0},
		{"a freeze of views-23: the version recorded last", 23, "2006-12-31", 1000},
		{"a freeze of views-23 before the first date: the version recorded last", 23, "2006-03-31", 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &Report{AsOf: domain.MustDate(c.asOf), rules: c.rules}
			got, ok := TargetsOf(ref, r)
			if (c.want == 0) == ok || (ok && got.City[domain.TargetPensionInsured] != c.want) {
				t.Errorf("targets %v (%v), want pension insured %d", got.City, ok, c.want)
			}
			if c.want == 0 {
				if note := NoTargetsNote(ref, r); !strings.Contains(note, "takes effect on 2006-04-18") {
					t.Errorf("the note %q does not say when the first version takes effect", note)
				}
			}
		})
	}
}
