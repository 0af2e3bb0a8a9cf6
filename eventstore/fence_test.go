package eventstore

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// closeYear records a freeze of year and its closing through st, as an admin does.
func closeYear(t *testing.T, st *Store, year int) Result {
	t.Helper()
	ctx := context.Background()
	f, _, err := st.AppendFreeze(ctx, FreezeOrder{Actor: "test"}, func() (domain.FreezeMade, error) {
		end, _ := domain.DateOf(year, 12, 31)
		return domain.FreezeMade{ID: "f", ThroughSeq: st.Applied(), ValidThrough: end,
			ChainHead: "h", CodeVersion: "test", Digest: "d", Figures: []byte(`{"n":1}`)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	on, _ := domain.DateOf(year+1, 1, 5)
	res, err := st.ExecuteRef(ctx, RefRequest{Payload: domain.YearClosed{Year: year, FreezeID: f.ID, Digest: f.Digest}, On: on, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// latePayment is a payment dated in 2006, sent on a business date of 2007.
func latePayment(employer, receipt string) Request {
	return Request{EmployerID: employer, Today: domain.MustDate("2007-01-10"), Actor: "test",
		Command: &domain.RecordPayment{PaidOn: "2006-12-20", AmountFen: "100", ReceiptNo: receipt}}
}

// A write dated in a year that has ended, decided through a replica that has not yet followed
// the year's closing through another, is refused when it reaches the stream after the closing,
// decided again on the closed year and answered year_closed; nothing of it is stored.
func TestAWriteIntoAYearClosedThroughAnotherReplicaMeanwhileIsRefused(t *testing.T) {
	for _, how := range []string{"alone", "in bulk"} {
		t.Run(how, func(t *testing.T) {
			first, second, id, sig := replicaPair(t)
			release := sync.OnceFunc(second.markPending(yearsSubject(second.sub))) // the follower waits before the closing
			defer release()
			closing := closeYear(t, first, 2006)
			out := make(chan outcome, 1)
			go func() {
				if how == "alone" {
					res, err := second.Execute(context.Background(), latePayment(id, "R-9"))
					out <- outcome{res, err}
					return
				}
				r := second.ExecuteBulk(context.Background(), []Request{latePayment(id, "R-9")})[0]
				out <- outcome{r.Result, r.Err}
			}()
			awaitConflict(t, sig, out, "payment dated in 2006")
			release()
			o := <-out
			var de *domain.Error
			if !errors.As(o.err, &de) || de.Kind != domain.KindYearClosed || de.Field != "paid_on" {
				t.Fatalf("the payment dated in 2006, decided before the replica followed 2006's closing: %+v %v; want year_closed naming paid_on", o.res, o.err)
			}
			if last, err := second.LastSeq(context.Background()); err != nil || last != closing.Seq {
				t.Errorf("the stream ends at %d (%v), want the closing's %d: nothing of the refused payment stored", last, err, closing.Seq)
			}
		})
	}
}

// A write into an ended year still open is fenced and recorded: the fence message before it is a
// claim, not an event, which the readers of the stream leave out, and the employer's chain and
// history hold the payment alone.
func TestAWriteIntoAnEndedOpenYearIsRecordedAfterItsFence(t *testing.T) {
	first, second, id, _ := replicaPair(t)
	ctx := context.Background()
	res, err := first.Execute(ctx, latePayment(id, "R-1"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := first.stream.GetMsg(ctx, res.Seq-1)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Subject != fenceSubject(first.sub) {
		t.Errorf("the message before the late payment is on %s, want its fence on %s", raw.Subject, fenceSubject(first.sub))
	}
	current, err := first.Execute(ctx, Request{EmployerID: id, Today: domain.MustDate("2007-01-10"), Actor: "test",
		Command: &domain.RecordPayment{PaidOn: "2007-01-08", AmountFen: "100", ReceiptNo: "R-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := first.stream.GetMsg(ctx, current.Seq-1); err != nil || raw.Sequence != res.Seq {
		t.Errorf("the message before a payment dated in the current year: %v (%v), want the late payment at %d: no fence", raw, err, res.Seq)
	}
	if err := second.WaitApplied(ctx, current.Seq); err != nil {
		t.Fatal(err)
	}
	if n := second.ChainBreaks(); n != 0 {
		t.Errorf("%d employers with a broken chain after a fence", n)
	}
	var history []uint64
	if err := second.EachEvent(ctx, id, func(ev RawEvent) error {
		history = append(history, ev.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(history) != 3 || history[1] != res.Seq || history[2] != current.Seq {
		t.Errorf("the employer's events at %v, want the registration and the payments at %d and %d", history, res.Seq, current.Seq)
	}
	var delivered []uint64
	end := errors.New("end")
	err = second.Subscribe(ctx, 1, func(ev domain.Event) error {
		delivered = append(delivered, ev.Seq)
		if ev.Seq >= current.Seq {
			return end
		}
		return nil
	})
	if !errors.Is(err, end) {
		t.Fatal(err)
	}
	for _, seq := range delivered {
		if seq == res.Seq-1 {
			t.Errorf("Subscribe delivered the fence at %d as an event: %v", seq, delivered)
		}
	}
}
