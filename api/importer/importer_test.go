// Over 500 lines for a reason: the importer's rules are tested file by file against one set of
// helpers and small ledgers.

package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

var today = domain.MustDate("2006-12-31")

func orgCode(n int) string { return domain.NumberedOrgCode(n) }

// open opens a file for reading, closed when the test ends.
func open(t *testing.T, name string, data []byte) *importer.Table {
	t.Helper()
	tb, err := importer.Open(bytes.NewReader(data), name, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return tb
}

func load(t *testing.T, s *eventstore.Store, name string, data []byte, opt importer.Options) *importer.Report {
	t.Helper()
	tb := open(t, name, data)
	if opt.Today == 0 {
		opt.Today = today
	}
	rep, err := importer.Import(context.Background(), s, tb, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestAGBKFileImportsTheSameEventsAsItsUTF8Twin(t *testing.T) {
	utf, err := os.ReadFile("../../scripts/samples/registrations.csv")
	if err != nil {
		t.Fatal(err)
	}
	gbk, err := os.ReadFile("../../scripts/samples/registrations-gbk.csv")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(utf, gbk) {
		t.Fatal("the GBK sample is not GBK")
	}
	a, b := storetest.Start(t, eventstore.Config{}), storetest.Start(t, eventstore.Config{})
	ra := load(t, a.Store, "registrations.csv", utf, importer.Options{})
	rb := load(t, b.Store, "registrations-gbk.csv", gbk, importer.Options{})
	if rb.Encoding != importer.EncodingGBK || ra.Imported != 12 || rb.Imported != 12 {
		t.Fatalf("utf-8: %+v; gbk: %+v", ra, rb)
	}
	for _, id := range a.Store.EmployerIDs() {
		ea, _ := a.Store.Employer(id)
		eb, ok := b.Store.Employer(id)
		if !ok || ea.Profile != eb.Profile || ea.RegisteredOn != eb.RegisteredOn || ea.CertificateNo != eb.CertificateNo {
			t.Fatalf("employer %s differs: %+v vs %+v", id, ea.Profile, eb.Profile)
		}
	}
	// The sample's economic types, industries, sectors, parks and agencies are in the ledger.
	var parks, sectors, agencies, codes int
	for _, id := range a.Store.EmployerIDs() {
		e, _ := a.Store.Employer(id)
		if e.Industry == "" || e.OwnershipCode == "" {
			t.Errorf("%s imported without an industry or an economic type: %+v", e.Name, e.Profile)
		}
		codes++
		if e.Park != "" && e.InIndustrialPark {
			parks++
		}
		if e.Sector != "" {
			sectors++
		}
		if e.Agency {
			agencies++
		}
	}
	if codes != 12 || parks != 6 || sectors != 5 || agencies != 1 {
		t.Errorf("the sample imported %d payers, %d in a named park, %d in the plan's sectors, %d agencies; want 12, 6, 5, 1", codes, parks, sectors, agencies)
	}
	if !strings.Contains(a.Store.Reference().Counties[0].Name, "章贡") {
		t.Fatal("reference data missing")
	}
	// The same file again, in either encoding, appends nothing.
	if r := load(t, a.Store, "registrations-gbk.csv", gbk, importer.Options{}); r.Duplicates != 12 || r.Imported != 0 {
		t.Fatalf("re-import of the GBK twin: %+v", r)
	}
}

// thousandRows makes a payments file of 1000 rows for 100 employers, with bad values on the
// given rows (1-based data rows).
func thousandRows(bad map[int]string) string {
	var b strings.Builder
	b.WriteString("组织机构代码,缴费日期,金额(分),票据号\n")
	for i := 1; i <= 1000; i++ {
		org, date, amount := orgCode(5000+i%100), "2006-06-10", fmt.Sprint(1000+i)
		switch bad[i] {
		case "date":
			date = "2006-04-31"
		case "amount":
			amount = "12.5"
		case "negative":
			amount = "-3"
		case "org":
			org = "50000001-9"
		}
		fmt.Fprintf(&b, "%s,%s,%s,R%04d\n", org, date, amount, i)
	}
	return b.String()
}

// hundredPayers starts a ledger with the 100 employers thousandRows pays for, imported.
func hundredPayers(t *testing.T) *storetest.Ledger {
	t.Helper()
	l := storetest.Start(t, eventstore.Config{})
	var regs strings.Builder
	regs.WriteString("name,org_code,county,kind,risk_class,registered_on\n")
	for i := range 100 {
		fmt.Fprintf(&regs, "单位%d,%s,章贡区,enterprise,1,2006-04-03\n", i, orgCode(5000+i))
	}
	if r := load(t, l.Store, "regs.csv", []byte(regs.String()), importer.Options{}); r.Imported != 100 {
		t.Fatalf("registrations: %+v", r)
	}
	return l
}

func TestBadRowsAreReportedAndTheirFixedRejectsImport(t *testing.T) {
	l := hundredPayers(t)
	bad := map[int]string{3: "date", 150: "amount", 151: "negative", 400: "org", 777: "date", 901: "amount", 1000: "org"}
	file := thousandRows(bad)
	rep, err := importer.Import(context.Background(), l.Store, open(t, "payments.csv", []byte(file)), importer.Options{Today: today, Batch: 128})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 993 || len(rep.Rejected) != 7 {
		t.Fatalf("imported %d, rejected %d, want 993 and 7: %+v", rep.Imported, len(rep.Rejected), rep.Rejected)
	}
	wantColumn := map[string]string{"date": "缴费日期", "amount": "金额(分)", "negative": "金额(分)", "org": "组织机构代码"}
	for k, r := range rep.Rejected {
		dataRow := r.Row - 1 // the header is line 1
		kind, ok := bad[dataRow]
		if !ok {
			t.Fatalf("reject %d names line %d, which is not a bad row", k, r.Row)
		}
		if r.Column != wantColumn[kind] || r.Reason == "" || r.Value == "" {
			t.Errorf("line %d (%s): column %q value %q reason %q", r.Row, kind, r.Column, r.Value, r.Reason)
		}
	}
	var rejects bytes.Buffer
	if err := importer.WriteRejects(&rejects, open(t, "payments.csv", []byte(file)), rep.Rejected); err != nil {
		t.Fatal(err)
	}
	// UTF-8 with a byte order mark, which Excel needs to read the Chinese as such, and the
	// reason of each row in a column of its own, last.
	if header, _, _ := strings.Cut(rejects.String(), "\n"); !strings.HasPrefix(header, "\ufeff") || !strings.HasSuffix(strings.TrimSuffix(header, "\r"), ",错误 error") {
		t.Errorf("the rejects file's header %q: want a byte order mark first and 错误 error last", header)
	}
	// A clerk corrects the rejects file: fixes each bad value and drops the error column.
	fixed := strings.NewReplacer("2006-04-31", "2006-04-30", ",12.5,", ",125,", ",-3,", ",3,", "50000001-9", orgCode(5000)).Replace(rejects.String())
	if lines := strings.Count(fixed, "\n"); lines != 8 {
		t.Fatalf("the rejects file has %d lines, want a header and 7 rows:\n%s", lines, fixed)
	}
	again := load(t, l.Store, "payments.rejects.csv", []byte(fixed), importer.Options{})
	if again.Imported != 7 || len(again.Rejected) != 0 {
		t.Fatalf("the corrected rejects: %+v", again)
	}
	// Every row is now in exactly once.
	receipts := 0
	for _, id := range l.Store.EmployerIDs() {
		e, _ := l.Store.Employer(id)
		receipts += len(e.Receipts)
	}
	if receipts != 1000 {
		t.Fatalf("%d receipts in the ledger, want 1000", receipts)
	}
	if r := load(t, l.Store, "payments.csv", []byte(file), importer.Options{}); r.Imported != 0 || r.Duplicates != 993 {
		t.Fatalf("the original file again: %+v", r)
	}
}

// A rejects file is opened in a spreadsheet to be corrected: a cell that would run there as a
// formula (text in the file imported) is written behind a quote, and read without it when the
// corrected file is imported, so the payment recorded holds the receipt number as typed.
func TestARejectsFileRunsNoFormulaAndImportsAsTyped(t *testing.T) {
	l := hundredPayers(t)
	const receipt = "=cmd|' /C calc'!A0"
	file := "组织机构代码,缴费日期,金额(分),票据号\n" + orgCode(5001) + ",2006-04-31,1000," + receipt + "\n" +
		"\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",2006-06-10,1000,R2\n"
	rep := load(t, l.Store, "payments.csv", []byte(file), importer.Options{})
	if rep.Imported != 0 || len(rep.Rejected) != 2 {
		t.Fatalf("imported %d, rejected %+v; want both rows rejected", rep.Imported, rep.Rejected)
	}
	var rejects bytes.Buffer
	if err := importer.WriteRejects(&rejects, open(t, "payments.csv", []byte(file)), rep.Rejected); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(rejects.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		for _, c := range row {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("the rejects file holds %q, which a spreadsheet runs as a formula:\n%s", c, rejects.String())
			}
		}
	}
	fixed := strings.Replace(rejects.String(), "2006-04-31", "2006-04-30", 1)
	if again := load(t, l.Store, "payments.rejects.csv", []byte(fixed), importer.Options{}); again.Imported != 1 {
		t.Fatalf("the corrected rejects: %+v", again)
	}
	e, _ := l.Store.Employer(domain.EmployerIDForOrgCode(orgCode(5001)))
	if reversed, ok := e.Receipts[domain.NormalizeCode(receipt)]; !ok || reversed {
		t.Errorf("the payment's receipts %v; want %q as typed, without the rejects file's quote", e.Receipts, receipt)
	}
}

// A row's key digests its cells as the file holds them, a quote before a formula-like cell
// included (files imported before it was read without one keep their keys): the same payment
// written once behind a quote and once without is two rows to the import, and the second is
// refused for its receipt number, not taken as already there.
func TestARowsKeyHoldsItsCellsAsTheFileHoldsThem(t *testing.T) {
	l := hundredPayers(t)
	head := "组织机构代码,缴费日期,金额(分),票据号\n"
	quoted := head + orgCode(5001) + ",2006-06-10,1000,'=R1\n"
	if rep := load(t, l.Store, "quoted.csv", []byte(quoted), importer.Options{}); rep.Imported != 1 {
		t.Fatalf("the quoted file: %+v", rep)
	}
	plain := head + orgCode(5001) + ",2006-06-10,1000,=R1\n"
	rep := load(t, l.Store, "plain.csv", []byte(plain), importer.Options{})
	if rep.Imported != 0 || rep.Duplicates != 0 || len(rep.Rejected) != 1 || !strings.Contains(rep.Rejected[0].Reason, "receipt") {
		t.Fatalf("the same payment without the quote: %+v; want it refused for its receipt number", rep)
	}
	if again := load(t, l.Store, "quoted.csv", []byte(quoted), importer.Options{}); again.Duplicates != 1 {
		t.Fatalf("the quoted file again: %+v; want its row already there", again)
	}
}

// A rejected row's reason quotes its value shortened, so that what is wrong with it still fits:
// a value of 8,000 characters left a reason of nothing but its first 320.
func TestALongValuesReasonSaysWhatIsWrong(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	org := orgCode(7401)
	if r := load(t, l.Store, "regs.csv", []byte("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n甲,"+org+",章贡区,企业,1,2006-04-03\n"), importer.Options{}); r.Imported != 1 {
		t.Fatalf("registration: %+v", r)
	}
	long := func(c string) string { return strings.Repeat(c, 8000) }
	file := "组织机构代码,签订日期,新签劳动合同数\n" + org + ",2006-06-05," + long("1") + "\n" + org + "," + long("2") + ",3\n" + long("3") + ",2006-06-05,3\n"
	want := map[int]string{2: "is not a number", 3: "is not a date", 4: "is not a valid organisation code"}
	rep := load(t, l.Store, "contracts.csv", []byte(file), importer.Options{})
	if len(rep.Rejected) != len(want) {
		t.Fatalf("rejected %+v; want the three rows", rep.Rejected)
	}
	for _, r := range rep.Rejected {
		if !strings.Contains(r.Reason, want[r.Row]) || len(r.Reason) > 320 {
			t.Errorf("line %d: reason %q (%d bytes); want it to say %q", r.Row, r.Reason, len(r.Reason), want[r.Row])
		}
	}
}

// A spreadsheet whose organisation codes are in full-width characters, as a Chinese input
// method types them, finds its payers by their ASCII codes.
func TestFullWidthOrgCodesFindTheirPayers(t *testing.T) {
	l := hundredPayers(t)
	wide := func(s string) string { return strings.Map(func(r rune) rune { return r - '!' + '！' }, s) }
	file := "组织机构代码,缴费日期,金额(分),票据号\n" + wide(orgCode(5001)) + ",2006-06-10,1000,W1\n" + " " + orgCode(5002) + " ,2006-06-10,1000,W2\n"
	if rep := load(t, l.Store, "payments.csv", []byte(file), importer.Options{}); rep.Imported != 2 || len(rep.Rejected) != 0 {
		t.Fatalf("imported %d, rejected %+v; want both rows", rep.Imported, rep.Rejected)
	}
	for _, org := range []string{orgCode(5001), orgCode(5002)} {
		if e, ok := l.Store.Employer(domain.EmployerIDForOrgCode(org)); !ok || len(e.Receipts) != 1 {
			t.Errorf("payer %s has no payment", org)
		}
	}
}

// A file is read and checked a batch ahead of the ledger's appends, and progress is told after
// each batch appended, as many rows done as appended or rejected. When the ledger stops taking
// batches, the import stops with ErrLedger, reporting the batches appended before.
func TestAnImportTellsProgressPerBatchAndStopsWhenTheLedgerDoes(t *testing.T) {
	l := hundredPayers(t)
	file := thousandRows(map[int]string{150: "amount", 420: "date"})
	var told [][2]int
	store := l.Store
	rep, err := importer.Import(context.Background(), store, open(t, "payments.csv", []byte(file)), importer.Options{Today: today, Batch: 200,
		Progress: func(done, total int, _ time.Duration) {
			told = append(told, [2]int{done, total})
			if len(told) == 3 {
				l.Stop() // the ledger goes away after the third batch
			}
		}})
	if !errors.Is(err, importer.ErrLedger) {
		t.Fatalf("import after the ledger stopped: %v, want ErrLedger", err)
	}
	if want := [][2]int{{200, 1000}, {400, 1000}, {600, 1000}}; !slices.Equal(told, want) {
		t.Fatalf("progress told %v, want %v", told, want)
	}
	// The three batches before, less their two bad rows; the fourth's rows are neither.
	if rep.Imported != 598 || len(rep.Rejected) != 2 || rep.Rows != 800 {
		t.Fatalf("imported %d, rejected %d of %d rows read; want 598, 2 of 800", rep.Imported, len(rep.Rejected), rep.Rows)
	}
	// The rejects are the bad rows, by line, the header being line 1.
	if rep.Rejected[0].Row != 151 || rep.Rejected[1].Row != 421 {
		t.Fatalf("rejects on lines %d and %d, want 151 and 421", rep.Rejected[0].Row, rep.Rejected[1].Row)
	}
}

// readsAfterArmed is a file that, once armed, counts the bytes read from it and calls its hook
// after the first.
type readsAfterArmed struct {
	*bytes.Reader
	armed bool
	read  int
	hook  func()
}

func (r *readsAfterArmed) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if r.armed {
		if r.read == 0 {
			r.hook()
		}
		r.read += n
	}
	return n, err
}

// TestACancelledImportStopsWithinARow: an import whose client went away stops reading its file
// at the next row, not at the end of its batch (a batch of a workbook's rows can take minutes),
// and records nothing of the batch it was reading.
func TestACancelledImportStopsWithinARow(t *testing.T) {
	l := hundredPayers(t)
	before := l.Events(t)
	file := thousandRows(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &readsAfterArmed{Reader: bytes.NewReader([]byte(file)), hook: cancel}
	tb, err := importer.Open(r, "payments.csv", "")
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	r.armed = true // Open has checked the file; the import's reading cancels it
	rep, err := importer.Import(ctx, l.Store, tb, importer.Options{Today: today})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("import: %+v, %v; want it cancelled", rep, err)
	}
	if r.read >= len(file)/2 {
		t.Fatalf("read %d bytes of %d after it was cancelled; want it stopped within a few rows", r.read, len(file))
	}
	if after := l.Events(t); after != before {
		t.Fatalf("%d events appended by a cancelled import", after-before)
	}
}

// TestAnImportTheLedgerStopsCountsExactlyTheRowsRecorded: batches about different payers are
// appended while the next is built, so when the ledger stops, a batch after the last one told
// may be recorded, whole or in part; the report counts exactly the rows the ledger holds.
func TestAnImportTheLedgerStopsCountsExactlyTheRowsRecorded(t *testing.T) {
	l := hundredPayers(t)
	before := l.Events(t)
	var told [][2]int
	store := l.Store
	// Batches of 20 rows are about 20 payers each, a batch's payers none of the next one's.
	rep, err := importer.Import(context.Background(), store, open(t, "payments.csv", []byte(thousandRows(nil))), importer.Options{Today: today, Batch: 20,
		Progress: func(done, total int, _ time.Duration) {
			told = append(told, [2]int{done, total})
			if len(told) == 3 {
				l.Stop()
			}
		}})
	if !errors.Is(err, importer.ErrLedger) {
		t.Fatalf("import after the ledger stopped: %v, want ErrLedger", err)
	}
	if len(told) < 3 || len(told) > 4 {
		t.Fatalf("progress told %v, want the three batches before the stop and at most the one appended beside the third", told)
	}
	for i, tl := range told {
		if tl != [2]int{20 * (i + 1), 1000} {
			t.Fatalf("progress told %v, want batch after batch of 20 rows of 1000", told)
		}
	}
	l.Restart(t)
	recorded := int(l.Events(t) - before)
	if rep.Imported != recorded || rep.Imported < 60 || rep.Imported > 100 {
		t.Fatalf("the report counts %d rows imported, the ledger holds %d (at least the 60 told, at most 100)", rep.Imported, recorded)
	}
	if len(rep.Rejected) != 0 {
		t.Fatalf("rows refused: %+v", rep.Rejected)
	}
}

// TestNoProgressIsToldPastABatchTheLedgerDidNotTake: when a batch fails at the ledger, the batch
// appended beside it is counted as the ledger holds it, but no progress is told for it: the
// rows before it are not all recorded.
func TestNoProgressIsToldPastABatchTheLedgerDidNotTake(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	var regs, pays strings.Builder
	regs.WriteString("name,org_code,county,kind,risk_class,registered_on\n")
	pays.WriteString("组织机构代码,缴费日期,金额(分),票据号\n")
	for i := range 20 {
		county := "章贡区"
		if i >= 10 {
			county = "赣县"
		}
		fmt.Fprintf(&regs, "单位%d,%s,%s,enterprise,1,2006-04-03\n", i, orgCode(6000+i), county)
		fmt.Fprintf(&pays, "%s,2006-06-10,1000,F%02d\n", orgCode(6000+i), i)
	}
	if r := load(t, l.Store, "regs.csv", []byte(regs.String()), importer.Options{}); r.Imported != 20 {
		t.Fatalf("registrations: %+v", r)
	}
	before := l.Events(t)
	// The first batch's payers are in 章贡区 (360702). The importer asks Authorize of each row
	// before the ledger decides it, then the ledger asks it again: there a failure that is not
	// a refusal of the row stands for the ledger failing the batch.
	var asked atomic.Int32
	authorize := func(county string) error {
		if county == "360702" && asked.Add(1) > 10 {
			return errors.New("the ledger's authorisation service is down")
		}
		return nil
	}
	var told [][2]int
	rep, err := importer.Import(context.Background(), l.Store, open(t, "payments.csv", []byte(pays.String())), importer.Options{Today: today, Batch: 10,
		Authorize: authorize, Progress: func(done, total int, _ time.Duration) { told = append(told, [2]int{done, total}) }})
	if !errors.Is(err, importer.ErrLedger) {
		t.Fatalf("import: %v, want ErrLedger", err)
	}
	if len(told) != 0 {
		t.Fatalf("progress told %v after the first batch failed, want none", told)
	}
	if recorded := int(l.Events(t) - before); rep.Imported != 10 || recorded != 10 {
		t.Fatalf("imported %d, the ledger holds %d; want the second batch's 10 in both", rep.Imported, recorded)
	}
}

// TestRowsAboutOnePayerInConsecutiveBatchesKeepTheFilesOrder: a batch about a payer of the batch
// being appended waits for it, so the second row with a payer's receipt is the one refused.
func TestRowsAboutOnePayerInConsecutiveBatchesKeepTheFilesOrder(t *testing.T) {
	l := hundredPayers(t)
	var b strings.Builder
	b.WriteString("组织机构代码,缴费日期,金额(分),票据号\n")
	for i := range 50 {
		for range 2 {
			fmt.Fprintf(&b, "%s,2006-06-10,1000,D%02d\n", orgCode(5000+i), i)
		}
	}
	rep := load(t, l.Store, "payments.csv", []byte(b.String()), importer.Options{Batch: 1})
	if rep.Imported != 50 || len(rep.Rejected) != 50 {
		t.Fatalf("imported %d, rejected %d, want 50 and 50: %+v", rep.Imported, len(rep.Rejected), rep.Rejected)
	}
	for i, r := range rep.Rejected {
		// Line 1 is the header; payer i's rows are on lines 2i+2 and 2i+3.
		if r.Row != 2*i+3 || !strings.Contains(r.Reason, "already recorded") {
			t.Fatalf("reject %d: line %d (%s), want line %d, its receipt already recorded", i, r.Row, r.Reason, 2*i+3)
		}
	}
}

func TestUnknownColumnsAndKindsAreClearErrors(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	before, _ := l.Store.LastSeq(context.Background())
	for _, tt := range []struct {
		name, file, kind, want string
	}{
		{"a header matching no kind", "foo,bar\n1,2\n", "", "cannot tell the kind"},
		{"a kind the file lacks columns for", "组织机构代码,缴费日期\nx,y\n", "payments", "needs a column"},
		{"an unknown kind", "a\n1\n", "loans", "unknown kind"},
		{"one field's column twice", "org_code,paid_on,amount_fen,receipt_no,amount_fen\n" + orgCode(1) + ",2006-06-11,100,R1,999999\n", "",
			`columns 3 ("amount_fen") and 5 ("amount_fen") both give amount_fen`},
		{"one field's Chinese and English columns, the kind given", "组织机构代码,缴费日期,金额(分),票据号,org_code\n" + orgCode(1) + ",2006-06-11,100,R1," + orgCode(2) + "\n", "payments",
			`columns 1 ("组织机构代码") and 5 ("org_code") both give org_code`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importer.Import(context.Background(), l.Store, open(t, "x.csv", []byte(tt.file)), importer.Options{Kind: tt.kind, Today: today})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if last, err := l.Store.LastSeq(context.Background()); err != nil || last != before {
		t.Errorf("the refused files appended: the stream is at %d, was at %d (%v)", last, before, err)
	}
	gbkBytes, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("单位名称\n赣州\n"))
	if _, err := importer.Open(bytes.NewReader(gbkBytes), "x.csv", "utf-8"); err == nil {
		t.Fatal("a GBK file read as UTF-8 was accepted")
	}
}

// TestPayerAttributesImportUnderChineseOrEnglishHeaders: the economic type, industry, sector,
// park and agency of registrations, the migrant workers of surveys and enrollments and the
// retirees of medical enrollments import under either language's column names; a bad value, or
// a sector outside its industry's section, is refused naming its column and appends nothing.
func TestPayerAttributesImportUnderChineseOrEnglishHeaders(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	zh := "单位名称,组织机构代码,所属区县,单位类型,经济类型,行业,重点行业,行业风险类别,园区,劳务派遣,登记日期\n" +
		"南康市华兴家具有限公司," + orgCode(7001) + ",南康市,企业,私营有限责任（公司）,C,家俱,2,南康家具产业园,否,2006-04-03\n" +
		"兴国县宏达煤业有限公司," + orgCode(7002) + ",兴国县,企业,私营,C,煤矿,3,,,2006-04-03\n" + // a coal mine is not manufacturing
		"赣州某公司," + orgCode(7003) + ",章贡区,企业,999,H,,1,,,2006-04-03\n" +
		"赣州人力公司," + orgCode(7004) + ",章贡区,企业,私营,L,,1,,也许,2006-04-03\n" +
		"赣县路桥工程有限公司," + orgCode(7005) + ",赣县,企业,173 私营有限责任（公司）,E 建筑业,建筑,3,否,是,2006-04-03\n" +
		"大余县钨矿," + orgCode(7006) + ",大余县,企业,国有,采矿业,非煤矿山,3,是,,2006-04-03\n" +
		"赣州某厂," + orgCode(7007) + ",章贡区,企业,173 国有全资,C,,1,,,2006-04-03\n" +
		"赣州某店," + orgCode(7008) + ",章贡区,企业,,Z,,1,,,2006-04-03\n"
	rep := load(t, l.Store, "regs.csv", []byte(zh), importer.Options{})
	en := "name,org_code,county,kind,ownership_code,industry,sector,risk_class,in_industrial_park,park,agency,registered_on\n" +
		"龙南稀土有限公司," + orgCode(7011) + ",360727,enterprise,310,b,mining,3,yes,龙南经济技术开发区,no,2006-04-04\n" +
		"赣州劳务派遣有限公司," + orgCode(7012) + ",360702,enterprise,173,L,,1,no,,yes,2006-04-04\n" +
		"赣州某某公司," + orgCode(7013) + ",360702,enterprise,173,C,,1,maybe,,,2006-04-04\n" +
		"赣州某某厂," + orgCode(7014) + ",360702,enterprise,173,C,,1,no,赣州经济技术开发区,,2006-04-04\n" +
		"赣州某某矿," + orgCode(7015) + ",360702,enterprise,120,E,coal,3,,,,2006-04-04\n"
	rep2 := load(t, l.Store, "regs-en.csv", []byte(en), importer.Options{})
	if rep.Imported != 3 || rep2.Imported != 2 {
		t.Fatalf("imported %d and %d registrations, want 3 and 2: %+v %+v", rep.Imported, rep2.Imported, rep.Rejected, rep2.Rejected)
	}
	type refusal struct{ column, value string }
	wantRefused := map[string]refusal{
		orgCode(7002): {"重点行业", "煤矿"}, orgCode(7003): {"经济类型", "999"}, orgCode(7004): {"劳务派遣", "也许"},
		orgCode(7007): {"经济类型", "173 国有全资"}, orgCode(7008): {"行业", "Z"},
		orgCode(7013): {"in_industrial_park", "maybe"}, orgCode(7014): {"in_industrial_park", "no"}, orgCode(7015): {"sector", "coal"},
	}
	rejected := append(append([]importer.Reject(nil), rep.Rejected...), rep2.Rejected...)
	t.Logf("refused: %+v", rejected)
	if len(rejected) != len(wantRefused) {
		t.Fatalf("%d rows refused, want %d: %+v", len(rejected), len(wantRefused), rejected)
	}
	for _, rj := range rejected {
		found := false
		for code, w := range wantRefused {
			if rj.Column == w.column && rj.Value == w.value {
				found = true
				if _, ok := l.Store.Employer(domain.EmployerIDForOrgCode(code)); ok {
					t.Errorf("the refused row of %s (%s: %s) was appended", code, w.column, rj.Reason)
				}
			}
		}
		if !found || rj.Reason == "" {
			t.Errorf("refusal %+v names no column and value the test expects", rj)
		}
	}
	profile := func(n int) domain.Profile {
		t.Helper()
		e, ok := l.Store.Employer(domain.EmployerIDForOrgCode(orgCode(n)))
		if !ok {
			t.Fatalf("%s was not imported", orgCode(n))
		}
		return e.Profile
	}
	for _, tt := range []struct {
		n                                       int
		industry, sector, code, ownership, park string
		inPark, agency                          bool
	}{
		// Text is stored in NFKC: full-width brackets become ASCII ones.
		{7001, "C", domain.SectorFurniture, "173", "私营有限责任(公司)", "南康家具产业园", true, false},
		{7005, "E", domain.SectorConstruction, "173", "私营有限责任(公司)", "", false, true},
		{7006, "B", domain.SectorMining, "110", "国有", "", true, false},
		{7011, "B", domain.SectorMining, "310", "", "龙南经济技术开发区", true, false},
		{7012, "L", "", "173", "", "", false, true},
	} {
		p := profile(tt.n)
		if p.Industry != tt.industry || p.Sector != tt.sector || p.OwnershipCode != tt.code || p.Ownership != tt.ownership ||
			p.Park != tt.park || p.InIndustrialPark != tt.inPark || p.Agency != tt.agency {
			t.Errorf("%s imported as %+v, want industry %s sector %q code %s ownership %q park %q in park %v agency %v",
				orgCode(tt.n), p, tt.industry, tt.sector, tt.code, tt.ownership, tt.park, tt.inPark, tt.agency)
		}
	}

	surveys := "组织机构代码,调查日期,应参保人数,农民工\n" +
		orgCode(7001) + ",2006-04-20,40,25\n" + orgCode(7005) + ",2006-04-20,30,31\n"
	if r := load(t, l.Store, "surveys.csv", []byte(surveys), importer.Options{}); r.Imported != 1 || len(r.Rejected) != 1 ||
		r.Rejected[0].Column != "农民工" || r.Rejected[0].Value != "31" {
		t.Fatalf("surveys: %+v", r)
	}
	enrollZH := "组织机构代码,险种,参保人数,参保日期,农民工,退休人员\n" +
		orgCode(7006) + ",医疗,50,2006-05-01,10,35\n" + orgCode(7006) + ",养老,50,2006-05-01,12,35\n"
	enrollEN := "org_code,insurance,headcount,effective_on,migrants,retirees\n" +
		orgCode(7001) + ",work_injury,30,2006-05-01,22,\n" + orgCode(7001) + ",pension,30,2006-05-01,31,\n"
	for _, tt := range []struct{ name, file, column, value string }{
		{"enrollments.csv", enrollZH, "退休人员", "35"},
		{"enrollments-en.csv", enrollEN, "migrants", "31"},
	} {
		if r := load(t, l.Store, tt.name, []byte(tt.file), importer.Options{}); r.Imported != 1 || len(r.Rejected) != 1 ||
			r.Rejected[0].Column != tt.column || r.Rejected[0].Value != tt.value {
			t.Fatalf("%s: %+v", tt.name, r)
		}
	}
	furniture, _ := l.Store.Employer(domain.EmployerIDForOrgCode(orgCode(7001)))
	mine, _ := l.Store.Employer(domain.EmployerIDForOrgCode(orgCode(7006)))
	road, _ := l.Store.Employer(domain.EmployerIDForOrgCode(orgCode(7005)))
	if furniture.Workforce != 40 || furniture.Migrants != 25 || furniture.MigrantsEnrolled[domain.WorkInjury] != 22 ||
		furniture.Enrolled[domain.Pension] != 0 || road.Workforce != 0 {
		t.Errorf("the furniture maker: workforce %d, migrants %d, enrolled %v of them migrants %v; the road builder's workforce %d (its survey was refused)",
			furniture.Workforce, furniture.Migrants, furniture.Enrolled, furniture.MigrantsEnrolled, road.Workforce)
	}
	if mine.Enrolled[domain.Medical] != 50 || mine.Retirees != 35 || mine.MigrantsEnrolled[domain.Medical] != 10 || mine.Enrolled[domain.Pension] != 0 {
		t.Errorf("the mine: enrolled %v, migrants %v, retirees %d", mine.Enrolled, mine.MigrantsEnrolled, mine.Retirees)
	}
}

// TestColumnsNoFieldOfTheKindAreNamedInTheReport: a column the kind does not read (a misspelt
// optional one, a payments column in a survey) is left aside and named in the report, the rows
// imported from the others; the payer's name, which every kind may carry, is not named.
func TestColumnsNoFieldOfTheKindAreNamedInTheReport(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	load(t, l.Store, "regs.csv", []byte("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n甲,"+orgCode(5)+",章贡区,企业,1,2006-04-03\n"), importer.Options{Today: today})
	rep := load(t, l.Store, "surveys.csv", []byte("单位名称,组织机构代码,调查日期,应参保人数,农民工人数X,金额(分),\n甲,"+orgCode(5)+",2006-04-20,40,12,100,\n"), importer.Options{Today: today})
	if rep.Imported != 1 || !slices.Equal(rep.Ignored, []string{"农民工人数X", "金额(分)"}) {
		t.Errorf("imported %d, columns left aside %q; want 1 and the misspelt migrants and the amount", rep.Imported, rep.Ignored)
	}
}

// A clerk's file writes dates and amounts as Chinese Excel and input methods do: they read as
// they mean, and what could mean another number is refused, naming its column, not guessed.
func TestDatesAndAmountsReadAsAClerksSpreadsheetWritesThem(t *testing.T) {
	l := hundredPayers(t)
	org := orgCode(5003)
	rows := []struct {
		date, amount string
		paidOn       string // "" when refused
		fen          domain.Fen
		column       string
	}{
		{"2006-06-05", "100", "2006-06-05", 100, ""},
		{"2006/6/6", "100", "2006-06-06", 100, ""},
		{"2006年6月7日", "100", "2006-06-07", 100, ""},
		{"２００６－０６－０８", "１００", "2006-06-08", 100, ""},
		{"2006-6-9", `"1,234"`, "2006-06-09", 1234, ""},
		{"2006-06-10", `"1,5"`, "", 0, "金额(分)"},
		{"2006-06-11", `"12,34,5"`, "", 0, "金额(分)"},
		{"2006/4/31", "100", "", 0, "缴费日期"},
		{"2006-06-12", `"0,500"`, "", 0, "金额(分)"},
		{"06-13-06", "100", "", 0, "缴费日期"}, // which of day, month and year? (a workbook's short date reads so too)
		{"06/12/2006", "100", "", 0, "缴费日期"},
	}
	file := "组织机构代码,缴费日期,金额(分),票据号\n"
	for i, r := range rows {
		file += fmt.Sprintf("%s,%s,%s,D%d\n", org, r.date, r.amount, i)
	}
	rep := load(t, l.Store, "payments.csv", []byte(file), importer.Options{})
	rejected := map[int]string{}
	for _, rj := range rep.Rejected {
		rejected[rj.Row] = rj.Column
	}
	raw, err := l.Store.History(context.Background(), domain.EmployerIDForOrgCode(org))
	if err != nil {
		t.Fatal(err)
	}
	paid := map[string]domain.PaymentReceived{}
	for _, ev := range raw {
		if p, ok := ev.Body.(domain.PaymentReceived); ok {
			paid[p.ReceiptNo] = p
		}
	}
	for i, r := range rows {
		p, recorded := paid[fmt.Sprint("D", i)]
		switch {
		case r.paidOn == "" && (recorded || rejected[i+2] != r.column):
			t.Errorf("%s, %s: recorded %v, refused in column %q; want refused in %q", r.date, r.amount, recorded, rejected[i+2], r.column)
		case r.paidOn != "" && (!recorded || p.PaidOn.String() != r.paidOn || p.AmountFen != r.fen):
			t.Errorf("%s, %s: recorded %v as %+v (refused: %q); want paid on %s, %d fen", r.date, r.amount, recorded, p, rejected[i+2], r.paidOn, r.fen)
		}
	}
}

// A date cell of a workbook reads as the date it holds when its format shows one of the forms
// dates are read in, and in Excel's default short date (built-in format 14, what a typed date
// takes), which the workbook reader writes as mm-dd-yy: such a cell, or one formatted dd-mm-yy or
// yy-mm-dd, is taken for the day number it holds. A text typed 09-01-06 says nothing of which day
// it is and is refused. A row's key still digests the short date as the reader writes it, so that a workbook
// imported before keeps its keys, a date in a column left aside too.
func TestAWorkbooksDateCellsReadAsTheirDates(t *testing.T) {
	l := hundredPayers(t)
	cases := []struct {
		style *excelize.Style // nil: the date typed as text
		value any
		paid  string // "": refused in 缴费日期
	}{
		{&excelize.Style{NumFmt: 14}, time.Date(2006, 9, 1, 0, 0, 0, 0, time.UTC), "2006-09-01"},
		{&excelize.Style{CustomNumFmt: ptr("yyyy/m/d")}, time.Date(2006, 9, 2, 0, 0, 0, 0, time.UTC), "2006-09-02"},
		{&excelize.Style{CustomNumFmt: ptr(`yyyy"年"m"月"d"日"`)}, time.Date(2006, 9, 3, 0, 0, 0, 0, time.UTC), "2006-09-03"},
		{&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")}, time.Date(2006, 9, 4, 0, 0, 0, 0, time.UTC), "2006-09-04"},
		{&excelize.Style{NumFmt: 14}, time.Date(2006, 12, 31, 15, 0, 0, 0, time.UTC), "2006-12-31"},
		{&excelize.Style{CustomNumFmt: ptr("dd-mm-yy")}, time.Date(2006, 9, 5, 0, 0, 0, 0, time.UTC), "2006-09-05"},
		{&excelize.Style{CustomNumFmt: ptr("yy-mm-dd")}, time.Date(2006, 9, 6, 0, 0, 0, 0, time.UTC), "2006-09-06"},
		{&excelize.Style{CustomNumFmt: ptr("00-00-00")}, 38961, ""}, // the day number of 2006-09-01, not shown as a date
		{nil, "09-06-06", ""},
		{&excelize.Style{NumFmt: 14}, "09-07-06", ""}, // a text cell formatted as a date is still text
	}
	rows := [][]any{{"组织机构代码", "缴费日期", "金额(分)", "票据号"}}
	styles := map[string]*excelize.Style{}
	for i, c := range cases {
		rows = append(rows, []any{orgCode(5004), c.value, 100, fmt.Sprint("X", i)})
		if c.style != nil {
			styles[fmt.Sprint("B", i+2)] = c.style
		}
	}
	file := workbookOf(t, rows, styles)
	tb := open(t, "payments.xlsx", file)
	row, _, err := tb.Next()
	if err != nil || row[1] != "09-01-06" || len(tb.Dates()) < 2 || tb.Dates()[1] != "2006-09-01" || tb.Dates()[0] != "" {
		t.Fatalf("the default short date cell reads %q, dates %q (%v); want 09-01-06 as before, holding 2006-09-01", row, tb.Dates(), err)
	}
	if row, _, err := tb.Next(); err != nil || row[1] != "2006/9/2" || tb.Dates() != nil {
		t.Fatalf("a yyyy/m/d cell reads %q, dates %q (%v); want 2006/9/2, no short date", row, tb.Dates(), err)
	}
	rep := load(t, l.Store, "payments.xlsx", file, importer.Options{})
	refused := map[int]string{}
	for _, r := range rep.Rejected {
		refused[r.Row] = r.Column
	}
	raw, err := l.Store.History(context.Background(), domain.EmployerIDForOrgCode(orgCode(5004)))
	if err != nil {
		t.Fatal(err)
	}
	paid := map[string]string{}
	for _, ev := range raw {
		if p, ok := ev.Body.(domain.PaymentReceived); ok {
			paid[p.ReceiptNo] = p.PaidOn.String()
		}
	}
	for i, c := range cases {
		receipt := fmt.Sprint("X", i)
		switch {
		case c.paid == "" && (paid[receipt] != "" || refused[i+2] != "缴费日期"):
			t.Errorf("row %d (%v): paid on %q, refused in %q; want refused in 缴费日期", i+2, c.value, paid[receipt], refused[i+2])
		case c.paid != "" && paid[receipt] != c.paid:
			t.Errorf("row %d (%v): paid on %q, refused in %q; want paid on %s", i+2, c.value, paid[receipt], refused[i+2], c.paid)
		}
	}
	if again := load(t, l.Store, "payments.xlsx", file, importer.Options{}); again.Imported != 0 || again.Duplicates != rep.Imported {
		t.Fatalf("the same workbook again imported %d, %d duplicates; want 0 and %d", again.Imported, again.Duplicates, rep.Imported)
	}
}

// A row's key digests its cells as the workbook reader has always written them: a short date in
// a column the import leaves aside reads mm-dd-yy there, as a text typed so does, so the rows of a
// workbook imported before the short date was read as a date keep their keys.
func TestAShortDateInAColumnLeftAsideKeepsItsRowsKey(t *testing.T) {
	l := hundredPayers(t)
	workbook := func(aside any) []byte {
		return workbookOf(t, [][]any{{"组织机构代码", "缴费日期", "金额(分)", "票据号", "备注"}, {orgCode(5005), "2006-09-01", 100, "K1", aside}},
			map[string]*excelize.Style{"E2": {NumFmt: 14}})
	}
	first := load(t, l.Store, "payments.xlsx", workbook(time.Date(2006, 10, 1, 0, 0, 0, 0, time.UTC)), importer.Options{})
	if first.Imported != 1 {
		t.Fatalf("imported %d, refused %+v; want the row", first.Imported, first.Rejected)
	}
	// The same row as it read before: the cell left aside a text, 10-01-06.
	again := load(t, l.Store, "payments.xlsx", workbook("10-01-06"), importer.Options{})
	if again.Imported != 0 || again.Duplicates != 1 {
		t.Fatalf("the row as it read before imported %d, %d duplicates, refused %+v; want it a duplicate", again.Imported, again.Duplicates, again.Rejected)
	}
}

// A cell reads as the date it holds only in a date column: a receipt number that a number format
// shows as 04-21-15 (42115 in 00-00-00, which mm-dd-yy writes alike as the day 2015-04-21) or a
// short date typed into the receipt column is recorded as the clerk sees it. A refused row's
// short date goes to the rejects file as its date, so that the file imports once corrected.
func TestAShortDateReadsAsADateOnlyInADateColumn(t *testing.T) {
	l := hundredPayers(t)
	day := time.Date(2006, 9, 1, 0, 0, 0, 0, time.UTC)
	short, dashed := &excelize.Style{NumFmt: 14}, &excelize.Style{CustomNumFmt: ptr("00-00-00")}
	file := workbookOf(t, [][]any{
		{"组织机构代码", "缴费日期", "金额(分)", "票据号"},
		{orgCode(5006), day, 100, 42115},
		{orgCode(5006), day, 100, time.Date(2007, 3, 4, 0, 0, 0, 0, time.UTC)},
		{orgCode(5006), day, "1,5", "R-BAD"},
	}, map[string]*excelize.Style{"B2": short, "B3": short, "B4": short, "D2": dashed, "D3": short})
	rep := load(t, l.Store, "payments.xlsx", file, importer.Options{})
	if rep.Imported != 2 || len(rep.Rejected) != 1 || rep.Rejected[0].Row != 4 {
		t.Fatalf("imported %d, refused %+v; want rows 2 and 3, row 4 refused", rep.Imported, rep.Rejected)
	}
	raw, err := l.Store.History(context.Background(), domain.EmployerIDForOrgCode(orgCode(5006)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range raw {
		if p, ok := ev.Body.(domain.PaymentReceived); ok {
			got = append(got, p.PaidOn.String()+" "+p.ReceiptNo)
		}
	}
	if want := "2006-09-01 04-21-15,2006-09-01 03-04-07"; strings.Join(got, ",") != want {
		t.Errorf("recorded %q; want %q: receipts as the clerk sees them, paid on the short date's day", got, want)
	}
	var rejects bytes.Buffer
	if err := importer.WriteRejects(&rejects, open(t, "payments.xlsx", file), rep.Rejected); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rejects.String(), "2006-09-01,\"1,5\",R-BAD,") {
		t.Errorf("the rejects file %q; want row 4 with its date 2006-09-01", rejects.String())
	}
}

// workbookOf writes a workbook of rows on its first sheet, each cell named in styles formatted so.
func workbookOf(t *testing.T, rows [][]any, styles map[string]*excelize.Style) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for cell, st := range styles {
		id, err := f.NewStyle(st)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellStyle(sheet, cell, cell, id); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ptr[T any](v T) *T { return &v }

// TestAFileNotUTF8IsReadAsGBKOnlyIfAllOfItIsGBK: a file that is not valid UTF-8 is read as GBK
// only when every byte of it reads as GBK; a UTF-8 file with a damaged byte is refused naming
// the line and byte of the first byte that is not UTF-8, rather than read as garbled GBK.
func TestAFileNotUTF8IsReadAsGBKOnlyIfAllOfItIsGBK(t *testing.T) {
	const header = "单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n"
	row := func(name string) string { return name + "," + orgCode(8001) + ",章贡区,企业,1,2006-04-03\n" }
	var countyNames []string
	for _, c := range domain.DefaultCounties {
		countyNames = append(countyNames, c.Name)
	}
	gbk := func(s string) string {
		b, err := simplifiedchinese.GBK.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tt := range []struct {
		name, file string
		read       string   // the encoding the file is read as, and its second row's name is wanted as "章贡社保"
		refused    []string // what the refusal says
	}{
		{"UTF-8", header + row("章贡社保"), importer.EncodingUTF8, nil},
		{"GBK of Chinese names", gbk(header + row("章贡社保") + row("赣州市华兴家具有限公司") + row("兴国县宏达煤业")), importer.EncodingGBK, nil},
		{"GBK of every county's name", gbk(header + row("章贡社保") + row(strings.Join(countyNames, ""))), importer.EncodingGBK, nil},
		{"UTF-8 with a stray byte", header + row("章贡社保") + row("章\xff贡"), "",
			[]string{"UTF-8 but damaged", "line 3, byte 4 (0xFF) is not UTF-8"}},
		{"UTF-8 with a character cut short", header + row("章贡社保") + row("章贡"[:5]), "",
			[]string{"UTF-8 but damaged", "line 3, byte 4 (0xE8) is not UTF-8"}},
		// Both read as GBK whole: 姹熻タ閾惰 and 燗BC.
		{"UTF-8 with a character cut to its first byte", header + row("章贡社保") + row("江西"+"银"[:1]+"行"), "",
			[]string{"UTF-8 but damaged", "line 3, byte 7 (0xE9) is not UTF-8"}},
		{"UTF-8 with a stray byte before letters", header + row("章贡社保") + row("\xa0ABC"), "",
			[]string{"UTF-8 but damaged", "line 3, byte 1 (0xA0) is not UTF-8"}},
		{"UTF-8 with a stray byte past the first 64 KiB", header + strings.Repeat(row("章贡社保"), 2000) + row("章贡\xff"), "",
			[]string{"UTF-8 but damaged", "line 2002, byte 7 (0xFF) is not UTF-8"}},
		{"UTF-8 with a stray byte in a line across the first 64 KiB", header + row("章贡社保") + row(strings.Repeat("a", 70_000)+"\xff"), "",
			[]string{"UTF-8 but damaged", "line 3, byte 70001 (0xFF) is not UTF-8"}},
		{"GBK that is valid UTF-8 too", "name,org_code\n" + gbk("盛通实业") + ",1\n", "", []string{"reads as UTF-8 (with few Chinese characters) and as GBK", "--encoding"}},
		{"GBK that is valid UTF-8 too, a character of it Chinese", "name,org_code\n" + gbk("盛通实业刖丂") + ",1\n", "", []string{"reads as UTF-8 (with few Chinese characters) and as GBK"}},
		{"neither UTF-8 nor GBK", "name,org_code\n\xff\xfe,1\n", "", []string{"neither valid UTF-8 nor GBK", "line 2, byte 1 (0xFF) is not UTF-8"}},
		{"UTF-16, little-endian", "\xff\xfen\x00a\x00m\x00e\x00", "", []string{"the file is UTF-16 text", "byte-order mark FF FE", "save it again as CSV UTF-8"}},
		{"UTF-16, big-endian", "\xfe\xff\x00n\x00a", "", []string{"the file is UTF-16 text", "byte-order mark FE FF"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := importer.Open(strings.NewReader(tt.file), "regs.csv", "")
			if tt.refused != nil {
				wantRefused(t, tb, err, tt.refused)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tb.Close()
			rec, _, err := tb.Next()
			if err != nil || tb.Encoding != tt.read || tb.Header[0] != "单位名称" || rec[0] != "章贡社保" {
				t.Fatalf("read as %s: header %q, row %q (%v); want %s, 单位名称 and 章贡社保", tb.Encoding, tb.Header, rec, err, tt.read)
			}
		})
	}
}

// A file given as GBK whose Chinese is valid UTF-8 is refused, not stored garbled (UTF-8
// Chinese mostly reads as GBK too: 章贡社保 as 绔犺础绀句繚); a GBK file, or one of ASCII
// alone, given as GBK is read so.
func TestAUTF8FileGivenAsGBKIsRefused(t *testing.T) {
	const header = "单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n"
	row := header + "章贡社保," + orgCode(8001) + ",章贡区,企业,1,2006-04-03\n"
	gbkRow, err := simplifiedchinese.GBK.NewEncoder().String(row)
	if err != nil {
		t.Fatal(err)
	}
	for _, given := range []string{"gbk", "GB18030", "cp936"} {
		t.Run(given, func(t *testing.T) {
			tb, err := importer.Open(strings.NewReader(row), "regs.csv", given)
			wantRefused(t, tb, err, []string{"the file is UTF-8", "not " + given, "stored garbled", "as utf-8"})
			tb, err = importer.Open(strings.NewReader(gbkRow), "regs.csv", given)
			if err != nil {
				t.Fatalf("a GBK file given as %s: %v", given, err)
			}
			defer tb.Close()
			if rec, _, err := tb.Next(); err != nil || rec[0] != "章贡社保" {
				t.Errorf("a GBK file given as %s reads %q (%v), want 章贡社保", given, rec, err)
			}
		})
	}
	tb, err := importer.Open(strings.NewReader("name,org_code\nABC,"+orgCode(8001)+"\n"), "regs.csv", "gbk")
	if err != nil {
		t.Fatalf("a file of ASCII alone given as gbk: %v", err)
	}
	tb.Close()
}

// A reject shows the cell as the clerk typed it, not the value read from it: 2006/4/31 is
// refused as the date 2006-04-31 that does not exist, and shown as typed; a decimal comma is no
// number, and the reason does not speak of quotes the clerk never typed.
func TestARejectShowsTheCellAsTyped(t *testing.T) {
	l := hundredPayers(t)
	file := "组织机构代码,申报日期,所属期,险种,参保人数,缴费基数(分)\n" +
		orgCode(5000) + ",2006/4/31,2006-03,养老,10,1000000\n" + orgCode(5001) + ",2006-06-05,2006-05,养老,10,\"1,0\"\n"
	r := load(t, l.Store, "declarations.csv", []byte(file), importer.Options{})
	if r.Imported != 0 || len(r.Rejected) != 2 {
		t.Fatalf("%+v, want both rows refused", r)
	}
	for i, w := range []struct{ column, value, reason string }{{"申报日期", "2006/4/31", "2006-04-31"}, {"缴费基数(分)", "1,0", "not a number"}} {
		rj := r.Rejected[i]
		if rj.Column != w.column || rj.Value != w.value || !strings.Contains(rj.Reason, w.reason) || strings.Contains(rj.Reason, "is a string") {
			t.Errorf("reject %d: %+v; want column %s, value %q as typed, a reason naming %q", i, rj, w.column, w.value, w.reason)
		}
	}
}

// TestARejectNamesTheColumnOfTheRuleItBreaks: an enrollment effective after the payer's
// deregistration names its date's column; a declaration that leaves out an insurance its
// period's standing one has names the insurance column, not the declaration's lines as a whole.
func TestARejectNamesTheColumnOfTheRuleItBreaks(t *testing.T) {
	l := hundredPayers(t)
	gone := domain.EmployerIDForOrgCode(orgCode(5001))
	if _, err := l.Store.Execute(context.Background(), eventstore.Request{EmployerID: gone, Actor: "clerk:wang", Today: today,
		Command: &domain.Deregister{On: "2006-06-01", Reason: "停业"}}); err != nil {
		t.Fatal(err)
	}
	declared := "组织机构代码,申报日期,所属期,险种,参保人数,缴费基数(分)\n" +
		orgCode(5000) + ",2006-06-05,2006-05,养老,10,1000000\n" + orgCode(5000) + ",2006-06-05,2006-05,医疗,10,1000000\n"
	if r := load(t, l.Store, "declarations.csv", []byte(declared), importer.Options{}); r.Imported != 2 {
		t.Fatalf("declarations: %+v", r)
	}
	for _, tt := range []struct{ name, file, column, value string }{
		{"again.csv", "组织机构代码,申报日期,所属期,险种,参保人数,缴费基数(分)\n" + orgCode(5000) + ",2006-06-10,2006-05,养老,10,900000\n", "险种", "养老"},
		{"enrollments.csv", "组织机构代码,险种,参保人数,参保日期\n" + orgCode(5001) + ",养老,10,2006-07-01\n", "参保日期", "2006-07-01"},
	} {
		if r := load(t, l.Store, tt.name, []byte(tt.file), importer.Options{}); r.Imported != 0 || len(r.Rejected) != 1 ||
			r.Rejected[0].Column != tt.column || r.Rejected[0].Value != tt.value {
			t.Errorf("%s: %+v, want one reject naming column %s, value %s", tt.name, r, tt.column, tt.value)
		}
	}
}

// wantRefused fails the test unless err refuses the file, saying each of want; tb, read
// instead, is closed.
func wantRefused(t *testing.T, tb *importer.Table, err error, want []string) {
	t.Helper()
	if err == nil {
		tb.Close()
		t.Fatalf("the file was read as %s; want it refused", tb.Encoding)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("refused with %q; want it to say %q", err, w)
		}
	}
}

// TestAFileOfBothEncodingsReadsAsTheOneGiven: a file valid in UTF-8 and in GBK alike, refused
// when its encoding is to be detected, reads as the encoding given.
func TestAFileOfBothEncodingsReadsAsTheOneGiven(t *testing.T) {
	name, err := simplifiedchinese.GBK.NewEncoder().String("盛通实业")
	if err != nil {
		t.Fatal(err)
	}
	file := "name,org_code\n" + name + ",1\n"
	for _, tt := range []struct{ encoding, want string }{{"gbk", "盛通实业"}, {"utf-8", name}} {
		tb, err := importer.Open(strings.NewReader(file), "regs.csv", tt.encoding)
		if err != nil {
			t.Fatalf("--encoding %s: %v", tt.encoding, err)
		}
		rec, _, err := tb.Next()
		tb.Close()
		if err != nil || rec[0] != tt.want {
			t.Errorf("--encoding %s: read %q (%v), want %q", tt.encoding, rec, err, tt.want)
		}
	}
}

// TestAnUnknownCountyIsToldACodeOrANameWillDo: a registration's county may be given by code or
// by name, so a county the ledger does not know is refused saying both are accepted.
func TestAnUnknownCountyIsToldACodeOrANameWillDo(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	regs := "name,org_code,county,kind,risk_class,registered_on\n" +
		"单位甲," + orgCode(6000) + ",章贡区,enterprise,1,2006-04-03\n" +
		"单位乙," + orgCode(6001) + ",章贡县,enterprise,1,2006-04-03\n" +
		"单位丙," + orgCode(6002) + ",360799,enterprise,1,2006-04-03\n"
	r := load(t, l.Store, "regs.csv", []byte(regs), importer.Options{})
	if r.Imported != 1 || len(r.Rejected) != 2 {
		t.Fatalf("%+v; want the county named 章贡区 imported and the two unknown ones rejected", r)
	}
	for _, rej := range r.Rejected {
		if rej.Column != "county" || !strings.Contains(rej.Reason, "code or the name") || !strings.Contains(rej.Reason, `"`+rej.Value+`"`) {
			t.Errorf("reject %+v; want it on county, naming its value and saying a code or a name will do", rej)
		}
	}
}
