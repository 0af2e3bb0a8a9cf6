package documents

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// TestALongNoticeFlowsOntoMorePagesAndPrintsTheSameBytes prints a notice of 60 lines twice: the
// same bytes both times, the table over several pages with its header on each.
func TestALongNoticeFlowsOntoMorePagesAndPrintsTheSameBytes(t *testing.T) {
	n := longNotice(60)
	a, err := n.Render()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := n.Render()
	if !bytes.Equal(a, b) {
		t.Fatal("the same notice printed twice gave different bytes")
	}
	out := poppler(t, a, "pdftotext", "-layout", "-enc", "UTF-8", "-", "-")
	pages := strings.Split(string(out), "\f")
	if len(pages) < 3 { // two pages or more, and what follows the last form feed
		t.Fatalf("60 lines on %d page(s), want the table to flow onto a second", len(pages)-1)
	}
	for i, p := range pages[:2] {
		if !strings.Contains(p, "欠缴本金（元）") {
			t.Errorf("page %d has no table header", i+1)
		}
	}
	if !strings.Contains(string(out), "60 ") || !strings.Contains(string(out), "共 "+strconv.Itoa(len(pages)-1)+" 页") {
		t.Errorf("the 60th line or the page count is missing:\n%s", out)
	}
}

// poppler runs one of poppler-utils' tools on pdf (given as stdin, "-") and returns its output.
func poppler(t testing.TB, pdf []byte, tool string, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s is not installed (Debian: apt-get install poppler-utils; scripts/setup.sh does): %v", tool, err)
	}
	cmd := exec.Command(tool, args...)
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return out
}

// longNotice is a notice of lines lines.
func longNotice(lines int) Notice {
	n := Notice{Number: "赣社征〔2006〕章贡-0001", IssuedOn: domain.MustDate("2006-12-31"), Deadline: domain.MustDate("2007-01-15"),
		Name: "赣州长线单位", OrgCode: "10000004-0", CountyCode: "360702", CountyName: "章贡区"}
	for i := range lines {
		l := NoticeLine{Period: domain.MustDate("2006-01-01").Period() + domain.Period(i%12), Insurance: domain.Insurances[i%5],
			DueDate: domain.MustDate("2006-02-15"), OutstandingFen: domain.Fen(1000 + i), LateFeeFen: domain.Fen(i)}
		n.Lines = append(n.Lines, l)
		n.PrincipalFen += l.OutstandingFen
		n.LateFeeFen += l.LateFeeFen
	}
	n.TotalFen = n.PrincipalFen + n.LateFeeFen
	return n
}
