package importer_test

import (
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
// the bulk path, beside the raw engine appending the messages the same rows made in a scratch
// ledger (its bytes, chain hash, message ids, expected sequences) in atomic batches as large as the
// ledger's (eventstore.EmbeddedMaxBatch) on a bare server.
// Every side runs with serve's collector settings (storetest.RotateAsServe).
func BenchmarkImport(b *testing.B) {
	const payers = 100_000
	rot := storetest.RotateAsServe(b)
	rot.Run("ledger", func(b *testing.B) {
		var rows int
		var elapsed time.Duration
		base := 10_000_000
		for b.Loop() {
			l := storetest.Start(b, eventstore.Config{})
			regs, decls := importFiles(payers, base)
			base += payers
			start := time.Now()
			rows += importAll(b, l.Store, payers, regs, decls)
			elapsed += time.Since(start)
			l.Stop()
		}
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	})
	rot.Run("raw-atomic", func(b *testing.B) {
		scratch := storetest.StartLazy(b, eventstore.Config{}, true)
		regs, decls := importFiles(payers, 10_000_000)
		rowsEach := importAll(b, scratch.Store, payers, regs, decls)
		msgs := storetest.Messages(b, scratch.Store)
		scratch.Stop()
		var rows int
		var elapsed time.Duration
		for b.Loop() {
			l := storetest.StartBare(b, false)
			pub := storetest.NewRawPublisher(l.Embedded.Conn)
			round := storetest.Renamed(msgs)
			start := time.Now()
			if err := pub.Batches(round, eventstore.EmbeddedMaxBatch); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
			rows += rowsEach
			l.Stop()
		}
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	})
	rot.Go()
}

// importAll imports the files importFiles made of payers, registrations first, and returns the
// rows imported (all of them, or the benchmark fails).
func importAll(b *testing.B, st *eventstore.Store, payers int, regs, decls string) int {
	b.Helper()
	rows := 0
	for _, f := range []string{regs, decls} {
		tb, err := importer.Open(strings.NewReader(f), "rows.csv", "")
		if err != nil {
			b.Fatal(err)
		}
		rep, err := importer.Import(context.Background(), st, tb, importer.Options{Today: today})
		tb.Close()
		if err != nil || len(rep.Rejected) > 0 || rep.Imported != payers {
			b.Fatalf("import: %v %+v", err, rep.Rejected[:min(3, len(rep.Rejected))])
		}
		rows += rep.Imported
	}
	return rows
}
