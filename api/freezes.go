package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

func (s *Server) freezeRoutes() {
	s.mux.HandleFunc("POST /v1/freezes", s.auth(s.createFreeze))
	s.mux.HandleFunc("GET /v1/freezes", s.auth(s.storeRead(s.listFreezes)))
	s.mux.HandleFunc("GET /v1/freezes/{id}", s.auth(s.storeRead(s.getFreeze)))
	s.mux.HandleFunc("GET /v1/freezes/{id}/restatement", s.auth(s.read(s.restatement)))
	s.mux.HandleFunc("GET /v1/rankings", s.auth(s.read(s.rankings)))
}

// FreezeRequest is the body of POST /v1/freezes.
type FreezeRequest struct {
	ValidThrough string `json:"valid_through"`
	ThroughSeq   uint64 `json:"through_seq"`
}

// freezeTimeout bounds the fold of a freeze asked over HTTP.
const freezeTimeout = 5 * time.Minute

func (s *Server) createFreeze(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.Role != RoleAssessor && p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not make freezes: the assessment team (assessors) and admins only", p.Name, p.Role))
		return
	}
	var body FreezeRequest
	canon, err := s.readWriteBody(w, r, &body)
	if err != nil {
		writeError(w, err)
		return
	}
	d, err := requiredDate(body.ValidThrough, "valid_through")
	if err != nil {
		writeError(w, s.refusedUnderKey(r, err))
		return
	}
	key, err := s.idempotencyKey(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// A freeze of a long ledger folds for longer than the server's write timeout allows any
	// answer: the answer may take as long as the freeze may.
	ctx, cancel := context.WithTimeout(r.Context(), freezeTimeout)
	defer cancel()
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(freezeTimeout + 10*time.Second))
	ref, dup, err := projections.Freeze(ctx, s.cfg.Store, projections.FreezeRequest{
		ValidThrough: d, Today: s.cfg.Today(), ThroughSeq: body.ThroughSeq,
		Views: func(through uint64) (*projections.Ledger, error) {
			if s.cfg.Runner == nil {
				return nil, nil
			}
			// The live views at the very sequence asked for are only read (a year-end freeze
			// of a quiet ledger: no copy of every employer); short of it, a copy folds on.
			if cur := s.cfg.Runner.Current(); cur.Seq == through {
				return cur, nil
			}
			if s.cfg.Runner.Seq() <= through {
				return s.cfg.Runner.Copy()
			}
			return nil, nil
		},
		FreezeOrder: eventstore.FreezeOrder{Actor: p.actor(), IdempotencyKey: key,
			BodyHash: bodyHash(r, canon), CorrelationID: r.Header.Get("X-Request-Id")},
	})
	if err != nil {
		writeError(w, err)
		return
	}
	if !dup {
		s.cfg.Log.Info("freeze made", "id", ref.ID, "valid_through", ref.ValidThrough, "through_seq", ref.ThroughSeq,
			"seq", ref.Seq, "digest", ref.Digest, "actor", p.actor())
	}
	status := writeStatus(dup)
	w.Header().Set("Location", "/v1/freezes/"+ref.ID)
	reflects(w, ref.Seq)
	writeJSON(w, status, FreezeAnswer{FreezeRef: ref, Duplicate: dup})
}

// FreezeAnswer is the answer of POST /v1/freezes: the freeze's manifest and where it is stored;
// duplicate when an Idempotency-Key retry answers the freeze the key first made.
type FreezeAnswer struct {
	eventstore.FreezeRef
	Duplicate bool `json:"duplicate,omitempty"`
}

// storeRead wraps a read served from the write side's state: min_seq, X-Ledger-Seq.
func (s *Server) storeRead(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.waitStore(r); err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("X-Ledger-Seq", strconv.FormatUint(s.cfg.Store.Applied(), 10))
		if err := h(w, allowReplay(w, r)); err != nil {
			writeError(w, err)
		}
	}
}

func (s *Server) listFreezes(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"freezes": s.cfg.Store.Freezes()})
	return nil
}

func (s *Server) loadFreeze(r *http.Request, id string) (domain.FreezeMade, *projections.Report, error) {
	f, _, err := s.cfg.Store.Freeze(r.Context(), id)
	var de *domain.Error
	if errors.As(err, &de) && de.Kind == domain.KindNotFound && r.URL.Query().Get("freeze") == id {
		return f, nil, domain.NotFound("freeze", "no freeze %q", id) // named by the query parameter
	}
	if err != nil {
		return f, nil, err
	}
	rep, err := projections.FrozenReport(f)
	if err == nil {
		// A frozen report names its counties itself; who may read which of them is decided
		// by the scopes as they stand, so by the write side's reference data.
		rep.Ref = s.cfg.Store.Reference()
	}
	return f, rep, err
}

// getFreeze answers a freeze's manifest and figures: read back whole and cut to the counties the
// reader may read, or, with ?layout=stored, exactly as stored, the bytes its digest is the
// SHA-256 of (for readers of every county: they hold every county's figures).
func (s *Server) getFreeze(w http.ResponseWriter, r *http.Request) error {
	layout := r.URL.Query().Get("layout")
	if layout != "" && layout != "whole" && layout != "stored" {
		return domain.Invalid("layout", "unknown layout %q: want whole (the default) or stored", layout)
	}
	if p := principalOf(r); layout == "stored" && !p.readsAll() {
		return forbidden("%s (%s) may not read a freeze as stored: it holds every county's figures", p.Name, p.Role)
	}
	f, rep, err := s.loadFreeze(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	scoped := s.scopeReport(r, rep)
	var figures any = scoped
	scope := "city"
	if len(scoped.Counties) != len(rep.Counties) {
		scope = "visible counties" // the digest is of the whole figures, which this reader does not get
	}
	if layout == "stored" {
		figures = json.RawMessage(f.Figures)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": f.ID, "through_seq": f.ThroughSeq, "valid_through": f.ValidThrough,
		"chain_head": f.ChainHead, "code_version": f.CodeVersion, "digest": f.Digest, "created_at": f.CreatedAt,
		"layout": cmp.Or(layout, "whole"), "scope": scope, "figures": figures})
	return nil
}

// visibleCounties keeps the counties see lets through, in order (nil when none).
func visibleCounties(see func(code string) bool, counties []*projections.Figures) []*projections.Figures {
	var out []*projections.Figures
	for _, c := range counties {
		if see(c.Code) {
			out = append(out, c)
		}
	}
	return out
}

// scopeReport cuts a report, and the figures of each segment it holds, to the counties the
// principal may read, and its groups to those whose every county it may read; the city is then
// the sum of the counties it reads.
func (s *Server) scopeReport(r *http.Request, rep *projections.Report) *projections.Report {
	p := principalOf(r)
	see := s.visibleIn(p, rep.Ref)
	out := *rep
	out.Counties = visibleCounties(see, rep.Counties)
	if len(out.Counties) == len(rep.Counties) {
		return &out
	}
	out.Groups = visibleGroups(p, rep)
	out.City = projections.Sum("visible counties", out.Counties)
	out.Segments = make([]*projections.SegmentFigures, len(rep.Segments))
	for i, sg := range rep.Segments {
		counties := visibleCounties(see, sg.Counties)
		out.Segments[i] = &projections.SegmentFigures{Segment: sg.Segment, Counties: counties, City: projections.Sum("", counties)}
	}
	return &out
}

// ResponsibleEvent is an event recorded after a freeze but dated within it.
type ResponsibleEvent = RecordedEvent

const maxResponsible = 1000

// restated is freeze id beside the same figures computed now: the freeze, its figures, the
// report of them now and every figure that changed.
func (s *Server) restated(r *http.Request, id string) (domain.FreezeMade, *projections.Report, *projections.Report, []projections.Change, error) {
	f, frozen, err := s.loadFreeze(r, id)
	if err != nil {
		return f, nil, nil, nil, err
	}
	// The views must at least know what the freeze knew.
	wctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	err = s.cfg.Runner.WaitSeq(wctx, f.ThroughSeq)
	cancel()
	if err != nil {
		return f, nil, nil, nil, &domain.Error{Kind: domain.KindUnavailable, Detail: fmt.Sprintf("the views are behind the freeze's sequence %d; retry", f.ThroughSeq)}
	}
	now, err := s.cfg.Runner.Report(r.Context(), projections.FreezeQuery(s.viewsRef(), f.ValidThrough))
	if err != nil {
		return f, nil, nil, nil, err
	}
	return f, frozen, now, projections.Restate(frozen, now), nil
}

func (s *Server) restatement(w http.ResponseWriter, r *http.Request) error {
	f, frozen, now, changes, err := s.restated(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	seq := now.Seq
	reflects(w, seq)
	p := principalOf(r)
	see := s.visibleIn(p, now.Ref)
	full := p.readsAll()
	visible := []projections.Change{}
	changed := map[string]bool{}
	for _, c := range changes {
		// The city sums counties a scoped reader may not see; a group it reads only whole, as
		// frozen and as now (a redefinition since may have moved a county).
		if !full && !(changeVisible(p, c.Scope, see, frozen) && changeVisible(p, c.Scope, see, now)) {
			continue
		}
		changed[c.Scope] = true
		visible = append(visible, c)
	}
	events := []ResponsibleEvent{}
	if len(visible) > 0 && seq > f.ThroughSeq {
		stop := errors.New("done")
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		movesOf := map[string][]domain.CountyAt{}
		err := s.cfg.Store.Subscribe(ctx, f.ThroughSeq+1, func(ev domain.Event) error {
			if ev.Seq > seq {
				return stop
			}
			named := responsible(ev, f.ValidThrough, changed, nil)
			if !named && ev.EmployerID != "" && dated(ev, f.ValidThrough) {
				// Of a county that did not change: one the payer was in before may have.
				moves, seen := movesOf[ev.EmployerID]
				if !seen {
					var err error
					if moves, err = s.moves(ctx, ev.EmployerID); err != nil {
						return err
					}
					movesOf[ev.EmployerID] = moves
				}
				named = responsible(ev, f.ValidThrough, changed, countiesThrough(moves, eventDate(ev)))
			}
			if named && len(events) < maxResponsible {
				events = append(events, recorded(ev))
			}
			if ev.Seq >= seq {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"freeze": f.ID, "valid_through": f.ValidThrough, "frozen_through_seq": f.ThroughSeq,
		"now_seq": seq, "changes": visible, "events": events, "events_truncated": len(events) >= maxResponsible})
	return nil
}

// changeVisible reports whether a scoped reader may see a change of scope (a county code,
// "group:N" or "city"): a county it reads, or a group whose every county it reads.
func changeVisible(p Principal, scope string, see func(code string) bool, rep *projections.Report) bool {
	if g, ok := strings.CutPrefix(scope, "group:"); ok {
		n, err := strconv.Atoi(g)
		return err == nil && groupVisible(p, n, rep)
	}
	return scope != "city" && see(scope)
}

// moves returns the counties an employer moved into, from the dates its events put it in them,
// in order (its folded history's: its entry's and each transfer's standing); nil for an
// employer that never moved (its county is its events').
func (s *Server) moves(ctx context.Context, id string) ([]domain.CountyAt, error) {
	if e, err := s.cfg.Store.EmployerContext(ctx, id); err != nil || e == nil || e.MovedOn == 0 {
		return nil, err
	}
	raw, err := s.cfg.Store.History(ctx, id)
	if err != nil {
		return nil, err
	}
	if e := eventstore.FoldOnto(&domain.Employer{ID: id}, raw, math.MaxUint64); e != nil {
		return e.History.Counties, nil
	}
	return nil, nil
}

// countiesThrough lists the counties moves put the employer in on or before d (its first one
// whatever its date): the counties of the lines an event dated d may pay or change, each line
// staying with the county of its period's first day.
func countiesThrough(moves []domain.CountyAt, d domain.Date) []string {
	var out []string
	for i, m := range moves {
		if m.On > d && i > 0 {
			break
		}
		out = append(out, m.County)
	}
	return out
}

// eventDate is the business date ev counts on: a void's, its target's.
func eventDate(ev domain.Event) domain.Date {
	if v, ok := ev.Body.(domain.EventVoided); ok {
		return v.TargetOn
	}
	return ev.OccurredOn
}

// responsible reports whether ev, recorded after a freeze, may have changed its figures valid
// through d in the scopes that changed: an event dated on or before d, or a void of one (dated),
// of a changed county (the event's, the voided event's, or one of before, the counties the
// payer was in by the event's date: a payment after a transfer may pay lines of the county
// left), or of no employer.
func responsible(ev domain.Event, d domain.Date, changed map[string]bool, before []string) bool {
	counted := changed[ev.County] || slices.ContainsFunc(before, func(c string) bool { return changed[c] })
	if v, ok := ev.Body.(domain.EventVoided); ok {
		counted = counted || changed[v.TargetCounty]
	}
	return dated(ev, d) && (ev.EmployerID == "" || counted)
}

// dated reports whether ev may count in figures valid through d: dated on or before d, or a void
// of an event so dated (a void counts by sequence, whatever its own date).
func dated(ev domain.Event, d domain.Date) bool {
	return eventDate(ev) <= d && ev.Type != "freeze.made"
}

func (s *Server) rankings(w http.ResponseWriter, r *http.Request) error {
	id := r.URL.Query().Get("freeze")
	if id == "" {
		return domain.Invalid("freeze", "is required: rankings are made from a freeze (POST /v1/freezes)")
	}
	// Checked before the freeze is read: a bad format costs nothing.
	format := r.URL.Query().Get("format")
	if !slices.Contains([]string{"", "json", "csv", "xlsx"}, format) {
		return domain.Invalid("format", "unknown format %q: want json, csv or xlsx", format)
	}
	f, rep, err := s.loadFreeze(r, id)
	if err != nil {
		return err
	}
	// The targets, and anything else of the reference data, as they stood at the freeze's S: a
	// freeze's ranking does not move when targets change later.
	ref, err := s.cfg.Store.ReferenceAt(r.Context(), f.ThroughSeq)
	if err != nil {
		return err
	}
	see := s.visibleIn(principalOf(r), rep.Ref) // scoped as the freeze's figures are (loadFreeze)
	rankings := []projections.Ranking{}
	for _, rk := range projections.Rank(ref, rep) {
		// A scoped reader sees its counties' rows (with their rank), not others' figures.
		if see(rk.Code) {
			rankings = append(rankings, rk)
		}
	}
	if format == "csv" || format == "xlsx" {
		// The rank, the code and the name, then figures; codes stay text.
		name := fmt.Sprintf("kuozheng-ranking-%s-seq%d", f.ValidThrough, f.ThroughSeq)
		return s.writeTable(w, format, name, "排名 Ranking", RankingRows(f, rankings), func(col int) bool { return col == 0 || col >= 3 }, f.ValidThrough)
	}
	out := map[string]any{"freeze": f.ID, "valid_through": f.ValidThrough, "through_seq": f.ThroughSeq, "year": f.ValidThrough.Year(),
		"weighting": projections.RankingWeighting, "rankings": rankings}
	if _, ok := projections.TargetsOf(ref, rep); !ok {
		out["note"] = projections.NoTargetsNote(ref, rep)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// RankingRows lays a freeze's rankings out as rows: a bilingual header, then one row per county,
// best first: its rank, code, name and score, and for each measure of the year's targets (in the
// dashboard's order) the target, the actual figure and the completion. Money is in fen, the
// score and completions in basis points of their exact value (rounded half up); the freeze's
// (S, D) and id close each row, so that a sheet copied elsewhere still says what it ranks.
func RankingRows(f domain.FreezeMade, rankings []projections.Ranking) [][]string {
	measures := rankingMeasures()
	head := []string{"名次 rank", "区县代码 county code", "区县 county", "得分 score (bp)"}
	for _, m := range measures {
		unit := ""
		if strings.HasSuffix(m.code, "_fen") {
			unit = " (fen)"
		}
		head = append(head, m.name+" 目标 target"+unit, m.name+" 实际 actual"+unit, m.name+" 完成率 completion (bp)")
	}
	rows := [][]string{append(head, "截至 valid through", "序列 through seq", "冻结 freeze")}
	for _, rk := range rankings {
		row := []string{strconv.Itoa(rk.Rank), rk.Code, rk.Name, basisPoints(rk.Score)}
		for _, m := range measures {
			i := slices.IndexFunc(rk.Measures, func(p projections.Progress) bool { return p.Measure == m.code })
			if i < 0 {
				row = append(row, "", "", "")
				continue
			}
			p := rk.Measures[i]
			row = append(row, i64(p.Target), i64(p.Actual), basisPoints(p.Rate))
		}
		rows = append(rows, append(row, f.ValidThrough.String(), strconv.FormatUint(f.ThroughSeq, 10), f.ID))
	}
	return rows
}

// rankingMeasures are the target measures with their bilingual names, in the order the
// dashboard lists them (its MEASURES labels, which a test holds to the domain's measures).
func rankingMeasures() []label {
	for _, t := range dashboardLabels {
		if t.name == "MEASURES" {
			return t.labels
		}
	}
	panic("api: the dashboard's labels have no MEASURES table")
}
