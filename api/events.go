package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
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
// when actor is given ("role:name" or the token's name), oldest first, for auditors and admins
// (API.md), who read every county. It reads the stream from the first event recorded on from, never before:
// its cost is that of the period, not of the ledger's history.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	if p := principalOf(r); p.Role != RoleAuditor && p.Role != RoleAdmin {
		return forbidden("%s (%s) may not list who recorded what: auditors and admins only", p.Name, p.Role)
	}
	q := r.URL.Query()
	from, to, err := recordedPeriod(q)
	if err != nil {
		return err
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
	rows := []RecordedEvent{}
	next := uint64(0) // where the next page starts; 0 when the period is read through
	scanned := 0
	_, err = s.eachRecorded(ctx, start, last, to, func(ev domain.Event) error {
		if len(rows) == eventsPage || scanned == eventsScan {
			next = ev.Seq
			return errStopScan
		}
		scanned++
		if isActor(ev.Actor, actor) {
			rows = append(rows, recorded(ev))
		}
		return nil
	})
	if err != nil {
		return err
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

// isActor reports whether an event's actor ("role:name") is the one asked for, given as
// "role:name" or as the token's name; every actor is when none is asked for.
func isActor(actor, asked string) bool {
	return asked == "" || actor == asked || domain.ActorName(actor) == asked
}

// errStopScan ends an eachRecorded scan early, without error.
var errStopScan = errors.New("scan stopped")

// recordedScan is where an eachRecorded scan stopped.
type recordedScan struct {
	// next is the first sequence not handed on: those before it were, or were no event (a
	// claim of a notice number).
	next uint64
	// ended is set when an event recorded after the scan's last day was met: the stream's
	// times only grow, so none after it is of the period.
	ended bool
}

// eachRecorded calls fn with the events from sequence start through last that were recorded on
// or before day to (in China), in order, until fn answers errStopScan, and says where it
// stopped (also when it failed, or fn did).
func (s *Server) eachRecorded(ctx context.Context, start, last uint64, to domain.Date, fn func(domain.Event) error) (recordedScan, error) {
	sc := recordedScan{next: start}
	if start > last {
		return sc, nil
	}
	end := (to + 1).StartInChina().UnixNano()
	err := s.cfg.Store.Subscribe(ctx, start, func(ev domain.Event) error {
		switch {
		case ev.Seq > last:
			sc.next = last + 1
			return errStopScan
		case ev.RecordedAt >= end:
			sc.ended = true
			return errStopScan
		}
		if err := fn(ev); err != nil {
			return err
		}
		sc.next = ev.Seq + 1
		if ev.Seq >= last {
			return errStopScan
		}
		return nil
	})
	if errors.Is(err, errStopScan) {
		return sc, nil
	}
	return sc, err
}

// recordedPeriod reads the days from and to (in China) of a list of recorded events.
func recordedPeriod(q url.Values) (from, to domain.Date, err error) {
	if from, err = requiredDate(q.Get("from"), "from"); err != nil {
		return 0, 0, err
	}
	if to, err = requiredDate(q.Get("to"), "to"); err != nil {
		return 0, 0, err
	}
	if to < from {
		return 0, 0, domain.Invalid("to", "%s is before from %s", to, from)
	}
	return from, to, nil
}

// requiredDate parses a required date of the request, from 1990 through 2199, naming field in the
// error.
func requiredDate(v, field string) (domain.Date, error) {
	if v == "" {
		return 0, domain.Invalid(field, "is required (YYYY-MM-DD)")
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		return 0, domain.Invalid(field, "%v", err)
	}
	return d, domain.CheckWithinLedger(field, d)
}
