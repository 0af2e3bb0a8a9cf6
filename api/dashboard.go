package api

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

//go:embed dashboard
var dashboardFiles embed.FS

// dashboardRoutes serves the supervisors' dashboard (files embedded in the binary, nothing
// fetched from elsewhere) and the monthly series its charts draw.
func (s *Server) dashboardRoutes() {
	files, _ := fs.Sub(dashboardFiles, "dashboard")
	static := http.FileServer(http.FS(files))
	s.mux.Handle("GET /{$}", noStore(static))
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", noStore(static)))
	s.mux.HandleFunc("GET /v1/series", s.auth(s.read(s.seriesRead)))
}

func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

// seriesRead serves the monthly series (?from=&to=, default January–December of the as-of year).
func (s *Server) seriesRead(w http.ResponseWriter, r *http.Request) error {
	asOf, err := s.asOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, to := projections.DefaultSeriesMonths(asOf)
	for _, p := range []struct {
		name string
		dst  *domain.Period
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			x, err := domain.ParsePeriod(v)
			if err != nil {
				return domain.Invalid(p.name, "%v", err)
			}
			if err := domain.CheckPeriodNotBeforeEarliest(p.name, x); err != nil {
				return err
			}
			*p.dst = x
		}
	}
	if to < from || int(to-from) >= 36 {
		return domain.Invalid("to", "the series runs from %s to %s: want 1 to 36 months", from, to)
	}
	series, err := s.cfg.Runner.Series(r.Context(), asOf, from, to)
	if err != nil {
		return err
	}
	see := s.visibleIn(principalOf(r), s.viewsRef())
	out := *series
	out.Counties = nil
	for _, c := range series.Counties {
		if see(c.Code) {
			out.Counties = append(out.Counties, c)
		}
	}
	if len(out.Counties) != len(series.Counties) {
		out.City = sumSeries(out.Counties)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func sumSeries(lines []*projections.SeriesLine) *projections.SeriesLine {
	if len(lines) == 0 {
		return &projections.SeriesLine{Name: "visible counties"}
	}
	return projections.SumSeries("visible counties", len(lines[0].DueFen), lines)
}
