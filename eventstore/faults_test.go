package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// mountTmpfs mounts a tmpfs of the given size (as mount(8) takes it: 64m) on a new folder and
// unmounts it when the test ends, after whatever the test starts on it has stopped. It skips
// the test, saying why, where mounting is not allowed (not root, a container without the right).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("a size-limited tmpfs is needed to fill a disk for real, and mount was refused (%v: %s); run as root where mount is allowed",
			err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// writeFiller writes a file of n bytes, to be deleted when the test frees space.
func writeFiller(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, n), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The data folder of an embedded server and its store is a 64 MiB tmpfs, an eighth of it taken by
// a filler file: the ledger takes the demo's writes until its disk has less than the reserve
// free, then refuses each with a DiskError that names the folder and is not recorded, so an API
// answers 503. Every acknowledged write is in the stream, once, chains verify, and once the
// filler is deleted the refused writes, retried with their keys, are recorded, and the ledger
// writes on; a restart finds all of it.
func TestAFullDiskRefusesWritesAsNotRecordedLosesNothingAndWritesResumeWhenSpaceReturns(t *testing.T) {
	mnt := mountTmpfs(t, "64m")
	filler := filepath.Join(mnt, "filler")
	writeFiller(t, filler, 8<<20)
	data := filepath.Join(mnt, "data")
	const reserve = 16 << 20
	l := &storetest.Ledger{Dir: data, Config: eventstore.Config{Dir: filepath.Join(data, "store"), DiskDir: data, DiskReserve: reserve}}
	l.Restart(t)
	t.Cleanup(l.Stop)
	ctx := context.Background()

	steps := demo.Generate(demo.Config{Employers: 5000, Seed: 2006})
	reqs := make([]eventstore.Request, len(steps))
	for i, s := range steps {
		reqs[i] = eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: demo.Today, Actor: "faults",
			IdempotencyKey: fmt.Sprintf("fill-%d", i), BodyHash: fmt.Sprint(i)}
	}
	const chunk = 500
	acked := l.Events(t) // events acknowledged: the reference data the store wrote at its first start, then ours
	// write executes reqs[lo:hi] and counts the events acknowledged; it returns the first refusal.
	write := func(lo, hi int) error {
		var refused error
		for i, r := range l.Store.ExecuteBulk(ctx, reqs[lo:hi]) {
			switch {
			case r.Err == nil:
				if !r.Duplicate {
					acked += uint64(len(r.EventIDs))
				}
			case refused == nil:
				refused = fmt.Errorf("request %d: %w", lo+i, r.Err)
			}
		}
		return refused
	}
	lo := 0
	var refused error
	for ; lo < len(reqs); lo += chunk {
		if refused = write(lo, min(lo+chunk, len(reqs))); refused != nil {
			break
		}
	}
	if refused == nil {
		t.Fatalf("the disk never filled: %d events written to a 64 MiB tmpfs", acked)
	}
	var disk *eventstore.DiskError
	if !errors.As(refused, &disk) || !errors.Is(refused, eventstore.ErrNotRecorded) || !errors.Is(refused, eventstore.ErrDiskFull) {
		t.Fatalf("a write to a full disk failed with %v; want a DiskError, not recorded", refused)
	}
	if disk.Dir != data || disk.ReadOnly || disk.Free >= reserve || !strings.Contains(refused.Error(), "the disk of the data folder "+data+" is full") {
		t.Fatalf("the refusal says %q (%+v); want the data folder %s full, below the reserve", refused, disk, data)
	}
	t.Logf("refused after %d events: %v", acked, refused)
	// A refused write stays refused while the disk is full, and nothing of it is stored.
	if err := write(lo, min(lo+chunk, len(reqs))); !errors.Is(err, eventstore.ErrDiskFull) {
		t.Fatalf("a write retried on the full disk answered %v; want ErrDiskFull", err)
	}
	checkLedger(t, l, acked)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// The refused chunk again, with its keys, then the next: all recorded, none twice.
	for end := min(lo+2*chunk, len(reqs)); lo < end; lo += chunk {
		if err := write(lo, min(lo+chunk, end)); err != nil {
			t.Fatalf("after space was freed: %v", err)
		}
	}
	checkLedger(t, l, acked)
	l.Restart(t)
	checkLedger(t, l, acked)
}

// checkLedger checks that the stream holds exactly the events acknowledged (acked) and that every
// chain and sequence link verifies.
func checkLedger(t *testing.T, l *storetest.Ledger, acked uint64) {
	t.Helper()
	if n := l.Events(t); n != acked {
		t.Fatalf("the stream holds %d events; %d were acknowledged", n, acked)
	}
	in, err := l.Store.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !in.OK || in.Lost > 0 || in.Deleted > 0 {
		t.Fatalf("verification: %+v", in)
	}
}
