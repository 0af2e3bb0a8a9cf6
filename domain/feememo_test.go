package domain

import (
	"cmp"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestAPaidOffLinesRememberedFeeIsTheFeeSummedAgain(t *testing.T) {
	r := rand.New(rand.NewPCG(2011, 7))
	fees := DefaultLateFees
	remembered := 0
	for trial := range 300 {
		l := bookLine{dueOn: MustDate("2009-05-15") + Date(r.IntN(900)), base: Fen(1 + r.IntN(500000))}
		d := l.dueOn - 30
		for step := range 40 {
			switch r.IntN(6) {
			case 0:
				d += Date(r.IntN(90))
				l.reductions = append(l.reductions, reduction{d, Fen(r.IntN(int(l.principal()) + 1))})
			case 1:
				d += Date(r.IntN(90))
				l.reductions = append(l.reductions, reduction{d, l.outstandingByReductions()})
			case 2:
				d += Date(r.IntN(30))
				l.reductions = append(l.reductions, reduction{d, -Fen(r.IntN(1000))})
			case 3:
				l.audit += Fen(r.IntN(20000))
			}
			at := d + Date(r.IntN(400))
			fresh := l
			fresh.settled = feeMemo{}
			if got, want := l.feeAccrued(at, fees), fresh.feeAccrued(at, fees); got != want {
				t.Fatalf("trial %d step %d: fee through %s %s, summed again %s", trial, step, at, got, want)
			}
			if l.settled.reductions > 0 {
				remembered++
			}
		}
	}
	if remembered == 0 {
		t.Fatal("no paid-off line's fee was remembered")
	}
}

// outstandingByReductions is what the line's reductions leave of its principal.
func (l *bookLine) outstandingByReductions() Fen {
	out := l.principal()
	for _, x := range l.reductions {
		out -= x.amount
	}
	return max(out, 0)
}

// BenchmarkTotalsAfterEachEvent replays ten years of a payer (a declaration of five insurances
// and a payment a month, one in four paid late) asking for the totals after each event, as an
// auditor's history does.
func BenchmarkTotalsAfterEachEvent(b *testing.B) {
	type dated struct {
		on   Date
		body Payload
	}
	var events []dated
	r := rand.New(rand.NewPCG(2006, 2015))
	for p := MustPeriod("2006-01"); p <= MustPeriod("2015-12"); p++ {
		decl := DeclarationFiled{DeclaredOn: p.Next().FirstDay() + 9, Period: p, DueOn: p.Next().FirstDay() + 14}
		var due Fen
		for _, ins := range Insurances {
			decl.Lines = append(decl.Lines, DeclaredLine{Insurance: ins, Headcount: 12, WageBaseFen: 1200000, RateBP: 200, DueFen: 24000})
			due += 24000
		}
		paid := decl.DueOn - 2
		if r.IntN(4) == 0 {
			paid += Date(10 + r.IntN(200))
		}
		events = append(events, dated{decl.DeclaredOn, decl}, dated{paid, PaymentReceived{PaidOn: paid, AmountFen: due, ReceiptNo: fmt.Sprintf("R-%d", p)}})
	}
	slices.SortStableFunc(events, func(x, y dated) int { return cmp.Compare(x.on, y.on) })
	b.ReportAllocs()
	for b.Loop() {
		var a Account
		rp := NewReplay(DefaultLateFees)
		for i, ev := range events {
			a.record(uint64(i+1), ev.body)
			rp.TotalsOn(&a, ev.on)
		}
	}
	b.ReportMetric(float64(len(events)), "events")
}

// BenchmarkStatementOfTenYears computes, at the end of each month of ten years, the statement
// of a payer (a declaration of five insurances and a payment a month), as the generator and the
// views do.
func BenchmarkStatementOfTenYears(b *testing.B) {
	a := tenYearsAccount(func(month int) Date { return Date(month % 3 * 20) })
	b.ReportAllocs()
	for b.Loop() {
		for p := MustPeriod("2015-01"); p <= MustPeriod("2015-12"); p++ {
			a.Statement(p.Next().FirstDay()-1, DefaultLateFees)
		}
	}
}

// BenchmarkCompactAtYearEnd compacts, through the end of 2014, a payer's ten years (as
// BenchmarkStatementOfTenYears builds them, with one month a year paid late and left owing its
// late fee), as a closing does for every payer.
func BenchmarkCompactAtYearEnd(b *testing.B) {
	a := tenYearsAccount(func(month int) Date { return Date(month % 12 / 11 * 40) })
	through := MustDate("2014-12-31")
	group := func(Period) string { return "360702" }
	b.ReportAllocs()
	for b.Loop() {
		c := *a
		if _, ok := c.Compact(through, MustPeriod("2014-12"), DefaultLateFees, group); !ok {
			b.Fatal("Compact refused")
		}
	}
}

// tenYearsAccount is a payer's account over 2006-2015: five insurances declared every month and
// paid in one payment, late(month) days after the due date (month counts from 0).
func tenYearsAccount(late func(month int) Date) *Account {
	a := new(Account)
	for i, p := 0, MustPeriod("2006-01"); p <= MustPeriod("2015-12"); i, p = i+1, p+1 {
		decl := DeclarationFiled{DeclaredOn: p.Next().FirstDay() + 9, Period: p, DueOn: p.Next().FirstDay() + 14}
		for _, ins := range Insurances {
			decl.Lines = append(decl.Lines, DeclaredLine{Insurance: ins, Headcount: 12, WageBaseFen: 1200000, RateBP: 200, DueFen: 24000})
		}
		a.record(uint64(2*i+1), decl)
		a.record(uint64(2*i+2), PaymentReceived{PaidOn: decl.DueOn + late(i), AmountFen: 5 * 24000, ReceiptNo: fmt.Sprintf("R-%d", p)})
	}
	return a
}

// A late fee is counted exactly however far its as_of lies: the fee of the largest principal a
// line can hold through 9999-12-31 passes int64 before its division by 10,000 and was read as 0.
func TestTheLateFeeOfALargePrincipalOverCenturiesIsCountedNotZero(t *testing.T) {
	l := bookLine{dueOn: MustDate("2006-06-15"), base: 1_000_000_000_000, audit: 1_000_000_000_000, opening: 1_000_000_000_000}
	prev := Fen(0)
	for _, at := range []string{"2007-01-01", "7000-01-01", "7100-01-01", "8000-01-01", "9999-12-31"} {
		d := MustDate(at)
		n := new(big.Int).Mul(big.NewInt(int64(l.principal())), big.NewInt(bpDays(l.dueOn+1, d, DefaultLateFees)))
		want := new(big.Int).Quo(n.Add(n, big.NewInt(5000)), big.NewInt(10000))
		got := l.feeAccrued(d, DefaultLateFees)
		if !want.IsInt64() || int64(got) != want.Int64() {
			t.Errorf("the fee through %s is %d, want %s", at, got, want)
		}
		if got <= prev {
			t.Errorf("the fee through %s (%d) is not more than the one before (%d)", at, got, prev)
		}
		prev = got
	}
}
