package api

import (
	"context"
	"net/http"
	"time"
)

// Warm computes the live report, so the first reader does not wait for it.
func (s *Server) Warm() {
	if s.cfg.Runner != nil {
		if _, err := s.cfg.Runner.Report(context.Background(), s.liveQuery()); err != nil {
			s.cfg.Log.Warn("live report", "err", err)
		}
	}
}

// WarmWhenReady computes the live report once the views have caught up, and until then has
// /readyz answer 503 "warming up": the report is seconds of work on a large ledger, and a
// server that reports ready must answer its readers at full speed, not beside it.
func (s *Server) WarmWhenReady(ctx context.Context) {
	if s.cfg.Runner == nil {
		return
	}
	s.warming.Store(true)
	go func() {
		for !s.cfg.Runner.Ready() {
			select {
			case <-ctx.Done():
				return
			case <-s.cfg.Runner.Changed():
			case <-time.After(100 * time.Millisecond):
			}
		}
		start := time.Now()
		s.Warm()
		s.cfg.Log.Info("live report computed", "took", time.Since(start).Round(time.Millisecond))
		s.warming.Store(false)
	}()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Damage != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "damaged", "reason": s.cfg.Damage,
			"what_to_do": "inspect with kuozheng verify; restart with --accept-damage to serve the ledger as it is"})
		return
	}
	if s.cfg.Connected != nil {
		if err := s.cfg.Connected(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "disconnected", "reason": err.Error()})
			return
		}
	}
	if s.cfg.Runner == nil || !s.cfg.Runner.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "catching up"})
		return
	}
	if s.warming.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "warming up"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "seq": s.cfg.Runner.Seq()})
}
