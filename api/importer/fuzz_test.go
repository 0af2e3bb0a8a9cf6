package importer_test

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// importTimeout bounds one fuzzed import: a file of a few rows imports in milliseconds.
const importTimeout = time.Minute

// FuzzImportRows reads arbitrary text as a CSV file and imports it into a real ledger: nothing
// panics, and when Import answers, every row of the file is counted exactly once, as imported, a
// duplicate or rejected with the line it came from. scoped imports as a clerk of 360702.
func FuzzImportRows(f *testing.F) {
	l := storetest.StartLazy(f, eventstore.Config{}, true)
	for _, name := range []string{"registrations", "surveys", "enrollments", "declarations", "payments", "contracts"} {
		data, err := os.ReadFile("../../scripts/samples/" + name + ".csv")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), false)
	}
	f.Add("单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\nA,10000004-0,章贡区,企业,1,2006-04-03\nB,10000004-0,南康市,企业,1,2006-04-03\n", true)
	f.Add("组织机构代码,申报日期,所属期,险种,参保人数,缴费基数(分)\n10000004-0,2006-06-01,2006-05,养老,2,100\n10000004-0,2006-06-01,2006-05,养老,2,100\n10000004-0,2006-06-01,2006-05,工伤,x,\n", false)
	f.Add("org_code,paid_on,amount_fen,receipt_no\n10000004-0,2006-06-10,\"1,000\",R1\n\n,,,\n10000004-0,2006-06-10,1e3,R2\n", false)
	f.Add("employer_id,paid_on,amount_fen,receipt_no\n*,2006-06-10,1,R\n../x,2006-06-10,1,R\n", false)
	f.Add("name,county,kind,risk_class,registered_on\n张三,360702,灵活就业,1,2006-04-03\n张三,360702,灵活就业,1,2006-04-03\n", false)
	f.Add("\ufefforg_code,insurance,headcount,effective_on\n10000004-0,pension,1,2006-05-01,extra\n10000004-0\n", false)
	f.Add("a,\"b\nc\",d\n\"unterminated", false)
	f.Add("", false)
	f.Add("PK\x03\x04garbage", false)

	f.Fuzz(func(t *testing.T, data string, scoped bool) {
		reopen := func() *importer.Table {
			tb, err := importer.Open(strings.NewReader(data), "fuzz.csv", "")
			if err != nil {
				t.Fatalf("the file opened once but not twice: %v", err)
			}
			return tb
		}
		tb, err := importer.Open(strings.NewReader(data), "fuzz.csv", "")
		if err != nil {
			return
		}
		defer tb.Close()
		var lines []int
		for again := reopen(); ; {
			_, line, err := again.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next, after Open checked the file: %v", err)
			}
			lines = append(lines, line)
		}
		if len(lines) != tb.Rows {
			t.Fatalf("Open counted %d rows but Next gives %d", tb.Rows, len(lines))
		}
		opt := importer.Options{Today: domain.MustDate("2006-12-31"), Actor: "fuzz:importer", Batch: 7}
		if scoped {
			opt.Authorize = func(county string) error {
				if county != "360702" {
					return &domain.Error{Kind: domain.KindForbidden, Detail: "not your county"}
				}
				return nil
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), importTimeout)
		defer cancel()
		rep, err := importer.Import(ctx, l.Store, tb, opt)
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			t.Fatalf("Import of %d rows did not finish in %v: %v\n%q", tb.Rows, importTimeout, err, data)
		}
		if err != nil {
			if rep != nil {
				t.Fatalf("Import failed with a report: %v", err)
			}
			return
		}
		if rep.Rows != len(lines) {
			t.Fatalf("report of %d rows for a file of %d", rep.Rows, len(lines))
		}
		if got := rep.Imported + rep.Duplicates + len(rep.Rejected); got != rep.Rows {
			t.Fatalf("imported %d + duplicates %d + rejected %d = %d, but the file has %d rows: %+v",
				rep.Imported, rep.Duplicates, len(rep.Rejected), got, rep.Rows, rep.Rejected)
		}
		for _, r := range rep.Rejected {
			if !slices.Contains(lines, r.Row) || r.Reason == "" {
				t.Fatalf("rejected row %d (%q) is not a line of the file %v", r.Row, r.Reason, lines)
			}
		}
		if err := importer.WriteRejects(io.Discard, reopen(), rep.Rejected); err != nil {
			t.Fatalf("WriteRejects: %v", err)
		}
	})
}
