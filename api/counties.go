package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

func (s *Server) counties(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.segmentReport(r)
	if err != nil {
		return err
	}
	// with=groups: the groups' totals of the same figures, so that a page showing both never
	// shows a group's row that is not the sum of its counties' (two reads may answer two
	// sequences).
	with := r.URL.Query().Get("with")
	if with != "" && with != "groups" {
		return domain.Invalid("with", "%q: want groups", domain.Clip(with, 16))
	}
	s.writeCached(w, r, rep, func() any {
		out := scoped{Seq: rep.Seq, AsOf: rep.AsOf, Period: rep.Period, City: rep.City, Scope: "city", Segment: rep.Segment,
			Counties: visibleCounties(s.visibleIn(principalOf(r), rep.Ref), rep.Counties)}
		if len(out.Counties) != len(rep.Counties) {
			out.City, out.Scope = projections.Sum("", out.Counties), "visible counties"
		}
		if with == "groups" {
			return struct {
				scoped
				Groups []*projections.Figures `json:"groups"`
			}{out, visibleGroups(principalOf(r), rep)}
		}
		return out
	})
	return nil
}

func (s *Server) county(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	// Checked before the report is computed, by the views' reference data (the report's, or
	// older by the events applied meanwhile).
	ref := s.viewsRef()
	if err := ref.CheckCounty("code", code); err != nil {
		return asNotFound(err) // a path names a resource: an unknown one is not found
	}
	p := principalOf(r)
	if !s.visibleIn(p, ref)(code) {
		return forbidden("%s (%s) may not read county %s", p.Name, p.Role, code)
	}
	rep, err := s.segmentReport(r)
	if err != nil {
		return err
	}
	c, ok := rep.County(code)
	if !ok {
		return notInForce(rep.Ref, "code", code, rep.AsOf)
	}
	reflects(w, rep.Seq)
	writeJSON(w, http.StatusOK, withSegment(rep, map[string]any{"seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "county": c}))
	return nil
}

// segmentOf reads ?segment=, the segment whose payers the figures count ("": every payer): a
// name not among domain.Segments → 400 naming segment.
func segmentOf(r *http.Request) (domain.Segment, error) {
	v := r.URL.Query().Get("segment")
	if v == "" {
		return "", nil
	}
	return domain.ParseSegment("segment", v)
}

// segmentReport is report for the payers of the segment the request names (segmentOf).
func (s *Server) segmentReport(r *http.Request) (*projections.Report, error) {
	seg, err := segmentOf(r)
	if err != nil {
		return nil, err
	}
	q, err := s.query(r)
	if err != nil {
		return nil, err
	}
	s.liveQuery()
	return s.cfg.Runner.SegmentReport(r.Context(), q, seg)
}

// withSegment names the report's segment in an answer, when it has one: an answer of every
// payer stays as it was before segments.
func withSegment(rep *projections.Report, out map[string]any) map[string]any {
	if rep.Segment != "" {
		out["segment"] = rep.Segment
	}
	return out
}

// notInForce answers a read of a county under a code not in force on asOf: 404 naming the code
// that is (the successor after a redefinition, the predecessor before it).
func notInForce(ref *domain.Reference, field, code string, asOf domain.Date) error {
	now := ref.CountyCodeOn(code, asOf)
	c, _ := ref.County(now)
	if x, ok := ref.Successor(code); ok && x.Code == now {
		return domain.NotFound(field, "county %s became %s %s on %s: ask for %s", code, x.Code, x.Name, x.EffectiveFrom, x.Code)
	}
	return domain.NotFound(field, "county %s is not in force on %s: it was %s %s then", code, asOf, now, c.Name)
}

// asNotFound is err, when it is a domain error, as one of kind not found.
func asNotFound(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	nf := *de
	nf.Kind = domain.KindNotFound
	return &nf
}

// countyFilter checks a ?county= filter of a read answering for asOf as GET
// /v1/counties/{code} does: an unknown code → 400, one not in force on asOf → 404 naming the
// code that is.
func countyFilter(ref *domain.Reference, code string, asOf domain.Date) error {
	if err := ref.CheckCounty("county", code); err != nil {
		return err
	}
	if ref.CountyCodeOn(code, asOf) != code {
		return notInForce(ref, "county", code, asOf)
	}
	return nil
}

// groupVisible: a principal reads group n's figures in rep if it reads every county rep counts
// in the group (the counties as they were grouped when the report was made: a freeze read back
// after a redefinition keeps its own). A group a redefinition left empty hides nothing.
func groupVisible(p Principal, n int, rep *projections.Report) bool {
	for _, c := range rep.Counties {
		if c.Group == n && !p.canReadCounty(c.Code, rep.Ref) {
			return false
		}
	}
	return true
}

// visibleGroups are rep's groups p reads (groupVisible), in order: an empty list when none.
func visibleGroups(p Principal, rep *projections.Report) []*projections.Figures {
	out := []*projections.Figures{} // none is a list, as an answer says it
	for _, g := range rep.Groups {
		if groupVisible(p, g.Group, rep) {
			out = append(out, g)
		}
	}
	return out
}

func (s *Server) groups(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.segmentReport(r)
	if err != nil {
		return err
	}
	out := visibleGroups(principalOf(r), rep)
	reflects(w, rep.Seq)
	writeJSON(w, http.StatusOK, withSegment(rep, map[string]any{"seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "groups": out}))
	return nil
}

func (s *Server) group(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.segmentReport(r)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(rep.Groups) {
		return domain.NotFound("n", "no supervision group %q: groups are 1–%d", r.PathValue("n"), len(rep.Groups))
	}
	g := rep.Groups[n-1]
	p := principalOf(r)
	if !groupVisible(p, g.Group, rep) {
		return forbidden("%s (%s) may not read group %d", p.Name, p.Role, n)
	}
	var counties []*projections.Figures
	for _, c := range rep.Counties {
		if c.Group == n {
			counties = append(counties, c)
		}
	}
	reflects(w, rep.Seq)
	writeJSON(w, http.StatusOK, withSegment(rep, map[string]any{"seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "group": g, "counties": counties}))
	return nil
}

func (s *Server) targets(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.report(r)
	if err != nil {
		return err
	}
	ref := rep.Ref
	tp := projections.Targets(ref, rep)
	p := principalOf(r)
	for code := range tp.Counties {
		if !p.canReadCounty(code, ref) {
			delete(tp.Counties, code)
		}
	}
	if !p.readsAll() {
		tp.City = []projections.Progress{} // the city's actual figures sum counties not theirs
	}
	reflects(w, rep.Seq)
	writeJSON(w, http.StatusOK, tp)
	return nil
}
