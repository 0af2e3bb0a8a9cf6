package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

//go:embed dashboard
var dashboardFiles embed.FS

// dashboardTypes are the media types of the dashboard's files, set here rather than taken from
// the host's MIME table: a browser refuses a module script served as anything but JavaScript.
var dashboardTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
}

// asset is one file of the dashboard, held in memory with its media type and a content ETag,
// and gzipped once: the page's files are a third of their size that way, over slow county links.
type asset struct {
	body, gz    []byte
	ctype, etag string
}

func newAsset(name string, body []byte) asset {
	ctype, ok := dashboardTypes[path.Ext(name)]
	if !ok {
		panic(fmt.Sprintf("api: the dashboard's file %s has no media type in dashboardTypes", name))
	}
	sum := sha256.Sum256(body)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write(body) // a bytes.Buffer does not fail
	_ = zw.Close()
	return asset{body: body, gz: gz.Bytes(), ctype: ctype, etag: hex.EncodeToString(sum[:16])}
}

// ServeHTTP answers the file, gzipped when the client accepts it. no-cache makes the browser ask
// again on every load (the files change with the binary), and the ETag (one per encoding) lets
// an unchanged file answer 304.
func (a asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	body := a.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = a.gz
		h.Set("Content-Encoding", "gzip")
		h.Set("ETag", `"`+a.etag+`-gz"`)
	} else {
		h.Set("ETag", `"`+a.etag+`"`)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip: named (or *) without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// dashboardAssets are the embedded files by name, and labels.js rendered from the Go labels.
func dashboardAssets() map[string]asset {
	out := map[string]asset{"labels.js": newAsset("labels.js", labelsJS())}
	files, _ := fs.Sub(dashboardFiles, "dashboard")
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(files, name)
		if err == nil {
			out[name] = newAsset(name, body)
		}
		return err
	})
	if err != nil {
		panic("api: read the embedded dashboard: " + err.Error())
	}
	return out
}

// dashboardRoutes serves the supervisors' dashboard (files embedded in the binary, nothing
// fetched from elsewhere) and the monthly series its charts draw.
func (s *Server) dashboardRoutes() {
	assets := dashboardAssets()
	s.mux.Handle("GET /{$}", assets["index.html"])
	s.mux.HandleFunc("GET /assets/", func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[strings.TrimPrefix(r.URL.Path, "/assets/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.ServeHTTP(w, r)
	})
	s.mux.HandleFunc("GET /v1/series", s.auth(s.read(s.seriesRead)))
}

// seriesRead serves the monthly series (?from=&to=, default January–December of the as-of year),
// of every insurance summed or of one (?insurance=), for the counties the principal may read or
// those of one group it may read (?group=; a group with a county outside its scope is refused,
// 403 naming group, as GET /v1/groups/{n} is).
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
	var ins domain.Insurance
	if v := q.Get("insurance"); v != "" {
		if ins, err = domain.ParseInsurance("insurance", v); err != nil {
			return err
		}
	}
	ref := s.viewsRef()
	group := 0
	if v := q.Get("group"); v != "" {
		groups := ref.GroupsOn(asOf)
		n, err := strconv.Atoi(v)
		if err != nil || !slices.ContainsFunc(groups, func(g domain.Group) bool { return g.N == n }) {
			return domain.Invalid("group", "%q is not a supervision group: groups are 1–%d", domain.Clip(v, 32), len(groups))
		}
		if err := groupInScope(principalOf(r), n, ref, asOf); err != nil {
			return err
		}
		group = n
	}
	minSeq, _ := strconv.ParseUint(q.Get("min_seq"), 10, 64) // read's check passed it
	series, err := s.cfg.Runner.Series(r.Context(), asOf, from, to, minSeq)
	if err != nil {
		return err
	}
	// A series is answered again for a while as events arrive: its own sequence, not the views'.
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(series.Seq, 10))
	series = series.ForInsurance(ins)
	see := s.visibleIn(principalOf(r), ref)
	// The answer names the group whose counties it keeps; its total is theirs.
	out := struct {
		projections.Series
		Group int `json:"group,omitempty"`
	}{*series, group}
	out.Counties = nil
	for _, c := range series.Counties {
		if see(c.Code) && (group == 0 || c.Group == group) {
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
