package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

// EmployerView is the answer of GET /v1/employers/{id}: the employer as it stood on AsOf.
type EmployerView struct {
	EmployerID       string                     `json:"employer_id"`
	Version          uint64                     `json:"version"`
	AsOf             domain.Date                `json:"as_of"`
	Name             string                     `json:"name"`
	County           string                     `json:"county"`
	OrgCode          string                     `json:"org_code,omitempty"`
	CreditCode       string                     `json:"credit_code,omitempty"`
	Kind             domain.EmployerKind        `json:"kind"`
	Ownership        string                     `json:"ownership,omitempty"`
	RiskClass        int                        `json:"risk_class"`
	InIndustrialPark bool                       `json:"in_industrial_park"`
	Industry         string                     `json:"industry,omitempty"`
	Sector           string                     `json:"sector,omitempty"`
	OwnershipCode    string                     `json:"ownership_code,omitempty"`
	Park             string                     `json:"park,omitempty"`
	Agency           bool                       `json:"agency,omitempty"`
	EnteredOn        domain.Date                `json:"entered_on"`
	Registered       bool                       `json:"registered"`
	RegisteredOn     domain.Date                `json:"registered_on,omitempty"`
	CertificateNo    string                     `json:"certificate_no,omitempty"`
	Deregistered     bool                       `json:"deregistered"`
	DeregisteredOn   domain.Date                `json:"deregistered_on,omitempty"`
	Workforce        int64                      `json:"workforce"`
	Enrolled         map[domain.Insurance]int64 `json:"enrolled"`
	// Migrants is the survey's migrant workers, MigrantsEnrolled those of each enrollment,
	// Retirees the retirees of the medical enrollment, Inspected the inspections' dates.
	Migrants         int64                      `json:"migrants,omitempty"`
	MigrantsEnrolled map[domain.Insurance]int64 `json:"migrants_enrolled,omitempty"`
	Retirees         int64                      `json:"retirees,omitempty"`
	Inspected        []domain.Date              `json:"inspected,omitempty"`
	EnforcementStage string                     `json:"enforcement_stage"`
	Lines            []domain.LineState         `json:"lines"`
	Totals           domain.Totals              `json:"totals"`
	ChainOK          bool                       `json:"chain_ok"`
}

func (s *Server) asOf(r *http.Request) (domain.Date, error) {
	v := r.URL.Query().Get("as_of")
	if v == "" {
		return s.cfg.Today(), nil
	}
	return requiredDate(v, "as_of")
}

// mayRead says whether the request's principal may read employer id, folded as e (nil: not in
// the ledger): an unknown employer is not found, one of a county the principal may not read is
// forbidden.
func (s *Server) mayRead(r *http.Request, id string, e *domain.Employer) error {
	switch {
	case e == nil:
		return noEmployer("id", id)
	case !s.readsNow(principalOf(r))(e):
		return notYours(id)
	}
	return nil
}

// readsNow reports whether p may read an employer where it is now: for a read of it (mayRead),
// and for the lists of a county's employers on an earlier date (flags, worklists, the arrears
// publicity list as of it), which leave out those since transferred to a county p may not read
// (their names and the events recorded since are another county's).
func (s *Server) readsNow(p Principal) func(e *domain.Employer) bool {
	if p.readsAll() {
		return func(*domain.Employer) bool { return true }
	}
	ref := s.cfg.Store.Reference()
	return func(e *domain.Employer) bool { return p.canReadCounty(e.County, ref) }
}

// readableNow is readsNow for an employer id, as the views hold it now: a list as of a date in
// a closed year is made from the ledger replayed to the year's close, whose employers stand in
// the counties they were in then.
func (s *Server) readableNow(p Principal) func(id string) bool {
	if p.readsAll() {
		return func(string) bool { return true }
	}
	now, cur := s.readsNow(p), s.cfg.Runner.Current()
	return func(id string) bool {
		e := cur.Employers.Get(id)
		return e != nil && now(e)
	}
}

// waitMinSeq honours ?min_seq=N (read your writes) for a reader whose state is at applied() and
// waits with wait: nil once it holds N (reach).
func (s *Server) waitMinSeq(r *http.Request, at string, applied func() uint64, wait func(context.Context, uint64) error) error {
	v := r.URL.Query().Get("min_seq")
	if v == "" {
		return nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return domain.Invalid("min_seq", "%q is not a sequence number", v)
	}
	return s.reach(r.Context(), "min_seq", n, at, applied, wait)
}

// reach waits until a reader at applied() holds sequence n (the query parameter field), with
// wait, up to 5 s: 400 for an n past the stream's last sequence (no write was answered with
// it: waiting would only hold the request, and an answer through it would change as the
// ledger grows); 503 naming where the reader is (at) when the wait runs out.
func (s *Server) reach(ctx context.Context, field string, n uint64, at string, applied func() uint64, wait func(context.Context, uint64) error) error {
	if n <= applied() {
		return nil
	}
	if last, past := s.pastLast(ctx, n); past {
		return domain.Invalid(field, "%d is past the ledger's last sequence, %d: no write was answered with it", n, last)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := wait(ctx, n); err != nil {
		return &domain.Error{Kind: domain.KindUnavailable, Field: field,
			Detail: fmt.Sprintf("%s %d, not yet %d; retry", at, applied(), n)}
	}
	return nil
}

// pastLast reports whether sequence n is past the stream's last one, and the last: asked of the
// stream's leader only when n is past what the write side's follower holds, which is never
// past the stream (false when the leader does not answer).
func (s *Server) pastLast(ctx context.Context, n uint64) (uint64, bool) {
	if n <= s.cfg.Store.Applied() {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	last, err := s.cfg.Store.LastSeq(ctx)
	return last, err == nil && n > last
}

// throughSeq reads ?through_seq=N, what the ledger had recorded through sequence N (0 when it
// is left out): 400 for 0 and for what is not a number; a sequence appended through another
// replica and not yet followed here is waited for, one past the stream is refused (reach).
func (s *Server) throughSeq(r *http.Request) (uint64, error) {
	v := r.URL.Query().Get("through_seq")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		return 0, domain.Invalid("through_seq", "%q is not a sequence number (they begin at 1; leave it out for all events)", v)
	}
	if err := s.reach(r.Context(), "through_seq", n, "the ledger is at sequence", s.cfg.Store.Applied, s.cfg.Store.WaitApplied); err != nil {
		return 0, err
	}
	return n, nil
}

// waitStore honours ?min_seq= on reads served from the write side's state.
func (s *Server) waitStore(r *http.Request) error {
	return s.waitMinSeq(r, "the ledger is at sequence", s.cfg.Store.Applied, s.cfg.Store.WaitApplied)
}

// getEmployer answers the employer as it stood on as_of: every field comes from its events dated
// on or before as_of (see domain.EmployerOn), the lines as the lines' arithmetic cuts them. The
// version (the ETag writes compare with If-Match) is what the ledger knows now, whatever as_of.
func (s *Server) getEmployer(w http.ResponseWriter, r *http.Request) {
	if err := s.waitStore(r); err != nil {
		writeError(w, err)
		return
	}
	asOf, err := s.asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// One read of the employer's events serves the access check and the answer: the store's
	// state of an employer it has not used lately is folded from the same events.
	id := r.PathValue("id")
	applied := s.cfg.Store.Applied() // before the read: every event of id through it is read
	raw, err := s.cfg.Store.History(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	e := eventstore.Fold(id, raw, math.MaxUint64)
	if err := s.mayRead(r, id, e); err != nil {
		writeError(w, err)
		return
	}
	v := s.employerViewOf(id, raw, asOf)
	w.Header().Set("ETag", fmt.Sprintf(`"%d"`, v.Version))
	// The answer reflects the ledger through the later of the two: not the store's sequence
	// after the read, which may hold an event of id the read did not.
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(max(applied, v.Version), 10))
	writeJSON(w, http.StatusOK, v)
}

// employerViewOf is employer id as it stood on asOf, from its events raw: the answer of
// GET /v1/employers/{id}?as_of= (documents print from it too).
func (s *Server) employerViewOf(id string, raw []eventstore.RawEvent, asOf domain.Date) EmployerView {
	var version uint64
	events := make([]domain.Event, len(raw))
	for i := range raw {
		events[i] = raw[i].Event
		version = max(version, raw[i].Seq)
	}
	at := domain.EmployerOn(events, asOf)
	st := at.Account.Statement(asOf, s.cfg.Store.Reference().LateFees)
	stage := at.Stage(asOf, st.Totals, s.cfg.Store.Reference().LateFees)
	_, broken := s.cfg.Store.ChainBreak(id)
	return EmployerView{
		EmployerID: id, Version: version, AsOf: asOf, Name: at.Name, County: s.cfg.Store.Reference().CountyCodeOn(at.County, asOf), OrgCode: at.OrgCode,
		CreditCode: at.CreditCode, Kind: at.Kind, Ownership: at.Ownership, RiskClass: at.RiskClass,
		InIndustrialPark: at.InIndustrialPark, Industry: at.Industry, Sector: at.Sector, OwnershipCode: at.OwnershipCode, Park: at.Park,
		Agency: at.Agency, EnteredOn: at.EnteredOn, Registered: at.Registered,
		RegisteredOn: at.RegisteredOn, CertificateNo: at.CertificateNo, Deregistered: at.Deregistered,
		DeregisteredOn: deregisteredOn(at),
		Workforce:      at.Workforce, Enrolled: at.EnrollmentsOn(asOf), Migrants: at.Migrants, MigrantsEnrolled: at.MigrantsEnrolled,
		Retirees: at.Retirees, Inspected: at.Inspected, EnforcementStage: stage,
		Lines: st.Lines, Totals: st.Totals, ChainOK: !broken,
	}
}

// deregisteredOn is the date of e's deregistration that stands, if any.
func deregisteredOn(e *domain.Employer) domain.Date {
	if !e.Deregistered {
		return 0
	}
	return e.DeregisteredOn
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	if err := s.waitStore(r); err != nil {
		writeError(w, err)
		return
	}
	through, err := s.throughSeq(r)
	if err != nil {
		writeError(w, err)
		return
	}
	asOf, err := s.asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// The employer is folded from the events read here, not from the store's state: an employer
	// not among the store's recently used ones would be read and decoded twice. Access follows
	// the employer as it is now; the county shown is the one of as_of, from its dated facts.
	// Each event's row is encoded as it is read, so a long history is never held whole.
	id := r.PathValue("id")
	// Before the reference data and the events are read: all of both through it are.
	applied := s.cfg.Store.Applied()
	ref := s.cfg.Store.Reference()
	if through != 0 {
		// Through a sequence, the late-fee rates and county codes the ledger knew then, as the
		// statement through it prints them.
		if ref, err = s.cfg.Store.ReferenceAt(r.Context(), through); err != nil {
			writeError(w, err)
			return
		}
	}
	b := projections.NewHistoryBuilder(id, through, asOf, ref.LateFees)
	b.Expect(s.cfg.Store.EventCount(id))
	rowsBuf := answerBuffers.Get().(*[]byte)
	defer putAnswerBuffer(rowsBuf)
	rows := append((*rowsBuf)[:0], '[')
	err = s.cfg.Store.EachEvent(r.Context(), id, func(ev eventstore.RawEvent) error {
		row, shown := b.Add(ev)
		if !shown {
			return nil
		}
		if len(rows) > 1 {
			rows = append(rows, ',')
		}
		var err error
		rows, err = row.AppendJSON(rows)
		return err
	})
	*rowsBuf = rows
	if err != nil {
		writeError(w, err)
		return
	}
	var h projections.History
	e, shown := b.Finish(&h)
	if err := s.mayRead(r, id, e); err != nil {
		writeError(w, err)
		return
	}
	// The county as the events shown (through through_seq) make it: what the ledger knew then.
	switch {
	case shown != nil:
		h.County = ref.CountyCodeOn(shown.CountyOn(asOf), asOf)
	case through != 0:
		// Before the employer entered the ledger there was none to show, as its statement of
		// that cut says.
		writeError(w, domain.NotFound("through_seq", "employer %s has no event recorded through sequence %d", id, through))
		return
	}
	outBuf := answerBuffers.Get().(*[]byte)
	defer putAnswerBuffer(outBuf)
	out, err := h.AppendHead((*outBuf)[:0])
	if err != nil {
		writeError(w, err)
		return
	}
	out = append(h.AppendTail(append(append(out, rows...), ']')), '\n')
	*outBuf = out
	seq := applied
	if through == 0 {
		seq = max(applied, h.Version) // an event of id applied during the read is in it
	}
	// The version writes compare with If-Match, as an employer read sends it, whatever the cut.
	w.Header().Set("ETag", fmt.Sprintf(`"%d"`, e.Version))
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(seq, 10))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}
