package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/signal"
	"syscall"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

const documentsUsage = `Usage:
  kuozheng documents notice  --data DIR --employer ID --issued-on YYYY-MM-DD --deadline YYYY-MM-DD [--out FILE.pdf]
  kuozheng documents notices --data DIR --county CODE --issued-on YYYY-MM-DD --deadline YYYY-MM-DD --overdue-days N [--out FILE.zip]

Issues arrears notices on a data folder that no server holds, as the API does (POST
/v1/employers/{id}/notices and POST /v1/counties/{code}/notices): numbered, recorded with their
SHA-256, and written to --out, a file that must not exist yet (default: standard output, if
not a terminal). Run 'kuozheng documents notice --help'
for a command's options.`

// documentsCmd is 'kuozheng documents notice|notices'.
func documentsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"documents needs a command: notice or notices\n" + documentsUsage}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, documentsUsage)
		return errHelp
	case "notice":
		return noticeCmd(args[1:], stdout, stderr)
	case "notices":
		return noticesCmd(args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown documents command %q: want notice or notices", args[0])}
}

// documentFlags are the options both documents commands take.
type documentFlags struct {
	fs                      *flag.FlagSet
	sf                      storeFlags
	lf                      logFlags
	issuedOn, deadline, out string
	idempotencyKey, today   string
}

func newDocumentFlags(name, help string, stdout io.Writer) *documentFlags {
	f := &documentFlags{fs: flag.NewFlagSet("documents "+name, flag.ContinueOnError)}
	f.sf.register(f.fs)
	f.sf.existing = true
	f.lf.register(f.fs)
	f.fs.StringVar(&f.issuedOn, "issued-on", "", "the issue date (required)")
	f.fs.StringVar(&f.deadline, "deadline", "", "the date to pay by, after --issued-on (required)")
	f.fs.StringVar(&f.out, "out", "", "file to write, which must not exist yet, checked before any notice is issued (default: standard output, unless a terminal)")
	f.fs.StringVar(&f.idempotencyKey, "idempotency-key", "", "a retry with the same key answers what the key first issued instead of issuing again (default: a key made of the command's employer or county, dates and days, so the same command run again answers the same notices)")
	f.fs.StringVar(&f.today, "today", "", "business date after which --issued-on is refused (default: today in Asia/Shanghai)")
	f.fs.Usage = func() {
		fmt.Fprintln(stdout, help+"\n\nOptions:")
		f.fs.PrintDefaults()
	}
	return f
}

// parse parses args and checks the dates; required names the command's own flags that must be
// given, with their values once parsed.
func (f *documentFlags) parse(args []string, stdout io.Writer, required ...func() (string, bool)) error {
	pos, err := parse(f.fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("%s takes no arguments, got %q", f.fs.Name(), pos)}
	}
	for _, r := range required {
		if name, ok := r(); !ok {
			return usageError{"--" + name + " is required"}
		}
	}
	if f.issuedOn == "" {
		return usageError{"--issued-on is required"}
	}
	if f.deadline == "" {
		return usageError{"--deadline is required"}
	}
	if _, err := parseDateFlag("issued-on", f.issuedOn); err != nil {
		return err
	}
	if _, err := parseDateFlag("deadline", f.deadline); err != nil {
		return err
	}
	_, err = parseDateFlag("today", f.today)
	return err
}

func noticeCmd(args []string, stdout, stderr io.Writer) error {
	f := newDocumentFlags("notice", "Usage: kuozheng documents notice --data DIR --employer ID --issued-on YYYY-MM-DD --deadline YYYY-MM-DD [--out FILE.pdf]\n\nIssues an employer's arrears notice (责令限期缴纳通知书) as POST /v1/employers/{id}/notices does\nand writes its PDF.", stdout)
	employer := f.fs.String("employer", "", "the employer's id (required)")
	if err := f.parse(args, stdout, func() (string, bool) { return "employer", *employer != "" }); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"issued_on": f.issuedOn, "deadline": f.deadline})
	return f.issue(stdout, stderr, "/v1/employers/"+url.PathEscape(*employer)+"/notices", body)
}

func noticesCmd(args []string, stdout, stderr io.Writer) error {
	f := newDocumentFlags("notices", "Usage: kuozheng documents notices --data DIR --county CODE --issued-on YYYY-MM-DD --deadline YYYY-MM-DD --overdue-days N [--out FILE.zip]\n\nIssues the arrears notices of every employer of the county with principal overdue more than N\ndays on --issued-on, as POST /v1/counties/{code}/notices does, and writes the zip of the PDFs\nand manifest.csv. Progress goes to standard error every 100 notices.", stdout)
	county := f.fs.String("county", "", "the county's code, e.g. 360702 (required)")
	overdue := f.fs.Int64("overdue-days", 0, "days past its due date a principal must be overdue, 0 or more (required)")
	if err := f.parse(args, stdout, func() (string, bool) { return "county", *county != "" },
		func() (string, bool) { return "overdue-days", flagSet(f.fs, "overdue-days") }); err != nil {
		return err
	}
	if *overdue < 0 {
		return usageError{fmt.Sprintf("--overdue-days: %d is not 0 or more", *overdue)}
	}
	body, _ := json.Marshal(map[string]any{"issued_on": f.issuedOn, "deadline": f.deadline, "overdue_days": *overdue})
	return f.issue(stdout, stderr, "/v1/counties/"+url.PathEscape(*county)+"/notices", body)
}

// key is --idempotency-key, or else one the command's own request makes: the same command run
// again (after Ctrl-C cut a batch, or its --out was lost) answers the notices the first run
// issued, and issues the rest of a batch, rather than being refused as issued already.
func (f *documentFlags) key(path string, body []byte) string {
	if f.idempotencyKey != "" {
		return f.idempotencyKey
	}
	sum := sha256.Sum256(append([]byte(path+"\n"), body...))
	return "kuozheng-documents-" + hex.EncodeToString(sum[:16])
}

// issue opens the ledger, runs its views, and posts body to path through the API's handler (as
// an admin, the server's principal without tokens), writing the answer to --out or stdout; the
// API's log, with the batch's progress, goes to stderr.
func (f *documentFlags) issue(stdout, stderr io.Writer, path string, body []byte) error {
	log, err := f.lf.logger(stderr)
	if err != nil {
		return err
	}
	// Where the documents go is checked before any is issued: a notice is issued once (one a
	// day), and its PDF not handed over would be issued with no copy to send.
	var out *outFile
	if f.out != "" {
		if out, err = prepareOut("out", f.out, true); err != nil {
			return err
		}
		defer out.discard()
	} else if terminal(stdout) {
		return usageError{"standard output is a terminal, not a place for a PDF or a zip: give --out FILE (or redirect it)"}
	}
	// Ctrl-C ends the command through its deferred work (the unwritten --out removed); the same
	// command run again answers what was issued and issues the rest (its key).
	sig, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(sig)
	defer cancel()
	led, err := openLedger(ctx, f.sf, newLogger(io.Discard))
	if err != nil {
		return err
	}
	defer led.close()
	runner := projections.NewRunner(led.store, projections.RunnerConfig{NoSnapshots: true})
	if err := runner.Start(ctx); err != nil {
		return err
	}
	defer runner.Wait()
	defer cancel()
	fmt.Fprintln(stderr, "replaying the ledger for the views…")
	if err := runner.WaitSeq(ctx, led.store.Applied()); err != nil {
		return err
	}
	today := todayInShanghai()
	if f.today != "" {
		today, _ = domain.ParseDate(f.today)
	}
	h := api.New(api.Config{Store: led.store, Runner: runner, Log: log, Today: func() domain.Date { return today }})
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(body))
	req.Host, req.RemoteAddr = "localhost", "127.0.0.1:0" // a loopback request, as the server without tokens takes
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", f.key(path, body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 300 && sig.Err() != nil {
		return fmt.Errorf("interrupted: the notices issued so far stay recorded; run the same command again to have them and the rest")
	}
	if rec.Code >= 300 {
		var e struct {
			Error  string `json:"error"`
			Field  string `json:"field"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Detail == "" {
			return fmt.Errorf("%s: %d %s", path, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
		}
		if e.Field != "" {
			return fmt.Errorf("%s: %s", e.Field, e.Detail)
		}
		return fmt.Errorf("%s", e.Detail)
	}
	if n := rec.Header().Get("X-Notice-Count"); n != "" {
		fmt.Fprintf(stderr, "%s notices issued\n", n)
	} else if n, err := url.PathUnescape(rec.Header().Get("X-Document-Number")); err == nil && n != "" {
		fmt.Fprintf(stderr, "notice %s issued\n", n)
	}
	if out == nil {
		_, err = stdout.Write(rec.Body.Bytes())
		return err
	}
	if _, err := out.Write(rec.Body.Bytes()); err != nil {
		return err
	}
	return out.commit()
}
