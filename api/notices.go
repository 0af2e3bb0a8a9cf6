package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// noticeAttempts bounds how often an issue is printed again because the employer changed
// between reading its events and recording the notice.
const noticeAttempts = 5

// issueNotice is POST /v1/employers/{id}/notices: it numbers an arrears notice (per county and
// year, under the store's lock of that number series), prints it from the employer's events, and
// records the step "notice" with the number and the SHA-256 of the PDF, conditional on the
// version printed from; the answer is the PDF. A retried Idempotency-Key answers the notice first
// recorded, printed again from the ledger.
func (s *Server) issueNotice(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.Role != RoleAuditor && p.Role != RoleAdmin {
		writeError(w, forbidden("%s (%s) may not issue arrears notices: auditors and admins only", p.Name, p.Role))
		return
	}
	id := r.PathValue("id")
	county, err := s.cfg.Store.EmployerCountyContext(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	if county == "" {
		writeError(w, noEmployer("employer_id", id))
		return
	}
	var cmd domain.IssueNotice
	canon, err := s.readWriteBody(w, r, &cmd)
	if err != nil {
		writeError(w, err)
		return
	}
	ref, _, refusal := s.check(r, &cmd, canon)
	var number string
	var pdf []byte
	var res eventstore.Result
	if refusal != nil {
		// A retry answers the notice its key recorded at any later time (API.md: before any
		// other check), though its year has closed or a rule refuses its dates since.
		var recorded bool
		if res, recorded, err = s.retried(r.Context(), r, canon); !recorded {
			err = refusal
		} else if err == nil {
			number, pdf, err = s.printAt(r.Context(), id, res.Seq)
		}
		if err != nil {
			writeError(w, err)
			return
		}
	} else {
		pin := r.Header.Get("If-Match") == "" // else the client's version is the condition
		number, pdf, res, err = s.issueOne(r.Context(), id, cmd, ref, pin, func(req eventstore.Request) (eventstore.Result, error) {
			return s.run(r, req, canon)
		})
		if err != nil {
			writeError(w, err)
			return
		}
	}
	w.Header().Set("ETag", `"`+strconv.FormatUint(res.Version, 10)+`"`)
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(res.Seq, 10))
	writePDF(w, writeStatus(res.Duplicate), number, number+".pdf", pdf)
}

// issueOne issues one notice to employer id from cmd (checked against ref): it numbers it under
// the store's lock of the county's series for the year, prints it from the employer's events and
// has record record the step with the number and the PDF's SHA-256, conditional on the version
// printed from when pin is set (printed again, up to noticeAttempts times, if the employer
// changed meanwhile). A duplicate (a retried idempotency key) answers the notice first recorded,
// printed again from the ledger.
func (s *Server) issueOne(ctx context.Context, id string, cmd domain.IssueNotice, ref *domain.Reference, pin bool,
	record func(eventstore.Request) (eventstore.Result, error)) (string, []byte, eventstore.Result, error) {
	var pdf []byte
	var number string
	var res eventstore.Result
	for attempt := 1; ; attempt++ {
		raw, err := s.cfg.Store.History(ctx, id)
		if err != nil {
			return "", nil, res, err
		}
		events, version := eventsBefore(raw, math.MaxUint64)
		n := documents.NoticeOf("", cmd.Date(), cmd.DeadlineDate(), events, ref)
		prefix := domain.NoticePrefix(n.CountyName, cmd.Date().Year())
		err = s.cfg.Store.WithNoticeNumber(ctx, prefix, func(next string) error {
			n.Number, number = next, next
			if pdf, err = n.Render(); err != nil {
				return err
			}
			sum := sha256.Sum256(pdf)
			cmd.Document(next, hex.EncodeToString(sum[:]))
			req := eventstore.Request{EmployerID: id, Command: &cmd, Checked: true}
			if pin {
				req.IfMatch = &version
			}
			res, err = record(req)
			return err
		})
		if errors.Is(err, eventstore.ErrStale) && pin && attempt < noticeAttempts {
			continue // recorded since it was read: print it again from the new state
		}
		if err != nil {
			return "", nil, res, err
		}
		break
	}
	if res.Duplicate {
		var err error
		if number, pdf, err = s.printAt(ctx, id, res.Seq); err != nil {
			return "", nil, res, err
		}
	}
	return number, pdf, res, nil
}

// printAt prints again the notice recorded at seq to employer id, from the ledger.
func (s *Server) printAt(ctx context.Context, id string, seq uint64) (string, []byte, error) {
	raw, err := s.cfg.Store.History(ctx, id)
	if err != nil {
		return "", nil, err
	}
	return s.printRecorded(ctx, raw, func(at uint64, _ domain.EnforcementStepRecorded) bool { return at == seq })
}

// getNotice is GET /v1/employers/{id}/notices/{number}.pdf: the notice printed again from the
// employer's events recorded before it and the reference data then, byte for byte what was
// answered when it was issued (its recorded SHA-256 is checked).
func (s *Server) getNotice(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	number, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
	if !ok {
		writeError(w, domain.NotFound("number", "%q: a notice is read as {number}.pdf", r.PathValue("file")))
		return
	}
	raw, _, err := s.historyThrough(r, id) // through_seq is not a parameter of it: 0
	if err != nil {
		writeError(w, err)
		return
	}
	_, pdf, err := s.printRecorded(r.Context(), raw, func(_ uint64, st domain.EnforcementStepRecorded) bool { return st.DocNo == number })
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("X-Ledger-Seq", strconv.FormatUint(s.cfg.Store.Applied(), 10))
	writePDF(w, http.StatusOK, number, number+".pdf", pdf)
}

// readableHistory reads employer id's events for a document, once the request's principal may
// read the employer (404 unknown, 403 out of scope).
func (s *Server) readableHistory(r *http.Request, id string) ([]eventstore.RawEvent, error) {
	raw, err := s.cfg.Store.History(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return raw, s.mayRead(r, id, eventstore.Fold(id, raw, math.MaxUint64))
}

// historyThrough is readableHistory once the store holds ?min_seq= (waitStore) and ?through_seq=
// (throughSeq; 0 when not given): a replica behind the one that answered a write prints through
// it what that one prints, not an older document under the sequence asked for, and the access is
// decided on the events read (an employer registered or transferred there just before).
func (s *Server) historyThrough(r *http.Request, id string) ([]eventstore.RawEvent, uint64, error) {
	if err := s.waitStore(r); err != nil {
		return nil, 0, err
	}
	through, err := s.throughSeq(r)
	if err != nil {
		return nil, 0, err
	}
	raw, err := s.readableHistory(r, id)
	return raw, through, err
}

// printRecorded prints again the first notice among an employer's events raw that match
// accepts, the way (documents.Printings) whose bytes have the SHA-256 recorded with it.
func (s *Server) printRecorded(ctx context.Context, raw []eventstore.RawEvent, match func(seq uint64, st domain.EnforcementStepRecorded) bool) (string, []byte, error) {
	for _, ev := range raw {
		st, ok := ev.Body.(domain.EnforcementStepRecorded)
		if !ok || st.Step != domain.StepNotice || st.DocSHA256 == "" || !match(ev.Seq, st) {
			continue
		}
		ref, err := s.cfg.Store.ReferenceAt(ctx, ev.Seq)
		if err != nil {
			return "", nil, err
		}
		events, _ := eventsBefore(raw, ev.Seq)
		n := documents.NoticeOf(st.DocNo, st.On, st.Deadline, events, ref)
		var errs []error
		for _, p := range documents.Printings {
			pdf, err := n.RenderAs(p)
			if err != nil {
				errs = append(errs, err) // a way that cannot print it did not
				continue
			}
			sum := sha256.Sum256(pdf)
			if hex.EncodeToString(sum[:]) == st.DocSHA256 {
				return st.DocNo, pdf, nil
			}
			errs = append(errs, fmt.Errorf("printed way %d: SHA-256 %x", p, sum))
		}
		// Printed by a way this build does not know (a newer build's), or a font or writer changed
		// since: said to the client, not hidden as an internal error, and logged with each try.
		s.cfg.Log.Error("a notice printed again differs from the one issued", "number", st.DocNo, "recorded_sha256", st.DocSHA256, "tried", errors.Join(errs...))
		return "", nil, domain.Conflict("number", "notice %s cannot be printed again byte for byte by this build: none of its %d ways of printing gives the SHA-256 recorded when it was issued (%s), "+
			"as when a newer build issued it; serve the ledger with that build to print it again, or use the copy issued", st.DocNo, len(documents.Printings), st.DocSHA256)
	}
	return "", nil, domain.NotFound("number", "the employer has no notice printed by the ledger with that number")
}

// eventsBefore returns the events of raw recorded before sequence seq, and the sequence of the
// last of them.
func eventsBefore(raw []eventstore.RawEvent, seq uint64) ([]domain.Event, uint64) {
	events := make([]domain.Event, 0, len(raw))
	var last uint64
	for _, ev := range raw {
		if ev.Seq < seq {
			events = append(events, ev.Event)
			last = max(last, ev.Seq)
		}
	}
	return events, last
}

func writePDF(w http.ResponseWriter, status int, number, filename string, pdf []byte) {
	sum := sha256.Sum256(pdf)
	w.Header().Set("Content-Type", "application/pdf")
	if filename != "" {
		// Shown in the browser, saved under its own name (RFC 6266; a Chinese name as UTF-8).
		w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": filename}))
	}
	if number != "" {
		// Percent-encoded UTF-8: a header is bytes a browser reads as Latin-1, and a number is Chinese.
		w.Header().Set("X-Document-Number", url.PathEscape(number)) // documents without a number of their own have none
	}
	w.Header().Set("X-Document-SHA256", hex.EncodeToString(sum[:]))
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.WriteHeader(status)
	_, _ = w.Write(pdf)
}
