package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// The acceptance test of year-end closing (issue 13): two ledgers receive the same writes over
// 2006–2008, one closing 2006 and 2007 after their December freezes, one never closed.

// acceptToday is the business date of both ledgers: every write of 2006–2008 is in its past.
var acceptToday = domain.MustDate("2009-01-31")

// acceptPayers is how many payers the test generates.
const acceptPayers = 24

// The Idempotency-Key of the write made in 2006 that the test retries across years and restarts.
const acceptKey = "accept-2006-payment"

// acceptOp is one write of the generated ledger, in business-date order.
type acceptOp struct {
	date  string // business date, YYYY-MM-DD
	payer int    // index of the payer; -1 for the registration of payer `reg`
	reg   int
	sub   string // route under /v1/employers/{id}/; "" for a registration
	token string
	body  string
	key   string // Idempotency-Key, if any
}

// acceptOps generates the writes deterministically: each payer registers in April 2006 (in one
// of three counties), declares pension and unemployment every month from its registration to
// 2008-11 on the 5th of the next month, and pays on time, late, partly or not at all; one
// payment is reversed and one late fee is waived.
func acceptOps() []acceptOp {
	counties := []string{"360702", "360721", "360722"}
	var ops []acceptOp
	for p := range acceptPayers {
		org := orgCode(8100 + p)
		ops = append(ops, acceptOp{date: "2006-04-03", payer: -1, reg: p, token: tokAdmin,
			body: fmt.Sprintf(`{"name":"单位 %s","county":%q,"org_code":%q,"kind":"enterprise","risk_class":%d,"registered_on":"2006-04-03"}`,
				org, counties[p%len(counties)], org, 1+p%3)})
		head := 3 + p%7
		for m := 0; ; m++ {
			period := time.Date(2006, time.April+time.Month(m), 1, 0, 0, 0, 0, time.UTC)
			if period.After(time.Date(2008, 11, 1, 0, 0, 0, 0, time.UTC)) {
				break
			}
			next := period.AddDate(0, 1, 0)
			per := period.Format("2006-01")
			if m%11 == 5 { // the headcount changes now and then
				head++
			}
			base := int64(head) * 120000
			ops = append(ops, acceptOp{date: next.Format("2006-01") + "-05", payer: p, sub: "declarations", token: tokAdmin,
				body: fmt.Sprintf(`{"declared_on":"%s-05","period":%q,"lines":[{"insurance":"pension","headcount":%d,"wage_base_fen":%d},{"insurance":"unemployment","headcount":%d,"wage_base_fen":%d}]}`,
					next.Format("2006-01"), per, head, base, head, base)})
			due := (base*2800+5000)/10000 + (base*300+5000)/10000
			receipt := fmt.Sprintf("P%d-%s", p, per)
			var paidOn string
			amount := due
			switch (p*7 + m*3) % 10 {
			case 0, 1, 2, 3, 4: // on time
				paidOn = next.Format("2006-01") + "-12"
			case 5, 6: // late
				paidOn = next.AddDate(0, 1, 0).Format("2006-01") + "-09"
			case 7: // partly
				paidOn = next.Format("2006-01") + "-14"
				amount = due / 2
			default: // missing
				continue
			}
			body := paymentBody(receipt, amount, paidOn)
			if p%6 == 5 && per >= "2007-06" { // stops paying in mid-2007, pays only the current period in 2008
				if per < "2008-01" {
					continue
				}
				pension := (base*2800 + 5000) / 10000
				body = fmt.Sprintf(`{"paid_on":%q,"amount_fen":%d,"receipt_no":%q,"allocations":[{"insurance":"pension","period":%q,"amount_fen":%d},{"insurance":"unemployment","period":%q,"amount_fen":%d}]}`,
					paidOn, due, receipt, per, pension, per, due-pension)
			}
			op := acceptOp{date: paidOn, payer: p, sub: "payments", token: tokAdmin, body: body}
			if p == 0 && per == "2006-06" {
				op.key = acceptKey
			}
			ops = append(ops, op)
		}
	}
	// A bounced transfer and a waiver of part of a late fee (payer 2 leaves 2006-09 unpaid).
	ops = append(ops,
		acceptOp{date: "2006-06-20", payer: 1, sub: "payment-reversals", token: tokAdmin,
			body: `{"reversed_on":"2006-06-20","receipt_no":"P1-2006-05","reason":"退票"}`},
		acceptOp{date: "2006-12-01", payer: 2, sub: "waivers", token: tokAdmin,
			body: `{"decided_on":"2006-12-01","kind":"late_fee","authority_doc":"赣劳社字[2006]1号","reason":"困难企业","insurance":"pension","period":"2006-09","amount_fen":10}`},
		acceptOp{date: "2008-08-20", payer: 5, sub: "payments", token: tokAdmin, // 清欠: part of 2007's arrears recovered
			body: `{"paid_on":"2008-08-20","amount_fen":50000,"receipt_no":"QQ-5","allocations":[{"insurance":"pension","period":"2007-08","amount_fen":50000}]}`},
		acceptOp{date: "2007-09-03", payer: 4, sub: "payment-reversals", token: tokAdmin,
			body: `{"reversed_on":"2007-09-03","receipt_no":"P4-2007-07","reason":"退票"}`},
		// After both closings: a payment of December 2007 bounces, and an audit adds to a line of
		// 2006 that was paid in full (both need what the closed years' compaction folded away).
		acceptOp{date: "2008-02-15", payer: 6, sub: "payment-reversals", token: tokAdmin,
			body: `{"reversed_on":"2008-02-15","receipt_no":"P6-2007-10","reason":"退票"}`},
		acceptOp{date: "2008-03-10", payer: 3, sub: "audit-findings", token: tokAdmin,
			body: `{"found_on":"2008-03-10","kind":"under_reported_base","period":"2006-07","insurance":"pension","extra_wage_base_fen":250000,"redeclare_by":"2008-04-10"}`},
	)
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].date < ops[j].date })
	return ops
}

// acceptLedger is one of the two ledgers with the ids of its payers.
type acceptLedger struct {
	*env
	ids   []string
	first resp // the answer to the keyed write of 2006
	body  string
	path  string
}

func newAcceptLedger(t *testing.T) *acceptLedger {
	t.Helper()
	e := newYearEnv(t, acceptToday)
	return &acceptLedger{env: e, ids: make([]string, acceptPayers)}
}

// run applies the ops dated on or before through, from ops[from:], and returns the next index.
func (a *acceptLedger) run(t *testing.T, ops []acceptOp, from int, through string) int {
	t.Helper()
	i, last := from, uint64(0)
	for ; i < len(ops) && ops[i].date <= through; i++ {
		op := ops[i]
		path := "/v1/employers"
		if op.payer >= 0 {
			path = empPath(a.ids[op.payer], op.sub)
		}
		q := req{Path: path, Token: op.token, Body: []byte(op.body)}
		if op.key != "" {
			q.Header = map[string]string{"Idempotency-Key": op.key}
		}
		r := a.do(t, q)
		if r.Status != http.StatusCreated {
			t.Fatalf("op %d (%s) POST %s %s: %s, want 201", i, op.date, path, op.body, r)
		}
		if op.payer < 0 {
			a.ids[op.reg] = r.str("employer_id")
		}
		last = uint64(r.num("seq"))
		if op.key != "" {
			a.first, a.body, a.path = r, op.body, path
		}
	}
	if i > 0 {
		// Wait for the views to apply the last write.
		a.waitViews(t, last)
	}
	return i
}

// reads are the GETs whose answers (but their top-level seq) closing must leave unchanged.
func (a *acceptLedger) closedYearReads(freezes []string) []string {
	paths := []string{"/v1/counties?as_of=2006-12-31", "/v1/counties?as_of=2007-12-31", "/v1/counties?as_of=2006-06-30&period=2006-04",
		"/v1/series?as_of=2006-12-31", "/v1/series?as_of=2007-12-31", "/v1/worklists?as_of=2006-10-31", "/v1/targets?as_of=2007-06-30"}
	for _, f := range freezes {
		paths = append(paths, "/v1/freezes/"+f)
	}
	for _, p := range []int{0, 1, 2, 4, 7, acceptPayers - 1} {
		paths = append(paths, empPath(a.ids[p], "history"), empPath(a.ids[p], "history")+"?as_of=2006-12-31")
	}
	return paths
}

// snapshot reads paths and returns each answer without its top-level seq and the other top-level
// fields named in drop, with the payers' ids replaced by their index so that two ledgers compare.
func (a *acceptLedger) snapshot(t *testing.T, paths []string, drop ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range paths {
		r := a.get(t, p, tokAdmin)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %s", p, r)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.Raw, &m); err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		delete(m, "seq")
		for _, k := range drop {
			delete(m, k)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range a.ids {
			b = bytes.ReplaceAll(b, []byte(id), []byte(fmt.Sprintf("payer-%d", i)))
		}
		out[a.canon(p)] = string(b)
	}
	return out
}

// canon names a path with the payers' ids replaced by their index.
func (a *acceptLedger) canon(p string) string {
	for i, id := range a.ids {
		p = string(bytes.ReplaceAll([]byte(p), []byte(id), []byte(fmt.Sprintf("payer-%d", i))))
	}
	return p
}

// figureReads are the counties figures, flags, worklists and every payer's read as of year ends
// and dates of 2008 (the first days after the closed books among them).
func (a *acceptLedger) figureReads() []string {
	var paths []string
	for _, d := range []string{"2006-12-31", "2007-12-31", "2008-01-05", "2008-01-20", "2008-06-30", "2008-12-31"} {
		paths = append(paths, "/v1/counties?as_of="+d, "/v1/flags?as_of="+d, "/v1/worklists?as_of="+d)
		for _, id := range a.ids {
			paths = append(paths, "/v1/employers/"+id+"?as_of="+d)
		}
	}
	return paths
}

func sameReads(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		if got[k] != want[k] {
			n++
			if n <= 5 {
				t.Errorf("%s: GET %s differs:\n got  %s\n want %s", what, k, got[k], want[k])
			}
		}
	}
	if n > 5 {
		t.Errorf("%s: %d reads differ in all", what, n)
	}
}

// retryKeyed retries the keyed write of 2006 and checks it answers 200 duplicate with the
// original result, and that the key with another body is 422; neither appends.
func (a *acceptLedger) retryKeyed(t *testing.T, when string) {
	t.Helper()
	n := a.count()
	h := map[string]string{"Idempotency-Key": acceptKey}
	r := a.do(t, req{Path: a.path, Token: tokAdmin, Body: []byte(a.body), Header: h})
	if r.Status != http.StatusOK || r.JSON["duplicate"] != true {
		t.Errorf("%s: a retry of the 2006 write's key answers %s, want 200 duplicate", when, r)
	}
	for _, k := range []string{"seq", "employer_id"} {
		if fmt.Sprint(r.JSON[k]) != fmt.Sprint(a.first.JSON[k]) {
			t.Errorf("%s: a retry of the 2006 write's key answers %s %v, the first answer %v", when, k, r.JSON[k], a.first.JSON[k])
		}
	}
	other := paymentBody("P0-2006-06", 1, "2006-08-09")
	wantError(t, a.do(t, req{Path: a.path, Token: tokAdmin, Body: []byte(other), Header: h}), 422, "idempotency_mismatch", "Idempotency-Key")
	a.wantUnchanged(t, n)
}

// TestClosingYearsAcceptance: issue 13's first "what must hold". Closing 2006 and 2007 leaves
// the closed years' figures, freezes and histories byte-identical (but seq); the ledger's
// figures of 2006–2008, prior-year arrears and late fees included, and every payer's read equal
// those of a ledger never closed; a restart equals the figures before it and a rebuild from
// sequence 1; and a write of 2006 retried with its Idempotency-Key after the closing and after a
// restart answers its first result.
func TestClosingYearsAcceptance(t *testing.T) {
	ops := acceptOps()
	open, closing := newAcceptLedger(t), newAcceptLedger(t)

	var freezes []string
	i, j := 0, 0
	for _, year := range []string{"2006", "2007"} {
		// Everything up to the end of January: December's declarations and payments are in.
		through := fmt.Sprintf("%d-01-31", mustAtoi(t, year)+1)
		i = open.run(t, ops, i, through)
		j = closing.run(t, ops, j, through)
		f := closing.freeze(t, tokAssessor, year+"-12-31", 0)
		closing.waitViews(t, f.Seq)
		freezes = append(freezes, f.ID)
		paths := closing.closedYearReads(freezes)
		before := closing.snapshot(t, paths)
		closing.closeYear(t, tokAssessor, year, fmt.Sprintf(`{"freeze_id":%q}`, f.ID))
		sameReads(t, "after closing "+year, closing.snapshot(t, paths), before)
		if !closing.yearOf(t, mustAtoi(t, year)).Closed {
			t.Fatalf("%s is not listed closed", year)
		}
		closing.retryKeyed(t, "after closing "+year)
	}
	wantCompacted(t, closing.runner, domain.MustDate("2007-12-31"))
	// A period of the closed books as of a date after them: the live views no longer hold it.
	wantError(t, closing.get(t, "/v1/counties?as_of=2008-01-31&period=2007-05", tokAdmin), 400, "invalid", "period")
	// A series reads each month from its first day: as of a date after the closed books it
	// starts after them, and its refusal names that month (it named 2007-11, the first period
	// a single figures read may ask for, and refused it too).
	for _, from := range []string{"2007-11", "2007-12"} {
		r := closing.get(t, "/v1/series?as_of=2008-01-31&from="+from+"&to=2008-01", tokAdmin)
		wantError(t, r, 400, "invalid", "from")
		if d := r.str("detail"); !strings.Contains(d, "starts from 2008-01") {
			t.Errorf("a series from %s refused with %q, want it to name 2008-01", from, d)
		}
	}
	if r := closing.get(t, "/v1/series?as_of=2008-01-31&from=2008-01&to=2008-01", tokAdmin); r.Status != http.StatusOK {
		t.Errorf("a series from the month the refusal names: %s", r)
	}
	if r := open.get(t, "/v1/counties?as_of=2008-01-31&period=2007-05", tokAdmin); r.Status != http.StatusOK {
		t.Errorf("the ledger never closed answers a 2007 period as of 2008-01-31 with %s", r)
	}
	i = open.run(t, ops, i, "2009-01-31")
	j = closing.run(t, ops, j, "2009-01-31")
	if i != len(ops) || j != len(ops) {
		t.Fatalf("ran %d and %d of %d writes", i, j, len(ops))
	}

	// The bounced payment of 2007 keeps payer 6 out of the 2007 compaction; the audit brought
	// payer 3's 2006-07 pension line back into its working set.
	views := closing.runner.Current()
	if through := views.Employers.Get(closing.ids[6]).Account.CompactedThrough(); through >= views.Boundary {
		t.Errorf("payer 6, whose 2007 payment bounced in 2008, is compacted through %s", through)
	}
	if !hasLine(views.Employers.Get(closing.ids[3]).Account.Statement(acceptToday, views.Ref.LateFees), "2006-07", domain.Pension) {
		t.Errorf("payer 3's audited 2006-07 pension line is not in its working set")
	}

	// An employer read's version is the sequence of its last event, which the freezes and
	// closings (events of the closing ledger only) move as they move seq: it is compared within
	// the closing ledger, not across the two.
	paths := closing.figureReads()
	got := closing.snapshot(t, paths)
	sameReads(t, "closed vs never closed", closing.snapshot(t, paths, "version"), open.snapshot(t, open.figureReads(), "version"))
	for _, d := range []string{"2008-06-30", "2008-12-31"} {
		wantArrears(t, d, got["/v1/counties?as_of="+d])
	}

	closing.restart()
	closing.runner = startRunner(t, closing.l.Store)
	closing.serve()
	sameReads(t, "after a restart", closing.snapshot(t, paths), got)
	var v struct {
		OK    bool            `json:"ok"`
		Views json.RawMessage `json:"views"`
	}
	decode(t, closing.get(t, "/v1/verify", tokAdmin), &v)
	if !v.OK || len(v.Views) == 0 {
		t.Errorf("GET /v1/verify after a restart: ok %v, views %s", v.OK, v.Views)
	}
	for _, y := range []int{2006, 2007} {
		if !closing.yearOf(t, y).Closed {
			t.Errorf("%d is not listed closed after a restart", y)
		}
	}
	closing.retryKeyed(t, "after a restart")
	before := closing.count()
	wantError(t, closing.post(t, empPath(closing.ids[3], "payments"), tokAdmin, paymentBody("late-2007", 100, "2007-12-20")), 409, "year_closed", "paid_on")
	closing.wantUnchanged(t, before)
}

// wantArrears checks that the city's figures exercise what they compare: current- and
// prior-year arrears, their recovery and late fees are not zero.
func wantArrears(t *testing.T, when, raw string) {
	t.Helper()
	var body struct {
		City struct {
			Current   int64 `json:"arrears_current_year_fen"`
			Prior     int64 `json:"arrears_prior_years_fen"`
			Recovered int64 `json:"recovered_fen"`
			LateFee   int64 `json:"late_fee_fen"`
		} `json:"city"`
	}
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		t.Fatalf("counties figures as of %s: %v", when, err)
	}
	if c := body.City; c.Current <= 0 || c.Prior <= 0 || c.Recovered <= 0 || c.LateFee <= 0 {
		t.Errorf("the city's figures as of %s %+v: want current and prior arrears, recovery and late fees", when, c)
	}
}

// wantCompacted checks that the live views are compacted through the boundary: settled lines
// left the working set of most payers, and figures as of the boundary are no longer theirs to
// answer.
func wantCompacted(t *testing.T, r *projections.Runner, boundary domain.Date) {
	t.Helper()
	l := r.Current()
	if l.Boundary != boundary {
		t.Fatalf("the live views are compacted through %s, want %s", l.Boundary, boundary)
	}
	settled := 0
	for _, e := range l.Employers.All() {
		if e.Account.CompactedThrough() == boundary && len(e.Account.Settled()) > 0 {
			settled++
		}
	}
	if settled < l.Employers.Len()/2 {
		t.Errorf("%d of %d payers have settled lines compacted through %s, want most", settled, l.Employers.Len(), boundary)
	}
	if l.Covers(projections.Query{AsOf: boundary, Period: boundary.Period()}) {
		t.Errorf("compacted views claim to cover figures as of %s", boundary)
	}
}

func hasLine(st domain.Statement, period string, ins domain.Insurance) bool {
	_, ok := st.Line(domain.LineKey{Period: domain.MustPeriod(period), Insurance: ins})
	return ok
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}
