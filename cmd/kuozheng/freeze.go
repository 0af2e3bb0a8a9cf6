package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os/user"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

func freezeCmd(args []string, stdout, stderr io.Writer) error {
	fs, sf, rm := command("freeze", "Usage: kuozheng freeze --valid-through YYYY-MM-DD [--through-seq N] [options]\n\nReplays the ledger through a sequence with the views' folds, counts what is dated on or before\nthe date, and stores the figures with a manifest (sequence, date, chain head, code version,\nSHA-256 digest) in the ledger's own stream. The same sequence and date always give the same digest.", stdout)
	validThrough := fs.String("valid-through", "", "business date the figures count events up to (required)")
	through := fs.Uint64("through-seq", 0, "last stream sequence to fold (default: the last one now)")
	key := fs.String("idempotency-key", "", "a retry with the same key answers the freeze the key first made instead of making another")
	today := fs.String("today", "", "business date after which valid-through is refused (default: today in Asia/Shanghai)")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("freeze takes no arguments, got %q", pos)}
	}
	if err := localOnly(fs); err != nil {
		return err
	}
	if *validThrough == "" {
		return usageError{"--valid-through is required"}
	}
	d, err := parseDateFlag("valid-through", *validThrough)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// Progress is one line drawn over itself on a terminal, else a line now and then.
	tty := terminal(stderr)
	lead, end, clear := "", "\n", ""
	if tty {
		lead, end, clear = "\r", "   ", "\r\033[K"
	}
	var manifest any
	if local(fs) {
		led, err := openLedger(ctx, *sf, newLogger(io.Discard))
		if err != nil {
			return err
		}
		defer led.close()
		day := todayInShanghai()
		if *today != "" {
			if day, err = parseDateFlag("today", *today); err != nil {
				return err
			}
		}
		actor := "admin:cli"
		if u, err := user.Current(); err == nil {
			actor = "admin:" + u.Username + "@cli"
		}
		target := *through // the sequence the fold runs to, for the progress line
		if target == 0 {
			if target, err = led.store.LastSeq(ctx); err != nil {
				return err
			}
		}
		var base uint64 // where the fold starts, for the rate
		start := time.Now()
		var told time.Time // when progress was last told, off a terminal
		ref, _, err := projections.Freeze(ctx, led.store, projections.FreezeRequest{
			ValidThrough: d, Today: day, ThroughSeq: *through,
			// Fold on from the views serve saved when they are not past S (the digest is the same
			// as from sequence 1, as for POST /v1/freezes); otherwise replay everything.
			Views: func(s uint64) (*projections.Ledger, error) {
				from, err := projections.SavedViews(ctx, led.store)
				if err != nil || from.Seq > s {
					return nil, nil
				}
				fmt.Fprintf(stderr, "folding on from the views serve saved at sequence %d\n", from.Seq)
				base = from.Seq
				return from, nil
			},
			Progress: func(seq uint64) {
				if !tty && time.Since(told) < 5*time.Second {
					return
				}
				told = time.Now()
				rate := float64(seq-base) / time.Since(start).Seconds()
				fmt.Fprintf(stderr, "%sreplaying: %d/%d events (%d%%), %.0f/s, ETA %v%s", lead, seq, target, seq*100/max(target, 1), rate,
					(time.Duration(float64(target-min(seq, target))/rate) * time.Second).Round(time.Second), end)
			},
			FreezeOrder: eventstore.FreezeOrder{Actor: actor, IdempotencyKey: *key, BodyHash: freezeBodyHash(d, *through)},
		})
		fmt.Fprint(stderr, clear)
		if err != nil {
			return err
		}
		manifest = ref
	} else {
		body, _ := json.Marshal(api.FreezeRequest{ValidThrough: d.String(), ThroughSeq: *through})
		done, cleared := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(cleared)
			start := time.Now()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for ticks := 1; ; ticks++ {
				select {
				case <-done:
					fmt.Fprint(stderr, clear)
					return
				case <-t.C:
					if tty || ticks%10 == 0 {
						fmt.Fprintf(stderr, "%sthe server is replaying the ledger… %v%s", lead, time.Since(start).Round(time.Second), end)
					}
				}
			}
		}()
		err := rm.post(ctx, "/v1/freezes", body, &manifest, *key)
		close(done)
		<-cleared
		if err != nil {
			return err
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(manifest)
}

// freezeBodyHash identifies a freeze asked for on the command line, for its idempotency key.
func freezeBodyHash(d domain.Date, through uint64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "kuozheng freeze --valid-through %s --through-seq %d", d, through))
	return hex.EncodeToString(sum[:])
}
