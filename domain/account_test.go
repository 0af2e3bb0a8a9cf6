package domain

import (
	"maps"
	"testing"
)

// fold applies payloads to a new employer in recording order.
func fold(ps ...Payload) *Employer {
	e := &Employer{}
	for i, p := range ps {
		e.Apply(Event{Envelope: Envelope{Seq: uint64(i + 1), N: uint64(i + 1)}, Body: p})
	}
	return e
}

func declared(on, period string, ins Insurance, due Fen) DeclarationFiled {
	p := MustPeriod(period)
	ref := &Reference{}
	return DeclarationFiled{DeclaredOn: MustDate(on), Period: p, DueOn: ref.DueDate(p), Lines: []DeclaredLine{{Insurance: ins, DueFen: due}}}
}

func paid(on string, fen Fen, receipt string, allocs ...Allocation) PaymentReceived {
	return PaymentReceived{PaidOn: MustDate(on), AmountFen: fen, ReceiptNo: receipt, Allocations: allocs}
}

func TestLedgerArithmetic(t *testing.T) {
	reg := EmployerRegistered{Profile: Profile{Kind: KindEnterprise, County: "360702", RiskClass: 1}, RegisteredOn: MustDate("2006-01-05")}
	type want struct {
		period                      string
		ins                         Insurance
		due, paid, waived, out, fee Fen
		accrued                     Fen
	}
	tests := []struct {
		name   string
		events []Payload
		asOf   string
		lines  []want
		totals *Totals
	}{
		{
			name:   "late fee accrues from the day after the due date at 2‰ a day",
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000)},
			asOf:   "2006-05-25", // 10 days: 100000 × 20 × 10 / 10000 = 2000
			lines:  []want{{"2006-04", Pension, 100000, 0, 0, 100000, 2000, 2000}},
		},
		{
			name:   "no late fee on the due date itself",
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000)},
			asOf:   "2006-05-15",
			lines:  []want{{"2006-04", Pension, 100000, 0, 0, 100000, 0, 0}},
		},
		{
			name: "late fee rate changes to 0.5‰ on 2011-07-01",
			// 15 days in June at 20 bp, 10 days in July at 5 bp: 100000 × 350 / 10000 = 3500.
			events: []Payload{reg, declared("2011-05-20", "2011-05", Pension, 100000)},
			asOf:   "2011-07-10",
			lines:  []want{{"2011-05", Pension, 100000, 0, 0, 100000, 3500, 3500}},
		},
		{
			name: "a partial payment stops the fee on its part from the day of payment",
			// 9 days on 100000 and 7 days on 60000, at 20 bp: (18,000,000 + 8,400,000) / 10000 = 2640.
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000), paid("2006-05-25", 40000, "R1")},
			asOf:   "2006-05-31",
			lines:  []want{{"2006-04", Pension, 100000, 40000, 0, 60000, 2640, 2640}},
		},
		{
			name: "a late-fee waiver reduces the fee owed, not the fee accrued",
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000), paid("2006-05-25", 40000, "R1"),
				WaiverGranted{DecidedOn: MustDate("2006-05-31"), Kind: WaiverLateFee, Period: MustPeriod("2006-04"), Insurance: Pension, AmountFen: 1000}},
			asOf:  "2006-05-31",
			lines: []want{{"2006-04", Pension, 100000, 40000, 0, 60000, 1640, 2640}},
		},
		{
			name: "late fee is rounded half up once over the whole sum",
			// 12345 × 20 × 3 / 10000 = 74.07 → 74; day by day rounding would give 3 × 25 = 75.
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 12345)},
			asOf:   "2006-05-18",
			lines:  []want{{"2006-04", Pension, 12345, 0, 0, 12345, 74, 74}},
		},
		{
			name: "payments go to the oldest period first, pension before medical, and the rest is credit",
			events: []Payload{reg, declared("2006-05-01", "2006-04", Medical, 500), declared("2006-05-02", "2006-04", Pension, 1000),
				declared("2006-05-03", "2006-05", Pension, 1000), paid("2006-05-10", 2800, "R1")},
			asOf: "2006-05-10",
			lines: []want{{"2006-04", Pension, 1000, 1000, 0, 0, 0, 0}, {"2006-04", Medical, 0, 0, 0, 0, 0, 0},
				{"2006-05", Pension, 1000, 1000, 0, 0, 0, 0}},
			// The second declaration of 2006-04 replaced the first (medical only), so 800 is credit.
			totals: &Totals{DueFen: 2000, PaidFen: 2000, OutstandingFen: 0, CreditFen: 800},
		},
		{
			name:   "credit pays a new due on the day it is recorded",
			events: []Payload{reg, paid("2006-05-10", 300, "R1"), declared("2006-07-05", "2006-06", Pension, 1000)},
			asOf:   "2006-07-05",
			lines:  []want{{"2006-06", Pension, 1000, 300, 0, 700, 0, 0}},
			totals: &Totals{DueFen: 1000, PaidFen: 300, OutstandingFen: 700},
		},
		{
			name: "an explicit allocation pays its line before the oldest",
			events: []Payload{reg, declared("2006-05-01", "2006-04", Pension, 1000), declared("2006-06-01", "2006-05", Pension, 1000),
				paid("2006-06-02", 600, "R1", Allocation{Insurance: Pension, Period: MustPeriod("2006-05"), AmountFen: 600})},
			asOf: "2006-06-02",
			// 2006-04 is 18 days overdue on 06-02: 1000 × 20 × 18 / 10000 = 36.
			lines: []want{{"2006-04", Pension, 1000, 0, 0, 1000, 36, 36},
				{"2006-05", Pension, 1000, 600, 0, 400, 0, 0}},
		},
		{
			name: "after principal, a payment pays accrued late fees, then credit",
			// The fee stops on the day of payment: 9 days on 100000 = 1800; 102500 pays 100000 + 1800,
			// and 700 is credit.
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000), paid("2006-05-25", 102500, "R1")},
			asOf:   "2006-05-31",
			lines:  []want{{"2006-04", Pension, 100000, 100000, 0, 0, 0, 1800}},
			totals: &Totals{DueFen: 100000, PaidFen: 100000, CreditFen: 700, RecoveredFen: 100000},
		},
		{
			name: "a backdated payment changes the late fee from its date",
			// Recorded last but dated 05-20, it pays the principal first: the fee is 4 days on 100000
			// = 800, of which the 1 fen paid on 05-31 pays 1.
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000), paid("2006-05-31", 1, "R2"), paid("2006-05-20", 100000, "R1")},
			asOf:   "2006-05-31",
			lines:  []want{{"2006-04", Pension, 100000, 100000, 0, 0, 799, 800}},
		},
		{
			name: "a reversed payment counts as never made once reversed",
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000), paid("2006-05-10", 100000, "R1"),
				PaymentReversed{ReversedOn: MustDate("2006-05-20"), ReceiptNo: "R1"}},
			asOf:  "2006-05-25",
			lines: []want{{"2006-04", Pension, 100000, 0, 0, 100000, 2000, 2000}},
		},
		{
			name: "a reversal dated after as_of does not count yet",
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000), paid("2006-05-10", 100000, "R1"),
				PaymentReversed{ReversedOn: MustDate("2006-05-20"), ReceiptNo: "R1"}},
			asOf:  "2006-05-19",
			lines: []want{{"2006-04", Pension, 100000, 100000, 0, 0, 0, 0}},
		},
		{
			name: "a declaration settles an assessment; payments already made stay applied",
			events: []Payload{reg,
				AssessmentMade{AssessedOn: MustDate("2006-06-20"), Period: MustPeriod("2006-05"), Reason: AssessNoDeclaration, DueOn: MustDate("2006-06-15"), Lines: []AssessedLine{{Pension, 380247}}},
				paid("2006-06-20", 100000, "R1"), declared("2006-06-25", "2006-05", Pension, 300000)},
			asOf: "2006-06-25",
			// With the declared 300000: 4 days on 300000 (2400), then 6 days on 200000 (2400).
			lines: []want{{"2006-05", Pension, 300000, 100000, 0, 200000, 4800, 4800}},
		},
		{
			name: "an audit finding adds to the line, overdue from the original due date",
			// 28000 + 14000 = 42000 due 2006-06-15; 10 days to 06-25 at 20 bp: 840.
			events: []Payload{reg, declared("2006-06-01", "2006-05", Pension, 28000),
				AuditFindingRecorded{FoundOn: MustDate("2006-06-25"), Kind: FindingUnderReportedBase, Period: MustPeriod("2006-05"), Insurance: Pension, DueFen: 14000, DueOn: MustDate("2006-06-15")}},
			asOf:  "2006-06-25",
			lines: []want{{"2006-05", Pension, 42000, 0, 0, 42000, 840, 840}},
		},
		{
			name: "a principal waiver reduces outstanding principal and the fee from its date",
			events: []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000),
				WaiverGranted{DecidedOn: MustDate("2006-05-21"), Kind: WaiverPrincipal, Basis: "bankruptcy", Period: MustPeriod("2006-04"), Insurance: Pension, AmountFen: 100000}},
			asOf:  "2006-05-31",
			lines: []want{{"2006-04", Pension, 100000, 0, 100000, 0, 1000, 1000}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fold(tt.events...)
			st := e.Account.Statement(MustDate(tt.asOf), DefaultLateFees)
			for _, w := range tt.lines {
				l, ok := st.Line(LineKey{MustPeriod(w.period), w.ins})
				if !ok {
					t.Fatalf("no line %s %s in %+v", w.period, w.ins, st.Lines)
				}
				got := want{w.period, w.ins, l.DueFen, l.PaidFen, l.WaivedFen, l.OutstandingFen, l.LateFeeFen, l.LateFeeAccruedFen}
				if got != w {
					t.Errorf("line %s %s:\n got  due %d paid %d waived %d out %d fee %d accrued %d\n want due %d paid %d waived %d out %d fee %d accrued %d",
						w.period, w.ins, got.due, got.paid, got.waived, got.out, got.fee, got.accrued, w.due, w.paid, w.waived, w.out, w.fee, w.accrued)
				}
			}
			if tt.totals != nil {
				g := st.Totals
				w := *tt.totals
				if g.DueFen != w.DueFen || g.PaidFen != w.PaidFen || g.OutstandingFen != w.OutstandingFen || g.CreditFen != w.CreditFen || g.RecoveredFen != w.RecoveredFen {
					t.Errorf("totals %+v, want %+v", g, w)
				}
			}
		})
	}
}

func TestArrearsAgeAcrossTheYearEnd(t *testing.T) {
	e := fold(EmployerRegistered{RegisteredOn: MustDate("2006-01-05")}, declared("2006-12-01", "2006-11", Pension, 5000))
	st := e.Account.Statement(MustDate("2006-12-31"), DefaultLateFees)
	if st.Totals.ArrearsCurrentYearFen != 5000 || st.Totals.ArrearsPriorYearsFen != 0 {
		t.Fatalf("on 2006-12-31: %+v, want 5000 current-year arrears", st.Totals)
	}
	st = e.Account.Statement(MustDate("2007-01-10"), DefaultLateFees)
	if st.Totals.ArrearsCurrentYearFen != 0 || st.Totals.ArrearsPriorYearsFen != 5000 {
		t.Fatalf("on 2007-01-10: %+v, want 5000 prior-year arrears", st.Totals)
	}
	st = e.Account.Statement(MustDate("2006-12-15"), DefaultLateFees)
	if st.Totals.ArrearsCurrentYearFen != 0 {
		t.Fatalf("on the due date nothing is in arrears yet: %+v", st.Totals)
	}
}

func TestRecoveredCountsOnlyPrincipalPaidAfterItsDueDate(t *testing.T) {
	e := fold(EmployerRegistered{RegisteredOn: MustDate("2006-01-05")},
		declared("2006-05-01", "2006-04", Pension, 1000), declared("2006-06-01", "2006-05", Pension, 1000),
		paid("2006-06-10", 2000, "R1"))
	st := e.Account.Statement(MustDate("2006-06-30"), DefaultLateFees)
	// 2006-04 was due 05-15 (overdue when paid), 2006-05 is due 06-15 (not yet).
	if st.Totals.RecoveredFen != 1000 {
		t.Fatalf("recovered %d, want 1000", st.Totals.RecoveredFen)
	}
}

func TestOverdueAtEachDateEqualsAStatementAsOfThatDate(t *testing.T) {
	reg := EmployerRegistered{Profile: Profile{Kind: KindEnterprise, County: "360702", RiskClass: 1}, RegisteredOn: MustDate("2006-01-05")}
	dates := []Date{MustDate("2006-05-31"), MustDate("2006-06-30"), MustDate("2006-07-31"), MustDate("2006-08-31")}
	for _, tt := range []struct {
		name   string
		events []Payload
	}{
		{"partial and late payments", []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000), declared("2006-06-10", "2006-05", Pension, 90000),
			paid("2006-06-20", 50000, "R1"), paid("2006-07-20", 150000, "R2")}},
		{"a reversal is replayed per date", []Payload{reg, declared("2006-05-10", "2006-04", Pension, 100000), paid("2006-06-01", 100000, "R1"),
			PaymentReversed{ReversedOn: MustDate("2006-07-05"), ReceiptNo: "R1"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := fold(tt.events...)
			got := e.Account.OverdueAt(dates, DefaultLateFees)
			for i, d := range dates {
				var want, sum Fen
				for _, l := range e.Account.Statement(d, DefaultLateFees).Lines {
					if l.DueDate < d {
						want += l.OutstandingFen
					}
				}
				for _, o := range got[i] {
					sum += o.OutstandingFen
				}
				if sum != want {
					t.Errorf("%s: overdue %d, statement says %d", d, sum, want)
				}
			}
		})
	}
}

// TestRecoveredInYearIsWhatWasRecoveredInTheStatementsYear: 清欠率 counts the principal
// recovered (paid after its line's due date) in the year of the date it is read for.
func TestRecoveredInYearIsWhatWasRecoveredInTheStatementsYear(t *testing.T) {
	reg := EmployerRegistered{Profile: Profile{Kind: KindEnterprise, County: "360702", RiskClass: 1}, RegisteredOn: MustDate("2006-04-03")}
	opening := OpeningBalanceRecorded{AsOf: MustDate("2006-04-03"), Lines: []OpeningLine{
		{Period: MustPeriod("2005-12"), Insurance: Pension, OutstandingFen: 50000, DueOn: MustDate("2006-01-15")}}}
	alloc := func(period string, fen Fen) Allocation {
		return Allocation{Insurance: Pension, Period: MustPeriod(period), AmountFen: fen}
	}
	tests := []struct {
		name   string
		events []Payload
		asOf   string
		period string
		// recovered and inYear are the line's RecoveredFen and RecoveredInYearFen.
		recovered, inYear Fen
	}{
		{"an opening balance paid in 2006 is 2006's recovery", []Payload{reg, opening, paid("2006-09-10", 20000, "R1", alloc("2005-12", 20000))},
			"2006-12-31", "2005-12", 20000, 20000},
		{"and none of 2007's", []Payload{reg, opening, paid("2006-09-10", 20000, "R1", alloc("2005-12", 20000))},
			"2007-02-28", "2005-12", 20000, 0},
		{"a payment in 2007 is 2007's recovery, beside 2006's", []Payload{reg, opening, paid("2006-09-10", 20000, "R1", alloc("2005-12", 20000)),
			paid("2007-03-01", 10000, "R2", alloc("2005-12", 10000))}, "2007-03-31", "2005-12", 30000, 10000},
		{"a December line paid on time in January recovers nothing", []Payload{reg, declared("2007-01-05", "2006-12", Pension, 89600),
			paid("2007-01-10", 89600, "R1")}, "2007-03-31", "2006-12", 0, 0},
		{"a November line paid after its due date in January is January's recovery", []Payload{reg, declared("2006-12-05", "2006-11", Pension, 42000),
			paid("2007-01-20", 42000, "R1")}, "2007-03-31", "2006-11", 42000, 42000},
		{"nothing is recovered before the payment", []Payload{reg, declared("2006-12-05", "2006-11", Pension, 42000),
			paid("2007-01-20", 42000, "R1")}, "2006-12-31", "2006-11", 0, 0},
		// 10000 paid late on 2007-01-20, then the due amended from 10000 to 4000 on 2007-02-01:
		// 6000 goes back to credit and is no longer recovered.
		{"principal given back to credit is recovered no more", []Payload{reg, declared("2006-12-05", "2006-11", Pension, 10000),
			paid("2007-01-20", 10000, "R1"), declared("2007-02-01", "2006-11", Pension, 4000)}, "2007-03-31", "2006-11", 4000, 4000},
		// Recovered late in 2006 (12-30) and given back in 2007: 2007 recovered nothing to lose.
		{"what goes back in a later year leaves that year's recovery at 0", []Payload{reg, declared("2006-12-05", "2006-11", Pension, 10000),
			paid("2006-12-30", 10000, "R1"), declared("2007-02-01", "2006-11", Pension, 4000)}, "2007-03-31", "2006-11", 4000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := fold(tt.events...).Account.Statement(MustDate(tt.asOf), DefaultLateFees)
			l, ok := st.Line(LineKey{Period: MustPeriod(tt.period), Insurance: Pension})
			if !ok {
				t.Fatalf("no line %s pension as of %s", tt.period, tt.asOf)
			}
			if l.RecoveredFen != tt.recovered || l.RecoveredInYearFen != tt.inYear {
				t.Errorf("as of %s: recovered %d, in the year %d; want %d and %d", tt.asOf, l.RecoveredFen, l.RecoveredInYearFen, tt.recovered, tt.inYear)
			}
		})
	}
}

// A later declaration of a period replaces the earlier one: an insurance it no longer lists is
// dropped, and stands again when declared again or when an audit adds to it.
func TestALineADeclarationNoLongerListsIsDropped(t *testing.T) {
	both := func(on string, a, b Insurance) DeclarationFiled {
		d := declared(on, "2006-05", a, 2800)
		d.Lines = append(d.Lines, DeclaredLine{Insurance: b, DueFen: 200})
		return d
	}
	dropped := func(e *Employer) map[Insurance]bool {
		out := map[Insurance]bool{}
		for _, l := range e.Account.Statement(MustDate("2006-06-30"), DefaultLateFees).Lines {
			out[l.Insurance] = l.Dropped
		}
		return out
	}
	reg := EmployerRegistered{RegisteredOn: MustDate("2006-01-05")}
	wrong := both("2006-06-05", Pension, Unemployment)
	right := both("2006-06-06", Pension, Medical)
	audit := AuditFindingRecorded{FoundOn: MustDate("2006-06-20"), Period: MustPeriod("2006-05"), Insurance: Unemployment, DueFen: 50}
	for _, c := range []struct {
		name   string
		events []Payload
		want   map[Insurance]bool
	}{
		{"a declaration's lines stand", []Payload{reg, wrong}, map[Insurance]bool{Pension: false, Unemployment: false}},
		{"an insurance the replacing declaration leaves out is dropped", []Payload{reg, wrong, right},
			map[Insurance]bool{Pension: false, Unemployment: true, Medical: false}},
		{"declared again it stands again", []Payload{reg, wrong, right, both("2006-06-07", Medical, Unemployment)},
			map[Insurance]bool{Pension: true, Unemployment: false, Medical: false}},
		{"an audit addition makes it stand", []Payload{reg, wrong, right, audit},
			map[Insurance]bool{Pension: false, Unemployment: false, Medical: false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := dropped(fold(c.events...)); !maps.Equal(got, c.want) {
				t.Errorf("dropped %v, want %v", got, c.want)
			}
		})
	}
}

// A dropped line kept through a year-end compaction (its period kept, keepFrom) is still
// dropped after it, and after the account is written and read back as the views' snapshot does.
func TestADroppedLineStaysDroppedThroughACompactionAndASnapshot(t *testing.T) {
	both := declared("2006-06-05", "2006-05", Pension, 2800)
	both.Lines = append(both.Lines, DeclaredLine{Insurance: Unemployment, DueFen: 200})
	e := fold(EmployerRegistered{RegisteredOn: MustDate("2006-01-05")}, both, declared("2006-06-06", "2006-05", Pension, 2800))
	dropped := func(a *Account) map[Insurance]bool {
		out := map[Insurance]bool{}
		for _, l := range a.Statement(MustDate("2007-01-31"), DefaultLateFees).Lines {
			out[l.Insurance] = l.Dropped
		}
		return out
	}
	want := map[Insurance]bool{Pension: false, Unemployment: true}
	if _, ok := e.Account.Compact(MustDate("2006-12-31"), MustPeriod("2006-01"), DefaultLateFees, func(Period) string { return "" }); !ok || e.Account.CompactedThrough() == 0 {
		t.Fatal("the account was not compacted")
	}
	if got := dropped(&e.Account); !maps.Equal(got, want) {
		t.Errorf("after the compaction: dropped %v, want %v", got, want)
	}
	var back Account
	if err := back.readState(e.Account.appendState(nil)); err != nil {
		t.Fatal(err)
	}
	if got := dropped(&back); !maps.Equal(got, want) {
		t.Errorf("read back: dropped %v, want %v", got, want)
	}
}

// Credit paying a line's principal on d lowers d's late fee on it, and what was paid of that fee
// comes back to credit: it pays the principal still outstanding, here or on another line, as
// the rest of the credit did (found by simulation seed 415: 34 fen of credit held while 4,740 fen
// of 2006-04 maternity was outstanding, after a declaration of 2006-04 dropped two insurances).
func TestCreditAFeeGivesBackPaysThePrincipalStillOutstanding(t *testing.T) {
	ref := &Reference{}
	set := func(on, period string, ls ...any) DeclarationFiled {
		p := MustPeriod(period)
		d := DeclarationFiled{DeclaredOn: MustDate(on), Period: p, DueOn: ref.DueDate(p)}
		for i := 0; i < len(ls); i += 2 {
			d.Lines = append(d.Lines, DeclaredLine{Insurance: ls[i].(Insurance), DueFen: Fen(ls[i+1].(int))})
		}
		return d
	}
	alloc := func(ins Insurance, p string, f Fen) Allocation {
		return Allocation{Insurance: ins, Period: MustPeriod(p), AmountFen: f}
	}
	e := fold(EmployerRegistered{RegisteredOn: MustDate("2006-01-05")},
		paid("2006-04-29", 15557, "R1"),
		PaymentReversed{ReversedOn: MustDate("2006-05-31"), ReceiptNo: "R1"},
		set("2006-06-03", "2006-04", Unemployment, 59946, Medical, 494461, Maternity, 46885),
		set("2006-09-03", "2006-04", Medical, 0, Maternity, 37256),
		set("2006-09-25", "2006-02", Pension, 945603, Unemployment, 90456, Medical, 147490, WorkInjury, 65569),
		set("2006-10-09", "2006-09", Medical, 145535),
		paid("2006-09-05", 11745, "R2", alloc(Unemployment, "2006-04", 3411)),
		OpeningBalanceRecorded{AsOf: MustDate("2006-07-25"), Lines: []OpeningLine{{Period: MustPeriod("2006-02"), Insurance: Medical, OutstandingFen: 80371, DueOn: ref.DueDate(MustPeriod("2006-02"))}}},
		paid("2006-12-09", 2245051, "R3"),
		paid("2006-12-17", 59276, "R4", alloc(Medical, "2006-04", 29332)),
		set("2006-10-01", "2006-02", Pension, 1993350, WorkInjury, 42786),
		PaymentReversed{ReversedOn: MustDate("2006-12-12"), ReceiptNo: "R3"},
		paid("2007-01-08", 3530737, "R5"),
		set("2007-02-11", "2006-04", Pension, 1631146, Unemployment, 9156),
		set("2007-03-10", "2006-04", Medical, 188849, WorkInjury, 78957),
		paid("2007-04-03", 378467, "R7"),
		set("2007-04-07", "2006-04", Pension, 331279, Unemployment, 76135, Maternity, 22173),
	)
	for _, d := range []string{"2007-04-07", "2007-07-06"} {
		if v := e.Account.Violations(MustDate(d), DefaultLateFees); len(v) != 0 {
			t.Errorf("as of %s: %v", d, v)
		}
	}
}
