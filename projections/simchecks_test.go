package projections_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// checkFreezes folds every freeze again from sequence 1: the same (sequence, date) must give
// the same digest, whatever was appended since and however often the ledger restarted.
func (s *simulation) checkFreezes() {
	for _, f := range s.freezes {
		ctx, cancel := s.ctx()
		again, err := projections.MakeFreeze(ctx, s.store(), f.ThroughSeq, f.ValidThrough, nil)
		cancel()
		if err != nil {
			s.fatalf("freeze %s again: %v", f.ID, err)
		}
		if again.Digest != f.Digest || again.ChainHead != f.ChainHead {
			s.fatalf("freeze through %d valid through %s: digest %s, chain head %s; folded again %s, %s",
				f.ThroughSeq, f.ValidThrough, f.Digest, f.ChainHead, again.Digest, again.ChainHead)
		}
	}
}

func (s *simulation) checkViolations(who string, p *simPayer, vs []*domain.InvariantError, asOf domain.Date) {
	s.t.Helper()
	if len(vs) == 0 {
		return
	}
	for _, v := range vs {
		s.fatalf("%s of %s: %v\nmodel events:\n%s", who, p.id, v, dumpEvents(p.events))
	}
}

// checkPayerInvariants checks the write side's state of p after a command dated d.
func (s *simulation) checkPayerInvariants(p *simPayer, d domain.Date) {
	s.t.Helper()
	ctx, cancel := s.ctx()
	defer cancel()
	e, err := s.store().EmployerContext(ctx, p.id)
	if err != nil || e == nil {
		s.fatalf("write side of %s: %v", p.id, err)
	}
	fees := s.store().Reference().LateFees
	for _, asOf := range []domain.Date{d, s.today} {
		s.checkViolations("write side", p, e.Account.Violations(asOf, fees), asOf)
	}
}

// checkAll waits for the views, compares them with a rebuild from sequence 1, and compares the
// write side and the views with the model, employer by employer.
func (s *simulation) checkAll() {
	s.t.Helper()
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.store().CatchUp(ctx); err != nil {
		s.fatalf("catch up: %v", err)
	}
	if err := s.runner.WaitSeq(ctx, s.lastSeq()); err != nil {
		s.fatalf("views did not reach %d: %v", s.lastSeq(), err)
	}
	vc, err := s.runner.VerifyRebuild(ctx, s.today)
	if err != nil || !vc.OK {
		s.fatalf("live views differ from a rebuild: %+v %v", vc, err)
	}
	views := s.runner.Current()
	if views.Employers.Len() != len(s.payers) {
		s.fatalf("the views hold %d employers, the simulation registered %d", views.Employers.Len(), len(s.payers))
	}
	fees := s.store().Reference().LateFees
	for _, p := range s.payers {
		e, err := s.store().EmployerContext(ctx, p.id)
		if err != nil || e == nil {
			s.fatalf("write side of %s: %v", p.id, err)
		}
		past := p.entered.AddDays(s.intn(int(s.today-p.entered) + 1))
		for _, asOf := range []domain.Date{s.today, past} {
			st := e.Account.Statement(asOf, fees)
			s.compare("write side", p, asOf, &st)
			s.checkViolations("write side", p, e.Account.Violations(asOf, fees), asOf)
		}
		v := views.Employers.Get(p.id)
		if v == nil {
			s.fatalf("employer %s is not in the views", p.id)
		}
		if v.Account.CompactedThrough() < s.today {
			st := v.Account.Statement(s.today, views.Ref.LateFees)
			s.compare("views", p, s.today, &st)
			s.checkViolations("views", p, v.Account.Violations(s.today, views.Ref.LateFees), s.today)
		}
	}
	s.checkClosingChangesNothing(views)
	s.counts["check"]++
}

// checkClosingChangesNothing holds the views compacted at the closed books to DOMAIN's rule that
// closing a year changes no figure of any date: for dates after the closed books, their report
// (figures and flags) and worklist equal those of views replayed from sequence 1 that compacted
// nothing.
func (s *simulation) checkClosingChangesNothing(views *projections.Ledger) {
	s.t.Helper()
	if views.Boundary == 0 {
		return
	}
	whole := projections.NewLedger()
	whole.Source = projections.StoreSource{Store: s.store()}
	whole.Keep = &projections.Query{AsOf: simStart, Period: simStart.Period()}
	ctx, cancel := s.ctx()
	defer cancel()
	if err := projections.ReplayOnto(ctx, s.store(), whole, views.Seq, nil); err != nil || whole.Err() != nil {
		s.fatalf("replay without compaction: %v %v", err, whole.Err())
	}
	if whole.Boundary != 0 {
		s.fatalf("the replay meant to keep every date compacted through %s", whole.Boundary)
	}
	dates := []domain.Date{s.today}
	for _, days := range []int{1, 15, 16, 31, 46, 60} {
		if d := views.Boundary.AddDays(days); d < s.today {
			dates = append(dates, d)
		}
	}
	first := views.Boundary.AddDays(1).Period()
	for _, asOf := range dates {
		q := projections.Query{Period: projections.DefaultPeriod(&views.Ref, asOf), AsOf: asOf}
		earliest := projections.Query{Period: views.KeepFrom, AsOf: asOf} // the first period kept whole
		for _, read := range []struct {
			name string
			of   func(l *projections.Ledger) any
		}{
			{"report", func(l *projections.Ledger) any { return l.Report(q) }},
			{"report of the first period kept", func(l *projections.Ledger) any { return l.Report(earliest) }},
			{"series", func(l *projections.Ledger) any { return l.Series(asOf, first, max(first, q.Period)) }},
			{"worklist", func(l *projections.Ledger) any { return l.Worklist(nil, asOf) }},
		} {
			got, _ := json.Marshal(read.of(views))
			want, _ := json.Marshal(read.of(whole))
			if string(got) != string(want) {
				s.fatalf("closed through %s, the %s as of %s differs from that of views that compacted nothing:\n%s", views.Boundary, read.name, asOf, firstDifference(string(got), string(want)))
			}
		}
	}
	// A series as of the closed books' last day is of views replayed through their closing
	// (Runner.At): the same as of views that compacted nothing, and kept without those views.
	from, to := projections.DefaultSeriesMonths(views.Boundary)
	for range 2 {
		got, err := s.runner.Series(ctx, views.Boundary, from, to, 0)
		if err != nil {
			s.fatalf("series as of %s: %v", views.Boundary, err)
		}
		if a, b := seriesJSON(s.t, got), seriesJSON(s.t, whole.Series(views.Boundary, from, to)); a != b {
			s.fatalf("the series as of %s, in the closed books, differs from that of views that compacted nothing:\n%s", views.Boundary, firstDifference(a, b))
		}
		if s.runner.SeriesKeepsViews() {
			s.fatalf("the series as of %s, in the closed books, keeps the views it was summed from", views.Boundary)
		}
	}
	s.counts["closing changes nothing"]++
}

// firstDifference shows where two texts part: some of each from the first byte that differs.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("compacted: …%s…\nwhole:     …%s…", got[from:min(len(got), i+200)], want[from:min(len(want), i+200)])
}

// compare checks a ledger statement against the model's, line by line and in total. Lines a
// year-end compaction took out of the views' statement must be settled in the model.
func (s *simulation) compare(who string, p *simPayer, asOf domain.Date, st *domain.Statement) {
	s.t.Helper()
	m := modelStatement(p.events, asOf)
	fail := func(format string, args ...any) {
		s.t.Helper()
		s.fatalf("%s of %s as of %s: %s\nmodel events:\n%s", who, p.id, asOf, fmt.Sprintf(format, args...), dumpEvents(p.events))
	}
	var due, paid, waived, out, owed int64
	for _, ml := range m.Lines {
		due, paid, waived, out, owed = due+ml.Due, paid+ml.Paid, waived+ml.Waived, out+ml.Outstanding, owed+ml.FeeOwed
		l, ok := st.Line(domain.LineKey{Period: ml.Key.period, Insurance: domain.Insurance(modelIns[ml.Key.ins])})
		if !ok {
			if len(st.Settled) == 0 || ml.Outstanding != 0 || ml.FeeOwed != 0 {
				fail("line %s %s missing (model: %+v)", ml.Key.period, modelIns[ml.Key.ins], ml)
			}
			continue
		}
		got := mLineState{Key: ml.Key, Due: int64(l.DueFen), Paid: int64(l.PaidFen), Waived: int64(l.WaivedFen), Outstanding: int64(l.OutstandingFen),
			FeeAccrued: int64(l.LateFeeAccruedFen), FeePaid: int64(l.LateFeePaidFen), FeeWaived: int64(l.LateFeeWaivedFen), FeeOwed: int64(l.LateFeeFen)}
		if got != ml {
			fail("line %s %s:\nledger %+v\nmodel  %+v", ml.Key.period, modelIns[ml.Key.ins], got, ml)
		}
	}
	if len(st.Lines) > len(m.Lines) {
		fail("%d lines, the model has %d", len(st.Lines), len(m.Lines))
	}
	t := st.Totals
	if int64(t.CreditFen) != m.Credit || int64(t.DueFen) != due || int64(t.PaidFen) != paid || int64(t.WaivedFen) != waived ||
		int64(t.OutstandingFen) != out || int64(t.LateFeeFen) != owed {
		fail("totals %+v; model: due %d paid %d waived %d outstanding %d late fee %d credit %d", t, due, paid, waived, out, owed, m.Credit)
	}
}

func dumpEvents(evs []*mEvent) string {
	var b strings.Builder
	names := map[mKind]string{mSet: "set", mAudit: "audit", mOpening: "opening", mPay: "pay", mReverse: "reverse", mWaivePrincipal: "waive_principal", mWaiveFee: "waive_fee"}
	for _, e := range evs {
		fmt.Fprintf(&b, "  seq %d %s %s", e.seq, e.date, names[e.kind])
		if e.kind == mSet {
			fmt.Fprintf(&b, " period %s", e.period)
		}
		for _, a := range e.amounts {
			fmt.Fprintf(&b, " [%s %s %d]", a.key.period, modelIns[a.key.ins], a.amount)
		}
		if e.amount != 0 {
			fmt.Fprintf(&b, " amount %d", e.amount)
		}
		if e.receipt != "" {
			fmt.Fprintf(&b, " receipt %s", e.receipt)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// checkSums holds what the runner keeps summed and sums again from the payers changed since it
// last did to the views' own, summed from every payer: the series (Ledger.Series) of the months
// of the year and the live report (Ledger.SegmentReport), with a segment's, both as of the
// year's last day, so that they are summed again from the payers changed since the last check
// of the year.
func (s *simulation) checkSums() {
	s.t.Helper()
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.runner.WaitSeq(ctx, s.lastSeq()); err != nil {
		s.fatalf("views did not reach %d: %v", s.lastSeq(), err)
	}
	views := s.runner.Current()
	asOf := domain.MustDate(fmt.Sprintf("%d-12-31", s.today.Year()))
	from, to := projections.DefaultSeriesMonths(asOf)
	if views.Boundary != 0 {
		from = max(from, views.Boundary.AddDays(1).Period())
		to = max(to, from)
	}
	before := s.runner.SeriesFolded()
	got, err := s.runner.Series(ctx, asOf, from, to, 0)
	if err != nil {
		s.fatalf("series as of %s from %s: %v", asOf, from, err)
	}
	if a, b := seriesJSON(s.t, got), seriesJSON(s.t, views.Series(asOf, from, to)); a != b {
		s.fatalf("the runner's series as of %s differs from the views' own:\n%s", asOf, firstDifference(a, b))
	}
	if s.runner.SeriesFolded()-before < uint64(views.Employers.Len()) {
		s.counts["series of the payers changed"]++
	}
	s.counts["series"]++
	q := projections.Query{AsOf: asOf, Period: projections.DefaultPeriod(&views.Ref, asOf)}
	if !views.Covers(q) {
		return
	}
	s.runner.SetLive(q)
	for _, seg := range []domain.Segment{"", domain.Segments[s.intn(len(domain.Segments))]} {
		got, err := s.runner.SegmentReport(ctx, q, seg)
		if err != nil {
			s.fatalf("live report of %q as of %s: %v", seg, asOf, err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(views.SegmentReport(q, seg))
		if string(a) != string(b) {
			s.fatalf("the runner's live report of %q as of %s differs from the views' own:\n%s", seg, asOf, firstDifference(string(a), string(b)))
		}
	}
	s.counts["live report"]++
}
