package demo_test

import (
	"testing"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// TestTheDemoLedgerGrowsFromItsIllustrativeBaseline: against the demo's 2005 baseline (its own
// figures before the campaign, demo.Baseline2005), a small demo ledger (3,000 payers) shows
// what the campaign did by the year's end: the city's three pension rates grew together, by
// plausible amounts for one campaign year, and coverage grew in nearly every county.
func TestTheDemoLedgerGrowsFromItsIllustrativeBaseline(t *testing.T) {
	l := replay(t, demo.Generate(demo.Config{Employers: 3000}))
	ref := reference()
	b := demo.Baseline2005()
	if err := domain.CheckReference(domain.BaselineSet{Baseline: b}, ref); err != nil {
		t.Fatal(err)
	}
	if len(b.Counties) != len(domain.DefaultCounties) {
		t.Errorf("the baseline has %d counties, want all %d", len(b.Counties), len(domain.DefaultCounties))
	}
	ref.Apply(domain.BaselineSet{Baseline: b})
	views := &projections.Ledger{Ref: *ref, Employers: projections.NewEmployerMap(), Order: l.order}
	for id, e := range l.employers {
		views.Employers.Set(id, e)
	}
	rep := views.Report(projections.Query{Period: domain.MustPeriod("2006-11"), AsOf: demo.Today})
	band := func(what string, got *int64, lo, hi int64) {
		t.Helper()
		if got == nil || *got < lo || *got > hi {
			t.Errorf("%s: %v bp, want %d to %d", what, got, lo, hi)
		} else {
			t.Logf("%s: %+d bp", what, *got)
		}
	}
	for _, ins := range domain.Insurances {
		g := rep.City.Insurances[ins].Growth
		if g == nil {
			t.Fatalf("the city has no %s growth", ins)
		}
		// The campaign (June to November) enrolls, chases arrears and audits: coverage gains
		// a few points, the contribution and collection rates more (April's are a first
		// month's, many payers not yet paying in full).
		band("city "+string(ins)+" coverage", g.CoverageGrowthBP, 100, 1500)
		band("city "+string(ins)+" contribution", g.ContributionGrowthBP, 0, 2000)
		band("city "+string(ins)+" collection", g.CollectionGrowthBP, 0, 2000)
	}
	if s := rep.City.Synchronised; s == nil || !*s {
		t.Errorf("the city's pension rates did not grow together: %v", s)
	}
	grew, synchronised := 0, 0
	for _, c := range rep.Counties {
		if g := c.Insurances[domain.Pension].Growth; g != nil && g.CoverageGrowthBP != nil && *g.CoverageGrowthBP > 0 {
			grew++
		}
		if c.Synchronised != nil && *c.Synchronised {
			synchronised++
		}
	}
	// The baseline is of the default ledger's 20,000 payers, where every county grew (+250 to
	// +970 bp of pension coverage, all three rates in every county); a ledger of 3,000 payers
	// draws a county's few hundred payers by chance, and a small county's rates scatter by
	// several points around the large ledger's.
	t.Logf("pension coverage grew in %d of %d counties, all three rates in %d", grew, len(rep.Counties), synchronised)
	if grew < 12 || synchronised < 5 {
		t.Errorf("pension coverage grew in %d of %d counties and all three rates in %d, want at least 12 and 5", grew, len(rep.Counties), synchronised)
	}
}
