package importer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// Reject is a row that was not imported and why.
type Reject struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// Report sums up an import.
type Report struct {
	Kind       string   `json:"kind"`
	Encoding   string   `json:"encoding"`
	Rows       int      `json:"rows"`
	Imported   int      `json:"imported"`
	Duplicates int      `json:"duplicates"`
	Rejected   []Reject `json:"rejected"`
	Seconds    float64  `json:"seconds"`
}

// Options configure an import.
type Options struct {
	// Kind is the kind of rows; "" detects it from the header.
	Kind  string
	Actor string
	Today domain.Date
	// Batch is how many rows go to the ledger at once (default 50,000: within a batch, deciding
	// the next rows overlaps with committing the first).
	Batch int
	// Progress, if set, is told after each batch.
	Progress func(done, total int, elapsed time.Duration)
	// Authorize, if set, vets each row's county (a clerk's scope).
	Authorize func(county string) error
}

// row is one command built from one or more rows of the file.
type row struct {
	lines []int // indexes into the table's rows
	req   eventstore.Request
}

// Import checks every row of t, appends the valid ones through the bulk path and reports the
// rest. Each command's idempotency key digests its rows' content and position, so importing the
// same file again, or after a crash, appends nothing twice.
func Import(ctx context.Context, store *eventstore.Store, t *Table, opt Options) (*Report, error) {
	start := time.Now()
	if opt.Batch <= 0 {
		opt.Batch = 50000
	}
	kind := opt.Kind
	if kind == "" {
		k, err := Detect(t.Header)
		if err != nil {
			return nil, err
		}
		kind = k
	} else if _, ok := required[kind]; !ok {
		return nil, fmt.Errorf("unknown kind %q: want one of %s", kind, strings.Join(Kinds, ", "))
	}
	cols := columns(t.Header)
	for _, f := range required[kind] {
		if _, ok := cols[f]; !ok {
			return nil, fmt.Errorf("a %s file needs a column %q (or %s)", kind, f, strings.Join(aliases[f][1:], ", "))
		}
	}
	if kind != KindRegistrations {
		_, a := cols["org_code"]
		_, b := cols["employer_id"]
		_, c := cols["credit_code"]
		if !a && !b && !c {
			return nil, fmt.Errorf("a %s file needs a column naming the employer: org_code (组织机构代码), credit_code or employer_id", kind)
		}
	}
	rep := &Report{Kind: kind, Encoding: t.Encoding, Rows: len(t.Rows), Rejected: []Reject{}}
	b := &builder{t: t, cols: cols, kind: kind, ref: store.Reference(), opt: opt}
	cmds := b.build(rep)
	checked := len(rep.Rejected) // rows refused before anything was sent
	for lo := 0; lo < len(cmds); lo += opt.Batch {
		hi := min(lo+opt.Batch, len(cmds))
		reqs := make([]eventstore.Request, hi-lo)
		for i := range reqs {
			reqs[i] = cmds[lo+i].req
		}
		for i, res := range store.ExecuteBulk(ctx, reqs) {
			c := cmds[lo+i]
			switch {
			case res.Err != nil:
				if errors.Is(res.Err, context.Canceled) || errors.Is(res.Err, context.DeadlineExceeded) {
					return rep, res.Err
				}
				for _, l := range c.lines {
					rep.Rejected = append(rep.Rejected, b.reject(l, res.Err))
				}
			case res.Duplicate:
				rep.Duplicates += len(c.lines)
			default:
				rep.Imported += len(c.lines)
			}
		}
		if opt.Progress != nil {
			done := checked
			for _, c := range cmds[:hi] {
				done += len(c.lines)
			}
			opt.Progress(done, len(t.Rows), time.Since(start))
		}
	}
	sortRejects(rep.Rejected)
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

func sortRejects(r []Reject) {
	slices.SortStableFunc(r, func(a, b Reject) int { return cmp.Compare(a.Row, b.Row) })
}

type builder struct {
	t    *Table
	cols map[string]int
	kind string
	ref  *domain.Reference
	opt  Options
}

func (b *builder) cell(i int, field string) string {
	c, ok := b.cols[field]
	if !ok || c >= len(b.t.Rows[i]) {
		return ""
	}
	return strings.TrimSpace(b.t.Rows[i][c])
}

func (b *builder) header(field string) string {
	if c, ok := b.cols[field]; ok {
		return b.t.Header[c]
	}
	return field
}

var indexed = regexp.MustCompile(`^(lines|allocations)\[\d+\]\.`)

// reject turns an error about row i into a report line naming the column.
func (b *builder) reject(i int, err error) Reject {
	r := Reject{Row: b.t.Lines[i], Reason: err.Error()}
	var de *domain.Error
	if errors.As(err, &de) {
		r.Reason = de.Detail
		field := indexed.ReplaceAllString(de.Field, "")
		if field == "employer_id" && b.kind != KindRegistrations {
			field = "org_code"
		}
		if _, ok := b.cols[field]; ok {
			r.Column, r.Value = b.header(field), b.cell(i, field)
		} else {
			r.Column = de.Field
		}
	}
	return r
}

// key digests a command's rows: their kind, position and content.
func (b *builder) key(lines []int) (string, string) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", b.kind)
	for _, i := range lines {
		fmt.Fprintf(h, "%d\x00%s\x1e", b.t.Lines[i], strings.Join(b.t.Rows[i], "\x1f"))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return "import:" + sum, sum
}

// employer finds the employer a row is about.
func (b *builder) employer(i int) (string, error) {
	if id := b.cell(i, "employer_id"); id != "" {
		return id, nil
	}
	if cc := b.cell(i, "credit_code"); cc != "" {
		n, err := domain.NormalizeCreditCode(cc)
		if err != nil {
			return "", domain.Invalid("credit_code", "%v", err)
		}
		return domain.EmployerIDForOrgCode(domain.OrgCodeOfCreditCode(n)), nil
	}
	oc := b.cell(i, "org_code")
	if oc == "" {
		return "", domain.Invalid("org_code", "is required to name the employer")
	}
	n, err := domain.NormalizeOrgCode(oc)
	if err != nil {
		return "", domain.Invalid("org_code", "%v", err)
	}
	return domain.EmployerIDForOrgCode(n), nil
}

func (b *builder) num(i int, field string) domain.Number {
	v := strings.ReplaceAll(b.cell(i, field), ",", "")
	if v == "" {
		return ""
	}
	if _, err := strconv.ParseFloat(v, 64); err != nil {
		return domain.Number(strconv.Quote(v)) // judged, and named, by validation
	}
	return domain.Number(v)
}

// command builds the command of row i (declarations are grouped by the caller).
func (b *builder) command(i int) (eventstore.Request, error) {
	req := eventstore.Request{Actor: b.opt.Actor, Today: b.opt.Today}
	if b.kind == KindRegistrations {
		cmd := &domain.RegisterEmployer{
			Name: b.cell(i, "name"), County: countyCode(b.ref, b.cell(i, "county")), OrgCode: b.cell(i, "org_code"),
			CreditCode: b.cell(i, "credit_code"), Kind: canonical(kindNames, b.cell(i, "kind")), Ownership: b.cell(i, "ownership"),
			RiskClass: b.num(i, "risk_class"), InIndustrialPark: boolean(b.cell(i, "in_industrial_park")),
			RegisteredOn: b.cell(i, "registered_on"), CertificateNo: b.cell(i, "certificate_no"), FoundOn: b.cell(i, "found_on"),
		}
		if err := cmd.Check(domain.Context{Ref: b.ref, Today: b.opt.Today}); err != nil {
			return req, err
		}
		if b.opt.Authorize != nil {
			if err := b.opt.Authorize(cmd.County); err != nil {
				return req, err
			}
		}
		req.Create, req.Command, req.EmployerID = true, cmd, cmd.EmployerID()
		return req, nil
	}
	id, err := b.employer(i)
	if err != nil {
		return req, err
	}
	req.EmployerID = id
	switch b.kind {
	case KindSurveys:
		req.Command = &domain.RecordSurvey{AsOf: b.cell(i, "as_of"), Workforce: b.num(i, "workforce")}
	case KindEnrollments:
		req.Command = &domain.RecordEnrollment{Insurance: canonical(insuranceNames, b.cell(i, "insurance")), Headcount: b.num(i, "headcount"), EffectiveOn: b.cell(i, "effective_on")}
	case KindDeclarations:
		req.Command = &domain.FileDeclaration{DeclaredOn: b.cell(i, "declared_on"), Period: b.cell(i, "period"),
			Lines: []domain.DeclareLine{{Insurance: canonical(insuranceNames, b.cell(i, "insurance")), Headcount: b.num(i, "headcount"), WageBaseFen: b.num(i, "wage_base_fen")}}}
	case KindPayments:
		req.Command = &domain.RecordPayment{PaidOn: b.cell(i, "paid_on"), AmountFen: b.num(i, "amount_fen"), ReceiptNo: b.cell(i, "receipt_no")}
	case KindContracts:
		req.Command = &domain.RecordContracts{SignedOn: b.cell(i, "signed_on"), Count: b.num(i, "count")}
	}
	if err := req.Command.Check(domain.Context{Ref: b.ref, Today: b.opt.Today}); err != nil {
		return req, err
	}
	if b.opt.Authorize != nil {
		req.Authorize = func(e *domain.Employer) error { return b.opt.Authorize(e.County) }
	}
	return req, nil
}

// build checks every row and makes the commands; a declaration's lines for one employer, period
// and date, on consecutive rows, make one declaration (a later one would replace it).
func (b *builder) build(rep *Report) []row {
	// Checking rows is independent work: spread it over the cores, then group in order.
	reqs := make([]eventstore.Request, len(b.t.Rows))
	errs := make([]error, len(b.t.Rows))
	workers := max(runtime.GOMAXPROCS(0), 1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(b.t.Rows); i += workers {
				reqs[i], errs[i] = b.command(i)
			}
		}()
	}
	wg.Wait()
	var out []row
	for i := range b.t.Rows {
		req, err := reqs[i], errs[i]
		if err != nil {
			rep.Rejected = append(rep.Rejected, b.reject(i, err))
			continue
		}
		if b.kind == KindDeclarations && len(out) > 0 {
			last := &out[len(out)-1]
			prev, cur := last.req.Command.(*domain.FileDeclaration), req.Command.(*domain.FileDeclaration)
			if last.req.EmployerID == req.EmployerID && prev.Period == cur.Period && prev.DeclaredOn == cur.DeclaredOn && last.lines[len(last.lines)-1] == i-1 {
				next := *prev
				next.Lines = append(append([]domain.DeclareLine(nil), prev.Lines...), cur.Lines...)
				if err := next.Check(domain.Context{Ref: b.ref, Today: b.opt.Today}); err != nil {
					rep.Rejected = append(rep.Rejected, b.reject(i, err))
					continue
				}
				last.req.Command = &next
				last.lines = append(last.lines, i)
				continue
			}
		}
		out = append(out, row{lines: []int{i}, req: req})
	}
	for k := range out {
		out[k].req.IdempotencyKey, out[k].req.BodyHash = b.key(out[k].lines)
		out[k].req.Checked = true
		if out[k].req.EmployerID == "" {
			// An individual payer has no organisation code: its id comes from its row's key, so a
			// re-run finds the same employer.
			sum := sha256.Sum256([]byte(out[k].req.BodyHash))
			u := sum[:16]
			u[6], u[8] = (u[6]&0x0f)|0x50, (u[8]&0x3f)|0x80
			out[k].req.EmployerID = fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
		}
	}
	return out
}

// WriteRejects writes the rejected rows with the file's header and a last column saying why, as
// UTF-8 CSV (with a byte-order mark, for Excel), ready to be corrected and imported again.
func WriteRejects(w io.Writer, t *Table, rejects []Reject) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string(nil), t.Header...), "错误 error")); err != nil {
		return err
	}
	byLine := map[int]int{}
	for i, l := range t.Lines {
		byLine[l] = i
	}
	seen := map[int]bool{}
	for _, r := range rejects {
		if seen[r.Row] {
			continue
		}
		seen[r.Row] = true
		i, ok := byLine[r.Row]
		if !ok {
			continue
		}
		rec := append([]string(nil), t.Rows[i]...)
		for len(rec) < len(t.Header) {
			rec = append(rec, "")
		}
		reason := r.Reason
		if r.Column != "" {
			reason = r.Column + ": " + reason
		}
		if err := cw.Write(append(rec[:len(t.Header)], reason)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
