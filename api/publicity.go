package api

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// publicityRoutes registers the printed lists: the arrears publicity list of a county and the
// monthly bulletin of a freeze.
func (s *Server) publicityRoutes() {
	s.mux.HandleFunc("GET /v1/counties/{code}/arrears-list.pdf", s.auth(s.read(s.arrearsList)))
	s.mux.HandleFunc("GET /v1/freezes/{id}/bulletin.pdf", s.auth(s.storeRead(s.bulletin)))
}

// arrearsList is GET /v1/counties/{code}/arrears-list.pdf?as_of=&above_fen=: the county's
// employers whose principal overdue on as_of exceeds above_fen (default 0), most first, as the
// employer list selects them (GET /v1/employers?county=&arrears_above_fen=, run on the views as
// of as_of) and each as GET /v1/employers/{id}?as_of= reads it from its events up to the views'
// sequence, which the list prints, so that the same sequence prints the same bytes. as_of after
// today is refused, as is through_seq (the views are read as they stand).
func (s *Server) arrearsList(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	ref := s.viewsRef()
	county, ok := ref.County(code)
	if !ok {
		return domain.NotFound("code", "no county %q", domain.Clip(code, 32))
	}
	p := principalOf(r)
	if !p.canReadCounty(code, ref) {
		return forbidden("%s (%s) may not read county %s", p.Name, p.Role, code)
	}
	asOf, err := s.asOf(r)
	if err != nil {
		return err
	}
	// A list published as of a day to come would print late fees not yet owed.
	if err := domain.CheckHappened("as_of", asOf, s.cfg.Today()); err != nil {
		return err
	}
	if err := countyFilter(ref, code, asOf); err != nil {
		return err
	}
	above := r.URL.Query().Get("above_fen")
	if above == "" {
		above = "0"
	}
	if n, err := strconv.ParseInt(above, 10, 64); err != nil || n < 0 || n > domain.MaxFen {
		return domain.Invalid("above_fen", "%q is not a whole number of fen from 0 to %d", domain.Clip(above, 32), domain.MaxFen)
	}
	q, err := parseSearch(url.Values{"county": {code}, "arrears_above_fen": {above}}, ref)
	if err != nil {
		return err
	}
	l, err := s.cfg.Runner.At(r.Context(), projections.Query{AsOf: asOf, Period: projections.DefaultPeriod(ref, asOf)}, asOf, "as_of")
	if err != nil {
		return err
	}
	res, err := q.run(l, p, asOf, nil, true)
	if err != nil {
		return err
	}
	doc := documents.PublicityList{CountyCode: county.Code, CountyName: county.Name, AsOf: asOf, AboveFen: q.arrearsAbove, Seq: l.Seq,
		Rows: make([]documents.PublicityRow, 0, len(res.rows))}
	readable := s.readableNow(p)
	for _, row := range res.rows {
		if !readable(row.EmployerID) {
			continue // transferred since to a county p may not read
		}
		raw, err := s.cfg.Store.History(r.Context(), row.EmployerID)
		if err != nil {
			return err
		}
		events := raw[:0:0]
		for _, ev := range raw {
			if ev.Seq <= l.Seq {
				events = append(events, ev)
			}
		}
		v := s.employerViewOf(row.EmployerID, events, asOf)
		pr := documents.PublicityRow{Name: v.Name, Code: v.CreditCode, ArrearsCurrentYearFen: v.Totals.ArrearsCurrentYearFen,
			ArrearsPriorYearsFen: v.Totals.ArrearsPriorYearsFen, LateFeeFen: v.Totals.LateFeeFen, Stage: documents.StepName(v.EnforcementStage)}
		if pr.Code == "" {
			pr.Code = v.OrgCode
		}
		pr.MonthsOverdue, pr.Oldest = monthsOverdue(v.Lines, asOf)
		if pr.ArrearsFen() != row.ArrearsFen {
			return fmt.Errorf("employer %s: the list figures %s yuan of arrears on %s, its events %s", row.EmployerID, row.ArrearsFen, asOf, pr.ArrearsFen())
		}
		doc.Rows = append(doc.Rows, pr)
	}
	// Most arrears first; ties in the order the list gives (the ledger's entry order).
	slices.SortStableFunc(doc.Rows, func(a, b documents.PublicityRow) int { return cmp.Compare(b.ArrearsFen(), a.ArrearsFen()) })
	pdf, err := doc.Render()
	if err != nil {
		return err
	}
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(l.Seq, 10))
	writePDF(w, http.StatusOK, "", fmt.Sprintf("arrears-list-%s-%s.pdf", code, asOf), pdf)
	return nil
}

// bulletin is GET /v1/freezes/{id}/bulletin.pdf: the monthly bulletin (通报) of a freeze, its
// figures and ranking as GET /v1/freezes/{id} and GET /v1/rankings?freeze= answer them (the
// targets as they stood at the freeze's sequence), and the counties praised and criticised by
// documents.BulletinRule, judged on the whole ranking. A scoped reader gets its counties only.
func (s *Server) bulletin(w http.ResponseWriter, r *http.Request) error {
	f, rep, err := s.loadFreeze(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	ref, err := s.cfg.Store.ReferenceAt(r.Context(), f.ThroughSeq)
	if err != nil {
		return err
	}
	p := principalOf(r)
	see := s.visibleIn(p, rep.Ref)
	scoped := s.scopeReport(r, rep)
	doc := documents.Bulletin{City: ref.City().Name, FreezeID: f.ID, Digest: f.Digest, ThroughSeq: f.ThroughSeq, ValidThrough: f.ValidThrough, Period: rep.Period,
		Scope: "全市", Counties: scoped.Counties, Total: scoped.City, Weighting: projections.RankingWeightingZH}
	if !p.readsAll() {
		doc.Scope = "本辖区（" + p.Name + "）"
	}
	measures := rankingMeasures()
	for _, m := range measures {
		name, _, _ := strings.Cut(m.name, " ")
		doc.Measures = append(doc.Measures, name)
	}
	ranking := projections.Rank(ref, rep)
	if len(ranking) == 0 {
		doc.Note = projections.NoTargetsNoteZH(ref, rep)
	}
	names := map[string]string{}
	for _, rk := range ranking {
		names[rk.Code] = rk.Name + "（" + rk.Code + "）"
		if !see(rk.Code) {
			continue
		}
		// Counties of one score share a place, as the printed rule judges them (并列).
		br := documents.BulletinRank{Rank: documents.Place(ranking, rk), Code: rk.Code, Name: rk.Name, Score: rk.Score}
		for _, m := range measures {
			var rate projections.Ratio
			if i := slices.IndexFunc(rk.Measures, func(p projections.Progress) bool { return p.Measure == m.code }); i >= 0 {
				rate = rk.Measures[i].Rate
			}
			br.Completions = append(br.Completions, rate)
		}
		doc.Ranking = append(doc.Ranking, br)
	}
	praised, criticised := documents.Judge(ranking)
	for _, c := range praised {
		if see(c) {
			doc.Praised = append(doc.Praised, names[c])
		}
	}
	for _, c := range criticised {
		if see(c) {
			doc.Criticised = append(doc.Criticised, names[c])
		}
	}
	pdf, err := doc.Render()
	if err != nil {
		return err
	}
	writePDF(w, http.StatusOK, "", "bulletin-"+f.ID+".pdf", pdf)
	return nil
}

// monthsOverdue counts the periods of lines with principal overdue on asOf, and the earliest.
func monthsOverdue(lines []domain.LineState, asOf domain.Date) (int, domain.Period) {
	periods := map[domain.Period]bool{}
	var oldest domain.Period
	for _, l := range lines {
		if cur, prior := l.Arrears(asOf); cur+prior > 0 {
			if len(periods) == 0 || l.Period < oldest {
				oldest = l.Period
			}
			periods[l.Period] = true
		}
	}
	return len(periods), oldest
}
