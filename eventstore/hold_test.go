package eventstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// TestNoWriteLandsWhileWritesAreHeld: payments sent while the store holds its writes, one by
// Execute and one by ExecuteBulk, and new late-fee rates by ExecuteRef, are not appended before
// the function holding them ends, however long it waits for them, but its own append is; they
// are appended after, once each; one given a deadline is answered by it, not recorded.
func TestNoWriteLandsWhileWritesAreHeld(t *testing.T) {
	ctx := context.Background()
	l := storetest.Start(t, eventstore.Config{})
	reg, err := l.Store.Execute(ctx, eventstore.Request{Create: true, Today: today, Actor: "clerk:a", Command: &domain.RegisterEmployer{
		Name: "单位", County: "360702", OrgCode: domain.NumberedOrgCode(8501), Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
	if err != nil {
		t.Fatal(err)
	}
	paid := make(chan uint64, 3)
	var held uint64
	err = l.Store.HoldWrites(ctx, func(h eventstore.Held) error {
		held = l.Store.Applied()
		go func() {
			res, err := l.Store.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.LateFeeRatesSet{Rate: domain.LateFeeRate{
				EffectiveFrom: domain.MustDate("2006-07-01"), DailyBP: 10, Basis: "test"}}, On: domain.MustDate("2006-07-01"), Actor: "admin:a"})
			if err != nil {
				t.Error(err)
			}
			paid <- res.Seq
		}()
		go func() {
			res, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: reg.EmployerID, Today: today, Actor: "clerk:a",
				Command: &domain.RecordPayment{PaidOn: "2006-06-12", AmountFen: "100", ReceiptNo: "R-1"}})
			if err != nil {
				t.Error(err)
			}
			paid <- res.Seq
		}()
		go func() {
			res := l.Store.ExecuteBulk(ctx, []eventstore.Request{{EmployerID: reg.EmployerID, Today: today, Actor: "clerk:a",
				Command: &domain.RecordPayment{PaidOn: "2006-06-12", AmountFen: "100", ReceiptNo: "R-2"}}})
			if res[0].Err != nil {
				t.Error(res[0].Err)
			}
			paid <- res[0].Seq
		}()
		// The payment would land well within this wait were it not held.
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if err := l.Store.CatchUp(ctx); err != nil {
				return err
			}
			if got := l.Store.Applied(); got != held {
				t.Errorf("sequence %d was appended while writes were held at %d", got, held)
				return nil
			}
		}
		// A write given a deadline is answered by it, not recorded, while the hold lasts.
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := l.Store.Execute(short, eventstore.Request{EmployerID: reg.EmployerID, Today: today, Actor: "clerk:a",
			Command: &domain.RecordPayment{PaidOn: "2006-06-12", AmountFen: "100", ReceiptNo: "R-3"}}); !errors.Is(err, eventstore.ErrNotRecorded) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a write with a deadline, held: %v; want not recorded, its deadline passed", err)
		}
		res, err := h.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.AverageWageSet{Wage: domain.AverageWage{
			EffectiveFrom: domain.MustDate("2006-01-01"), MonthlyFen: 120000}}, On: domain.MustDate("2006-01-01"), Actor: "admin:a"})
		if err != nil || res.Seq != held+1 {
			t.Errorf("the holder's own append: sequence %d, %v; want %d", res.Seq, err, held+1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seqs := []uint64{<-paid, <-paid, <-paid}
	slices.Sort(seqs)
	if seqs[0] != held+2 || seqs[2] != held+4 || seqs[1] != held+3 {
		t.Errorf("the writes held landed at sequences %v, want %d to %d", seqs, held+2, held+4)
	}
}

// TestAWriteAfterASequenceIsRecordedOnlyIfTheStreamIsStillThere: a reference write decided at
// the stream's last sequence (RefRequest.AfterSeq) answers ErrMoved, recording nothing, once
// another replica appended anything since, though on another subject; decided again at the
// sequence it now stands at, it is recorded, and its key answers it after.
func TestAWriteAfterASequenceIsRecordedOnlyIfTheStreamIsStillThere(t *testing.T) {
	ctx := context.Background()
	l := storetest.Start(t, eventstore.Config{})
	other, err := eventstore.Open(ctx, l.Embedded.Conn, l.Embedded.StoreConfig(eventstore.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	rates := func(after uint64) eventstore.RefRequest {
		return eventstore.RefRequest{Payload: domain.LateFeeRatesSet{Rate: domain.LateFeeRate{
			EffectiveFrom: domain.MustDate("2006-07-01"), DailyBP: 10, Basis: "test"}},
			On: domain.MustDate("2006-07-01"), Actor: "admin:a", IdempotencyKey: "rates", BodyHash: "h", AfterSeq: after}
	}
	at := l.Store.Applied()
	if _, err := other.Execute(ctx, eventstore.Request{Create: true, Today: today, Actor: "clerk:b", Command: &domain.RegisterEmployer{
		Name: "单位", County: "360702", OrgCode: domain.NumberedOrgCode(8502), Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}}); err != nil {
		t.Fatal(err)
	}
	last, err := l.Store.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Store.ExecuteRef(ctx, rates(at))
	if !errors.Is(err, eventstore.ErrMoved) || !errors.Is(err, eventstore.ErrNotRecorded) {
		t.Fatalf("a write after sequence %d, the stream at %d: %v, want ErrMoved (not recorded)", at, last, err)
	}
	if now, err := l.Store.LastSeq(ctx); err != nil || now != last {
		t.Fatalf("the stream at %d after the refusal (%v), want %d: nothing appended", now, err, last)
	}
	if err := l.Store.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := l.Store.ExecuteRef(ctx, rates(l.Store.Applied()))
	if err != nil || res.Seq != last+1 {
		t.Fatalf("decided again at the stream's sequence %d: %+v %v, want it recorded at %d", last, res, err, last+1)
	}
	if again, err := l.Store.ExecuteRef(ctx, rates(at)); err != nil || !again.Duplicate || again.Seq != res.Seq {
		t.Errorf("its key sent again, after a sequence since passed: %+v %v, want the first result", again, err)
	}
}
