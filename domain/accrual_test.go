package domain

import (
	"math/rand/v2"
	"testing"
)

// TestAccruedEachAnswersAsTheStatementOfEachDate folds random accounts (payment reversals in
// some, a year's compaction in others) and asks the fee of random lines on random dates, in any
// order and some twice: one fold for all must answer each as the statement of its date does.
func TestAccruedEachAnswersAsTheStatementOfEachDate(t *testing.T) {
	start := MustDate("2006-01-05")
	compacted := 0
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 23))
		e := fold(EmployerRegistered{Profile: Profile{Kind: KindEnterprise, County: "360702", RiskClass: 1}, RegisteredOn: start})
		for i := range 20 + rng.IntN(80) {
			on := start.AddDays(rng.IntN(330))
			e.Apply(Event{Envelope: Envelope{Seq: uint64(i + 2), N: uint64(i + 2)}, Body: randomMoneyEvent(rng, on, i, seed%3 == 0)})
		}
		if seed%2 == 1 && e.Compact(MustDate("2006-05-31"), MustPeriod("2006-06"), DefaultLateFees) {
			compacted++
		}
		from := max(start, e.Account.CompactedThrough()+1)
		qs := make([]Accrual, 1+rng.IntN(30))
		for i := range qs {
			period := MustPeriod("2005-11")
			for range rng.IntN(14) {
				period = period.Next()
			}
			qs[i] = Accrual{Line: LineKey{period, []Insurance{Pension, Medical}[rng.IntN(2)]}, On: from.AddDays(rng.IntN(500)), FeeFen: -1, Held: true}
			if i > 0 && rng.IntN(5) == 0 {
				qs[i] = qs[rng.IntN(i)]
			}
		}
		e.Account.AccruedEach(qs, DefaultLateFees)
		for _, q := range qs {
			st := e.Account.Statement(q.On, DefaultLateFees)
			l, held := st.Line(q.Line)
			if q.Held != held || q.FeeFen != l.LateFeeAccruedFen {
				t.Fatalf("seed %d: %s %s on %s: AccruedEach %d (held %v), statement %d (held %v)", seed, q.Line.Period, q.Line.Insurance, q.On, q.FeeFen, q.Held, l.LateFeeAccruedFen, held)
			}
		}
	}
	if compacted == 0 {
		t.Fatal("no account was compacted: the test asks no compacted account")
	}
}
