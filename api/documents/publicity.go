package documents

import (
	"fmt"
	"strconv"

	"github.com/kuozheng/kuozheng/domain"
)

// PublicityList is what an arrears publicity list (欠费单位公示名单) prints: a county's employers
// whose principal overdue on AsOf exceeds AboveFen, by arrears, most first.
type PublicityList struct {
	CountyCode, CountyName string
	AsOf                   domain.Date
	AboveFen               domain.Fen
	// Seq is the ledger sequence the list was read at, printed when set (a list without one
	// prints the bytes it printed before lists named their sequence); events recorded later may
	// change the list of the same date.
	Seq  uint64
	Rows []PublicityRow
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
	return r.ArrearsCurrentYearFen.Plus(r.ArrearsPriorYearsFen)
}

// Totals sums the rows' arrears of the current year, of prior years, and late fees.
func (l *PublicityList) Totals() (current, prior, lateFee domain.Fen) {
	for _, r := range l.Rows {
		current = current.Plus(r.ArrearsCurrentYearFen)
		prior = prior.Plus(r.ArrearsPriorYearsFen)
		lateFee = lateFee.Plus(r.LateFeeFen)
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

// column is one column of a wide table.
type column struct {
	title string
	width float64
	align string
}

// wideTable prints rows under columns, wrapping each cell between any two characters, the header
// again at the top of every page the table flows onto.
func (d *doc) wideTable(cols []column, rows [][]string) { d.wideTableKeep(cols, rows, 0) }

// wideTableKeep is wideTable keeping its last two rows on one page with the tail mm that follow
// it (a signature: signTail), the header above them, when tail is not 0.
func (d *doc) wideTableKeep(cols []column, rows [][]string, tail float64) {
	d.font(tableFontSize)
	wrap := func(cells []string, header bool) ([][]string, float64) {
		wrapped := make([][]string, len(cols))
		lines := 1
		for i, c := range cols {
			if d.fit && !header && c.align == "R" {
				wrapped[i] = []string{cells[i]} // an amount: printed smaller to fit, never cut
			} else {
				wrapped[i] = d.wrap(cells[i], c.width-2)
			}
			lines = max(lines, len(wrapped[i]))
		}
		return wrapped, float64(lines)*tableLine + 2
	}
	// keep[i] is what must follow row i on its page: the rows after it among the last two, and tail.
	keep := make([]float64, len(rows))
	if tail > 0 {
		for i := len(rows) - 1; i >= max(0, len(rows)-2); i-- {
			keep[i] = tail
			if i+1 < len(rows) {
				_, h := wrap(rows[i+1], false)
				keep[i] = keep[i+1] + h
			}
		}
	}
	var row func(cells []string, header bool, keep float64)
	row = func(cells []string, header bool, keep float64) {
		wrapped, h := wrap(cells, header)
		if !header && d.y()+h+keep > wideBottom {
			d.addPage()
			row(titles(cols), true, 0)
		}
		x, y := d.x(), d.y()
		for i, c := range cols {
			d.rect(x, y, c.width, h)
			align := c.align
			if header {
				align = "C"
			}
			for j, s := range wrapped[i] {
				d.setXY(x+1, y+1+float64(j)*tableLine)
				if d.fit && !header && c.align == "R" { // an amount, unwrapped
					d.tableCell(c.width-2, tableLine, s, "", 0, align)
				} else {
					d.cell(c.width-2, tableLine, s, "", 0, align)
				}
			}
			x += c.width
		}
		d.setXY(margin, y+h)
	}
	row(titles(cols), true, 0)
	for i, r := range rows {
		row(r, false, keep[i])
	}
}

func titles(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.title
	}
	return out
}

// widePara prints s across the landscape page, wrapped between any two characters.
func (d *doc) widePara(s string) {
	for _, l := range d.wrap(s, wideWidth) {
		if d.y()+6.5 > wideBottom {
			d.addPage()
		}
		d.cell(wideWidth, 6.5, l, "", 1, "L")
	}
}

var publicityColumns = []column{
	{"序号", 10, "C"}, {"单位名称", 56, "L"}, {"信用代码/机构代码", 42, "L"},
	{"本年度欠费", 26, "R"}, {"以前年度欠费", 26, "R"}, {"欠费合计", 26, "R"},
	{"滞纳金", 24, "R"}, {"欠费月数", 14, "C"}, {"最早所属期", 18, "C"}, {"执法阶段", 15, "C"},
}

// Render prints the list: the same list gives the same bytes.
func (l *PublicityList) Render() ([]byte, error) { return l.RenderAs(Printings[0]) }

// RenderAs prints the list the way p says.
func (l *PublicityList) RenderAs(p Printing) ([]byte, error) {
	title := l.CountyName + "欠费单位公示名单"
	return print(p, layout{on: l.AsOf, title: title + " " + l.AsOf.String(), footer: title + "（截至" + ChineseDate(l.AsOf) + "）", wide: true}, func(d *doc) {
		d.addPage()
		d.font(18)
		d.cell(wideWidth, 11, "欠费单位公示名单", "", 1, "C")
		d.font(11)
		d.widePara(fmt.Sprintf("县（市、区）：%s（%s）　　截至日期：%s　　公示标准：欠缴本金超过人民币 %s 元　　金额单位：元",
			l.CountyName, l.CountyCode, ChineseDate(l.AsOf), Yuan(l.AboveFen)))
		if l.Seq != 0 {
			d.widePara(fmt.Sprintf("数据来源：台账记录至账本序列 S=%d（此后记录的事项可能改变同一日期的名单）", l.Seq))
		}
		d.widePara(fmt.Sprintf("　　截至%s，下列 %d 户单位欠缴社会保险费本金（缴费期限已过，含本年度及以前年度）超过人民币 %s 元，按欠费合计从多到少排列，现予公示。",
			ChineseDate(l.AsOf), len(l.Rows), Yuan(l.AboveFen)))
		d.ln(2)
		rows := make([][]string, 0, len(l.Rows)+1)
		boxed := false // a name printed with a character the font lacks as □
		for i, r := range l.Rows {
			oldest := ""
			if r.MonthsOverdue > 0 {
				oldest = r.Oldest.String()
			}
			name, b := boxUnprintable(r.Name)
			boxed = boxed || b
			rows = append(rows, []string{strconv.Itoa(i + 1), name, r.Code, Yuan(r.ArrearsCurrentYearFen), Yuan(r.ArrearsPriorYearsFen),
				Yuan(r.ArrearsFen()), Yuan(r.LateFeeFen), strconv.Itoa(r.MonthsOverdue), oldest, r.Stage})
		}
		cur, prior, fee := l.Totals()
		rows = append(rows, []string{"合计", strconv.Itoa(len(l.Rows)) + " 户", "", Yuan(cur), Yuan(prior), Yuan(cur.Plus(prior)), Yuan(fee), "", "", ""})
		tail := d.signTail()
		if boxed && tail > 0 {
			tail += 6.5 // the note below, on the signature's page too
		}
		d.wideTableKeep(publicityColumns, rows, tail)
		if boxed {
			d.widePara("注：单位名称中的“□”是本名单字库印不出的字，单位以其信用代码/机构代码为准。")
		}
		d.signature(l.CountyName+"社会保险事业管理局", l.AsOf)
	})
}

// boxUnprintable is s with each character the documents' font has no glyph for printed as □,
// and whether there was one: a publicity list names every payer in arrears, and one name the
// font cannot print does not withhold the county's list.
func boxUnprintable(s string) (string, bool) {
	face, err := songtiFace()
	if err != nil {
		return s, false // the font is unreadable: printing fails and says so
	}
	boxed := false
	out := []rune(s)
	for i, r := range out {
		if _, ok := face.glyphOf[r]; !ok {
			out[i], boxed = '□', true
		}
	}
	if !boxed {
		return s, false
	}
	return string(out), true
}

// signTail is what a wide document's signature prints, to keep on one page with what it closes
// when the document keeps them together (keepsTogether), else 0.
func (d *doc) signTail() float64 {
	if d.keepsTogether() {
		return wideSignHeight
	}
	return 0
}

// wideSignHeight is what signature prints.
const wideSignHeight = 8 + 2*7

// wideKeep starts a new landscape page unless h mm more fit on this one.
func (d *doc) wideKeep(h float64) {
	if d.p != nil && d.y()+h > wideBottom {
		d.addPage()
	}
}

// signature closes a wide document with the office and the date, on a new page when they do
// not fit.
func (d *doc) signature(office string, on domain.Date) {
	if d.y()+wideSignHeight > wideBottom {
		d.addPage()
	}
	d.ln(8)
	d.font(11)
	d.cell(wideWidth, 7, office, "", 1, "R")
	d.cell(wideWidth, 7, ChineseDate(on), "", 1, "R")
}
