package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// startedRunner is a runner over l's store with cfg, started (until the test ends) and caught up
// with the stream.
func startedRunner(t *testing.T, l *storetest.Ledger, cfg projections.RunnerConfig) *projections.Runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := projections.NewRunner(l.Store, cfg)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitSeq(t, r, head(t, l))
	return r
}

// seriesJSON is a series as answered, with the series of each insurance after it.
func seriesJSON(t *testing.T, s *projections.Series) string {
	t.Helper()
	all := []any{s}
	for _, ins := range domain.Insurances {
		all = append(all, s.ForInsurance(ins))
	}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// askSeries asks r for the series of from..to as of asOf and checks that it equals the views'
// own at that sequence (Ledger.Series, summed from every payer) and that r summed folded payers
// for it.
func askSeries(t *testing.T, r *projections.Runner, what string, asOf domain.Date, from, to domain.Period, folded uint64) {
	t.Helper()
	before := r.SeriesFolded()
	s, err := r.Series(context.Background(), asOf, from, to, 0)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := r.SeriesFolded() - before; got != folded {
		t.Errorf("%s: the series summed %d payers, want %d", what, got, folded)
	}
	cur := r.Current()
	if cur.Seq != s.Seq {
		t.Fatalf("%s: the series is of %d, the views of %d", what, s.Seq, cur.Seq)
	}
	if got, want := seriesJSON(t, s), seriesJSON(t, cur.Series(asOf, from, to)); got != want {
		t.Errorf("%s: the series differs from the views' own:\n got %s\nwant %s", what, got, want)
	}
}

// TestASeriesAskedAgainSumsOnlyThePayersChangedSince: the runner sums a series from every payer
// once; asked again, it sums only the payers written to since, and the series equals the views'
// own at its sequence. New reference data, other months or another date sum every payer again.
func TestASeriesAskedAgainSumsOnlyThePayersChangedSince(t *testing.T) {
	const payers = 20
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, payers, 0)
	r := startedRunner(t, l, projections.RunnerConfig{NoSnapshots: true, SeriesIdle: time.Hour})
	ctx := context.Background()
	from, to := domain.MustPeriod("2006-01"), domain.MustPeriod("2006-12")
	askSeries(t, r, "first asked", today, from, to, payers)
	askSeries(t, r, "asked again with nothing written", today, from, to, 0)

	for i := range 2 {
		id := domain.EmployerIDForOrgCode(domain.NumberedOrgCode(300 + 3*i))
		if _, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: id, Today: today,
			Command: &domain.RecordPayment{PaidOn: "2006-08-01", AmountFen: "150000", ReceiptNo: fmt.Sprintf("R-%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	waitSeq(t, r, head(t, l))
	askSeries(t, r, "after a payment by each of two payers", today, from, to, 2)

	write(t, l.Store, 1, payers)
	waitSeq(t, r, head(t, l))
	askSeries(t, r, "after a payer's registration", today, from, to, 1)

	wage := domain.DefaultAverageWage
	wage.MonthlyFen *= 2
	if _, err := l.Store.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.AverageWageSet{Wage: wage}, On: wage.EffectiveFrom, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	waitSeq(t, r, head(t, l))
	askSeries(t, r, "after new reference data", today, from, to, payers+1)
	askSeries(t, r, "of other months", today, from, domain.MustPeriod("2006-09"), payers+1)
	askSeries(t, r, "as of another date", domain.MustDate("2006-10-31"), from, domain.MustPeriod("2006-09"), payers+1)
	askSeries(t, r, "the same asked again", domain.MustDate("2006-10-31"), from, domain.MustPeriod("2006-09"), 0)
}

// TestSeriesOfOtherMonthsAskedBetweenKeepTheirSums: a few series are kept at once, so that a
// chart of other months, or of a year looked at beside the live one, does not make the next read
// of either sum every payer again; a fifth series asked for lets go of the one asked for longest
// ago.
func TestSeriesOfOtherMonthsAskedBetweenKeepTheirSums(t *testing.T) {
	const payers = 12
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, payers, 0)
	r := startedRunner(t, l, projections.RunnerConfig{NoSnapshots: true, SeriesIdle: time.Hour})
	ends := []domain.Period{domain.MustPeriod("2006-12"), domain.MustPeriod("2006-09"), domain.MustPeriod("2006-06"), domain.MustPeriod("2006-03")}
	from := domain.MustPeriod("2006-01")
	for _, to := range ends {
		askSeries(t, r, "first asked, to "+to.String(), today, from, to, payers)
	}
	for i := range 2 {
		id := domain.EmployerIDForOrgCode(domain.NumberedOrgCode(300 + 3*i))
		if _, err := l.Store.Execute(context.Background(), eventstore.Request{EmployerID: id, Today: today,
			Command: &domain.RecordPayment{PaidOn: "2006-08-01", AmountFen: "150000", ReceiptNo: fmt.Sprintf("R-%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	waitSeq(t, r, head(t, l))
	for _, to := range ends {
		askSeries(t, r, "after two payments, to "+to.String(), today, from, to, 2)
	}
	askSeries(t, r, "a fifth", today, from, domain.MustPeriod("2006-02"), payers)
	askSeries(t, r, "the one asked for longest ago, after a fifth", today, from, ends[0], payers)
	askSeries(t, r, "one still kept", today, from, ends[3], 0)
}

// TestASeriesNobodyAsksForIsLetGo: the sums kept for the next series hold the former state of
// every payer changed since, so they are dropped once no series was asked for SeriesIdle; the
// next one sums every payer again.
func TestASeriesNobodyAsksForIsLetGo(t *testing.T) {
	const payers = 5
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, payers, 0)
	r := startedRunner(t, l, projections.RunnerConfig{NoSnapshots: true, SeriesIdle: time.Millisecond})
	from, to := domain.MustPeriod("2006-01"), domain.MustPeriod("2006-12")
	askSeries(t, r, "first asked", today, from, to, payers)
	storetest.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		if r.SeriesKept() {
			return fmt.Errorf("the series' sums are still kept")
		}
		return nil
	})
	askSeries(t, r, "asked once they were let go", today, from, to, payers)
}

// TestTheLiveReportAddsUpRangesOfPayers: the live report sums again only the ranges of employer
// ids a write changed, and adds up the ranges; with several payers in most ranges, after
// payments, new payers and enrollments, it and a segment's report equal the views' own, summed
// from every payer one at a time, flagged payers in the same order.
func TestTheLiveReportAddsUpRangesOfPayers(t *testing.T) {
	const payers = 600 // about two in each of the 256 ranges
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, payers, 0)
	r := startedRunner(t, l, projections.RunnerConfig{NoSnapshots: true})
	ctx := context.Background()
	q := projections.Query{Period: domain.MustPeriod("2006-05"), AsOf: today}
	r.SetLive(q)
	flagged := false
	same := func(what string) {
		t.Helper()
		waitSeq(t, r, head(t, l))
		cur := r.Current()
		for _, seg := range []domain.Segment{"", domain.SegmentHighRisk} {
			got, err := r.SegmentReport(ctx, q, seg)
			if err != nil {
				t.Fatal(err)
			}
			if got.Seq != cur.Seq {
				t.Fatalf("%s: the live report is of %d, the views of %d", what, got.Seq, cur.Seq)
			}
			want := cur.SegmentReport(q, seg)
			if flagged && want.City.Employers == 0 {
				t.Fatalf("%s: the report of %q counts no payer", what, seg)
			}
			if a, b := reportJSON(t, got), reportJSON(t, want); a != b {
				t.Errorf("%s: the live report of %q differs from the views' own:\n got %s\nwant %s", what, seg, a, b)
			}
			// The flagged payers, in the order GET /v1/flags lists them.
			if a, b := flagsJSON(t, got, flagged && seg == ""), flagsJSON(t, want, flagged && seg == ""); a != b {
				t.Errorf("%s: the live report of %q flags other payers or in another order than the views' own:\n got %s\nwant %s", what, seg, a, b)
			}
		}
	}
	same("first read")
	for i := range 7 {
		id := domain.EmployerIDForOrgCode(domain.NumberedOrgCode(300 + 41*i))
		if _, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: id, Today: today,
			Command: &domain.RecordPayment{PaidOn: "2006-08-01", AmountFen: "150000", ReceiptNo: fmt.Sprintf("R-%d", i)}}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			same(fmt.Sprintf("after payment %d", i))
		}
	}
	same("after seven payments")
	// Payers of risk class 3 without work injury, flagged, among those of their ranges.
	var reqs []eventstore.Request
	for i := range 40 {
		reqs = append(reqs, eventstore.Request{Create: true, Today: today, Command: &domain.RegisterEmployer{Name: fmt.Sprint("矿", i), County: "360702",
			OrgCode: domain.NumberedOrgCode(5000 + i), Kind: "enterprise", RiskClass: "3", RegisteredOn: "2006-04-03"}})
	}
	for _, res := range l.Store.ExecuteBulk(ctx, reqs) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	flagged = true
	same("after 40 registrations of payers to flag")
	for i := range 3 {
		id := domain.EmployerIDForOrgCode(domain.NumberedOrgCode(5000 + 7*i))
		if _, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: id, Today: today, Command: &domain.RecordEnrollment{
			Insurance: "work_injury", Headcount: "4", EffectiveOn: "2006-05-01"}}); err != nil {
			t.Fatal(err)
		}
	}
	same("after three of them enrolled in work injury")
	write(t, l.Store, 40, payers)
	same("after 40 more registrations")
}

// flagsJSON is each county's flagged payers, in order; strict, there must be some.
func flagsJSON(t *testing.T, r *projections.Report, strict bool) string {
	t.Helper()
	var all [][]projections.Flag
	n := 0
	for _, c := range r.Counties {
		all = append(all, c.EmployerFlags)
		n += len(c.EmployerFlags)
	}
	if n == 0 && strict {
		t.Fatalf("the report flags no payer: nothing to hold the order of")
	}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
