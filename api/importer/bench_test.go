package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// importFiles makes a registrations file of n payers and a declarations file of their May
// pension lines: 2n rows.
func importFiles(n, base int) (string, string) {
	var regs, decls strings.Builder
	regs.WriteString("单位名称,组织机构代码,所属区县,单位类型,经济类型,行业风险类别,是否工业园区,登记日期,社会保险登记证号\n")
	decls.WriteString("组织机构代码,申报日期,所属期,险种,参保人数,缴费基数(分)\n")
	for i := range n {
		code := orgCode(base + i)
		fmt.Fprintf(&regs, "赣州市某某有限公司%d,%s,章贡区,企业,私营,2,否,2006-04-05,赣社保字%d\n", i, code, i)
		fmt.Fprintf(&decls, "%s,2006-06-05,2006-05,养老,%d,%d\n", code, 10+i%40, (10+i%40)*80000)
	}
	return regs.String(), decls.String()
}

// BenchmarkImport imports 200,000 registration and declaration rows (100,000 of each) through
// the bulk path, beside raw JetStream atomic batches of 1000 carrying the same number of events.
func BenchmarkImport(b *testing.B) {
	const payers = 100_000
	b.Run("ledger", func(b *testing.B) {
		var rows int
		var elapsed time.Duration
		base := 10_000_000
		for b.Loop() {
			l := storetest.Start(b, eventstore.Config{})
			regs, decls := importFiles(payers, base)
			base += payers
			start := time.Now()
			for _, f := range []string{regs, decls} {
				tb, err := importer.Open(strings.NewReader(f), "rows.csv", "")
				if err != nil {
					b.Fatal(err)
				}
				rep, err := importer.Import(context.Background(), l.Store, tb, importer.Options{Today: today})
				tb.Close()
				if err != nil || len(rep.Rejected) > 0 || rep.Imported != payers {
					b.Fatalf("import: %v %+v", err, rep.Rejected[:min(3, len(rep.Rejected))])
				}
				rows += rep.Imported
			}
			elapsed += time.Since(start)
			l.Stop()
		}
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	})
	b.Run("raw-atomic-1000", func(b *testing.B) {
		var events int
		var elapsed time.Duration
		data := bytes.Repeat([]byte("x"), 420)
		for b.Loop() {
			l := storetest.Start(b, eventstore.Config{})
			start := time.Now()
			for done := 0; done < 2*payers; done += 1000 {
				storetest.RawAtomicBatch(b, l.Embedded.Conn, eventstore.EmployerPrefix, data, 1000, 2)
			}
			elapsed += time.Since(start)
			events += 2 * payers
			l.Stop()
		}
		b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	})
}
