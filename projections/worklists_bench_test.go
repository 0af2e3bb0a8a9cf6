package projections_test

import (
	"testing"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
)

// BenchmarkWorklist reads the worklist of the demo ledger (GET /v1/worklists's) for every county
// and for one, as a clerk's desk reads it again after each write while it is shown.
func BenchmarkWorklist(b *testing.B) {
	r, _ := demoRunner(b)
	cur := r.Current()
	for _, c := range []struct {
		name     string
		counties map[string]bool
	}{{"every-county", nil}, {"one-county", map[string]bool{"360702": true}}} {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = len(cur.Worklist(c.counties, demo.Today))
			}
			b.ReportMetric(float64(n), "items")
		})
	}
}
