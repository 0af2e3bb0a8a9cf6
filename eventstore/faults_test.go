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
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// writeFiller writes a file of n bytes, to be deleted when the test frees space.
func writeFiller(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, n), 0o600); err != nil {
		t.Fatal(err)
	}
}

// demoWrites is the demo's steps as store requests, each with an idempotency key, and what each
// answered last: the events of those acknowledged.
type demoWrites struct {
	t      *testing.T
	l      *storetest.Ledger
	reqs   []eventstore.Request
	events map[int]int // request → events, for each request acknowledged
	base   uint64      // events in the stream before the first request
}

func newDemoWrites(t *testing.T, l *storetest.Ledger, employers int) *demoWrites {
	steps := demo.Generate(demo.Config{Employers: employers, Seed: 2006})
	w := &demoWrites{t: t, l: l, events: map[int]int{}, base: l.Events(t)}
	for i, s := range steps {
		w.reqs = append(w.reqs, eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: demo.Today,
			Actor: "faults", IdempotencyKey: fmt.Sprintf("fill-%d", i), BodyHash: fmt.Sprint(i)})
	}
	return w
}

// write executes requests lo to hi (as far as there are) and returns the first refusal.
func (w *demoWrites) write(lo, hi int) error {
	var refused error
	for i, r := range w.l.Store.ExecuteBulk(context.Background(), w.reqs[lo:min(hi, len(w.reqs))]) {
		switch {
		case r.Err == nil:
			w.events[lo+i] = len(r.EventIDs) // a duplicate names the events of the first answer
		case refused == nil:
			refused = fmt.Errorf("request %d: %w", lo+i, r.Err)
		}
	}
	return refused
}

// writeUntilRefused writes the requests chunk at a time until a chunk is refused, and returns
// where that chunk begins and why (nil: every request was written).
func (w *demoWrites) writeUntilRefused(chunk int) (int, error) {
	for lo := 0; lo < len(w.reqs); lo += chunk {
		if err := w.write(lo, lo+chunk); err != nil {
			return lo, err
		}
	}
	return len(w.reqs), nil
}

// check checks that the stream holds exactly the events acknowledged and that every chain and
// sequence link verifies.
func (w *demoWrites) check() {
	w.t.Helper()
	want := w.base
	for _, n := range w.events {
		want += uint64(n)
	}
	if n := w.l.Events(w.t); n != want {
		w.t.Fatalf("the stream holds %d events; %d were acknowledged", n, want)
	}
	in, err := w.l.Store.Verify(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	if !in.OK || in.Lost > 0 || in.Deleted > 0 {
		w.t.Fatalf("verification: %+v", in)
	}
}

// The data folder of an embedded server and its store is a 64 MiB tmpfs, an eighth of it taken by
// a filler file: the ledger takes the demo's writes until its disk has less than the reserve
// free, then refuses each with a DiskError that names the folder and is not recorded, so an API
// answers 503. Every acknowledged write is in the stream, once, chains verify, and once the
// filler is deleted the refused writes, retried with their keys, are recorded, and the ledger
// writes on; a restart finds all of it.
func TestAFullDiskRefusesWritesAsNotRecordedLosesNothingAndWritesResumeWhenSpaceReturns(t *testing.T) {
	mnt := storetest.MountTmpfs(t, "64m")
	filler := filepath.Join(mnt, "filler")
	writeFiller(t, filler, 8<<20)
	data := filepath.Join(mnt, "data")
	const reserve = 16 << 20
	l := &storetest.Ledger{Dir: data, Config: eventstore.Config{Dir: filepath.Join(data, "store"), DiskDir: data, DiskReserve: reserve}}
	l.Restart(t)
	t.Cleanup(l.Stop)
	w := newDemoWrites(t, l, 5000)

	const chunk = 500
	lo, refused := w.writeUntilRefused(chunk)
	if refused == nil {
		t.Fatalf("the disk never filled: %d requests written to a 64 MiB tmpfs", len(w.events))
	}
	var disk *eventstore.DiskError
	if !errors.As(refused, &disk) || !errors.Is(refused, eventstore.ErrNotRecorded) || !errors.Is(refused, eventstore.ErrDiskFull) {
		t.Fatalf("a write to a full disk failed with %v; want a DiskError, not recorded", refused)
	}
	if disk.Dir != data || disk.ReadOnly || disk.Free >= reserve || !strings.Contains(refused.Error(), "the disk of the data folder "+data+" is full") {
		t.Fatalf("the refusal says %q (%+v); want the data folder %s full, below the reserve", refused, disk, data)
	}
	t.Logf("refused after %d requests: %v", len(w.events), refused)
	// A refused write stays refused while the disk is full, and nothing of it is stored.
	if err := w.write(lo, lo+chunk); !errors.Is(err, eventstore.ErrDiskFull) {
		t.Fatalf("a write retried on the full disk answered %v; want ErrDiskFull", err)
	}
	w.check()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// The refused chunk again, with its keys, then the next: all recorded, none twice.
	for end := lo + 2*chunk; lo < end; lo += chunk {
		if err := w.write(lo, lo+chunk); err != nil {
			t.Fatalf("after space was freed: %v", err)
		}
	}
	w.check()
	l.Restart(t)
	w.check()
}

// Past the reserve (here none), the embedded server's own file store meets the full disk: it
// stores nothing, answers nothing (the writes in flight are of unknown outcome) and takes no
// write until it restarts, even once space is freed. The ledger hears its report and refuses
// writes at once, not recorded, saying the server must be restarted; after a restart the
// writes of unknown outcome, retried with their keys, are recorded once, and nothing
// acknowledged is lost.
func TestAWriteErrorOfTheEmbeddedServerRefusesWritesUntilItRestarts(t *testing.T) {
	mnt := storetest.MountTmpfs(t, "48m")
	filler := filepath.Join(mnt, "filler")
	writeFiller(t, filler, 24<<20) // room enough, once deleted, for the store's snapshot at shutdown too
	data := filepath.Join(mnt, "data")
	l := &storetest.Ledger{Dir: data}
	l.Config = eventstore.Config{Dir: filepath.Join(data, "store"), Timeout: 2 * time.Second,
		WriteFault: func() error { return l.Embedded.WriteFault() }}
	l.Restart(t)
	t.Cleanup(l.Stop)
	w := newDemoWrites(t, l, 3000)

	const chunk = 500
	lo, err := w.writeUntilRefused(chunk)
	if err == nil {
		t.Fatalf("the disk never filled: %d requests written to a 48 MiB tmpfs", len(w.events))
	}
	// One write at a time now, each retried until it is recorded, until the server says it
	// cannot write: a batch may fail in the server's staging first (not recorded), and the
	// write that meets the full disk has no answer (outcome unknown).
	first := lo
	var disk *eventstore.DiskError
	storetest.CheckFor(t, 2*time.Minute, time.Millisecond, func() error {
		for ; lo < len(w.reqs); lo++ {
			err = w.write(lo, lo+1)
			if errors.As(err, &disk) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		return errors.New("all written")
	})
	if !errors.Is(err, eventstore.ErrNotRecorded) || !strings.Contains(disk.Fault, "no space left on device") || disk.Dir != data ||
		!strings.Contains(err.Error(), "takes no write until kuozheng serve is restarted") {
		t.Fatalf("the server's write error is answered %v; want a DiskError naming %s and its fault, not recorded", err, data)
	}
	t.Logf("refused after %d requests: %v", len(w.events), err)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// A request never sent: one sent before may have been stored by a batch whose answer was
	// lost, and a retry of it answers that first outcome without sending anything.
	fresh := first + 2*chunk
	if err := w.write(fresh, fresh+1); !errors.As(err, &disk) || disk.Fault == "" {
		t.Fatalf("with space freed, before the restart, a new write answered %v; want the server's write fault", err)
	}
	l.Restart(t)
	for lo = first; lo < first+2*chunk; lo += chunk {
		if err := w.write(lo, lo+chunk); err != nil {
			t.Fatalf("after the restart: %v", err)
		}
	}
	w.check()
}

// remount remounts a tmpfs read-only or writable again.
func remount(t *testing.T, dir, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("mount -o remount,%s %s: %v: %s", mode, dir, err, out)
	}
}

// A data folder whose file system turns read-only refuses writes at once, not recorded, saying
// so, and writes go on once it is writable again. Linux refuses to remount a file system
// read-only while a file on it is open for writing (EBUSY), as nats-server's files are, so the
// guarded folder here is a tmpfs of its own beside the stream's folder: the same check (statfs)
// on a real read-only file system.
func TestAReadOnlyDataFolderRefusesWritesAsNotRecordedAndWritesResumeWhenWritable(t *testing.T) {
	mnt := storetest.MountTmpfs(t, "8m")
	l := storetest.Start(t, eventstore.Config{DiskDir: mnt, DiskReserve: 1 << 20})
	w := newDemoWrites(t, l, 20)
	if err := w.write(0, 1); err != nil {
		t.Fatal(err)
	}
	remount(t, mnt, "ro")
	err := w.write(1, 2)
	var disk *eventstore.DiskError
	if !errors.As(err, &disk) || !disk.ReadOnly || disk.Dir != mnt || !errors.Is(err, eventstore.ErrNotRecorded) ||
		!strings.Contains(err.Error(), "the data folder "+mnt+" is on a read-only file system") {
		t.Fatalf("a write to a read-only data folder answered %v; want a DiskError saying it is read-only, not recorded", err)
	}
	// A probe of the store's health says so too, before a write is tried.
	if err := l.Store.Health(context.Background()); !errors.Is(err, eventstore.ErrUnhealthy) || !errors.As(err, &disk) || !disk.ReadOnly {
		t.Fatalf("Health on a read-only data folder: %v; want ErrUnhealthy with the DiskError", err)
	}
	w.check()
	remount(t, mnt, "rw")
	if err := l.Store.Health(context.Background()); err != nil {
		t.Fatalf("Health once the folder is writable again: %v", err)
	}
	if err := w.write(1, 20); err != nil {
		t.Fatalf("once the folder is writable again: %v", err)
	}
	w.check()
}

// A NATS server whose storage limit (max_file_store) is reached answers a write "insufficient
// resources": the store refuses it as not recorded, with a DiskError that says the server has no
// storage left and what to do. An atomic batch that meets the limit may go unanswered (stored
// or not: outcome unknown); retried with their keys, its writes answer which. Nothing
// acknowledged is lost, and nothing is stored but what was acknowledged.
func TestAServerOutOfStorageRefusesWritesAsNotRecordedSayingWhy(t *testing.T) {
	ns, err := server.NewServer(&server.Options{ServerName: "faults", JetStream: true, StoreDir: t.TempDir(), DontListen: true,
		NoSigs: true, NoLog: true, JetStreamMaxStore: 4 << 20, JetStreamMaxMemory: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	st, err := eventstore.Open(context.Background(), nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	w := newDemoWrites(t, &storetest.Ledger{Store: st}, 1000)
	const chunk = 200
	lo := 0
	for ; lo < len(w.reqs); lo += chunk {
		if err := w.write(lo, lo+chunk); err != nil {
			// An atomic batch that meets the limit may go unanswered (stored or not).
			t.Logf("a batch at the limit: %v", err)
			break
		}
	}
	// That batch's requests one at a time, each with its key: one of unknown outcome that was
	// stored answers its first result; one that was not is refused.
	var refused error
	for end := min(lo+chunk, len(w.reqs)); lo < end; lo++ {
		if err := w.write(lo, lo+1); err != nil && refused == nil {
			refused = err
		}
	}
	var disk *eventstore.DiskError
	if !errors.As(refused, &disk) || !errors.Is(refused, eventstore.ErrNotRecorded) ||
		!strings.Contains(refused.Error(), "the NATS server has no storage left for the stream (jetstream: insufficient resources") {
		t.Fatalf("writes beyond the server's storage limit answered %v; want a DiskError saying it has no storage left, not recorded", refused)
	}
	w.check()
}
