package storetest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// networkLock is the file, in os.TempDir(), whose lock tests that change the machine's network
// hold exclusively and tests that a change would break hold shared.
const networkLock = "kuozheng-netcut.lock"

// HoldNetwork holds the machine-wide network lock until t ends: exclusively for a test that
// adds and removes interfaces in the root namespace (cutting NATS nodes' links), which then runs
// alone per machine; shared for one that a change would break (Chromium aborts its requests in
// flight with ERR_NETWORK_CHANGED when an interface comes or goes, in whatever package's test
// binary runs beside it). It blocks until the lock is free.
func HoldNetwork(t testing.TB, exclusive bool) {
	t.Helper()
	// Read-only and readable by all: a lock file root made is another user's to lock too.
	// Opened before it is made: O_CREATE on another user's file in a sticky folder such as
	// /tmp is refused where fs.protected_regular is set.
	path := filepath.Join(os.TempDir(), networkLock)
	lock, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		lock, err = os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
	}
	if err != nil && !exclusive {
		t.Logf("runs without the network lock (%v): a test changing the network beside it may break it", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(lock.Fd()), how); err != nil {
		_ = lock.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lock.Close() }) // releases the lock
}
