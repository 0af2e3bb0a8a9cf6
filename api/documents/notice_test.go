package documents

import (
	"bytes"
	"os/exec"
	"slices"
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

// TestANoticePrintsTheDaysTheFeeAccrued: lines of 2010 paid in full on 2010-10-01, and a line of
// 2012-04 due 2012-05-15, noticed on 2012-06-30. The fee accrued at 2‰ from 2010-07-16 through
// 2010-09-30 and at 0.5‰ from 2012-05-16: the current printing names those days with their legal
// basis; the printings before it named each rate from the first fee day to the issue date
// (2‰ through 2011-06-30, 0.5‰ from 2011-07-01, when nothing accrued), and still print so.
func TestANoticePrintsTheDaysTheFeeAccrued(t *testing.T) {
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	var events []domain.Event
	add := func(p domain.Payload) {
		n := uint64(len(events) + 1)
		events = append(events, domain.Event{Envelope: domain.Envelope{Seq: n, N: n, EmployerID: "E"}, Body: p})
	}
	decl := func(period string, due domain.Fen) domain.DeclarationFiled {
		p := domain.MustPeriod(period)
		return domain.DeclarationFiled{DeclaredOn: p.Next().FirstDay(), Period: p, DueOn: ref.DueDate(p),
			Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 1, WageBaseFen: 100, DueFen: due}}}
	}
	add(domain.EmployerRegistered{Profile: domain.Profile{Name: "赣州市两段欠费厂", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1},
		RegisteredOn: domain.MustDate("2010-05-01")})
	add(decl("2010-06", 140000))
	add(domain.PaymentReceived{PaidOn: domain.MustDate("2010-10-01"), AmountFen: 140000, ReceiptNo: "R1",
		Allocations: []domain.Allocation{{Insurance: domain.Pension, Period: domain.MustPeriod("2010-06"), AmountFen: 140000}}})
	add(decl("2012-04", 84000))
	issued := domain.MustDate("2012-06-30")
	n := NoticeOf("赣社征〔2012〕章贡-0001", issued, domain.MustDate("2012-07-15"), events, ref)

	want := []NoticeRate{
		{From: domain.MustDate("2010-07-16"), Through: domain.MustDate("2010-09-30"), DailyBP: 20, Basis: "《社会保险费征缴暂行条例》第十三条"},
		{From: domain.MustDate("2012-05-16"), Through: issued, DailyBP: 5, Basis: "《中华人民共和国社会保险法》第八十六条"},
	}
	if !slices.Equal(n.FeeDays, want) {
		t.Fatalf("the days the fee accrued: %+v, want %+v", n.FeeDays, want)
	}
	if len(n.Lines) != 2 || n.LateFeeFen != 21560+1932 {
		t.Fatalf("%d lines, late fee %d; want 2 lines and 21,560 + 1,932 fen", len(n.Lines), n.LateFeeFen)
	}
	for _, c := range []struct {
		p        Printing
		has, not []string
	}{
		{OwnWriterFeeDays, []string{"2010-07-16 至 2010-09-30，按日加收 2‰", "2012-05-16 至 2012-06-30，按日加收 0.5‰", "《社会保险费征缴暂行条例》第十三条", "《中华人民共和国社会保险法》第八十六"}, []string{"2011-06-30", "2011-07-01"}},
		{OwnWriterLineRules, []string{"2010-07-16 至 2011-06-30，按日加收 2‰", "2011-07-01 至 2012-06-30，按日加收 0.5‰"}, nil},
	} {
		pdf, err := n.RenderAs(c.p)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(string(poppler(t, pdf, "pdftotext", "-enc", "UTF-8", "-", "-"))), " ")
		for _, s := range c.has {
			if !strings.Contains(text, s) {
				t.Errorf("printing %d prints no %q:\n%s", c.p, s, text)
			}
		}
		for _, s := range c.not {
			if strings.Contains(text, s) {
				t.Errorf("printing %d prints %q, a day no fee accrued on:\n%s", c.p, s, text)
			}
		}
	}
}

// TestAPersonIsAddressedAsOne: a payer who pays as a person (a flexible worker, an individual
// business) is 缴费人 and 你 on the notice, the statement and a receipt printed the current way,
// never 你单位 (your unit); a unit stays 缴费单位 and 你单位; the printings before it still print
// 你单位 to everyone, as the notices issued with them were printed.
func TestAPersonIsAddressedAsOne(t *testing.T) {
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	for _, c := range []struct {
		name    string
		kind    domain.EmployerKind
		p       Printing
		has     []string
		hasNone []string
	}{
		{"a flexible worker, printed now", domain.KindFlexible, Printings[0], []string{"缴费人：", "，你欠缴", "请你于"}, []string{"缴费单位", "你单位"}},
		{"an individual business, printed now", domain.KindIndividualBusiness, Printings[0], []string{"缴费人：", "，你欠缴", "请你于"}, []string{"缴费单位", "你单位"}},
		{"an enterprise, printed now", domain.KindEnterprise, Printings[0], []string{"缴费单位：", "你单位欠缴", "请你单位于"}, []string{"缴费人"}},
		{"a flexible worker, printed the way before", domain.KindFlexible, OwnWriterKeepTogether, []string{"缴费单位：", "你单位欠缴", "请你单位于"}, []string{"缴费人"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			profile := domain.Profile{Name: "刘某某", County: "360702", Kind: c.kind, RiskClass: 1}
			if c.kind == domain.KindEnterprise {
				profile.OrgCode = "10000004-0"
			}
			due := domain.DeclarationFiled{DeclaredOn: domain.MustDate("2006-06-01"), Period: domain.MustPeriod("2006-05"), DueOn: ref.DueDate(domain.MustPeriod("2006-05")),
				Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 1, WageBaseFen: 100000, DueFen: 20000}}}
			pay := domain.PaymentReceived{PaidOn: domain.MustDate("2006-06-10"), AmountFen: 5000, ReceiptNo: "R1"}
			events := []domain.Event{
				{Envelope: domain.Envelope{Seq: 1, N: 1, EmployerID: "E", OccurredOn: domain.MustDate("2006-05-01")}, Body: domain.EmployerRegistered{Profile: profile, RegisteredOn: domain.MustDate("2006-05-01")}},
				{Envelope: domain.Envelope{Seq: 2, N: 2, EmployerID: "E", OccurredOn: due.DeclaredOn}, Body: due},
				{Envelope: domain.Envelope{Seq: 3, N: 3, EmployerID: "E", OccurredOn: pay.PaidOn}, Body: pay},
			}
			n := NoticeOf("赣社征〔2006〕章贡-0009", domain.MustDate("2006-12-31"), domain.MustDate("2007-01-15"), events, ref)
			st := payerOn(events, domain.MustDate("2006-12-31"), ref)
			docs := map[string]func(Printing) ([]byte, error){
				"notice":    n.RenderAs,
				"statement": (&Statement{From: domain.MustDate("2006-01-01"), To: domain.MustDate("2006-12-31"), ThroughSeq: 3, Payer: st}).RenderAs,
				"receipt":   (&EventDocument{Title: "缴费凭证", Seq: 3, ID: "x", On: pay.PaidOn, Payer: st, ReceiptNo: "R1", AmountFen: 5000}).RenderAs,
			}
			for doc, render := range docs {
				pdf, err := render(c.p)
				if err != nil {
					t.Fatal(err)
				}
				text := strings.Join(strings.Fields(string(poppler(t, pdf, "pdftotext", "-enc", "UTF-8", "-", "-"))), "")
				for _, s := range c.has {
					if doc == "notice" || strings.HasSuffix(s, "：") {
						if !strings.Contains(text, s) {
							t.Errorf("the %s prints no %q:\n%s", doc, s, text)
						}
					}
				}
				for _, s := range c.hasNone {
					if strings.Contains(text, s) {
						t.Errorf("the %s prints %q:\n%s", doc, s, text)
					}
				}
			}
		})
	}
}
