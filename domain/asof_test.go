package domain

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// randomMoneyEvent makes one event of an employer registered on 2006-01-05, dated on.
func randomMoneyEvent(rng *rand.Rand, on Date, n int, reversals bool) Payload {
	period := MustPeriod("2006-01")
	for range rng.IntN(10) {
		period = period.Next()
	}
	ins := []Insurance{Pension, Medical}[rng.IntN(2)]
	due := (&Reference{}).DueDate(period)
	switch k := rng.IntN(12); {
	case k < 3:
		return DeclarationFiled{DeclaredOn: on, Period: period, DueOn: due, Lines: []DeclaredLine{{Insurance: ins, DueFen: Fen(1000 + rng.IntN(90000))}}}
	case k == 3:
		return AssessmentMade{AssessedOn: on, Period: period, DueOn: due, Reason: "no_declaration", Lines: []AssessedLine{{Insurance: ins, DueFen: Fen(1000 + rng.IntN(90000))}}}
	case k == 4:
		return AuditFindingRecorded{FoundOn: on, Kind: FindingUnderReportedBase, Period: period, Insurance: ins, DueFen: Fen(100 + rng.IntN(9000)), DueOn: due}
	case k == 5:
		return OpeningBalanceRecorded{AsOf: on, Lines: []OpeningLine{{Period: MustPeriod("2005-11"), Insurance: ins, OutstandingFen: Fen(rng.IntN(50000)), DueOn: MustDate("2005-12-15")}}}
	case k < 9:
		p := PaymentReceived{PaidOn: on, AmountFen: Fen(100 + rng.IntN(80000)), ReceiptNo: fmt.Sprint("R", n)}
		if rng.IntN(3) == 0 {
			p.Allocations = []Allocation{{Insurance: ins, Period: period, AmountFen: Fen(rng.IntN(20000))}}
		}
		return p
	case k == 9:
		if reversals {
			return PaymentReversed{ReversedOn: on, ReceiptNo: fmt.Sprint("R", rng.IntN(n+1))}
		}
		return WaiverGranted{DecidedOn: on, Kind: WaiverPrincipal, Insurance: ins, Period: period, AmountFen: Fen(rng.IntN(5000))}
	case k == 10:
		return WaiverGranted{DecidedOn: on, Kind: WaiverLateFee, Insurance: ins, Period: period, AmountFen: Fen(rng.IntN(3000))}
	}
	return SurveyCounted{AsOf: on, Workforce: 10}
}

// TestReplayGivesTheStatementOfTheAccountFoldedSoFar folds random accounts event by event,
// mostly in business-date order with backdated events and earlier dates asked now and then, and
// checks the replay's totals against a statement computed from scratch at every step.
func TestReplayGivesTheStatementOfTheAccountFoldedSoFar(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 16))
		reversals := seed%4 == 0
		e := fold(EmployerRegistered{Profile: Profile{Kind: KindEnterprise, County: "360702", RiskClass: 1}, RegisteredOn: MustDate("2006-01-05")})
		r := NewReplay(DefaultLateFees)
		cursor := MustDate("2006-01-05")
		for i := range 20 + rng.IntN(80) {
			on := cursor.AddDays(rng.IntN(20))
			if rng.IntN(6) == 0 {
				on = MustDate("2006-01-05").AddDays(rng.IntN(int(cursor-MustDate("2006-01-05")) + 1))
			}
			cursor = max(cursor, on)
			e.Apply(Event{Envelope: Envelope{Seq: uint64(i + 2), N: uint64(i + 2)}, Body: randomMoneyEvent(rng, on, i, reversals)})
			asked := on
			if rng.IntN(8) == 0 {
				asked = MustDate("2006-01-05").AddDays(rng.IntN(400))
			}
			if got, want := r.TotalsOn(&e.Account, asked), e.Account.Statement(asked, DefaultLateFees).Totals; got != want {
				t.Fatalf("seed %d, event %d, as of %s: replay %+v, statement %+v", seed, i, asked, got, want)
			}
		}
		end := MustDate("2026-06-30")
		if got, want := r.TotalsOn(&e.Account, end), e.Account.Statement(end, DefaultLateFees).Totals; got != want {
			t.Fatalf("seed %d, as of %s: replay %+v, statement %+v", seed, end, got, want)
		}
	}
}

// A replay sums a paid-off line once (book.totals); every entry that changes such a line must take
// it out of that sum again.
func TestAReplayCountsAPaidOffLineAgainOnceAnEntryChangesIt(t *testing.T) {
	reg := EmployerRegistered{Profile: Profile{Kind: KindEnterprise, County: "360702", RiskClass: 1}, RegisteredOn: MustDate("2006-01-05")}
	paidLate := []Payload{reg, declared("2006-02-10", "2006-01", Pension, 50000), PaymentReceived{PaidOn: MustDate("2006-03-20"), AmountFen: 50000, ReceiptNo: "R1"}}
	for _, c := range []struct {
		name  string
		on    string
		later Payload
	}{
		{"an amendment dropping the insurance refunds its principal", "2006-04-10", declared("2006-04-10", "2006-01", Medical, 30000)},
		{"an amendment raising the base", "2006-04-10", declared("2006-04-10", "2006-01", Pension, 80000)},
		{"an audit finding", "2006-04-12", AuditFindingRecorded{FoundOn: MustDate("2006-04-12"), Kind: FindingUnderReportedBase, Period: MustPeriod("2006-01"), Insurance: Pension, DueFen: 7000, DueOn: MustDate("2006-04-30")}},
		{"a late-fee payment", "2006-04-15", PaymentReceived{PaidOn: MustDate("2006-04-15"), AmountFen: 300, ReceiptNo: "R2"}},
		{"a late-fee waiver", "2006-04-15", WaiverGranted{DecidedOn: MustDate("2006-04-15"), Kind: WaiverLateFee, Insurance: Pension, Period: MustPeriod("2006-01"), AmountFen: 100}},
		{"an opening balance of the period", "2006-04-15", OpeningBalanceRecorded{AsOf: MustDate("2006-04-15"), Lines: []OpeningLine{{Period: MustPeriod("2006-01"), Insurance: Pension, OutstandingFen: 9000, DueOn: MustDate("2006-02-15")}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := fold(paidLate...)
			r := NewReplay(DefaultLateFees)
			for _, d := range []string{"2006-03-20", "2006-03-31"} {
				if got, want := r.TotalsOn(&e.Account, MustDate(d)), e.Account.Statement(MustDate(d), DefaultLateFees).Totals; got != want {
					t.Fatalf("as of %s: replay %+v, statement %+v", d, got, want)
				}
			}
			e.Apply(Event{Envelope: Envelope{Seq: 9, N: 4}, Body: c.later})
			for _, d := range []string{c.on, "2006-12-31"} {
				if got, want := r.TotalsOn(&e.Account, MustDate(d)), e.Account.Statement(MustDate(d), DefaultLateFees).Totals; got != want {
					t.Fatalf("after it, as of %s: replay %+v, statement %+v", d, got, want)
				}
			}
		})
	}
}
