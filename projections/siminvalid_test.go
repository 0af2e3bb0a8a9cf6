package projections_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// invalid runs a command that must be refused whatever the payer's state.
func (s *simulation) invalid(p *simPayer) {
	req := eventstore.Request{EmployerID: p.id}
	var exp expect
	switch s.intn(6) {
	case 0:
		req.Command = &domain.RecordPayment{PaidOn: s.today.AddDays(1 + s.intn(30)).String(), AmountFen: "100", ReceiptNo: "FUTURE"}
		exp = expect{domain.KindInvalid, "payment"}
	case 1:
		req.Command = &domain.RecordPayment{PaidOn: "2006-04-31", AmountFen: "100", ReceiptNo: "APR31"}
		exp = expect{domain.KindInvalid, "payment"}
	case 2:
		req.Command = &domain.FileDeclaration{DeclaredOn: s.today.String(), Period: s.today.Period().String(),
			Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "1", WageBaseFen: "-5"}}}
		exp = expect{domain.KindInvalid, "declaration"}
	case 3:
		req.EmployerID = "00000000-0000-7000-8000-000000000000"
		req.Command = &domain.RecordPayment{PaidOn: s.today.String(), AmountFen: "100", ReceiptNo: "NOBODY"}
		exp = expect{domain.KindNotFound, "payment"}
	case 4:
		req.Command = &domain.RecordPayment{PaidOn: s.today.String(), AmountFen: "100", ReceiptNo: "OVER",
			Allocations: []domain.AllocationInput{{Insurance: "pension", Period: "2006-05", AmountFen: "101"}}}
		exp = expect{domain.KindInvalid, "payment"}
	case 5:
		if s.lockedThrough == 0 {
			return
		}
		on := s.lockedThrough.AddDays(-s.intn(200))
		req.Command = &domain.RecordPayment{PaidOn: on.String(), AmountFen: "100", ReceiptNo: "CLOSED"}
		exp = expect{domain.KindYearClosed, "year_closed"}
	}
	s.exec(p, req, exp, nil)
}

// burst runs payments (and refused duplicates) from four goroutines at once, on three payers
// they share and one each. Every payment has a date of its own, so the fold's order (date, then
// sequence) and so every balance are the same whichever writer wins each race.
func (s *simulation) burst() {
	const writers, each = 4, 6
	first := s.today.AddDays(-writers * each)
	var eligible []*simPayer
	for _, p := range s.payers {
		// Not a payer with a principal waiver dated in the burst's days: a payment dated before
		// it may be refused (it would pay what the waiver took), as pay's model decides.
		waived := slices.ContainsFunc(p.events, func(e *mEvent) bool { return e.kind == mWaivePrincipal && e.date >= first })
		if p.entered <= first && s.lockedThrough < first && !waived {
			eligible = append(eligible, p)
		}
	}
	if len(eligible) < writers+3 {
		s.command()
		return
	}
	type op struct {
		p       *simPayer
		cmd     *domain.RecordPayment
		e       *mEvent
		refused bool
	}
	plans := make([][]op, writers)
	for g := range writers {
		own := eligible[3+g]
		for i := range each {
			p := eligible[s.intn(3)]
			if s.chance(30) {
				p = own
			}
			d := s.today.AddDays(-(g*each + i))
			amount := int64(1 + s.intn(200000))
			receipt := fmt.Sprintf("B%d-%d-%d", s.step, g, i)
			plans[g] = append(plans[g], op{p: p, cmd: &domain.RecordPayment{PaidOn: d.String(), AmountFen: fen(amount), ReceiptNo: receipt},
				e: &mEvent{kind: mPay, date: d, amount: amount, receipt: receipt}})
		}
		dup := plans[g][0]
		plans[g] = append(plans[g], op{p: dup.p, refused: true, cmd: &domain.RecordPayment{PaidOn: s.today.String(), AmountFen: "1", ReceiptNo: dup.cmd.ReceiptNo}})
	}
	before, fencesBefore := s.lastSeq(), s.fences()
	results := make([][]eventstore.Result, writers)
	errs := make([][]error, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for _, o := range plans[g] {
				ctx, cancel := s.ctx()
				res, err := s.store().Execute(ctx, eventstore.Request{EmployerID: o.p.id, Command: o.cmd, Today: s.today, Actor: fmt.Sprint("writer", g)})
				cancel()
				results[g] = append(results[g], res)
				errs[g] = append(errs[g], err)
			}
		})
	}
	wg.Wait()
	appended := uint64(0)
	for g := range writers {
		for i, o := range plans[g] {
			err := errs[g][i]
			var de *domain.Error
			switch {
			case o.refused && (!errors.As(err, &de) || de.Kind != domain.KindConflict):
				s.fatalf("writer %d: a second payment with receipt %s: got %v, want a conflict", g, o.cmd.ReceiptNo, err)
			case o.refused:
				s.counts["refused:burst"]++
			case err != nil:
				s.fatalf("writer %d: payment %+v refused: %v", g, o.cmd, err)
			default:
				appended += uint64(len(results[g][i].EventIDs))
				o.p.standing[o.cmd.ReceiptNo] = o.e
				s.record(o.p, results[g][i], o.e)
				s.counts["ok:burst"]++
			}
		}
	}
	// Payments dated in a year that has ended go with a fence each batch (eventstore's Store.fenced).
	if after, fences := s.lastSeq(), s.fences()-fencesBefore; after-before-fences != appended {
		s.fatalf("concurrent writers: the stream grew by %d events and %d fences, the accepted payments made %d", after-before-fences, fences, appended)
	}
	for _, p := range eligible[:writers+3] {
		s.checkPayerInvariants(p, s.today)
	}
}
