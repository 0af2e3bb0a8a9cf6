package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

func (s *Server) yearRoutes() {
	s.mux.HandleFunc("GET /v1/years", s.auth(s.storeRead(s.listYears)))
	s.mux.HandleFunc("POST /v1/years/{year}/close", s.auth(s.closeYear))
	s.mux.HandleFunc("POST /v1/years/{year}/reopen", s.auth(s.reopenYear))
}

// CloseYearRequest is the body of POST /v1/years/{year}/close: the freeze to close after, or
// none for the latest freeze valid through the year's 31 December.
type CloseYearRequest struct {
	FreezeID string `json:"freeze_id"`
}

// ReopenYearRequest is the body of POST /v1/years/{year}/reopen.
type ReopenYearRequest struct {
	Reason string `json:"reason"`
}

// pathYear reads the {year} of the path: a year from 1990 that today's business date has ended.
func (s *Server) pathYear(r *http.Request) (int, error) {
	v := r.PathValue("year")
	y, err := strconv.Atoi(v)
	earliest := domain.EarliestDate.Year()
	switch {
	case err != nil || len(v) != 4:
		return 0, domain.Invalid("year", "%q is not a year (YYYY)", v)
	case y < earliest:
		return 0, domain.Invalid("year", "%d is before %d", y, earliest)
	case y >= s.cfg.Today().Year():
		return 0, domain.Invalid("year", "%d has not ended by today's business date %s", y, s.cfg.Today())
	}
	return y, nil
}

func (s *Server) closeYear(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.Role != RoleAssessor && p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not close years: the assessment team and admins only", p.Name, p.Role))
		return
	}
	year, err := s.pathYear(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var body CloseYearRequest
	canon, err := s.readWriteBody(w, r, &body)
	if err != nil {
		writeError(w, err)
		return
	}
	// A retry answers the first result at any later time, before the figures are checked: they
	// may have moved since (the year reopened and corrected, a rule corrected by an upgrade).
	if res, ok, err := s.retried(r.Context(), r, canon); ok {
		if err != nil {
			writeError(w, err)
			return
		}
		reflects(w, res.Seq)
		writeJSON(w, writeStatus(res.Duplicate), res)
		return
	}
	// The year's figures are checked against the freeze, and the closing appended, with this
	// server's writes held: none lands between. The closing is appended only if the stream is
	// still at the sequence the check was made at: a write through another replica meanwhile
	// sends it back, to be checked again if that write could move the year (README).
	var res eventstore.Result
	ctx, cancel := context.WithTimeout(r.Context(), WriteTimeout) // writes wait for it
	defer cancel()
	end, err := domain.DateOf(year, time.December, 31)
	if err != nil {
		writeError(w, domain.Invalid("year", "%v", err))
		return
	}
	err = s.cfg.Store.HoldWrites(ctx, func(held eventstore.Held) error {
		// Asked again now that this server has caught up: the key may have come through
		// another replica that this one had not followed.
		if first, ok, err := s.retried(ctx, r, canon); ok {
			res = first
			return err
		}
		var f eventstore.FreezeRef
		var old oldRules // what moves f's figures by the rules it is counted by, beside dates
		check := func() error {
			// What the books allow first: a year closed with a later one needs no freeze.
			if err := domain.CheckClosable(s.cfg.Store.Reference(), year); err != nil {
				return err
			}
			var err error
			if f, err = s.yearEndFreeze(year, body.FreezeID); err != nil {
				return err
			}
			version, err := s.unchangedSince(r, year, f)
			if err != nil {
				return err
			}
			old = oldRules{}
			if version != "" { // "": the year compacted, which the closing's decision refuses
				if !projections.ReadsDeclarationInForce(version) {
					old.floorPeriod = projections.FreezeQuery(s.viewsRef(), f.ValidThrough).Period
				}
				old.profileNow = !projections.ReadsProfileAsOf(version)
			}
			return nil
		}
		at := s.cfg.Store.Applied() // the check covers at least this
		if err := check(); err != nil {
			return err
		}
		for try, rechecks := 1, 0; ; try++ {
			afterAt := func(_ context.Context, req eventstore.RefRequest) (eventstore.Result, error) {
				req.AfterSeq = at
				return held.ExecuteRef(ctx, req) // within WriteTimeout, as the writes held wait
			}
			var err error
			res, err = s.appendRef(r, afterAt, canon, domain.YearClosed{Year: year, FreezeID: f.ID, Digest: f.Digest}, s.cfg.Today())
			switch {
			case !errors.Is(err, eventstore.ErrMoved):
				return err
			case try == closingTries:
				return keptLanding(year, try, rechecks)
			}
			if err := s.cfg.Store.CatchUp(ctx); err != nil {
				return err
			}
			since := at
			at = s.cfg.Store.Applied()
			moved, err := s.movesYear(ctx, since, at, end, old)
			if err != nil {
				return err
			}
			if moved {
				if rechecks == closingRechecks {
					return keptLanding(year, try, rechecks)
				}
				rechecks++
				if err := check(); err != nil {
					return err
				}
			}
		}
	})
	if err != nil {
		writeError(w, err)
		return
	}
	reflects(w, res.Seq) // what it recorded, or found recorded: min_seq of it reads it anywhere
	writeJSON(w, writeStatus(res.Duplicate), res)
}

// keptLanding is the closing's answer when writes through other replicas sent it back too often.
func keptLanding(year, tries, rechecks int) error {
	return &domain.Error{Kind: domain.KindUnavailable, Detail: fmt.Sprintf(
		"writes through other replicas kept landing while %d was being closed (%d tries, %d of them checked again): nothing was recorded; retry, or let the other replicas quiet first",
		year, tries, rechecks)}
}

// oldRules says what moves the figures of a freeze counted by older rules, whatever its date.
type oldRules struct {
	// floorPeriod, before views-22: a declaration of it, or a void of a declaration (the rules
	// read the period's latest declaration only if dated by the freeze's date).
	floorPeriod domain.Period
	// profileNow, before views-14: a change of a payer's registration facts (the park and
	// risk-class flags read them as they are now).
	profileNow bool
}

// movesYearEnd reports whether ev may count in figures valid through end: dated on or before
// it (a void by the event it voids), reference data (a freeze, a closing among them), an event
// this build cannot read, or one the old rules of the freeze count whatever its date.
func movesYearEnd(ev domain.Event, end domain.Date, old oldRules) bool {
	if ev.Body == nil || ev.EmployerID == "" || dated(ev, end) {
		return true
	}
	switch b := ev.Body.(type) {
	case domain.DeclarationFiled:
		return old.floorPeriod != 0 && b.Period == old.floorPeriod
	case domain.EventVoided:
		return old.floorPeriod != 0 && b.TargetType == (domain.DeclarationFiled{}).EventType()
	case domain.EmployerChanged:
		return old.profileNow
	}
	return false
}

// closingTries is how many times a closing is sent before writes through other replicas,
// landing each time between its check and its append, have it answer 503; closingRechecks how
// many of those landings may be of writes that move the year, each a count of its figures with
// this server's writes held. A landing of a write that cannot move it costs a read of the
// stream: a closing goes through a steady flow of the next year's writes.
const (
	closingTries    = 32
	closingRechecks = 4
)

// movesYear reports whether any event after sequence from, through to, may count in figures
// valid through end, the year's last day (movesYearEnd).
func (s *Server) movesYear(ctx context.Context, from, to uint64, end domain.Date, old oldRules) (bool, error) {
	if to <= from {
		return false, nil
	}
	moved, stop := false, errors.New("done")
	err := s.cfg.Store.Subscribe(ctx, from+1, func(ev domain.Event) error {
		moved = movesYearEnd(ev, end, old)
		if moved || ev.Seq >= to {
			return stop
		}
		return nil
	})
	if errors.Is(err, stop) {
		err = nil
	}
	return moved, err
}

// yearEndFreeze finds the stored freeze valid through year's 31 December that a closing
// follows: the one named, or the latest.
func (s *Server) yearEndFreeze(year int, id string) (eventstore.FreezeRef, error) {
	end, err := domain.DateOf(year, time.December, 31)
	if err != nil {
		return eventstore.FreezeRef{}, domain.Invalid("year", "%v", err)
	}
	var found *eventstore.FreezeRef
	for _, f := range s.cfg.Store.Freezes() {
		if (id == "" || f.ID == id) && f.ValidThrough == end && (found == nil || f.Seq > found.Seq) {
			found = &f
		}
	}
	switch {
	case found != nil:
		return *found, nil
	case id != "":
		return eventstore.FreezeRef{}, domain.Conflict("freeze_id", "no stored freeze %q valid through %s: a year is closed after its year-end freeze", id, end)
	}
	return eventstore.FreezeRef{}, domain.Conflict("year", "no freeze valid through %s is stored: make the year-end freeze (POST /v1/freezes) before closing %d", end, year)
}

// unchangedSince refuses to close year after freeze f when the year's figures, as the views
// know the stream now, are no longer f's (a write dated in the year after f was made: a late
// entry, a year reopened and corrected): the closing would record a digest no replay gives. It
// returns the code version of the views that made f ("" when the views compacted the year).
func (s *Server) unchangedSince(r *http.Request, year int, f eventstore.FreezeRef) (string, error) {
	if s.cfg.Runner == nil {
		return "", &domain.Error{Kind: domain.KindUnavailable, Detail: "the views are not running on this server: a year is closed where they check its figures"}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	err := s.cfg.Runner.WaitSeq(ctx, s.cfg.Store.Applied())
	cancel()
	if err != nil {
		return "", &domain.Error{Kind: domain.KindUnavailable, Detail: fmt.Sprintf("the views are behind the ledger's sequence %d; retry", s.cfg.Store.Applied())}
	}
	views := s.cfg.Runner.Current()
	if !views.Covers(projections.FreezeQuery(&views.Ref, f.ValidThrough)) {
		// The views compacted the year: it is closed, or before a closed one, and the
		// closing's own decision refuses it (or answers a retry of its key) as it should.
		return "", nil
	}
	made, _, err := s.cfg.Store.Freeze(r.Context(), f.ID)
	if err != nil {
		return "", err
	}
	// One count of the year's figures while writes are held, in the freeze's layout and by its
	// rules: every county's, group's and the city's, each segment's and the flag counts.
	same, err := projections.StillCounts(views, made)
	if err != nil {
		return "", err
	}
	if same {
		if made.CodeVersion == projections.CodeVersion { // today's rules are its own
			return made.CodeVersion, nil
		}
		asNow, err := projections.CountedAsNow(views, made)
		if err != nil || asNow {
			return made.CodeVersion, err
		}
		return "", domain.Conflict("freeze_id", "freeze %s was made by %s, and this build counts the figures of %d otherwise (a rule corrected since, such as which late-fee waivers are reviewed): "+
			"it still verifies by its own rules, but closing after it would record figures no longer the year's; make a new year-end freeze (valid_through %d-12-31) and close after it",
			f.ID, made.CodeVersion, year, year)
	}
	// Refused: the restatement names what moved, or says that only a segment or a flag did.
	_, _, _, changes, err := s.restated(r, f.ID)
	if err != nil {
		return "", err
	}
	if len(changes) > 0 {
		c := changes[0]
		return "", domain.Conflict("freeze_id", "%d figures of %d are no longer those of freeze %s, made through sequence %d (first: %s %s, %d then, %d now; "+
			"its restatement, /v1/freezes/%s/restatement, lists them): make a new year-end freeze (valid_through %d-12-31) and close after it",
			len(changes), year, f.ID, f.ThroughSeq, c.Scope, c.Figure, c.Frozen, c.Now, f.ID, year)
	}
	return "", domain.Conflict("freeze_id", "the figures of %d are no longer those of freeze %s, made through sequence %d: a segment's figures or a flag's count "+
		"moved since (its restatement lists the counties', groups' and city's figures only, unchanged): make a new year-end freeze (valid_through %d-12-31) and close after it",
		year, f.ID, f.ThroughSeq, year)
}

func (s *Server) reopenYear(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not reopen years: admins only", p.Name, p.Role))
		return
	}
	year, err := s.pathYear(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var body ReopenYearRequest
	canon, err := s.readWriteBody(w, r, &body)
	if err != nil {
		writeError(w, err)
		return
	}
	ev, err := domain.NewYearReopened(year, body.Reason)
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeRef(w, r, canon, ev, s.cfg.Today())
}

// writeRef appends a reference-data event dated on, with the request's Idempotency-Key, and
// answers it.
func (s *Server) writeRef(w http.ResponseWriter, r *http.Request, canon []byte, payload domain.Payload, on domain.Date) {
	res, err := s.appendRef(r, s.cfg.Store.ExecuteRef, canon, payload, on)
	if err != nil {
		writeError(w, err)
		return
	}
	reflects(w, res.Seq) // what it recorded, or found recorded: min_seq of it reads it anywhere
	writeJSON(w, writeStatus(res.Duplicate), res)
}

// appendRef appends a reference-data event dated on through execute, with the request's
// Idempotency-Key.
func (s *Server) appendRef(r *http.Request, execute func(context.Context, eventstore.RefRequest) (eventstore.Result, error), canon []byte, payload domain.Payload, on domain.Date) (eventstore.Result, error) {
	p := principalOf(r)
	key, err := s.idempotencyKey(r)
	if err != nil {
		return eventstore.Result{}, err
	}
	actor := p.actor()
	res, err := execute(r.Context(), eventstore.RefRequest{
		Payload: payload, On: on, IdempotencyKey: key,
		BodyHash: bodyHash(r, canon), Actor: actor,
	})
	if err == nil && !res.Duplicate {
		// A year closed or reopened, rates or targets set: rare, and the operator's to know.
		s.cfg.Log.Info("reference data recorded", "type", payload.EventType(), "data", payload, "seq", res.Seq, "actor", actor)
	}
	return res, err
}

func (s *Server) listYears(w http.ResponseWriter, r *http.Request) error {
	today := s.cfg.Today()
	writeJSON(w, http.StatusOK, map[string]any{"years": eventstore.ClosedWith(s.cfg.Store.Years(today)), "today": today})
	return nil
}
