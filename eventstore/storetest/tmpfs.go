package storetest

import (
	"os/exec"
	"strings"
	"testing"
)

// MountTmpfs mounts a tmpfs of the given size (as mount(8) takes it: 64m) on a new folder and
// unmounts it when the test ends (cleanups registered after it, such as stopping a server on it,
// run first). It skips
// the test, saying why, where mounting is not allowed (not root, a container without the right).
func MountTmpfs(t testing.TB, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("a size-limited tmpfs is needed to fill a disk for real, and mount was refused (%v: %s); run as root where mount is allowed",
			err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// A nats-server that met a write error keeps some files open after its shutdown:
			// detach the mount now; its memory is freed when the test process exits.
			t.Logf("umount %s: %v: %s; unmounting lazily", dir, err, strings.TrimSpace(string(out)))
			if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
				t.Errorf("umount -l %s: %v: %s", dir, err, out)
			}
		}
	})
	return dir
}
