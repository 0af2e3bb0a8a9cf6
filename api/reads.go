package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
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
	s.mux.HandleFunc("GET /v1/events", s.auth(s.storeRead(s.events)))
	s.mux.HandleFunc("GET /v1/corrections", s.auth(s.storeRead(s.corrections)))
	s.mux.HandleFunc("GET /v1/live", s.auth(s.live))
}

// encoded caches encoded answers of a report per route and scope, and their gzip once asked for:
// the live report only changes when an event arrives, and supervisors' dashboards ask for it
// far more often than that.
type encoded struct {
	mu sync.Mutex
	m  map[encKey]*gzipped
}

// encKey names a report by what it is a function of (the views' sequence, the query and the
// segment), not by the report itself: a report holds the views it was computed from, and a
// cache keyed by reports made from replays of closed books kept every replay alive (hundreds
// of megabytes after a few dozen reads of old years).
type encKey struct {
	seq    uint64
	asOf   domain.Date
	period domain.Period
	seg    domain.Segment
	route  string
	scope  string
}

// scopeOf names what p may read: two principals of one scope are answered the same.
func scopeOf(p Principal) string {
	if p.readsAll() {
		return "all"
	}
	return p.Role + fmt.Sprint(p.Counties, p.Groups)
}

// writeCached answers with the cached encoding of build() for (rep, route, principal's scope).
func (s *Server) writeCached(w http.ResponseWriter, r *http.Request, rep *projections.Report, build func() any) {
	key := encKey{rep.Seq, rep.AsOf, rep.Period, rep.Segment, r.Pattern + "?" + r.URL.RawQuery, scopeOf(principalOf(r))}
	s.enc.mu.Lock()
	g, ok := s.enc.m[key]
	s.enc.mu.Unlock()
	if !ok {
		// As writeJSON encodes: the same bytes whether an answer is cached or not.
		var b bytes.Buffer
		if err := jsonEncoder(&b).Encode(build()); err != nil {
			writeError(w, err)
			return
		}
		g = &gzipped{plain: b.Bytes()}
		s.enc.mu.Lock()
		if s.enc.m == nil || len(s.enc.m) > 256 {
			s.enc.m = map[encKey]*gzipped{}
		}
		s.enc.m[key] = g
		s.enc.mu.Unlock()
	}
	reflects(w, rep.Seq)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	g.write(w, r)
}

// read wraps a projection read: the views must be running, min_seq is waited for, and the
// sequence the answer reflects is sent back: the views' once min_seq is reached, raised by the
// handler (reflects) to that of the views it then computed from, which may have moved on.
func (s *Server) read(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Runner == nil {
			writeError(w, &domain.Error{Kind: domain.KindUnavailable, Detail: "the views are not running on this server"})
			return
		}
		if err := s.waitMinSeq(r, "the views reflect sequence", s.cfg.Runner.Seq, s.cfg.Runner.WaitSeq); err != nil {
			var de *domain.Error
			if errors.As(err, &de) && de.Kind == domain.KindUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			writeError(w, err)
			return
		}
		w.Header().Set("X-Ledger-Seq", strconv.FormatUint(s.cfg.Runner.Seq(), 10))
		if err := h(w, allowReplay(w, r)); err != nil {
			writeError(w, err)
		}
	}
}

// pastReadTime is how long a read has to answer once it replays the views of closed books: a
// first replay of a long ledger's old years outlasts the server's write timeout.
const pastReadTime = 10 * time.Minute

// allowReplay gives a read the time a replay of closed books takes, should it need one or wait
// for one, and the server's write timeout again once it is over. Other requests keep their
// deadlines (a county batch sets its own).
func allowReplay(w http.ResponseWriter, r *http.Request) *http.Request {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return r
	}
	return r.WithContext(projections.WhenReplaying(r.Context(), func() func() {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(pastReadTime))
		return func() { _ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) }
	}))
}

// reflects raises the X-Ledger-Seq of an answer to seq, the sequence of the views it was computed
// from: two reads answering the same sequence must agree. A lower seq (figures replayed of closed
// books, the same through every later sequence) leaves it as it is.
func reflects(w http.ResponseWriter, seq uint64) {
	if was, err := strconv.ParseUint(w.Header().Get("X-Ledger-Seq"), 10, 64); err == nil && was >= seq {
		return
	}
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(seq, 10))
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
		if p.FirstDay() > asOf {
			// Its figures would be nothing due and nothing paid: a question asked of the wrong day.
			return q, domain.Invalid("period", "%s has not begun on as_of %s", p, asOf)
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
	Segment  domain.Segment         `json:"segment,omitempty"`
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
