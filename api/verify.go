package api

import (
	"net/http"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !p.readsAll() {
		writeError(w, forbidden("%s (%s) may not verify the whole ledger", p.Name, p.Role))
		return
	}
	in, err := s.cfg.Store.Verify(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	out := Verification{Integrity: in}
	if s.cfg.Runner != nil {
		vc, err := s.cfg.Runner.VerifyRebuild(r.Context(), s.cfg.Today())
		if err != nil {
			writeError(w, err)
			return
		}
		out.Views = &vc
		out.OK = out.OK && vc.OK
	}
	writeJSON(w, http.StatusOK, out)
}

// Verification is the answer of GET /v1/verify: the stream's integrity (hash chains, sequence
// links, deleted and lost counters) and, where views run, their comparison with a rebuild.
type Verification struct {
	eventstore.Integrity
	Views *projections.ViewCheck `json:"views,omitempty"`
}
