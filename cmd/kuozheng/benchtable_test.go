package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBenchReportPairsEachFigureWithTheRawEngineAndTheTarget(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	// Three rounds, one file each: the bulk row's ratio is the median of the rounds' ratios
	// (1.5, 0.6, 2.25: 1.5), not the ratio of the medians (36000/40000).
	rounds := []string{`goos: linux
BenchmarkAppendBulk/ledger/fsync-2         	       1	 100 ns/op	     30000 events/s
BenchmarkAppendBulk/raw-atomic/fsync-2	       1	 100 ns/op	     20000 events/s
BenchmarkAppendBulk/postgres-copy/fsync-2	   1	 100 ns/op	     33000 events/s
BenchmarkAppendConcurrent/ledger/fsync-2	   1	 100 ns/op	     6000 commands/s
BenchmarkAppendConcurrent/raw-group-commit/fsync-2	   1	 100 ns/op	     8000 commands/s
BenchmarkImport/ledger-2	   1	 100 ns/op	     20000 rows/s
BenchmarkImport/raw-atomic-2	   1	 100 ns/op	     40000 rows/s
BenchmarkHistory/ledger-cold-2         	       1	 100 ns/op	 0.50 p50-ms	 7.0 p99-ms
BenchmarkHistory/raw-direct-get-2	       1	 100 ns/op	 2.00 p50-ms	 90 p99-ms
BenchmarkRebuild/views-2	       1	 100 ns/op	 100000 events/s
BenchmarkRebuild/raw-decode-only-2	       1	 100 ns/op	 110000 events/s
BenchmarkRebuild/postgres-replay-2	       1	 100 ns/op	 80000 events/s
`, `BenchmarkAppendBulk/ledger/fsync-2         	       1	 100 ns/op	     36000 events/s
BenchmarkAppendBulk/raw-atomic/fsync-2	       1	 100 ns/op	     60000 events/s
`, `BenchmarkAppendBulk/ledger/fsync-2         	       1	 100 ns/op	     90000 events/s
BenchmarkAppendBulk/raw-atomic/fsync-2	       1	 100 ns/op	     40000 events/s
`}
	lines := `{"name":"serve/peak-rss","value":1200,"unit":"MiB"}
`
	var files []string
	for i, r := range append(rounds, lines) {
		f := filepath.Join(dir, fmt.Sprintf("round-%d.txt", i))
		if err := os.WriteFile(f, []byte(r), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var out strings.Builder
	if err := benchReport(files, &out); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []string{
		"durability: the left columns sync before acknowledging (nats-server sync_interval: always",
		"append, bulk path", "36000", "1.50x", "33000", ">= 85% of raw and >= PostgreSQL  met", // the median of three, not the mean
		"append, 64 writers in process", "0.75x", ">= 85% of raw group commit, >= PostgreSQL and >= 5000/s  MISSED",
		"rebuild of all views", "0.91x", ">= 85% of raw and >= 1.5x PostgreSQL  MISSED", // 1.25x PostgreSQL
		"one employer's history p50", "4.00x", "<= 1 ms  met",
		"one employer's history p99", "<= 5 ms  MISSED",
		"peak RSS of serve, all views", "<= 1.5 GiB  met",
		"import of survey rows", "0.50x", ">= 70% of raw  MISSED", // a name ending in digits keeps them
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "freeze, replayed from sequence 1") {
		t.Errorf("a row with no figures is printed:\n%s", table)
	}
	var res struct {
		Table []comparison `json:"table"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "bench-results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil || len(res.Table) != 7 {
		t.Fatalf("bench-results.json: %v, %d rows, want 7", err, len(res.Table))
	}
	if r := res.Table[0]; r.Ratio == nil || *r.Ratio != 1.5 || r.Pairs != 3 || r.Met == nil || !*r.Met {
		t.Fatalf("first row: %+v", r)
	}
}

// bench rss runs serve and waits for it to be ready: a serve that stops first (here on a bad
// --today) ends the measurement at once with serve's own words, rather than after 15 minutes of
// waiting in silence.
func TestBenchRSSSaysWhyServeStoppedBeforeItWasReady(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	_, bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "bench", "rss", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--today", "2006-13-01").CombinedOutput()
	if ctx.Err() != nil || err == nil || !strings.Contains(string(out), "serve stopped before it was ready") || !strings.Contains(string(out), "--today") {
		t.Fatalf("bench rss on a serve that cannot start: %v (%v)\n%s\nwant it to fail at once, quoting serve's refusal", err, ctx.Err(), out)
	}
}
