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

// songtiMore is the same font's · (U+00B7) and — (U+2014), GB2312's A1A4 and A1AA, which the cut
// above left out (scripts/subset-font.sh says why); read, they join songti's glyphs (songtiFace)
// for every printing but WholeFont, which embeds songti whole and keeps its bytes.
//
//go:embed font/gbsn00lp-more.ttf
var songtiMore []byte

// Printing names a way a document's bytes are made. A document prints again the way it was
// first printed, byte for byte: a notice's recorded SHA-256 is checked against its reprint. A
// printing, once documents are printed with it, prints the same document to the same bytes for
// good; a change to its bytes is a new printing.
type Printing int

const (
	// WholeFont hands fpdf the whole embedded font (the builds of 2026-12-01 printed so).
	WholeFont Printing = iota + 1
	// OwnGlyphs hands fpdf the font cut to the characters the document prints: fpdf's own
	// parsing and subsetting grow with the characters a font maps, so a document costs a third.
	OwnGlyphs
	// OwnWriter prints without fpdf, with our own writer (writer.go), six times as fast: the
	// font cut to the characters the document prints (a glyph a character, its id the character's
	// code) embedded once as a CID font, every stream compressed by klauspost/compress's zlib at
	// level 2, the pages laid out as fpdf lays them out, so that they print the same pixels as
	// the other printings' but for the footer, centred on the real page count where fpdf centres
	// "{nb}". Its bytes are those of writer.go, of subset in font.go and of that compressor (the
	// version go.mod names): a change to any of them is a new printing.
	OwnWriter
	// OwnWriterLineRules is OwnWriter with Chinese typesetting's line-breaking rules (避头尾): no
	// printed line starts with closing punctuation or ends with opening punctuation (carried).
	// The others broke a line between any two characters, leaving a line of a lone "。".
	OwnWriterLineRules
	// OwnWriterFeeDays is OwnWriterLineRules with a notice's late-fee rates printed for the days
	// a listed line accrued fee at each (Notice.FeeDays): the others printed each rate in force
	// from the earliest listed line's first day of fee to the issue date, days of no fee among
	// them (lines paid in 2010, another due in 2012: 2‰ through 2011-06-30, 0.5‰ since).
	OwnWriterFeeDays
	// OwnWriterKeepTogether is OwnWriterFeeDays with lines broken and pages ended where they
	// break nothing that reads as one: no line breaks inside a run of digits, Latin letters and
	// the characters joining them in amounts, dates and codes (1,118.60, 2006-07, 360725) unless
	// the run alone is wider than the line; no line starts with two closing marks ("）：") either,
	// however many of them come together (carriedRuns); and a document's signature (the office
	// and the date) is kept on one page with what it closes (the notice's last paragraph, the
	// statement's totals, a receipt's or void note's sequence and hash, a wide document's last
	// rows or paragraphs). The others printed "1,11⏎8.60", a line starting "）：" and a notice's
	// signature alone on its last page.
	OwnWriterKeepTogether
	// OwnWriterPersons is OwnWriterKeepTogether with a payer who pays as a person (个体工商户,
	// 灵活就业人员) addressed as one: 缴费人 and 你, where the others printed 缴费单位 and 你单位
	// (your unit) to everyone.
	OwnWriterPersons
	// OwnWriterFitCells is OwnWriterPersons with the text of a statement's balance cell or a wide
	// table's cell wider than its cell printed in a smaller size to fit it, and a wide table's
	// right-aligned cells (amounts) never wrapped; everything else prints as it did: the others printed an amount of 100,000,000.00 yuan over the cell to its left,
	// and a total of 1,233,124,551.52 as "1,233,124,551.5" over a lone "2".
	OwnWriterFitCells
)

// Printings lists the ways documents are printed, the current one first.
var Printings = []Printing{OwnWriterFitCells, OwnWriterPersons, OwnWriterKeepTogether, OwnWriterFeeDays, OwnWriterLineRules, OwnWriter, OwnGlyphs, WholeFont}

// ownWriter reports whether p prints with our own writer, lineRules whether it breaks lines as
// Chinese typesetting does, feeDays whether a notice names its rates for the fee's days, and
// keepTogether whether it keeps runs, closing marks and signatures with what they belong to.
func (p Printing) ownWriter() bool    { return p >= OwnWriter }
func (p Printing) lineRules() bool    { return p >= OwnWriterLineRules }
func (p Printing) feeDays() bool      { return p >= OwnWriterFeeDays }
func (p Printing) keepTogether() bool { return p >= OwnWriterKeepTogether }
func (p Printing) fitCells() bool     { return p >= OwnWriterFitCells }

// payerWords are what p calls a payer and how it addresses one (缴费单位, 你单位), as a person
// when p addresses persons as such and the payer pays as one.
func (p Printing) payerWords(person bool) (title, you string) {
	if person && p >= OwnWriterPersons {
		return "缴费人", "你"
	}
	return "缴费单位", "你单位"
}

const (
	font       = "songti"
	margin     = 20.0 // mm
	pageWidth  = 210.0
	pageHeight = 297.0
	textWidth  = pageWidth - 2*margin
	rowHeight  = 7.0
	// printable is every printable ASCII character: always in the font fpdf is handed, for the
	// page numbers fpdf writes and whatever digits and Latin letters the ledger prints.
	printable = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
)

// layout is what a document prints on every page and in its metadata.
type layout struct {
	// on is the ledger's date the document's metadata carry (midnight in China): no clock reading.
	on            domain.Date
	title, footer string
	// wide documents are landscape and break their own pages.
	wide bool
}

// doc is a document being printed. A document prints twice: in the first pass (p nil) it
// only notes the characters it would print, its page breaks and line wraps skipped, so that the
// second pass can embed a font cut to them.
type doc struct {
	p     printer
	noted []rune
	// fit prints a table cell's text wider than its cell smaller, to fit (Printing.fitCells,
	// tableCell); size is the font's size set last.
	fit  bool
	size float64
}

// printer prints a document's pages: fpdf (fpdfPrinter) or our own writer. Its methods are
// fpdf's, in mm.
type printer interface {
	addPage()
	setFont(size float64)
	cell(w, h float64, s, border string, ln int, align string)
	ln(h float64)
	getX() float64
	getY() float64
	setXY(x, y float64)
	rect(x, y, w, h float64)
	width(s string) float64
}

// print prints the document body fills, the way p says.
func print(p Printing, l layout, body func(d *doc)) ([]byte, error) {
	if p.ownWriter() {
		return writePDF(l, body, p.lineRules(), p.keepTogether(), p.fitCells())
	}
	ttf := songti
	if p != WholeFont {
		face, err := songtiFace()
		if err != nil {
			return nil, fmt.Errorf("reading the documents' font: %w", err)
		}
		if ttf, err = face.cut(characters(l, body)); err != nil {
			return nil, err
		}
	}
	pdf := newA4(l, ttf)
	body(&doc{p: fpdfPrinter{pdf, l.wide}})
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("printing the document: %w", err)
	}
	return b.Bytes(), nil
}

// characters are the characters the document body fills prints (its first pass), with those
// fpdf's page numbers may print.
func characters(l layout, body func(d *doc)) []rune {
	return charactersFor(OwnGlyphs, l, body)
}

// charactersFor are the characters the document body fills prints, with those its footer may
// print the way p prints it: fpdf writes {nb} before it is the page count, our writer digits.
func charactersFor(p Printing, l layout, body func(d *doc)) []rune {
	first := &doc{}
	if p.ownWriter() {
		first.note("0123456789 ")
	} else {
		first.note(printable)
	}
	first.note(l.footer + "　第页共")
	body(first)
	return first.noted
}

// checkPrintable refuses, naming the character, a document the embedded font cannot print
// whole, without printing it.
func checkPrintable(l layout, body func(d *doc)) error {
	face, err := songtiFace()
	if err != nil {
		return fmt.Errorf("reading the documents' font: %w", err)
	}
	return face.lacks(characters(l, body))
}

// newA4 starts an A4 document whose metadata hold no clock reading: its creation and
// modification dates are l.on (midnight in China), its resources are written in a fixed order,
// and every page carries l.footer (with {nb} for the page count).
func newA4(l layout, ttf []byte) *fpdf.Fpdf {
	pdf := fpdf.New("P", "mm", "A4", "")
	t := l.on.StartInChina()
	pdf.SetCreationDate(t)
	pdf.SetModificationDate(t)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetProducer("kuozheng", true)
	pdf.SetTitle(l.title, true)
	pdf.AddUTF8FontFromBytes(font, "", ttf)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(!l.wide, margin+5)
	pdf.AliasNbPages("{nb}")
	width := textWidth
	if l.wide {
		width = wideWidth
	}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-margin)
		pdf.SetFont(font, "", 9)
		pdf.CellFormat(width, 5, fmt.Sprintf("%s　第 %d 页 共 {nb} 页", l.footer, pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	return pdf
}

func (d *doc) note(s string) {
	for _, r := range s {
		d.noted = append(d.noted, r)
	}
}

func (d *doc) addPage() {
	if d.p != nil {
		d.p.addPage()
	}
}

func (d *doc) font(size float64) {
	d.size = size
	if d.p != nil {
		d.p.setFont(size)
	}
}

// cell prints s in a cell of w by h (fpdf's CellFormat, never filled nor linked).
func (d *doc) cell(w, h float64, s, border string, ln int, align string) {
	if d.p == nil {
		d.note(s)
		return
	}
	d.p.cell(w, h, s, border, ln, align)
}

// tableCell is cell for a table's cell: with d.fit, text wider than the cell less the printers'
// 1 mm on each side prints in a smaller size, to fit it. (A paragraph's lines are wrapped to
// the cell's full width, and print as they always did.)
func (d *doc) tableCell(w, h float64, s, border string, ln int, align string) {
	if avail := w - 2; d.p != nil && d.fit && avail > 0 {
		if width := d.p.width(s); width > avail {
			d.p.setFont(d.size * avail / width)
			d.p.cell(w, h, s, border, ln, align)
			d.p.setFont(d.size)
			return
		}
	}
	d.cell(w, h, s, border, ln, align)
}

func (d *doc) ln(h float64) {
	if d.p != nil {
		d.p.ln(h)
	}
}

// y is the position on the page; 0 in the first pass, where nothing breaks a page.
func (d *doc) y() float64 {
	if d.p == nil {
		return 0
	}
	return d.p.getY()
}

func (d *doc) x() float64 {
	if d.p == nil {
		return 0
	}
	return d.p.getX()
}

func (d *doc) setXY(x, y float64) {
	if d.p != nil {
		d.p.setXY(x, y)
	}
}

func (d *doc) rect(x, y, w, h float64) {
	if d.p != nil {
		d.p.rect(x, y, w, h)
	}
}

// fpdfPrinter prints with fpdf.
type fpdfPrinter struct {
	pdf  *fpdf.Fpdf
	wide bool
}

func (f fpdfPrinter) addPage() {
	if f.wide {
		f.pdf.AddPageFormat("L", fpdf.SizeType{Wd: pageWidth, Ht: pageHeight})
	} else {
		f.pdf.AddPage()
	}
}

func (f fpdfPrinter) setFont(size float64) { f.pdf.SetFont(font, "", size) }

func (f fpdfPrinter) cell(w, h float64, s, border string, ln int, align string) {
	f.pdf.CellFormat(w, h, s, border, ln, align, false, 0, "")
}

func (f fpdfPrinter) ln(h float64)            { f.pdf.Ln(h) }
func (f fpdfPrinter) getX() float64           { return f.pdf.GetX() }
func (f fpdfPrinter) getY() float64           { return f.pdf.GetY() }
func (f fpdfPrinter) setXY(x, y float64)      { f.pdf.SetXY(x, y) }
func (f fpdfPrinter) rect(x, y, w, h float64) { f.pdf.Rect(x, y, w, h, "D") }
func (f fpdfPrinter) width(s string) float64  { return f.pdf.GetStringWidth(s) }

// wrap cuts s into lines no wider than width, between any two characters (Chinese has no spaces
// to break at; fpdf's MultiCell drops the character at such a break). The first pass wraps
// nothing.
func (d *doc) wrap(s string, width float64) []string {
	if w, ok := d.p.(*writer); ok {
		return w.wrap(s, width)
	}
	var out []string
	line := []rune{}
	for _, r := range s {
		if d.p != nil && len(line) > 0 && d.p.width(string(append(line, r))) > width {
			out = append(out, string(line))
			line = line[:0]
		}
		line = append(line, r)
	}
	return append(out, string(line))
}

// paragraph prints s wrapped to the portrait page's text width.
func (d *doc) paragraph(s string) {
	for _, l := range d.wrap(s, textWidth) {
		d.cell(textWidth, paragraphLine, l, "", 1, "L")
	}
}

// paragraphLine is the height of a line of a paragraph.
const paragraphLine = 6.5

// Render prints the notice: the same notice gives the same bytes.
func (n *Notice) Render() ([]byte, error) { return n.RenderAs(Printings[0]) }

// RenderAs prints the notice the way p says.
func (n *Notice) RenderAs(p Printing) ([]byte, error) {
	return print(p, n.layout(), func(d *doc) { n.body(d, p) })
}

// Printable refuses, naming the character, a notice the embedded font cannot print whole; it
// costs a small part of printing it (its number does not matter: digits are always printable).
func (n *Notice) Printable() error {
	return checkPrintable(n.layout(), func(d *doc) { n.body(d, Printings[0]) })
}

func (n *Notice) layout() layout {
	return layout{on: n.IssuedOn, title: "责令限期缴纳通知书 " + n.Number, footer: n.Number}
}

func (n *Notice) body(d *doc, p Printing) {
	d.addPage()
	d.font(20)
	d.cell(textWidth, 12, "责令限期缴纳通知书", "", 1, "C")
	d.font(11)
	d.cell(textWidth, 8, n.Number, "", 1, "R")
	d.ln(2)
	code := "组织机构代码：" + n.OrgCode
	switch {
	case n.CreditCode != "":
		code = "统一社会信用代码：" + n.CreditCode
	case n.OrgCode == "":
		code = "组织机构代码：无（个人缴费）"
	}
	title, you := p.payerWords(n.Person)
	d.paragraph(title + "：" + n.Name)
	d.paragraph(code)
	d.paragraph("所在县（市、区）：" + n.CountyName + "（" + n.CountyCode + "）")
	d.ln(2)
	d.paragraph(fmt.Sprintf("　　经核查，截至%s，%s欠缴社会保险费本金人民币 %s 元，应加收滞纳金人民币 %s 元，合计人民币 %s 元。明细如下：",
		ChineseDate(n.IssuedOn), you, Yuan(n.PrincipalFen), Yuan(n.LateFeeFen), Yuan(n.TotalFen)))
	d.ln(1)
	n.table(d)
	d.ln(3)
	d.paragraph("滞纳金自缴费期限届满次日起按日计收，至" + ChineseDate(n.IssuedOn) + "止：")
	rates := n.Rates
	if p.feeDays() {
		rates = n.FeeDays
	}
	for _, r := range rates {
		d.paragraph(fmt.Sprintf("　　%s 至 %s，按日加收 %s，依据%s；", r.From, r.Through, DailyRate(r.DailyBP), r.Basis))
	}
	d.ln(2)
	d.paragraph("欠缴本金：人民币 " + Yuan(n.PrincipalFen) + " 元（大写：" + domain.ChineseCapitals(n.PrincipalFen) + "）")
	d.paragraph("滞 纳 金：人民币 " + Yuan(n.LateFeeFen) + " 元（大写：" + domain.ChineseCapitals(n.LateFeeFen) + "）")
	d.paragraph("合　　计：人民币 " + Yuan(n.TotalFen) + " 元（大写：" + domain.ChineseCapitals(n.TotalFen) + "）")
	last := "　　请" + you + "于" + ChineseDate(n.Deadline) + "前将上述欠缴的社会保险费及滞纳金足额缴纳。逾期仍不缴纳的，" +
		"将依法从欠缴之日起继续按日加收滞纳金，并由劳动保障行政部门依法处理或申请人民法院强制执行。"
	if d.keepsTogether() {
		// The signature goes on one page with the paragraph it closes: a page of it alone was printed.
		d.keep(2 + float64(len(d.wrap(last, textWidth)))*paragraphLine + 10 + 2*7)
	}
	d.ln(2)
	d.paragraph(last)
	d.ln(10)
	d.cell(textWidth, 7, n.Office(), "", 1, "R")
	d.cell(textWidth, 7, ChineseDate(n.IssuedOn), "", 1, "R")
}

var noticeColumns = []column{
	{"序号", 14, "C"}, {"费款所属期", 26, "C"}, {"险种", 26, "C"}, {"缴费期限", 28, "C"},
	{"欠缴本金（元）", 38, "R"}, {"滞纳金（元）", 38, "R"},
}

// table prints the lines, its header again at the top of every page it flows onto.
func (n *Notice) table(d *doc) {
	header := func() {
		for _, c := range noticeColumns {
			d.cell(c.width, rowHeight, c.title, "1", 0, "C")
		}
		d.ln(-1)
	}
	row := func(cells ...string) {
		if d.y()+rowHeight > pageHeight-margin-5 {
			d.addPage()
			header()
		}
		for i, c := range noticeColumns {
			d.cell(c.width, rowHeight, cells[i], "1", 0, c.align)
		}
		d.ln(-1)
	}
	d.font(10)
	header()
	for i, l := range n.Lines {
		row(fmt.Sprint(i+1), l.Period.String(), InsuranceName(l.Insurance), l.DueDate.String(), Yuan(l.OutstandingFen), Yuan(l.LateFeeFen))
	}
	row("合计", "", "", "", Yuan(n.PrincipalFen), Yuan(n.LateFeeFen))
	d.font(11)
}
