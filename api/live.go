package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// MaxLiveEach is how many live streams (GET /v1/live) one principal may hold open at once: a
// stream holds a connection and a goroutine for as long as its client stays, and a page holds
// one only while it is shown. Each person has a token of their own, so a person's browsers and
// devices are far below it; a client that opens streams in a loop is refused past it, and
// never takes another principal's.
const MaxLiveEach = 32

// DefaultLiveSendWait is Config.LiveSendWait's default: a reader that has taken nothing for this
// long after its buffers filled (minutes of events) is not reading.
const DefaultLiveSendWait = 30 * time.Second

// live streams server-sent events: each time the views advance, the sequence and the city's
// headline figures for the default query; clients re-read what they show.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Runner == nil {
		writeError(w, &domain.Error{Kind: domain.KindUnavailable, Detail: "the views are not running on this server"})
		return
	}
	if _, ok := w.(http.Flusher); !ok {
		writeError(w, &domain.Error{Kind: domain.KindUnavailable, Detail: "streaming is not supported here"})
		return
	}
	// figures=none: the events carry no figures, for a page that re-reads what it shows (the
	// dashboard), the city's figures being most of an event's bytes.
	withCity := true
	switch v := r.URL.Query().Get("figures"); v {
	case "", "city":
	case "none":
		withCity = false
	default:
		writeError(w, domain.Invalid("figures", "%q is not a choice of figures: city (the default) or none", domain.Clip(v, 32)))
		return
	}
	p := principalOf(r)
	if !s.watching.take(p, MaxLiveEach) {
		w.Header().Set("Retry-After", "30")
		writeError(w, &domain.Error{Kind: domain.KindUnavailable,
			Detail: fmt.Sprintf("%s has %d live streams open already, the most one may at once: close a page that follows the ledger live, or retry later", p.Name, MaxLiveEach)})
		return
	}
	defer s.watching.put(p)
	rc := http.NewResponseController(w)
	wait := s.cfg.LiveSendWait
	if wait <= 0 {
		wait = DefaultLiveSendWait
	}
	// emit writes and flushes, each with its own deadline: a client that stops reading is cut
	// off once its buffers are full, not held (with its place among MaxLiveEach) for ever.
	emit := func(format string, a ...any) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(wait)); err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, format, a...); err != nil {
			return false
		}
		if rc.Flush() != nil {
			return false
		}
		// None between writes: over HTTP/2 a deadline is a timer that resets the stream even
		// while nothing is written (a report that takes long to compute).
		return rc.SetWriteDeadline(time.Time{}) == nil
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(s.cfg.Runner.Seq(), 10))
	w.WriteHeader(http.StatusOK)
	full := p.readsAll()
	send := func() bool {
		q := s.liveQuery()
		ev := map[string]any{"seq": s.cfg.Runner.Seq(), "as_of": q.AsOf, "period": q.Period}
		if withCity {
			rep, err := s.cfg.Runner.Report(r.Context(), q)
			if err != nil {
				return r.Context().Err() == nil
			}
			city := rep.City
			if !full {
				// A scoped reader sees the sum of its counties, never the city's.
				city = projections.Sum("visible counties", visibleCounties(s.visibleIn(p, rep.Ref), rep.Counties))
			}
			ev["seq"], ev["city"] = rep.Seq, city
		}
		ev["caught_up"], ev["head"] = s.cfg.Runner.Ready(), s.cfg.Store.Applied()
		b, _ := json.Marshal(ev)
		return emit("id: %d\nevent: views\ndata: %s\n\n", ev["seq"], b)
	}
	// Listen before reading, so an event applied while a report is built still wakes us.
	changed := s.cfg.Runner.Changed()
	if !send() {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.ending:
			return
		case <-ping.C:
			if !emit(": ping\n\n") {
				return
			}
		case <-changed:
			// Coalesce bursts: at most a few updates a second.
			select {
			case <-time.After(200 * time.Millisecond):
			case <-r.Context().Done():
				return
			case <-s.ending:
				return
			}
			changed = s.cfg.Runner.Changed()
			if !send() {
				return
			}
		}
	}
}
