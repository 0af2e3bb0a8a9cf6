package documents

import (
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// county is a ranked county whose measures have the completions given in percent (-1: no target).
func county(code string, completions ...int64) projections.Ranking {
	rk := projections.Ranking{Code: code, Score: projections.Ratio{Den: int64(len(completions)) * 100}}
	for _, c := range completions {
		if c < 0 {
			rk.Measures = append(rk.Measures, projections.Progress{})
			continue
		}
		rk.Measures = append(rk.Measures, projections.Progress{Target: 100, Actual: c, Rate: projections.Ratio{Num: c, Den: 100}})
		rk.Score.Num += min(c, 120)
	}
	return rk
}

func TestTheBulletinJudgesCountiesByTheirScoresAndTargets(t *testing.T) {
	tests := []struct {
		name                string
		ranking             []projections.Ranking
		praised, criticised []string
	}{
		{"the top three that met every target are praised, the bottom three criticised",
			[]projections.Ranking{county("a", 120, 110), county("b", 110, 100), county("c", 100, 100), county("d", 100, 90),
				county("e", 90, 80), county("f", 80, 80), county("g", 70, 70)},
			[]string{"a", "b", "c"}, []string{"e", "f", "g"}},
		{"a county with no target is neither praised nor criticised, nor counted among the three",
			[]projections.Ranking{county("a", 100, -1), county("b", -1, -1), county("c", -1, -1), county("d", -1, -1)},
			[]string{"a"}, nil},
		{"counties of the third best score are praised alike",
			[]projections.Ranking{county("a", 120, 120), county("b", 110, 110), county("c", 100, 100), county("d", 100, 100),
				county("e", 90, 90), county("f", 90, 90), county("g", 90, 90), county("h", 90, 90)},
			[]string{"a", "b", "c", "d"}, []string{"e", "f", "g", "h"}},
		{"a measure below 60% is criticised however the county places, unless praised",
			[]projections.Ranking{county("a", 120, 120, 120), county("b", 120, 120, 50), county("c", 100, 100, 100), county("d", 100, 100, 100),
				county("e", 90, 90, 90), county("f", 80, 80, 80), county("g", 70, 70, 70)},
			[]string{"a", "c", "d"}, []string{"b", "e", "f", "g"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			praised, criticised := Judge(tt.ranking)
			if !slices.Equal(praised, tt.praised) || !slices.Equal(criticised, tt.criticised) {
				t.Fatalf("praised %v, criticised %v; want %v and %v", praised, criticised, tt.praised, tt.criticised)
			}
		})
	}
}

// A county with no target at all is printed without a place, its score not as 0% but as having
// no target, and a rate with nothing to divide by as －, said under the ranking's heading (an
// outside review read "0.00%" at a shared last place).
func TestTheBulletinPrintsACountyWithoutATargetUnplaced(t *testing.T) {
	b := &Bulletin{ValidThrough: domain.MustDate("2006-12-31"), Period: domain.MustPeriod("2006-11"), Scope: "全市", FreezeID: "f", Weighting: "w",
		Measures: []string{"甲", "乙"}, Ranking: []BulletinRank{
			{Rank: 1, Code: "360702", Name: "章贡区", Score: projections.Ratio{Num: 9, Den: 10}, Completions: []projections.Ratio{{Num: 9, Den: 10}, {}}},
			{Rank: 2, Code: "360703", Name: "南康区", Score: projections.Ratio{Den: 10}, Completions: []projections.Ratio{{}, {}}}}}
	pdf, err := b.Render()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(poppler(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8", "-", "-"))), " ")
	for _, want := range []string{"1 360702 章贡区 90.00% 90.00% －", "－ 360703 南康区 无目标 － －", "无任何目标的县（市、区）不列名次"} {
		if !strings.Contains(text, want) {
			t.Errorf("the bulletin does not print %q:\n%s", want, text)
		}
	}
}
