package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the ledger's Prometheus instrumentation: it observes the store and the runner
// (as their Observer) and decorates the HTTP handler, so no handler counts anything itself.
type Metrics struct {
	reg             *prometheus.Registry
	appended        *prometheus.CounterVec
	batchSeconds    prometheus.Histogram
	batchMessages   prometheus.Histogram
	conflicts       prometheus.Counter
	duplicates      prometheus.Counter
	applied         prometheus.Counter
	snapshotBytes   prometheus.Gauge
	snapshotSeconds prometheus.Histogram
	requests        *prometheus.CounterVec
	requestSeconds  *prometheus.HistogramVec
}

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
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kuozheng_http_requests_total", Help: "HTTP requests answered, by route pattern and status code."}, []string{"route", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kuozheng_http_request_duration_seconds", Help: "HTTP request latency by route pattern (for writes, the append latency as clients see it).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16)}, []string{"route"}),
	}
	m.reg.MustRegister(m.appended, m.batchSeconds, m.batchMessages, m.conflicts, m.duplicates, m.applied,
		m.snapshotBytes, m.snapshotSeconds, m.requests, m.requestSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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
	)
}

// Appended counts appended events (eventstore.Observer).
func (m *Metrics) Appended(eventType string, n int) {
	m.appended.WithLabelValues(eventType).Add(float64(n))
}

// Batch observes one group commit (eventstore.Observer).
func (m *Metrics) Batch(msgs int, d time.Duration, err error) {
	m.batchSeconds.Observe(d.Seconds())
	m.batchMessages.Observe(float64(msgs))
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
		m.requestSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

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
