package domain

import (
	"fmt"
	"testing"
)

// BenchmarkHistoryDeclare folds the declarations of a payer that declared every month for
// 1, 3 and 20 years with no year closed, one declaration a period, as a replay does: the cost
// of keeping them should grow with their number, not its square.
func BenchmarkHistoryDeclare(b *testing.B) {
	for _, months := range []int{12, 36, 240} {
		b.Run(fmt.Sprintf("%d periods", months), func(b *testing.B) {
			ds := make([]DeclarationFiled, months)
			p := MustPeriod("2006-01")
			for i := range ds {
				ds[i] = DeclarationFiled{Period: p, DeclaredOn: p.LastDay(), Lines: []DeclaredLine{{Insurance: Pension, Headcount: 10, WageBaseFen: 1000000}}}
				p = p.Next()
			}
			b.ReportAllocs()
			for b.Loop() {
				var h History
				for _, d := range ds {
					h.declare(d)
				}
			}
		})
	}
}
