package documents

import (
	"context"
	"fmt"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// BenchmarkStatementOf composes the statement of ten years of an employer with a declaration
// and several payments a month, each on a day of its own (a row's day balances are its day's
// closing ones, of every event), for the whole ten years. It reports events per employer and
// gates on nothing.
func BenchmarkStatementOf(b *testing.B) {
	for _, perMonth := range []int{1, 4, 20} {
		b.Run(fmt.Sprintf("%d payments a month", perMonth), func(b *testing.B) {
			l := storetest.Start(b, eventstore.Config{})
			ctx := context.Background()
			today := domain.MustDate("2016-01-31")
			do := func(id string, create bool, cmd domain.Command) string {
				res, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: id, Create: create, Today: today, Actor: "clerk:bench", Command: cmd})
				if err != nil {
					b.Fatal(err)
				}
				return res.EmployerID
			}
			id := do("", true, &domain.RegisterEmployer{Name: "单位", County: "360702", OrgCode: domain.NumberedOrgCode(7), Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-01-03"})
			do(id, false, &domain.RecordEnrollment{Insurance: "pension", Headcount: "3", EffectiveOn: "2006-01-03"})
			receipt := 0
			for p := domain.MustPeriod("2006-01"); p <= domain.MustPeriod("2015-12"); p = p.Next() {
				next := p.Next().FirstDay()
				do(id, false, &domain.FileDeclaration{DeclaredOn: (next + 4).String(), Period: p.String(),
					Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "3", WageBaseFen: "300000"}}})
				for k := range perMonth {
					receipt++
					do(id, false, &domain.RecordPayment{PaidOn: (next + domain.Date(5+k)).String(), AmountFen: domain.Number(fmt.Sprint(80000 / perMonth)), ReceiptNo: fmt.Sprint("R-", receipt)})
				}
			}
			raw, err := l.Store.History(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			ref := l.Store.Reference()
			from, to := domain.MustDate("2006-01-01"), domain.MustDate("2015-12-31")
			var rows int
			for b.Loop() {
				rows = len(StatementOf(id, raw, 0, from, to, ref).Rows)
			}
			b.ReportMetric(float64(len(raw)), "events")
			b.ReportMetric(float64(rows), "rows")
		})
	}
}
