// Over 500 lines for a reason: the importer's one pass over a file (reading, checking, deciding,
// batching, appending a batch beside the one before, tallying in order) shares its row and batch
// state; split, each part would need the others' internals.

package importer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/big"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// Reject is a row that was not imported and why.
type Reject struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
	// Error is "year_closed" for a row dated in a closed year: no correction of the row imports
	// it, only an admin's reopening of the year. It is empty for every other reason.
	Error string `json:"error,omitempty"`
}

// Report sums up an import.
type Report struct {
	Kind       string   `json:"kind"`
	Encoding   string   `json:"encoding"`
	Rows       int      `json:"rows"`
	Imported   int      `json:"imported"`
	Duplicates int      `json:"duplicates"`
	Rejected   []Reject `json:"rejected"`
	// Ignored names the file's columns that are no field of its kind, left aside (a misspelt
	// optional column's values would otherwise go unnoticed), each shortened, at most 16.
	Ignored []string `json:"ignored_columns,omitempty"`
	Seconds float64  `json:"seconds"`
	// Seq is the latest stream sequence of a row's event (imported now or before): a read with
	// it as min_seq, on any replica, sees every row the import holds.
	Seq uint64 `json:"seq,omitempty"`
}

// Options configure an import.
type Options struct {
	// Kind is the kind of rows; "" detects it from the header.
	Kind  string
	Actor string
	Today domain.Date
	// Batch is how many rows go to the ledger at once (default 10,000: within a batch, deciding
	// the next rows overlaps with committing the first, and the next batch is read and checked
	// meanwhile, then appended beside it; 10,000 imported fastest, 5,000 and 20,000 5% slower).
	Batch int
	// Progress, if set, is told after each batch.
	Progress func(done, total int, elapsed time.Duration)
	// Authorize, if set, vets each row's county (a clerk's scope). A row about an employer outside
	// it is answered exactly as one about an employer that does not exist.
	Authorize func(county string) error
}

// record is one row of the file.
type record struct {
	n     int // its place among the file's rows besides the header, from 0
	line  int // its line number in the file
	cells []string
	// typed, when not nil, is cells as the file holds them, where a CSV cell written behind a
	// quote (SpreadsheetText) is read without it in cells: the row's key digests typed, as it
	// did before such cells were read so, so that a file imported before keeps its keys.
	typed  []string
	dates  []string // the dates of its short date cells (Table.Dates)
	flaw   error    // what refuses it whatever its cells say (Table.Flaw)
	values []string // the numbers its cells hold where they show others (Table.Values)
	// also is the other employer a row naming two names (employer): a declaration of either
	// is refused with it.
	also string
}

// row is one command built from one or more records.
type row struct {
	recs []*record
	req  eventstore.Request
	key  uint64 // of a declaration: declKey of its rows
}

// ErrLedger marks an import that stopped because the ledger did not take a batch (it was down,
// or did not answer in time), not because of the file: the batches before it are recorded, and
// so may be the one appended beside it (the report counts what was), and importing the same file
// again records the rest once.
var ErrLedger = errors.New("importer: the ledger did not take a batch")

// ErrUnknownKind and ErrUnknownEncoding are wrapped by the errors for a kind or an encoding
// asked for that the importer does not know.
var (
	ErrUnknownKind     = errors.New("unknown kind")
	ErrUnknownEncoding = errors.New("unknown encoding")
)

// Import checks every row of t, appends the valid ones through the bulk path and reports the
// rest. It reads t a batch at a time (Options.Batch rows, at most MaxBatchBytes of cells), reads
// and checks the next batch while the ledger appends one, and appends a batch beside the one
// before when their rows are about different employers, so that memory is bounded by three
// batches. Each command's idempotency key digests its rows' content and position, so importing
// the same file again, or after a crash, appends nothing twice. An import the ledger stopped
// returns an error wrapping ErrLedger.
func Import(ctx context.Context, store *eventstore.Store, t *Table, opt Options) (*Report, error) {
	start := time.Now()
	if opt.Batch <= 0 {
		opt.Batch = 10000
	}
	kind := opt.Kind
	if kind == "" {
		k, err := Detect(t.Header)
		if err != nil {
			return nil, err
		}
		kind = k
	} else if _, ok := required[kind]; !ok {
		return nil, fmt.Errorf("%w %q: want one of %s", ErrUnknownKind, echo(kind), strings.Join(Kinds, ", "))
	}
	cols, err := columns(t.Header)
	if err != nil {
		return nil, err
	}
	if err := unitOf(t.Header, cols, kind); err != nil {
		return nil, err
	}
	for _, field := range takenFields(cols, kind) {
		if c := cols[field]; slices.Contains(t.hiddenCols, c+1) {
			return nil, fmt.Errorf("column %d (%q) is hidden in the workbook: a value the clerk did not see is not imported; show the column and import the file again, or delete it; nothing was imported", c+1, echo(t.Header[c]))
		}
	}
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
	rep := &Report{Kind: kind, Encoding: t.Encoding, Rejected: []Reject{}, Ignored: ignored(t.Header, kind)}
	b := &builder{ctx: ctx, header: t.Header, cols: cols, taken: takenFields(cols, kind), yuanFields: yuanFields(t.Header, cols), kind: kind, ref: store.Reference(), opt: opt, store: store,
		declared: map[uint64]begun{}, seed: maphash.MakeSeed()}
	batches, stop := make(chan checkedBatch), make(chan struct{})
	go b.readBatches(t, batches, stop)
	defer func() {
		// The reader stops after the batch it is on, before t is closed.
		close(stop)
		for range batches {
		}
	}()
	// A batch is appended while the next one is built, unless their rows share an employer,
	// whose rows must go in the file's order: without the overlap each batch's last atomic
	// batches committed while nothing was being built, and the server's stream waited for
	// work a quarter of an import. Batches are tallied and told in order.
	var prev *appending
	// tally adds a's tally to the report and tells its progress if told (not for a batch
	// appended beside one that failed: the rows before it are not all recorded).
	tally := func(a *appending, tell bool) error {
		err := <-a.done
		rep.Rows = a.cb.rows
		rep.Imported += a.rep.Imported
		rep.Duplicates += a.rep.Duplicates
		rep.Seq = max(rep.Seq, a.rep.Seq)
		rep.Rejected = append(rep.Rejected, a.cb.rejected...)
		rep.Rejected = append(rep.Rejected, a.rep.Rejected...)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrLedger, err)
		}
		if tell && opt.Progress != nil {
			done := a.cb.rows - a.cb.carried
			total := max(t.Rows, done)
			if a.cb.eof {
				total = done
			}
			opt.Progress(done, total, time.Since(start))
		}
		return nil
	}
	// flush tallies the batch appending, if any.
	flush := func() error {
		if prev == nil {
			return nil
		}
		a := prev
		prev = nil
		return tally(a, true)
	}
	for cb := range batches {
		if cb.err != nil {
			if err := flush(); err != nil {
				return rep, err // the ledger's error came first
			}
			if ctx.Err() != nil {
				return rep, cb.err // cancelled, or its time up: what it recorded is told
			}
			return nil, cb.err
		}
		ids := employersOf(cb.cmds)
		if prev != nil && prev.shares(ids) {
			if err := flush(); err != nil {
				return rep, err
			}
		}
		a := b.append(ctx, cb, ids)
		if err := flush(); err != nil {
			_ = tally(a, false) // its rows may be appended: they are counted
			return rep, err
		}
		prev = a
	}
	if err := flush(); err != nil {
		return rep, err
	}
	sortRejects(rep.Rejected)
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// appending is a batch being appended: its tally (Imported, Duplicates, Rejected) is its own
// until the import adds it to its report, once done has given send's error.
type appending struct {
	cb   checkedBatch
	ids  map[string]bool // the employers its rows are about
	rep  Report
	done chan error
}

// append appends cb's commands on a goroutine of their own.
func (b *builder) append(ctx context.Context, cb checkedBatch, ids map[string]bool) *appending {
	a := &appending{cb: cb, ids: ids, done: make(chan error, 1)}
	go func() { a.done <- b.send(ctx, cb.cmds, &a.rep) }()
	return a
}

// shares reports whether a batch about the employers ids has rows about an employer of a's.
func (a *appending) shares(ids map[string]bool) bool {
	small, large := ids, a.ids
	if len(small) > len(large) {
		small, large = large, small
	}
	for id := range small {
		if large[id] {
			return true
		}
	}
	return false
}

// employersOf returns the employers the commands are about.
func employersOf(cmds []row) map[string]bool {
	ids := make(map[string]bool, len(cmds))
	for _, c := range cmds {
		ids[c.req.EmployerID] = true
	}
	return ids
}

// checkedBatch is a batch of rows read and checked, its commands ready to append.
type checkedBatch struct {
	cmds     []row
	rejected []Reject
	rows     int  // rows read from the file so far
	carried  int  // of those, rows held back for the next batch
	eof      bool // the file's last batch
	err      error
}

// readBatches reads and checks t's batches into out, one ahead of the one being appended, until
// the file ends, it fails to read, or stop is closed; then it closes out.
func (b *builder) readBatches(t *Table, out chan<- checkedBatch, stop <-chan struct{}) {
	defer close(out)
	// carry is the last declaration of a batch, which the next batch's first rows may continue.
	var carry *row
	rows := 0
	for eof := false; !eof; {
		select {
		case <-stop:
			return
		default:
		}
		recs, err := b.read(t, rows)
		if err == io.EOF {
			eof = true
		} else if err != nil {
			select {
			case out <- checkedBatch{err: err}:
			case <-stop:
			}
			return
		}
		rows += len(recs)
		cmds, rejected := b.build(recs, carry)
		carry = nil
		cb := checkedBatch{rows: rows, eof: eof}
		if !eof && b.kind == KindDeclarations && len(cmds) > 0 {
			last := cmds[len(cmds)-1]
			carry, cmds = &last, cmds[:len(cmds)-1]
			cb.carried = len(carry.recs)
		}
		b.finish(cmds)
		cb.cmds, cb.rejected = cmds, rejected
		select {
		case out <- cb:
		case <-stop:
			return
		}
	}
}

// read takes the next batch of rows from t: Options.Batch rows or MaxBatchBytes of cells; io.EOF
// with the last. An import cancelled (its client gone, or its time up) stops within a row: a
// batch of a workbook's rows can take minutes to read.
func (b *builder) read(t *Table, n int) ([]*record, error) {
	var recs []*record
	held := 0
	for len(recs) < b.opt.Batch && held < MaxBatchBytes {
		if err := b.ctx.Err(); err != nil {
			return recs, err
		}
		cells, line, err := t.Next()
		if err != nil {
			return recs, err
		}
		for _, c := range cells {
			held += len(c)
		}
		var typed []string
		if t.Encoding != "xlsx" {
			if u := unquotedCells(cells); u != nil {
				typed, cells = cells, u
			}
		}
		recs = append(recs, &record{n: n + len(recs), line: line, cells: cells, typed: typed, dates: t.Dates(), flaw: t.Flaw(), values: t.Values()})
	}
	return recs, nil
}

// send appends a batch of commands and reports each one's rows.
func (b *builder) send(ctx context.Context, cmds []row, rep *Report) error {
	if b.opt.Authorize != nil {
		// A row about an employer outside the importer's counties is refused before the ledger
		// answers anything else about it (that it is a duplicate, or whose it is).
		kept := cmds[:0]
		for _, c := range cmds {
			if err := b.hidden(c.req); err != nil {
				b.rejectAll(rep, c, err)
				continue
			}
			kept = append(kept, c)
		}
		cmds = kept
	}
	reqs := make([]eventstore.Request, len(cmds))
	for i := range reqs {
		reqs[i] = cmds[i].req
	}
	// fault is the first error that is the ledger's, not the row's (it was down, or did not
	// answer in time): those rows are neither imported nor the file's fault, and the import stops
	// after this batch's tally; running it again records them once.
	var fault error
	for i, res := range b.store.ExecuteBulk(ctx, reqs) {
		c := cmds[i]
		var de *domain.Error
		if res.Err != nil && !errors.As(res.Err, &de) {
			if fault == nil {
				fault = res.Err
			}
			continue
		}
		if b.opt.Authorize != nil && (res.Err != nil || res.Duplicate) {
			// The employer may have left the importer's counties while the batch was decided.
			if err := b.hidden(c.req); err != nil {
				b.rejectAll(rep, c, err)
				continue
			}
		}
		switch {
		case res.Err != nil && !c.req.Create && de.Kind == domain.KindNotFound && de.Field == "employer_id" && b.cell(c.recs[0], "employer_id") == "":
			// The row named a code: the id the ledger looked under is no one's concern.
			field := "org_code"
			if b.cell(c.recs[0], "credit_code") != "" {
				field = "credit_code"
			}
			b.rejectAll(rep, c, domain.NotFound(field, "no employer holds this code"))
		case res.Err != nil:
			b.rejectAll(rep, c, res.Err)
		case res.Duplicate:
			rep.Duplicates += len(c.recs)
			rep.Seq = max(rep.Seq, res.Seq)
		default:
			rep.Imported += len(c.recs)
			rep.Seq = max(rep.Seq, res.Seq)
		}
	}
	return fault
}

func (b *builder) rejectAll(rep *Report, c row, err error) {
	for _, r := range c.recs {
		rep.Rejected = append(rep.Rejected, b.reject(r, err))
	}
}

// onField is err naming field when it names none.
func onField(err error, field string) error {
	var de *domain.Error
	if errors.As(err, &de) && de.Field == "" {
		named := *de
		named.Field = field
		return &named
	}
	return err
}

// hidden answers, for an import scoped by Options.Authorize, a row about an employer the importer
// may not write exactly as a row about an employer that does not exist: "no employer by this
// code in your counties", never a duplicate, a conflict naming it, or its county. A registration
// of an organisation code already entered elsewhere is refused without saying where or as whom.
func (b *builder) hidden(req eventstore.Request) error {
	county, ok := b.store.EmployerCounty(req.EmployerID)
	mine := ok && b.opt.Authorize(county) == nil
	switch {
	case req.Create && ok && !mine:
		return domain.Conflict("org_code", "an employer with this organisation code is already in the ledger")
	case !req.Create && !mine:
		return domain.NotFound("employer_id", "no employer by this code in the counties you may write to")
	}
	return nil
}

func sortRejects(r []Reject) {
	slices.SortStableFunc(r, func(a, b Reject) int { return cmp.Compare(a.Row, b.Row) })
}

type builder struct {
	header []string
	cols   map[string]int
	// taken are the fields the file gives that its kind reads, in the order of their columns;
	// yuanFields those of them given in yuan.
	taken      []string
	yuanFields map[string]bool
	kind       string
	ref        *domain.Reference
	opt        Options
	store      *eventstore.Store
	// ctx is the import's, for the store's lookups of organisation codes.
	ctx context.Context
	// declared holds each declaration the import began (its employer, period and date as the
	// file types them: declKey). A declaration replaces its period's whole, so one recorded
	// without some of its lines would drop them.
	declared map[uint64]begun
	seed     maphash.Seed
}

// begun is a declaration an import began: the line of its first row, and of a row of it that
// was refused (0: none).
type begun struct{ first, refused int }

// declKey names the declaration a row of a declarations file belongs to: its employer (by id,
// however its code is written: the id command found, id; as typed when it found none), period
// and date.
func (b *builder) declKey(r *record, id string) uint64 {
	if id == "" {
		id = b.cell(r, "employer_id") + "\x1f" + b.cell(r, "credit_code") + "\x1f" + b.cell(r, "org_code")
	}
	return maphash.String(b.seed, id+"\x1e"+b.cell(r, "period")+"\x1e"+b.cell(r, "declared_on"))
}

func (b *builder) cell(r *record, field string) string {
	c, ok := b.cols[field]
	if !ok || c >= len(r.cells) {
		return ""
	}
	v := strings.TrimSpace(r.cells[c])
	switch {
	case dateFields[field]:
		if c < len(r.dates) && r.dates[c] != "" {
			return r.dates[c]
		}
		return civil(v, civilDate)
	case field == "period":
		return civil(v, civilMonth)
	}
	return v
}

// typed is the cell of field in r as the clerk typed it (2006/4/31, not the 2006-04-31 read from
// it), for a reject to show: a date cell of a workbook, a number of days, as the date it shows.
func (b *builder) typed(r *record, field string) string {
	c, ok := b.cols[field]
	if !ok || c >= len(r.cells) {
		return ""
	}
	if c < len(r.dates) && r.dates[c] != "" {
		return r.dates[c]
	}
	return strings.TrimSpace(r.cells[c])
}

// dateFields are the fields that hold a date.
var dateFields = map[string]bool{"as_of": true, "declared_on": true, "effective_on": true, "found_on": true, "paid_on": true, "registered_on": true, "signed_on": true}

// The ways a clerk's spreadsheet writes a date or a month besides YYYY-MM-DD and YYYY-MM: as a
// Chinese Excel saves a date cell in a CSV (2006/9/1), or formats one (2006年9月1日), without
// leading zeros, in full-width digits (normalised first).
var (
	civilDate = regexp.MustCompile(`^(\d{4}) *[-/.年] *(\d{1,2}) *[-/.月] *(\d{1,2}) *日?$`)
	// Not 2006.10 for a month: a cell typed so is the number 2006.1, read as 2006.1.
	civilMonth = regexp.MustCompile(`^(\d{4}) *[-/年] *(\d{1,2}) *月?$`)
)

// civil is the parts re matches in v as YYYY-MM(-DD), or v as it is when re does not match (the
// command's check then refuses it, naming the field). The date is checked there too: 2006/4/31
// is refused as 2006-04-31.
func civil(v string, re *regexp.Regexp) string {
	m := re.FindStringSubmatch(norm.NFKC.String(v))
	if m == nil {
		return v
	}
	out := m[1]
	for _, p := range m[2:] {
		n, _ := strconv.Atoi(p) // one or two digits
		out += fmt.Sprintf("-%02d", n)
	}
	return out
}

func (b *builder) column(field string) string {
	if c, ok := b.cols[field]; ok {
		return echo(b.header[c])
	}
	return field
}

var indexed = regexp.MustCompile(`^(lines|allocations)\[\d+\]\.`)

// reject turns an error about record r into a report line naming the column.
func (b *builder) reject(r *record, err error) Reject {
	rj := Reject{Row: r.line, Reason: reason(err.Error())}
	var de *domain.Error
	if errors.As(err, &de) {
		rj.Reason = reason(de.Detail)
		if de.Kind == domain.KindYearClosed {
			rj.Error = de.Kind.String()
		}
		field := indexed.ReplaceAllString(de.Field, "")
		if field == "employer_id" && b.kind != KindRegistrations {
			field = b.employerField(r)
		}
		if _, ok := b.cols["ownership_code"]; !ok && field == "ownership_code" {
			field = "ownership" // the code was read from the 经济类型 column
		}
		if field == "lines" {
			field = "insurance" // a declaration's lines as a whole: their rows' 险种 column
		}
		if _, ok := b.cols[field]; ok {
			rj.Column, rj.Value = b.column(field), echo(b.typed(r, field))
		} else {
			rj.Column = de.Field
		}
	}
	return rj
}

// reason is a rejected row's reason, each value it quotes (or number or code it holds) past
// maxEcho shortened, so that a long value leaves room for what is wrong with it, and at most maxReason.
func reason(detail string) string {
	return domain.Clip(longWord.ReplaceAllStringFunc(detail, func(w string) string {
		if len(w) <= maxEcho+2 {
			return w
		}
		if w[0] == '"' {
			return `"` + echo(w[1:len(w)-1]) + `"`
		}
		return echo(w)
	}), maxReason)
}

// longWord is a quoted value ("…", its quotes escaped) or a run of ASCII without spaces (a
// number, a code): a sentence of Chinese, which has no spaces, is not one.
var longWord = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|[!#-~]+`)

// employerField is the column a row names its employer by: employer_id, credit_code or org_code.
func (b *builder) employerField(r *record) string {
	for _, f := range []string{"employer_id", "credit_code"} {
		if b.cell(r, f) != "" {
			return f
		}
	}
	return "org_code"
}

// key digests a command's rows: their kind, position and content.
func (b *builder) key(recs []*record) (string, string) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", b.kind)
	for _, r := range recs {
		cells := r.cells
		if r.typed != nil {
			cells = r.typed
		}
		fmt.Fprintf(h, "%d\x00%s\x1e", r.line, strings.Join(cells, "\x1f"))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return "import:" + sum, sum
}

// employer finds the employer a row is about. A row may name it more than once (its id, credit
// code and organisation code); all it gives must name the same employer, or the row is refused:
// the one read first could send a payment to an employer the clerk did not mean.
func (b *builder) employer(r *record) (string, error) {
	// An employer's id is a UUID, written in lower case; one typed in upper case is the same.
	id, cc, oc := strings.ToLower(b.cell(r, "employer_id")), b.cell(r, "credit_code"), b.cell(r, "org_code")
	code, field := "", ""
	if cc != "" {
		n, err := domain.ReadCreditCode(cc)
		if err != nil {
			return "", domain.Invalid("credit_code", "%v", err)
		}
		code, field = domain.OrgCodeOfCreditCode(n), "credit_code"
	}
	if oc != "" {
		n, err := domain.ReadOrgCode(oc)
		if err != nil {
			return "", domain.Invalid("org_code", "%v", err)
		}
		if code != "" && n != code {
			id, _ := b.holder(n)
			r.also, _ = b.holder(code)
			return id, domain.Invalid("org_code", "%s is not the organisation code within the credit code %s: the row names two employers; give one code, or correct the other", n, echo(cc))
		}
		code, field = n, "org_code"
	}
	switch {
	case code == "" && id == "":
		return "", domain.Invalid("org_code", "is required to name the employer")
	case code == "":
		return id, nil
	}
	holder, err := b.holder(code)
	if err != nil || id == "" || holder == id {
		return holder, err
	}
	// Both employers go with the refusal: a declaration's rows are grouped by their employer,
	// and the row refuses the declaration of either, whichever of its names is the mistake.
	r.also = id
	return holder, domain.Invalid("employer_id", "names another employer than the %s %s of the same row: give one of them, or correct the other", strings.ReplaceAll(field, "_", " "), echo(b.cell(r, field)))
}

// holder is the id of the employer that holds an organisation code, or of its slot when none
// does: a registration earlier in the import takes that id.
func (b *builder) holder(code string) (string, error) {
	slot, holder, err := b.store.OrgCodeSlot(b.ctx, code)
	if holder != "" {
		return holder, err
	}
	return slot, err
}

// grouped is a number written with thousands separators (1,234,567): the only commas a number
// may hold here; any other (a decimal comma, 1,5) leaves it refused, not read as another number.
var grouped = regexp.MustCompile(`^-?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$`)

// number is the text of a number field of r: the number a workbook's cell holds where it shows
// another, else the cell in half-width digits (as a Chinese input method may type them full
// width) without its thousands separators.
func (b *builder) number(r *record, field string) string {
	if c, ok := b.cols[field]; ok && c < len(r.values) && r.values[c] != "" {
		return r.values[c]
	}
	v := norm.NFKC.String(b.cell(r, field))
	if grouped.MatchString(v) {
		v = strings.ReplaceAll(v, ",", "")
	}
	return v
}

func (b *builder) num(r *record, field string) domain.Number {
	v := b.number(r, field)
	if v == "" {
		return ""
	}
	if b.yuan(field) {
		if fen, ok := fenOfYuan(v); ok {
			return domain.Number(fen)
		}
	}
	if _, err := strconv.ParseFloat(v, 64); err != nil {
		return domain.Number(strconv.Quote(v)) // judged, and named, by validation
	}
	return domain.Number(v)
}

// yuan reports whether the file gives field in yuan.
func (b *builder) yuan(field string) bool { return b.yuanFields[field] }

// yuanFields are the fields of cols whose column of header is in yuan.
func yuanFields(header []string, cols map[string]int) map[string]bool {
	m := map[string]bool{}
	for field, c := range cols {
		if inYuan[normalize(header[c])] {
			m[field] = true
		}
	}
	return m
}

// yuanAmount is an amount in yuan as a clerk writes it: at most two decimals (trailing zeros
// aside), checked by checkCells.
var yuanAmount = regexp.MustCompile(`^([-+]?)(\d+)(?:\.(\d*?)0*)?$`)

// fenOfYuan is the amount v in yuan (1234.5) as fen (123450); ok is false when v is no such
// amount. It is exact: decimal digits, never a float.
func fenOfYuan(v string) (fen string, ok bool) {
	m := yuanAmount.FindStringSubmatch(v)
	if m == nil || len(m[3]) > 2 {
		return "", false
	}
	digits := strings.TrimLeft(m[2]+m[3]+strings.Repeat("0", 2-len(m[3])), "0")
	if digits == "" {
		return "0", true
	}
	return strings.TrimPrefix(m[1], "+") + digits, true
}

// yuanText writes fen as yuan to the fen: 10000000000.00.
func yuanText(fen domain.Fen) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// checkCells refuses r for what its cells are rather than what they say: its flaw (Table.Flaw),
// a workbook cell of a field that shows one number and holds another (12.6 shown as 13: the
// clerk would record an amount not seen), and an amount in yuan that is no amount to the fen
// (12.345, 1e3, .5: the fen columns' reading of such text would record a hundredth of it).
func (b *builder) checkCells(r *record) error {
	if r.flaw != nil {
		return r.flaw
	}
	for _, field := range b.taken {
		c := b.cols[field]
		if c >= len(r.values) || r.values[c] == "" {
			continue
		}
		shown := strings.ReplaceAll(strings.TrimSpace(r.cells[c]), ",", "")
		held, ok1 := new(big.Rat).SetString(r.values[c])
		seen, ok2 := new(big.Rat).SetString(shown)
		if ok1 && ok2 && held.Cmp(seen) != 0 {
			return domain.Invalid(field, "the cell shows %s but holds %s: give it the amount meant, or a format that shows all of it", echo(strings.TrimSpace(r.cells[c])), echo(r.values[c]))
		}
	}
	for _, field := range b.taken {
		if !b.yuan(field) {
			continue
		}
		v := b.number(r, field)
		switch m := yuanAmount.FindStringSubmatch(v); {
		case v == "":
		case m == nil:
			return domain.Invalid(field, "%s is not an amount in yuan: want digits, with at most two decimals (1234.50)", echo(v))
		case len(m[3]) > 2:
			return domain.Invalid(field, "%s yuan is not a whole number of fen: give at most two decimals", echo(v))
		case m[1] == "-" && strings.Trim(m[2]+m[3], "0") != "": // -0.00 is 0
			return domain.Invalid(field, "%s yuan is below 0", echo(v))
		default:
			// Said in yuan, not as the fen the ledger's own check would name.
			fen, _ := fenOfYuan(v)
			if n, ok := new(big.Int).SetString(fen, 10); ok && n.Cmp(big.NewInt(int64(domain.MaxFen))) > 0 {
				return domain.Invalid(field, "%s yuan is above the most an amount may be, %s yuan", echo(v), yuanText(domain.MaxFen))
			}
		}
	}
	return nil
}

// command builds the command of record r (declarations are grouped by the caller).
func (b *builder) command(r *record) (eventstore.Request, error) {
	req := eventstore.Request{Actor: b.opt.Actor, Today: b.opt.Today}
	if b.kind == KindRegistrations {
		if err := b.checkCells(r); err != nil {
			return req, err
		}
		cmd := &domain.RegisterEmployer{
			Name: b.cell(r, "name"), County: countyCode(b.ref, b.cell(r, "county")), OrgCode: b.cell(r, "org_code"),
			CreditCode: b.cell(r, "credit_code"), Kind: canonical(kindNames, b.cell(r, "kind")),
			RiskClass: b.num(r, "risk_class"), RegisteredOn: b.cell(r, "registered_on"), CertificateNo: b.cell(r, "certificate_no"),
			FoundOn: b.cell(r, "found_on"),
		}
		if err := b.attributes(r, cmd); err != nil {
			return req, err
		}
		// The ledger's own refusal asks for a code; a file may name the county instead.
		if _, ok := b.ref.County(cmd.County); !ok && cmd.County != "" {
			return req, domain.Invalid("county", "unknown county %q: want the 6-digit code or the name (Chinese or English) of one of the %d county-level units of %s",
				cmd.County, len(b.ref.Counties), b.ref.City().NameEN)
		}
		if err := cmd.Check(domain.Context{Ref: b.ref, Today: b.opt.Today}); err != nil {
			return req, err
		}
		if b.opt.Authorize != nil {
			if err := b.opt.Authorize(cmd.County); err != nil {
				return req, onField(err, "county")
			}
		}
		id := ""
		if code := cmd.Code(); code != "" {
			var err error
			if id, _, err = b.store.OrgCodeSlot(b.ctx, code); err != nil {
				return req, err
			}
		}
		req.Create, req.Command, req.EmployerID = true, cmd, id
		return req, nil
	}
	// The employer first: a declaration's rows are grouped by it (declKey), and a row refused
	// for its cells, or for naming two employers, refuses its declaration whole, not apart from
	// it (a code that names no employer is another declaration's, as typed).
	id, err := b.employer(r)
	req.EmployerID = id
	if err != nil {
		return req, err
	}
	if err := b.checkCells(r); err != nil {
		return req, err
	}
	switch b.kind {
	case KindSurveys:
		req.Command = &domain.RecordSurvey{AsOf: b.cell(r, "as_of"), Workforce: b.num(r, "workforce"), Migrants: b.num(r, "migrants")}
	case KindEnrollments:
		req.Command = &domain.RecordEnrollment{Insurance: canonical(insuranceNames, b.cell(r, "insurance")), Headcount: b.num(r, "headcount"),
			EffectiveOn: b.cell(r, "effective_on"), Migrants: b.num(r, "migrants"), Retirees: b.num(r, "retirees")}
	case KindDeclarations:
		req.Command = &domain.FileDeclaration{DeclaredOn: b.cell(r, "declared_on"), Period: b.cell(r, "period"),
			Lines: []domain.DeclareLine{{Insurance: canonical(insuranceNames, b.cell(r, "insurance")), Headcount: b.num(r, "headcount"), WageBaseFen: b.num(r, "wage_base_fen")}}}
	case KindPayments:
		req.Command = &domain.RecordPayment{PaidOn: b.cell(r, "paid_on"), AmountFen: b.num(r, "amount_fen"), ReceiptNo: b.cell(r, "receipt_no")}
	case KindContracts:
		req.Command = &domain.RecordContracts{SignedOn: b.cell(r, "signed_on"), Count: b.num(r, "count")}
	}
	if err := req.Command.Check(domain.Context{Ref: b.ref, Today: b.opt.Today}); err != nil {
		return req, err
	}
	if b.opt.Authorize != nil {
		req.Authorize = func(e *domain.Employer) error { return b.opt.Authorize(e.County) }
	}
	return req, nil
}

// attributes reads a registration's economic type, industry, sector, park and agency columns
// into cmd. An empty cell gives nothing.
func (b *builder) attributes(r *record, cmd *domain.RegisterEmployer) error {
	cmd.Ownership = b.cell(r, "ownership")
	if v := b.cell(r, "ownership_code"); v != "" {
		code, _, err := ownershipCode(v)
		if err != nil {
			return err
		}
		if code == "" {
			code = v // not a code nor a type's name: validation names it
		}
		cmd.OwnershipCode = &code
	} else if _, ok := b.cols["ownership_code"]; !ok && cmd.Ownership != "" {
		// Without a column of its own, an economic type written as a code or a name of GB/T
		// 12402-2000 in the 经济类型 column gives the code too (its errors name that column).
		code, isCode, err := ownershipCode(cmd.Ownership)
		if err != nil {
			return err
		}
		if isCode {
			cmd.OwnershipCode = &code
			if name, ok := domain.OwnershipCodes[code]; ok && cmd.Ownership[0] >= '0' && cmd.Ownership[0] <= '9' {
				cmd.Ownership = name
			}
		}
	}
	if v := b.cell(r, "industry"); v != "" {
		s := industrySection(v)
		cmd.Industry = &s
	}
	if v := b.cell(r, "sector"); v != "" {
		s := canonical(sectorNames, v)
		cmd.Sector = &s
	}
	in, ok := yesNo(b.cell(r, "in_industrial_park"))
	if !ok {
		return domain.Invalid("in_industrial_park", "%q is neither 是 nor 否 (yes or no); a park's name goes in a 园区 (park) column", domain.Clip(b.cell(r, "in_industrial_park"), 32))
	}
	if b.cell(r, "in_industrial_park") != "" {
		cmd.InIndustrialPark = &in
	}
	if v := b.cell(r, "park"); v != "" {
		// The 园区 column names the park, or says only 是 or 否.
		if yes, ok := yesNo(v); ok {
			in = in || yes
			cmd.InIndustrialPark = &in
		} else if b.cell(r, "in_industrial_park") != "" && !in {
			return domain.Invalid("in_industrial_park", "says no, but the payer is in park %q", domain.Clip(v, 32))
		} else {
			in = true
			cmd.Park, cmd.InIndustrialPark = &v, &in
		}
	}
	if v := b.cell(r, "agency"); v != "" {
		yes, ok := yesNo(v)
		if !ok {
			return domain.Invalid("agency", "%q is neither 是 nor 否 (yes or no)", domain.Clip(v, 32))
		}
		cmd.Agency = &yes
	}
	return nil
}

// build checks a batch of records and makes their commands; a declaration's lines for one
// employer, period and date, on consecutive rows, make one declaration (a later one would replace
// it). carry, if not nil, is the last declaration of the batch before, which the first records may
// continue: it comes first in what build returns. Commands have no idempotency key yet (finish);
// the records that make none are rejected.
func (b *builder) build(recs []*record, carry *row) (out []row, rejected []Reject) {
	// Checking rows is independent work: spread it over the cores, then group in order.
	reqs := make([]eventstore.Request, len(recs))
	errs := make([]error, len(recs))
	workers := max(runtime.GOMAXPROCS(0), 1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(recs); i += workers {
				reqs[i], errs[i] = b.command(recs[i])
			}
		}()
	}
	wg.Wait()
	out = make([]row, 0, len(recs)+1)
	if carry != nil {
		out = append(out, *carry)
	}
	for i, r := range recs {
		req, err := reqs[i], errs[i]
		if b.kind != KindDeclarations {
			if err != nil {
				rejected = append(rejected, b.reject(r, err))
				continue
			}
			out = append(out, row{recs: []*record{r}, req: req})
			continue
		}
		k := b.declKey(r, req.EmployerID)
		keys := []uint64{k}
		if r.also != "" {
			keys = append(keys, b.declKey(r, r.also))
		}
		var last *row // the declaration r continues, if it does
		if n := len(out); n > 0 && slices.Contains(keys, out[n-1].key) && out[n-1].recs[len(out[n-1].recs)-1].n == r.n-1 {
			last = &out[n-1]
		}
		if d, ok := b.declared[k]; ok && last == nil {
			if d.refused != 0 {
				err = domain.Invalid("period", "row %d of this declaration (the employer's period and date) is rejected: none of its lines is recorded, as a declaration without one would drop it", d.refused)
			} else {
				err = domain.Invalid("period", "row %d began a declaration of this employer's period on this date, and a declaration replaces the period's whole: put its lines on consecutive rows (imported again alone, this row would drop the lines of row %d)", d.first, d.first)
			}
			rejected = append(rejected, b.reject(r, err))
			continue
		}
		if err == nil && last != nil {
			prev, cur := last.req.Command.(*domain.FileDeclaration), req.Command.(*domain.FileDeclaration)
			next := *prev
			next.Lines = append(append([]domain.DeclareLine(nil), prev.Lines...), cur.Lines...)
			if err = next.Check(domain.Context{Ref: b.ref, Today: b.opt.Today}); err == nil {
				last.req.Command = &next
				last.recs = append(last.recs, r)
				continue
			}
		}
		if err != nil {
			if last != nil { // the rows before it, of its declaration, are not recorded either
				for _, lr := range last.recs {
					rejected = append(rejected, b.reject(lr, domain.Invalid("period", "row %d of this declaration (the employer's period and date) is rejected: none of its lines is recorded, as a declaration without one would drop it", r.line)))
				}
				out = out[:len(out)-1]
			}
			rejected = append(rejected, b.reject(r, err))
			for _, k := range keys {
				d, ok := b.declared[k]
				if !ok {
					d.first = r.line
				}
				d.refused = r.line
				b.declared[k] = d
			}
			continue
		}
		b.declared[k] = begun{first: r.line}
		out = append(out, row{recs: []*record{r}, req: req, key: k})
	}
	return out, rejected
}

// finish gives each command its idempotency key, and an individual payer its id.
func (b *builder) finish(cmds []row) {
	for k := range cmds {
		c := &cmds[k]
		c.req.IdempotencyKey, c.req.BodyHash = b.key(c.recs)
		c.req.Checked = true
		if c.req.EmployerID == "" {
			// An individual payer has no organisation code: its id comes from its row's key, so a
			// re-run finds the same employer.
			// Not uuid.NewSHA1: ids derived this way are in ledgers already, and a re-run of
			// an old file must find its payers.
			sum := sha256.Sum256([]byte(c.req.BodyHash))
			u := uuid.UUID(sum[:16])
			u[6], u[8] = (u[6]&0x0f)|0x50, (u[8]&0x3f)|0x80
			c.req.EmployerID = u.String()
		}
	}
}

// WriteRejects writes the rejected rows with the file's header and a last column saying why, as
// UTF-8 CSV (with a byte-order mark, for Excel), ready to be corrected and imported again; a
// cell a spreadsheet would run as a formula goes behind a quote (SpreadsheetText), which the
// import reads it without. t is
// the file opened again: its rows are read through, and those rejected written as they were.
func WriteRejects(w io.Writer, t *Table, rejects []Reject) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	// Every cell as text: a cell of the file a spreadsheet would run as a formula (inert text
	// in a workbook, or in the CSV's quotes) is not made one by this file.
	write := func(rec []string) error {
		for i, c := range rec {
			rec[i] = SpreadsheetText(c)
		}
		return cw.Write(rec)
	}
	if err := write(append(append([]string(nil), t.Header...), "错误 error")); err != nil {
		return err
	}
	why := map[int]string{}
	for _, r := range rejects {
		if _, ok := why[r.Row]; ok {
			continue
		}
		why[r.Row] = r.Reason
		if r.Column != "" {
			why[r.Row] = r.Column + ": " + r.Reason
		}
	}
	for {
		rec, line, err := t.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		reason, ok := why[line]
		if !ok {
			continue
		}
		rec = append([]string(nil), rec...)
		for len(rec) < len(t.Header) {
			rec = append(rec, "")
		}
		// A short date goes out as its date, in the date columns: mm-dd-yy in a CSV says no day.
		for i, d := range t.Dates() {
			if d != "" && i < len(t.Header) && dateFields[columnsByName[normalize(t.Header[i])]] {
				rec[i] = d
			}
		}
		if err := write(append(rec[:len(t.Header)], reason)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
