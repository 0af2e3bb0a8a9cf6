// Over 500 lines for a reason: a county's batch of notices (choosing payers, numbering, issuing,
// resuming after a cut, progress) is one idempotent request.

package api

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

// NoticeBatch is the body of POST /v1/counties/{code}/notices: the notice's dates and the days
// a principal must be overdue on issued_on for its payer to get one.
type NoticeBatch struct {
	domain.IssueNotice
	OverdueDays *int64 `json:"overdue_days"`
	// countyName is the county's name on issued_on, its notices' (runNoticeBatch sets it).
	countyName string
}

// noticeProgressEvery is how many notices of a batch the log reports progress after (a
// variable so that a test can see the lines with a few notices).
var noticeProgressEvery = 100

// noticeChunk is how many notices of a batch are numbered and printed ahead, side by side, under
// one hold of the number series' lock (a single notice of the county waits for one chunk).
// (A variable so that a test can have a batch take several.)
var noticeChunk = 32

// issueNotices is POST /v1/counties/{code}/notices: an arrears notice, issued as POST
// /v1/employers/{id}/notices issues one (same numbering, same recorded step and SHA-256), to
// every employer of the county with a line whose principal is overdue on issued_on more than
// overdue_days days after its due date — whether or not it had a notice before — in the order
// of the employer list (GET /v1/employers?county=&arrears_above_fen=0, the views as of
// issued_on). The answer is a zip of the PDFs, named by their numbers, and manifest.csv, with
// the file times of issued_on: the same notices give the same bytes. With an Idempotency-Key each
// employer's notice is recorded under a key of its own derived from it, so that a retry answers
// the notices first issued, printed again from the ledger, and issues those a failed batch left
// (to employers the first try would have given one: draft);
// while it runs, GET /v1/counties/{code}/notices/progress with the same key tells how far it is.
func (s *Server) issueNotices(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	if p.Role != RoleAuditor && p.Role != RoleAdmin {
		return forbidden("%s (%s) may not issue arrears notices: auditors and admins only", p.Name, p.Role)
	}
	code := r.PathValue("code")
	if err := s.countyKnown(r, code); err != nil {
		return err
	}
	var batch NoticeBatch
	canon, err := readBody(w, r, &batch)
	if err != nil {
		return err
	}
	// A retry of a batch answers the notices it recorded at any later time (API.md: before any
	// other check), though its year has closed or a rule refuses its dates since (refused).
	var refused *domain.Error
	ref, _, err := s.check(r, &batch, canon)
	if err != nil {
		if !errors.As(err, &refused) || batch.Date() == 0 || batch.DeadlineDate() == 0 {
			return err
		}
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
	if refused != nil && key == "" {
		return refused
	}
	// One batch under a key at a time on this server: one sent again while it runs (a client
	// that stopped waiting) is answered as its retry once it ends, never run beside it.
	// A batch of a large county, or one waiting for the views of closed books to be replayed,
	// takes longer than the server's timeouts allow an answer; a retry may first wait for it.
	allowTime(w, 2*noticeBatchTime)
	release, err := s.batches.exclusive(r.Context(), key)
	if err != nil {
		return err
	}
	defer release()
	prog := s.batches.start(code, key)
	zipped, issued, last, err := s.runNoticeBatch(r, code, batch, ref, key, bodyHash(r, canon), prog, refused)
	prog.finish(issued, err)
	s.batches.done(key)
	release() // a retry waiting for the batch need not wait for its zip to reach this client
	if err != nil {
		return err
	}
	// The answer reflects its notices: min_seq of it reads them on any replica.
	reflects(w, last)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="notices-`+code+"-"+on.String()+`.zip"`)
	w.Header().Set("X-Notice-Count", strconv.Itoa(issued))
	// Those left out, listed in the zip's unprintable.csv: a client reading headers only sees them.
	w.Header().Set("X-Notice-Unprintable", strconv.Itoa(prog.snapshot().Unprintable))
	// Those whose case stands past a notice, listed in the zip's escalated.csv.
	w.Header().Set("X-Notice-Escalated", strconv.Itoa(prog.snapshot().Escalated))
	if n := prog.snapshot().Left; n > 0 {
		w.Header().Set("X-Notice-Left", strconv.Itoa(n))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(zipped)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(zipped)
	return nil
}

// noticeBatchTime is how long a county batch may take to be answered.
const noticeBatchTime = 15 * time.Minute

// noticeDraft is one employer's notice in a county batch: read and composed, then numbered and
// printed ahead of being recorded.
type noticeDraft struct {
	id string
	// key is the idempotency key its notice is recorded under: the batch's own for the batch's
	// first notice, one derived from it for the others ("" without a key).
	key     string
	version uint64
	notice  documents.Notice
	pdf     []byte
	err     error // printing it
	// recorded: an earlier try of the batch recorded its notice (its key is known).
	recorded bool
	// skipped: no longer overdue when its notice was to be recorded (paid meanwhile).
	skipped bool
	// done: recorded by this try (its chunk may be numbered again for the others).
	done bool
	// recordedAt: the sequence of the notice its key answered, recorded by another try of the
	// batch meanwhile (its number was not used).
	recordedAt uint64
	// unprintable says why its notice cannot be printed (a character the font lacks).
	unprintable string
	// escalated is the step past a notice its open case stands at on the issue date: a batch
	// issues it no notice, which would take its case back down the ladder.
	escalated domain.DatedStep
}

// draft reads employer id's events and composes its notice without a number; eligible reports
// whether it is in the batch: its notice was recorded by an earlier try, or a principal of it is
// overdue more than days days on the issue date, and its notice would take no step recorded
// since into its case against the ladder — now and, when an earlier try recorded its first
// notice at sequence first, on the events before it, in the same county: a retry issues only
// what the first try would have.
func (s *Server) draft(ctx context.Context, d *noticeDraft, batch NoticeBatch, ref *domain.Reference, first uint64) (eligible bool, err error) {
	raw, err := s.cfg.Store.History(ctx, d.id)
	if err != nil {
		return false, err
	}
	events, version := eventsBefore(raw, math.MaxUint64)
	d.version, d.notice = version, documents.NoticeOf("", batch.Date(), batch.DeadlineDate(), events, ref)
	if d.recorded {
		return true, nil
	}
	if first != 0 {
		// A retry issues only what its first try would have: to a payer of the county, overdue,
		// its case taking no step against the ladder and standing at no step past a notice, on
		// the events before the first try's first notice; and lists those escalated then as the
		// first try did, whatever happened since (paid, moved, a step voided).
		then, _ := eventsBefore(raw, first)
		n := documents.NoticeOf("", batch.Date(), batch.DeadlineDate(), then, ref)
		if len(then) == 0 || n.CountyName != batch.countyName || !overdueSince(n, batch.Date(), *batch.OverdueDays) {
			return false, nil
		}
		was := &domain.Employer{ID: d.id, SkipHistory: true}
		was.Fold(then)
		if was.CheckNoticeCase(batch.Date(), batch.DeadlineDate()) != nil {
			return false, nil // left out by the first try: a step since voided does not bring it in
		}
		if x, ok := was.EscalatedOn(batch.Date(), ref.LateFees); ok {
			d.escalated = x
			return false, nil
		}
	}
	// Listed by its county on issued_on (the county's list of that date), which its notice names
	// and numbers it in, as a single notice of that date does: never another county's payer.
	if d.notice.CountyName != batch.countyName || !overdueSince(d.notice, batch.Date(), *batch.OverdueDays) {
		return false, nil
	}
	// Steps recorded since, dated after it, that its notice would take into its case against
	// the ladder leave it out, as they refuse the single notice (domain IssueNotice); so does a
	// case standing past a notice (listed, by a first try).
	emp := &domain.Employer{ID: d.id, SkipHistory: true}
	emp.Fold(events)
	if emp.CheckNoticeCase(batch.Date(), batch.DeadlineDate()) != nil {
		return false, nil
	}
	if x, ok := emp.EscalatedOn(batch.Date(), ref.LateFees); ok {
		if first == 0 {
			d.escalated = x
		}
		return false, nil
	}
	// One the font cannot print whole is left out before it takes a number (and listed).
	n := d.notice
	n.Number = domain.NoticeNumber(domain.NoticePrefix(n.CountyName, batch.Date().Year()), 1)
	var de *domain.Error
	if err := n.Printable(); errors.As(err, &de) {
		d.unprintable = de.Detail
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// zipCSV adds a CSV file of rows to zw.
func zipCSV(zw *zip.Writer, name string, modified time.Time, rows [][]string) error {
	var b bytes.Buffer
	b.WriteString(csvBOM)
	w := csv.NewWriter(&b)
	_ = w.WriteAll(rows)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	_, err = f.Write(b.Bytes())
	return err
}

// runNoticeBatch issues the batch's notices and zips them: the employers' events are read and
// their notices composed side by side; then, a chunk at a time under the lock of the county's
// number series, numbered and printed side by side and recorded in order (printed again when an
// employer changed meanwhile, or when a notice recorded earlier leaves a number unused). last is
// the latest sequence of a notice it answers with. With refused, the refusal of the batch's
// dates (in a closed year, or by a rule since), it answers only the notices an earlier try
// recorded, and refused when none.
func (s *Server) runNoticeBatch(r *http.Request, code string, batch NoticeBatch, ref *domain.Reference, key, hash string, prog *batchProgress, refused *domain.Error) (zipped []byte, issued int, last uint64, err error) {
	ctx, on := r.Context(), batch.Date()
	county, _ := ref.County(code)
	batch.countyName = county.Name
	prefix := domain.NoticePrefix(county.Name, on.Year()) // of every notice of the batch
	rows, order, err := s.countyEmployers(ctx, principalOf(r), code, on)
	if err != nil {
		return nil, 0, 0, err
	}
	keyOf := func(id string) string {
		if key == "" {
			return ""
		}
		return key + "\x00county-notices\x00" + id
	}
	// An earlier try of the batch answers with what it recorded, whether or not its employers
	// still owe or are still of the county (so every employer's key is looked up, in the list's
	// order); first is its first notice's sequence (0: no notice of the batch is recorded).
	owes := map[string]bool{}
	for _, row := range rows {
		owes[row.EmployerID] = row.ArrearsFen > 0
	}
	// The batch's first notice is recorded under the batch's key itself, the others under keys
	// derived from it: the key is then taken like any write's, on every replica, so a batch or
	// a write of another body under it is refused (API.md: a key is the ledger's, whatever the
	// route), the batch before it records a notice.
	var bare eventstore.Result
	var claimed bool
	var bareErr error
	if key != "" {
		bare, claimed, bareErr = s.cfg.Store.Retried(ctx, key, hash)
		claimed = claimed && bareErr == nil
	}
	var all []noticeDraft
	var first uint64
	took := func(seq uint64) {
		if first == 0 || seq < first {
			first = seq
		}
	}
	for _, id := range order {
		d := noticeDraft{id: id, key: keyOf(id)}
		if claimed && id == bare.EmployerID {
			d.key, d.recorded = key, true
			took(bare.Seq)
		} else if k := d.key; k != "" {
			// A notice recorded under the key by another batch (another county, other days
			// overdue) refuses this one before anything is recorded.
			seq, ok, err := s.cfg.Store.RecordedFor(k, hash)
			if err != nil {
				return nil, 0, 0, err
			}
			if d.recorded = ok; ok {
				took(seq)
			}
		}
		if d.recorded || owes[id] {
			all = append(all, d)
		}
	}
	if bareErr != nil {
		// Another request's key, unless an older build recorded this batch's notices under
		// derived keys only and another request took the key since: the batch answers its own.
		var de *domain.Error
		if first == 0 || !errors.As(bareErr, &de) || de.Kind != domain.KindIdempotencyMismatch {
			return nil, 0, 0, bareErr
		}
		claimed = true
	}
	claimed = claimed || key == ""
	if refused != nil && first == 0 {
		return nil, 0, 0, refused
	}
	prog.set(func(p *BatchProgress) { p.Employers = len(all) })
	eligible := make([]bool, len(all))
	errs := make([]error, len(all))
	parallel(len(all), func(i int) {
		eligible[i], errs[i] = s.draft(ctx, &all[i], batch, ref, first)
		prog.set(func(p *BatchProgress) { p.Read++ })
	})
	if err := errors.Join(errs...); err != nil {
		return nil, 0, 0, err
	}
	var drafts, unprintable, escalated []*noticeDraft
	left := 0
	for i := range all {
		if all[i].escalated.Step != "" {
			escalated = append(escalated, &all[i])
		}
		switch {
		case eligible[i] && (refused == nil || all[i].recorded):
			// Refused, only what an earlier try recorded is answered; those it left out
			// unprintable are listed as it listed them.
			drafts = append(drafts, &all[i])
		case eligible[i] && all[i].unprintable == "":
			left++ // refused: the batch would have reached it, and no try did
		case all[i].unprintable != "":
			unprintable = append(unprintable, &all[i])
			s.cfg.Log.Warn("county notices: cannot be printed, left out", "county", code, "employer", all[i].id, "reason", all[i].unprintable)
		}
	}
	prog.set(func(p *BatchProgress) {
		p.Eligible, p.Unprintable, p.Escalated, p.Left = len(drafts), len(unprintable), len(escalated), left
	})
	if left > 0 {
		s.cfg.Log.Warn("county notices: the batch's dates are refused now; payers no earlier try reached get no notice",
			"county", code, "left", left, "answered", len(drafts), "why", refused.Detail)
	}
	// A refusal once notices are recorded under the key, by this try or an earlier one, is no
	// refusal (which records nothing, API.md): the batch stopped, and its key answers the
	// notices recorded, and issues what it still may. (Not so another request's under the key.)
	recorded := 0
	stopped := func(err error) error {
		var de *domain.Error
		if recorded == 0 && first == 0 || !errors.As(err, &de) || de.Kind == domain.KindUnavailable {
			return err
		}
		how := "send the batch again with the same Idempotency-Key to have them and the rest (no notice is issued twice)"
		switch {
		case key == "":
			how = "they are in the payers' histories (a batch sent with an Idempotency-Key is finished by sending it again)"
		case de.Kind == domain.KindYearClosed:
			how = "send the batch again with the same Idempotency-Key to have them (its dates refused now, it issues no more)"
		}
		done := fmt.Sprintf("after %d notices were recorded", recorded)
		if recorded == 0 {
			done = "after its earlier tries recorded notices"
		}
		return &domain.Error{Kind: domain.KindUnavailable, Field: de.Field, Detail: fmt.Sprintf(
			"the batch stopped %s, refused: %s; they stand: %s", done, de.Detail, how)}
	}
	// drafts is consumed chunk by chunk below: the log's "of" is the batch's total.
	total := len(drafts)
	record := func(d *noticeDraft, req eventstore.Request) (eventstore.Result, error) {
		req.IdempotencyKey, req.BodyHash = d.key, hash
		res, err := s.record(r, req)
		if err == nil {
			last = max(last, res.Seq)
			recorded++
			d.done = true
		}
		return res, err
	}

	var pdfs bytes.Buffer
	zw := zip.NewWriter(&pdfs)
	var manifest bytes.Buffer
	manifest.WriteString(csvBOM)
	mw := csv.NewWriter(&manifest)
	_ = mw.Write([]string{"number", "employer_id", "name", "principal_fen", "late_fee_fen", "sha256"})
	modified := time.Date(on.Year(), on.Month(), on.Day(), 0, 0, 0, 0, time.UTC)
	add := func(number, id string, n documents.Notice, pdf []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: number + ".pdf", Method: zip.Store, Modified: modified})
		if err != nil {
			return err
		}
		if _, err := f.Write(pdf); err != nil {
			return err
		}
		sum := sha256.Sum256(pdf)
		_ = mw.Write([]string{number, id, importer.SpreadsheetText(n.Name), strconv.FormatInt(int64(n.PrincipalFen), 10), strconv.FormatInt(int64(n.LateFeeFen), 10), hex.EncodeToString(sum[:])})
		issued++
		prog.set(func(p *BatchProgress) { p.Issued = issued })
		if issued%noticeProgressEvery == 0 {
			s.cfg.Log.Info("county notices", "county", code, "issued", issued, "of", total)
		}
		return nil
	}
	// addRecorded adds the notice recorded at seq, printed again from the ledger.
	addRecorded := func(id string, seq uint64) error {
		last = max(last, seq)
		raw, err := s.cfg.Store.History(ctx, id)
		if err != nil {
			return err
		}
		number, pdf, err := s.printRecorded(ctx, raw, func(at uint64, _ domain.EnforcementStepRecorded) bool { return at == seq })
		if err != nil {
			return err
		}
		events, _ := eventsBefore(raw, seq)
		return add(number, id, documents.NoticeOf(number, on, batch.DeadlineDate(), events, ref), pdf)
	}
	for len(drafts) > 0 {
		n := min(noticeChunk, len(drafts))
		var taking *noticeDraft // the notice to record under the batch's own key
		if !claimed {
			// The batch's first notice is recorded under the batch's own key, last of its
			// chunk: none is recorded under a key derived from it before it (nor at all, when
			// it is refused).
			if i := slices.IndexFunc(drafts[:n], func(d *noticeDraft) bool { return !d.recorded }); i >= 0 {
				n, taking = i+1, drafts[i]
				taking.key = key
			}
		}
		chunk := drafts[:n]
		drafts = drafts[n:]
		err := s.cfg.Store.WithNoticeNumbers(ctx, prefix, func(next int) error {
			// Under the series' lock no notice of it is recorded but by this chunk: a key
			// recorded now stays the only notice of its employer in this batch.
			var fresh []*noticeDraft
			for _, d := range chunk {
				if k := d.key; k != "" {
					// With its body: another batch under the key, through another replica, is
					// refused before this one records under it.
					var err error
					if _, d.recorded, err = s.cfg.Store.RecordedFor(k, hash); err != nil {
						return err
					}
					if d.recorded && k == key {
						// Another try of the batch, through another replica, took the key
						// meanwhile: for this employer's notice or another's.
						if err := s.sameEmployer(ctx, key, hash, d.id); err != nil {
							return err
						}
					}
				}
				if !d.recorded && !d.skipped && !d.done {
					fresh = append(fresh, d)
				}
			}
			// Changed since read (another batch's notice to it, a payment): read again before
			// they take numbers, so one no longer due a notice leaves none unused in the
			// county's series.
			var changed []*noticeDraft
			for _, d := range fresh {
				if s.cfg.Store.Version(d.id) != d.version {
					changed = append(changed, d)
				}
			}
			due := make([]bool, len(changed))
			errs := make([]error, len(changed))
			parallel(len(changed), func(i int) { due[i], errs[i] = s.draft(ctx, changed[i], batch, ref, 0) })
			if err := errors.Join(errs...); err != nil {
				return err
			}
			for i, d := range changed {
				if !due[i] {
					if err := s.notDue(d, hash); err != nil {
						return err
					}
					if d.recorded {
						continue // the change was its notice, this batch's
					}
					prog.set(func(p *BatchProgress) { p.Eligible-- })
					s.cfg.Log.Info("county notices: changed since read and no longer due a notice; left out", "county", code, "employer", d.id)
				}
			}
			fresh = slices.DeleteFunc(fresh, func(d *noticeDraft) bool { return d.skipped || d.recorded })
			parallel(len(fresh), func(i int) {
				fresh[i].notice.Number = domain.NoticeNumber(prefix, next+i)
				fresh[i].pdf, fresh[i].err = fresh[i].notice.Render()
			})
			reqs := make([]eventstore.Request, len(fresh))
			for i, d := range fresh {
				if d.err != nil {
					return d.err
				}
				reqs[i] = d.request(batch.IssueNotice, d.key, hash)
			}
			results := s.recordAll(r, reqs)
			for i, res := range results { // each decided on its own: all counted before any error
				if res.Err == nil {
					last = max(last, res.Seq)
					recorded++
					fresh[i].done = true
				}
			}
			for i, res := range results {
				d := fresh[i]
				number := d.notice.Number
				var de *domain.Error
				switch {
				case errors.Is(res.Err, eventstore.ErrStale):
					// Changed since read: printed again from its events, with its number.
					if err := s.recordDraft(ctx, d, batch, ref, number, hash, record); err != nil {
						return err
					}
				case errors.As(res.Err, &de) && de.Kind == domain.KindConflict:
					// Refused as decided on the stream: changed through another replica since
					// it was read (its notice of the day issued there). Left out if no longer due.
					eligible, err := s.draft(ctx, d, batch, ref, 0)
					if err != nil {
						return err
					}
					if eligible {
						return res.Err
					}
					if err := s.notDue(d, hash); err != nil {
						return err
					}
				case res.Err != nil:
					return res.Err
				case res.Duplicate && res.EmployerID != d.id:
					return anotherTry()
				case res.Duplicate:
					d.recordedAt = res.Seq // recorded by another replica meanwhile
				}
				if d.skipped {
					prog.set(func(p *BatchProgress) { p.Eligible-- })
					s.cfg.Log.Warn("county notices: no longer due a notice when recorded; this batch does not use its number (another notice may have, or take, it)",
						"county", code, "employer", d.id, "number", number)
				}
			}
			return nil
		})
		if err != nil {
			return nil, 0, 0, stopped(err)
		}
		if taking != nil {
			// Taken now, by this chunk's notice or, through another replica, another try's
			// for another payer: this try would then issue that payer a second notice.
			res, ok, err := s.cfg.Store.Retried(ctx, key, hash)
			switch {
			case err != nil:
				return nil, 0, 0, stopped(err)
			case ok && (res.EmployerID != taking.id || taking.skipped):
				return nil, 0, 0, anotherTry()
			}
			claimed = ok
		}
		for _, d := range chunk {
			switch {
			case d.skipped:
			case d.recorded:
				// Issued by an earlier try of the batch: the key answers the notice it recorded.
				var res eventstore.Result
				if res, err = record(d, eventstore.Request{EmployerID: d.id, Command: &batch.IssueNotice, Checked: true}); err == nil {
					err = addRecorded(d.id, res.Seq)
				}
			case d.recordedAt != 0:
				err = addRecorded(d.id, d.recordedAt)
			default:
				err = add(d.notice.Number, d.id, d.notice, d.pdf)
			}
			if err != nil {
				return nil, 0, 0, stopped(err)
			}
		}
	}
	mw.Flush()
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.csv", Method: zip.Deflate, Modified: modified})
	if err != nil {
		return nil, 0, 0, err
	}
	if _, err := f.Write(manifest.Bytes()); err != nil {
		return nil, 0, 0, err
	}
	if len(unprintable) > 0 {
		rows := [][]string{{"employer_id", "name", "reason"}}
		for _, d := range unprintable {
			rows = append(rows, []string{d.id, importer.SpreadsheetText(d.notice.Name), d.unprintable})
		}
		if err := zipCSV(zw, "unprintable.csv", modified, rows); err != nil {
			return nil, 0, 0, err
		}
	}
	if len(escalated) > 0 {
		rows := [][]string{{"employer_id", "name", "step", "on"}}
		for _, d := range escalated {
			rows = append(rows, []string{d.id, importer.SpreadsheetText(d.notice.Name), d.escalated.Step, d.escalated.On.String()})
		}
		if err := zipCSV(zw, "escalated.csv", modified, rows); err != nil {
			return nil, 0, 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, 0, 0, err
	}
	s.cfg.Log.Info("county notices done", "county", code, "issued", issued, "employers", len(all))
	return pdfs.Bytes(), issued, last, nil
}

// notDue marks d, found no longer due a notice: recorded when its notice is under its key with
// the batch's body (another try of the batch, through another replica, issued it since d was
// read, and the batch answers with it), else skipped.
func (s *Server) notDue(d *noticeDraft, hash string) error {
	d.recorded, d.skipped = false, true
	if d.key == "" {
		return nil
	}
	_, ok, err := s.cfg.Store.RecordedFor(d.key, hash)
	d.recorded, d.skipped = ok, !ok
	return err
}

// sameEmployer refuses, unavailable, a notice of employer id found recorded under the batch's
// key when the key answers another employer's notice: another try of the batch recorded that
// one through another replica, and is running still.
func (s *Server) sameEmployer(ctx context.Context, key, hash, id string) error {
	res, ok, err := s.cfg.Store.Retried(ctx, key, hash)
	if err != nil || !ok || res.EmployerID == id {
		return err
	}
	return anotherTry()
}

// anotherTry is the answer of a batch that meets another try of itself (the same key and body)
// running through another replica.
func anotherTry() error {
	return &domain.Error{Kind: domain.KindUnavailable, Field: "Idempotency-Key",
		Detail: "another try of this batch (its key, its body) is running through another server: send it again once that one has answered; no notice is issued twice"}
}

// request is the request recording d's notice, as printed, on the version it was read at.
func (d *noticeDraft) request(cmd domain.IssueNotice, key, bodyHash string) eventstore.Request {
	sum := sha256.Sum256(d.pdf)
	cmd.Document(d.notice.Number, hex.EncodeToString(sum[:]))
	version := d.version
	return eventstore.Request{EmployerID: d.id, Command: &cmd, Checked: true, IfMatch: &version, IdempotencyKey: key, BodyHash: bodyHash}
}

// recordDraft records d's notice as number, printing it again first when it was printed with
// another number, and again from the employer's new events when it changed since read (up to
// noticeAttempts times); d.skipped is set when it is no longer overdue, d.recorded when that is
// because another try of the batch (key and body hash) recorded its notice meanwhile.
func (s *Server) recordDraft(ctx context.Context, d *noticeDraft, batch NoticeBatch, ref *domain.Reference, number, hash string,
	record func(*noticeDraft, eventstore.Request) (eventstore.Result, error)) error {
	for attempt := 1; ; attempt++ {
		if d.err == nil && d.notice.Number != number {
			d.notice.Number = number
			d.pdf, d.err = d.notice.Render()
		}
		if d.err != nil {
			return d.err
		}
		res, err := record(d, d.request(batch.IssueNotice, "", ""))
		if err == nil && res.Duplicate && res.EmployerID != d.id {
			return anotherTry() // its key answers another payer's notice, another try's
		}
		if err == nil && res.Duplicate {
			d.recordedAt = res.Seq
		}
		if errors.Is(err, eventstore.ErrStale) && attempt < noticeAttempts {
			eligible, err := s.draft(ctx, d, batch, ref, 0) // in the batch already: is it still overdue?
			if err != nil {
				return err
			}
			if !eligible {
				return s.notDue(d, hash)
			}
			continue // printed again with the number above
		}
		return err
	}
}

// countyEmployers lists the county's employers on on, with their arrears then, in the order of
// the employer list, from the views once they reflect every write recorded so far; order is
// every employer of the views in that order (the views' own list: read it only).
func (s *Server) countyEmployers(ctx context.Context, p Principal, code string, on domain.Date) ([]EmployerSummary, []string, error) {
	wait, cancel := context.WithTimeout(ctx, WriteTimeout)
	// The store's follower applies a write after it is acknowledged: catch it up to the stream
	// first, so that a write answered just before the batch is in the list.
	err := s.cfg.Store.CatchUp(wait)
	if err == nil {
		err = s.cfg.Runner.WaitSeq(wait, s.cfg.Store.Applied())
	}
	cancel()
	if err != nil {
		return nil, nil, &domain.Error{Kind: domain.KindUnavailable, Detail: "the views are behind the ledger; retry"}
	}
	ref := s.viewsRef()
	q, err := parseSearch(url.Values{"county": {code}}, ref)
	if err != nil {
		return nil, nil, err
	}
	l, err := s.cfg.Runner.At(ctx, projections.Query{AsOf: on, Period: projections.DefaultPeriod(ref, on)}, on, "issued_on")
	if err != nil {
		return nil, nil, err
	}
	res, err := q.run(l, p, on, nil, true)
	if err != nil {
		return nil, nil, err
	}
	return res.rows, l.Order, nil
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

// parallel calls fn(i) for every i below n, on as many goroutines as there are processors.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
