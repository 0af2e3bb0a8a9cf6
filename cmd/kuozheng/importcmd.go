package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kuozheng/kuozheng/api/importer"
)

func importCmd(args []string, stdout, stderr io.Writer) error {
	fs, sf, rm := command("import", "Usage: kuozheng import FILE.csv|FILE.xlsx [options]\n\nLoads registrations, surveys, enrollments, declarations, payments or contracts, one kind per\nfile, with Chinese or English column names. Valid rows go in; bad rows are reported with their\nrow, column, value and reason, and written to a rejects file that can be corrected and imported\nagain. Every row's key comes from its content and position: re-running, or resuming after a\ncrash, appends nothing twice.\n\nExit status: 0 when every row is in the ledger (imported or already there), 3 when some\nrows were rejected (the others are recorded), 1 on failure, 2 on bad usage.", stdout)
	kind := fs.String("kind", "", "kind of rows: "+strings.Join(importer.Kinds, ", ")+" (default: detected from the header)")
	encoding := fs.String("encoding", "", "encoding of a CSV file: utf-8 or gbk (default: detected)")
	rejects := fs.String("rejects", "", "where to write the rejected rows (default: beside the file, bad.csv → bad.rejects.csv)")
	today := fs.String("today", "", "business date after which rows are refused (default: today in Asia/Shanghai)")
	newLedger := fs.Bool("new-ledger", false, "make a new ledger in --data when the folder holds none (without it such a folder is refused: a mistyped --data would fill a stray ledger)")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if *newLedger && !flagSet(fs, "data") {
		return usageError{"--new-ledger makes a ledger in --data: give --data DIR"}
	}
	sf.existing = !*newLedger
	if err := localOnly(fs); err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"import needs exactly one FILE"}
	}
	path := pos[0]
	if *kind != "" && !slices.Contains(importer.Kinds, *kind) {
		return usageError{fmt.Sprintf("--kind %q: want one of %s", *kind, strings.Join(importer.Kinds, ", "))}
	}
	d, err := parseDateFlag("today", *today)
	if err != nil {
		return err
	}
	if d == 0 {
		d = todayInShanghai()
	}
	// The file is checked within the importer's limits here, also before an upload.
	t, done, err := openTable(path, *encoding)
	if errors.Is(err, importer.ErrUnknownEncoding) {
		return usageError{fmt.Sprintf("--encoding %q: want utf-8 or gbk (or leave it out: the encoding is detected)", *encoding)}
	}
	if err != nil {
		return err
	}
	defer done()
	// A --rejects given can be written, checked before any row is recorded; it never replaces
	// the file imported. The default, beside the file, is made only if rows are rejected: a
	// file on a read-only medium with none imports.
	rejectsPath := *rejects
	var rejectsOut *outFile
	if rejectsPath != "" {
		if sameFile(rejectsPath, path) {
			return usageError{fmt.Sprintf("--rejects %s is the file imported: give another file for its rejected rows", rejectsPath)}
		}
		if rejectsOut, err = prepareOut("rejects", rejectsPath, false); err != nil {
			return err
		}
		defer rejectsOut.discard()
	} else {
		rejectsPath = strings.TrimSuffix(path, filepath.Ext(path)) + ".rejects.csv"
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var rep *importer.Report
	rejected := 0 // rows rejected in all; rep lists them all but from a server that lists fewer
	if local(fs) {
		led, err := openLedger(ctx, *sf, newLogger(io.Discard))
		if errors.Is(err, errNoLedger) {
			return fmt.Errorf("%w; or, to start a ledger there from this file, give --new-ledger", err)
		}
		if err != nil {
			return err
		}
		defer led.close()
		rep, err = importer.Import(ctx, led.store, t, importer.Options{Kind: *kind, Actor: "import:" + filepath.Base(path), Today: d,
			Progress: progressPrinter(stderr)})
		if err != nil {
			if rep != nil && ctx.Err() != nil {
				fmt.Fprintf(stderr, "\ninterrupted after %d rows imported; run the same command again to resume\n", rep.Imported)
			}
			return err
		}
		rejected = len(rep.Rejected)
	} else {
		// A server taking the most imports it takes at once asks to be asked again: the file is
		// sent again after the time it gives, for a while, saying so.
		size := ""
		if st, err := os.Stat(path); err == nil {
			size = fmt.Sprintf(" (%d KB)", (st.Size()+1023)/1024)
		}
		fmt.Fprintf(stderr, "import: sending %s%s to %s; the server answers once every row has its outcome\n", path, size, rm.server)
		for waited := time.Duration(0); ; {
			stopSaying := sayWaiting(stderr, "no answer from the server yet, after")
			rep, rejected, err = uploadImport(ctx, *rm, path, *kind, *encoding)
			stopSaying()
			var busy *busyError
			if !errors.As(err, &busy) || waited >= importBusyFor {
				break
			}
			d := min(busy.after(), importBusyFor-waited)
			if importRetryWait != 0 {
				d = importRetryWait
			}
			fmt.Fprintf(stderr, "%v; sending it again in %v\n", err, d)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
			waited += d
		}
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("interrupted while the server imported the file: the rows it recorded stay; run the same command again to import the rest (no row is recorded twice)")
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s: %s (%s, %s): %d imported, %d already there, %d rejected, in %.1f s (%.0f rows/s)\n",
		path, rowCount(rep.Rows), rep.Kind, rep.Encoding, rep.Imported, rep.Duplicates, rejected, rep.Seconds, float64(rep.Rows)/max(rep.Seconds, 1e-9))
	if len(rep.Ignored) > 0 {
		fmt.Fprintf(stdout, "columns left aside, no field of a %s file: %s\n", rep.Kind, strings.Join(rep.Ignored, ", "))
	}
	for i, r := range rep.Rejected {
		if i == 20 {
			fmt.Fprintf(stdout, "… and %d more in the rejects file\n", len(rep.Rejected)-20)
			break
		}
		fmt.Fprintf(stdout, "row %d, column %s, value %q: %s\n", r.Row, r.Column, r.Value, r.Reason)
	}
	if len(rep.Rejected) > 0 {
		out := rejectsPath
		again, doneAgain, err := openTable(path, *encoding)
		if err != nil {
			return err
		}
		defer doneAgain()
		if rejectsOut == nil {
			if rejectsOut, err = prepareOut("rejects", out, false); err != nil {
				return fmt.Errorf("%w: the rows imported stay recorded; give --rejects FILE in a folder you may write in and run the same command again (no row is recorded twice, and the rejected rows are written there)", err)
			}
			defer rejectsOut.discard()
		}
		if err := importer.WriteRejects(rejectsOut, again, rep.Rejected); err != nil {
			return err
		}
		if err := rejectsOut.commit(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rejected rows written to %s: correct them and import that file\n", out)
		if missing := rejected - len(rep.Rejected); missing > 0 {
			fmt.Fprintf(stdout, "the server listed %d of the %d rows it rejected: the other %d are not in %s; once these are corrected, importing the whole file again lists them (it appends nothing twice)\n",
				len(rep.Rejected), rejected, missing, out)
		}
		return rowsRejected{n: rejected, file: out}
	}
	// A rejects file an earlier run left beside the file would be taken for this run's.
	if *rejects == "" {
		if _, err := os.Stat(rejectsPath); err == nil {
			fmt.Fprintf(stdout, "no row rejected this time: %s is an earlier run's\n", rejectsPath)
		}
	}
	return nil
}

// rowsRejected: an import ran and recorded its valid rows, but refused some (exit status 3, so
// that a script can tell it from a clean import and from one that failed).
type rowsRejected struct {
	n    int
	file string
}

func (e rowsRejected) Error() string {
	return fmt.Sprintf("%s rejected: correct them in %s and import that file", rowCount(e.n), e.file)
}

// rowCount says n rows, or 1 row.
func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// openTable opens a file to import, read as a stream; done closes the table and the file.
func openTable(path, encoding string) (t *importer.Table, done func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if t, err = importer.Open(f, path, encoding); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, func() { t.Close(); f.Close() }, nil
}

// terminal reports whether w is a terminal, where a line of progress may be drawn over itself;
// elsewhere (a log file, a pipe) control characters would only clutter it.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressPrinter draws a progress bar on a terminal, or prints a line every few seconds.
func progressPrinter(w io.Writer) func(done, total int, elapsed time.Duration) {
	tty := terminal(w)
	var last time.Time
	return func(done, total int, elapsed time.Duration) {
		rate := float64(done) / max(elapsed.Seconds(), 1e-9)
		eta := time.Duration(float64(total-done)/max(rate, 1e-9)) * time.Second
		if tty {
			const width = 30
			filled := width * done / max(total, 1)
			fmt.Fprintf(w, "\r[%s%s] %d/%d rows, %.0f rows/s, ETA %v   ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, rate, eta.Round(time.Second))
			if done == total {
				fmt.Fprintln(w)
			}
			return
		}
		if time.Since(last) > 2*time.Second || done == total {
			last = time.Now()
			fmt.Fprintf(w, "import: %d/%d rows (%d%%), %.0f rows/s, ETA %v\n", done, total, done*100/max(total, 1), rate, eta.Round(time.Second))
		}
	}
}

// importBusyFor is how long an import waits for a server busy with others; importRetryWait,
// when set (tests), replaces the server's Retry-After.
var (
	importBusyFor   = 10 * time.Minute
	importRetryWait time.Duration
)

// importWaitEvery is how often an import sent to a server says it is still waiting for the
// server's answer: the server tells no progress of its own, and a large file takes a while.
var importWaitEvery = 5 * time.Second

// sayWaiting writes to w, every importWaitEvery until stop is called, what is waited for and for
// how long; stop returns once nothing more is written.
func sayWaiting(w io.Writer, what string) (stop func()) {
	start := time.Now()
	tick := time.NewTicker(importWaitEvery)
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				fmt.Fprintf(w, "import: %s %v\n", what, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() {
		tick.Stop()
		close(quit)
		<-finished
	}
}

// uploadImport sends the file to a server's POST /v1/imports and returns its report and how
// many rows it rejected in all (a server that does not know rejects=all lists fewer).
func uploadImport(ctx context.Context, rm remote, path, kind, encoding string) (*importer.Report, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		return nil, 0, err
	}
	if _, err := io.Copy(fw, f); err != nil {
		return nil, 0, err
	}
	_ = mw.WriteField("kind", kind)
	_ = mw.WriteField("encoding", encoding)
	if err := mw.Close(); err != nil {
		return nil, 0, err
	}
	// Every rejected row, not the first 1,000 an answer lists by default: each goes to the
	// rejects file.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(rm.server, "/")+"/v1/imports?rejects=all", &body)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var ans struct {
		importer.Report
		RejectedTotal int `json:"rejected_total"`
	}
	if err := rm.do(req, &ans); err != nil {
		return nil, 0, err
	}
	return &ans.Report, ans.RejectedTotal, nil
}

// sameFile reports whether a and b name one file (b existing; a may not).
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
