package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
)

// serve --demo writes the demo ledger after its views started: /readyz says ready only once the
// views reflect all of it, so the first 200 names the stream's last sequence (nothing else
// writes), never a sequence the views were still folding towards.
func TestServeDemoIsReadyOnlyOnceTheViewsHoldTheWholeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes a demo ledger")
	}
	_, bin := buildBinary(t)
	s := launchServe(t, bin, nil, &http.Client{Timeout: 30 * time.Second}, "--demo", "--demo-employers", "3000", "--data", t.TempDir())
	if last := readyAt(t, s); last < 60000 {
		t.Fatalf("ready at sequence %d; the demo ledger ends past 60,000", last)
	}
}

// A first start stopped while it wrote the demo (Ctrl-C, a crash) left part of it: serve --demo
// again appends the rest, once, and ends where a demo written in one go ends; a ledger that
// holds the whole demo is served as it is.
func TestServeDemoFinishesADemoAFirstStartLeftPartWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes a demo ledger twice")
	}
	ctx := context.Background()
	cfg := demo.Config{Employers: 3000, Seed: 2006}
	whole := openData(t, t.TempDir())
	if _, err := loadDemo(ctx, whole.store, cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	want := lastSeq(t, whole)

	// What a first start stopped after its first batch of payers leaves.
	dir := t.TempDir()
	led, err := openLedger(ctx, storeFlags{data: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	c := demo.NewCampaign(cfg)
	if err := writeReference(ctx, led.store, cfg, c); err != nil {
		t.Fatal(err)
	}
	steps, err := c.Steps(0, demoBatch, stateAt(ctx, led.store, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range led.store.ExecuteBulk(ctx, demoRequests(cfg, c, steps)) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	if begun, all, err := demoHeld(ctx, led.store, cfg); err != nil || !begun || all {
		t.Fatalf("a ledger of the demo's first batch holds it begun %v, whole %v (%v); want begun, not whole", begun, all, err)
	}
	partial := lastSeq(t, led)
	led.close()
	if partial >= want {
		t.Fatalf("the first batch ends at %d, the whole demo at %d", partial, want)
	}

	_, bin := buildBinary(t)
	client := &http.Client{Timeout: 30 * time.Second}
	for _, run := range []string{"finishing the demo", "serving it as it is"} {
		s := launchServe(t, bin, nil, client, "--demo", "--demo-employers", "3000", "--data", dir)
		if got := readyAt(t, s); got != want {
			t.Fatalf("%s: ready at sequence %d; a demo written in one go ends at %d:\n%s", run, got, want, s.stderr)
		}
		if run == "finishing the demo" && !strings.Contains(s.stderr.String(), "holds part of the demo") {
			t.Errorf("serve finished the demo without saying so:\n%s", s.stderr)
		}
		s.stop(t)
	}
}

// readyAt waits for serve's /readyz to answer 200 and returns the stream's last sequence, which
// the views it reports must have reached.
func readyAt(t *testing.T, s *crashServer) uint64 {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var ready struct {
			Status string `json:"status"`
			Seq    uint64 `json:"seq"`
			Stream struct {
				LastSeq uint64 `json:"last_seq"`
			} `json:"stream"`
		}
		resp, err := s.client.Get(s.base + "/readyz")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&ready)
			resp.Body.Close()
		}
		if err == nil && resp.StatusCode == http.StatusOK {
			if ready.Seq != ready.Stream.LastSeq {
				t.Fatalf("ready with the views at sequence %d; the ledger ends at %d", ready.Seq, ready.Stream.LastSeq)
			}
			return ready.Stream.LastSeq
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200 (last: %+v, %v):\n%s", ready, err, s.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
