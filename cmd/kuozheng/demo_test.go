package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

// openData opens a data folder's ledger for the test and closes it at the test's end.
func openData(t *testing.T, dir string) *ledger {
	t.Helper()
	led, err := openLedger(context.Background(), storeFlags{data: dir}, newLogger(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(led.close)
	return led
}

func lastSeq(t *testing.T, led *ledger) uint64 {
	t.Helper()
	seq, err := led.store.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func TestDemoYearsFlag(t *testing.T) {
	for _, tc := range []struct {
		name, years, want string
	}{
		{"the years start at 2006", "2007-2010", "start at 2006"},
		{"the last year is at most MaxYear", fmt.Sprintf("2006-%d", demo.MaxYear+1), "last year"},
		{"the last year is not before the first", "2006-2005", "last year"},
		{"a year has four digits", "06-10", "want a year"},
		{"a range is two years", "2006-", "want a year"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd("demo", "--years", tc.years, "--data", t.TempDir())
			if code != 2 || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("--years %s: exit %d, %q %q; want exit 2 mentioning %q", tc.years, code, out, errOut, tc.want)
			}
		})
	}
}

func TestDemoYearsClosesEveryYearButTheLastAndARunAgainAppendsNothing(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCmd("demo", "--years", "2006-2008", "--employers", "200", "--data", dir)
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Log(out)
	led := openData(t, dir)
	first := lastSeq(t, led)
	freezes := map[string]domain.Date{}
	for _, f := range led.store.Freezes() {
		freezes[f.ID] = f.ValidThrough
	}
	years := map[int]eventstore.YearRecord{}
	for _, r := range led.store.Years(domain.MustDate("2008-12-31")) {
		years[r.Year] = r
	}
	for _, tc := range []struct {
		year   int
		closed bool
	}{{2006, true}, {2007, true}, {2008, false}} {
		r := years[tc.year]
		if r.Closed != tc.closed {
			t.Errorf("%d: closed %v, want %v", tc.year, r.Closed, tc.closed)
		}
		if end := domain.MustDate(fmt.Sprint(tc.year, "-12-31")); tc.closed && freezes[r.FreezeID] != end {
			t.Errorf("%d is closed after freeze %q, valid through %s; want one valid through %s", tc.year, r.FreezeID, freezes[r.FreezeID], end)
		}
	}
	led.close()

	code, out, errOut = runCmd("demo", "--years", "2006-2008", "--employers", "200", "--data", dir)
	if code != 0 || !strings.Contains(out, "2007  closed by an earlier run") || !strings.Contains(out, "2008  appended by an earlier run: nothing to do (the run's last year stays open)") {
		t.Fatalf("the second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if again := lastSeq(t, openData(t, dir)); again != first {
		t.Fatalf("the second run appended: the stream went from %d to %d", first, again)
	}
}

func TestDemoRefusesALedgerItDidNotMake(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := runCmd("demo", "--employers", "60", "--data", dir); code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	led := openData(t, dir)
	before := lastSeq(t, led)
	led.close()
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"another size", []string{"--employers", "61"}, 1, "not the first payer of a demo of seed 2006 and 61 payers"},
		{"another seed", []string{"--employers", "60", "--seed", "7"}, 1, "not the first payer of a demo of seed 7 and 60 payers"},
		{"another city", []string{"--employers", "60", "--ledger", "360500"}, 2, "the demo ledger is Ganzhou's"},
	} {
		code, out, errOut := runCmd(append([]string{"demo", "--data", dir}, tt.args...)...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("a demo of %s on the ledger: exit %d\n%s\n%s; want exit %d and %q", tt.name, code, out, errOut, tt.code, tt.want)
		}
		led := openData(t, dir)
		after := lastSeq(t, led)
		led.close()
		if after != before {
			t.Fatalf("the refused demo of %s appended: the stream went from %d to %d", tt.name, before, after)
		}
	}

	// Going on with years after those another run closed is refused alike.
	years := t.TempDir()
	if code, out, errOut := runCmd("demo", "--years", "2006-2007", "--employers", "40", "--data", years); code != 0 {
		t.Fatalf("demo --years 2006-2007: exit %d\n%s\n%s", code, out, errOut)
	}
	led = openData(t, years)
	before = lastSeq(t, led)
	led.close()
	for _, args := range [][]string{{"--employers", "41"}, {"--employers", "40", "--seed", "7"}} {
		code, out, errOut := runCmd(append([]string{"demo", "--years", "2006-2008", "--data", years}, args...)...)
		if code != 1 || !strings.Contains(errOut, "not the first payer of a demo") {
			t.Errorf("demo --years 2006-2008 %v after a run closed 2006: exit %d\n%s\n%s; want exit 1 and the refusal", args, code, out, errOut)
		}
		led := openData(t, years)
		after := lastSeq(t, led)
		led.close()
		if after != before {
			t.Fatalf("the refused demo %v appended: the stream went from %d to %d", args, before, after)
		}
	}
}

// histories lists every employer's events as (type, business date, payload), by employer.
func histories(t *testing.T, led *ledger) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, id := range led.store.EmployerIDs() {
		raws, err := led.store.History(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range raws {
			b, err := json.Marshal(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = append(out[id], fmt.Sprintf("%s %s %s", r.Type, r.OccurredOn, b))
		}
	}
	return out
}

func TestDemoRunAfterOneInterruptedMidYearAppendsOnlyWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	cfg := demo.Config{Employers: 120, Seed: 2006}
	whole := t.TempDir()
	if code, out, errOut := runCmd("demo", "--years", "2006-2008", "--employers", "120", "--data", whole); code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}

	// The interrupted run: 2006 and 2007 appended and closed, then the first half of 2008's steps.
	cut := t.TempDir()
	led := openData(t, cut)
	if _, err := loadYears(ctx, led.store, cfg, 2007, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := closeYear(ctx, led.store, cfg, 2007, projections.NewLedger(), newDemoProgress(io.Discard, 2007)); err != nil {
		t.Fatal(err)
	}
	c := demo.NewCampaign(cfg)
	for range 2 {
		if err := c.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeReference(ctx, led.store, cfg, c); err != nil {
		t.Fatal(err)
	}
	steps, err := c.Steps(0, c.Payers(), stateAt(ctx, led.store, closedSeq(led.store, 2007)))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range led.store.ExecuteBulk(ctx, demoRequests(cfg, c, steps[:len(steps)/2])) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	led.close()

	if code, out, errOut := runCmd("demo", "--years", "2006-2008", "--employers", "120", "--data", cut); code != 0 {
		t.Fatalf("the run after the interruption: exit %d\n%s\n%s", code, out, errOut)
	}
	a, b := openData(t, whole), openData(t, cut)
	if sa, sb := lastSeq(t, a), lastSeq(t, b); sa != sb {
		t.Errorf("the interrupted ledger ends at sequence %d, the whole one at %d", sb, sa)
	}
	ha, hb := histories(t, a), histories(t, b)
	if len(ha) != len(hb) {
		t.Fatalf("%d employers after the interruption, %d in the whole run", len(hb), len(ha))
	}
	for id, evs := range ha {
		if !slices.Equal(evs, hb[id]) {
			t.Fatalf("employer %s: %d events after the interruption, %d in the whole run; they differ", id, len(hb[id]), len(evs))
		}
	}
}

func TestDemoThrough2013RedefinesNankang(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := runCmd("demo", "--years", "2006-2013", "--employers", "20", "--data", dir); code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	led := openData(t, dir)
	ref := led.store.Reference()
	if x, ok := ref.Successor("360782"); !ok || x.Code != "360703" || x.EffectiveFrom != domain.MustDate("2013-11-18") {
		t.Errorf("南康市 360782: successor %+v, %v; want 南康区 360703 from 2013-11-18", x, ok)
	}
	if _, ok := ref.Successor("360721"); ok {
		t.Error("赣县 360721 is redefined, but that is effective 2016, after the years generated")
	}
	for y := 2006; y <= 2013; y++ {
		if closed := ref.Closed(y); closed != (y < 2013) {
			t.Errorf("%d: closed %v", y, closed)
		}
	}
}

// The year-end freezes fold on from the previous year's views (parked between freezes, or saved
// by serve when a run goes on with an earlier run's ledger), compacted at each closing: their
// digests must be those of a fold from sequence 1.
func TestDemoFreezesEqualAFoldFromSequenceOne(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if code, out, errOut := runCmd("demo", "--years", "2006-2008", "--employers", "150", "--data", dir); code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	// serve saves its views; the next run's first freeze folds on from them.
	led := openData(t, dir)
	rctx, cancel := context.WithCancel(ctx)
	runner := projections.NewRunner(led.store, projections.RunnerConfig{})
	if err := runner.Start(rctx); err != nil {
		t.Fatal(err)
	}
	if err := runner.WaitSeq(ctx, lastSeq(t, led)); err != nil {
		t.Fatal(err)
	}
	if err := runner.SaveSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	runner.Wait()
	led.close()
	code, out, errOut := runCmd("demo", "--years", "2006-2010", "--employers", "150", "--data", dir)
	if code != 0 {
		t.Fatalf("the run going on to 2010: exit %d\n%s\n%s", code, out, errOut)
	}
	// 2008 was the first run's last year: its steps are all there, so this run only closes it.
	if !strings.Contains(out, "2008  appended by an earlier run: closed now") {
		t.Errorf("the run going on to 2010 did not find 2008 appended:\n%s", out)
	}

	led = openData(t, dir)
	freezes := led.store.Freezes()
	if len(freezes) != 4 {
		t.Fatalf("%d freezes, want the year-end ones of 2006 to 2009", len(freezes))
	}
	for _, f := range freezes {
		again, err := projections.MakeFreeze(ctx, led.store, f.ThroughSeq, f.ValidThrough, nil)
		if err != nil {
			t.Fatal(err)
		}
		if again.Digest != f.Digest {
			t.Errorf("the freeze valid through %s: digest %s, a fold from sequence 1 gives %s", f.ValidThrough, f.Digest, again.Digest)
		}
	}
}

// serve --demo with a tokens file that does not fit the ledger (a county of another city) stops
// before the demo is written: a configuration error leaves the ledger as it was.
func TestServeDemoChecksTheTokensFileBeforeWritingTheDemo(t *testing.T) {
	dir := t.TempDir()
	tokens := writeTokensFile(t, map[string]any{"token": "c", "name": "c", "role": "clerk", "counties": []string{"360502"}})
	code, _, errOut := runCmd("serve", "--demo", "--demo-employers", "20", "--data", dir, "--tokens", tokens, "--listen", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errOut, "360502") {
		t.Fatalf("serve --demo with a clerk of 360502: exit %d, %q; want a failure naming the county", code, errOut)
	}
	if n := len(openData(t, dir).store.EmployerIDs()); n != 0 {
		t.Fatalf("the refused start wrote %d demo employers", n)
	}
}

// Ctrl-C stops a demo run between appends, closes the ledger and says how to finish; the same
// command run again appends the rest, and the ledger's chains hold.
func TestADemoRunStoppedWithCtrlCSaysSoAndRunsOnAfterwards(t *testing.T) {
	dir, bin := buildBinary(t)
	data := filepath.Join(dir, "data")
	args := []string{"demo", "--employers", "4000", "--data", data}
	child := exec.Command(bin, args...)
	stderr, err := child.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var said strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		said.WriteString(sc.Text() + "\n")
		// A batch is appended (the first progress line follows it), the rest are not.
		if strings.HasPrefix(sc.Text(), "demo: 2006: ") {
			if err := child.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	rest, _ := io.ReadAll(stderr)
	said.Write(rest)
	err = child.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(said.String(), "interrupted: what was appended stays; run the same command again") {
		t.Fatalf("a demo stopped with Ctrl-C: %v\n%s\nwant exit 1 saying how to finish", err, said.String())
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "demo ledger: ") {
		t.Fatalf("the demo run again: %v\n%s", err, out)
	}
	if code, out, errOut := runCmd("verify", "--data", data); code != 0 {
		t.Fatalf("verify after the demo finished: exit %d\n%s\n%s", code, out, errOut)
	}
}
