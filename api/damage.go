package api

import "sync/atomic"

// foundDamage is damage found after start (FoundDamage): by serve's verification of every chain
// from the first event, which runs once the ledger is ready.
type foundDamage struct {
	reason   atomic.Pointer[string]
	accepted atomic.Bool
}

// FoundDamage records damage found after start, as Config.Damage records damage found at it:
// /readyz answers 503 "damaged" with the reason from now on, unless accepted (--accept-damage),
// and kuozheng_ledger_damaged reads 1 either way. Damage already recorded is kept.
func (s *Server) FoundDamage(reason string, accepted bool) {
	if s.found.reason.CompareAndSwap(nil, &reason) {
		s.found.accepted.Store(accepted)
	}
}

// damage is why the ledger is damaged, if it is, and whether it is served as it is anyway.
func (s *Server) damage() (reason string, accepted bool) {
	switch {
	case s.cfg.Damage != "":
		return s.cfg.Damage, false
	case s.cfg.AcceptedDamage != "":
		return s.cfg.AcceptedDamage, true
	}
	if r := s.found.reason.Load(); r != nil {
		return *r, s.found.accepted.Load()
	}
	return "", false
}
