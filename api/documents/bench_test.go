package documents

import (
	"bytes"
	"testing"

	"github.com/go-pdf/fpdf"
	"github.com/kuozheng/kuozheng/domain"
)

// BenchmarkRender prints a notice of six lines as documents print today (our own writer), as
// they printed before it (the font cut to the notice's characters, handed to fpdf) and as the
// first build did (the whole font to fpdf), beside what any fpdf document with the whole font
// costs: a page with one line of Chinese text, nothing else. It reports bytes per document and
// gates on nothing.
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
	for _, p := range []struct {
		name string
		Printing
	}{{"notice, our own writer", OwnWriter}, {"notice", OwnGlyphs}, {"notice, the whole font", WholeFont}} {
		b.Run(p.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				pdf, err := n.RenderAs(p.Printing)
				if err != nil {
					b.Fatal(err)
				}
				size = len(pdf)
			}
			b.ReportMetric(float64(size), "bytes/doc")
		})
	}
	b.Run("raw fpdf: the font and one line", func(b *testing.B) {
		var size int
		for b.Loop() {
			pdf := fpdf.New("P", "mm", "A4", "")
			pdf.SetCompression(true)
			pdf.AddUTF8FontFromBytes(font, "", songti)
			pdf.AddPage()
			pdf.SetFont(font, "", 12)
			pdf.Cell(100, 10, "责令限期缴纳通知书 赣州市章贡区机械厂")
			var out bytes.Buffer
			if err := pdf.Output(&out); err != nil {
				b.Fatal(err)
			}
			size = out.Len()
		}
		b.ReportMetric(float64(size), "bytes/doc")
	})
}
