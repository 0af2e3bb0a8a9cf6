package main

import (
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
	path string
	tmp  *os.File
}

// prepareOut makes path ready to be written, the value of --flag: a temporary file beside it,
// put in its place by commit. fresh refuses a path that exists, which may hold what an earlier
// run wrote and could not write again (notices issued once).
func prepareOut(flag, path string, fresh bool) (*outFile, error) {
	if fresh {
		if _, err := os.Lstat(path); err == nil {
			return nil, fmt.Errorf("--%s %s exists: give a file that does not (it may hold what an earlier run wrote)", flag, path)
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("--%s %s cannot be written: folder %s: %v", flag, path, dir, err)
	}
	return &outFile{path: path, tmp: tmp}, nil
}

// Write writes to the file being made.
func (o *outFile) Write(b []byte) (int, error) { return o.tmp.Write(b) }

// commit puts the file written in its place.
func (o *outFile) commit() error {
	err := o.tmp.Chmod(0o644) // as a file the user made, not a temporary one
	if err == nil {
		err = o.tmp.Sync()
	}
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
	if o.tmp.Close() == nil {
		os.Remove(o.tmp.Name())
	}
}
