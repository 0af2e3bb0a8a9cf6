package eventstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// A ledger written before notice numbers were claimed in the stream numbers on from its highest
// notice; a number issued since is claimed, so it is refused to a second notice, also one that
// gives the number itself; readers of the stream never see the claims.
func TestNoticeNumbersOfALedgerWithoutClaimsGoOnFromTheHighest(t *testing.T) {
	first, second, id, _ := replicaPair(t)
	ctx := context.Background()
	prefix := domain.NoticePrefix("章贡区", 2006)
	// A notice of number n is dated 2006-07-0n: a payer gets one notice a day.
	step := func(emp, number string) Request {
		on := "2006-07-0" + number[len(number)-1:]
		return Request{EmployerID: emp, Today: replicaToday, Actor: "test",
			Command: &domain.RecordEnforcement{Step: domain.StepNotice, On: on, DocNo: number, Deadline: "2006-07-15"}}
	}
	// owe declares May and leaves it unpaid: principal overdue on the notices' date.
	owe := func(emp string) {
		t.Helper()
		for _, cmd := range []domain.Command{
			&domain.RecordEnrollment{Insurance: "pension", Headcount: "10", EffectiveOn: "2006-05-01"},
			&domain.FileDeclaration{DeclaredOn: "2006-06-05", Period: "2006-05", Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "10", WageBaseFen: "1000000"}}},
		} {
			if _, err := first.Execute(ctx, Request{EmployerID: emp, Today: replicaToday, Actor: "test", Command: cmd}); err != nil {
				t.Fatal(err)
			}
		}
	}
	owe(id)
	// Three notices as an earlier version recorded them: no claims.
	for n := 1; n <= 3; n++ {
		req := step(id, domain.NoticeNumber(prefix, n))
		if err := check(req, first.Reference()); err != nil {
			t.Fatal(err)
		}
		req.Checked = true
		first.mu.RLock()
		e := first.cache.get(id)
		first.mu.RUnlock()
		payloads, err := decideOn(e, id, req, first.Reference(), nil)
		if err != nil {
			t.Fatal(err)
		}
		u, evs, err := first.build(id, e, e.Version, req, "", payloads)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := first.appendLocal(ctx, u, evs); err != nil {
			t.Fatal(err)
		}
	}
	if err := second.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var issued string
	err := second.WithNoticeNumber(ctx, prefix, func(number string) error {
		issued = number
		_, err := second.Execute(ctx, step(id, number))
		return err
	})
	if err != nil || issued != domain.NoticeNumber(prefix, 4) {
		t.Fatalf("the next notice: %q, %v; want %s", issued, err, domain.NoticeNumber(prefix, 4))
	}
	other, err := first.Execute(ctx, Request{Create: true, Today: replicaToday, Actor: "test", Command: &domain.RegisterEmployer{
		Name: "单位丙", County: "360702", OrgCode: "10000006-7", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
	if err != nil {
		t.Fatal(err)
	}
	owe(other.EmployerID)
	_, err = first.Execute(ctx, step(other.EmployerID, issued))
	var de *domain.Error
	if !errors.Is(err, ErrNoticeNumberTaken) || !errors.As(err, &de) || de.Kind != domain.KindConflict || de.Field != "doc_no" {
		t.Fatalf("a second notice numbered %s: %v, want ErrNoticeNumberTaken and a conflict on doc_no", issued, err)
	}
	last, err := first.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seen uint64
	stop := errors.New("done")
	err = first.Subscribe(ctx, 1, func(ev domain.Event) error {
		if ev.Body == nil {
			t.Errorf("Subscribe delivered message %d with no event (%s)", ev.Seq, ev.Type)
		}
		seen++
		if ev.Seq >= last {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatal(err)
	}
	if seen != last-1 {
		t.Fatalf("Subscribe delivered %d of %d messages, want all but the one claim", seen, last)
	}
	first.mu.RLock()
	claims := 0
	for subject := range first.heads {
		if strings.HasPrefix(subject, NoticeNumberPrefix) {
			claims++
		}
	}
	first.mu.RUnlock()
	if claims != 1 {
		t.Fatalf("%d claims folded, want the one of %s", claims, issued)
	}
}
