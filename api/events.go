package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

// eventsPage is how many events GET /v1/events answers at most; eventsScan bounds how many it
// reads for one answer, so that a rare actor over a long period costs a few requests, each
// bounded, instead of one that reads years.
const (
	eventsPage = 100
	eventsScan = 50_000
)

// RecordedEvent is one row of GET /v1/events: who recorded what, when.
type RecordedEvent struct {
	Seq        uint64      `json:"seq"`
	Type       string      `json:"type"`
	EmployerID string      `json:"employer_id,omitempty"`
	County     string      `json:"county,omitempty"`
	OccurredOn domain.Date `json:"occurred_on"`
	RecordedAt time.Time   `json:"recorded_at"`
	Actor      string      `json:"actor"`
}

// recorded is what a list of events shows of ev.
func recorded(ev domain.Event) RecordedEvent {
	return RecordedEvent{ev.Seq, ev.Type, ev.EmployerID, ev.County, ev.OccurredOn, time.Unix(0, ev.RecordedAt).UTC(), ev.Actor}
}

// events lists the events recorded from one day through another (days in China), by one actor
// when actor is given ("role:name" or the token's name), oldest first, of the counties the
// principal may read. It reads the stream from the first event recorded on from, never before:
// its cost is that of the period, not of the ledger's history.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, err := requiredDate(q.Get("from"), "from")
	if err != nil {
		return err
	}
	to, err := requiredDate(q.Get("to"), "to")
	if err != nil {
		return err
	}
	if to < from {
		return domain.Invalid("to", "%s is before from %s", to, from)
	}
	actor := q.Get("actor")
	ctx := r.Context()
	start := uint64(0)
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return domain.Invalid("cursor", "%q is not a cursor this list gave", v)
		}
		start = n
	} else if start, err = s.cfg.Store.SeqAt(ctx, from.StartInChina()); err != nil {
		return err
	}
	last, err := s.cfg.Store.LastSeq(ctx)
	if err != nil {
		return err
	}
	end := (to + 1).StartInChina().UnixNano()
	see := s.visibleIn(principalOf(r), s.cfg.Store.Reference())
	rows := []RecordedEvent{}
	next := uint64(0) // where the next page starts; 0 when the period is read through
	if start <= last {
		stop := errors.New("page done")
		scanned := 0
		err = s.cfg.Store.Subscribe(ctx, start, func(ev domain.Event) error {
			if ev.RecordedAt >= end {
				return stop
			}
			if len(rows) == eventsPage || scanned == eventsScan {
				next = ev.Seq
				return stop
			}
			scanned++
			if (actor == "" || ev.Actor == actor || actorName(ev.Actor) == actor) && (ev.County == "" || see(ev.County)) {
				rows = append(rows, recorded(ev))
			}
			if ev.Seq >= last {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			return err
		}
	}
	out := map[string]any{"from": from, "to": to, "events": rows}
	if actor != "" {
		out["actor"] = actor
	}
	if next != 0 {
		out["next_cursor"] = strconv.FormatUint(next, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// actorName is the token's name of an actor "role:name".
func actorName(actor string) string {
	if _, name, ok := strings.Cut(actor, ":"); ok {
		return name
	}
	return actor
}

// requiredDate parses a required date of the request, not before 1990, naming field in the error.
func requiredDate(v, field string) (domain.Date, error) {
	if v == "" {
		return 0, domain.Invalid(field, "is required (YYYY-MM-DD)")
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		return 0, domain.Invalid(field, "%v", err)
	}
	return d, domain.CheckNotBeforeEarliest(field, d)
}
