package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// A comparisonRow names the figures of one line of the performance table: ours, the raw engine's
// in the same run, PostgreSQL's, each with default durability and then lazy (acknowledge before
// sync), and the target ours is held to.
type comparisonRow struct {
	label, unit               string
	ours, raw, pg             string
	oursLazy, rawLazy, pgLazy string
	lowerIsBetter             bool
	minRatio, atLeast, atMost float64 // zero: no such target
	// minPG is the least ours/PostgreSQL (a rate) the target asks; zero: none, and none is
	// judged in a run without PostgreSQL.
	minPG      float64
	targetText string
}

var comparisonRows = []comparisonRow{
	{label: "append, bulk path", unit: "events/s",
		ours: "BenchmarkAppendBulk/ledger/fsync events/s", raw: "BenchmarkAppendBulk/raw-atomic/fsync events/s", pg: "BenchmarkAppendBulk/postgres-copy/fsync events/s",
		oursLazy: "BenchmarkAppendBulk/ledger/lazy events/s", rawLazy: "BenchmarkAppendBulk/raw-atomic/lazy events/s", pgLazy: "BenchmarkAppendBulk/postgres-copy/lazy events/s",
		minRatio: 0.85, minPG: 1, targetText: ">= 85% of raw and >= PostgreSQL"},
	{label: "append, 64 writers in process", unit: "commands/s",
		ours: "BenchmarkAppendConcurrent/ledger/fsync commands/s", raw: "BenchmarkAppendConcurrent/raw-group-commit/fsync commands/s", pg: "BenchmarkAppendConcurrent/postgres-insert/fsync commands/s",
		oursLazy: "BenchmarkAppendConcurrent/ledger/lazy commands/s", rawLazy: "BenchmarkAppendConcurrent/raw-group-commit/lazy commands/s", pgLazy: "BenchmarkAppendConcurrent/postgres-insert/lazy commands/s",
		minRatio: 0.85, atLeast: 5000, minPG: 1, targetText: ">= 85% of raw group commit, >= PostgreSQL and >= 5000/s"},
	{label: "append via HTTP, 64 clients", unit: "commands/s",
		ours: "BenchmarkAppendHTTP/ledger/fsync commands/s", raw: "BenchmarkAppendHTTP/raw-group-commit/fsync commands/s", pg: "BenchmarkAppendHTTP/postgres-insert/fsync commands/s",
		oursLazy: "BenchmarkAppendHTTP/ledger/lazy commands/s", rawLazy: "BenchmarkAppendHTTP/raw-group-commit/lazy commands/s", pgLazy: "BenchmarkAppendHTTP/postgres-insert/lazy commands/s",
		minRatio: 0.85, atLeast: 5000, minPG: 1, targetText: ">= 85% of raw group commit, >= PostgreSQL and >= 5000/s"},
	{label: "  HTTP append p50", unit: "ms", lowerIsBetter: true,
		ours: "BenchmarkAppendHTTP/ledger/fsync p50-ms", raw: "BenchmarkAppendHTTP/raw-group-commit/fsync p50-ms", pg: "BenchmarkAppendHTTP/postgres-insert/fsync p50-ms"},
	{label: "  HTTP append p99", unit: "ms", lowerIsBetter: true,
		ours: "BenchmarkAppendHTTP/ledger/fsync p99-ms", raw: "BenchmarkAppendHTTP/raw-group-commit/fsync p99-ms", pg: "BenchmarkAppendHTTP/postgres-insert/fsync p99-ms"},
	{label: "append via HTTP to a real serve", unit: "commands/s",
		ours: "http-append/commands", oursLazy: "http-append-lazy/commands",
		atLeast: 5000, targetText: ">= 5000/s"},
	{label: "  real serve p50", unit: "ms", ours: "http-append/p50", oursLazy: "http-append-lazy/p50", lowerIsBetter: true},
	{label: "  real serve p99", unit: "ms", ours: "http-append/p99", oursLazy: "http-append-lazy/p99", lowerIsBetter: true},
	{label: "rebuild of all views", unit: "events/s",
		ours: "BenchmarkRebuild/views events/s", raw: "BenchmarkRebuild/raw-decode-only events/s", pg: "BenchmarkRebuild/postgres-replay events/s",
		minRatio: 0.85, minPG: 1.5, targetText: ">= 85% of raw and >= 1.5x PostgreSQL"},
	{label: "one employer's history p50", unit: "ms", lowerIsBetter: true,
		ours: "BenchmarkHistory/ledger-cold p50-ms", raw: "BenchmarkHistory/raw-direct-get p50-ms", pg: "BenchmarkHistory/postgres-select p50-ms",
		atMost: 1, targetText: "<= 1 ms"},
	{label: "one employer's history p99", unit: "ms", lowerIsBetter: true,
		ours: "BenchmarkHistory/ledger-cold p99-ms", raw: "BenchmarkHistory/raw-direct-get p99-ms", pg: "BenchmarkHistory/postgres-select p99-ms",
		atMost: 5, targetText: "<= 5 ms"},
	{label: "freeze, as POST /v1/freezes makes it", unit: "s", lowerIsBetter: true,
		ours: "BenchmarkFreezePost/ledger s/freeze", raw: "BenchmarkFreezePost/raw-ordered-consumer s/read",
		atMost: 15, targetText: "<= 15 s"},
	{label: "freeze, replayed from sequence 1", unit: "s", lowerIsBetter: true,
		ours: "BenchmarkFreeze/ledger s/freeze", raw: "BenchmarkFreeze/raw-ordered-consumer s/read",
		atMost: 15, targetText: "<= 15 s"},
	{label: "GET /v1/counties", unit: "req/s",
		ours: "BenchmarkCountiesRead/ledger req/s", raw: "BenchmarkCountiesRead/raw-bytes req/s",
		atLeast: 5000, targetText: ">= 5000/s"},
	{label: "  GET /v1/counties p99", unit: "ms", lowerIsBetter: true,
		ours: "BenchmarkCountiesRead/ledger p99-ms", raw: "BenchmarkCountiesRead/raw-bytes p99-ms"},
	{label: "GET /v1/counties, gzipped", unit: "req/s",
		ours: "BenchmarkCountiesRead/ledger-gzip req/s", raw: "BenchmarkCountiesRead/raw-bytes-gzip req/s"},
	{label: "import of survey rows", unit: "rows/s",
		ours: "BenchmarkImport/ledger rows/s", raw: "BenchmarkImport/raw-atomic rows/s",
		minRatio: 0.70, targetText: ">= 70% of raw"},
	{label: "peak RSS of serve, all views", unit: "MiB", lowerIsBetter: true,
		ours: "serve/peak-rss", atMost: 1536, targetText: "<= 1.5 GiB"},
	{label: "  serve ready after start", unit: "s", lowerIsBetter: true, ours: "serve/ready"},
}

// comparison is one line of the table as printed and written to bench-results.json.
type comparison struct {
	Label    string   `json:"label"`
	Unit     string   `json:"unit"`
	Ours     *float64 `json:"ours"`
	Raw      *float64 `json:"raw,omitempty"`
	Ratio    *float64 `json:"ratio,omitempty"` // ours/raw for rates, raw/ours for times: above 1 is better than raw; the median of the rounds' ratios
	Pairs    int      `json:"pairs,omitempty"` // rounds with both figures; 0: the ratio is of the medians
	Postgres *float64 `json:"postgres,omitempty"`
	OursLazy *float64 `json:"ours_lazy,omitempty"`
	RawLazy  *float64 `json:"raw_lazy,omitempty"`
	PgLazy   *float64 `json:"postgres_lazy,omitempty"`
	Target   string   `json:"target,omitempty"`
	Met      *bool    `json:"met,omitempty"`
}

// comparisonTable makes the table from each figure's median and the figures of each round (a
// file of the report): a row's ratio is the median of its rounds' ratios, ours and raw measured
// in the same round, or, if no round has both, the ratio of the medians.
func comparisonTable(median map[string]float64, rounds []map[string]float64) []comparison {
	get := func(name string) *float64 {
		if v, ok := median[name]; ok && name != "" {
			return &v
		}
		return nil
	}
	var out []comparison
	for _, r := range comparisonRows {
		c := comparison{Label: r.label, Unit: r.unit, Ours: get(r.ours), Raw: get(r.raw), Postgres: get(r.pg),
			OursLazy: get(r.oursLazy), RawLazy: get(r.rawLazy), PgLazy: get(r.pgLazy), Target: r.targetText}
		if c.Ours == nil {
			continue
		}
		ratioOf := func(ours, raw float64) float64 {
			if r.lowerIsBetter {
				return raw / ours
			}
			return ours / raw
		}
		var paired []float64
		for _, round := range rounds {
			ours, okO := round[r.ours]
			raw, okR := round[r.raw]
			if okO && okR && ours > 0 && raw > 0 {
				paired = append(paired, ratioOf(ours, raw))
			}
		}
		switch {
		case len(paired) > 0:
			slices.Sort(paired)
			ratio := paired[len(paired)/2]
			c.Ratio, c.Pairs = &ratio, len(paired)
		case c.Raw != nil && *c.Raw > 0 && *c.Ours > 0:
			ratio := ratioOf(*c.Ours, *c.Raw)
			c.Ratio = &ratio
		}
		if r.targetText != "" {
			met := (r.minRatio == 0 || (c.Ratio != nil && *c.Ratio >= r.minRatio)) &&
				(r.atLeast == 0 || *c.Ours >= r.atLeast) && (r.atMost == 0 || *c.Ours <= r.atMost) &&
				(r.minPG == 0 || c.Postgres == nil || *c.Ours >= r.minPG**c.Postgres)
			c.Met = &met
		}
		out = append(out, c)
	}
	return out
}

func printTable(w io.Writer, rows []comparison) {
	num := func(v *float64) string {
		switch {
		case v == nil:
			return "-"
		case math.Abs(*v) >= 100:
			return fmt.Sprintf("%.0f", *v)
		default:
			return fmt.Sprintf("%.2f", *v)
		}
	}
	fmt.Fprintln(w, "durability: the left columns sync before acknowledging (nats-server sync_interval: always, the default;")
	fmt.Fprintln(w, "PostgreSQL fsync and synchronous_commit on); the lazy columns do not (--lazy-fsync; synchronous_commit=off)")
	fmt.Fprintf(w, "%-38s %-10s %10s %10s %7s %10s | %10s %10s %10s | %s\n", "", "unit", "ours", "raw", "ratio", "postgres", "ours lazy", "raw lazy", "pg lazy", "target")
	fmt.Fprintln(w, strings.Repeat("-", 150))
	for _, c := range rows {
		ratio := "-"
		if c.Ratio != nil {
			ratio = fmt.Sprintf("%.2fx", *c.Ratio)
		}
		target := c.Target
		if c.Met != nil {
			target += map[bool]string{true: "  met", false: "  MISSED"}[*c.Met]
		}
		fmt.Fprintf(w, "%-38s %-10s %10s %10s %7s %10s | %10s %10s %10s | %s\n", c.Label, c.Unit, num(c.Ours), num(c.Raw), ratio, num(c.Postgres),
			num(c.OursLazy), num(c.RawLazy), num(c.PgLazy), target)
	}
	fmt.Fprintln(w, "ratio: ours/raw for rates and raw/ours for times, so above 1 is faster than the raw engine;")
	fmt.Fprintln(w, "the median of the rounds' ratios, ours and raw measured in the same round.")
}
