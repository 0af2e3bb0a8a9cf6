package api

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

// A correction rate that spikes is what 责任追究 looks for: an actor is flagged when, in the
// period, at least flagVoids of the events they recorded were voided and those are at least
// flagRateBP of the events they recorded there.
const (
	flagVoids      = 3
	flagRateBP     = 500
	correctionDays = 366 // the longest period one answer reads
	correctionList = 500 // the most voids one answer lists
)

// CorrectionRow is one county and actor of GET /v1/corrections.
type CorrectionRow struct {
	County string `json:"county"`
	Actor  string `json:"actor"`
	// Recorded counts the events the actor recorded in the period, voids left out; Voided the
	// voids recorded in the period of events the actor recorded (whenever, in this county);
	// VoidsMade the voids the actor recorded. Voided may exceed Recorded.
	Recorded  int  `json:"recorded"`
	Voided    int  `json:"voided"`
	VoidsMade int  `json:"voids_made"`
	RateBP    *int `json:"rate_bp"` // Voided / Recorded in basis points; null when nothing was recorded
	Flagged   bool `json:"flagged"`
}

// Correction is one void of GET /v1/corrections.
type Correction struct {
	Seq        uint64      `json:"seq"`
	RecordedAt time.Time   `json:"recorded_at"`
	EmployerID string      `json:"employer_id"`
	County     string      `json:"county"`
	Actor      string      `json:"actor"`
	VoidedOn   domain.Date `json:"voided_on"`
	EventID    string      `json:"event_id"`
	EventSeq   uint64      `json:"event_seq"`
	EventType  string      `json:"event_type"`
	EventActor string      `json:"event_actor"`
	Reason     string      `json:"reason"`
}

// corrections answers GET /v1/corrections: the voids recorded from one day through another, per
// county and actor beside the events each recorded, for auditors, admins and supervisors (of
// the counties they read). A period's events are read once for each scope and filter asked
// for: a read again (the dashboard's, every 30 s) reads only what was recorded since.
func (s *Server) corrections(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	if p.Role != RoleAuditor && p.Role != RoleAdmin && p.Role != RoleSupervisor {
		return forbidden("%s (%s) may not read corrections: auditors, supervisors and admins only", p.Name, p.Role)
	}
	q := r.URL.Query()
	from, to, err := recordedPeriod(q)
	if err != nil {
		return err
	}
	if to-from >= correctionDays {
		return domain.Invalid("to", "the period from %s through %s is longer than %d days: ask for a year at most", from, to, correctionDays)
	}
	ref, refSeq := s.referenceNow()
	county := q.Get("county")
	if county != "" {
		if _, ok := ref.County(county); !ok {
			return domain.Invalid("county", "%q is not a county code", domain.Clip(county, 16))
		}
		if err := countyInScope(p, county, ref); err != nil {
			return err
		}
	}
	actor := q.Get("actor")
	last, err := s.cfg.Store.LastSeq(r.Context())
	if err != nil {
		return err
	}
	// The rows are counted by the reference data (the scope's counties, one county's renames):
	// a change of them starts another tally.
	t := s.tallies.get(tallyKey{from: from, to: to, county: county, actor: actor, scope: scopeOf(p), refSeq: refSeq})
	see := s.visibleIn(p, ref)
	in := func(c string) bool { return see(c) && (county == "" || ref.SameCounty(county, c)) }
	out, voids, truncated, err := s.extend(r.Context(), t, from, to, last, in, actor)
	if err != nil {
		return err
	}
	answer := map[string]any{"from": from, "to": to, "rows": out, "voids": voids}
	if county != "" {
		answer["county"] = county
	}
	if actor != "" {
		answer["actor"] = actor
	}
	if truncated {
		answer["voids_truncated"] = true
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// referenceNow answers the reference data and the sequence of the last reference event they
// fold, read together.
func (s *Server) referenceNow() (*domain.Reference, uint64) {
	const every = math.MaxUint64 - 1 // ReferenceSeq(seq) looks at seq+1
	for {
		seq := s.cfg.Store.ReferenceSeq(every)
		ref := s.cfg.Store.Reference()
		// A reference event folded meanwhile has moved the sequence: read both again.
		if s.cfg.Store.ReferenceSeq(every) == seq {
			return ref, seq
		}
	}
}

// tally is what GET /v1/corrections gathered of one period for one scope and filter: the rows
// and voids of the events it read, through sequence next-1.
type tally struct {
	mu        sync.Mutex
	begun     bool   // next is the period's first sequence or later
	next      uint64 // the first sequence not read
	ended     bool   // an event recorded after the period was read: none will join it
	rows      map[correctionKey]*CorrectionRow
	voids     []Correction
	truncated bool
	used      uint64 // when it was last asked for, in the tallies' count of asks
}

type correctionKey struct{ county, actor string }

// tallyKey names a tally by all its rows are a function of.
type tallyKey struct {
	from, to      domain.Date
	county, actor string
	scope         string
	refSeq        uint64
}

// tallies are the corrections' tallies asked for lately, and a count of the events read.
type tallies struct {
	mu   sync.Mutex
	m    map[tallyKey]*tally
	asks uint64
	read atomic.Uint64
}

// maxTallies bounds the tallies kept: each is a few rows per county and actor and at most
// correctionList voids; the one asked for least lately goes first.
const maxTallies = 64

// get answers the tally of k, a new one when there is none.
func (ts *tallies) get(k tallyKey) *tally {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.asks++
	t := ts.m[k]
	if t == nil {
		if ts.m == nil {
			ts.m = map[tallyKey]*tally{}
		}
		if len(ts.m) >= maxTallies {
			var oldest *tally
			var key tallyKey
			for k, o := range ts.m {
				if oldest == nil || o.used < oldest.used {
					oldest, key = o, k
				}
			}
			delete(ts.m, key)
		}
		t = &tally{rows: map[correctionKey]*CorrectionRow{}}
		ts.m[k] = t
	}
	t.used = ts.asks
	return t
}

// extend reads into t what the stream recorded in the period through sequence last that t has
// not read, and answers t's rows, rated and in order, and its voids. A read cut short leaves t
// where it got to.
func (s *Server) extend(ctx context.Context, t *tally, from, to domain.Date, last uint64, in func(string) bool, actor string) ([]CorrectionRow, []Correction, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := s.scan(ctx, t, from, to, last, in, actor); err != nil {
		return nil, nil, false, err
	}
	out := make([]CorrectionRow, 0, len(t.rows))
	for _, rw := range t.rows {
		rw := *rw
		if rw.Recorded > 0 {
			bp := rw.Voided * 10000 / rw.Recorded
			rw.RateBP = &bp
		}
		rw.Flagged = rw.Voided >= flagVoids && (rw.RateBP == nil || *rw.RateBP >= flagRateBP)
		out = append(out, rw)
	}
	slices.SortFunc(out, func(a, b CorrectionRow) int {
		return cmp.Or(cmp.Compare(a.County, b.County), cmp.Compare(a.Actor, b.Actor))
	})
	return out, append([]Correction{}, t.voids...), t.truncated, nil
}

// scan reads into t, held by the caller, the events recorded in the period through sequence
// last that it has not read.
func (s *Server) scan(ctx context.Context, t *tally, from, to domain.Date, last uint64, in func(string) bool, actor string) error {
	if t.ended {
		return nil
	}
	begin := from.StartInChina()
	if !t.begun {
		start, err := s.cfg.Store.SeqAt(ctx, begin)
		if err != nil {
			return err
		}
		t.next, t.begun = start, true
	}
	start := begin.UnixNano()
	sc, err := s.eachRecorded(ctx, t.next, last, to, func(ev domain.Event) error {
		s.tallies.read.Add(1)
		// Before the period: a period asked for before it began starts at the stream's end.
		if ev.RecordedAt >= start {
			t.add(ev, in, actor)
		}
		return nil
	})
	// Where it stopped, also when cut short: what it read is in t.
	t.next, t.ended = sc.next, sc.ended
	return err
}

// add counts ev in t's rows, and lists it when it is a void, for the counties in reports and
// the actor asked for ("" for all).
func (t *tally) add(ev domain.Event, in func(string) bool, actor string) {
	if ev.EmployerID == "" {
		return
	}
	if _, claim := ev.Body.(domain.OrgCodeClaimed); claim {
		return // appended with the correction of a code, which counts
	}
	row := func(county, actor string) *CorrectionRow {
		k := correctionKey{county, actor}
		if t.rows[k] == nil {
			t.rows[k] = &CorrectionRow{County: county, Actor: actor}
		}
		return t.rows[k]
	}
	v, isVoid := ev.Body.(domain.EventVoided)
	if !isVoid {
		if in(ev.County) && isActor(ev.Actor, actor) {
			row(ev.County, ev.Actor).Recorded++
		}
		return
	}
	listed := false
	if in(ev.County) && isActor(ev.Actor, actor) {
		row(ev.County, ev.Actor).VoidsMade++
		listed = true
	}
	// A mistake counts where it was recorded: the employer may have moved since.
	if tc := cmp.Or(v.TargetCounty, ev.County); in(tc) && isActor(v.TargetActor, actor) {
		row(tc, v.TargetActor).Voided++
		listed = true
	}
	if !listed {
		return
	}
	if len(t.voids) == correctionList {
		t.truncated = true
		return
	}
	t.voids = append(t.voids, Correction{Seq: ev.Seq, RecordedAt: time.Unix(0, ev.RecordedAt).UTC(), EmployerID: ev.EmployerID,
		County: ev.County, Actor: ev.Actor, VoidedOn: v.VoidedOn, EventID: v.TargetID, EventSeq: v.TargetSeq,
		EventType: v.TargetType, EventActor: v.TargetActor, Reason: v.Reason})
}
