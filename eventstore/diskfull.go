package eventstore

import (
	"errors"
	"fmt"
	"syscall"
)

// DiskReserveDefault is the free space below which the ledger takes no write (Config.DiskReserve):
// more than a batch, a snapshot of the store's indexes and the archive's next chunks need, so that
// JetStream never meets a full disk. A file store that did would stop answering writes (it keeps
// its first write error until the server restarts), where the reserve answers each one at once.
const DiskReserveDefault = 256 << 20

// ErrDiskFull: the disk of the data folder has less free space than the reserve, or the folder's
// file system is read-only; the write was not sent (it wraps ErrNotRecorded too). Errors wrapping
// it are *DiskError, which names the folder.
var ErrDiskFull = errors.New("eventstore: the data folder's disk is full or read-only")

// DiskError says why the data folder cannot take a write now: its disk is full or read-only, or
// the embedded server could not write it (Fault) and takes no write until it restarts; or, with
// no Dir, that the NATS server answered its storage limit reached (Fault).
type DiskError struct {
	Dir      string
	ReadOnly bool
	Free     int64  // bytes free for the server's user
	Reserve  int64  // free bytes below which writes stop
	Fault    string // the embedded server's report of its write error (Embedded.WriteFault)
}

func (e *DiskError) Error() string {
	if e.Dir == "" {
		return fmt.Sprintf("the NATS server has no storage left for the stream (%s): free space on its disk or raise its max_file_store; writes resume then", e.Fault)
	}
	if e.Fault != "" {
		return fmt.Sprintf("the embedded nats-server could not write the data folder %s (%s) and takes no write until kuozheng serve is restarted: free space there (or make it writable), then restart it",
			e.Dir, e.Fault)
	}
	if e.ReadOnly {
		return fmt.Sprintf("the data folder %s is on a read-only file system; writes resume once it is writable again", e.Dir)
	}
	return fmt.Sprintf("the disk of the data folder %s is full: %d MiB free, and the ledger takes no write below %d MiB free; writes resume once space is freed there",
		e.Dir, e.Free>>20, e.Reserve>>20)
}

// Is makes a DiskError match ErrDiskFull.
func (e *DiskError) Is(target error) bool { return target == ErrDiskFull }

// stRdonly is ST_RDONLY of statfs(2)'s f_flags: the file system is mounted read-only.
const stRdonly = 0x1

// diskGuard refuses writes while the data folder's file system is read-only or has less than
// reserve bytes free, or while the server reports a write fault. It reads the file system before
// every batch (one statfs, about a microsecond), so writes resume as soon as space returns.
type diskGuard struct {
	dir     string // "": no file system to read
	reserve int64
	fault   func() error // nil: none to ask
}

// check answers why a write cannot be taken now, or nil. A folder that cannot be read says
// nothing: the write then meets the store's own answer.
func (g *diskGuard) check() error {
	if g == nil {
		return nil
	}
	if g.fault != nil {
		if err := g.fault(); err != nil {
			return err
		}
	}
	var st syscall.Statfs_t
	if g.dir == "" || syscall.Statfs(g.dir, &st) != nil {
		return nil
	}
	if st.Flags&stRdonly != 0 {
		return &DiskError{Dir: g.dir, ReadOnly: true}
	}
	free := int64(st.Bavail) * st.Bsize
	if free < g.reserve {
		return &DiskError{Dir: g.dir, Free: free, Reserve: g.reserve}
	}
	return nil
}

// diskSize is the size in bytes of the file system that holds dir, or 0 when it cannot be read.
func diskSize(dir string) int64 {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return 0
	}
	return int64(st.Blocks) * st.Bsize
}

// DiskCheck says whether the data folder can take a write now: nil, or a *DiskError (its disk is
// full or read-only, or the embedded server could not write it). It reads the file system once;
// a store without a data folder to watch answers nil.
func (s *Store) DiskCheck() error { return s.com.disk.check() }
