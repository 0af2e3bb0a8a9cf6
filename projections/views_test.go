package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

func reportJSON(t *testing.T, r *projections.Report) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func rebuiltReport(t *testing.T, l *storetest.Ledger, seq uint64, q projections.Query) string {
	t.Helper()
	rebuilt, err := projections.Rebuild(context.Background(), l.Store, seq)
	if err != nil {
		t.Fatal(err)
	}
	return reportJSON(t, rebuilt.Report(q))
}

// A reader working on the views holds up neither the follower nor snapshots, copies, reports
// or series, and what it reads stays as it was when it began, while the follower changes the
// employers and the reference data it shares; every result equals a rebuild at its sequence.
func TestWorkOnTheViewsHoldsUpNeitherTheFollowerNorOtherReaders(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 6, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := projections.NewRunner(l.Store, projections.RunnerConfig{})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitSeq(t, r, head(t, l))
	q := projections.Query{Period: domain.MustPeriod("2006-05"), AsOf: today}
	live := projections.Query{Period: domain.MustPeriod("2006-06"), AsOf: today}
	r.SetLive(live)
	mustReport(t, r, live)

	inView, proceed := make(chan uint64), make(chan struct{})
	viewed := make(chan string, 1)
	go r.View(func(v *projections.Ledger) {
		inView <- v.Seq
		<-proceed
		viewed <- reportJSON(t, v.Report(q))
	})
	seen := <-inView

	// While the reader holds its view: a payment to an employer it shares, and new reference
	// data replacing a list entry in place.
	id := domain.EmployerIDForOrgCode(domain.NumberedOrgCode(300))
	if _, err := l.Store.Execute(context.Background(), eventstore.Request{EmployerID: id, Today: today,
		Command: &domain.RecordPayment{PaidOn: "2006-07-02", AmountFen: "8000", ReceiptNo: "R2"}}); err != nil {
		t.Fatal(err)
	}
	wage := domain.DefaultAverageWage
	wage.MonthlyFen *= 10
	res, err := l.Store.ExecuteRef(context.Background(), eventstore.RefRequest{Payload: domain.AverageWageSet{Wage: wage}, On: wage.EffectiveFrom, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := r.WaitSeq(wctx, res.Seq); err != nil {
		t.Fatalf("the follower is held up by a reader: %v", err)
	}

	if err := r.SaveSnapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, seq := r.LastSnapshot(); seq != res.Seq {
		t.Fatalf("snapshot at %d, want %d", seq, res.Seq)
	}
	want := rebuiltReport(t, l, res.Seq, q)
	saved, err := projections.SavedViews(context.Background(), l.Store)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := r.Copy()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]*projections.Report{
		"report": mustReport(t, r, q), "saved snapshot": saved.Report(q), "copy": cp.Report(q),
	} {
		if reportJSON(t, got) != want {
			t.Fatalf("%s differs from a rebuild at %d", name, res.Seq)
		}
	}
	if got := mustReport(t, r, live); got.Seq != res.Seq || reportJSON(t, got) != rebuiltReport(t, l, res.Seq, live) {
		t.Fatalf("the live report at %d differs from a rebuild at %d", got.Seq, res.Seq)
	}
	if s, err := r.Series(context.Background(), today, domain.MustPeriod("2006-05"), domain.MustPeriod("2006-07"), 0); err != nil {
		t.Fatalf("series: %v", err)
	} else if s.Seq != res.Seq {
		t.Fatalf("series at %d, want %d", s.Seq, res.Seq)
	}

	close(proceed)
	if got, want := <-viewed, rebuiltReport(t, l, seen, q); got != want {
		t.Fatalf("the reader's view changed under it: it differs from a rebuild at %d", seen)
	}
}

// A copy of the views folds on by itself: what it folds changes neither the views it was copied
// from nor what a reader holds, and each equals a rebuild at its own sequence.
func TestACopyOfTheViewsFoldsOnWithoutChangingTheOriginal(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	write(t, l.Store, 6, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := projections.NewRunner(l.Store, projections.RunnerConfig{NoSnapshots: true})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	first := head(t, l)
	waitSeq(t, r, first)
	held := r.Current()
	cp, err := r.Copy()
	if err != nil {
		t.Fatal(err)
	}
	// A payment to each employer the copy shares with the views, and new reference data.
	for i := range 6 {
		id := domain.EmployerIDForOrgCode(domain.NumberedOrgCode(300 + i))
		if _, err := l.Store.Execute(context.Background(), eventstore.Request{EmployerID: id, Today: today,
			Command: &domain.RecordPayment{PaidOn: "2006-07-02", AmountFen: "8000", ReceiptNo: "R2"}}); err != nil {
			t.Fatal(err)
		}
	}
	wage := domain.DefaultAverageWage
	wage.MonthlyFen *= 10
	if _, err := l.Store.ExecuteRef(context.Background(), eventstore.RefRequest{Payload: domain.AverageWageSet{Wage: wage}, On: wage.EffectiveFrom, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	last := head(t, l)
	if err := projections.ReplayOnto(context.Background(), l.Store, cp, last, nil); err != nil {
		t.Fatal(err)
	}
	q := projections.Query{Period: domain.MustPeriod("2006-05"), AsOf: today}
	if got, want := reportJSON(t, cp.Report(q)), rebuiltReport(t, l, last, q); got != want {
		t.Errorf("the copy folded on to %d differs from a rebuild there", last)
	}
	if got, want := reportJSON(t, held.Report(q)), rebuiltReport(t, l, first, q); got != want {
		t.Errorf("the views held at %d changed while the copy folded on", first)
	}
	waitSeq(t, r, last)
	if got, want := reportJSON(t, mustReport(t, r, q)), rebuiltReport(t, l, last, q); got != want {
		t.Errorf("the live views at %d differ from a rebuild there", last)
	}
}
