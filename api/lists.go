package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"

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
