package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/xuri/excelize/v2"
)

// readRoutes registers the projection reads. Every read answers X-Ledger-Seq and honours
// ?min_seq=N (read-your-writes, waiting up to 5 s).
func (s *Server) readRoutes() {
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("GET /v1/employers", s.auth(s.read(s.listEmployers)))
	s.mux.HandleFunc("GET /v1/counties", s.auth(s.read(s.counties)))
	s.mux.HandleFunc("GET /v1/counties/{code}", s.auth(s.read(s.county)))
	s.mux.HandleFunc("GET /v1/groups", s.auth(s.read(s.groups)))
	s.mux.HandleFunc("GET /v1/groups/{n}", s.auth(s.read(s.group)))
	s.mux.HandleFunc("GET /v1/targets", s.auth(s.read(s.targets)))
	s.mux.HandleFunc("GET /v1/worklists", s.auth(s.read(s.worklists)))
	s.mux.HandleFunc("GET /v1/reports/monthly/{month}", s.auth(s.read(s.monthly)))
	s.mux.HandleFunc("GET /v1/flags", s.auth(s.read(s.flags)))
	s.mux.HandleFunc("GET /v1/live", s.auth(s.live))
}

// encoded caches encoded answers of a report per route and scope: the live report only changes
// when an event arrives, and supervisors' dashboards ask for it far more often than that.
type encoded struct {
	mu sync.Mutex
	m  map[encKey][]byte
}

type encKey struct {
	rep   *projections.Report
	route string
	scope string
}

// writeCached answers with the cached encoding of build() for (rep, route, principal's scope).
func (s *Server) writeCached(w http.ResponseWriter, r *http.Request, rep *projections.Report, build func() any) {
	p := principalOf(r)
	scope := p.Role + fmt.Sprint(p.Counties, p.Groups)
	if p.readsAll() {
		scope = "all"
	}
	key := encKey{rep, r.Pattern + "?" + r.URL.RawQuery, scope}
	s.enc.mu.Lock()
	b, ok := s.enc.m[key]
	s.enc.mu.Unlock()
	if !ok {
		var err error
		if b, err = json.Marshal(build()); err != nil {
			writeError(w, err)
			return
		}
		b = append(b, '\n')
		s.enc.mu.Lock()
		if s.enc.m == nil || len(s.enc.m) > 256 {
			s.enc.m = map[encKey][]byte{}
		}
		s.enc.m[key] = b
		s.enc.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

// flags lists the employers raising accountability flags, by county and kind, a page at a time.
func (s *Server) flags(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.report(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	county, kind := q.Get("county"), q.Get("kind")
	if county != "" {
		if err := countyFilter(rep.Ref, county, rep.AsOf); err != nil {
			return err
		}
	}
	if kind != "" && !slices.Contains(projections.FlagKinds, kind) {
		return domain.Invalid("kind", "unknown flag kind %q: want one of %s", kind, strings.Join(projections.FlagKinds, ", "))
	}
	page, err := pageOf(q.Get("page"))
	if err != nil {
		return err
	}
	type row struct {
		projections.Flag
		County string `json:"county"`
	}
	see := s.visibleIn(principalOf(r), rep.Ref)
	rows := []row{}
	for _, c := range rep.Counties {
		if (county != "" && c.Code != county) || !see(c.Code) {
			continue
		}
		for _, f := range c.EmployerFlags {
			if kind == "" || f.Kind == kind {
				rows = append(rows, row{f, c.Code})
			}
		}
	}
	lo, hi := pageBounds(page, len(rows))
	writeJSON(w, http.StatusOK, map[string]any{"seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "total": len(rows), "page": page, "page_size": pageSize, "flags": rows[lo:hi]})
	return nil
}

// Warm computes the live report, so the first reader does not wait for it.
func (s *Server) Warm() {
	if s.cfg.Runner != nil {
		if _, err := s.cfg.Runner.Report(context.Background(), s.liveQuery()); err != nil {
			s.cfg.Log.Warn("live report", "err", err)
		}
	}
}

// WarmWhenReady computes the live report once the views have caught up, and until then has
// /readyz answer 503 "warming up": the report is seconds of work on a large ledger, and a
// server that reports ready must answer its readers at full speed, not beside it.
func (s *Server) WarmWhenReady(ctx context.Context) {
	if s.cfg.Runner == nil {
		return
	}
	s.warming.Store(true)
	go func() {
		for !s.cfg.Runner.Ready() {
			select {
			case <-ctx.Done():
				return
			case <-s.cfg.Runner.Changed():
			case <-time.After(100 * time.Millisecond):
			}
		}
		start := time.Now()
		s.Warm()
		s.cfg.Log.Info("live report computed", "took", time.Since(start).Round(time.Millisecond))
		s.warming.Store(false)
	}()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Damage != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "damaged", "reason": s.cfg.Damage,
			"what_to_do": "inspect with kuozheng verify; restart with --accept-damage to serve the ledger as it is"})
		return
	}
	if s.cfg.Connected != nil {
		if err := s.cfg.Connected(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "disconnected", "reason": err.Error()})
			return
		}
	}
	if s.cfg.Runner == nil || !s.cfg.Runner.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "catching up"})
		return
	}
	if s.warming.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "warming up"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "seq": s.cfg.Runner.Seq()})
}

// read wraps a projection read: the views must be running, min_seq is waited for, and the
// sequence the answer reflects is sent back.
func (s *Server) read(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Runner == nil {
			writeError(w, &domain.Error{Kind: domain.KindUnavailable, Detail: "the views are not running on this server"})
			return
		}
		if v := r.URL.Query().Get("min_seq"); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				writeError(w, domain.Invalid("min_seq", "%q is not a sequence number", v))
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			err = s.cfg.Runner.WaitSeq(ctx, n)
			cancel()
			if err != nil {
				w.Header().Set("Retry-After", "1")
				writeError(w, &domain.Error{Kind: domain.KindUnavailable, Field: "min_seq",
					Detail: fmt.Sprintf("the views reflect sequence %d, not yet %d; retry", s.cfg.Runner.Seq(), n)})
				return
			}
		}
		w.Header().Set("X-Ledger-Seq", strconv.FormatUint(s.cfg.Runner.Seq(), 10))
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	}
}

// query reads ?period= and ?as_of=; the defaults are today and the period last due.
func (s *Server) query(r *http.Request) (projections.Query, error) {
	asOf, err := s.asOf(r)
	if err != nil {
		return projections.Query{}, err
	}
	ref := s.viewsRef()
	q := projections.Query{AsOf: asOf, Period: projections.DefaultPeriod(ref, asOf)}
	if v := r.URL.Query().Get("period"); v != "" {
		p, err := domain.ParsePeriod(v)
		if err != nil {
			return q, domain.Invalid("period", "%v", err)
		}
		if err := domain.CheckPeriodNotBeforeEarliest("period", p); err != nil {
			return q, err
		}
		q.Period = p
	}
	return q, nil
}

// viewsRef is the reference data as the views know it (what their figures were computed with).
func (s *Server) viewsRef() *domain.Reference {
	var ref domain.Reference
	s.cfg.Runner.View(func(l *projections.Ledger) { ref = l.Ref })
	return &ref
}

// liveQuery is the default query, kept up to date incrementally.
func (s *Server) liveQuery() projections.Query {
	var q projections.Query
	s.cfg.Runner.View(func(l *projections.Ledger) {
		today := s.cfg.Today()
		q = projections.Query{AsOf: today, Period: projections.DefaultPeriod(&l.Ref, today)}
	})
	s.cfg.Runner.SetLive(q)
	return q
}

// scoped is a report cut to what the principal may read, with the city summed over those counties.
type scoped struct {
	Seq      uint64                 `json:"seq"`
	AsOf     domain.Date            `json:"as_of"`
	Period   domain.Period          `json:"period"`
	Counties []*projections.Figures `json:"counties"`
	City     *projections.Figures   `json:"city"`
	Scope    string                 `json:"scope"`
}

func (s *Server) report(r *http.Request) (*projections.Report, error) {
	q, err := s.query(r)
	if err != nil {
		return nil, err
	}
	s.liveQuery()
	return s.cfg.Runner.Report(r.Context(), q)
}

// visibleIn says which counties p may read, by ref: the reference data of what is read.
func (s *Server) visibleIn(p Principal, ref *domain.Reference) func(code string) bool {
	return func(code string) bool { return p.canReadCounty(code, ref) }
}

func (s *Server) counties(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.report(r)
	if err != nil {
		return err
	}
	s.writeCached(w, r, rep, func() any {
		out := scoped{Seq: rep.Seq, AsOf: rep.AsOf, Period: rep.Period, City: rep.City, Scope: "city",
			Counties: visibleCounties(s.visibleIn(principalOf(r), rep.Ref), rep.Counties)}
		if len(out.Counties) != len(rep.Counties) {
			out.City, out.Scope = projections.Sum("", out.Counties), "visible counties"
		}
		return out
	})
	return nil
}

func (s *Server) county(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	rep, err := s.report(r)
	if err != nil {
		return err
	}
	if err := rep.Ref.CheckCounty("code", code); err != nil {
		return asNotFound(err) // a path names a resource: an unknown one is not found
	}
	p := principalOf(r)
	if !s.visibleIn(p, rep.Ref)(code) {
		return forbidden("%s (%s) may not read county %s", p.Name, p.Role, code)
	}
	c, ok := rep.County(code)
	if !ok {
		return notInForce(rep.Ref, "code", code, rep.AsOf)
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "county": c})
	return nil
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

// groupVisible: a principal reads a group's figures as of asOf if it reads every county of the
// group in force on asOf (Reference.GroupsOn).
func groupVisible(p Principal, g *projections.Figures, rep *projections.Report) bool {
	ref := rep.Ref
	for _, gr := range ref.GroupsOn(rep.AsOf) {
		if gr.N == g.Group {
			for _, code := range gr.Counties {
				if !p.canReadCounty(code, ref) {
					return false
				}
			}
			return true
		}
	}
	return false
}

func (s *Server) groups(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.report(r)
	if err != nil {
		return err
	}
	p := principalOf(r)
	out := []*projections.Figures{}
	for _, g := range rep.Groups {
		if groupVisible(p, g, rep) {
			out = append(out, g)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "groups": out})
	return nil
}

func (s *Server) group(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.report(r)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(rep.Groups) {
		return domain.NotFound("n", "no supervision group %q: groups are 1–%d", r.PathValue("n"), len(rep.Groups))
	}
	g := rep.Groups[n-1]
	p := principalOf(r)
	if !groupVisible(p, g, rep) {
		return forbidden("%s (%s) may not read group %d", p.Name, p.Role, n)
	}
	var counties []*projections.Figures
	for _, c := range rep.Counties {
		if c.Group == n {
			counties = append(counties, c)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "group": g, "counties": counties})
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
	writeJSON(w, http.StatusOK, tp)
	return nil
}

func (s *Server) worklists(w http.ResponseWriter, r *http.Request) error {
	asOf, err := s.asOf(r)
	if err != nil {
		return err
	}
	p := principalOf(r)
	ref := s.cfg.Store.Reference()
	allowed := map[string]bool{}
	if c := r.URL.Query().Get("county"); c != "" {
		if err := ref.CheckCounty("county", c); err != nil {
			return err
		}
		if !p.canReadCounty(c, ref) {
			return forbidden("%s (%s) may not read county %s", p.Name, p.Role, c)
		}
		if err := countyFilter(ref, c, asOf); err != nil {
			return err
		}
		allowed[c] = true
	} else {
		for _, c := range ref.CountiesOn(asOf) {
			if p.canReadCounty(c.Code, ref) {
				allowed[c.Code] = true
			}
		}
	}
	ref = s.viewsRef()
	l, err := s.cfg.Runner.At(r.Context(), projections.Query{AsOf: asOf, Period: projections.DefaultPeriod(ref, asOf)}, asOf, "as_of")
	if err != nil {
		return err
	}
	items := l.Worklist(allowed, asOf)
	writeJSON(w, http.StatusOK, map[string]any{"as_of": asOf, "items": items})
	return nil
}

// EmployerSummary is one row of the employer list.
type EmployerSummary struct {
	EmployerID string              `json:"employer_id"`
	Name       string              `json:"name"`
	County     string              `json:"county"`
	Kind       domain.EmployerKind `json:"kind"`
	OrgCode    string              `json:"org_code,omitempty"`
	Registered bool                `json:"registered"`
	Version    uint64              `json:"version"`
}

const pageSize = 100

// pageOf parses ?page= (default 1).
func pageOf(v string) (int, error) {
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, domain.Invalid("page", "%q is not a page number (1, 2, …)", v)
	}
	return n, nil
}

// pageBounds is the slice of n rows that page shows.
func pageBounds(page, n int) (lo, hi int) {
	if page-1 > n/pageSize {
		return n, n // past the end (and no overflow for absurd page numbers)
	}
	lo = min((page-1)*pageSize, n)
	return lo, min(lo+pageSize, n)
}

func (s *Server) listEmployers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := principalOf(r)
	ref := s.cfg.Store.Reference()
	county := q.Get("county")
	if county != "" {
		if err := ref.CheckCounty("county", county); err != nil {
			return err
		}
	}
	page, err := pageOf(q.Get("page"))
	if err != nil {
		return err
	}
	// Names are stored normalised (NFKC, no format characters), so the query is too.
	text := strings.ToLower(domain.NormalizeText(q.Get("q")))
	today := s.cfg.Today() // each row names its county by the code in force today
	// Every match is counted, but only the page's rows are made: naming a row's county walks
	// the county changes, which for every payer of a city made a page cost 30 ms.
	first, _ := pageBounds(page, math.MaxInt)
	rows := []EmployerSummary{}
	total := 0
	s.cfg.Runner.View(func(l *projections.Ledger) {
		for _, id := range l.Order {
			e := l.Employers[id]
			if (county != "" && !ref.SameCounty(e.County, county)) || !p.canReadCounty(e.County, ref) {
				continue
			}
			if text != "" && !strings.Contains(strings.ToLower(e.Name), text) && !strings.Contains(strings.ToLower(e.OrgCode), text) && !strings.HasPrefix(id, text) {
				continue
			}
			if total >= first && total-first < pageSize {
				rows = append(rows, EmployerSummary{id, e.Name, ref.CountyCodeOn(e.County, today), e.Kind, e.OrgCode, e.Registered, e.Version})
			}
			total++
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "page": page, "page_size": pageSize, "employers": rows})
	return nil
}

// monthly serves the monthly county report of month M: the figures at the end of M (or today,
// if earlier), for the period last due by then (M−1, due on the 15th of M).
func (s *Server) monthly(w http.ResponseWriter, r *http.Request) error {
	m, err := domain.ParsePeriod(r.PathValue("month"))
	if err != nil {
		return domain.Invalid("month", "%v", err)
	}
	if err := domain.CheckPeriodNotBeforeEarliest("month", m); err != nil {
		return err
	}
	asOf := min(m.LastDay(), s.cfg.Today())
	if asOf < m.FirstDay() {
		return domain.Invalid("month", "%s has not begun on %s", m, s.cfg.Today())
	}
	ref := s.viewsRef()
	var rep *projections.Report
	if id := r.URL.Query().Get("freeze"); id != "" {
		// A month-end bulletin served from a freeze: the figures never move.
		f, frozen, err := s.loadFreeze(r, id)
		if err != nil {
			return err
		}
		if f.ValidThrough.Period() != m {
			return domain.Invalid("freeze", "freeze %s is valid through %s, not a day of %s", id, f.ValidThrough, m)
		}
		rep = frozen
	} else {
		if rep, err = s.cfg.Runner.Report(r.Context(), projections.Query{AsOf: asOf, Period: projections.DefaultPeriod(ref, asOf)}); err != nil {
			return err
		}
	}
	p := principalOf(r)
	rows := visibleCounties(s.visibleIn(p, rep.Ref), rep.Counties)
	format := r.URL.Query().Get("format")
	name := fmt.Sprintf("kuozheng-monthly-%s", m)
	switch format {
	case "", "json":
		total := "赣州市"
		if len(rows) != len(rep.Counties) {
			total = "visible counties" // the sum of the reader's counties, not the city's
		}
		writeJSON(w, http.StatusOK, map[string]any{"month": m, "seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "counties": rows, "city": projections.Sum(total, rows)})
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
		cw := csv.NewWriter(w)
		for _, row := range MonthlyRows(rep, rows) {
			_ = cw.Write(row)
		}
		cw.Flush()
	case "xlsx":
		f := excelize.NewFile()
		defer f.Close()
		sheet := "月报 Monthly"
		_ = f.SetSheetName("Sheet1", sheet)
		for i, row := range MonthlyRows(rep, rows) {
			cells := make([]any, len(row))
			for j, v := range row {
				// Codes and names stay text; figures become numbers.
				if n, err := strconv.ParseInt(v, 10, 64); err == nil && i > 0 && j >= 3 {
					cells[j] = n
				} else {
					cells[j] = v
				}
			}
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
				return err
			}
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.xlsx"`, name))
		return f.Write(w)
	default:
		return domain.Invalid("format", "unknown format %q: want json, csv or xlsx", format)
	}
	return nil
}

// MonthlyRows lays the monthly report out as rows: a bilingual header, then one row per county
// and insurance. Money is in fen, rates in basis points of their exact value (rounded half up).
func MonthlyRows(rep *projections.Report, counties []*projections.Figures) [][]string {
	rows := [][]string{{"所属区县 county code", "区县 county", "险种 insurance", "参保人数 insured", "应参保人数 should insure",
		"参保率 coverage (bp)", "足额缴费人数 paid insured", "缴费率 contribution (bp)", "当期应缴 period due (fen)",
		"当期实缴 period collected (fen)", "当期征缴率 period collection (bp)", "累计应缴 cumulative due (fen)",
		"累计实缴 cumulative collected (fen)", "累计征缴率 cumulative collection (bp)", "当年欠费 arrears current year (fen)",
		"历年欠费 arrears prior years (fen)", "清欠 recovered (fen)", "期间 period", "截至 as of"}}
	bp := func(r projections.Ratio) string {
		if r.Den == 0 {
			return ""
		}
		v, _ := domain.MulDivHalfUp(r.Num, 10000, r.Den)
		return strconv.FormatInt(v, 10)
	}
	for _, c := range counties {
		for _, ins := range domain.Insurances {
			x := c.Insurances[ins]
			rows = append(rows, []string{c.Code, c.Name, string(ins), i64(x.Insured), i64(x.ShouldInsure), bp(x.CoverageRate),
				i64(x.PaidInsured), bp(x.ContributionRate), i64(int64(x.PeriodDueFen)), i64(int64(x.PeriodCollectedFen)),
				bp(x.PeriodCollectionRate), i64(int64(x.CumulativeDueFen)), i64(int64(x.CumulativeCollectedFen)),
				bp(x.CumulativeCollectionRate), i64(int64(x.ArrearsCurrentYearFen)), i64(int64(x.ArrearsPriorYearsFen)),
				i64(int64(x.RecoveredFen)), rep.Period.String(), rep.AsOf.String()})
		}
	}
	return rows
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

// live streams server-sent events: each time the views advance, the sequence and the city's
// headline figures for the default query; clients re-read what they show.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Runner == nil {
		writeError(w, &domain.Error{Kind: domain.KindUnavailable, Detail: "the views are not running on this server"})
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, &domain.Error{Kind: domain.KindUnavailable, Detail: "streaming is not supported here"})
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	p := principalOf(r)
	full := p.readsAll()
	send := func() bool {
		rep, err := s.cfg.Runner.Report(r.Context(), s.liveQuery())
		if err != nil {
			return r.Context().Err() == nil
		}
		city := rep.City
		if !full {
			// A scoped reader sees the sum of its counties, never the city's.
			city = projections.Sum("visible counties", visibleCounties(s.visibleIn(p, rep.Ref), rep.Counties))
		}
		b, _ := json.Marshal(map[string]any{"seq": rep.Seq, "as_of": rep.AsOf, "period": rep.Period, "caught_up": s.cfg.Runner.Ready(),
			"head": s.cfg.Store.Applied(), "city": city})
		if _, err := fmt.Fprintf(w, "id: %d\nevent: views\ndata: %s\n\n", rep.Seq, b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	// Listen before reading, so an event applied while a report is built still wakes us.
	changed := s.cfg.Runner.Changed()
	if !send() {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			fl.Flush()
		case <-changed:
			// Coalesce bursts: at most a few updates a second.
			select {
			case <-time.After(200 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			changed = s.cfg.Runner.Changed()
			if !send() {
				return
			}
		}
	}
}
