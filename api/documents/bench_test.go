package documents

import (
	"testing"

	"github.com/go-pdf/fpdf"
	"github.com/kuozheng/kuozheng/domain"
)

// BenchmarkRender prints a notice of six lines, beside the floor any fpdf document with this font
// pays: a page with one line of Chinese text and the embedded font, nothing else. The difference
// is the notice's own layout; the floor is the font's parsing and subsetting. It reports bytes
// per document and gates on nothing.
func BenchmarkRender(b *testing.B) {
	n := Notice{Number: "赣社征〔2006〕章贡-0001", IssuedOn: domain.MustDate("2006-12-31"), Deadline: domain.MustDate("2007-01-15"),
		Name: "赣州市章贡区机械厂", OrgCode: "10000004-0", CountyCode: "360702", CountyName: "章贡区"}
	for i := range 6 {
		l := NoticeLine{Period: domain.MustDate("2006-06-01").Period() + domain.Period(i), Insurance: domain.Insurances[i%5],
			DueDate: domain.MustDate("2006-07-15"), OutstandingFen: domain.Fen(280000 + i), LateFeeFen: domain.Fen(9000 + i)}
		n.Lines = append(n.Lines, l)
		n.PrincipalFen += l.OutstandingFen
		n.LateFeeFen += l.LateFeeFen
	}
	n.TotalFen = n.PrincipalFen + n.LateFeeFen
	b.Run("notice", func(b *testing.B) {
		var size int
		for b.Loop() {
			pdf, err := n.Render()
			if err != nil {
				b.Fatal(err)
			}
			size = len(pdf)
		}
		b.ReportMetric(float64(size), "bytes/doc")
	})
	b.Run("raw fpdf: the font and one line", func(b *testing.B) {
		var size int
		for b.Loop() {
			pdf := fpdf.New("P", "mm", "A4", "")
			pdf.SetCompression(true)
			pdf.AddUTF8FontFromBytes(font, "", songti)
			pdf.AddPage()
			pdf.SetFont(font, "", 12)
			pdf.Cell(100, 10, "责令限期缴纳通知书 赣州市章贡区机械厂")
			out, err := output(pdf)
			if err != nil {
				b.Fatal(err)
			}
			size = len(out)
		}
		b.ReportMetric(float64(size), "bytes/doc")
	})
}
