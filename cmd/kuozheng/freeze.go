package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

func freezeCmd(args []string, stdout, stderr io.Writer) error {
	fs, sf, rm := command("freeze", "Usage: kuozheng freeze --valid-through YYYY-MM-DD [--through-seq N] [options]\n\nReplays the ledger through a sequence with the views' folds, counts what is dated on or before\nthe date, and stores the figures with a manifest (sequence, date, chain head, code version,\nSHA-256 digest) in the ledger's own stream. The same sequence and date always give the same digest.", stdout)
	validThrough := fs.String("valid-through", "", "business date the figures count events up to (required)")
	through := fs.Uint64("through-seq", 0, "last stream sequence to fold (default: the last one now)")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("freeze takes no arguments, got %q", pos)}
	}
	if *validThrough == "" {
		return usageError{"--valid-through is required"}
	}
	d, err := parseDateFlag("valid-through", *validThrough)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var manifest any
	if local(fs) {
		led, err := openLedger(ctx, *sf, newLogger(io.Discard))
		if err != nil {
			return err
		}
		defer led.close()
		last, err := led.store.LastSeq(ctx)
		if err != nil {
			return err
		}
		s := *through
		if s == 0 {
			s = last
		} else if s > last {
			return fmt.Errorf("--through-seq %d is beyond the stream's last sequence %d", s, last)
		}
		// Fold on from the views serve saved when they are not past S (the digest is the same as
		// from sequence 1, as for POST /v1/freezes); otherwise replay everything.
		from, err := projections.SavedViews(ctx, led.store)
		if err != nil || from.Seq > s {
			from = nil
		} else {
			fmt.Fprintf(stderr, "folding on from the views serve saved at sequence %d\n", from.Seq)
		}
		var base uint64 // where the fold starts, for the rate
		if from != nil {
			base = from.Seq
		}
		start := time.Now()
		f, err := projections.MakeFreezeFrom(ctx, led.store, from, s, d, func(seq uint64) {
			rate := float64(seq-base) / time.Since(start).Seconds()
			fmt.Fprintf(stderr, "\rreplaying: %d/%d events (%d%%), %.0f/s, ETA %v   ", seq, s, seq*100/s, rate,
				(time.Duration(float64(s-seq)/rate) * time.Second).Round(time.Second))
		})
		fmt.Fprint(stderr, "\r\033[K")
		if err != nil {
			return err
		}
		seq, err := led.store.AppendFreeze(ctx, f)
		if err != nil {
			return err
		}
		f.Figures = nil
		manifest = eventstore.FreezeRef{FreezeMade: f, Seq: seq}
	} else {
		body, _ := json.Marshal(api.FreezeRequest{ValidThrough: d.String(), ThroughSeq: *through})
		done, cleared := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(cleared)
			start := time.Now()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					fmt.Fprint(stderr, "\r\033[K")
					return
				case <-t.C:
					fmt.Fprintf(stderr, "\rthe server is replaying the ledger… %v", time.Since(start).Round(time.Second))
				}
			}
		}()
		err := rm.post(ctx, "/v1/freezes", body, &manifest)
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

func (r *remote) post(ctx context.Context, path string, body []byte, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.server, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return r.do(req, v)
}
