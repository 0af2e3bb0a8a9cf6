package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// idempotencyKey reads the Idempotency-Key header, scoped to the principal: one clerk's key
// neither blocks nor reveals another's. Without tokens there is one principal, and keys are
// used as given (as ledgers written before scoping stored them).
func (s *Server) idempotencyKey(r *http.Request) (string, error) {
	keys := r.Header.Values("Idempotency-Key")
	if len(keys) > 1 {
		return "", domain.Invalid("Idempotency-Key", "is sent %d times: send one key", len(keys))
	}
	var k string
	if len(keys) == 1 {
		// An empty key is a client whose key went missing: refused, not taken for no key,
		// which would record its retries twice.
		if k = keys[0]; strings.TrimSpace(k) == "" {
			return "", domain.Invalid("Idempotency-Key", "is empty: send a key, or no header for a write that is not to be retried")
		}
	}
	if len(k) > 200 {
		return "", domain.Invalid("Idempotency-Key", "is %d bytes long, over 200 (in UTF-8: a Chinese character is 3)", len(k))
	}
	if !utf8.ValidString(k) {
		return "", domain.Invalid("Idempotency-Key", "is not valid UTF-8")
	}
	if k == "" || s.cfg.Tokens == nil {
		return k, nil
	}
	return "principal\x00" + principalOf(r).Name + "\x00" + k, nil
}

// check runs the checks of c, decoded from the body whose canonical form is canon, on the
// store's reference data (Store.Check: caught up with the stream when they refuse on it), within
// a write's time. It answers the reference data checked on and what puts c back as sent.
func (s *Server) check(r *http.Request, c eventstore.Checker, canon []byte) (*domain.Reference, func() error, error) {
	ctx, cancel := context.WithTimeout(r.Context(), WriteTimeout)
	defer cancel()
	again := afresh(c, canon)
	ref, err := s.cfg.Store.Check(ctx, c, again, s.cfg.Today())
	return ref, again, err
}

// countyKnown refuses a county code in a write's path (404) the store's reference data does
// not know once caught up with the stream: one redefined through another replica a moment ago
// is known.
func (s *Server) countyKnown(r *http.Request, code string) error {
	ctx, cancel := context.WithTimeout(r.Context(), WriteTimeout)
	defer cancel()
	_, err := s.cfg.Store.Check(ctx, countyCode(code), func() error { return nil }, s.cfg.Today())
	var de *domain.Error
	if errors.As(err, &de) {
		return domain.NotFound("code", "no county %q", domain.Clip(code, 32))
	}
	return err
}

// countyCode is a county code to check (Store.Check), as a command's county is.
type countyCode string

func (c countyCode) Check(ctx domain.Context) error { return ctx.Ref.CheckCounty("code", string(c)) }

// oneHeader is the value of header name ("" if absent), refused with 400 naming it when it is
// sent more than once: which one is meant is not guessed.
func oneHeader(r *http.Request, name string) (string, error) {
	vs := r.Header.Values(name)
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", domain.Invalid(name, "is sent %d times: send it once", len(vs))
}

func ifMatch(r *http.Request) (*uint64, error) {
	v, err := oneHeader(r, "If-Match")
	if v == "" || err != nil {
		return nil, err
	}
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	n, err := strconv.ParseUint(strings.Trim(v, `"`), 10, 64)
	if err != nil {
		return nil, domain.Invalid("If-Match", "%q is not a version: want the ETag of an employer read, e.g. \"42\"", v)
	}
	return &n, nil
}

func (s *Server) createEmployer(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.Role != RoleClerk && p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not register employers: clerks only", p.Name, p.Role))
		return
	}
	var cmd domain.RegisterEmployer
	canon, err := s.readWriteBody(w, r, &cmd)
	if err != nil {
		writeError(w, err)
		return
	}
	// One reference for the whole decision; Authorize, run under the store's lock, uses it too.
	// It is the one the checks passed on, or, when they refuse, what the store followed once
	// caught up with the stream (a county code redefined through another replica a moment ago).
	ref, again, refused := s.check(r, &cmd, canon)
	var de *domain.Error
	if refused != nil && !errors.As(refused, &de) {
		writeError(w, refused) // the store could not catch up: whether the checks refuse is not known
		return
	}
	if cmd.County == "" && refused != nil {
		// No county is no scope to refuse: the body is incomplete, as the checks say (an
		// admin's is answered so too).
		writeError(w, s.refusedUnderKey(r, refused))
		return
	}
	if !p.canWriteEmployer(cmd.County, ref) {
		if _, known := ref.County(cmd.County); !known && refused != nil {
			// No county is no scope either: a code misspelt is answered as an admin's is (one in
			// full-width digits is the code, NFKC'd by the check, and gated as the code).
			writeError(w, s.refusedUnderKey(r, refused))
			return
		}
		writeError(w, &domain.Error{Kind: domain.KindForbidden, Field: "county",
			Detail: fmt.Sprintf("%s (%s) may not register employers in county %q", p.Name, p.Role, domain.Clip(cmd.County, 32))})
		return
	}
	// Checked here, and unless refused, not again by the store.
	req := eventstore.Request{Create: true, Command: &cmd, Checked: refused == nil, Authorize: func(e *domain.Employer) error {
		// The code is taken; whose it is, and its name, are only for those who may read it.
		if !p.canReadCounty(e.County, ref) {
			return domain.Conflict("org_code", "organisation code %s is already registered, to an employer that is not yours", cmd.Code())
		}
		return nil
	}}
	// A request without a key that fails its checks is answered at once; a keyed one goes on, as
	// a retry of a recorded request answers its first result.
	if refused != nil {
		if r.Header.Get("Idempotency-Key") == "" {
			writeError(w, refused)
			return
		}
		// The command goes to the store as sent: the checks that refused it normalised it.
		if err := again(); err != nil {
			writeError(w, err)
			return
		}
	}
	s.execute(w, r, req, canon)
}

func (s *Server) employerWrite(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		switch rt.family {
		case "audit":
			if p.Role != RoleAuditor && p.Role != RoleAdmin {
				writeError(w, forbidden("%s (%s) may not record %s: auditors and admins only", p.Name, p.Role, rt.path))
				return
			}
		case "void":
			// Who may void which event is the domain's rule (four eyes on money); clerks
			// correct their own counties' employers only.
			if p.Role != RoleClerk && p.Role != RoleAuditor && p.Role != RoleAdmin {
				writeError(w, forbidden("%s (%s) may not record %s: clerks, auditors and admins only", p.Name, p.Role, rt.path))
				return
			}
		default:
			if p.Role != RoleClerk && p.Role != RoleAdmin {
				writeError(w, forbidden("%s (%s) may not record %s: clerks of its county and admins only", p.Name, p.Role, rt.path))
				return
			}
		}
		// Scope is answered before the body's details, so nobody learns more than that an
		// employer is not theirs; Authorize checks it again on the state the command is decided on.
		id := r.PathValue("id")
		countyBound := rt.family == "employer" || rt.family == "void" && p.Role == RoleClerk
		// refusal answers why the principal may not write to the employer as the store has it.
		refusal := func() error {
			county, err := s.cfg.Store.EmployerCountyContext(r.Context(), id)
			switch {
			case err != nil:
				return err
			case county == "":
				return noEmployer("employer_id", id)
			case !p.readsAll() && !p.canReadCounty(county, s.cfg.Store.Reference()):
				return notYours(id)
			case countyBound && !p.canWriteEmployer(county, s.cfg.Store.Reference()):
				return forbidden("%s (%s) may not write to employers of county %s", p.Name, p.Role, county)
			}
			return nil
		}
		if err := refusal(); err != nil {
			var de *domain.Error
			if !errors.As(err, &de) { // the store did not answer: nothing to decide again
				writeError(w, err)
				return
			}
			// Another replica may have registered or transferred the employer a moment ago: a
			// refusal is decided on the stream's state, as the write side decides its own.
			if cerr := s.cfg.Store.CatchUp(r.Context()); cerr != nil {
				writeError(w, cerr)
				return
			}
			if err := refusal(); err != nil {
				// A retry is answered before any other check (API.md): the employer may have left
				// the clerk's counties since the first attempt, whose outcome the clerk never heard.
				if !s.answerRetry(w, r, rt.newCmd()) {
					writeError(w, err)
				}
				return
			}
		}
		cmd := rt.newCmd()
		canon, err := s.readWriteBody(w, r, cmd)
		if err != nil {
			writeError(w, err)
			return
		}
		req := eventstore.Request{EmployerID: r.PathValue("id"), Command: cmd}
		if countyBound {
			ref := s.cfg.Store.Reference() // taken here: the write side decides under the store's lock
			req.Authorize = func(e *domain.Employer) error {
				if !p.canWriteEmployer(e.County, ref) {
					return notYours(e.ID)
				}
				return nil
			}
		}
		s.execute(w, r, req, canon)
	}
}

// readWriteBody is readBody for a write: a body whose JSON is refused under an Idempotency-Key
// this principal already recorded is another request under the key (422: API.md answers a
// retry before any other check), not a 400. What is refused before the JSON is read (its
// headers, its size, a body that did not arrive whole) may be the same request sent badly,
// and keeps its own answer.
func (s *Server) readWriteBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	canon, err := readBody(w, r, v)
	if err != nil {
		return nil, s.refusedUnderKey(r, err)
	}
	return canon, nil
}

// refusedUnderKey is err, a refusal of a write's body; or, when err refuses what the body says
// (not its headers, nor a body that did not arrive whole) under an Idempotency-Key this
// principal recorded, the refusal of another request under the key.
func (s *Server) refusedUnderKey(r *http.Request, err error) error {
	var de *domain.Error
	if errors.As(err, &de) && de.Kind == domain.KindInvalid && de != errBodyUnread &&
		de.Field != "Content-Type" && de.Field != "Content-Encoding" && s.keyRecorded(r) {
		return eventstore.KeyReused()
	}
	return err
}

// keyRecorded reports whether r's Idempotency-Key is one this principal recorded a write under.
func (s *Server) keyRecorded(r *http.Request) bool {
	key, err := s.idempotencyKey(r)
	if err != nil || key == "" {
		return false
	}
	recorded, err := s.cfg.Store.Recorded(key)
	return err == nil && recorded
}

// answerRetry answers r as a retry of a recorded write, if it is one: its Idempotency-Key was
// recorded for this principal with the same body (read into cmd), or with another (422). It
// reports whether it answered.
func (s *Server) answerRetry(w http.ResponseWriter, r *http.Request, cmd any) bool {
	key, err := s.idempotencyKey(r)
	if err != nil || key == "" {
		return false
	}
	canon, err := s.readWriteBody(w, r, cmd)
	if err != nil {
		var de *domain.Error
		if errors.As(err, &de) && de.Kind == domain.KindIdempotencyMismatch {
			writeError(w, err)
			return true
		}
		return false
	}
	res, ok, err := s.retried(r.Context(), r, canon)
	switch {
	case !ok:
		return false
	case err != nil:
		writeError(w, err)
	default:
		s.writeResult(w, r, res)
	}
	return true
}

// retried answers r, whose body read canonically is canon, as a retry of a recorded write: the
// first result when its Idempotency-Key was recorded for this principal with the same body, a
// KindIdempotencyMismatch error with another; false when it has no key or the key is not
// recorded.
func (s *Server) retried(ctx context.Context, r *http.Request, canon []byte) (eventstore.Result, bool, error) {
	key, err := s.idempotencyKey(r)
	if err != nil || key == "" {
		return eventstore.Result{}, false, nil
	}
	return s.cfg.Store.Retried(ctx, key, bodyHash(r, canon))
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, req eventstore.Request, canon []byte) {
	res, err := s.run(r, req, canon)
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeResult(w, r, res)
}

// writeAnswer is a write's answer: its result and, for a retry, the voids recorded since of the
// events it first recorded.
type writeAnswer struct {
	eventstore.Result
	VoidedSince []voidedSince `json:"voided_since,omitempty"`
}

// voidedSince is a void of an event a retried write first recorded.
type voidedSince struct {
	EventID  string      `json:"event_id"`
	VoidSeq  uint64      `json:"void_seq"`
	VoidedOn domain.Date `json:"voided_on"`
}

// writeResult answers a write's result: 201, or 200 for a retry, with the employer's version. A
// retry answers the first result, at any later time: a client told so of a payment voided since
// is told that too, or it would take the payment for recorded and counting.
func (s *Server) writeResult(w http.ResponseWriter, r *http.Request, res eventstore.Result) {
	a := writeAnswer{Result: res}
	if res.Duplicate && res.EmployerID != "" {
		a.VoidedSince = s.voidsOf(r.Context(), res)
	}
	w.Header().Set("ETag", fmt.Sprintf(`"%d"`, res.Version))
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(res.Seq, 10))
	writeJSON(w, writeStatus(res.Duplicate), a)
}

// voidsOf lists the voids, in the employer's events after res, of the events res recorded. A
// history that cannot be read leaves the answer as it was (the retry's result stands; the
// history read says the rest).
func (s *Server) voidsOf(ctx context.Context, res eventstore.Result) []voidedSince {
	evs, err := s.cfg.Store.History(ctx, res.EmployerID)
	if err != nil {
		s.cfg.Log.Warn("a retry's voids could not be read", "employer_id", res.EmployerID, "err", err)
		return nil
	}
	var out []voidedSince
	for _, ev := range evs {
		if v, ok := ev.Body.(domain.EventVoided); ok && ev.Seq > res.Seq && slices.Contains(res.EventIDs, v.TargetID) {
			out = append(out, voidedSince{EventID: v.TargetID, VoidSeq: ev.Seq, VoidedOn: v.VoidedOn})
		}
	}
	return out
}

// run executes req as the request r asks: its If-Match (unless req has one), Idempotency-Key,
// actor and business date.
func (s *Server) run(r *http.Request, req eventstore.Request, canon []byte) (eventstore.Result, error) {
	var err error
	if req.IfMatch == nil {
		if req.IfMatch, err = ifMatch(r); err != nil {
			return eventstore.Result{}, err
		}
	}
	if req.IdempotencyKey, err = s.idempotencyKey(r); err != nil {
		return eventstore.Result{}, err
	}
	req.BodyHash = bodyHash(r, canon)
	if req.Command != nil && !req.Checked {
		req.Again = afresh(req.Command, canon)
	}
	return s.record(r, req)
}

// record records req, its key and body hash set, as the request's principal.
func (s *Server) record(r *http.Request, req eventstore.Request) (eventstore.Result, error) {
	s.stamp(r, &req)
	// A deadline of its own, so that a client always gets a definite answer: recorded, not
	// recorded, or outcome unknown.
	ctx, cancel := context.WithTimeout(r.Context(), WriteTimeout)
	defer cancel()
	return s.cfg.Store.Execute(ctx, req)
}

// recordAll is record for several requests, committed together (Store.ExecuteBulk); each
// succeeds or fails on its own.
func (s *Server) recordAll(r *http.Request, reqs []eventstore.Request) []eventstore.BulkResult {
	for i := range reqs {
		s.stamp(r, &reqs[i])
	}
	ctx, cancel := context.WithTimeout(r.Context(), WriteTimeout)
	defer cancel()
	return s.cfg.Store.ExecuteBulk(ctx, reqs)
}

// stamp sets who records req, under which request, on which business date.
func (s *Server) stamp(r *http.Request, req *eventstore.Request) {
	p := principalOf(r)
	req.Actor = p.actor()
	req.CorrelationID = r.Header.Get("X-Request-Id")
	req.Today = s.cfg.Today()
}

func (s *Server) referenceWrite(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not change reference data: admins only", p.Name, p.Role))
		return
	}
	var payload domain.Payload
	var canon []byte
	var err error
	var on domain.Date
	switch r.PathValue("kind") {
	case "rates":
		var v domain.RateTable
		canon, err = s.readWriteBody(w, r, &v)
		payload, on = domain.RatesSet{Table: v}, v.EffectiveFrom
	case "late-fee-rates":
		var v domain.LateFeeRate
		if canon, err = s.readWriteBody(w, r, &v); err == nil {
			// A rate left out would be a rate of 0, which waives every late fee from its date.
			err = s.refusedUnderKey(r, requireField(canon, "daily_bp", "is required: the late fee in basis points a day (0 for none)"))
		}
		payload, on = domain.LateFeeRatesSet{Rate: v}, v.EffectiveFrom
	case "settings":
		var v domain.Settings
		canon, err = s.readWriteBody(w, r, &v)
		payload, on = domain.SettingsSet{Settings: v}, v.EffectiveFrom
	case "targets":
		var v domain.Targets
		canon, err = s.readWriteBody(w, r, &v)
		payload, on = domain.TargetsSet{Targets: v}, v.EffectiveFrom
	case "average-wage":
		var v domain.AverageWage
		canon, err = s.readWriteBody(w, r, &v)
		payload, on = domain.AverageWageSet{Wage: v}, v.EffectiveFrom
	case "county-redefinitions":
		var v domain.CountyRedefined
		canon, err = s.readWriteBody(w, r, &v)
		payload, on = v, v.EffectiveFrom
	case "baselines":
		var v domain.Baseline
		if canon, err = s.readWriteBody(w, r, &v); err == nil {
			err = v.NormalizeSource()
		}
		payload, on = domain.BaselineSet{Baseline: v}, v.EffectiveFrom
	default:
		writeError(w, domain.NotFound("kind", "unknown reference data %q: want rates, late-fee-rates, settings, targets, average-wage, county-redefinitions or baselines", r.PathValue("kind")))
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeRef(w, r, canon, payload, on)
}

// writeStatus is a write's status: 201 for what it appended, 200 for an Idempotency-Key retry
// answered with the first result.
func writeStatus(duplicate bool) int {
	if duplicate {
		return http.StatusOK
	}
	return http.StatusCreated
}
