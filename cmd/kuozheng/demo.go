package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/eventstore"
)

// demoBatch is how many payers' year is generated and appended at once: the generator keeps
// one batch's steps, and the store keeps the batch's employers folded (its cache holds 4,096)
// from the generator's reading of their state to the append, with the next batch read meanwhile.
const demoBatch = 1500

// demoActor records the demo's events.
const demoActor = "demo:generator"

func demoCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	sf.registerStream(fs)
	var lf logFlags
	lf.register(fs)
	employers := fs.Int("employers", 20000, "payers in 2006, the first year (tests use a few hundred); later years grow from them by about 6% a year")
	seed := fs.Uint64("seed", 2006, "random seed: the same seed gives the same ledger")
	years := fs.String("years", "2006", fmt.Sprintf("the years to generate: 2006, or 2006-YYYY up to %d; every year but the last ends with its year-end freeze and closing", demo.MaxYear))
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (net/http/pprof) on this loopback address while generating, for performance work")
	memLimit := fs.String("memory-limit", "1800MiB", "soft limit on the Go heap, such as 5GiB, or 0 for none: what is live stays near 1 GiB for a ledger of 30,000 payers; the limit keeps the resident size under 2 GiB (1.80 GiB measured growing 2006-2015 from 20,000 payers in one run; 1.94 GiB at 1900MiB), and a lower one costs time in collection (GOMEMLIMIT applies when this is not given)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, `Usage: kuozheng demo [options]

Generates a realistic Ganzhou ledger into a data folder that no server holds, or into --nats:
the 2006 campaign (registrations with industry, sector, park and economic type, surveys and
enrollments with migrant workers and retirees, declarations, payments, assessments, audits and
inspections, enforcement, waivers, contracts) and, with --years 2006-YYYY, each later year: new
registrations and deregistrations, monthly declarations and payments, arrears carried and
recovered, audits and inspections, enforcement, the year's reference data (average wage, targets and rate
changes, illustrative figures; county changes), and each year's freeze and closing before the
next. It generates and appends year by year, a batch of payers at a time: what the generator
holds follows the batch, while the store's indexes and the freezes' views grow with the ledger
(README, Ten-year demo). Every step carries an idempotency key, so an interrupted run can simply
be run again: what is already in the ledger is not appended twice.

Options:`)
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("demo takes no arguments, got %q", pos)}
	}
	if *employers < 1 {
		return usageError{"--employers must be at least 1"}
	}
	if sf.ledger != eventstore.DefaultLedger {
		return usageError{fmt.Sprintf("the demo ledger is Ganzhou's (--ledger %s); ledger %s is filled by its own clerks and imports", eventstore.DefaultLedger, sf.ledger)}
	}
	last, err := parseYears(*years)
	if err != nil {
		return err
	}
	limit, err := applyMemoryLimit(fs, *memLimit)
	if err != nil {
		return err
	}
	if err := servePprof(*pprofAddr); err != nil {
		return err
	}
	// A run is one long start: what it keeps grows with the ledger, and the collector need run
	// only near the limit.
	defer collectNearLimit(limit)()
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	// Ctrl-C stops the run between appends and closes the ledger as a finished run does.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	led, err := openLedger(ctx, sf, log)
	if err != nil {
		return err
	}
	defer led.close()
	sum, err := loadYears(ctx, led.store, demo.Config{Employers: *employers, Seed: *seed}, last, stderr)
	if err != nil && ctx.Err() != nil {
		return errors.New("interrupted: what was appended stays; run the same command again to append the rest (nothing is appended twice)")
	}
	if err != nil {
		return err
	}
	lastSeq, err := led.store.LastSeq(ctx)
	if err != nil {
		return err
	}
	sum.print(stdout)
	fmt.Fprintf(stdout, "demo ledger: %d commands; %d payers active at its end (others left); the stream is at sequence %d\n", sum.commands, sum.payers, lastSeq)
	return nil
}

// parseYears reads --years: "2006" or "2006-YYYY", and returns the last year.
func parseYears(s string) (int, error) {
	from, to, ranged := strings.Cut(s, "-")
	first, err1 := strconv.Atoi(from)
	last, err2 := first, error(nil)
	if ranged {
		last, err2 = strconv.Atoi(to)
	}
	switch {
	case err1 != nil || err2 != nil || len(from) != 4 || (ranged && len(to) != 4):
		return 0, usageError{fmt.Sprintf("--years %q: want a year or a range such as 2006-2015", s)}
	case first != demo.FirstYear:
		return 0, usageError{fmt.Sprintf("--years %q: the demo ledger starts with the %d campaign, so the years start at %d", s, demo.FirstYear, demo.FirstYear)}
	case last < first || last > demo.MaxYear:
		return 0, usageError{fmt.Sprintf("--years %q: the last year must be from %d to %d", s, demo.FirstYear, demo.MaxYear)}
	}
	return last, nil
}

// loadDemo appends the 2006 demo ledger (serve --demo).
func loadDemo(ctx context.Context, store *eventstore.Store, cfg demo.Config, progress io.Writer) (int, error) {
	sum, err := loadYears(ctx, store, cfg, demo.FirstYear, progress)
	return sum.commands, err
}

// demoHeld tells what the store holds of the 2006 demo of cfg: none of it (begun false; a
// ledger with employers is then someone else's), part of it (a first start stopped while the
// demo was written), or all of it.
func demoHeld(ctx context.Context, store *eventstore.Store, cfg demo.Config) (begun, whole bool, err error) {
	c := demo.NewCampaign(cfg)
	if begun, err = begunBy(store, cfg, c); err != nil || !begun {
		return begun, false, err
	}
	whole, err = yearAppended(ctx, store, cfg, c, stateAt(ctx, store, 0))
	return begun, whole, err
}

// yearSummary is what one year of the demo appended, and how long it took.
type yearSummary struct {
	year                        int
	skipped                     bool // closed by an earlier run: nothing generated
	appendedBefore              bool // appended by an earlier run: only closed by this one
	stats                       demo.YearStats
	commands, events, duplicate int
	took, froze                 time.Duration
}

// demoSummary is what a demo run did, year by year.
type demoSummary struct {
	years            []yearSummary
	commands, payers int
}

func (s demoSummary) print(w io.Writer) {
	fmt.Fprintln(w, "year  payers played  entered  left  active at end  commands  events appended  already there  generate+append  freeze+close")
	for _, y := range s.years {
		if y.skipped {
			fmt.Fprintf(w, "%d  closed by an earlier run: not generated again\n", y.year)
			continue
		}
		if y.appendedBefore && y.froze == 0 {
			fmt.Fprintf(w, "%d  appended by an earlier run: nothing to do (the run's last year stays open)\n", y.year)
			continue
		}
		if y.appendedBefore {
			fmt.Fprintf(w, "%d  appended by an earlier run: closed now, in %v\n", y.year, y.froze.Round(100*time.Millisecond))
			continue
		}
		froze := "-"
		if y.froze > 0 {
			froze = y.froze.Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(w, "%d  %13d  %7d  %4d  %13d  %8d  %15d  %13d  %15v  %12s\n", y.year, y.stats.Played, y.stats.Entered, y.stats.Left,
			y.stats.Active, y.commands, y.events, y.duplicate, y.took.Round(100*time.Millisecond), froze)
	}
}

// demoKey names a step of the demo for ever: the run's seed and size, the year, and what
// within the year (a payer's step, a reference event, the freeze, the closing).
func demoKey(cfg demo.Config, year int, what string) string {
	return fmt.Sprintf("demo-%d-%d-%d-%s", cfg.Seed, cfg.Employers, year, what)
}
