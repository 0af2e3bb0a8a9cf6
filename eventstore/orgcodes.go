package eventstore

import (
	"context"

	"github.com/kuozheng/kuozheng/domain"
)

// OrgCodeSlot answers where an organisation code is, as far as the store has followed the
// stream: slot is the employer id a registration of it takes (domain.OrgCodeSlot: the first slot
// that is free or holds the code), holder the employer that holds it ("" when none does; the slot
// itself, or for a code an employer was corrected to, that employer). A row or request naming an
// employer by its code is about holder; a registration goes to slot, where the stream refuses a
// second holder.
func (s *Store) OrgCodeSlot(ctx context.Context, code string) (slot, holder string, err error) {
	for k := 1; ; k++ {
		id := domain.OrgCodeSlot(code, k)
		s.mu.RLock()
		_, recoded := s.recoded[id]
		free := s.foldHead(s.sub.Employer+id).seq == 0
		s.mu.RUnlock()
		switch {
		case free:
			return id, "", nil
		case !recoded:
			return id, id, nil // the employer entered with the code, and keeps it
		}
		at, err := s.codeAt(ctx, id)
		if err != nil {
			return "", "", err
		}
		heldBy, exists, entered := at.heldBy, at.exists, at.code
		switch {
		case heldBy != "":
			h, err := s.codeAt(ctx, heldBy)
			if err != nil {
				return "", "", err
			}
			// The claim is appended just before the holder's correction: a holder not yet
			// folded past it holds the code whatever it reads (the follower may stand between
			// the two).
			if h.code == code || h.version < at.version {
				return id, heldBy, nil
			}
		case !exists || entered == code:
			// Held, or a subject of events that do not decode: a registration there is refused
			// by Decide, or by the chain check, and names why.
			return id, id, nil
		}
		// The employer there (or the one claimed for) was corrected to another code.
	}
}

// codeState is what an employer's subject says of organisation codes.
type codeState struct {
	heldBy  string // the employer its claim is for (a slot no employer entered)
	exists  bool   // an employer entered there
	code    string // its code
	version uint64 // the sequence it is folded through
}

// codeAt reads the codeState of employer id's subject, folded as far as the store has followed.
func (s *Store) codeAt(ctx context.Context, id string) (codeState, error) {
	e, err := s.rlockEmployer(ctx, id)
	if err != nil {
		return codeState{}, err
	}
	defer s.mu.RUnlock()
	if e == nil {
		return codeState{}, nil
	}
	return codeState{heldBy: e.HeldBy, exists: e.Exists(), code: e.OrgCode, version: e.Version}, nil
}

// codeClaimer is a command that corrects an employer to an organisation code, which the store
// must claim for it.
type codeClaimer interface {
	ClaimedCode() string
}

// claimCode adds to u, the unit of employer e's events evs, the claim of the organisation code
// an OrgCodeCorrected among them corrects it to, at slot; holder is who holds the code now. It
// refuses a code another employer holds.
func (s *Store) claimCode(u *unit, e *domain.Employer, evs []domain.Event, slot, holder string) error {
	for _, ev := range evs {
		c, ok := ev.Body.(domain.OrgCodeCorrected)
		if !ok || c.OrgCode == c.Was {
			continue
		}
		if holder != "" && holder != e.ID {
			return domain.Conflict("org_code", "organisation code %s is held by another employer (a clerk of its county finds it by the code): a code is held by one employer", c.OrgCode)
		}
		env := domain.Envelope{ID: newID(), EmployerID: slot, County: ev.County, OccurredOn: ev.OccurredOn, Actor: ev.Actor,
			CorrelationID: ev.CorrelationID, N: 1}
		m, claim, err := chained(s.sub.Employer+slot, env, domain.OrgCodeClaimed{OrgCode: c.OrgCode, By: e.ID, Name: e.Name}, "")
		if err != nil {
			return err
		}
		u.claims = append(u.claims, guardEvent{i: len(u.guards), ev: claim})
		u.guards = append(u.guards, m)
	}
	return nil
}
