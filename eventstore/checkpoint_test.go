package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// A year of a payer's work from month from: each month a declaration and a payment, every
// fourth payment reversed.
func payerYear(id string, year, from int) []eventstore.Request {
	var reqs []eventstore.Request
	for m := from; m <= 12; m++ {
		period := fmt.Sprintf("%d-%02d", year, m)
		next := fmt.Sprintf("%d-%02d", year+m/12, m%12+1)
		receipt := fmt.Sprintf("R%d-%02d", year, m)
		reqs = append(reqs,
			eventstore.Request{EmployerID: id, Today: today, Actor: "test", Command: &domain.FileDeclaration{DeclaredOn: next + "-05", Period: period,
				Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "36", WageBaseFen: "4320000"}}}},
			eventstore.Request{EmployerID: id, Today: today, Actor: "test", Command: &domain.RecordPayment{PaidOn: next + "-12", AmountFen: "864000", ReceiptNo: receipt}})
		if m%4 == 0 {
			reqs = append(reqs, eventstore.Request{EmployerID: id, Today: today, Actor: "test", Command: &domain.ReversePayment{ReversedOn: next + "-20", ReceiptNo: receipt, Reason: "bank returned it"}})
		}
	}
	return reqs
}

// Folding an employer out of the write side's cache starts from its newest checkpoint. The state
// it reaches is the one a fold from the first event reaches, and commands decide on it alike,
// also after a restart from the store's snapshot.
func TestAFoldFromACheckpointReachesTheStateOfAFoldFromTheFirstEvent(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{Dir: t.TempDir(), EmployerCache: 1})
	ctx := context.Background()
	today = domain.MustDate("2008-01-31")
	t.Cleanup(func() { today = domain.MustDate("2006-12-31") })
	a := mustExecute(t, l.Store, register(orgCode(4100), "360702")).EmployerID
	b := mustExecute(t, l.Store, register(orgCode(4101), "360702")).EmployerID
	for _, year := range []int{2006, 2007} {
		for _, req := range payerYear(a, year, map[int]int{2006: 4, 2007: 1}[year]) {
			mustExecute(t, l.Store, req)
			// b's command pushes a out of the cache of one, so a's next command folds it.
			mustExecute(t, l.Store, payment(b, fmt.Sprintf("B%d", l.MessageCount(t)), 100))
		}
	}
	same := func(when string) {
		t.Helper()
		if l.Store.CheckpointSeq(a) == 0 {
			t.Fatalf("%s: no checkpoint of a after %d events", when, l.MessageCount(t))
		}
		raws, err := l.Store.History(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		want := eventstore.Fold(a, raws, raws[len(raws)-1].Seq)
		mustExecute(t, l.Store, payment(b, fmt.Sprintf("B%d", l.MessageCount(t)), 100))
		got, err := l.Store.EmployerContext(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the fold from the checkpoint at %d differs from the fold from the first event:\n%+v\n%+v", when, l.Store.CheckpointSeq(a), got, want)
		}
	}
	same("live")
	l.Restart(t)
	same("after a restart")
	// A damaged checkpoint is passed over: the fold starts from the first event.
	if err := l.Store.DamageCheckpoint(a); err != nil {
		t.Fatal(err)
	}
	same("with its checkpoint damaged")

	// Decisions on the folded state: a standing receipt is refused, a reversed one taken anew.
	mustExecute(t, l.Store, payment(b, "B-evict", 100))
	_, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: a, Today: today, Actor: "test", Command: &domain.RecordPayment{PaidOn: "2008-01-20", AmountFen: "100", ReceiptNo: "R2007-03"}})
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("a receipt recorded before the checkpoint recorded again: %v, want it refused", err)
	}
	mustExecute(t, l.Store, payment(b, "B-evict-2", 100))
	mustExecute(t, l.Store, eventstore.Request{EmployerID: a, Today: today, Actor: "test", Command: &domain.RecordPayment{PaidOn: "2008-01-20", AmountFen: "100", ReceiptNo: "R2007-04"}})
}
