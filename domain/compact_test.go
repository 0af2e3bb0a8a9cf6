package domain_test

import (
	"reflect"
	"testing"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
)

// demoEvents folds the demo generator's steps into each employer's events, in order.
func demoEvents(t *testing.T, payers int) (map[string][]domain.Event, []string) {
	t.Helper()
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	ctx := domain.Context{Ref: ref, Today: demo.Today}
	states := map[string]*domain.Employer{}
	events := map[string][]domain.Event{}
	var order []string
	var seq uint64
	for i, st := range demo.Generate(demo.Config{Employers: payers, Seed: 13}) {
		e := states[st.EmployerID]
		if e == nil {
			e = &domain.Employer{}
			states[st.EmployerID] = e
			order = append(order, st.EmployerID)
		}
		if err := st.Command.Check(ctx); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		payloads, err := st.Command.Decide(e, ctx)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for _, p := range payloads {
			seq++
			ev := domain.Event{Envelope: domain.Envelope{EmployerID: st.EmployerID, Seq: seq, N: e.N + 1, OccurredOn: st.Command.Date()}, Body: p}
			e.Apply(ev)
			events[st.EmployerID] = append(events[st.EmployerID], ev)
		}
	}
	return events, order
}

func fold(evs []domain.Event) *domain.Employer {
	e := &domain.Employer{}
	for _, ev := range evs {
		e.Apply(ev)
	}
	return e
}

// compactedAt folds an employer's events dated on or before d, compacts it through d, then folds
// the rest; when an event needs what compaction folded away it folds all again and compacts, as
// the views do.
func compactedAt(evs []domain.Event, d domain.Date, keepFrom domain.Period, fees []domain.LateFeeRate) *domain.Employer {
	e := &domain.Employer{}
	compacted := false
	for i, ev := range evs {
		if !compacted && ev.OccurredOn > d {
			e.Compact(d, keepFrom, fees)
			compacted = true
		}
		e.Apply(ev)
		if e.Account.Stale {
			e = fold(evs[:i+1])
			e.Compact(d, keepFrom, fees)
		}
	}
	if !compacted {
		e.Compact(d, keepFrom, fees)
	}
	return e
}

// TestCompactionChangesNoStatementAfterTheBoundary folds every demo payer twice, once whole and
// once compacted at a boundary, and compares their statements at dates after it: the totals are
// equal; the lines that left are exactly the settled lines of periods before keepFrom, and their
// money is what Settled sums.
func TestCompactionChangesNoStatementAfterTheBoundary(t *testing.T) {
	fees := domain.DefaultLateFees
	events, order := demoEvents(t, 150)
	for _, b := range []struct{ through, keepFrom string }{{"2006-06-30", "2006-05"}, {"2006-09-30", "2006-08"}} {
		through, keepFrom := domain.MustDate(b.through), domain.MustPeriod(b.keepFrom)
		compacted, kept, left := 0, 0, 0
		for _, id := range order {
			whole := fold(events[id])
			c := compactedAt(events[id], through, keepFrom, fees)
			if c.Account.CompactedThrough() == through {
				compacted++
			}
			for _, asOf := range []domain.Date{through.AddDays(1), through.AddDays(45), demo.Today} {
				want, got := whole.Account.Statement(asOf, fees), c.Account.Statement(asOf, fees)
				if got.Totals != want.Totals {
					t.Fatalf("%s through %s: totals as of %s:\n got  %+v\n want %+v", id, through, asOf, got.Totals, want.Totals)
				}
				var sum domain.Settled
				for _, l := range want.Lines {
					g, ok := got.Line(domain.LineKey{Period: l.Period, Insurance: l.Insurance})
					switch {
					case ok && g != l:
						t.Fatalf("%s through %s: line %s %s as of %s: got %+v, want %+v", id, through, l.Period, l.Insurance, asOf, g, l)
					case ok:
						kept++
					case l.OutstandingFen != 0 || l.LateFeeFen != 0 || l.Period >= keepFrom:
						t.Fatalf("%s through %s: line %s %s left though open or kept: %+v", id, through, l.Period, l.Insurance, l)
					default:
						left++
						sum.DueFen += l.DueFen
						sum.PaidFen += l.PaidFen
						sum.RecoveredFen += l.RecoveredFen
					}
				}
				var settled domain.Settled
				for _, s := range got.Settled {
					settled.DueFen += s.DueFen
					settled.PaidFen += s.PaidFen
					settled.RecoveredFen += s.RecoveredFen
				}
				if sum != settled {
					t.Fatalf("%s through %s as of %s: the lines that left sum to %+v, Settled to %+v", id, through, asOf, sum, settled)
				}
			}
		}
		if compacted < len(order)*9/10 || left == 0 || kept == 0 {
			t.Fatalf("through %s: %d of %d payers compacted, %d line reads left, %d kept: the test exercises too little", through, compacted, len(order), left, kept)
		}
	}
}

// TestCompactionRules states what compaction refuses and what needs the account folded again.
func TestCompactionRules(t *testing.T) {
	fees := domain.DefaultLateFees
	through, keepFrom := domain.MustDate("2006-12-31"), domain.MustPeriod("2006-11")
	id := "e1"
	ev := func(n uint64, on string, p domain.Payload) domain.Event {
		return domain.Event{Envelope: domain.Envelope{EmployerID: id, Seq: n, N: n, OccurredOn: domain.MustDate(on)}, Body: p}
	}
	decl := func(period string, fen domain.Fen) domain.DeclarationFiled {
		p := domain.MustPeriod(period)
		return domain.DeclarationFiled{Period: p, DeclaredOn: p.Next().FirstDay().AddDays(4), DueOn: p.Next().FirstDay().AddDays(14),
			Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: 1, WageBaseFen: fen * 5, DueFen: fen}}}
	}
	pay := func(on, receipt string, fen domain.Fen) domain.PaymentReceived {
		return domain.PaymentReceived{PaidOn: domain.MustDate(on), AmountFen: fen, ReceiptNo: receipt}
	}
	base := []domain.Event{
		ev(1, "2006-04-01", domain.EmployerRegistered{Profile: domain.Profile{Name: "甲", County: "360702", Kind: domain.KindEnterprise}, RegisteredOn: domain.MustDate("2006-04-01")}),
		ev(2, "2006-05-05", decl("2006-04", 10000)),
		ev(3, "2006-05-10", pay("2006-05-10", "R1", 10000)),
		ev(4, "2006-06-05", decl("2006-05", 10000)),
		ev(5, "2006-07-05", decl("2006-06", 10000)),
		ev(6, "2006-08-14", domain.PaymentReceived{PaidOn: domain.MustDate("2006-08-14"), AmountFen: 10000, ReceiptNo: "R2",
			Allocations: []domain.Allocation{{Insurance: domain.Pension, Period: domain.MustPeriod("2006-06"), AmountFen: 10000}}}),
	}
	cases := []struct {
		name     string
		later    domain.Event
		compacts bool
	}{
		{"a reversal after the boundary of a payment before it refuses compaction", ev(7, "2007-02-01", domain.PaymentReversed{ReversedOn: domain.MustDate("2007-02-01"), ReceiptNo: "R1", Reason: "退票"}), false},
		{"a payment after the boundary needs nothing folded away", ev(7, "2007-02-01", pay("2007-02-01", "R3", 500)), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := fold(append(append([]domain.Event{}, base...), c.later))
			if got := e.Compact(through, keepFrom, fees); got != c.compacts {
				t.Fatalf("Compact = %v, want %v", got, c.compacts)
			}
		})
	}
	after := []struct {
		name      string
		later     domain.Event
		wantStale bool
	}{
		{"an audit of a settled period's line needs it back", ev(7, "2007-03-01", domain.AuditFindingRecorded{FoundOn: domain.MustDate("2007-03-01"), Kind: domain.FindingUnderReportedBase,
			Period: domain.MustPeriod("2006-04"), Insurance: domain.Pension, DueFen: 700, DueOn: domain.MustDate("2006-05-15")}), true},
		{"an audit of a line carried with nothing outstanding needs it back (its late fee was fixed)", ev(7, "2007-03-01", domain.AuditFindingRecorded{FoundOn: domain.MustDate("2007-03-01"), Kind: domain.FindingUnderReportedBase,
			Period: domain.MustPeriod("2006-06"), Insurance: domain.Pension, DueFen: 700, DueOn: domain.MustDate("2006-07-15")}), true},
		{"an amendment of that line's period needs it back too", ev(7, "2007-03-01", decl("2006-06", 9000)), true},
		{"a payment after the boundary reaches the fixed line's late fee only", ev(7, "2007-03-01", pay("2007-03-01", "R3", 30000)), false},
		{"an audit of an open line does not", ev(7, "2007-03-01", domain.AuditFindingRecorded{FoundOn: domain.MustDate("2007-03-01"), Kind: domain.FindingUnderReportedBase,
			Period: domain.MustPeriod("2006-05"), Insurance: domain.Pension, DueFen: 700, DueOn: domain.MustDate("2006-06-15")}), false},
		{"the reversal of a payment folded away needs it back", ev(7, "2007-02-01", domain.PaymentReversed{ReversedOn: domain.MustDate("2007-02-01"), ReceiptNo: "R1", Reason: "退票"}), true},
		{"an amendment of a period after keepFrom does not", ev(7, "2007-01-05", decl("2006-12", 10000)), false},
	}
	for _, c := range after {
		for _, restored := range []bool{false, true} {
			name := c.name
			if restored {
				name += ", as from a snapshot"
			}
			t.Run(name, func(t *testing.T) {
				e := fold(base)
				if !e.Compact(through, keepFrom, fees) {
					t.Fatal("Compact refused")
				}
				if restored {
					e.Account = viaSnapshot(t, e.Account)
				}
				st := e.Account.Statement(through.AddDays(1), fees)
				if _, ok := st.Line(domain.LineKey{Period: domain.MustPeriod("2006-04"), Insurance: domain.Pension}); ok {
					t.Fatal("the settled 2006-04 line is still in the working set")
				}
				fixed, ok := st.Line(domain.LineKey{Period: domain.MustPeriod("2006-06"), Insurance: domain.Pension})
				if !ok || fixed.OutstandingFen != 0 || fixed.LateFeeFen == 0 {
					t.Fatalf("the 2006-06 line, paid late, should be carried with its late fee owed: %+v", fixed)
				}
				e.Apply(c.later)
				if e.Account.Stale != c.wantStale {
					t.Fatalf("Stale = %v, want %v", e.Account.Stale, c.wantStale)
				}
				if !e.Account.Stale {
					asOf := domain.MustDate("2007-06-30")
					whole := fold(append(append([]domain.Event{}, base...), c.later))
					if got, want := e.Account.Statement(asOf, fees).Totals, whole.Account.Statement(asOf, fees).Totals; got != want {
						t.Fatalf("as of %s the compacted account has totals %+v, the whole one %+v", asOf, got, want)
					}
				}
			})
		}
	}
}

// TestAnAmendmentInACopyLeavesTheOriginalsDeclaration: views copy an employer before changing it
// (copy on write), and the copy shares its lists until then.
func TestAnAmendmentInACopyLeavesTheOriginalsDeclaration(t *testing.T) {
	p := domain.MustPeriod("2006-04")
	decl := func(n uint64, on string, headcount int64) domain.Event {
		return domain.Event{Envelope: domain.Envelope{EmployerID: "e1", Seq: n, N: n}, Body: domain.DeclarationFiled{Period: p, DeclaredOn: domain.MustDate(on),
			DueOn: domain.MustDate("2006-05-15"), Lines: []domain.DeclaredLine{{Insurance: domain.Pension, Headcount: headcount, WageBaseFen: 100000, DueFen: 20000}}}}
	}
	e := fold([]domain.Event{decl(1, "2006-05-05", 10)})
	c := e.Clone()
	c.Apply(decl(2, "2006-05-20", 12))
	c.Apply(decl(3, "2006-05-01", 99)) // dated before the one in force: not in force
	got, _ := e.History.Declaration(p)
	amended, _ := c.History.Declaration(p)
	if got.Lines[0].Headcount != 10 || amended.Lines[0].Headcount != 12 || amended.On != domain.MustDate("2006-05-20") {
		t.Fatalf("original declares %d, the amended copy %+v; want 10 and 12 declared on 2006-05-20", got.Lines[0].Headcount, amended)
	}
}

// TestAStatementFromAReusedBookEqualsOneFromANewBook makes the statements of every demo payer,
// whole and compacted, at dates in turn, so that each reuses a book and lines another account
// left (a credit, carried lines, a refund's marks): each equals the statement of a book of its
// own.
func TestAStatementFromAReusedBookEqualsOneFromANewBook(t *testing.T) {
	fees := domain.DefaultLateFees
	events, order := demoEvents(t, 150)
	through, keepFrom := domain.MustDate("2006-06-30"), domain.MustPeriod("2006-05")
	var accounts []*domain.Account
	for _, id := range order {
		accounts = append(accounts, &fold(events[id]).Account, &compactedAt(events[id], through, keepFrom, fees).Account)
	}
	var lines []domain.LineState
	carried, credit := 0, 0
	for _, asOf := range []domain.Date{through.AddDays(1), through.AddDays(100), demo.Today} {
		for i, a := range accounts {
			got := a.StatementInto(lines, asOf, fees)
			want := a.StatementOfNewBook(asOf, fees)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("account %d as of %s:\n got  %+v\n want %+v", i, asOf, got, want)
			}
			lines = got.Lines
			if len(got.Settled) > 0 {
				carried++
			}
			if got.Totals.CreditFen > 0 {
				credit++
			}
		}
	}
	if carried == 0 || credit == 0 {
		t.Fatalf("%d statements with settled lines, %d with credit: the test exercises too little", carried, credit)
	}
}

// TestAnAccountReadBackFromItsSnapshotFormIsTheSame writes every demo payer's account, whole and
// compacted, in the snapshot's binary form and reads it back: the same account, entry for entry
// and line for line, with the same statements; every shorter or damaged form is refused.
func TestAnAccountReadBackFromItsSnapshotFormIsTheSame(t *testing.T) {
	fees := domain.DefaultLateFees
	events, order := demoEvents(t, 150)
	through, keepFrom := domain.MustDate("2006-06-30"), domain.MustPeriod("2006-05")
	carried := 0
	for _, id := range order {
		for _, e := range []*domain.Employer{fold(events[id]), compactedAt(events[id], through, keepFrom, fees)} {
			b := domain.EncodeAccountState(&e.Account)
			got, err := domain.DecodeAccountState(b)
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			if !domain.SameAccount(got, e.Account) {
				t.Fatalf("%s: read back\n %+v\nwritten\n %+v", id, got, e.Account)
			}
			if len(e.Account.Settled()) > 0 {
				carried++
			}
			for _, asOf := range []domain.Date{through.AddDays(1), demo.Today} {
				if g, w := got.Statement(asOf, fees), e.Account.Statement(asOf, fees); !reflect.DeepEqual(g, w) {
					t.Fatalf("%s as of %s: statement read back %+v, written %+v", id, asOf, g, w)
				}
			}
			for n := range len(b) {
				if _, err := domain.DecodeAccountState(b[:n]); err == nil {
					t.Fatalf("%s: the first %d of %d bytes read as an account", id, n, len(b))
				}
			}
		}
	}
	if carried == 0 {
		t.Fatal("no account with a carry: the test exercises too little")
	}
}

// viaSnapshot returns a as a snapshot restores it.
func viaSnapshot(t *testing.T, a domain.Account) domain.Account {
	t.Helper()
	b, err := a.GobEncode()
	if err != nil {
		t.Fatal(err)
	}
	var out domain.Account
	if err := out.GobDecode(b); err != nil {
		t.Fatal(err)
	}
	return out
}
