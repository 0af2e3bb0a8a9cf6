package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the ledger's Prometheus instrumentation: it observes the store and the runner
// (as their Observer) and decorates the HTTP handler, so no handler counts anything itself
// (the import handler only hands its progress over). A Metrics serves one Server.
type Metrics struct {
	reg *prometheus.Registry
	// server is the API once serve hands it the requests: until then kuozheng_ready reads 0, so
	// a server stuck opening (a replay that does not end) is not ready to the alerts either.
	server          atomic.Pointer[Server]
	appended        *prometheus.CounterVec
	batchSeconds    prometheus.Histogram
	batchMessages   prometheus.Histogram
	conflicts       prometheus.Counter
	duplicates      prometheus.Counter
	applied         prometheus.Counter
	snapshotBytes   prometheus.Gauge
	snapshotSeconds prometheus.Histogram
	pastEvents      prometheus.Counter
	pastSeconds     prometheus.Histogram
	requests        *prometheus.CounterVec
	requestSeconds  *prometheus.HistogramVec
	errorAnswers    *prometheus.CounterVec
	appendErrors    *prometheus.CounterVec
	importsRunning  prometheus.Gauge
	importRowsDone  prometheus.Counter
	importRowsLeft  prometheus.Gauge
}

// appendErrorKinds are the kinds of kuozheng_append_errors_total, all exported from the start so
// that a rate over them is 0, not absent, before the first error.
var appendErrorKinds = []string{"not_recorded", "outcome_unknown", "conflict", "refused"}

// NewMetrics registers the ledger's metrics, plus Go and process metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		appended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kuozheng_events_appended_total", Help: "Events appended to the ledger by this process, by event type."}, []string{"type"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kuozheng_append_batch_duration_seconds", Help: "Time to append one group-committed batch, from send to durable acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		batchMessages: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kuozheng_append_batch_messages", Help: "Messages per group-committed batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11)}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kuozheng_append_conflicts_total", Help: "Appends refused because the employer changed concurrently (retried or answered 412)."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kuozheng_append_duplicates_total", Help: "Appends found to be retries of an idempotency key already in the ledger."}),
		applied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kuozheng_projection_events_applied_total", Help: "Events folded into the views."}),
		snapshotBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kuozheng_projection_snapshot_size_bytes", Help: "Size of the last snapshot of the views."}),
		snapshotSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kuozheng_projection_snapshot_duration_seconds", Help: "Time to write a snapshot of the views.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}),
		pastEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kuozheng_projection_past_replay_events_total", Help: "Events folded again to answer figures as of a date within the closed books, or for the live views when a year is reopened (each replay starts from the views kept at an earlier year's closing when it can)."}),
		pastSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kuozheng_projection_past_replay_duration_seconds", Help: "Time to replay the views of closed books for figures as of a date within them, or for a reopening.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kuozheng_http_requests_total", Help: "HTTP requests answered, by route pattern and status code."}, []string{"route", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kuozheng_http_request_duration_seconds", Help: "HTTP request latency by route pattern (for writes, the append latency as clients see it).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16)}, []string{"route"}),
		errorAnswers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kuozheng_http_errors_total", Help: "HTTP requests answered with an error body, by route pattern and the error it names (invalid, year_closed, idempotency_mismatch, conflict, unavailable, internal, ...): what a status code alone does not tell apart."}, []string{"route", "error"}),
		appendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kuozheng_append_errors_total", Help: "Group-committed batches the stream did not store, by kind: not_recorded (nothing stored: NATS unreachable, no stream leader; the writes answer 503), outcome_unknown (sent, not acknowledged in time; the writes answer 504), conflict (an employer changed concurrently; its commands are decided again), refused (another refusal, such as a duplicate message id; the batch's commands are sent again one by one)."},
			[]string{"kind"}),
		importsRunning: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kuozheng_imports_running", Help: "Spreadsheet imports (POST /v1/imports) in progress."}),
		importRowsDone: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kuozheng_import_rows_done_total", Help: "Rows of spreadsheet imports checked and sent to the ledger (recorded, duplicate or rejected)."}),
		importRowsLeft: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kuozheng_import_rows_remaining", Help: "Rows of the running imports not yet done: the rows counted in their files, less those done."}),
	}
	for _, k := range appendErrorKinds {
		m.appendErrors.WithLabelValues(k)
	}
	ready := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_ready", Help: "1 when /readyz answers 200 (the ledger takes writes, the views have caught up), else 0, also while serve opens the ledger."},
		func() float64 {
			s := m.server.Load()
			return oneIf(s != nil && s.ready())
		})
	live := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_live_streams", Help: "Live streams (GET /v1/live) open on this server, of every principal; one principal holds at most 32."},
		func() float64 {
			if s := m.server.Load(); s != nil {
				return float64(s.watching.total())
			}
			return 0
		})
	m.reg.MustRegister(live, m.appended, m.batchSeconds, m.batchMessages, m.conflicts, m.duplicates, m.applied,
		m.snapshotBytes, m.snapshotSeconds, m.pastEvents, m.pastSeconds, m.requests, m.requestSeconds, m.errorAnswers, m.appendErrors,
		m.importsRunning, m.importRowsDone, m.importRowsLeft, ready,
		// The live heap is what serve's warning compares with the soft memory limit
		// (go_gc_gomemlimit_bytes).
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Watch adds the gauges read from the store and runner at scrape time.
func (m *Metrics) Watch(store *eventstore.Store, runner *projections.Runner) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_ledger_sequence", Help: "Last stream sequence the write side has folded."},
			func() float64 { return float64(store.Applied()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_projection_sequence", Help: "Last stream sequence the views reflect."},
			func() float64 { return float64(runner.Seq()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_projection_lag_sequences", Help: "How many sequences the views are behind the write side."},
			func() float64 { return float64(max(int64(store.Applied())-int64(runner.Seq()), 0)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_projection_snapshot_age_seconds", Help: "Seconds since the views were last snapshotted by this process (-1: not yet)."},
			func() float64 {
				at, _ := runner.LastSnapshot()
				if at.IsZero() {
					return -1
				}
				return time.Since(at).Seconds()
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_ledger_chain_breaks", Help: "Employers whose hash chain or sequence links the store found broken, following the stream or verifying it whole (GET /v1/verify; kuozheng verify lists them); 0 in a sound ledger."},
			func() float64 { return float64(store.ChainBreaks()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_ledger_unsettled_holds", Help: "Year closings (or reopenings) whose append went unanswered and after which this process could not yet read the stream: while above 0, writes dated in ended years are fenced (checked against the years' head), and it retries each second."},
			func() float64 { return float64(store.UnsettledHolds()) }),
	)
}

// WatchDisk adds the free and total space of the file system that holds dir (the data folder, or
// the scratch folder of a store on --nats), read at scrape time.
func (m *Metrics) WatchDisk(dir string) {
	m.reg.MustRegister(diskCollector{dir})
}

var (
	diskFreeDesc = prometheus.NewDesc("kuozheng_data_disk_free_bytes", "Bytes free for the server's user on the file system of the data folder.", nil, nil)
	diskSizeDesc = prometheus.NewDesc("kuozheng_data_disk_size_bytes", "Size in bytes of the file system of the data folder.", nil, nil)
)

// diskCollector reads the file system of dir at each scrape, and reports nothing when it cannot:
// a made-up figure would pass for the disk's.
type diskCollector struct{ dir string }

// Describe is part of prometheus.Collector.
func (c diskCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- diskFreeDesc
	ch <- diskSizeDesc
}

// Collect is part of prometheus.Collector.
func (c diskCollector) Collect(ch chan<- prometheus.Metric) {
	var st syscall.Statfs_t
	if syscall.Statfs(c.dir, &st) != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(diskFreeDesc, prometheus.GaugeValue, float64(st.Bavail)*float64(st.Bsize))
	ch <- prometheus.MustNewConstMetric(diskSizeDesc, prometheus.GaugeValue, float64(st.Blocks)*float64(st.Bsize))
}

// Appended counts appended events (eventstore.Observer).
func (m *Metrics) Appended(eventType string, n int) {
	m.appended.WithLabelValues(eventType).Add(float64(n))
}

// Batch observes one group commit (eventstore.Observer), and counts it by kind when the stream
// did not store it.
func (m *Metrics) Batch(msgs int, d time.Duration, err error) {
	m.batchSeconds.Observe(d.Seconds())
	m.batchMessages.Observe(float64(msgs))
	if err != nil {
		m.appendErrors.WithLabelValues(appendErrorKind(err)).Inc()
	}
}

// appendErrorKind is the kind of kuozheng_append_errors_total a batch's error counts as: an
// outcome unknown first (it may wrap the refusal of a later sending), then nothing recorded.
func appendErrorKind(err error) string {
	switch {
	case errors.Is(err, eventstore.ErrOutcomeUnknown):
		return "outcome_unknown"
	case errors.Is(err, eventstore.ErrNotRecorded):
		return "not_recorded"
	case errors.Is(err, eventstore.ErrConflict):
		return "conflict"
	default:
		return "refused"
	}
}

// Conflict counts a concurrency conflict (eventstore.Observer).
func (m *Metrics) Conflict() { m.conflicts.Inc() }

// Duplicate counts an idempotent retry (eventstore.Observer).
func (m *Metrics) Duplicate() { m.duplicates.Inc() }

// Applied counts events folded into the views (projections.Observer).
func (m *Metrics) Applied(n int, seq uint64) { m.applied.Add(float64(n)) }

// Snapshot observes a snapshot of the views (projections.Observer).
func (m *Metrics) Snapshot(seq uint64, size int, d time.Duration) {
	m.snapshotBytes.Set(float64(size))
	m.snapshotSeconds.Observe(d.Seconds())
}

// PastReplay observes a replay of the views of closed books (projections.Observer).
func (m *Metrics) PastReplay(events uint64, d time.Duration) {
	m.pastEvents.Add(float64(events))
	m.pastSeconds.Observe(d.Seconds())
}

// watchServer makes kuozheng_ready read s's readiness as /readyz answers it, and adds the gauges
// read from s at scrape time: damage found at start, and the NATS connection.
func (m *Metrics) watchServer(s *Server) {
	m.server.Store(s)
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_ledger_damaged", Help: "1 when verification at start, or of every chain once started, found damage (lost or altered events, a snapshot ahead of the stream): /readyz answers 503 until serve is restarted with --accept-damage, which serves the ledger as it is, still damaged (1)."},
			func() float64 { reason, _ := s.damage(); return oneIf(reason != "") }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_verified_seq", Help: "The stream sequence through which serve, once ready on a data folder, verified every chain from the first event (0 until that ends, and 0 on --nats or after damage found at start); after a start that folded the stream from its first event, checking every chain as it went, the sequence it was ready at."},
			func() float64 { return float64(s.found.verified.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuozheng_corrections_events_read_total", Help: "Events GET /v1/corrections read from the stream: a period's once for each reader's scope and filter, then only those recorded since (the 64 tallies last asked for are kept)."},
			func() float64 { return float64(s.tallies.read.Load()) }),
	}
	if s.cfg.Connected != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuozheng_nats_connected", Help: "1 while the ledger's NATS connection is up, else 0 (writes answer 503 meanwhile)."},
			func() float64 { return oneIf(s.cfg.Connected() == nil) }))
	}
	m.reg.MustRegister(cs...)
}

func oneIf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ready says whether /readyz answers 200 now: it answers into a writer that keeps only the code.
func (s *Server) ready() bool {
	w := &codeOnly{header: http.Header{}, code: http.StatusOK}
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/readyz", nil)
	s.readyz(w, r)
	return w.code == http.StatusOK
}

// codeOnly is a ResponseWriter that keeps the status code and drops the body.
type codeOnly struct {
	header http.Header
	code   int
}

func (w *codeOnly) Header() http.Header         { return w.header }
func (w *codeOnly) Write(p []byte) (int, error) { return len(p), nil }
func (w *codeOnly) WriteHeader(code int)        { w.code = code }

// importRun is one running spreadsheet import as the metrics count it.
type importRun struct {
	m          *Metrics
	done, left int
}

// importStarted counts an import of a file of rows rows as running, until its end.
func (m *Metrics) importStarted(rows int) *importRun {
	m.importsRunning.Inc()
	m.importRowsLeft.Add(float64(rows))
	return &importRun{m: m, left: rows}
}

// progress is the import's importer.Options.Progress: rows done of total so far.
func (r *importRun) progress(done, total int, _ time.Duration) {
	left := max(total-done, 0)
	r.m.importRowsDone.Add(float64(done - r.done))
	r.m.importRowsLeft.Add(float64(left - r.left))
	r.done, r.left = done, left
}

// end counts the import as no longer running, finished or not.
func (r *importRun) end() {
	r.m.importRowsLeft.Sub(float64(r.left))
	r.left = 0
	r.m.importsRunning.Dec()
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Instrument decorates h, counting requests by the route pattern that served them.
func (m *Metrics) Instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		if sw.answered != "" {
			m.errorAnswers.WithLabelValues(route, sw.answered).Inc()
		}
		m.requestSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code     int
	answered string // the error its body names, if any
}

// answerError is told, by writeError, the error the answer names.
func (w *statusWriter) answerError(name string) { w.answered = name }

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets server-sent events through the decorator.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
