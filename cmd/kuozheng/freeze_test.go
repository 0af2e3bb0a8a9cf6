package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// TestFreezeFromSavedViewsHasTheDigestOfAReplayFromTheStart checks the shortcut the freeze command
// takes: folding on from the views serve saved gives the same figures as folding everything.
func TestFreezeFromSavedViewsHasTheDigestOfAReplayFromTheStart(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCmd("demo", "--employers", "40", "--data", dir); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	ctx := context.Background()
	// Save the views as serve does, then append more after them.
	saved := saveViews(t, dir)
	seed(t, dir)

	fromStart := func(through uint64) string {
		led, err := openLedger(ctx, storeFlags{data: dir}, newLogger(&bytes.Buffer{}))
		if err != nil {
			t.Fatal(err)
		}
		defer led.close()
		f, err := projections.MakeFreeze(ctx, led.store, through, domain.MustDate("2006-11-30"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return f.Digest
	}
	for _, tt := range []struct {
		name      string
		through   func(last uint64) uint64
		fromSaved bool
	}{
		{"through the last event: folds on from the saved views", func(last uint64) uint64 { return last }, true},
		{"through a sequence before the saved views: replays from the start", func(uint64) uint64 { return saved - 10 }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			led, err := openLedger(ctx, storeFlags{data: dir}, newLogger(&bytes.Buffer{}))
			if err != nil {
				t.Fatal(err)
			}
			last, _ := led.store.LastSeq(ctx)
			led.close()
			if last <= saved {
				t.Fatalf("no events after the saved views (%d, last %d)", saved, last)
			}
			s := tt.through(last)
			var m map[string]any
			code, out, errOut := runCmd("freeze", "--valid-through", "2006-11-30", "--through-seq", fmt.Sprint(s), "--data", dir)
			if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
				t.Fatalf("freeze: exit %d\n%s\n%s", code, out, errOut)
			}
			if got := strings.Contains(errOut, fmt.Sprintf("saved at sequence %d", saved)); got != tt.fromSaved {
				t.Fatalf("folded on from the saved views: %v, want %v (stderr %q)", got, tt.fromSaved, errOut)
			}
			if want := fromStart(s); m["digest"] != want {
				t.Fatalf("freeze through %d: digest %v, a replay from the start gives %v", s, m["digest"], want)
			}
		})
	}
}

// saveViews folds the views of a data folder and saves their snapshot, as serve does; it returns
// the sequence they reached.
func saveViews(t *testing.T, dir string) uint64 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	led, err := openLedger(ctx, storeFlags{data: dir}, newLogger(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer led.close()
	r := projections.NewRunner(led.store, projections.RunnerConfig{})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	last, _ := led.store.LastSeq(ctx)
	if err := r.WaitSeq(ctx, last); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	r.Wait()
	return last
}
