package api

import (
	"net/http"
	"strconv"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

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
		if err := countyInScope(p, c, ref); err != nil {
			return err
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
	reflects(w, l.Seq)
	items := []projections.WorkItem{}
	readable := s.readableNow(p)
	for _, it := range l.Worklist(allowed, asOf) {
		if readable(it.EmployerID) {
			items = append(items, it)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"as_of": asOf, "items": items})
	return nil
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

// listEmployers answers GET /v1/employers: the employers the principal may read, filtered (see
// parseSearch), in the order they entered the ledger, a page (?page=) or a cursor (?cursor=) at
// a time, or every match as csv or xlsx (?format=). A county outside the principal's scope is
// refused, 403 naming county (countyInScope), in every format. The answer names the principal
// and the families of writes it may make, which the desk's forms follow.
func (s *Server) listEmployers(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	ref := s.viewsRef() // the search reads the views
	q, err := parseSearch(r.URL.Query(), ref)
	if err != nil {
		return err
	}
	if q.county != "" {
		if err := countyInScope(p, q.county, ref); err != nil {
			return err
		}
	}
	export := q.format == "csv" || q.format == "xlsx"
	today := s.cfg.Today() // each row names its county by the code in force today
	// A flag filter and the rows are read at one sequence where the views allow: the live
	// report's and the views' move on as events arrive, and a few tries find them at the same
	// one; under a stream of writes the last try's rows go with a filter events older.
	var flagged map[string]bool
	l := s.cfg.Runner.Current()
	for try := 0; q.flag != "" && try < 5; try++ {
		var at uint64
		if flagged, at, err = s.flaggedEmployers(r.Context(), q.flag); err != nil {
			return err
		}
		if l = s.cfg.Runner.Current(); l.Seq == at {
			break
		}
	}
	res, err := q.run(l, p, today, flagged, export)
	if err != nil {
		return err
	}
	reflects(w, l.Seq)
	if export {
		return s.writeExport(w, q.format, res.rows, today)
	}
	out := map[string]any{"total": res.total, "page_size": q.limit, "employers": res.rows, "principal": viewOf(p)}
	if q.cursor == "" {
		out["page"] = q.page
	}
	if res.next != "" {
		out["next_cursor"] = res.next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
