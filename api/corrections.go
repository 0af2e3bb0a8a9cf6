package api

import (
	"cmp"
	"net/http"
	"slices"
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
// the counties they read). It reads the period's events once: its cost is the period's.
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
	ref := s.cfg.Store.Reference()
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
	start, err := s.cfg.Store.SeqAt(r.Context(), from.StartInChina())
	if err != nil {
		return err
	}
	see := s.visibleIn(p, ref)
	type key struct{ county, actor string }
	rows := map[key]*CorrectionRow{}
	row := func(county, actor string) *CorrectionRow {
		k := key{county, actor}
		if rows[k] == nil {
			rows[k] = &CorrectionRow{County: county, Actor: actor}
		}
		return rows[k]
	}
	voids := []Correction{}
	truncated := false
	err = s.eachRecorded(r.Context(), start, to, func(ev domain.Event) error {
		if ev.EmployerID == "" {
			return nil
		}
		in := func(c string) bool { return see(c) && (county == "" || ref.SameCounty(county, c)) }
		v, isVoid := ev.Body.(domain.EventVoided)
		if _, claim := ev.Body.(domain.OrgCodeClaimed); claim {
			return nil // appended with the correction of a code, which counts
		}
		if !isVoid {
			if in(ev.County) && isActor(ev.Actor, actor) {
				row(ev.County, ev.Actor).Recorded++
			}
			return nil
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
			return nil
		}
		if len(voids) == correctionList {
			truncated = true
			return nil
		}
		voids = append(voids, Correction{Seq: ev.Seq, RecordedAt: time.Unix(0, ev.RecordedAt).UTC(), EmployerID: ev.EmployerID,
			County: ev.County, Actor: ev.Actor, VoidedOn: v.VoidedOn, EventID: v.TargetID, EventSeq: v.TargetSeq,
			EventType: v.TargetType, EventActor: v.TargetActor, Reason: v.Reason})
		return nil
	})
	if err != nil {
		return err
	}
	out := make([]CorrectionRow, 0, len(rows))
	for _, rw := range rows {
		if rw.Recorded > 0 {
			bp := rw.Voided * 10000 / rw.Recorded
			rw.RateBP = &bp
		}
		rw.Flagged = rw.Voided >= flagVoids && (rw.RateBP == nil || *rw.RateBP >= flagRateBP)
		out = append(out, *rw)
	}
	slices.SortFunc(out, func(a, b CorrectionRow) int {
		return cmp.Or(cmp.Compare(a.County, b.County), cmp.Compare(a.Actor, b.Actor))
	})
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
