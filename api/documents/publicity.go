package documents

import (
	"fmt"
	"strconv"

	"github.com/go-pdf/fpdf"
	"github.com/kuozheng/kuozheng/domain"
)

// PublicityList is what an arrears publicity list (欠费单位公示名单) prints: a county's employers
// whose principal overdue on AsOf exceeds AboveFen, by arrears, most first.
type PublicityList struct {
	CountyCode, CountyName string
	AsOf                   domain.Date
	AboveFen               domain.Fen
	Rows                   []PublicityRow
}

// PublicityRow is one employer of a publicity list, as it stood on the list's date.
type PublicityRow struct {
	Name string
	// Code is the unified social credit code, else the organisation code.
	Code string
	// ArrearsCurrentYearFen and ArrearsPriorYearsFen are the principal overdue on the list's date
	// for periods of its year and of earlier years; LateFeeFen the late fee owed then.
	ArrearsCurrentYearFen, ArrearsPriorYearsFen, LateFeeFen domain.Fen
	// MonthsOverdue counts the periods (months) with principal overdue in any insurance; Oldest
	// is the earliest of them.
	MonthsOverdue int
	Oldest        domain.Period
	// Stage is the enforcement stage's name as printed.
	Stage string
}

// ArrearsFen is the row's principal overdue, current and prior years.
func (r PublicityRow) ArrearsFen() domain.Fen {
	return r.ArrearsCurrentYearFen + r.ArrearsPriorYearsFen
}

// Totals sums the rows' arrears of the current year, of prior years, and late fees.
func (l *PublicityList) Totals() (current, prior, lateFee domain.Fen) {
	for _, r := range l.Rows {
		current += r.ArrearsCurrentYearFen
		prior += r.ArrearsPriorYearsFen
		lateFee += r.LateFeeFen
	}
	return current, prior, lateFee
}

// Landscape A4: the lists' tables are wide.
const (
	wideWidth     = pageHeight - 2*margin
	wideBottom    = pageWidth - margin - 5
	tableFontSize = 9.0
	tableLine     = 4.5
)

// newWideA4 starts a landscape A4 document as newA4 does; pages are added with addWidePage.
func newWideA4(on domain.Date, title, footer string) *fpdf.Fpdf {
	pdf := newA4(on, title, footer)
	pdf.SetAutoPageBreak(false, margin)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-margin)
		pdf.SetFont(font, "", 9)
		pdf.CellFormat(wideWidth, 5, fmt.Sprintf("%s　第 %d 页 共 {nb} 页", footer, pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	return pdf
}

func addWidePage(pdf *fpdf.Fpdf) {
	pdf.AddPageFormat("L", fpdf.SizeType{Wd: pageWidth, Ht: pageHeight})
}

// column is one column of a wide table.
type column struct {
	title string
	width float64
	align string
}

// wideTable prints rows under columns, wrapping each cell between any two characters, the header
// again at the top of every page the table flows onto.
func wideTable(pdf *fpdf.Fpdf, cols []column, rows [][]string) {
	pdf.SetFont(font, "", tableFontSize)
	var row func(cells []string, header bool)
	row = func(cells []string, header bool) {
		wrapped := make([][]string, len(cols))
		lines := 1
		for i, c := range cols {
			wrapped[i] = wrap(pdf, cells[i], c.width-2)
			lines = max(lines, len(wrapped[i]))
		}
		h := float64(lines)*tableLine + 2
		if !header && pdf.GetY()+h > wideBottom {
			addWidePage(pdf)
			row(titles(cols), true)
		}
		x, y := pdf.GetX(), pdf.GetY()
		for i, c := range cols {
			pdf.Rect(x, y, c.width, h, "D")
			align := c.align
			if header {
				align = "C"
			}
			for j, s := range wrapped[i] {
				pdf.SetXY(x+1, y+1+float64(j)*tableLine)
				pdf.CellFormat(c.width-2, tableLine, s, "", 0, align, false, 0, "")
			}
			x += c.width
		}
		pdf.SetXY(margin, y+h)
	}
	row(titles(cols), true)
	for _, r := range rows {
		row(r, false)
	}
}

func titles(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.title
	}
	return out
}

// wrap cuts s into lines no wider than width, between any two characters.
func wrap(pdf *fpdf.Fpdf, s string, width float64) []string {
	var out []string
	line := []rune{}
	for _, r := range s {
		if len(line) > 0 && pdf.GetStringWidth(string(append(line, r))) > width {
			out = append(out, string(line))
			line = line[:0]
		}
		line = append(line, r)
	}
	return append(out, string(line))
}

// widePara prints s across the landscape page, wrapped between any two characters.
func widePara(pdf *fpdf.Fpdf, s string) {
	for _, l := range wrap(pdf, s, wideWidth) {
		if pdf.GetY()+6.5 > wideBottom {
			addWidePage(pdf)
		}
		pdf.CellFormat(wideWidth, 6.5, l, "", 1, "L", false, 0, "")
	}
}

var publicityColumns = []column{
	{"序号", 10, "C"}, {"单位名称", 56, "L"}, {"信用代码/机构代码", 42, "L"},
	{"本年度欠费", 26, "R"}, {"以前年度欠费", 26, "R"}, {"欠费合计", 26, "R"},
	{"滞纳金", 24, "R"}, {"欠费月数", 14, "C"}, {"最早所属期", 18, "C"}, {"执法阶段", 15, "C"},
}

// Render prints the list: the same list gives the same bytes.
func (l *PublicityList) Render() ([]byte, error) {
	title := l.CountyName + "欠费单位公示名单"
	pdf := newWideA4(l.AsOf, title+" "+l.AsOf.String(), title+"（截至"+ChineseDate(l.AsOf)+"）")
	addWidePage(pdf)
	pdf.SetFont(font, "", 18)
	pdf.CellFormat(wideWidth, 11, "欠费单位公示名单", "", 1, "C", false, 0, "")
	pdf.SetFont(font, "", 11)
	widePara(pdf, fmt.Sprintf("县（市、区）：%s（%s）　　截至日期：%s　　公示标准：欠缴本金超过人民币 %s 元　　金额单位：元",
		l.CountyName, l.CountyCode, ChineseDate(l.AsOf), Yuan(l.AboveFen)))
	widePara(pdf, fmt.Sprintf("　　截至%s，下列 %d 户单位欠缴社会保险费本金（缴费期限已过，含本年度及以前年度）超过人民币 %s 元，按欠费合计从多到少排列，现予公示。",
		ChineseDate(l.AsOf), len(l.Rows), Yuan(l.AboveFen)))
	pdf.Ln(2)
	rows := make([][]string, 0, len(l.Rows)+1)
	for i, r := range l.Rows {
		oldest := ""
		if r.MonthsOverdue > 0 {
			oldest = r.Oldest.String()
		}
		rows = append(rows, []string{strconv.Itoa(i + 1), r.Name, r.Code, Yuan(r.ArrearsCurrentYearFen), Yuan(r.ArrearsPriorYearsFen),
			Yuan(r.ArrearsFen()), Yuan(r.LateFeeFen), strconv.Itoa(r.MonthsOverdue), oldest, r.Stage})
	}
	cur, prior, fee := l.Totals()
	rows = append(rows, []string{"合计", strconv.Itoa(len(l.Rows)) + " 户", "", Yuan(cur), Yuan(prior), Yuan(cur + prior), Yuan(fee), "", "", ""})
	wideTable(pdf, publicityColumns, rows)
	signature(pdf, l.CountyName+"社会保险事业管理局", l.AsOf)
	return output(pdf)
}

// signature closes a wide document with the office and the date, on a new page when they do
// not fit.
func signature(pdf *fpdf.Fpdf, office string, on domain.Date) {
	if pdf.GetY()+22 > wideBottom {
		addWidePage(pdf)
	}
	pdf.Ln(8)
	pdf.SetFont(font, "", 11)
	pdf.CellFormat(wideWidth, 7, office, "", 1, "R", false, 0, "")
	pdf.CellFormat(wideWidth, 7, ChineseDate(on), "", 1, "R", false, 0, "")
}
