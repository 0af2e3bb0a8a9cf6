package domain_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// sound is a statement that keeps every rule: a May line part paid, part waived, its late fee
// part paid and part waived, and a June line paid in full; 6,200 + 9,000 fen received.
func sound() (domain.Statement, domain.Fen) {
	asOf := domain.MustDate("2006-08-31")
	st := domain.Statement{AsOf: asOf, Lines: []domain.LineState{
		{Period: domain.MustPeriod("2006-05"), Insurance: domain.Pension, DueDate: domain.MustDate("2006-06-15"),
			DueFen: 10000, PaidFen: 6000, WaivedFen: 1000, OutstandingFen: 3000,
			LateFeeAccruedFen: 500, LateFeePaidFen: 200, LateFeeWaivedFen: 100, LateFeeFen: 200, RecoveredFen: 6000},
		{Period: domain.MustPeriod("2006-06"), Insurance: domain.Pension, DueDate: domain.MustDate("2006-07-15"),
			DueFen: 9000, PaidFen: 9000},
	}}
	st.Totals = domain.Totals{DueFen: 19000, PaidFen: 15000, WaivedFen: 1000, OutstandingFen: 3000, LateFeeFen: 200,
		ArrearsCurrentYearFen: 3000, RecoveredFen: 6000}
	return st, 6200 + 9000
}

func TestCheckStatementNamesEachBrokenRule(t *testing.T) {
	tests := []struct {
		name     string
		breakIt  func(st *domain.Statement, received *domain.Fen)
		wantRule string // "" for a statement that keeps every rule
	}{
		{"a sound statement keeps every rule", func(*domain.Statement, *domain.Fen) {}, ""},
		{"an amount of a line may not be negative", func(st *domain.Statement, _ *domain.Fen) {
			st.Lines[1].WaivedFen = -1
		}, domain.RuleNotNegative},
		{"paid and waived may not exceed the principal", func(st *domain.Statement, _ *domain.Fen) {
			st.Lines[0].WaivedFen, st.Lines[0].OutstandingFen = 4001, 0
		}, domain.RulePrincipalCovered},
		{"outstanding is the principal neither paid nor waived", func(st *domain.Statement, _ *domain.Fen) {
			st.Lines[0].OutstandingFen = 2999
		}, domain.RulePrincipalCovered},
		{"recovered principal is part of the principal paid", func(st *domain.Statement, _ *domain.Fen) {
			st.Lines[0].RecoveredFen = 6001
		}, domain.RuleRecoveredWithinPaid},
		{"late fee paid and waived may not exceed the fee accrued", func(st *domain.Statement, _ *domain.Fen) {
			st.Lines[0].LateFeeWaivedFen, st.Lines[0].LateFeeFen = 301, 0
			st.Lines[0].LateFeeAccruedFen = 500
		}, domain.RuleFeeCovered},
		{"the late fee owed is the fee accrued neither paid nor waived", func(st *domain.Statement, _ *domain.Fen) {
			st.Lines[0].LateFeeFen = 201
		}, domain.RuleFeeCovered},
		{"credit is not held while principal is outstanding", func(st *domain.Statement, received *domain.Fen) {
			st.Totals.CreditFen = 1
			*received++
		}, domain.RuleCreditOnlyWhenSettled},
		{"credit may not be negative", func(st *domain.Statement, received *domain.Fen) {
			st.Lines = st.Lines[1:]
			st.Totals = domain.Totals{DueFen: 9000, PaidFen: 9000, CreditFen: -5}
			*received = 9000 - 5
		}, domain.RuleNotNegative},
		{"the totals sum the lines", func(st *domain.Statement, _ *domain.Fen) {
			st.Totals.DueFen++
		}, domain.RuleTotals},
		{"the totals count settled sums too", func(st *domain.Statement, _ *domain.Fen) {
			st.Settled = []domain.Settled{{Group: "360702", Insurance: domain.Pension, DueFen: 100, PaidFen: 100}}
		}, domain.RuleTotals},
		{"a fen received and on no line nor in credit is money lost", func(_ *domain.Statement, received *domain.Fen) {
			*received++
		}, domain.RuleMoneyConserved},
		{"a fen on a line that was never received is money made up", func(_ *domain.Statement, received *domain.Fen) {
			*received--
		}, domain.RuleMoneyConserved},
		{"settled sums account for what they were paid", func(st *domain.Statement, received *domain.Fen) {
			st.Settled = []domain.Settled{{Group: "360702", Insurance: domain.Pension, DueFen: 100, PaidFen: 100, LateFeePaidFen: 7}}
			st.Totals.DueFen += 100
			st.Totals.PaidFen += 100
			*received += 107
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, received := sound()
			tt.breakIt(&st, &received)
			err := domain.CheckStatement(&st, received)
			var ie *domain.InvariantError
			switch {
			case tt.wantRule == "" && err != nil:
				t.Fatalf("CheckStatement: %v, want nil", err)
			case tt.wantRule == "":
			case !errors.As(err, &ie):
				t.Fatalf("CheckStatement: %v, want an *InvariantError of rule %s", err, tt.wantRule)
			case ie.Rule != tt.wantRule:
				t.Fatalf("CheckStatement broke rule %s (%v), want %s", ie.Rule, err, tt.wantRule)
			}
		})
	}
}

// foldPayloads applies payloads to a new employer as its events, numbered from 1.
func foldPayloads(payloads ...domain.Payload) *domain.Employer {
	e := &domain.Employer{}
	for i, p := range payloads {
		e.Apply(domain.Event{Envelope: domain.Envelope{EmployerID: "E", Seq: uint64(i + 1), N: uint64(i + 1)}, Body: p})
	}
	return e
}

func TestAFoldOfValidEventsKeepsTheInvariantsAndAccountsForEveryPayment(t *testing.T) {
	d := domain.MustDate
	decl := func(on, period string, due domain.Fen) domain.DeclarationFiled {
		p := domain.MustPeriod(period)
		return domain.DeclarationFiled{DeclaredOn: d(on), Period: p, DueOn: (&domain.Reference{}).DueDate(p),
			Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 1, DueFen: due}, {Insurance: domain.Medical, Headcount: 1, DueFen: due / 4}}}
	}
	e := foldPayloads(
		domain.EmployerRegistered{Profile: domain.Profile{Name: "甲", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: d("2006-04-03")},
		decl("2006-06-05", "2006-05", 10000),
		decl("2006-07-05", "2006-06", 12000),
		// Late: pays May's principal, some of June's and nothing of the fees.
		domain.PaymentReceived{PaidOn: d("2006-07-20"), AmountFen: 14000, ReceiptNo: "R1"},
		// Pays the rest of the principal, then late fees, then leaves credit.
		domain.PaymentReceived{PaidOn: d("2006-08-10"), AmountFen: 20000, ReceiptNo: "R2"},
		domain.PaymentReceived{PaidOn: d("2006-08-20"), AmountFen: 3000, ReceiptNo: "R3"},
		domain.PaymentReversed{ReversedOn: d("2006-08-25"), ReceiptNo: "R3", Reason: "bounced"},
		// A backdated payment, and an amendment that credit pays.
		domain.PaymentReceived{PaidOn: d("2006-06-20"), AmountFen: 500, ReceiptNo: "R4"},
		decl("2006-09-01", "2006-06", 13000),
	)
	for _, tt := range []struct {
		asOf     string
		received domain.Fen
	}{
		{"2006-06-19", 0},
		{"2006-06-20", 500},
		{"2006-07-31", 14500},
		{"2006-08-24", 37500},
		{"2006-08-25", 34500}, // the reversal undoes R3 from its own date on
		{"2006-12-31", 34500},
	} {
		t.Run(tt.asOf, func(t *testing.T) {
			got, ok := e.Account.Received(d(tt.asOf))
			if !ok || got != tt.received {
				t.Fatalf("Received(%s) = %d, %v; want %d", tt.asOf, got, ok, tt.received)
			}
			if err := e.Account.CheckInvariants(d(tt.asOf), domain.DefaultLateFees); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStatementViolationsReportsEveryBrokenRuleNotOnlyTheFirst(t *testing.T) {
	st, received := sound()
	st.Lines[0].RecoveredFen = 6001                            // recovered_within_paid
	st.Lines[1].LateFeePaidFen, st.Lines[1].LateFeeFen = 1, -1 // late fee over accrued, and a negative owed
	received++                                                 // the late fee paid was received
	got := map[string]int{}
	for _, v := range domain.StatementViolations(&st, received) {
		got[v.Rule]++
	}
	want := map[string]int{domain.RuleRecoveredWithinPaid: 1, domain.RuleFeeCovered: 1, domain.RuleNotNegative: 1, domain.RuleTotals: 1}
	for rule, n := range want {
		if got[rule] != n {
			t.Errorf("rule %s broken %d times, want %d (all: %v)", rule, got[rule], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rules broken: %v, want %v", got, want)
	}
}

// The line the amendment tests work on: 2006-05 pension of an enterprise registered on
// 2006-04-03, due 2006-06-15.
var (
	mayLine    = domain.MustPeriod("2006-05")
	enterprise = domain.EmployerRegistered{Profile: domain.Profile{Name: "甲", County: "360702", Kind: domain.KindEnterprise, RiskClass: 1}, RegisteredOn: domain.MustDate("2006-04-03")}
)

// mayPension is a declaration of 2006-05 pension on on, due.
func mayPension(on string, due domain.Fen) domain.DeclarationFiled {
	return domain.DeclarationFiled{DeclaredOn: domain.MustDate(on), Period: mayLine, DueOn: domain.MustDate("2006-06-15"),
		Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 1, DueFen: due}}}
}

// The amendments below lower a line's principal after it was paid or waived: the simulation
// (projections/simulation_test.go) found each of them breaking an invariant before book.settle
// gave back, or let lapse, what the lowered due no longer covers.
func TestAnAmendmentLoweringAPaidLineKeepsTheInvariants(t *testing.T) {
	d := domain.MustDate
	p, decl, reg := mayLine, mayPension, enterprise
	tests := []struct {
		name   string
		events []domain.Payload
	}{
		{"late fee paid on the old due is refunded when the due falls", []domain.Payload{reg, decl("2006-06-05", 10000),
			domain.PaymentReceived{PaidOn: d("2006-09-01"), AmountFen: 20000, ReceiptNo: "R1"}, decl("2006-09-10", 100)}},
		{"principal recovered falls with the principal paid refunded to credit", []domain.Payload{reg, decl("2006-06-05", 10000),
			domain.PaymentReceived{PaidOn: d("2006-07-01"), AmountFen: 10000, ReceiptNo: "R1"}, decl("2006-09-10", 100)}},
		{"a principal waiver is cut to the lowered due", []domain.Payload{reg, decl("2006-06-05", 10000),
			domain.WaiverGranted{DecidedOn: d("2006-07-01"), Kind: domain.WaiverPrincipal, Period: p, Insurance: domain.Pension, AmountFen: 5000},
			decl("2006-09-10", 1000)}},
		{"an amendment raising the due keeps the invariants", []domain.Payload{reg, decl("2006-06-05", 10000),
			domain.PaymentReceived{PaidOn: d("2006-09-01"), AmountFen: 20000, ReceiptNo: "R1"}, decl("2006-09-10", 30000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := foldPayloads(tt.events...).Account.CheckInvariants(d("2006-12-31"), domain.DefaultLateFees); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// What a lowered due gives back, worked by hand: 2006-05 pension declared at 10000 fen (due
// 2006-06-15), late fee 20 bp a day from 06-16.
func TestALoweredDueGivesBackWhatItNoLongerCovers(t *testing.T) {
	d := domain.MustDate
	p, decl, reg := mayLine, mayPension, enterprise
	for _, c := range []struct {
		name                                   string
		events                                 []domain.Payload
		paid, waived, recovered                domain.Fen
		feeAccrued, feePaid, feeWaived, credit domain.Fen
	}{
		{
			// 20000 on 09-01 pays 10000 principal and 77 days × 20 fen = 1540 fee, 8460 credit.
			// Lowered to 100 on 09-10: 9900 principal and 1525 fee (of 1540, as 100 fen accrues
			// 15.4 → 15) go back to credit; recovered is what still counts as paid.
			name:   "principal and late fee paid above the lowered due go back to credit",
			events: []domain.Payload{reg, decl("2006-06-05", 10000), domain.PaymentReceived{PaidOn: d("2006-09-01"), AmountFen: 20000, ReceiptNo: "R1"}, decl("2006-09-10", 100)},
			paid:   100, recovered: 100, feeAccrued: 15, feePaid: 15, credit: 8460 + 9900 + 1525,
		},
		{
			// A 5000 principal waiver on 07-01, then the due lowered to 1000: the waiver lapses to
			// 1000; the fee is 15 days × 1000 fen × 20 bp = 30.
			name:   "a principal waiver lapses to the lowered due",
			events: []domain.Payload{reg, decl("2006-06-05", 10000), domain.WaiverGranted{DecidedOn: d("2006-07-01"), Kind: domain.WaiverPrincipal, Period: p, Insurance: domain.Pension, AmountFen: 5000}, decl("2006-09-10", 1000)},
			waived: 1000, feeAccrued: 30,
		},
		{
			// 1540 of the fee waived on 09-01 (78 days × 20 fen = 1560 accrued by then); paid in
			// full on 09-02; lowered to 100 on 09-10, the 78 days accrue 15.6 → 16 fen and the
			// waiver lapses to that.
			name: "a late-fee waiver lapses to what the lowered due accrues",
			events: []domain.Payload{reg, decl("2006-06-05", 10000), domain.WaiverGranted{DecidedOn: d("2006-09-01"), Kind: domain.WaiverLateFee, Period: p, Insurance: domain.Pension, AmountFen: 1540},
				domain.PaymentReceived{PaidOn: d("2006-09-02"), AmountFen: 10000, ReceiptNo: "R1"}, decl("2006-09-10", 100)},
			paid: 100, recovered: 100, feeAccrued: 16, feeWaived: 16, credit: 9900,
		},
		{
			// Lowered on 09-10 and raised back on 09-11: the waiver stands again (a decision that
			// still stands); the one day it had lapsed bears a fee: 15 days × 10000 fen + 1 day ×
			// 9900 fen at 20 bp = 319.8 → 320.
			name:   "a principal waiver that lapsed is restored when the due is raised again",
			events: []domain.Payload{reg, decl("2006-06-05", 10000), domain.WaiverGranted{DecidedOn: d("2006-07-01"), Kind: domain.WaiverPrincipal, Period: p, Insurance: domain.Pension, AmountFen: 10000}, decl("2006-09-10", 100), decl("2006-09-11", 10000)},
			waived: 10000, feeAccrued: 320,
		},
		{
			// As the lapse case above, then raised back on 09-11: credit pays the 9900 again on
			// 09-11, the fee waiver is restored (1544 lapsed), and the one day 9900 was
			// outstanding (09-10) adds 19.8: 78 × 200 + 198 = 15798 → 1580, 20 owed.
			name: "a late-fee waiver that lapsed is restored when the due is raised again",
			events: []domain.Payload{reg, decl("2006-06-05", 10000), domain.WaiverGranted{DecidedOn: d("2006-09-01"), Kind: domain.WaiverLateFee, Period: p, Insurance: domain.Pension, AmountFen: 1560},
				domain.PaymentReceived{PaidOn: d("2006-09-02"), AmountFen: 10000, ReceiptNo: "R1"}, decl("2006-09-10", 100), decl("2006-09-11", 10000)},
			paid: 10000, recovered: 10000, feeAccrued: 1580, feeWaived: 1560,
		},
		{
			// Principal and fee paid in full on 09-01 (11540); lowered and raised back the same
			// day: everything given back is paid back, as if nothing had happened.
			name: "a due lowered and raised back the same day leaves the line as it was",
			events: []domain.Payload{reg, decl("2006-06-05", 10000), domain.PaymentReceived{PaidOn: d("2006-09-01"), AmountFen: 11540, ReceiptNo: "R1"},
				decl("2006-09-10", 100), decl("2006-09-10", 10000)},
			paid: 10000, recovered: 10000, feeAccrued: 1540, feePaid: 1540,
		},
		{
			// Paid in full on 09-01; lowered to 6000 on 09-10 (4000 principal and 616 of the 1540
			// fee back to credit: 6000 fen accrue 924); an audit adds 4000 back on 09-20: credit
			// pays the principal, then the fee given back. The 10 days 4000 was outstanding add
			// 80: 1540 + 80 = 1620 accrued.
			name: "late fee given back is paid back from credit when an audit raises the due again",
			events: []domain.Payload{reg, decl("2006-06-05", 10000), domain.PaymentReceived{PaidOn: d("2006-09-01"), AmountFen: 11540, ReceiptNo: "R1"}, decl("2006-09-10", 6000),
				domain.AuditFindingRecorded{FoundOn: d("2006-09-20"), Kind: domain.FindingUnderReportedBase, Period: p, Insurance: domain.Pension, DueFen: 4000, DueOn: d("2006-06-15"), RedeclareBy: d("2006-10-20")}},
			paid: 10000, recovered: 10000, feeAccrued: 1620, feePaid: 1540,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := foldPayloads(c.events...)
			if err := e.Account.CheckInvariants(d("2006-12-31"), domain.DefaultLateFees); err != nil {
				t.Fatal(err)
			}
			st := e.Account.Statement(d("2006-12-31"), domain.DefaultLateFees)
			l, ok := st.Line(domain.LineKey{Period: p, Insurance: domain.Pension})
			if !ok {
				t.Fatal("no line 2006-05 pension")
			}
			got := []domain.Fen{l.PaidFen, l.WaivedFen, l.RecoveredFen, l.LateFeeAccruedFen, l.LateFeePaidFen, l.LateFeeWaivedFen, st.Totals.CreditFen}
			want := []domain.Fen{c.paid, c.waived, c.recovered, c.feeAccrued, c.feePaid, c.feeWaived, c.credit}
			if !slices.Equal(got, want) {
				t.Fatalf("paid, waived, recovered, fee accrued, fee paid, fee waived, credit = %v, want %v", got, want)
			}
		})
	}
}
