package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// outFile is a file a command writes once its work is done, made ready before the work begins:
// a path that cannot be written fails the command before anything is recorded, and a run cut
// short leaves no half-written file in its place.
type outFile struct {
	path string   // the file put in place by commit
	tmp  *os.File // the file written: a temporary one beside path, or path itself (direct)
	// direct: path is a link or no regular file (/dev/null, /dev/stdout, a pipe), written as it is.
	direct bool
}

// prepareOut makes path ready to be written, the value of --flag: a temporary file beside it,
// put in its place by commit, made as os.Create makes a file (the umask applies, an existing
// file's mode is kept). fresh refuses a regular file that exists, which may hold what an earlier
// run wrote and could not write again (notices issued once). A path that is a symbolic link, or
// no regular file (/dev/null, /dev/stdout, a pipe), is written as it is, through the link as the
// system resolves it: never replaced.
func prepareOut(flag, path string, fresh bool) (*outFile, error) {
	mode := os.FileMode(0o666)
	if st, err := os.Lstat(path); err == nil {
		if st.Mode()&os.ModeSymlink != 0 || !st.Mode().IsRegular() {
			flags := os.O_WRONLY | os.O_CREATE
			if target, err := os.Stat(path); err == nil && target.Mode().IsRegular() {
				flags |= os.O_TRUNC
			}
			f, err := os.OpenFile(path, flags, 0o666)
			if err != nil {
				return nil, fmt.Errorf("--%s %s cannot be written: %v", flag, path, unwrapPath(err))
			}
			return &outFile{path: path, tmp: f, direct: true}, nil
		}
		if fresh {
			return nil, fmt.Errorf("--%s %s exists: give a file that does not (it may hold what an earlier run wrote)", flag, path)
		}
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp, err := os.OpenFile(filepath.Join(dir, "."+filepath.Base(path)+"."+hex.EncodeToString(rnd[:])+".tmp"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, fmt.Errorf("--%s %s cannot be written: folder %s: %v", flag, path, dir, unwrapPath(err))
	}
	if mode != 0o666 {
		_ = tmp.Chmod(mode) // the file it replaces keeps its mode, as os.Create keeps it
	}
	return &outFile{path: path, tmp: tmp}, nil
}

// unwrapPath is err without the path an *fs.PathError names (the message names the flag's).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Write writes to the file being made.
func (o *outFile) Write(b []byte) (int, error) { return o.tmp.Write(b) }

// commit puts the file written in its place.
func (o *outFile) commit() error {
	if o.direct {
		return o.tmp.Close()
	}
	err := o.tmp.Sync()
	if cerr := o.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.tmp.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.tmp.Name())
		return fmt.Errorf("writing %s: %w", o.path, err)
	}
	return nil
}

// discard removes the file being made, if it was not committed.
func (o *outFile) discard() {
	if o.tmp.Close() == nil && !o.direct {
		os.Remove(o.tmp.Name())
	}
}
