package documents

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// TestEveryPrintingPrintsTheBytesItPrinted prints documents every way documents are printed and
// compares their SHA-256 with those the builds that brought each way in gave: a notice recorded
// with one of them must be served again byte for byte, whatever changes around it (fpdf, the
// compressors, the writer). A change that fails this for a printing in use must be a new one.
func TestEveryPrintingPrintsTheBytesItPrinted(t *testing.T) {
	kinds := map[string]func(Printing) ([]byte, error){}
	for _, c := range printedKinds() {
		kinds[c.name] = c.render
	}
	for _, c := range []struct {
		doc string
		p   Printing
		sha string
	}{
		{"notice", WholeFont, "7c00d5f57cf8423df63f6f73ee4fed69f1c67beb1ea647a0a990b76afabffa9e"},
		{"notice", OwnGlyphs, "c99db2cf37207187621cdc862d8388b00ec0717e3fa19def8887e37eff2214d0"},
		{"notice", OwnWriter, "4638b5b212240629f59de114b0ef75c8fe84fa4c4b02c0b25e32048d71863a98"},
		{"notice of 40 lines", WholeFont, "d49c89ff54d027996badd478cda3e4bc2ca793e5d9bfd712001df37323dbfb70"},
		{"notice of 40 lines", OwnGlyphs, "872b9033ee902ad186db6859cf69e8a4b25a1fbb86a21c7e900e3b1912f31111"},
		{"notice of 40 lines", OwnWriter, "b2e1343b50763b4f97ffb65416ab6643cbe3ee023acddd7ce44acb20a7994b9c"},
		{"publicity list", OwnWriter, "cc108474bb6b7b7c2078e60f35cb0c0a04b64a2999aaf6fd4c16dfbad8bda497"},
		{"notice", OwnWriterLineRules, "60178a764b9d6ae70c0b4f3a1b0fb85c59e009941943881e6c4a8198d1b94238"},
		{"notice of 40 lines", OwnWriterLineRules, "b338484de15536a4448a3eaf0a9d529b56ab964eb80e7931a48a137b6af5eed8"},
		{"publicity list", OwnWriterLineRules, "cc108474bb6b7b7c2078e60f35cb0c0a04b64a2999aaf6fd4c16dfbad8bda497"},
		// The fee's days change a notice's rate lines alone: these print none, the same bytes.
		{"notice", OwnWriterFeeDays, "60178a764b9d6ae70c0b4f3a1b0fb85c59e009941943881e6c4a8198d1b94238"},
		{"notice of 40 lines", OwnWriterFeeDays, "b338484de15536a4448a3eaf0a9d529b56ab964eb80e7931a48a137b6af5eed8"},
		{"publicity list", OwnWriterFeeDays, "cc108474bb6b7b7c2078e60f35cb0c0a04b64a2999aaf6fd4c16dfbad8bda497"},
		{"notice of 15 lines", OwnWriterFeeDays, "f8700021600d95f73cba2f1fbdcfb2e8d762b5f4badb66eb82c8cf8b87d04f4a"},
		// Keeping runs, marks and signatures together changes what breaks them alone: these break
		// none, the same bytes; the notice of 15 lines printed its date alone on page 2.
		{"notice", OwnWriterKeepTogether, "60178a764b9d6ae70c0b4f3a1b0fb85c59e009941943881e6c4a8198d1b94238"},
		{"notice of 40 lines", OwnWriterKeepTogether, "b338484de15536a4448a3eaf0a9d529b56ab964eb80e7931a48a137b6af5eed8"},
		{"publicity list", OwnWriterKeepTogether, "cc108474bb6b7b7c2078e60f35cb0c0a04b64a2999aaf6fd4c16dfbad8bda497"},
		{"notice of 15 lines", OwnWriterKeepTogether, "c8eb032b87f3c55d50e8ebe58f066b45b21555908b40cc6970ee6ec43a10e03b"},
		// Addressing persons as such changes a person's documents alone: a unit's are the same
		// bytes, and a person's printed the way before are a unit's (你单位), as they were.
		{"notice", OwnWriterPersons, "60178a764b9d6ae70c0b4f3a1b0fb85c59e009941943881e6c4a8198d1b94238"},
		{"notice of 40 lines", OwnWriterPersons, "b338484de15536a4448a3eaf0a9d529b56ab964eb80e7931a48a137b6af5eed8"},
		{"publicity list", OwnWriterPersons, "cc108474bb6b7b7c2078e60f35cb0c0a04b64a2999aaf6fd4c16dfbad8bda497"},
		{"notice of 15 lines", OwnWriterPersons, "c8eb032b87f3c55d50e8ebe58f066b45b21555908b40cc6970ee6ec43a10e03b"},
		{"person's notice of 15 lines", OwnWriterKeepTogether, "c8eb032b87f3c55d50e8ebe58f066b45b21555908b40cc6970ee6ec43a10e03b"},
		{"person's notice of 15 lines", OwnWriterPersons, "fe7aa910c6f4d9e8e4cfc64646cefbd8dc9cb63814ab3f71d625194f13b8bd1f"},
		// Fitting a table cell's text changes an overflowing cell alone: these have none, the same bytes.
		{"notice", OwnWriterFitCells, "60178a764b9d6ae70c0b4f3a1b0fb85c59e009941943881e6c4a8198d1b94238"},
		{"notice of 40 lines", OwnWriterFitCells, "b338484de15536a4448a3eaf0a9d529b56ab964eb80e7931a48a137b6af5eed8"},
		{"publicity list", OwnWriterFitCells, "cc108474bb6b7b7c2078e60f35cb0c0a04b64a2999aaf6fd4c16dfbad8bda497"},
		{"notice of 15 lines", OwnWriterFitCells, "c8eb032b87f3c55d50e8ebe58f066b45b21555908b40cc6970ee6ec43a10e03b"},
		{"person's notice of 15 lines", OwnWriterFitCells, "fe7aa910c6f4d9e8e4cfc64646cefbd8dc9cb63814ab3f71d625194f13b8bd1f"},
	} {
		render := kinds[c.doc]
		if lines, ok := strings.CutPrefix(strings.TrimPrefix(c.doc, "person's "), "notice of "); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(lines, " lines"))
			notice := longNotice(n)
			notice.Person = strings.HasPrefix(c.doc, "person's ")
			render = notice.RenderAs
		}
		pdf, err := render(c.p)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != c.sha {
			t.Errorf("a %s printed way %d: SHA-256 %x, want %s as before", c.doc, c.p, sum, c.sha)
		}
	}
}

// TestOwnWriterPrintsTheSameBytesSideBySide prints documents on several goroutines at once, as a
// county batch does: each gives the bytes it gives alone (the compressors are shared).
func TestOwnWriterPrintsTheSameBytesSideBySide(t *testing.T) {
	kinds := printedKinds()
	alone := make([][]byte, len(kinds))
	for i, c := range kinds {
		var err error
		if alone[i], err = c.render(OwnWriter); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(kinds))
	for g := range 4 {
		wg.Go(func() {
			for j := range kinds {
				i := (j + g) % len(kinds)
				pdf, err := kinds[i].render(OwnWriter)
				if err == nil && !bytes.Equal(pdf, alone[i]) {
					err = fmt.Errorf("the %s printed beside others differs from the %s printed alone", kinds[i].name, kinds[i].name)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestOwnWriterPrintsTheSameText prints every kind of document with our own writer and the way
// before it (fpdf, the font cut to the document's characters): pdftotext reads the same lines
// from both (spaces aside: the footer is centred on its real page count, which moves it a little
// and pdftotext's columns with it), on as many pages; the font is embedded, a subset, Identity-H
// with a ToUnicode map; and the same document gives the same bytes twice.
func TestOwnWriterPrintsTheSameText(t *testing.T) {
	for _, c := range printedKinds() {
		t.Run(c.name, func(t *testing.T) {
			own, err := c.render(OwnWriter)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := c.render(OwnWriter)
			if !bytes.Equal(own, again) {
				t.Fatal("the same document printed twice gave different bytes")
			}
			before, err := c.render(OwnGlyphs)
			if err != nil {
				t.Fatal(err)
			}
			got, want := textLines(t, own), textLines(t, before)
			if got != want {
				t.Errorf("the text differs from fpdf's:\n%s\n---- fpdf's:\n%s", got, want)
			}
			for _, must := range c.shows {
				if !strings.Contains(got, must) {
					t.Errorf("the text has no %q:\n%s", must, got)
				}
			}
			info := string(poppler(t, own, "pdfinfo", "-"))
			if !regexp.MustCompile(`(?m)^PDF version: +1\.4$`).MatchString(info) || !regexp.MustCompile(`(?m)^Producer: +kuozheng$`).MatchString(info) {
				t.Errorf("pdfinfo:\n%s", info)
			}
			pages := pageCount(t, before)
			if got := pageCount(t, own); got != pages || got != c.pages {
				t.Errorf("%d pages, fpdf's %d, want %d", got, pages, c.pages)
			}
			fonts := strings.Split(strings.TrimSpace(string(poppler(t, own, "pdffonts", "-"))), "\n")
			if len(fonts) != 3 || !regexp.MustCompile(`^[A-Z]{6}\+BousungEG-Light-GB +CID TrueType +Identity-H +yes yes yes `).MatchString(fonts[2]) {
				t.Errorf("pdffonts: want one font, embedded, a subset, Identity-H, with a ToUnicode map:\n%s", strings.Join(fonts, "\n"))
			}
		})
	}
}

// TestTheCurrentPrintingPrintsTheSameTextAsTheOneBefore prints every kind of document the
// current way (OwnWriterKeepTogether) and the way before it: the same text, figures and all, but
// for where lines and pages break (the footers, which count the pages, aside).
func TestTheCurrentPrintingPrintsTheSameTextAsTheOneBefore(t *testing.T) {
	footer := regexp.MustCompile(`(?m)^.*第 \d+ 页 共 \d+ 页$`)
	text := func(pdf []byte) string {
		return strings.Join(strings.Fields(footer.ReplaceAllString(textLines(t, pdf), "")), "")
	}
	notice := longNotice(15)
	for _, c := range append(printedKinds(), printedKind{name: "notice of 15 lines", render: notice.RenderAs}) {
		now, err := c.render(Printings[0])
		if err != nil {
			t.Fatal(err)
		}
		before, err := c.render(OwnWriterFeeDays)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := text(now), text(before); got != want {
			t.Errorf("the %s's text differs from the printing before's:\n%s\n----\n%s", c.name, got, want)
		}
	}
}

// TestOwnWriterInfo reads the metadata our own writer gives a document: its title (UTF-16), the
// producer, and the day it is of at midnight in China as its creation and modification dates.
func TestOwnWriterInfo(t *testing.T) {
	n := longNotice(1)
	pdf, err := n.Render()
	if err != nil {
		t.Fatal(err)
	}
	info := string(poppler(t, pdf, "pdfinfo", "-isodates", "-"))
	for _, want := range []string{"Title:           责令限期缴纳通知书 赣社征〔2006〕章贡-0001\n", "Producer:        kuozheng\n",
		"CreationDate:    2006-12-31T00:00:00+08\n", "ModDate:         2006-12-31T00:00:00+08\n", "Page size:       595.28 x 841.89 pts (A4)\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("pdfinfo has no %q:\n%s", want, info)
		}
	}
	if !bytes.Contains(pdf, []byte("/CreationDate (D:20061231000000+08'00')")) {
		t.Error("the creation date is not written as D:20061231000000+08'00'")
	}
	wide := (&PublicityList{CountyCode: "360702", CountyName: "章贡区", AsOf: domain.MustDate("2006-12-31")})
	if pdf, err = wide.Render(); err != nil {
		t.Fatal(err)
	}
	if info := string(poppler(t, pdf, "pdfinfo", "-")); !strings.Contains(info, "Page size:       841.89 x 595.28 pts (A4)") {
		t.Errorf("a wide document's pages are not landscape A4:\n%s", info)
	}
}

// textLines is pdftotext's text of pdf, laid out, each run of spaces one space and the lines
// trimmed.
func textLines(t *testing.T, pdf []byte) string {
	t.Helper()
	out := poppler(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8", "-", "-")
	lines := strings.Split(string(out), "\n")
	spaces := regexp.MustCompile(`[ \t\x{3000}]+`)
	for i, l := range lines {
		lines[i] = strings.TrimSpace(spaces.ReplaceAllString(l, " "))
	}
	return strings.Join(lines, "\n")
}

// pageCount is the page count pdfinfo reads from pdf.
func pageCount(t *testing.T, pdf []byte) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages: +(\d+)$`).FindSubmatch(poppler(t, pdf, "pdfinfo", "-"))
	if m == nil {
		t.Fatal("pdfinfo gives no page count")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// printedKind is a document of each kind, printed the way p says; pages is how many pages it
// prints on, shows some of what it must print.
type printedKind struct {
	name   string
	render func(p Printing) ([]byte, error)
	pages  int
	shows  []string
}

func printedKinds() []printedKind {
	on := domain.MustDate("2006-12-31")
	payer := Payer{Name: "赣州市章贡区机械厂（集体）", OrgCode: "10000004-0", CountyCode: "360702", CountyName: "章贡区"}
	short, long := longNotice(6), longNotice(60)

	st := Statement{From: domain.MustDate("2006-01-01"), To: on, ThroughSeq: 812, Payer: payer,
		Opening: projections.Balances{DueFen: 100000, OutstandingFen: 100000, LateFeeFen: 1234}}
	for i := range 24 {
		b := projections.Balances{DueFen: domain.Fen(100000 + 28000*i), PaidFen: domain.Fen(20000 * i), OutstandingFen: domain.Fen(100000 + 8000*i), LateFeeFen: domain.Fen(1234 + 57*i)}
		r := StatementRow{Seq: uint64(100 + i), On: domain.MustDate("2006-01-15") + domain.Date(12*i), Type: "declaration_filed",
			What: fmt.Sprintf("申报 2006-%02d，应缴 280.00 元，缴费期限 2006-%02d-15（养老保险 200.00；失业保险 20.00；医疗保险 60.00）", i%12+1, i%12+1), AmountFen: 28000, Balances: b}
		if i%7 == 3 {
			r.VoidedBy = uint64(300 + i)
		}
		st.Rows = append(st.Rows, r)
		st.Closing = b
	}

	receipt := EventDocument{Title: "缴费凭证", Seq: 4711, ID: "0b8e3c2a-6f5d-4c1e-9a7b-2d4f6e8a0c1b",
		Hash: "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f", On: domain.MustDate("2006-11-20"), Payer: payer,
		ReceiptNo: "GZ2006-000123", AmountFen: 123456, Allocations: []domain.Allocation{
			{Insurance: domain.Pension, Period: domain.MustPeriod("2006-10"), AmountFen: 100000},
			{Insurance: domain.Medical, Period: domain.MustPeriod("2006-10"), AmountFen: 23456}}}
	void := EventDocument{Title: "冲正通知", Seq: 4712, ID: "1c9f4d3b-7a6e-4d2f-8b8c-3e5a7f9b1d2c", Hash: receipt.Hash, On: on, Payer: payer,
		AmountFen: 123456, Corrects: "第 4711 号 缴费（2006-11-20，业务编号 0b8e3c2a）：缴费，收据号 GZ2006-000123，金额 1,234.56 元",
		Reason: "收据号录入错误，应为 GZ2006-000132", VoidedBy: 4800}

	list := PublicityList{CountyCode: "360702", CountyName: "章贡区", AsOf: on, AboveFen: 1000000}
	for i := range 45 {
		name := "赣州市章贡区第" + strconv.Itoa(i+1) + "机械厂"
		if i%5 == 0 {
			name = "赣州市章贡区红旗大道东段沿江路口百货批发零售有限责任公司第" + strconv.Itoa(i+1) + "分公司"
		}
		list.Rows = append(list.Rows, PublicityRow{Name: name, Code: fmt.Sprintf("91360702MA%08d", 35000000+i),
			ArrearsCurrentYearFen: domain.Fen(12345678 - 1000*i), ArrearsPriorYearsFen: domain.Fen(2345678 + 77*i), LateFeeFen: domain.Fen(34567 * (i + 1)),
			MonthsOverdue: 12 + i%9, Oldest: domain.MustPeriod("2005-01") + domain.Period(i%12), Stage: []string{"通知", "公示", "移送", ""}[i%4]})
	}

	counties := []*projections.Figures{figures("360702", "章贡区", 1), figures("360721", "赣县", 2), figures("360722", "信丰县", 3), figures("360781", "瑞金市", 4)}
	total := figures("", "合计", 10)
	bulletin := Bulletin{FreezeID: "frz-2006-12", Digest: "sha256:4e1f0c9a", ThroughSeq: 88123, ValidThrough: on, Period: domain.MustPeriod("2006-11"),
		Scope: "全市", Counties: counties, Total: total, Measures: []string{"扩面", "征缴", "清欠"},
		Weighting: "扩面 40%、征缴 40%、清欠 20%，按完成率加权", Praised: []string{"章贡区"}, Criticised: []string{"信丰县", "瑞金市"}}
	for i, c := range counties {
		bulletin.Ranking = append(bulletin.Ranking, BulletinRank{Rank: i + 1, Code: c.Code, Name: c.Name, Score: projections.Ratio{Num: int64(120 - 10*i), Den: 100},
			Completions: []projections.Ratio{{Num: int64(130 - 15*i), Den: 100}, {Num: int64(101 - 9*i), Den: 100}, {}}})
	}
	monthly := MonthlyReport{Month: domain.MustPeriod("2006-12"), AsOf: on, Period: domain.MustPeriod("2006-11"), Seq: 88123,
		Scope: "全市", Counties: counties, Total: total, TotalName: "全市合计"}

	return []printedKind{
		{"notice", short.RenderAs, 1, []string{"责令限期缴纳通知书", "赣州长线单位", "60.15", "陆拾元壹角伍分", "第 1 页 共 1 页"}},
		{"notice of 60 lines", long.RenderAs, 3, []string{"欠缴本金（元）", "2006-12", "第 3 页 共 3 页"}},
		{"statement", st.RenderAs, 3, []string{"社会保险费对账单", "（已由第 303 号冲正）", "期末", "第 3 页 共 3 页"}},
		{"receipt", receipt.RenderAs, 1, []string{"缴费凭证", "GZ2006-000123", "1,234.56", "哈希：9f2c4e6a"}},
		{"void", void.RenderAs, 1, []string{"冲正通知", "已由账本序号 4800 的冲正作废"}},
		{"publicity list", list.RenderAs, 3, []string{"欠费单位公示名单", "91360702MA35000044", "第 3 页 共 3 页"}},
		{"bulletin", bulletin.RenderAs, 2, []string{"社会保险扩面征缴工作情况的通报", "通报批评：信丰县、瑞金市"}},
		{"monthly report", monthly.RenderAs, 5, []string{"社会保险扩面征缴月报（2006年12月）", "全市合计", "第 5 页 共 5 页"}},
	}
}

// figures are a county's figures, every insurance's amounts scaled by n.
func figures(code, name string, n int64) *projections.Figures {
	f := &projections.Figures{Code: code, Name: name, Insurances: map[domain.Insurance]*projections.InsuranceFigures{}}
	for i, ins := range domain.Insurances {
		m := n * int64(i+1)
		f.Insurances[ins] = &projections.InsuranceFigures{Insured: 1200 * m, ShouldInsure: 1500 * m, CoverageRate: projections.Ratio{Num: 1200, Den: 1500},
			PaidInsured: 1100 * m, ContributionRate: projections.Ratio{Num: 1100, Den: 1200}, PeriodDueFen: domain.Fen(123456789 * m),
			PeriodCollectedFen: domain.Fen(98765432 * m), PeriodCollectionRate: projections.Ratio{Num: 98765432, Den: 123456789},
			CumulativeDueFen: domain.Fen(1234567890 * m), CumulativeCollectedFen: domain.Fen(987654321 * m),
			CumulativeCollectionRate: projections.Ratio{Num: 987654321, Den: 1234567890}, ArrearsCurrentYearFen: domain.Fen(24691357 * m),
			ArrearsPriorYearsFen: domain.Fen(5555555 * m), RecoveredFen: domain.Fen(1234567 * m)}
	}
	return f
}
