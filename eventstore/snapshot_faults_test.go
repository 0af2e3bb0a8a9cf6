package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go"
)

func TestADamagedOrMismatchedSnapshotIsIgnoredWithALogLineAndTheStoreRebuilds(t *testing.T) {
	snapPath := func(dir string) string { return filepath.Join(dir, "store.snap") }
	// ahead makes the stream's files go back to an earlier copy: the same stream, shorter than
	// the store's snapshot.
	ahead := func(t *testing.T, l *storetest.Ledger) {
		// The stream's files go back to an earlier copy: the same stream, shorter.
		saved := t.TempDir()
		if err := os.CopyFS(saved, os.DirFS(filepath.Join(l.Dir, "jetstream"))); err != nil {
			t.Fatal(err)
		}
		l.Restart(t)
		mustExecute(t, l.Store, register(orgCode(9200), "360702"))
		if err := l.Store.CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.Stop()
		if err := os.RemoveAll(filepath.Join(l.Dir, "jetstream")); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(filepath.Join(l.Dir, "jetstream"), os.DirFS(saved)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, l *storetest.Ledger, dir string)
		lost   string // what a verification says was lost, if anything
	}{
		{"truncated", func(t *testing.T, l *storetest.Ledger, dir string) {
			b, err := os.ReadFile(snapPath(dir))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(snapPath(dir), b[:len(b)/2], 0o640); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"of an unknown version", func(t *testing.T, l *storetest.Ledger, dir string) {
			if err := os.WriteFile(snapPath(dir), []byte("KZSTORE\x00\x63\x00\x00\x00\x00"), 0o640); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"of another stream", func(t *testing.T, l *storetest.Ledger, dir string) {
			other := storetest.Start(t, snapshotConfig(t.TempDir(), nil))
			var w ledgerWork
			w.add(t, other.Store, 5)
			otherDir := other.Config.Dir
			other.Stop()
			b, err := os.ReadFile(snapPath(otherDir))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(snapPath(dir), b, 0o640); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"written by an older build, which could not decode an event", func(t *testing.T, l *storetest.Ledger, dir string) {
			// Started on a ledger a newer build wrote to, it took the event for a break.
			l.Restart(t)
			id := l.Store.EmployerIDs()[0]
			e, ok := l.Store.Employer(id)
			if !ok {
				t.Fatalf("employer %s not found", id)
			}
			l.Stop()
			if err := eventstore.NoteUndecodableInSnapshot(dir, id, e.Version); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"ahead of the stream", func(t *testing.T, l *storetest.Ledger, dir string) { ahead(t, l) }, "acknowledged event"},
		{"ahead of the stream, and written by an older build", func(t *testing.T, l *storetest.Ledger, dir string) {
			// The loss is said, though the snapshot is also refused as an older build's.
			l.Restart(t)
			id := l.Store.EmployerIDs()[0]
			e, _ := l.Store.Employer(id)
			l.Stop()
			ahead(t, l)
			if err := eventstore.NoteUndecodableInSnapshot(dir, id, e.Version); err != nil {
				t.Fatal(err)
			}
		}, "acknowledged event"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, log := t.TempDir(), &storetest.SyncBuffer{}
			l := storetest.Start(t, snapshotConfig(dir, log))
			var w ledgerWork
			w.add(t, l.Store, 0)
			if err := l.Store.CatchUp(context.Background()); err != nil {
				t.Fatal(err)
			}
			l.Stop()
			c.damage(t, l, dir)
			l.Restart(t)
			if !strings.Contains(log.String(), "snapshot ignored") {
				t.Fatalf("no log line says the snapshot was ignored:\n%s", log)
			}
			if got, want := l.Store.Folded(), l.MessageCount(t); got != want {
				t.Fatalf("folded %d messages, want all %d", got, want)
			}
			in, err := l.Store.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if (c.lost == "") != (in.LostTail == "") || !strings.Contains(in.LostTail, c.lost) {
				t.Fatalf("verified %+v; want the events lost said (%q)", in, c.lost)
			}
			if c.lost != "" {
				// Said at every start until accepted: the store then holds the stream as it
				// is, as a replay does.
				l.Restart(t)
				if in, err := l.Store.Verify(context.Background()); err != nil || !strings.Contains(in.LostTail, c.lost) {
					t.Fatalf("verified again after a restart: %+v, %v; want the loss said again", in, err)
				}
				l.Store.AcceptLoss()
				l.Restart(t)
			}
			sameAsReplay(t, l, w.ids)
			w.checkRetries(t, l.Store)
			// The rebuilt state is snapshotted again and used by the next start.
			l.Restart(t)
			if l.Store.Folded() != 0 {
				t.Fatalf("the start after a rebuild folded %d messages, want none", l.Store.Folded())
			}
		})
	}
}

// A killed process leaves files written after its last snapshot: runs no snapshot names, chunks
// beyond the archive's recorded length, a half-written snapshot. The next start drops them and
// folds again what they held.
func TestACrashAfterTheLastSnapshotLeavesAConsistentStore(t *testing.T) {
	dir := t.TempDir()
	l := storetest.Start(t, snapshotConfig(dir, nil))
	l.Store.SetKeyMemtable(2)
	var w ledgerWork
	w.add(t, l.Store, 0)
	l.Store.SnapshotNow()
	named := runFiles(t, dir)
	w.add(t, l.Store, 1)
	storetest.CheckFor(t, 20*time.Second, 5*time.Millisecond, func() error {
		if mem, _, _ := l.Store.KeyCounts(); mem > 2 {
			return fmt.Errorf("%d keys in memory", mem)
		}
		return nil
	})
	orphans := slices.DeleteFunc(runFiles(t, dir), func(n string) bool { return slices.Contains(named, n) })
	if len(orphans) == 0 {
		t.Fatal("no run was written after the snapshot")
	}
	archive := filepath.Join(dir, "archive.dat")
	before, err := os.Stat(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "store.snap.tmp"), []byte("half a snapshot"), 0o640); err != nil {
		t.Fatal(err)
	}
	crashAndRestart(t, l)
	for _, n := range orphans {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("run %s, written after the snapshot, is still there (%v)", n, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "store.snap.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the half-written snapshot is still there")
	}
	if after, err := os.Stat(archive); err != nil || after.Size() > before.Size() {
		t.Fatalf("the archive holds %d bytes after the restart, %d before the crash: chunks beyond the snapshot were not dropped (%v)", after.Size(), before.Size(), err)
	}
	sameAsReplay(t, l, w.ids)
	w.checkRetries(t, l.Store)
}

func runFiles(t *testing.T, dir string) []string {
	return filesIn(t, dir, func(name string) bool { return strings.HasSuffix(name, ".run") })
}

// Chain breaks found before a snapshot come back from it; those after it are found by the
// follower as it folds the rest.
func TestChainBreaksBeforeAndAfterASnapshotAreAllReported(t *testing.T) {
	l := storetest.Start(t, snapshotConfig(t.TempDir(), nil))
	var w ledgerWork
	w.add(t, l.Store, 0)
	forge(t, l, w.ids[1])
	l.Store.SnapshotNow()
	forge(t, l, w.ids[2])
	crashAndRestart(t, l)
	in, err := l.Store.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if in.OK || len(in.Breaks) != 2 || in.Breaks[0].EmployerID != w.ids[1] || in.Breaks[1].EmployerID != w.ids[2] {
		t.Fatalf("verify after the restart: %+v, want breaks of %s and %s", in.Breaks, w.ids[1], w.ids[2])
	}
	sameAsReplay(t, l, w.ids)
}

// forge appends to an employer's subject, behind the store's back, an event whose hash header
// is not the hash of its bytes, and waits until the store has folded it.
func forge(t *testing.T, l *storetest.Ledger, id string) {
	t.Helper()
	h, err := l.Store.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(eventstore.EmployerPrefix + id)
	m.Data = h[len(h)-1].Data
	m.Header.Set(eventstore.HashHeader, h[len(h)-1].Hash)
	if _, err := l.Embedded.Conn.RequestMsg(m, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := l.Store.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}
