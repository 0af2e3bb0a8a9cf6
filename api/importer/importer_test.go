package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
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

func TestBadRowsAreReportedAndTheirFixedRejectsImport(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	var regs strings.Builder
	regs.WriteString("name,org_code,county,kind,risk_class,registered_on\n")
	for i := range 100 {
		fmt.Fprintf(&regs, "单位%d,%s,章贡区,enterprise,1,2006-04-03\n", i, orgCode(5000+i))
	}
	if r := load(t, l.Store, "regs.csv", []byte(regs.String()), importer.Options{}); r.Imported != 100 {
		t.Fatalf("registrations: %+v", r)
	}
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

func TestUnknownColumnsAndKindsAreClearErrors(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	for _, tt := range []struct {
		name, file, kind, want string
	}{
		{"a header matching no kind", "foo,bar\n1,2\n", "", "cannot tell the kind"},
		{"a kind the file lacks columns for", "组织机构代码,缴费日期\nx,y\n", "payments", "needs a column"},
		{"an unknown kind", "a\n1\n", "loans", "unknown kind"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importer.Import(context.Background(), l.Store, open(t, "x.csv", []byte(tt.file)), importer.Options{Kind: tt.kind, Today: today})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	gbkBytes, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("单位名称\n赣州\n"))
	if _, err := importer.Open(bytes.NewReader(gbkBytes), "x.csv", "utf-8"); err == nil {
		t.Fatal("a GBK file read as UTF-8 was accepted")
	}
}
