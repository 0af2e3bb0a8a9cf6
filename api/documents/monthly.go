package documents

import (
	"fmt"
	"strconv"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// MonthlyReport is what the monthly county report (月报) prints: the figures of
// GET /v1/reports/monthly/{month} (those of its csv, and the total of its JSON), by insurance.
type MonthlyReport struct {
	// City is the city whose bureau issues the report ("赣州市" when empty).
	City string
	// Month is the month reported on; AsOf the day its figures stand at (the month's last day,
	// or today if earlier); Period the period last due by then (当期); Seq the ledger sequence
	// they reflect.
	Month  domain.Period
	AsOf   domain.Date
	Period domain.Period
	Seq    uint64
	// FreezeID and Digest name the freeze the figures were read from; empty for live figures.
	FreezeID, Digest string
	// Closed says, of live figures, that the books of AsOf were closed at Seq: no write dated
	// by then is taken until the year is reopened.
	Closed bool
	// Scope says whose counties are printed (全市, or the reader's).
	Scope string
	// Counties are the figures of the counties printed; Total sums them, in a row named
	// TotalName.
	Counties  []*projections.Figures
	Total     *projections.Figures
	TotalName string
}

// The two halves of an insurance's figures, each a table that fits a landscape page with
// amounts up to hundreds of millions of yuan on one line. The first two columns name the row:
// a county (code and name), or on the first page an insurance (one column as wide as both).
var (
	monthlyCoverageColumns = []column{
		{"代码", 16, "C"}, {"县（市、区）", 34, "L"},
		{"参保人数", 22, "R"}, {"应参保人数", 22, "R"}, {"参保率", 20, "R"},
		{"足额缴费人数", 24, "R"}, {"缴费率", 20, "R"},
		{"当期应缴（元）", 38.5, "R"}, {"当期实缴（元）", 38.5, "R"}, {"当期征缴率", 22, "R"},
	}
	monthlyArrearsColumns = []column{
		{"代码", 16, "C"}, {"县（市、区）", 34, "L"},
		{"累计应缴（元）", 37, "R"}, {"累计实缴（元）", 37, "R"}, {"累计征缴率", 22, "R"},
		{"当年欠费（元）", 37, "R"}, {"历年欠费（元）", 37, "R"}, {"清欠（元）", 37, "R"},
	}
)

// monthlyCoverage and monthlyArrears are one row's cells of each half, after the columns
// naming it.
func monthlyCoverage(x *projections.InsuranceFigures) []string {
	return []string{count(x.Insured), count(x.ShouldInsure), rate(x.CoverageRate), count(x.PaidInsured), rate(x.ContributionRate),
		Yuan(x.PeriodDueFen), Yuan(x.PeriodCollectedFen), rate(x.PeriodCollectionRate)}
}

func monthlyArrears(x *projections.InsuranceFigures) []string {
	return []string{Yuan(x.CumulativeDueFen), Yuan(x.CumulativeCollectedFen), rate(x.CumulativeCollectionRate),
		Yuan(x.ArrearsCurrentYearFen), Yuan(x.ArrearsPriorYearsFen), Yuan(x.RecoveredFen)}
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

// rate is a ratio as a percentage with two decimals; － when undefined (a zero denominator).
// (The font has no — to print.)
func rate(r projections.Ratio) string {
	if s := Percent(r); s != "" {
		return s
	}
	return undefinedRate
}

const undefinedRate = "－"

// chineseMonth writes a month as 2006年11月.
func chineseMonth(p domain.Period) string {
	return strconv.Itoa(p.Year()) + "年" + strconv.Itoa(int(p.Month())) + "月"
}

// Render prints the report on landscape A4: a header stating what the figures are, the total
// by insurance, then for each insurance its counties in two tables (coverage and the period's
// collection; cumulative collection, arrears and recovery), each with the total row. The same
// report gives the same bytes.
func (m *MonthlyReport) Render() ([]byte, error) { return m.RenderAs(Printings[0]) }

// RenderAs prints the report the way p says.
func (m *MonthlyReport) RenderAs(p Printing) ([]byte, error) {
	source := fmt.Sprintf("账本序列 S=%d", m.Seq)
	if m.FreezeID != "" {
		source = fmt.Sprintf("冻结 %s，S=%d", m.FreezeID, m.Seq)
	}
	l := layout{on: m.AsOf, title: "月报 " + m.Month.String(), footer: fmt.Sprintf("月报 %s（截至%s，%s）", m.Month, ChineseDate(m.AsOf), source), wide: true}
	return print(p, l, func(d *doc) {
		d.addPage()
		d.font(18)
		d.cell(wideWidth, 11, "社会保险扩面征缴月报（"+chineseMonth(m.Month)+"）", "", 1, "C")
		d.font(11)
		first := m.Period
		for first.Month() > 1 {
			first = first.Prev()
		}
		d.widePara(fmt.Sprintf("报告月份：%s　　数据截至：%s　　核算期（当期）：%s　　范围：%s",
			m.Month, ChineseDate(m.AsOf), m.Period, m.Scope))
		if m.FreezeID != "" {
			d.widePara(fmt.Sprintf("数据来源：冻结 %s，账本序列 S=%d", m.FreezeID, m.Seq))
			d.widePara("冻结摘要：" + m.Digest)
		} else if m.Closed {
			d.widePara(fmt.Sprintf("数据来源：实时台账，账本序列 S=%d（%d年已结转：本月数字不再变动，除非重新开启已结转的年度）", m.Seq, m.AsOf.Year()))
		} else {
			d.widePara(fmt.Sprintf("数据来源：实时台账，账本序列 S=%d（未冻结：此后记录的事项可能改变本月数字；需固定不变的数字，请按冻结打印）", m.Seq))
		}
		d.widePara("口径：金额单位为元；参保率 = 参保人数 ÷ 应参保人数；缴费率 = 足额缴费人数 ÷ 参保人数；分母为 0 的比率记为 " + undefinedRate + "。")
		d.widePara(fmt.Sprintf("　　　征缴率 = 实缴 ÷ 应缴，当期为核算期 %s，累计为 %s 至 %s；", m.Period, first, m.Period))
		d.widePara(fmt.Sprintf("　　　当年欠费、历年欠费为截至 %s 已过缴费期限未缴的本金；清欠为过缴费期限后收回的本金（不含滞纳金）。", m.AsOf))
		d.ln(2)

		total := m.Total
		if total == nil {
			total = projections.Sum(m.TotalName, m.Counties)
		}
		byInsurance := func(cols []column, cells func(*projections.InsuranceFigures) []string) ([]column, [][]string) {
			cols = append([]column{{"险种", cols[0].width + cols[1].width, "L"}}, cols[2:]...)
			rows := make([][]string, 0, len(domain.Insurances))
			for _, ins := range domain.Insurances {
				rows = append(rows, append([]string{InsuranceName(ins)}, cells(total.Insurances[ins])...))
			}
			return cols, rows
		}
		byCounty := func(ins domain.Insurance, cells func(*projections.InsuranceFigures) []string) [][]string {
			rows := make([][]string, 0, len(m.Counties)+1)
			for _, c := range m.Counties {
				rows = append(rows, append([]string{c.Code, c.Name}, cells(c.Insurances[ins])...))
			}
			return append(rows, append([]string{"", m.TotalName}, cells(total.Insurances[ins])...))
		}
		// section prints headings and a table under them, on a new page unless all of it fits on
		// this one (a table longer than a page flows on, its header repeated). A section of the
		// whole city fills most of a page, and the last one leaves just room for the signature.
		section := func(headings []string, cols []column, rows [][]string, tail float64) {
			if d.y()+3+float64(len(headings))*6.5+float64(len(rows)+1)*(tableLine+2)+tail > wideBottom {
				d.addPage()
			} else {
				d.ln(3)
			}
			d.font(11)
			for _, h := range headings {
				d.widePara(h)
			}
			d.wideTableKeep(cols, rows, tail)
		}
		sum := "（" + m.TotalName + "）"
		cols, rows := byInsurance(monthlyCoverageColumns, monthlyCoverage)
		section([]string{sectionNumbers[0] + "、各险种汇总" + sum, "（一）参保、缴费人数与当期征缴"}, cols, rows, 0)
		cols, rows = byInsurance(monthlyArrearsColumns, monthlyArrears)
		section([]string{"（二）累计征缴、欠费与清欠"}, cols, rows, 0)
		for i, ins := range domain.Insurances {
			title := sectionNumbers[i+1] + "、" + InsuranceName(ins)
			// The last section keeps its last rows with the signature (signTail).
			tail := 0.0
			if i == len(domain.Insurances)-1 {
				tail = d.signTail()
			}
			section([]string{title, "（一）" + InsuranceName(ins) + "：参保、缴费人数与当期征缴"}, monthlyCoverageColumns, byCounty(ins, monthlyCoverage), 0)
			section([]string{"（二）" + InsuranceName(ins) + "：累计征缴、欠费与清欠"}, monthlyArrearsColumns, byCounty(ins, monthlyArrears), tail)
		}
		d.signature(bureau(m.City), m.AsOf)
	})
}

// sectionNumbers number the report's sections: the total, then one per insurance.
var sectionNumbers = []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

// bureau is the city's labour and social security bureau, which signs its reports.
func bureau(city string) string {
	if city == "" {
		city = "赣州市"
	}
	return city + "劳动和社会保障局"
}
