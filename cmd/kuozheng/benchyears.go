package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go/jetstream"
)

// benchYears grows a ledger year by year with the ten-year generator and measures serve after
// each year (ready time, resident memory), then, on the whole ledger, a restart, a first start
// with no snapshot, one employer's history, the county figures and a year-end freeze, each
// beside the raw engine's figure where one applies. It prints JSON lines for bench report and
// writes the per-year table to years.json in the data folder.
func benchYears(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench years", flag.ContinueOnError)
	data := fs.String("data", os.TempDir()+"/kuozheng-years", "data folder grown year by year (kept for later runs)")
	years := fs.String("years", "2006-2015", "the years to generate, FROM-TO")
	employers := fs.Int("employers", 20000, "payers in the first year")
	samples := fs.Int("samples", 200, "employers whose ten-year history is read")
	reads := fs.Int("reads", 1000, "GET /v1/counties repetitions")
	listen := fs.String("listen", "127.0.0.1:18097", "address for the measured server")
	wholeOnly := fs.Bool("whole-only", false, "measure the ledger already in --data as it is, without growing it year by year")
	if _, err := parse(fs, args, stdout); err != nil {
		return err
	}
	to, err := parseYears(*years)
	if err != nil {
		return err
	}
	from := demo.FirstYear
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b := &yearsBench{self: self, data: *data, listen: *listen, stdout: stdout, stderr: stderr}
	var table []yearRow
	for y := from; y <= to && !*wholeOnly; y++ {
		gen, err := b.run("demo", "--years", fmt.Sprintf("%d-%d", from, y), "--employers", strconv.Itoa(*employers), "--data", *data)
		if err != nil {
			return fmt.Errorf("generate through %d: %w", y, err)
		}
		row := yearRow{Year: y, GenerateSeconds: gen.wall.Seconds(), GeneratePeakRSSMiB: gen.maxRSSMiB}
		srv, err := b.serve(fmt.Sprintf("%d-12-31", y))
		if err != nil {
			return err
		}
		row.ReadySeconds, row.Events, row.Payers = srv.ready.Seconds(), srv.seq, srv.payers
		row.PeakRSSMiB, row.RSSMiB = srv.rss()
		srv.stop()
		fmt.Fprintf(stderr, "bench years: %d: %d events, %d payers; generated in %.0f s (peak %.0f MiB); serve ready in %.1f s, peak RSS %.0f MiB\n",
			y, row.Events, row.Payers, row.GenerateSeconds, row.GeneratePeakRSSMiB, row.ReadySeconds, row.PeakRSSMiB)
		emit(stdout, fmt.Sprintf("years/%d/serve-peak-rss", y), row.PeakRSSMiB, "MiB")
		emit(stdout, fmt.Sprintf("years/%d/serve-ready", y), row.ReadySeconds, "s")
		table = append(table, row)
	}
	var total float64
	var peak float64
	for _, r := range table {
		total += r.GenerateSeconds
		peak = max(peak, r.GeneratePeakRSSMiB)
	}
	if !*wholeOnly {
		emit(stdout, "years/generate", total, "s")
		emit(stdout, "years/generate-peak-rss", peak, "MiB")
	}

	// The raw engine over the same stream: an ordered consumer from sequence 1 to the end.
	rawRate, err := b.rawReplay()
	if err != nil {
		return err
	}
	emit(stdout, "years/raw-replay", rawRate, "events/s")

	today := fmt.Sprintf("%d-12-31", to)
	srv, err := b.serve(today)
	if err != nil {
		return err
	}
	emit(stdout, "years/restart-ready", srv.ready.Seconds(), "s")
	events := srv.seq
	ids, err := srv.employerIDs(*samples)
	if err != nil {
		srv.stop()
		return err
	}
	hist, err := srv.latencies(len(ids), func(i int) (string, error) { return srv.get("/v1/employers/" + ids[i] + "/history") })
	if err != nil {
		srv.stop()
		return err
	}
	emitLatencies(stdout, "years/history", hist)
	counties, err := srv.latencies(*reads, func(int) (string, error) { return srv.get("/v1/counties") })
	if err != nil {
		srv.stop()
		return err
	}
	emitLatencies(stdout, "years/counties", counties)
	freeze, err := srv.freeze(today)
	srv.stop()
	if err != nil {
		return err
	}
	emit(stdout, "years/freeze", freeze.Seconds(), "s")

	past := pastYears(from, to)
	for _, pass := range []string{"first", "again"} {
		times, err := b.pastReads(today, past)
		if err != nil {
			return err
		}
		for i, y := range past {
			emit(stdout, fmt.Sprintf("years/past/%d/%s", y, pass), times[i].Seconds(), "s")
		}
	}

	rawHist, err := b.rawSubjectReads(ids)
	if err != nil {
		return err
	}
	emitLatencies(stdout, "years/raw-history", rawHist)

	first, err := b.firstStart(today)
	if err != nil {
		return err
	}
	emit(stdout, "years/first-start", float64(events)/first.Seconds(), "events/s")
	emit(stdout, "years/first-start-ready", first.Seconds(), "s")

	if *wholeOnly {
		return nil
	}
	out, _ := json.MarshalIndent(table, "", "  ")
	return os.WriteFile(*data+"/years.json", out, 0o644)
}

// pastYears are the closed years whose figures the bench reads as of mid-year: the second, the
// middle and the last closed one (the demo closes each year but the last).
func pastYears(from, to int) []int {
	var out []int
	for _, y := range []int{from + 1, (from + to) / 2, to - 1} {
		if y > from && y < to && !slices.Contains(out, y) {
			out = append(out, y)
		}
	}
	return out
}

// pastReads times the county figures as of 30 June of each year, in that order, on a serve of
// its own (no replay of closed books in memory): each replays from the views kept at the latest
// closing that serves it, and keeps those of the last closing it passes for the next run.
func (b *yearsBench) pastReads(today string, years []int) ([]time.Duration, error) {
	srv, err := b.serve(today)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	var out []time.Duration
	for _, y := range years {
		t0 := time.Now()
		if _, err := srv.get(fmt.Sprintf("/v1/counties?as_of=%d-06-30", y)); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
		fmt.Fprintf(b.stderr, "bench years: figures as of %d-06-30 in %.1f s\n", y, time.Since(t0).Seconds())
	}
	return out, nil
}

// yearRow is what the bench measured after generating one more year.
type yearRow struct {
	Year               int     `json:"year"`
	Events             uint64  `json:"events"`
	Payers             int     `json:"payers"`
	GenerateSeconds    float64 `json:"generate_seconds"`
	GeneratePeakRSSMiB float64 `json:"generate_peak_rss_mib"`
	ReadySeconds       float64 `json:"ready_seconds"`
	PeakRSSMiB         float64 `json:"peak_rss_mib"`
	RSSMiB             float64 `json:"rss_mib"`
}

type yearsBench struct {
	self, data, listen string
	stdout, stderr     io.Writer
}

type ran struct {
	wall      time.Duration
	maxRSSMiB float64
}

// run runs this program with args to the end, its standard error passed on.
func (b *yearsBench) run(args ...string) (ran, error) {
	cmd := exec.Command(b.self, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, b.stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return ran{}, err
	}
	r := ran{wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSMiB = float64(ru.Maxrss) / 1024 // kB on Linux
	}
	return r, nil
}

// server is a running 'kuozheng serve' under measurement.
type server struct {
	cmd    *exec.Cmd
	base   string
	ready  time.Duration
	seq    uint64
	payers int
	client *http.Client
}

// serve starts serve on the data folder and waits until it is ready and has answered the
// county figures once.
func (b *yearsBench) serve(today string, extra ...string) (*server, error) {
	args := append([]string{"serve", "--data", b.data, "--listen", b.listen, "--today", today}, extra...)
	cmd := exec.Command(b.self, args...)
	// Serve's log goes beside the ledger, for a look at what a start spent its time and memory on.
	logFile, err := os.OpenFile(b.data+".serve.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	fmt.Fprintf(logFile, "--- kuozheng %s\n", strings.Join(args, " "))
	cmd.Stderr = logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + b.listen, client: &http.Client{Timeout: 10 * time.Minute}}
	deadline := time.Now().Add(30 * time.Minute)
	for {
		resp, err := s.client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("serve was not ready after 30 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.ready = time.Since(start)
	resp, err := s.client.Get(s.base + "/v1/counties")
	if err != nil {
		s.stop()
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s.seq, _ = strconv.ParseUint(resp.Header.Get("X-Ledger-Seq"), 10, 64)
	var page struct {
		Total int `json:"total"`
	}
	body, err := s.get("/v1/employers")
	if err == nil {
		err = json.Unmarshal([]byte(body), &page)
	}
	if err != nil {
		s.stop()
		return nil, err
	}
	s.payers = page.Total
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
}

// rss reads the server's peak and current resident set sizes.
func (s *server) rss() (peak, now float64) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		field, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
		switch field {
		case "VmHWM":
			peak = kb / 1024
		case "VmRSS":
			now = kb / 1024
		}
	}
	return peak, now
}

func (s *server) get(path string) (string, error) {
	resp, err := s.client.Get(s.base + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
	}
	return string(body), err
}

// employerIDs picks n employers at random (a fixed seed) from the list.
func (s *server) employerIDs(n int) ([]string, error) {
	var all []string
	for page := 1; ; page++ {
		body, err := s.get(fmt.Sprintf("/v1/employers?page=%d", page))
		if err != nil {
			return nil, err
		}
		var p struct {
			Employers []struct {
				ID string `json:"employer_id"`
			} `json:"employers"`
		}
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return nil, err
		}
		if len(p.Employers) == 0 {
			break
		}
		for _, e := range p.Employers {
			all = append(all, e.ID)
		}
	}
	r := rand.New(rand.NewPCG(2006, 2015))
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(n, len(all))], nil
}

// latencies times n calls of fn, one after another.
func (s *server) latencies(n int, fn func(i int) (string, error)) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range n {
		t0 := time.Now()
		if _, err := fn(i); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

// freeze makes a freeze valid through d and times it.
func (s *server) freeze(d string) (time.Duration, error) {
	t0 := time.Now()
	resp, err := s.client.Post(s.base+"/v1/freezes", "application/json", strings.NewReader(fmt.Sprintf(`{"valid_through":%q}`, d)))
	if err != nil {
		return 0, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("POST /v1/freezes: %s: %.300s", resp.Status, body)
	}
	return time.Since(t0), nil
}

func emitLatencies(w io.Writer, name string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	emit(w, name+"/p50", float64(lat[len(lat)/2].Microseconds())/1000, "ms")
	emit(w, name+"/p99", float64(lat[len(lat)*99/100].Microseconds())/1000, "ms")
}

// openRaw opens the data folder's stream with the embedded server, for the raw engine's figures.
func (b *yearsBench) openRaw() (*eventstore.Embedded, jetstream.Stream, error) {
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: b.data}, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(emb.Conn)
	if err == nil {
		var st jetstream.Stream
		if st, err = js.Stream(context.Background(), "LEDGER"); err == nil {
			return emb, st, nil
		}
	}
	emb.Close()
	return nil, nil, err
}

// rawReplay reads the whole stream with an ordered consumer and returns messages a second.
func (b *yearsBench) rawReplay() (float64, error) {
	emb, st, err := b.openRaw()
	if err != nil {
		return 0, err
	}
	defer emb.Close()
	n, d, err := readAll(st, "")
	if err != nil {
		return 0, err
	}
	return float64(n) / d.Seconds(), nil
}

// rawSubjectReads reads each employer's subject with an ordered consumer.
func (b *yearsBench) rawSubjectReads(ids []string) ([]time.Duration, error) {
	emb, st, err := b.openRaw()
	if err != nil {
		return nil, err
	}
	defer emb.Close()
	var out []time.Duration
	for _, id := range ids {
		_, d, err := readAll(st, eventstore.EmployerPrefix+id)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// readAll reads every message of the stream (of one subject, if given) and times it.
func readAll(st jetstream.Stream, subject string) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	t0 := time.Now()
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if subject != "" {
		cfg.FilterSubjects = []string{subject}
	}
	cons, err := st.OrderedConsumer(ctx, cfg)
	if err != nil {
		return 0, 0, err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	pending := int(info.NumPending)
	if pending == 0 {
		return 0, time.Since(t0), nil
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2000))
	if err != nil {
		return 0, 0, err
	}
	defer it.Stop()
	n := 0
	for n < pending {
		if _, err := it.Next(); err != nil {
			return n, 0, err
		}
		n++
	}
	return n, time.Since(t0), nil
}

// firstStart times serve's start with no snapshot of the store or the views.
func (b *yearsBench) firstStart(today string) (time.Duration, error) {
	srv, err := b.serve(today, "--no-snapshots")
	if err != nil {
		return 0, err
	}
	srv.stop()
	return srv.ready, nil
}
