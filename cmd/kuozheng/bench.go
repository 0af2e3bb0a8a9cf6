package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

const benchUsage = `Usage: kuozheng bench SUBCOMMAND [options]

  http    --server URL [--clients 64] [--seconds 10] [--name P]  one-event commands over HTTP from concurrent clients
  rss     --data DIR [--today D]                       peak RSS of 'kuozheng serve' on a data folder, once ready
  load    --server URL [--clients 64] [--seconds 60]   mixed writes and reads with contention; checks the money adds up
  years   --data DIR [--years 2006-2015] [--employers 20000]  a ledger grown year by year: serve's memory and ready
          time after each year, then restart, first start, history, counties and freeze on the whole
  report  FILE...                                      medians of Go benchmark output (and bench JSON lines), as a table and JSON

scripts/bench.sh runs them all; see the README.
`

func benchCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return usageError{"bench needs a subcommand"}
	}
	if args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, benchUsage)
		return errHelp
	}
	switch args[0] {
	case "http":
		return benchHTTP(args[1:], stdout)
	case "rss":
		return benchRSS(args[1:], stdout)
	case "load":
		return benchLoad(args[1:], stdout)
	case "report":
		if len(args) == 1 {
			return usageError{"bench report needs the FILEs of benchmark output to gather"}
		}
		if args[1] == "-h" || args[1] == "--help" {
			fmt.Fprint(stdout, "Usage: kuozheng bench report FILE...\n\nPrints the medians of Go benchmark output (and bench JSON lines) in FILEs, a round each, as a table and JSON.\n")
			return errHelp
		}
		return benchReport(args[1:], stdout)
	case "years":
		return benchYears(args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown bench subcommand %q", args[0])}
}

// benchLine is one measured figure, written as a JSON line so that report can gather it.
type benchLine struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

func emit(w io.Writer, name string, value float64, unit string) {
	b, _ := json.Marshal(benchLine{name, value, unit})
	fmt.Fprintln(w, string(b))
}

// benchHTTP registers one employer per client, then has every client post one-event payments
// for the time given, and reports commands/s, p50 and p99.
func benchHTTP(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench http", flag.ContinueOnError)
	server := fs.String("server", "http://127.0.0.1:8080", "a running kuozheng server")
	clients := fs.Int("clients", 64, "concurrent clients")
	seconds := fs.Float64("seconds", 10, "how long to send")
	name := fs.String("name", "http-append", "prefix of the figures reported")
	if _, err := parse(fs, args, stdout); err != nil {
		return err
	}
	base := strings.TrimRight(*server, "/")
	tr := &http.Transport{MaxIdleConnsPerHost: *clients}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	post := func(path, body string) (int, error) {
		resp, err := client.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	run := time.Now().UnixNano()
	ids := make([]string, *clients)
	for i := range ids {
		// A fresh block of organisation codes per run, so runs do not collide.
		body := fmt.Sprintf("%08d", 70000000+int(run/1e6%100000)*64+i)
		c, _ := domain.OrgCodeCheck(body)
		code := body + "-" + string(c)
		st, err := post("/v1/employers", fmt.Sprintf(`{"name":"bench %d","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, i, code))
		if err != nil {
			return err
		}
		if st != 201 && st != 409 {
			return fmt.Errorf("register: status %d", st)
		}
		ids[i] = domain.EmployerIDForOrgCode(code)
	}
	var n, fails atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	stop := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	start := time.Now()
	var wg sync.WaitGroup
	for w := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for k := 0; time.Now().Before(stop); k++ {
				t0 := time.Now()
				st, err := post("/v1/employers/"+ids[w]+"/payments", fmt.Sprintf(`{"paid_on":"2006-06-10","amount_fen":100,"receipt_no":"B%d-%d-%d"}`, run, w, k))
				if err != nil || st != 201 {
					fails.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
				n.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	slices.Sort(lat)
	if len(lat) == 0 {
		return fmt.Errorf("no command succeeded (%d failed)", fails.Load())
	}
	emit(stdout, *name+"/commands", float64(n.Load())/el.Seconds(), "commands/s")
	emit(stdout, *name+"/p50", float64(lat[len(lat)/2].Microseconds())/1000, "ms")
	emit(stdout, *name+"/p99", float64(lat[len(lat)*99/100].Microseconds())/1000, "ms")
	if f := fails.Load(); f > 0 {
		return fmt.Errorf("%d commands failed", f)
	}
	return nil
}

// benchRSS starts 'kuozheng serve' on a data folder, waits until its views are ready and reports
// its peak resident set size.
func benchRSS(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench rss", flag.ContinueOnError)
	data := fs.String("data", "./data", "data folder")
	listen := fs.String("listen", "127.0.0.1:18099", "address for the measured server")
	today := fs.String("today", "2006-12-31", "business date")
	if _, err := parse(fs, args, stdout); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "serve", "--data", *data, "--listen", *listen, "--today", *today)
	// Its log is kept for the error if it stops before it is ready (a held folder, a bad flag).
	var log tailBuffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		<-exited
	}()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	// until asks cond every half second until it holds, serve stops, or 15 minutes pass.
	until := func(what string, cond func() bool) error {
		for !cond() {
			select {
			case err := <-exited:
				exited <- err
				return fmt.Errorf("serve stopped before it was %s (%v):\n%s", what, err, log.String())
			case <-ctx.Done():
				return fmt.Errorf("serve was not %s after 15 minutes:\n%s", what, log.String())
			case <-time.After(500 * time.Millisecond):
			}
		}
		return nil
	}
	ready := func() bool {
		resp, err := http.Get("http://" + *listen + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	if err := until("ready", ready); err != nil {
		return err
	}
	readyAfter := time.Since(start)
	// Read /v1/counties once so the live figures are computed too.
	if resp, err := http.Get("http://" + *listen + "/v1/counties"); err == nil {
		resp.Body.Close()
	}
	// The peak is of a start whole: serve verifies every chain once ready, reading every event.
	if err := until("done verifying the ledger", func() bool { return verifiedWhole("http://" + *listen + "/metrics") }); err != nil {
		return err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			emit(stdout, "serve/peak-rss", kb/1024, "MiB")
		}
	}
	emit(stdout, "serve/ready", readyAfter.Seconds(), "s")
	return nil
}

// benchReport reads Go benchmark output and bench JSON lines, and prints the median of each
// figure as a table, then writes bench-results.json.
func benchReport(files []string, stdout io.Writer) error {
	values := map[string][]float64{}
	units := map[string]string{}
	var order []string
	rounds := make([]map[string]float64, len(files)) // each file's figures: a round's, paired
	var round map[string]float64
	add := func(name string, v float64, unit string) {
		if _, ok := values[name]; !ok {
			order = append(order, name)
		}
		values[name] = append(values[name], v)
		units[name] = unit
		round[name] = v
	}
	for i, f := range files {
		round = map[string]float64{}
		rounds[i] = round
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			var bl benchLine
			if json.Unmarshal([]byte(line), &bl) == nil && bl.Name != "" {
				add(bl.Name, bl.Value, bl.Unit)
				continue
			}
			fields := strings.Fields(line)
			if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
				continue
			}
			// Strip the GOMAXPROCS suffix (BenchmarkX/raw-atomic-2), and only that.
			name := fields[0]
			if i := strings.LastIndex(name, "-"); i > 0 {
				if _, err := strconv.Atoi(name[i+1:]); err == nil {
					name = name[:i]
				}
			}
			for i := 2; i+1 < len(fields); i += 2 {
				v, err := strconv.ParseFloat(fields[i], 64)
				if err != nil || fields[i+1] == "ns/op" {
					continue
				}
				add(name+" "+fields[i+1], v, fields[i+1])
			}
		}
	}
	type result struct {
		Name   string    `json:"name"`
		Median float64   `json:"median"`
		Unit   string    `json:"unit"`
		Runs   []float64 `json:"runs"`
	}
	var figures []result
	median := map[string]float64{}
	for _, name := range order {
		v := slices.Clone(values[name])
		slices.Sort(v)
		median[name] = v[len(v)/2]
		figures = append(figures, result{name, v[len(v)/2], units[name], values[name]})
	}
	table := comparisonTable(median, rounds)
	printTable(stdout, table)
	fmt.Fprintln(stdout, "\nEvery figure (median of its runs):")
	for _, f := range figures {
		fmt.Fprintf(stdout, "  %-62s %12.2f %s (%d runs)\n", f.Name, f.Median, f.Unit, len(f.Runs))
	}
	b, _ := json.MarshalIndent(struct {
		Table   []comparison `json:"table"`
		Figures []result     `json:"figures"`
	}{table, figures}, "", "  ")
	return os.WriteFile("bench-results.json", b, 0o644)
}

// verifiedWhole reports whether the server whose /metrics is at url has verified every chain, or
// found damage doing so.
func verifiedWhole(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "kuozheng_verified_seq "); ok && v != "0" {
			return true
		}
		if strings.TrimSpace(line) == "kuozheng_ledger_damaged 1" {
			return true
		}
	}
	return false
}

// tailBuffer keeps the last 4 KiB written to it, for a child process's log.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - 4<<10; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
