package eventstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

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

// afresh gives req's payment the Again an API request has: its values as sent.
func afresh(req Request) Request {
	cmd := req.Command.(*domain.RecordPayment)
	sent := *cmd
	req.Again = func() error { *cmd = sent; return nil }
	return req
}

// latePayment is a payment dated in 2006, sent on a business date of 2007.
func latePayment(employer, receipt string) Request {
	return Request{EmployerID: employer, Today: domain.MustDate("2007-01-10"), Actor: "test",
		Command: &domain.RecordPayment{PaidOn: "2006-12-20", AmountFen: "100", ReceiptNo: receipt}}
}

// A write dated in a year that has ended, decided through a replica that has not yet followed
// the year's closing through another, is refused when it reaches the stream after the closing,
// decided again on the closed year and answered year_closed; nothing of it is stored. So is one
// with an If-Match that still holds (the conflict is the fence's, not the employer's), and a
// void, dated in the current year, of an event dated in the closed one.
func TestAWriteIntoAYearClosedThroughAnotherReplicaMeanwhileIsRefused(t *testing.T) {
	for _, how := range []string{"alone", "in bulk", "with If-Match", "a void"} {
		t.Run(how, func(t *testing.T) {
			first, second, id, sig := replicaPair(t)
			ctx := context.Background()
			survey, err := first.Execute(ctx, Request{EmployerID: id, Today: replicaToday, Actor: "test",
				Command: &domain.RecordSurvey{AsOf: "2006-12-01", Workforce: "40"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := second.WaitApplied(ctx, survey.Seq); err != nil {
				t.Fatal(err)
			}
			req, field := latePayment(id, "R-9"), "paid_on"
			switch how {
			case "with If-Match":
				req.IfMatch = &survey.Version
			case "a void":
				req.Command, field = &domain.VoidEvent{EventID: survey.EventIDs[0], VoidedOn: "2007-01-08", Reason: "录入错误"}, "event_id"
			}
			release := sync.OnceFunc(second.markPending(yearsSubject(second.sub))) // the follower waits before the closing
			defer release()
			closing := closeYear(t, first, 2006)
			out := make(chan outcome, 1)
			go func() {
				if how == "in bulk" {
					r := second.ExecuteBulk(ctx, []Request{req})[0]
					out <- outcome{r.Result, r.Err}
					return
				}
				res, err := second.Execute(ctx, req)
				out <- outcome{res, err}
			}()
			awaitConflict(t, sig, out, "write into 2006")
			release()
			o := <-out
			var de *domain.Error
			if !errors.As(o.err, &de) || de.Kind != domain.KindYearClosed || de.Field != field {
				t.Fatalf("the write into 2006, decided before the replica followed 2006's closing: %+v %v; want year_closed naming %s", o.res, o.err, field)
			}
			if last, err := second.LastSeq(ctx); err != nil || last != closing.Seq {
				t.Errorf("the stream ends at %d (%v), want the closing's %d: nothing of the refused write stored", last, err, closing.Seq)
			}
		})
	}
}

// reopenedBehind closes 2006 through one of a pair of replicas, lets the other follow, and
// reopens it through the first while the second's follower waits before the reopening until
// release (called when the test ends too). It returns the second and the pair's employer.
func reopenedBehind(t *testing.T) (second *Store, employer string, release func()) {
	t.Helper()
	first, second, employer, _ := replicaPair(t)
	ctx := context.Background()
	closing := closeYear(t, first, 2006)
	if err := second.WaitApplied(ctx, closing.Seq); err != nil {
		t.Fatal(err)
	}
	release = sync.OnceFunc(second.markPending(yearsSubject(second.sub)))
	t.Cleanup(release)
	if _, err := first.ExecuteRef(ctx, RefRequest{Payload: domain.YearReopened{Year: 2006, Reason: "补录"}, On: domain.MustDate("2007-01-08"), Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	return second, employer, release
}

// A write into a year reopened through another replica a moment ago, checked on a replica that
// has not yet followed the reopening, is not refused as dated in a closed year (a final answer
// to its client) but waits for the replica to follow, and is recorded. (A two-replica review:
// 9 of 78 payments sent to B right after a reopening on A were answered 409 year_closed.)
func TestAWriteIntoAYearReopenedThroughAnotherReplicaIsRecorded(t *testing.T) {
	second, id, release := reopenedBehind(t)
	ctx := context.Background()
	held, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := second.Execute(held, afresh(latePayment(id, "R-1")))
	cancel()
	var de *domain.Error
	if errors.As(err, &de) {
		t.Fatalf("a payment into 2006 on a replica behind its reopening: %v; want it to wait for the reopening", err)
	}
	release()
	if _, err := second.Execute(ctx, afresh(latePayment(id, "R-1"))); err != nil {
		t.Fatalf("the payment once the replica followed the reopening: %v", err)
	}
}

// A command checked again on reference data caught up with is checked as it was sent, not as
// its first checks left it: a certificate number they refused (and blanked) is refused again,
// not recorded blank. (A review of the re-check: it recorded such a registration without its
// certificate.)
func TestACommandCheckedAgainAfterAReopeningIsCheckedAsSent(t *testing.T) {
	second, _, release := reopenedBehind(t)
	ctx := context.Background()
	sent := domain.RegisterEmployer{Name: "单位丙", County: "360702", OrgCode: "10000018-X", Kind: "enterprise", RiskClass: "1",
		RegisteredOn: "2006-12-20", CertificateNo: "证\x01号"}
	cmd := sent
	out := make(chan error, 1)
	go func() {
		_, err := second.Execute(ctx, Request{Create: true, Today: domain.MustDate("2007-01-10"), Actor: "test", Command: &cmd,
			Again: func() error { cmd = sent; return nil }})
		out <- err
	}()
	// Refused on 2006 closed, the registration waits for the replica to follow the stream.
	waitBlocked(t, "eventstore.(*Store).Check", "[select]", "[chan receive]")
	release()
	var de *domain.Error
	if err := <-out; !errors.As(err, &de) || de.Kind != domain.KindInvalid || de.Field != "certificate_no" {
		t.Fatalf("a registration with a control character in its certificate number, checked again after 2006 reopened: %v; want it refused naming certificate_no", err)
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
	if raw.Subject != first.sub.Fence() {
		t.Errorf("the message before the late payment is on %s, want its fence on %s", raw.Subject, first.sub.Fence())
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

// A batch's fence counts against its size: a fenced unit that would fill the batch but for the
// fence waits for the next, and no batch goes over the server's largest.
func TestAFenceCountsAgainstTheBatchSize(t *testing.T) {
	c, _ := heldCommitter(t, 4, 1)
	sub := SubjectsOf("")
	c.fenceSubject, c.yearsSubject = sub.Fence(), yearsSubject(sub)
	newUnit := func(subject string, msgs int, fenced bool) *unit {
		u := &unit{subject: subject, fenced: fenced}
		for range msgs {
			u.msgs = append(u.msgs, msg(subject, "x"))
		}
		return u
	}
	deferred := []*unit{newUnit("ledger.x.a", 3, false), newUnit("ledger.x.b", 1, true)}
	c.slots <- struct{}{}
	batch, n := c.gather(context.Background(), &deferred)
	if len(batch) != 1 || n != 3 || len(deferred) != 1 || !deferred[0].fenced {
		t.Fatalf("gathered %d units, %d messages, %d left: want the unfenced unit's 3 messages, the fenced unit left for the next batch", len(batch), n, len(deferred))
	}
	c.release(batch, false)
	c.slots <- struct{}{}
	if batch, n = c.gather(context.Background(), &deferred); len(batch) != 1 || n != 2 || !c.fencing {
		t.Fatalf("then gathered %d units, %d messages (fencing %v): want the fenced unit and its fence, 2 messages", len(batch), n, c.fencing)
	}
}

// A store that is its stream's only writer fences nothing: no closing can come through another.
func TestTheSoleWriterOfAStreamFencesNothing(t *testing.T) {
	emb, err := StartEmbedded(EmbeddedConfig{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	st, err := Open(context.Background(), emb.Conn, Config{SoleWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	ctx := context.Background()
	reg, err := st.Execute(ctx, Request{Create: true, Today: replicaToday, Actor: "test", Command: &domain.RegisterEmployer{
		Name: "单位", County: "360702", OrgCode: "10000004-0", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
	if err != nil {
		t.Fatal(err)
	}
	late, err := st.Execute(ctx, latePayment(reg.EmployerID, "R-1"))
	if err != nil {
		t.Fatal(err)
	}
	if late.Seq != reg.Seq+1 {
		t.Errorf("the late payment at %d, the registration at %d: want no fence between", late.Seq, reg.Seq)
	}
}

// The sole writer fences nothing, but a hold whose own append (a closing) went unanswered, and
// after which it could not read the stream, leaves it unsure whether the year is closed: the
// writes held then go on, and one into the ended year is fenced, refused year_closed once the
// closing is found stored, until the store has read the stream; then it fences nothing again.
func TestTheSoleWriterFencesAfterAHoldsAppendWentUnansweredUntilItCatchesUp(t *testing.T) {
	first, emb := testStore(t)
	sig := &conflictSignal{conflicts: make(chan struct{}, 1)}
	sole, err := Open(context.Background(), emb.Conn, Config{Metrics: sig, SoleWriter: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sole.Close)
	ctx := context.Background()
	reg, err := sole.Execute(ctx, Request{Create: true, Today: replicaToday, Actor: "test", Command: &domain.RegisterEmployer{
		Name: "单位", County: "360702", OrgCode: "10000004-0", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.WaitApplied(ctx, reg.Seq); err != nil {
		t.Fatal(err)
	}
	req := latePayment(reg.EmployerID, "R-1")
	probe := latePayment(reg.EmployerID, "R-0") // checked, so that it has its date
	if err := probe.Command.Check(domain.Context{Ref: sole.Reference(), Today: probe.Today}); err != nil {
		t.Fatal(err)
	}
	if sole.fenced(probe) {
		t.Fatal("the sole writer fences a write into 2006 before any hold")
	}
	release := sync.OnceFunc(sole.markPending(yearsSubject(sole.sub))) // the store cannot read the closing
	defer release()
	var closing Result
	err = sole.HoldWrites(ctx, func(Held) error {
		// The closing is stored, as an append whose answer was lost may be.
		closing = closeYear(t, first, 2006)
		return ErrOutcomeUnknown
	})
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("the hold: %v, want its append's outcome unknown", err)
	}
	if !sole.fenced(probe) || sole.UnsettledHolds() != 1 {
		t.Fatalf("a write into 2006 after the hold: fenced %v, %d holds unsettled; want fenced, 1, though the store has not read the stream since", sole.fenced(probe), sole.UnsettledHolds())
	}
	out := make(chan outcome, 1)
	go func() {
		res, err := sole.Execute(ctx, req)
		out <- outcome{res, err}
	}()
	awaitConflict(t, sig, out, "write into 2006")
	release()
	o := <-out
	var de *domain.Error
	if !errors.As(o.err, &de) || de.Kind != domain.KindYearClosed {
		t.Fatalf("the write into 2006 after the hold: %+v %v; want year_closed", o.res, o.err)
	}
	if last, err := sole.LastSeq(ctx); err != nil || last != closing.Seq {
		t.Errorf("the stream ends at %d (%v), want the closing's %d: nothing of the refused write stored", last, err, closing.Seq)
	}
	for deadline := time.Now().Add(30 * time.Second); sole.fenced(probe); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the store still fences writes into ended years after it has read the stream")
		}
	}
	if n := sole.UnsettledHolds(); n != 0 {
		t.Errorf("%d holds unsettled after the store read the stream, want 0", n)
	}
}
