package eventstore

import (
	"context"
	"errors"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// A follower may fold a correction's claim (the first message of its atomic batch) and not yet
// the correction itself: the code is held by the employer the claim names all that while, and a
// registration of it decided then is refused, not sent to the code's next slot.
func TestAClaimFoldedBeforeItsCorrectionHoldsTheCode(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t)
	wrong, right := domain.NumberedOrgCode(9101), domain.NumberedOrgCode(9102)
	reg := func(code string) *domain.RegisterEmployer {
		return &domain.RegisterEmployer{Name: "单位" + code, County: "360702", OrgCode: code, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}
	}
	x, err := s.Execute(ctx, Request{Create: true, Today: replicaToday, Actor: "t", Command: reg(wrong)})
	if err != nil {
		t.Fatal(err)
	}
	corr := Request{EmployerID: x.EmployerID, Today: replicaToday, Actor: "t",
		Command: &domain.CorrectOrgCode{OrgCode: right, CorrectedOn: "2006-06-01", Reason: "r"}}
	if err := check(corr, s.Reference()); err != nil {
		t.Fatal(err)
	}
	slot, holder, err := s.OrgCodeSlot(ctx, right)
	if err != nil {
		t.Fatal(err)
	}
	cu, _, err := s.decide(ctx, x.EmployerID, corr, "", slot, holder)
	if err != nil {
		t.Fatal(err)
	}
	// The stream holds the claim; the follower has not folded the correction after it.
	if _, err := s.com.publish([]*unit{{guards: cu.guards}}, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	got, by, err := s.OrgCodeSlot(ctx, right)
	if err != nil || got != domain.OrgCodeSlot(right, 1) || by != x.EmployerID {
		t.Fatalf("between the claim and its correction, %s is at %s held by %q (%v); want its first slot, held by %s", right, got, by, err, x.EmployerID)
	}
	breq := Request{Create: true, Today: replicaToday, Actor: "t", Command: reg(right)}
	if err := check(breq, s.Reference()); err != nil {
		t.Fatal(err)
	}
	var de *domain.Error
	if _, _, err := s.decide(ctx, got, breq, "", "", ""); !errors.As(err, &de) || de.Kind != domain.KindConflict || de.Field != "org_code" {
		t.Errorf("a registration of %s decided between the claim and its correction: %v, want a conflict on org_code", right, err)
	}
}
