package projections

import (
	"cmp"
	"math/big"
	"sort"

	"github.com/kuozheng/kuozheng/domain"
)

// Ranking is one county's place on target completion.
type Ranking struct {
	Rank     int        `json:"rank"`
	Code     string     `json:"code"`
	Name     string     `json:"name"`
	Score    Ratio      `json:"score"`
	Measures []Progress `json:"measures"`
}

// RankingWeighting states how rankings are scored.
const RankingWeighting = "each county's score is the mean, over the 8 measures of the year's targets, of actual/target " +
	"capped at 1.2 (so no single over-achievement hides the others); measures weigh equally; county targets are the " +
	"county split where one is recorded, else the city target shared by the county's share of pension should-insure; " +
	"ties are broken by county code"

// RankingWeightingZH is RankingWeighting as a printed bulletin states it.
const RankingWeightingZH = "各县（市、区）得分为当年目标 8 项指标完成率（实际 ÷ 目标，最高按 120% 计，单项超额不抵他项）的平均数，" +
	"各项权重相同；县级目标按已录入的分县目标，未录入的按该县养老保险应参保人数占全市的比例分解全市目标；得分相同的按区县代码排序。"

// Rank orders the counties of a report on target completion against the targets of its as-of
// year; a year without targets ranks no county (Targets' Note says why).
func Rank(ref *domain.Reference, r *Report) []Ranking {
	tp := Targets(ref, r)
	if tp.Note != "" {
		return nil
	}
	var out []Ranking
	for _, c := range r.Counties {
		ms := tp.Counties[c.Code]
		out = append(out, Ranking{Code: c.Code, Name: c.Name, Score: score(ms), Measures: ms})
	}
	placeByScore(out)
	return out
}

// score is the mean of min(actual/target, 1.2) over every measure, in parts per million, computed
// in integers: a measure without a target counts 0 (RankingWeighting's "over the 8 measures";
// only BulletinRule's praise and criticism leave such a measure out).
func score(ms []Progress) Ratio {
	var sum int64
	for _, m := range ms {
		if m.Target > 0 {
			// A negative actual (a figure wrapped before sums saturated) counts 0, as in
			// exactScore; Target is positive, so the only error left is a ratio past int64's
			// range: far above the cap, which is what it then counts.
			v, err := domain.MulDivHalfUp(max(m.Actual, 0), 1_000_000, m.Target)
			if err != nil {
				v = 1_200_000
			}
			sum += min(v, 1_200_000)
		}
	}
	return Ratio{sum, int64(len(ms)) * 1_000_000}
}

// exactScore is score's mean unrounded: Score is rounded to a millionth of each measure, which
// would tie, or swap, counties whose scores differ by less.
func exactScore(ms []Progress) *big.Rat {
	sum, most := new(big.Rat), big.NewRat(6, 5)
	for _, m := range ms {
		if m.Target > 0 {
			sum.Add(sum, minRat(big.NewRat(max(m.Actual, 0), m.Target), most))
		}
	}
	if len(ms) > 0 {
		sum.Quo(sum, new(big.Rat).SetInt64(int64(len(ms))))
	}
	return sum
}

func minRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) > 0 {
		return b
	}
	return a
}

// CompareScores compares a's and b's scores exactly, as places go: -1 if a's is lower, 0 if
// they are equal, 1 if higher. The Score shown, rounded, may be equal for scores that are not.
func CompareScores(a, b Ranking) int { return exactScore(a.Measures).Cmp(exactScore(b.Measures)) }

// placeByScore orders rankings by their exact scores, ties by code, and numbers their places.
func placeByScore(out []Ranking) {
	exact := make(map[string]*big.Rat, len(out))
	for _, r := range out {
		exact[r.Code] = exactScore(r.Measures)
	}
	placeBy(out, func(a, b Ranking) int { return exact[a.Code].Cmp(exact[b.Code]) })
}

// placeByRoundedScore orders rankings by their scores as shown, rounded, ties by code: the
// order province freezes store their cities in, which their digests keep.
func placeByRoundedScore(out []Ranking) {
	placeBy(out, func(a, b Ranking) int { return cmp.Compare(a.Score.Num, b.Score.Num) })
}

// placeBy orders rankings by compare, highest first, ties by code, and numbers their places.
func placeBy(out []Ranking, compare func(a, b Ranking) int) {
	sort.SliceStable(out, func(i, j int) bool {
		if c := compare(out[i], out[j]); c != 0 {
			return c > 0
		}
		return out[i].Code < out[j].Code
	})
	for i := range out {
		out[i].Rank = i + 1
	}
}
