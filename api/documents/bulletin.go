package documents

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// BulletinRule is the rule a bulletin praises and criticises counties by, printed on it.
const BulletinRule = "表扬：得分居前三位（同分者并列）且各项指标完成率均不低于100%的县（市、区）；" +
	"通报批评：得分居后三位（同分者并列），或任一项指标完成率低于60%的县（市、区），受表扬者除外。" +
	"未定目标的指标不计；未定任何目标的县（市、区）不予表扬或批评，也不计入前三位、后三位。"

// Bulletin is what a monthly bulletin (通报) prints: a freeze's figures, its ranking with the
// weighting, and the counties praised and criticised by BulletinRule.
type Bulletin struct {
	// City is the city whose bureau issues the bulletin ("赣州市" when empty).
	City             string
	FreezeID, Digest string
	ThroughSeq       uint64
	ValidThrough     domain.Date
	Period           domain.Period
	// Scope says whose counties are printed (全市, or the reader's).
	Scope string
	// Counties are the frozen figures of the counties printed; Total sums them.
	Counties []*projections.Figures
	Total    *projections.Figures
	// Measures name the target measures, in the order of each ranking's Completions.
	Measures []string
	Ranking  []BulletinRank
	// Weighting states how the score is made; Note why nothing is ranked, when nothing is.
	Weighting, Note string
	// Praised and Criticised are the counties so judged by BulletinRule, among those printed.
	Praised, Criticised []string
}

// BulletinRank is one county's place in a bulletin's ranking.
type BulletinRank struct {
	Rank        int
	Code, Name  string
	Score       projections.Ratio
	Completions []projections.Ratio // aligned with Bulletin.Measures; Den 0 where no target
}

// Judge applies BulletinRule to a whole ranking (best first, every county of the city): the codes
// praised and criticised, in the ranking's order. Places go by score, so counties of one score
// are judged alike (the ranking's order among them is by code only); a county with no target
// is not judged, nor counted among the top or bottom three.
func Judge(ranking []projections.Ranking) (praised, criticised []string) {
	var judged []projections.Ranking
	for _, rk := range ranking {
		if slices.ContainsFunc(rk.Measures, func(m projections.Progress) bool { return m.Rate.Den != 0 }) {
			judged = append(judged, rk)
		}
	}
	for _, rk := range judged {
		allMet, anyLow := true, false
		for _, m := range rk.Measures {
			if m.Rate.Den == 0 {
				continue
			}
			allMet = allMet && !below(m.Rate, 100)
			anyLow = anyLow || below(m.Rate, 60)
		}
		switch {
		case Place(judged, rk) <= 3 && allMet:
			praised = append(praised, rk.Code)
		case placeFromBottom(judged, rk) <= 3 || anyLow:
			criticised = append(criticised, rk.Code)
		}
	}
	return praised, criticised
}

// Place is the place rk's score takes in a ranking, counties of one score sharing it: one more
// than the counties scoring higher (1, 2, 2, 4), scores compared exactly.
func Place(ranking []projections.Ranking, rk projections.Ranking) int {
	return 1 + countScores(ranking, rk, 1)
}

// placeFromBottom is Place counted from the bottom of the ranking.
func placeFromBottom(ranking []projections.Ranking, rk projections.Ranking) int {
	return 1 + countScores(ranking, rk, -1)
}

// countScores counts the rankings whose score compares with rk's as sign says.
func countScores(ranking []projections.Ranking, rk projections.Ranking, sign int) int {
	n := 0
	for _, o := range ranking {
		if projections.CompareScores(o, rk) == sign {
			n++
		}
	}
	return n
}

// below says whether r is below pct percent, exactly.
func below(r projections.Ratio, pct int64) bool {
	l := new(big.Int).Mul(big.NewInt(r.Num), big.NewInt(100))
	return l.Cmp(new(big.Int).Mul(big.NewInt(r.Den), big.NewInt(pct))) < 0
}

// Percent writes a ratio as a percentage with two decimals, rounded half up ("" when undefined).
func Percent(r projections.Ratio) string {
	if r.Den == 0 {
		return ""
	}
	bp, err := domain.MulDivHalfUp(r.Num, 10000, r.Den)
	if err != nil {
		return ""
	}
	sign := ""
	if bp < 0 {
		sign, bp = "-", -bp
	}
	return fmt.Sprintf("%s%d.%02d%%", sign, bp/100, bp%100)
}

var bulletinCountyColumns = []column{
	{"代码", 18, "C"}, {"县（市、区）", 24, "L"}, {"参保覆盖率", 25, "R"}, {"缴费率", 25, "R"},
	{"当期征缴率", 27, "R"}, {"累计征缴率", 27, "R"}, {"本年度欠费", 36, "R"}, {"以前年度欠费", 36, "R"}, {"清欠", 36, "R"},
}

// Render prints the bulletin: the same bulletin gives the same bytes.
func (b *Bulletin) Render() ([]byte, error) { return b.RenderAs(Printings[0]) }

// RenderAs prints the bulletin the way p says.
func (b *Bulletin) RenderAs(p Printing) ([]byte, error) {
	return print(p, layout{on: b.ValidThrough, title: "通报 " + b.ValidThrough.String(), footer: fmt.Sprintf("通报（截至%s，冻结 %s）", ChineseDate(b.ValidThrough), b.FreezeID), wide: true}, func(d *doc) {
		d.addPage()
		d.font(18)
		d.cell(wideWidth, 11, "关于"+strconv.Itoa(b.ValidThrough.Year())+"年社会保险扩面征缴工作情况的通报", "", 1, "C")
		d.font(11)
		d.widePara(fmt.Sprintf("数据截至：%s（核算期 %s）　范围：%s", ChineseDate(b.ValidThrough), b.Period, b.Scope))
		d.widePara(fmt.Sprintf("数据冻结：%s，账本序列 S=%d，截至日期 D=%s，摘要 %s", b.FreezeID, b.ThroughSeq, b.ValidThrough, b.Digest))
		d.ln(2)
		d.widePara("一、各县（市、区）养老保险主要指标（冻结数据；金额单位：元）")
		rows := make([][]string, 0, len(b.Counties)+1)
		line := func(code, name string, f *projections.Figures) []string {
			p := f.Insurances[domain.Pension]
			return []string{code, name, rate(p.CoverageRate), rate(p.ContributionRate), rate(p.PeriodCollectionRate),
				rate(p.CumulativeCollectionRate), Yuan(p.ArrearsCurrentYearFen), Yuan(p.ArrearsPriorYearsFen), Yuan(p.RecoveredFen)}
		}
		for _, c := range b.Counties {
			rows = append(rows, line(c.Code, c.Name, c))
		}
		if b.Total != nil {
			rows = append(rows, line("", "合计", b.Total))
		}
		d.wideTable(bulletinCountyColumns, rows)
		d.ln(3)
		d.font(11)
		d.widePara("二、目标任务完成情况排名（完成率 = 实际/目标）")
		d.widePara("计分办法：" + b.Weighting)
		d.widePara("分母为 0 的比率、无目标的指标记为 " + undefinedRate + "；无任何目标的县（市、区）不列名次，不参与表扬与通报批评。")
		if b.Note != "" {
			d.widePara(b.Note)
		} else {
			cols := []column{{"名次", 12, "C"}, {"代码", 18, "C"}, {"县（市、区）", 24, "L"}, {"得分", 18, "R"}}
			w := (wideWidth - 72) / float64(max(len(b.Measures), 1))
			for _, m := range b.Measures {
				cols = append(cols, column{m, w, "R"})
			}
			rows = rows[:0]
			for _, rk := range b.Ranking {
				// A county with no target at all is not placed: its score of 0 by the weighting
				// would read as a completion of 0%.
				row := []string{undefinedRate, rk.Code, rk.Name, "无目标"}
				if slices.ContainsFunc(rk.Completions, func(c projections.Ratio) bool { return c.Den != 0 }) {
					row = []string{strconv.Itoa(rk.Rank), rk.Code, rk.Name, Percent(rk.Score)}
				}
				for _, c := range rk.Completions {
					row = append(row, rate(c))
				}
				rows = append(rows, row)
			}
			d.wideTable(cols, rows)
		}
		list := func(names []string) string {
			if len(names) == 0 {
				return "无"
			}
			return strings.Join(names, "、")
		}
		last := []string{"三、表扬与通报批评", "规则：" + BulletinRule, "表扬：" + list(b.Praised), "通报批评：" + list(b.Criticised)}
		if d.keepsTogether() {
			// The signature goes on one page with the section it closes, not alone.
			d.font(11)
			lines := 0
			for _, s := range last {
				lines += len(d.wrap(s, wideWidth))
			}
			d.wideKeep(3 + float64(lines)*6.5 + wideSignHeight)
		}
		d.ln(3)
		d.font(11)
		for _, s := range last {
			d.widePara(s)
		}
		d.signature(bureau(b.City), b.ValidThrough)
	})
}
