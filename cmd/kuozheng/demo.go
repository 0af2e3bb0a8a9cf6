package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kuozheng/kuozheng/domain/demo"
	"github.com/kuozheng/kuozheng/eventstore"
)

func demoCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	employers := fs.Int("employers", 20000, "number of payers to generate (tests use a few hundred)")
	seed := fs.Uint64("seed", 2006, "random seed: the same seed gives the same ledger")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: kuozheng demo [options]\n\nGenerates a realistic Ganzhou 2006 ledger (registrations, surveys, enrollments, declarations,\npayments, assessments, audits, enforcement, waivers, contracts) into a data folder that no\nserver holds, or into --nats. Steps carry idempotency keys, so an interrupted run can simply\nbe run again.\n\nOptions:")
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
	ctx := context.Background()
	led, err := openLedger(ctx, sf, newLogger(stderr))
	if err != nil {
		return err
	}
	defer led.close()
	n, err := loadDemo(ctx, led.store, demo.Config{Employers: *employers, Seed: *seed}, stderr)
	if err != nil {
		return err
	}
	last, err := led.store.LastSeq(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo ledger: %d commands for %d payers; the stream is at sequence %d\n", n, *employers, last)
	return nil
}

// loadDemo appends the demo ledger through the bulk path, in chunks, reporting progress.
func loadDemo(ctx context.Context, store *eventstore.Store, cfg demo.Config, progress io.Writer) (int, error) {
	start := time.Now()
	steps := demo.Generate(cfg)
	fmt.Fprintf(progress, "demo: generated %d commands for %d payers in %v\n", len(steps), cfg.Employers, time.Since(start).Round(time.Millisecond))
	reqs := make([]eventstore.Request, len(steps))
	for i, s := range steps {
		reqs[i] = eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: demo.Today,
			Actor: "demo:generator", IdempotencyKey: fmt.Sprintf("demo-%d-%d-%d", cfg.Seed, cfg.Employers, i), BodyHash: fmt.Sprintf("demo-%d", i)}
	}
	const chunk = 20000
	start = time.Now()
	last := time.Now()
	done, failed := 0, 0
	for lo := 0; lo < len(reqs); lo += chunk {
		hi := min(lo+chunk, len(reqs))
		for i, res := range store.ExecuteBulk(ctx, reqs[lo:hi]) {
			if res.Err != nil {
				failed++
				if failed <= 5 {
					fmt.Fprintf(progress, "demo: command %d (%T) for %s: %v\n", lo+i, steps[lo+i].Command, steps[lo+i].EmployerID, res.Err)
				}
			}
		}
		done = hi
		if time.Since(last) > time.Second || done == len(reqs) {
			last = time.Now()
			el := time.Since(start)
			rate := float64(done) / el.Seconds()
			eta := time.Duration(float64(len(reqs)-done)/rate) * time.Second
			fmt.Fprintf(progress, "demo: %d/%d commands (%d%%), %.0f/s, ETA %v\n", done, len(reqs), done*100/len(reqs), rate, eta.Round(time.Second))
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
	}
	if failed > 0 {
		return done, fmt.Errorf("demo: %d of %d commands were refused", failed, len(reqs))
	}
	return done, store.CatchUp(ctx)
}
