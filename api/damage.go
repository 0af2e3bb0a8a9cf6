package api

import "sync/atomic"

// foundDamage is damage found after start (FoundDamage): by serve's verification of every chain
// from the first event, which runs once the ledger is ready; verified is the sequence it checked
// through (Verified).
type foundDamage struct {
	damage   atomic.Pointer[lateDamage]
	verified atomic.Uint64
}

// lateDamage is damage found after start, and whether it is served as it is.
type lateDamage struct {
	reason   string
	accepted bool
}

// Verified records that every chain was verified from the first event through sequence seq:
// kuozheng_verified_seq reads it.
func (s *Server) Verified(seq uint64) { s.found.verified.Store(seq) }

// FoundDamage records damage found after start, as Config.Damage records damage found at it:
// /readyz answers 503 "damaged" with the reason from now on, unless accepted (--accept-damage),
// and kuozheng_ledger_damaged reads 1 either way. Damage already recorded is kept.
func (s *Server) FoundDamage(reason string, accepted bool) {
	s.found.damage.CompareAndSwap(nil, &lateDamage{reason: reason, accepted: accepted})
}

// damage is why the ledger is damaged, if it is, and whether it is served as it is anyway.
func (s *Server) damage() (reason string, accepted bool) {
	switch {
	case s.cfg.Damage != "":
		return s.cfg.Damage, false
	case s.cfg.AcceptedDamage != "":
		return s.cfg.AcceptedDamage, true
	}
	if d := s.found.damage.Load(); d != nil {
		return d.reason, d.accepted
	}
	return "", false
}
