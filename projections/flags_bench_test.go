package projections

import (
	"fmt"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// BenchmarkEmployerFlagsWaivers reads the flags of one payer with n monthly lines, each paid 40
// days late and most of its late fee waived: the 随意减免 review reads the fee each waiver's line
// accrued by its date.
func BenchmarkEmployerFlagsWaivers(b *testing.B) {
	for _, n := range []int{2, 24} {
		b.Run(fmt.Sprintf("waivers=%d", n), func(b *testing.B) {
			l := NewLedger()
			seq := uint64(0)
			apply := func(p domain.Payload) {
				seq++
				l.Apply(domain.Event{Envelope: domain.Envelope{EmployerID: "e1", Seq: seq, N: seq}, Body: p})
			}
			for _, ev := range refEvents() {
				seq++
				ev.Seq, ev.N = seq, seq
				l.Apply(ev)
			}
			apply(domain.EmployerRegistered{Profile: domain.Profile{Name: "e1", County: "360702", Kind: domain.KindEnterprise, RiskClass: 2}, RegisteredOn: domain.MustDate("2005-01-03")})
			p := domain.MustPeriod("2005-01")
			for i := range n {
				due := l.Ref.DueDate(p)
				apply(domain.DeclarationFiled{DeclaredOn: due.AddDays(-5), Period: p, DueOn: due, Lines: []domain.DeclaredLine{{Insurance: domain.Pension, DueFen: 100000}}})
				apply(domain.PaymentReceived{PaidOn: due.AddDays(40), AmountFen: 100000, ReceiptNo: fmt.Sprint("R", i),
					Allocations: []domain.Allocation{{Insurance: domain.Pension, Period: p, AmountFen: 100000}}})
				apply(domain.WaiverGranted{DecidedOn: due.AddDays(45), Kind: domain.WaiverLateFee, AuthorityDoc: fmt.Sprint("D", i), Basis: "hardship",
					Insurance: domain.Pension, Period: p, AmountFen: 5000, AccruedFeeFen: 8000})
				p = p.Next()
			}
			e, asOf := l.Employers.Get("e1"), domain.MustDate("2007-06-30")
			profile := e.ProfileOn(asOf)
			q := Query{Period: domain.MustPeriod("2006-11"), AsOf: asOf}
			st := e.Account.Statement(asOf, l.Ref.LateFees)
			flagged := 0
			for _, f := range employerFlags("e1", e, &profile, &l.Ref, q, st) {
				if f.Kind == FlagWaiverReview {
					flagged++
				}
			}
			if flagged != n {
				b.Fatalf("%d waivers flagged for review, want all %d (each over half the fee)", flagged, n)
			}
			b.ReportAllocs()
			for b.Loop() {
				employerFlags("e1", e, &profile, &l.Ref, q, st)
			}
		})
	}
}
