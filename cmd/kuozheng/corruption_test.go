package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// damagedLedger makes a small demo ledger with a snapshot of its views, then flips bytes in the
// middle of the stream's block file; dropIndex also removes the file store's index, so that the
// server rebuilds it at start and cuts the block at the damage.
func damagedLedger(t *testing.T, dropIndex bool) string {
	t.Helper()
	dir := demoFolder(t, 60)
	saveViews(t, dir)

	msgs := filepath.Join(dir, "jetstream", "jetstream", "$G", "streams", "LEDGER", "msgs")
	flipMiddle(t, filepath.Join(msgs, "1.blk"), 40)
	if dropIndex {
		_ = os.Remove(filepath.Join(msgs, "index.db"))
	}
	return dir
}

// flipMiddle flips bits of every seventh byte of the n in the middle of the file at path.
func flipMiddle(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for k := len(b) / 2; k < len(b)/2+n; k += 7 {
		b[k] ^= 0x5a
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startupDamageOf is what serve's start-up check finds in the ledger of data folder dir; the
// views' snapshot is then saved, as serve saves it at shutdown.
func startupDamageOf(t *testing.T, dir string) string {
	t.Helper()
	led, err := openLedger(context.Background(), storeFlags{data: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer led.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := projections.NewRunner(led.store, projections.RunnerConfig{})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	damage := startupDamage(ctx, led, r)
	if err := r.SaveSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	return damage
}

func TestDamagedBlocksAreReportedNotServedSilently(t *testing.T) {
	t.Run("altered bytes are reported with the employers and sequences they touch", func(t *testing.T) {
		// The file store either serves the altered message (then its hash chain breaks) or finds
		// the bad checksum and cuts the block there (then the snapshot shows events lost).
		dir := damagedLedger(t, false)
		code, out, errOut := runCmd("verify", "--data", dir)
		broken := strings.Contains(out, "BROKEN employer ") && strings.Contains(out, " at sequence ")
		lost := strings.Contains(out, "acknowledged events were lost") && strings.Contains(out, "known through sequence")
		if code != 1 || !(broken || lost) {
			t.Fatalf("verify: exit %d\n%s\nstandard error:\n%s", code, out, errOut)
		}
		// A message the stream cannot read back is named, whether or not an employer's chain
		// passes it (an outside review: a damaged freeze's message was counted, not named).
		if strings.Contains(out, "could not read back") && !regexp.MustCompile(`could not read back 1 of its messages \(at sequence \d+\)`).MatchString(out) {
			t.Fatalf("verify names no sequence of the message it could not read back:\n%s", out)
		}
	})
	t.Run("a block cut at the damage shows as acknowledged events lost", func(t *testing.T) {
		dir := damagedLedger(t, true)
		code, out, _ := runCmd("verify", "--data", dir)
		if code != 1 || !strings.Contains(out, "acknowledged events were lost") || !strings.Contains(out, "employers affected") {
			t.Fatalf("verify: exit %d\n%s", code, out)
		}
		// serve says why it is not ready, until told to go on: at every start, no snapshot
		// written meanwhile (one at shutdown used to make the next start find nothing).
		for i := range 2 {
			if d := startupDamageOf(t, dir); !strings.Contains(d, "acknowledged events were lost") || !strings.Contains(d, "the views' snapshot reached sequence") {
				t.Fatalf("serve's start-up check, start %d, found %q", i+1, d)
			}
		}
	})
	t.Run("a block whose end is cut off, its index kept, shows its last events lost", func(t *testing.T) {
		// The store waited for ever for the messages the index still counted (an operator's
		// drill: serve stayed opening, verify printed nothing).
		dir := demoFolder(t, 60)
		saveViews(t, dir)
		blk := filepath.Join(dir, "jetstream", "jetstream", "$G", "streams", "LEDGER", "msgs", "1.blk")
		fi, err := os.Stat(blk)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(blk, fi.Size()-3000); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCmd("verify", "--data", dir)
		if code != 1 || !strings.Contains(out, "LOST: the stream says it ends at sequence") || !strings.Contains(out, "employers affected") {
			t.Fatalf("verify: exit %d\n%s\nstandard error:\n%s", code, out, errOut)
		}
		if d := startupDamageOf(t, dir); !strings.Contains(d, "cannot be read") || !strings.Contains(d, "the views' snapshot reached sequence") {
			t.Fatalf("serve's start-up check found %q", d)
		}
	})
}

// TestADamagedHistoryArchiveIsReadFromTheStream: the store's history archive (store/) is a copy of
// the stream; bytes of it damaged make no employer unreadable and change no employer: its events
// are read from the stream instead, and verification says the archive is damaged, a whole one
// (GET /v1/verify) before any read met the damage. (kuozheng verify --data folds the stream
// into a store of its own and does not read store/.)
func TestADamagedHistoryArchiveIsReadFromTheStream(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, store string)
	}{
		{"bytes of its chunks flipped", func(t *testing.T, store string) {
			flipMiddle(t, filepath.Join(store, "archive.dat"), 400)
		}},
		{"a payload of its tail log altered (the log keeps no checksum)", func(t *testing.T, store string) {
			logs, _ := filepath.Glob(filepath.Join(store, "tails-*.log"))
			altered := 0
			for _, f := range logs {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				half := b[len(b)/2:]
				altered += bytes.Count(half, []byte(`"headcount":1,`))
				copy(half, bytes.ReplaceAll(half, []byte(`"headcount":1,`), []byte(`"headcount":7,`)))
				if err := os.WriteFile(f, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if altered == 0 {
				t.Fatalf("no tail log of %v holds a headcount of 1 to alter", logs)
			}
		}},
	}
	ctx := context.Background()
	// reads are what a reader and a command get of every employer: its history, and its state
	// folded for a command (from its checkpoint in the archive and the events after).
	reads := func(t *testing.T, led *ledger) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, id := range led.store.EmployerIDs() {
			raws, err := led.store.History(ctx, id)
			if err != nil {
				t.Fatalf("history of %s: %v", id, err)
			}
			var b strings.Builder
			for _, r := range raws {
				fmt.Fprintf(&b, "%d %s %v %s\n", r.Seq, r.Hash, r.ChainOK, r.Data)
			}
			e, err := led.store.EmployerContext(ctx, id)
			if err != nil {
				t.Fatalf("employer %s for a command: %v", id, err)
			}
			out[id] = fmt.Sprintf("%s%+v", b.String(), e)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := demoFolder(t, 60)
			led, err := openLedger(ctx, storeFlags{data: dir}, newLogger(io.Discard))
			if err != nil {
				t.Fatal(err)
			}
			want := reads(t, led)
			led.close()
			tt.damage(t, filepath.Join(dir, "store"))

			led, err = openLedger(ctx, storeFlags{data: dir}, newLogger(io.Discard))
			if err != nil {
				t.Fatal(err)
			}
			defer led.close()
			// GET /v1/verify's check, before any read has met the damage.
			if in, err := led.store.VerifyWhole(ctx); err != nil || in.OK || in.StoreDamaged == 0 {
				t.Errorf("a whole verification of the store just opened: %+v, %v; want it not ok, naming the damage", in, err)
			}
			got := reads(t, led)
			if len(got) != len(want) {
				t.Fatalf("%d employers after the damage, %d before", len(got), len(want))
			}
			for id, w := range want {
				if got[id] != w {
					t.Errorf("employer %s after the archive was damaged:\n%s\nwant:\n%s", id, got[id], w)
				}
			}
			in, err := led.store.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if in.OK || in.StoreDamaged == 0 {
				t.Errorf("verification after reading a damaged archive: %+v; want it not ok, naming the damage", in)
			}
		})
	}
}

// A ledger a newer build wrote to holds events this build cannot read: serve says so, and which
// build to run, rather than only that the ledger is damaged.
func TestServeOnALedgerANewerBuildWroteSaysSo(t *testing.T) {
	dir := t.TempDir()
	id := seed(t, dir)
	led, err := openLedger(context.Background(), storeFlags{data: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	storetest.Forge(t, led.store, led.nc, id, func(env map[string]any) bool {
		env["type"] = "employer.merged_in_2030"
		return true
	})
	led.close()
	if d := startupDamageOf(t, dir); !strings.Contains(d, "a newer build of kuozheng wrote events this one cannot read (employer "+id) {
		t.Fatalf("serve's start-up check found %q; want it to say a newer build wrote the ledger", d)
	}
}

// A start that folds the stream from its first event checks every chain as it goes: serve says
// it has verified them through the sequence it was ready at, without reading the stream again,
// so that a reader waiting for that (bench rss) does not wait in vain.
func TestAStartThatFoldedEveryEventSaysEveryChainIsVerified(t *testing.T) {
	_, bin := buildBinary(t)
	dir := t.TempDir()
	seed(t, dir)
	// As a folder the benchmarks wrote, or one whose process stopped before its first snapshot:
	// nothing for serve to resume from.
	if err := os.Remove(filepath.Join(dir, "store", "store.snap")); err != nil {
		t.Fatal(err)
	}
	s := launchServe(t, bin, nil, &http.Client{Timeout: 30 * time.Second}, "--data", dir)
	storetest.CheckFor(t, 2*time.Minute, 50*time.Millisecond, func() error {
		if v, err := metricValue(s, "kuozheng_verified_seq"); err != nil || v < 4 {
			return fmt.Errorf("kuozheng_verified_seq %v, %v; want the 4 events seeded, at least", v, err)
		}
		return nil
	})
	if log := s.stderr.String(); strings.Contains(log, "every chain verified from the first event") {
		t.Errorf("serve read the stream again to verify it, after a start that folded every event:\n%s", log)
	}
}

// Bytes altered before the store's snapshot are not met by a start, which folds only the events
// after it: serve verifies every chain once it is ready, and then says the ledger is damaged, as
// a start that met the damage does (an outside review found it ready, serving altered figures).
func TestServeFindsDamageBeforeItsSnapshotOnceStarted(t *testing.T) {
	_, bin := buildBinary(t)
	// A whole ledger: verified through its last sequence, and ready throughout.
	whole := demoFolder(t, 30)
	s := startCrashServer(t, bin, whole)
	storetest.CheckFor(t, 2*time.Minute, 50*time.Millisecond, func() error {
		if v, err := metricValue(s, "kuozheng_verified_seq"); err != nil || v == 0 {
			return fmt.Errorf("kuozheng_verified_seq %v, %v", v, err)
		}
		return nil
	})
	if seen := readyzOnce(s, s.client); seen.code != http.StatusOK {
		t.Fatalf("a whole ledger verified: /readyz %d %q; want ready", seen.code, seen.reason)
	}
	storetest.CheckFor(t, time.Minute, 50*time.Millisecond, func() error {
		if !strings.Contains(s.stderr.String(), "every chain verified from the first event") {
			return fmt.Errorf("serve's log does not say every chain was verified:\n%s", s.stderr.String())
		}
		return nil
	})
	s.stop(t)

	dir := damagedLedger(t, false)
	s = launchServe(t, bin, nil, &http.Client{Timeout: 30 * time.Second}, "--data", dir)
	var seen readyzSeen
	storetest.CheckFor(t, 2*time.Minute, 50*time.Millisecond, func() error {
		if seen = readyzOnce(s, s.client); seen.status != "damaged" {
			return fmt.Errorf("/readyz %d %q %q %v", seen.code, seen.status, seen.reason, seen.err)
		}
		return nil
	})
	if seen.code != http.StatusServiceUnavailable || !(strings.Contains(seen.reason, "could not read back 1 of its messages (at sequence ") || strings.Contains(seen.reason, "breaks at sequence")) {
		t.Fatalf("/readyz %d %q %q; want 503 naming what is unreadable or broken", seen.code, seen.status, seen.reason)
	}
	if v, err := metricValue(s, "kuozheng_ledger_damaged"); err != nil || v != 1 {
		t.Fatalf("kuozheng_ledger_damaged %v, %v; want 1", v, err)
	}
	if v, err := metricValue(s, "kuozheng_verified_seq"); err != nil || v != 0 {
		t.Fatalf("kuozheng_verified_seq %v, %v on a damaged ledger; want 0", v, err)
	}
	// The log is copied from serve's pipe as it comes: it may follow the answer.
	storetest.CheckFor(t, time.Minute, 50*time.Millisecond, func() error {
		if !strings.Contains(s.stderr.String(), "the verification of every chain found damage") {
			return fmt.Errorf("serve's log does not say what the verification found:\n%s", s.stderr.String())
		}
		return nil
	})
}
