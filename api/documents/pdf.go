package documents

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/go-pdf/fpdf"
	"github.com/kuozheng/kuozheng/domain"
)

// songti is AR PL SungtiL GB (gbsn00lp.ttf, Arphic Public License) cut to ASCII, GB2312 and ‰ by
// scripts/subset-font.sh; fpdf embeds in each document only the glyphs it prints.
//
//go:embed font/gbsn00lp-gb2312.ttf
var songti []byte

const (
	font       = "songti"
	margin     = 20.0 // mm
	pageWidth  = 210.0
	pageHeight = 297.0
	textWidth  = pageWidth - 2*margin
	rowHeight  = 7.0
)

// newA4 starts an A4 document whose metadata hold no clock reading: its creation and
// modification dates are on (the ledger's date, midnight in China), its resources are written
// in a fixed order, and every page carries footer (with {nb} for the page count).
func newA4(on domain.Date, title, footer string) *fpdf.Fpdf {
	pdf := fpdf.New("P", "mm", "A4", "")
	t := on.StartInChina()
	pdf.SetCreationDate(t)
	pdf.SetModificationDate(t)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetProducer("kuozheng", true)
	pdf.SetTitle(title, true)
	pdf.AddUTF8FontFromBytes(font, "", songti)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin+5)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-margin)
		pdf.SetFont(font, "", 9)
		pdf.CellFormat(textWidth, 5, fmt.Sprintf("%s　第 %d 页 共 {nb} 页", footer, pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	return pdf
}

func output(pdf *fpdf.Fpdf) ([]byte, error) {
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("printing the document: %w", err)
	}
	return b.Bytes(), nil
}

// Render prints the notice: the same notice gives the same bytes.
func (n *Notice) Render() ([]byte, error) {
	pdf := newA4(n.IssuedOn, "责令限期缴纳通知书 "+n.Number, n.Number)
	pdf.AddPage()
	pdf.SetFont(font, "", 20)
	pdf.CellFormat(textWidth, 12, "责令限期缴纳通知书", "", 1, "C", false, 0, "")
	pdf.SetFont(font, "", 11)
	pdf.CellFormat(textWidth, 8, n.Number, "", 1, "R", false, 0, "")
	pdf.Ln(2)
	para := func(s string) { paragraph(pdf, s) }
	code := "组织机构代码：" + n.OrgCode
	switch {
	case n.CreditCode != "":
		code = "统一社会信用代码：" + n.CreditCode
	case n.OrgCode == "":
		code = "组织机构代码：无（个人缴费）"
	}
	para("缴费单位：" + n.Name)
	para(code)
	para("所在县（市、区）：" + n.CountyName + "（" + n.CountyCode + "）")
	pdf.Ln(2)
	para(fmt.Sprintf("　　经核查，截至%s，你单位欠缴社会保险费本金人民币 %s 元，应加收滞纳金人民币 %s 元，合计人民币 %s 元。明细如下：",
		ChineseDate(n.IssuedOn), Yuan(n.PrincipalFen), Yuan(n.LateFeeFen), Yuan(n.TotalFen)))
	pdf.Ln(1)
	n.table(pdf)
	pdf.Ln(3)
	para("滞纳金自缴费期限届满次日起按日计收，至" + ChineseDate(n.IssuedOn) + "止：")
	for _, r := range n.Rates {
		para(fmt.Sprintf("　　%s 至 %s，按日加收 %s，依据%s；", r.From, r.Through, DailyRate(r.DailyBP), r.Basis))
	}
	pdf.Ln(2)
	para("欠缴本金：人民币 " + Yuan(n.PrincipalFen) + " 元（大写：" + domain.ChineseCapitals(n.PrincipalFen) + "）")
	para("滞 纳 金：人民币 " + Yuan(n.LateFeeFen) + " 元（大写：" + domain.ChineseCapitals(n.LateFeeFen) + "）")
	para("合　　计：人民币 " + Yuan(n.TotalFen) + " 元（大写：" + domain.ChineseCapitals(n.TotalFen) + "）")
	pdf.Ln(2)
	para("　　请你单位于" + ChineseDate(n.Deadline) + "前将上述欠缴的社会保险费及滞纳金足额缴纳。逾期仍不缴纳的，" +
		"将依法从欠缴之日起继续按日加收滞纳金，并由劳动保障行政部门依法处理或申请人民法院强制执行。")
	pdf.Ln(10)
	pdf.CellFormat(textWidth, 7, n.Office(), "", 1, "R", false, 0, "")
	pdf.CellFormat(textWidth, 7, ChineseDate(n.IssuedOn), "", 1, "R", false, 0, "")
	return output(pdf)
}

// paragraph prints s wrapped to the text width, breaking between any two characters (Chinese
// has no spaces to break at; fpdf's MultiCell drops the character at such a break).
func paragraph(pdf *fpdf.Fpdf, s string) {
	const lineHeight = 6.5
	line := []rune{}
	for _, r := range s {
		if len(line) > 0 && pdf.GetStringWidth(string(append(line, r))) > textWidth {
			pdf.CellFormat(textWidth, lineHeight, string(line), "", 1, "L", false, 0, "")
			line = line[:0]
		}
		line = append(line, r)
	}
	pdf.CellFormat(textWidth, lineHeight, string(line), "", 1, "L", false, 0, "")
}

var noticeColumns = []struct {
	title string
	width float64
	align string
}{
	{"序号", 14, "C"}, {"费款所属期", 26, "C"}, {"险种", 26, "C"}, {"缴费期限", 28, "C"},
	{"欠缴本金（元）", 38, "R"}, {"滞纳金（元）", 38, "R"},
}

// table prints the lines, its header again at the top of every page it flows onto.
func (n *Notice) table(pdf *fpdf.Fpdf) {
	header := func() {
		for _, c := range noticeColumns {
			pdf.CellFormat(c.width, rowHeight, c.title, "1", 0, "C", false, 0, "")
		}
		pdf.Ln(-1)
	}
	row := func(cells ...string) {
		if pdf.GetY()+rowHeight > pageHeight-margin-5 {
			pdf.AddPage()
			header()
		}
		for i, c := range noticeColumns {
			pdf.CellFormat(c.width, rowHeight, cells[i], "1", 0, c.align, false, 0, "")
		}
		pdf.Ln(-1)
	}
	pdf.SetFont(font, "", 10)
	header()
	for i, l := range n.Lines {
		row(fmt.Sprint(i+1), l.Period.String(), InsuranceName(l.Insurance), l.DueDate.String(), Yuan(l.OutstandingFen), Yuan(l.LateFeeFen))
	}
	row("合计", "", "", "", Yuan(n.PrincipalFen), Yuan(n.LateFeeFen))
	pdf.SetFont(font, "", 11)
}
