package api

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

// NoticeBatch is the body of POST /v1/counties/{code}/notices: the notice's dates and the days
// a principal must be overdue on issued_on for its payer to get one.
type NoticeBatch struct {
	domain.IssueNotice
	OverdueDays *int64 `json:"overdue_days"`
}

// noticeProgressEvery is how many notices of a batch the log reports progress after.
const noticeProgressEvery = 100

// issueNotices is POST /v1/counties/{code}/notices: an arrears notice, issued as POST
// /v1/employers/{id}/notices issues one (same numbering, same recorded step and SHA-256), to
// every employer of the county with a line whose principal is overdue on issued_on more than
// overdue_days days after its due date — whether or not it had a notice before — in the order
// of the employer list (GET /v1/employers?county=&arrears_above_fen=0, the views as of
// issued_on). The answer is a zip of the PDFs, named by their numbers, and manifest.csv, with
// the file times of issued_on: the same notices give the same bytes. With an Idempotency-Key each
// employer's notice is recorded under a key of its own derived from it, so that a retry answers
// the notices first issued, printed again from the ledger, and issues those a failed batch left.
func (s *Server) issueNotices(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	if p.Role != RoleAuditor && p.Role != RoleAdmin {
		return forbidden("%s (%s) may not issue arrears notices: auditors and admins only", p.Name, p.Role)
	}
	code := r.PathValue("code")
	if err := s.cfg.Store.Reference().CheckCounty("code", code); err != nil {
		return domain.NotFound("code", "no county %q", domain.Clip(code, 32))
	}
	var batch NoticeBatch
	canon, err := readBody(w, r, &batch)
	if err != nil {
		return err
	}
	ref := s.cfg.Store.Reference()
	if err := batch.Check(domain.Context{Ref: ref, Today: s.cfg.Today()}); err != nil {
		return err
	}
	if batch.OverdueDays == nil {
		return domain.Invalid("overdue_days", "is required: the days past its due date a principal must be overdue")
	}
	if *batch.OverdueDays < 0 || *batch.OverdueDays > 36500 {
		return domain.Invalid("overdue_days", "%d is not a number of days from 0 to 36500", *batch.OverdueDays)
	}
	on := batch.Date()
	if err := countyFilter(ref, code, on); err != nil {
		return err
	}
	key, err := s.idempotencyKey(r)
	if err != nil {
		return err
	}
	ids, err := s.countyArrears(r.Context(), p, code, on)
	if err != nil {
		return err
	}
	hash := bodyHash(r, canon)
	var pdfs bytes.Buffer
	zw := zip.NewWriter(&pdfs)
	var manifest bytes.Buffer
	mw := csv.NewWriter(&manifest)
	_ = mw.Write([]string{"number", "employer_id", "name", "principal_fen", "late_fee_fen", "sha256"})
	modified := time.Date(on.Year(), on.Month(), on.Day(), 0, 0, 0, 0, time.UTC)
	issued := 0
	for i, id := range ids {
		raw, err := s.cfg.Store.History(r.Context(), id)
		if err != nil {
			return err
		}
		events, _ := eventsBefore(raw, math.MaxUint64)
		if !overdueSince(documents.NoticeOf("", on, batch.DeadlineDate(), events, ref), on, *batch.OverdueDays) {
			continue
		}
		number, pdf, res, err := s.issueOne(r.Context(), id, batch.IssueNotice, ref, true, func(req eventstore.Request) (eventstore.Result, error) {
			if key != "" {
				req.IdempotencyKey = key + "\x00county-notices\x00" + id
			}
			req.BodyHash = hash
			return s.record(r, req)
		})
		if err != nil {
			return err
		}
		raw, err = s.cfg.Store.History(r.Context(), id)
		if err != nil {
			return err
		}
		events, _ = eventsBefore(raw, res.Seq)
		n := documents.NoticeOf(number, on, batch.DeadlineDate(), events, ref)
		f, err := zw.CreateHeader(&zip.FileHeader{Name: number + ".pdf", Method: zip.Store, Modified: modified})
		if err != nil {
			return err
		}
		if _, err := f.Write(pdf); err != nil {
			return err
		}
		sum := sha256.Sum256(pdf)
		_ = mw.Write([]string{number, id, n.Name, strconv.FormatInt(int64(n.PrincipalFen), 10), strconv.FormatInt(int64(n.LateFeeFen), 10), hex.EncodeToString(sum[:])})
		if issued++; issued%noticeProgressEvery == 0 {
			s.cfg.Log.Info("county notices", "county", code, "issued", issued, "employers_read", i+1, "employers", len(ids))
		}
	}
	mw.Flush()
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.csv", Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	if _, err := f.Write(manifest.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	s.cfg.Log.Info("county notices done", "county", code, "issued", issued, "employers", len(ids))
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="notices-`+code+"-"+on.String()+`.zip"`)
	w.Header().Set("X-Notice-Count", strconv.Itoa(issued))
	w.Header().Set("Content-Length", strconv.Itoa(pdfs.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pdfs.Bytes())
	return nil
}

// countyArrears lists the county's employers with principal overdue on on, in the order of the
// employer list, from the views once they reflect every write recorded so far.
func (s *Server) countyArrears(ctx context.Context, p Principal, code string, on domain.Date) ([]string, error) {
	wait, cancel := context.WithTimeout(ctx, WriteTimeout)
	err := s.cfg.Runner.WaitSeq(wait, s.cfg.Store.Applied())
	cancel()
	if err != nil {
		return nil, &domain.Error{Kind: domain.KindUnavailable, Detail: "the views are behind the ledger; retry"}
	}
	ref := s.viewsRef()
	q, err := parseSearch(url.Values{"county": {code}, "arrears_above_fen": {"0"}}, ref)
	if err != nil {
		return nil, err
	}
	l, err := s.cfg.Runner.At(ctx, projections.Query{AsOf: on, Period: projections.DefaultPeriod(ref, on)}, on, "issued_on")
	if err != nil {
		return nil, err
	}
	res, err := q.run(l, p, on, nil, true)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.rows))
	for i, row := range res.rows {
		ids[i] = row.EmployerID
	}
	return ids, nil
}

// overdueSince reports whether notice n lists a principal overdue on on more than days days
// after its due date.
func overdueSince(n documents.Notice, on domain.Date, days int64) bool {
	for _, l := range n.Lines {
		if l.OutstandingFen > 0 && int64(on.DaysSince(l.DueDate)) > days {
			return true
		}
	}
	return false
}
