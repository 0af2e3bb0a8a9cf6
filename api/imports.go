package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// MaxImport is the largest file POST /v1/imports accepts.
const MaxImport = 64 << 20

// formRoom is what a multipart form may hold besides its file: the boundaries, each part's
// headers, kind and encoding. A file of MaxImport bytes is taken.
const formRoom = 64 << 10

// MaxUploadsAtOnce is how many imports a server takes at once, each from its upload's first byte
// to its answer; one more is answered 503 at once, before its file is sent. An upload holds up
// to 8 MiB of its file in memory (the rest waits on disk).
//
// MaxImportsAtOnce of them are read and imported at once: an import holds its file (an xlsx
// whole in memory) and three batches of rows, and on two cores more at once are not faster.
// The others, their files arrived, wait their turn, so that slow uploads hold no import's turn.
//
// MaxUploadsEach of them at most are one principal's: a client that sends a file again while
// its first upload still arrives (a retry on a slow link) holds its own turns, not every clerk's.
const (
	MaxUploadsAtOnce = 8
	MaxImportsAtOnce = 2
	MaxUploadsEach   = 2
)

func (s *Server) importRoutes() {
	s.mux.HandleFunc("POST /v1/imports", s.auth(s.importFile))
}

// importFile loads a spreadsheet sent as multipart form data (file, kind, encoding) and answers
// the same report the command line prints.
func (s *Server) importFile(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.Role != RoleClerk && p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not import: clerks only", p.Name, p.Role))
		return
	}
	all := false
	switch v := r.URL.Query().Get("rejects"); v {
	case "":
	case "all":
		all = true
	default:
		writeError(w, domain.Invalid("rejects", "must be all (every rejected row listed) or left out (the first %d), not %q", MaxRejectsListed, v))
		return
	}
	if !s.uploading.take(p, MaxUploadsEach) {
		w.Header().Set("Retry-After", "30")
		writeError(w, &domain.Error{Kind: domain.KindUnavailable, Field: "file",
			Detail: fmt.Sprintf("%s is sending %d files already, the most one may at once; nothing of this file was read or recorded: send it again when one has ended", p.Name, MaxUploadsEach)})
		return
	}
	defer s.uploading.put(p)
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	default:
		w.Header().Set("Retry-After", "30")
		writeError(w, &domain.Error{Kind: domain.KindUnavailable, Field: "file",
			Detail: fmt.Sprintf("this server is taking %d imports, the most it takes at once; nothing of this file was read or recorded: send it again when one has ended", MaxUploadsAtOnce)})
		return
	}
	// The server's timeouts bound what any client holds before it is known; a clerk's upload,
	// and then its import, are given time by their size.
	allowed := uploadTime(r.ContentLength)
	allowTime(w, allowed)
	r.Body = http.MaxBytesReader(w, newPaced(w, r.Body, allowed), MaxImport+formRoom)
	tooLarge := &domain.Error{Kind: domain.KindTooLarge, Field: "file", Detail: "the file is over the limit of " + importer.Size(MaxImport)}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, tooLarge)
			return
		}
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
			// The error names the sockets; the client needs only to know the upload did not arrive.
			writeError(w, domain.Invalid("file", "the upload did not arrive whole: the client sent it too slowly or closed the connection"))
			return
		}
		writeError(w, domain.Invalid("file", "a multipart form with a file is required: %v", err))
		return
	}
	defer r.MultipartForm.RemoveAll()
	if err := oneOfEachPart(r); err != nil {
		writeError(w, err)
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		writeError(w, domain.Invalid("file", "is required (a .csv or .xlsx file)"))
		return
	}
	defer f.Close()
	if hdr.Size > MaxImport {
		writeError(w, tooLarge)
		return
	}
	// The file has arrived: it waits for its turn to be read and imported, given the time the
	// largest import takes meanwhile.
	allowTime(w, importTime(importer.MaxRows)+importAnswerTime)
	select {
	case s.imports <- struct{}{}:
		defer func() { <-s.imports }()
	case <-r.Context().Done():
		writeError(w, &domain.Error{Kind: domain.KindUnavailable, Field: "file", Detail: "the request ended while the file waited for its turn; nothing of it was recorded"})
		return
	}
	t, err := importer.Open(f, hdr.Filename, r.FormValue("encoding"))
	if err != nil {
		writeImportError(w, err)
		return
	}
	defer t.Close()
	// The import's own time ends before the connection's, so that an import cut at its time is
	// answered (the connection's deadline passing cancels the request, and its answer with it).
	allowTime(w, importTime(t.Rows)+importAnswerTime)
	ctx, cancel := context.WithTimeout(r.Context(), importTime(t.Rows))
	defer cancel()
	opt := importer.Options{Kind: r.FormValue("kind"), Actor: p.actor(), Today: s.cfg.Today()}
	if s.cfg.Metrics != nil {
		run := s.cfg.Metrics.importStarted(t.Rows)
		defer run.end()
		opt.Progress = run.progress
	}
	if p.Role != RoleAdmin {
		// A clerk's rows are vetted one by one: a row about an employer outside its counties is
		// refused.
		ref := s.cfg.Store.Reference()
		opt.Authorize = func(county string) error {
			if !p.canWriteEmployer(county, ref) {
				return forbidden("%s (%s) may not write to employers of county %s", p.Name, p.Role, county)
			}
			return nil
		}
	}
	rep, err := importer.Import(ctx, s.cfg.Store, t, opt)
	// A batch whose commit went unanswered at the deadline is 504 outcome_unknown, as any write's.
	// Judged by the import's own time, not the error met: a read or batch cut beside it may
	// report its own cancellation first (CI once answered 400 "context canceled" on the file).
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, eventstore.ErrOutcomeUnknown) && r.Context().Err() == nil {
		imported, there := 0, 0
		if rep != nil {
			imported, there = rep.Imported, rep.Duplicates
		}
		s.cfg.Log.Warn("import: its time ran out", "rows", t.Rows, "imported", imported, "already_there", there, "allowed", importTime(t.Rows))
		writeError(w, &domain.Error{Kind: domain.KindUnavailable, Field: "file", Detail: fmt.Sprintf(
			"the import's time (%s for %d rows) ran out after %d rows were recorded (and %d found recorded already); they stay recorded, and importing the same file again records the rest once", importTime(t.Rows), t.Rows, imported, there)})
		return
	}
	if err != nil {
		writeImportError(w, err)
		return
	}
	if rep.Seq != 0 {
		w.Header().Set("X-Ledger-Seq", strconv.FormatUint(rep.Seq, 10))
	}
	writeJSON(w, http.StatusOK, importAnswer(rep, all))
}

// An upload is given uploadBase and a second for each uploadRate bytes it sends (or the
// largest upload's time when it does not say its length): a county office's line carries a
// file of the largest size in about 17 minutes. It is held to that pace as it arrives (paced).
// An import is given importBase and importRow for each row to be answered: the ledger imports
// tens of thousands of rows a second.
const (
	uploadRate = 64 << 10
	importBase = time.Minute
	importRow  = time.Millisecond
)

// importAnswerTime is what an import's answer is given to be written once its time is up.
const importAnswerTime = 30 * time.Second

// uploadBase is what an upload is given before its first byte; a variable for the tests.
var uploadBase = 30 * time.Second

// paced reads an upload whose read deadline moves with what has arrived: uploadBase and a
// second for each uploadRate bytes so far, never past what its declared length was given. A
// client that declares a large file and then trickles it (a signed-in clerk's token, or a
// stolen one) holds the connection only while it keeps the pace, not the 17 minutes the
// largest file is given.
type paced struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	limit time.Time // what the declared length was given
	n     int64     // bytes arrived
}

func newPaced(w http.ResponseWriter, body io.ReadCloser, allowed time.Duration) *paced {
	p := &paced{body: body, rc: http.NewResponseController(w), start: time.Now()}
	p.limit = p.start.Add(allowed)
	p.extend()
	return p
}

// extend sets the read deadline for what has arrived.
func (p *paced) extend() {
	until := p.start.Add(uploadBase + time.Duration(p.n)*time.Second/uploadRate)
	if until.After(p.limit) {
		until = p.limit
	}
	_ = p.rc.SetReadDeadline(until)
}

func (p *paced) Read(b []byte) (int, error) {
	k, err := p.body.Read(b)
	p.n += int64(k)
	p.extend()
	return k, err
}

func (p *paced) Close() error { return p.body.Close() }

// uploadTime is how long an upload of length bytes (-1: unknown) may take to arrive.
func uploadTime(length int64) time.Duration {
	if length < 0 || length > MaxImport {
		length = MaxImport
	}
	return uploadBase + time.Duration(length/uploadRate)*time.Second
}

// allowTime gives a request d from now to be read and answered, past the server's timeouts.
// The write deadline moves with the read one, so that a refusal after a long upload is still
// answered; the read deadline with the write one, because a read that times out once the body
// is read cancels the request.
func allowTime(w http.ResponseWriter, d time.Duration) {
	rc := http.NewResponseController(w)
	until := time.Now().Add(d)
	_ = rc.SetReadDeadline(until)
	_ = rc.SetWriteDeadline(until)
}

// importTime is how long an import of rows may take (a variable for the tests).
var importTime = func(rows int) time.Duration { return importBase + time.Duration(rows)*importRow }

// MaxRejectsListed is how many rejected rows an import's answer lists unless asked for all
// (?rejects=all, as the command line asks, to write every one to its rejects file); the count
// says how many there were in all. A file mostly refused is better fixed from its first errors
// and sent again (its accepted rows are recorded once) than answered with tens of megabytes.
const MaxRejectsListed = 1000

// ImportAnswer is the answer of POST /v1/imports: the importer's report, its rejected rows cut
// to the first MaxRejectsListed unless all were asked for.
type ImportAnswer struct {
	*importer.Report
	RejectedTotal     int  `json:"rejected_total"`
	RejectedTruncated bool `json:"rejected_truncated,omitempty"`
}

func importAnswer(rep *importer.Report, all bool) ImportAnswer {
	a := ImportAnswer{Report: rep, RejectedTotal: len(rep.Rejected)}
	if !all && len(rep.Rejected) > MaxRejectsListed {
		cut := *rep
		cut.Rejected = rep.Rejected[:MaxRejectsListed]
		a.Report, a.RejectedTruncated = &cut, true
	}
	return a
}

// oneOfEachPart refuses an import that sends the file, its kind or its encoding more than once
// (in the form, or in the query beside it): which one is meant is not guessed.
func oneOfEachPart(r *http.Request) error {
	if n := len(r.MultipartForm.File["file"]); n > 1 {
		return domain.Invalid("file", "is sent %d times: send one file an import", n)
	}
	for _, name := range []string{"kind", "encoding"} {
		if n := len(r.Form[name]); n > 1 {
			return domain.Invalid(name, "is given %d times: give it once", n)
		}
	}
	return nil
}

// writeImportError answers a file the importer refused: 413 for a file past a limit (the error
// says which), the ledger's own answer when it did not take a batch, else 400.
func writeImportError(w http.ResponseWriter, err error) {
	var de *domain.Error
	switch {
	case errors.As(err, &de) && de.Kind == domain.KindTooLarge:
		writeError(w, de)
	case errors.Is(err, importer.ErrLedger):
		writeError(w, err)
	case errors.Is(err, importer.ErrUnknownKind):
		writeError(w, domain.Invalid("kind", "%v", err))
	case errors.Is(err, importer.ErrUnknownEncoding):
		writeError(w, domain.Invalid("encoding", "%v", err))
	default:
		writeError(w, domain.Invalid("file", "%v", err))
	}
}
