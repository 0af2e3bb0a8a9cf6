package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// Where each organisation code is, the store knows again after a start from its snapshot: the
// code a payer was corrected to is held by it, the code it left is free at its next slot.
func TestWhereACodeIsHeldSurvivesARestartFromASnapshot(t *testing.T) {
	ctx := context.Background()
	l := storetest.Start(t, snapshotConfig(t.TempDir(), nil))
	today := domain.MustDate("2006-12-31")
	wrong, right := domain.NumberedOrgCode(8401), domain.NumberedOrgCode(8402)
	reg := func(code string) (eventstore.Result, error) {
		return l.Store.Execute(ctx, eventstore.Request{Create: true, Today: today, Actor: "clerk:a", Command: &domain.RegisterEmployer{
			Name: "单位" + code, County: "360702", OrgCode: code, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
	}
	a, err := reg(wrong)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: a.EmployerID, Today: today, Actor: "clerk:a",
		Command: &domain.CorrectOrgCode{OrgCode: right, CorrectedOn: "2006-06-01", Reason: "录错"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Store.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	l.Store.SnapshotNow()
	crashAndRestart(t, l)
	if l.Store.Folded() != 0 {
		t.Fatalf("the restart folded %d messages, want none: it starts from the snapshot", l.Store.Folded())
	}
	// The claim's subject is no employer.
	if ids := l.Store.EmployerIDs(); len(ids) != 1 || ids[0] != a.EmployerID {
		t.Errorf("the employers are %v, want only %s", ids, a.EmployerID)
	}
	if in, err := l.Store.Verify(ctx); err != nil || in.Employers != 1 {
		t.Errorf("verify counts %d employers (%v), want 1", in.Employers, err)
	}
	slot, holder, err := l.Store.OrgCodeSlot(ctx, right)
	if err != nil || holder != a.EmployerID || slot != domain.OrgCodeSlot(right, 1) {
		t.Errorf("code %s: slot %s held by %q (%v), want its first slot held by the corrected payer %s", right, slot, holder, err, a.EmployerID)
	}
	slot, holder, err = l.Store.OrgCodeSlot(ctx, wrong)
	if err != nil || holder != "" || slot != domain.OrgCodeSlot(wrong, 2) {
		t.Errorf("code %s: slot %s held by %q (%v), want its second slot, free", wrong, slot, holder, err)
	}
	var de *domain.Error
	if _, err := reg(right); !errors.As(err, &de) || de.Kind != domain.KindConflict {
		t.Errorf("a registration of the code the payer holds: %v, want a conflict", err)
	}
	if b, err := reg(wrong); err != nil || b.EmployerID != domain.OrgCodeSlot(wrong, 2) {
		t.Errorf("a registration of the code left behind: %+v %v, want it at the code's second slot", b, err)
	}
}

// The replica that records a correction knows the code's new holder when it answers: an import
// right after it finds the payer by its new code, not the code's empty slot.
func TestTheReplicaThatCorrectsACodeKnowsItsHolderAtOnce(t *testing.T) {
	ctx := context.Background()
	l := storetest.Start(t, eventstore.Config{})
	today := domain.MustDate("2006-12-31")
	for i := range 20 {
		wrong, right := domain.NumberedOrgCode(8500+2*i), domain.NumberedOrgCode(8501+2*i)
		a, err := l.Store.Execute(ctx, eventstore.Request{Create: true, Today: today, Actor: "clerk:a", Command: &domain.RegisterEmployer{
			Name: "单位" + wrong, County: "360702", OrgCode: wrong, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Store.Execute(ctx, eventstore.Request{EmployerID: a.EmployerID, Today: today, Actor: "clerk:a",
			Command: &domain.CorrectOrgCode{OrgCode: right, CorrectedOn: "2006-06-01", Reason: "录错"}}); err != nil {
			t.Fatal(err)
		}
		if _, holder, err := l.Store.OrgCodeSlot(ctx, right); err != nil || holder != a.EmployerID {
			t.Fatalf("round %d: right after the correction, %s is held by %q (%v), want %s", i, right, holder, err, a.EmployerID)
		}
	}
}
