// Over 500 lines for a reason: closing and reopening years is one scenario over one ledger,
// checked at each step.

package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// yearsToday is the business date of the year-end closing tests: 2006 has ended.
var yearsToday = domain.MustDate("2007-02-01")

// newYearsEnv is newFreezeEnv with a small demo ledger, today being 2007-02-01, and one
// employer of 360702 (clerk A's) with a payment dated 2006-06-10; it returns the employer's id.
func newYearsEnv(t *testing.T) (*env, string) {
	t.Helper()
	l := storetest.Start(t, eventstore.Config{})
	loadDemoLedger(t, l.Store, 3)
	e := serveAssessed(t, l, yearsToday)
	id := e.register(t, tokClerkA, orgCode(7001), "360702")
	e.mustWrite(t, empPath(id, "payments"), tokClerkA, paymentBody("Y-1", 1000, "2006-06-10"))
	return e, id
}

// closeYear closes year as token, failing the test unless it answers 201, and waits until the
// views have applied the closing.
func (e *env) closeYear(t *testing.T, token, year, body string) resp {
	t.Helper()
	r := e.mustWrite(t, "/v1/years/"+year+"/close", token, body)
	e.waitViews(t, uint64(r.num("seq")))
	return r
}

// yearOf reads GET /v1/years and returns year's entry.
func (e *env) yearOf(t *testing.T, year int) eventstore.YearRecord {
	t.Helper()
	r := e.get(t, "/v1/years", tokSuper)
	var body struct {
		Years []eventstore.YearRecord `json:"years"`
	}
	decode(t, r, &body)
	for _, y := range body.Years {
		if y.Year == year {
			return y
		}
	}
	t.Fatalf("GET /v1/years lists no %d: %s", year, r.Raw)
	return eventstore.YearRecord{}
}

// digestOf is the SHA-256 of an answer's body; with dropSeq, of its top-level fields but "seq"
// (the sequence a read reflects, which every appended event advances).
func digestOf(t *testing.T, r resp, dropSeq bool) string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("read answered %s", r)
	}
	b := r.Raw
	if dropSeq {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.Raw, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "seq")
		var err error
		if b, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestClosingAYearChangesNoFigureHistoryOrFreeze: closing 2006 after its year-end freeze leaves
// the county figures as of 2006-12-31, an employer's history and the freeze's figures
// byte-identical, and a new freeze of the same (S, D) gives the same digest. GET /v1/years and
// the views know 2006 is closed.
func TestClosingAYearChangesNoFigureHistoryOrFreeze(t *testing.T) {
	e, id := newYearsEnv(t)
	e.mustWrite(t, "/v1/employers", tokClerkA, strings.Replace(registration(orgCode(7004), "360702"), "2006-04-03", "2005-03-01", 1))
	f := e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.waitViews(t, f.Seq)
	reads := []struct {
		name, path string
		dropSeq    bool
	}{
		{"county figures as of 2006-12-31", "/v1/counties?as_of=2006-12-31", true},
		{"county figures as of 2005-12-31, in the books closed with 2006", "/v1/counties?as_of=2005-12-31", true},
		{"the employer's history", "/v1/employers/" + id + "/history", false},
		{"the freeze", "/v1/freezes/" + f.ID, false},
	}
	before := map[string]string{}
	for _, rd := range reads {
		before[rd.name] = digestOf(t, e.get(t, rd.path, tokAdmin), rd.dropSeq)
	}

	closing := time.Now()
	e.closeYear(t, tokAssessor, "2006", `{}`)
	closed := time.Now()

	for _, rd := range reads {
		if got := digestOf(t, e.get(t, rd.path, tokAdmin), rd.dropSeq); got != before[rd.name] {
			t.Errorf("%s changed when 2006 was closed: digest %s, was %s", rd.name, got, before[rd.name])
		}
	}
	if again := e.freeze(t, tokAssessor, "2006-12-31", f.ThroughSeq); again.Digest != f.Digest {
		t.Errorf("a freeze of (%d, 2006-12-31) after the closing has digest %s, the one before %s", f.ThroughSeq, again.Digest, f.Digest)
	}
	y := e.yearOf(t, 2006)
	if !y.Closed || y.FreezeID != f.ID || y.Digest != f.Digest || y.ClosedBy != "assessor:ass" || y.ClosedOn != yearsToday || y.ClosedSeq == 0 {
		t.Errorf("GET /v1/years says of 2006 %+v, want closed by assessor:ass on %s after freeze %s (%s)", y, yearsToday, f.ID, f.Digest)
	}
	// closed_at is when the stream stored the closing, once the store has read it back (the
	// clocks are this machine's; a second of slack).
	waitFor(t, 10*time.Second, "the closing's time", func() bool { y = e.yearOf(t, 2006); return !y.ClosedAt.IsZero() })
	if y.ClosedAt.Before(closing.Add(-time.Second)) || y.ClosedAt.After(closed.Add(time.Second)) {
		t.Errorf("GET /v1/years says 2006 was closed at %v, want between %v and %v", y.ClosedAt, closing, closed)
	}
	if y := e.yearOf(t, 2007); y.Closed {
		t.Errorf("GET /v1/years says 2007 is closed: %+v", y)
	}
	// The books before 2006 closed with it: a write dated in 2005 is refused, and the year says so.
	count := e.count()
	wantError(t, e.post(t, "/v1/employers", tokClerkA, strings.Replace(registration(orgCode(7002), "360702"), "2006-04-03", "2005-06-01", 1)), 409, "year_closed", "registered_on")
	e.wantUnchanged(t, count)
	if y := e.yearOf(t, 2005); !y.Closed || y.ClosedWith != 2006 || y.ClosedSeq != 0 {
		t.Errorf("GET /v1/years says of 2005 %+v, want closed with 2006", y)
	}
	if r := e.post(t, "/v1/years/2005/reopen", tokAdmin, `{"reason":"补录"}`); r.Status != http.StatusConflict || !strings.Contains(r.str("detail"), "reopen 2006") {
		t.Errorf("reopening 2005, closed with 2006: %s; want 409 saying to reopen 2006", r)
	}
	views, err := e.runner.Copy()
	if err != nil {
		t.Fatal(err)
	}
	if !views.Ref.Closed(2006) || views.Ref.Closed(2007) {
		t.Errorf("the views' reference data has 2006 closed %v, 2007 closed %v; want true, false", views.Ref.Closed(2006), views.Ref.Closed(2007))
	}
}

// TestAWriteDatedInAClosedYearAnswers409YearClosed: once 2006 is closed, every write whose
// business date is in 2006 or before answers 409 year_closed naming the date's field and appends nothing;
// writes dated in 2007, including a declaration for December 2006 and a payment allocated to a
// 2006 line (the recovery of prior-year arrears), are recorded.
func TestAWriteDatedInAClosedYearAnswers409YearClosed(t *testing.T) {
	e, id := newYearsEnv(t)
	e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	const waiver = `{"decided_on":%q,"kind":"late_fee","authority_doc":"赣劳社字[2006]1号","reason":"r","insurance":"pension","period":"2006-04","amount_fen":10}`
	for _, tt := range []struct {
		name, path, token, body string
		status                  int
		field                   string
	}{
		{"a backdated payment", empPath(id, "payments"), tokClerkA, paymentBody("Y-2", 500, "2006-11-20"), 409, "paid_on"},
		{"a registration dated in 2006", "/v1/employers", tokClerkA, registration(orgCode(7002), "360702"), 409, "registered_on"},
		{"a declaration dated in 2006", empPath(id, "declarations"), tokClerkA,
			`{"declared_on":"2006-12-20","period":"2006-11","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`, 409, "declared_on"},
		{"a waiver dated in 2006", empPath(id, "waivers"), tokAuditor, fmt.Sprintf(waiver, "2006-12-01"), 409, "decided_on"},
		{"a payment dated before the first closed year (the books before it close with it)", empPath(id, "payments"), tokClerkA, paymentBody("Y-5", 500, "2005-12-20"), 409, "paid_on"},
		{"a payment dated 2007-01-10", empPath(id, "payments"), tokClerkA, paymentBody("Y-3", 500, "2007-01-10"), 201, ""},
		{"a declaration of 2006-12 filed in 2007", empPath(id, "declarations"), tokClerkA,
			`{"declared_on":"2007-01-10","period":"2006-12","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`, 201, ""},
		{"a 2007 payment allocated to a 2006 line", empPath(id, "payments"), tokClerkA,
			`{"paid_on":"2007-01-12","amount_fen":100,"receipt_no":"Y-4","allocations":[{"insurance":"pension","period":"2006-12","amount_fen":100}]}`, 201, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count()
			r := e.post(t, tt.path, tt.token, tt.body)
			if tt.status == 201 {
				if r.Status != 201 {
					t.Fatalf("%s: %s, want 201", tt.body, r)
				}
				return
			}
			wantError(t, r, tt.status, "year_closed", tt.field)
			e.wantUnchanged(t, before)
		})
	}
}

// TestAYearClosesOnlyAfterItsYearEndFreezeOnceAndByTheAssessmentTeam: closing needs a stored
// freeze valid through 31 December (409 otherwise, also for a named freeze of another date),
// an assessor or admin (403), a year from 1990 that has ended (400); a second closing is 409,
// and a retry of the first closing's Idempotency-Key answers it (200, duplicate). A refusal
// appends nothing.
func TestAYearClosesOnlyAfterItsYearEndFreezeOnceAndByTheAssessmentTeam(t *testing.T) {
	e, _ := newYearsEnv(t)
	nov := e.freeze(t, tokAssessor, "2006-11-30", 0)
	refuse := []struct {
		name, year, token, body string
		status                  int
		kind, field             string
	}{
		{"without a December freeze", "2006", tokAssessor, `{}`, 409, "conflict", "year"},
		{"after a named freeze of November", "2006", tokAssessor, fmt.Sprintf(`{"freeze_id":%q}`, nov.ID), 409, "conflict", "freeze_id"},
		{"by a clerk", "2006", tokClerkA, `{}`, 403, "forbidden", ""},
		{"by a supervisor", "2006", tokSuper, `{}`, 403, "forbidden", ""},
		{"a year before 1990", "1989", tokAssessor, `{}`, 400, "invalid", "year"},
		{"the year not yet ended", "2007", tokAssessor, `{}`, 400, "invalid", "year"},
		{"no year", "20x6", tokAssessor, `{}`, 400, "invalid", "year"},
		{"an unknown field", "2006", tokAssessor, `{"freeze":"x"}`, 400, "invalid", "freeze"},
	}
	check := func(tt struct {
		name, year, token, body string
		status                  int
		kind, field             string
	}) {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count()
			wantError(t, e.post(t, "/v1/years/"+tt.year+"/close", tt.token, tt.body), tt.status, tt.kind, tt.field)
			e.wantUnchanged(t, before)
		})
	}
	for _, tt := range refuse {
		check(tt)
	}
	dec := e.freeze(t, tokAssessor, "2006-12-31", 0)
	key := map[string]string{"Idempotency-Key": "close-2006"}
	first := e.do(t, req{Path: "/v1/years/2006/close", Token: tokAssessor, Body: []byte(`{}`), Header: key})
	if first.Status != 201 {
		t.Fatalf("closing 2006 after its December freeze: %s", first)
	}
	retry := e.do(t, req{Path: "/v1/years/2006/close", Token: tokAssessor, Body: []byte(`{}`), Header: key})
	if retry.Status != 200 || retry.num("seq") != first.num("seq") {
		t.Errorf("a retry of the closing's key: %s, want 200 answering sequence %d", retry, first.num("seq"))
	}
	check(struct {
		name, year, token, body string
		status                  int
		kind, field             string
	}{"a second time", "2006", tokAdmin, fmt.Sprintf(`{"freeze_id":%q}`, dec.ID), 409, "conflict", "year"})
	// A year before the first closed one closed with it: closing it again would make it the
	// first and open the years between to writes.
	y2004 := e.freeze(t, tokAssessor, "2004-12-31", 0)
	check(struct {
		name, year, token, body string
		status                  int
		kind, field             string
	}{"a year before the first closed one", "2004", tokAdmin, fmt.Sprintf(`{"freeze_id":%q}`, y2004.ID), 409, "conflict", "year"})
	// Nor one with no freeze of its own: the answer says it closed with 2006, not to make one.
	if r := e.post(t, "/v1/years/2005/close", tokAdmin, `{}`); r.Status != 409 || r.str("field") != "year" || !strings.Contains(r.str("detail"), "2006, the first closed year") {
		t.Errorf("closing 2005, closed with 2006, with no 2005 freeze: %s; want 409 saying it closed with 2006", r)
	}
	in2005 := strings.Replace(registration(orgCode(7102), "360702"), "2006-04-03", "2005-06-01", 1)
	wantError(t, e.post(t, "/v1/employers", tokClerkA, in2005), 409, "year_closed", "registered_on")
	if y := e.yearOf(t, 2006); y.FreezeID != dec.ID {
		t.Errorf("2006 closed after freeze %q, want the December one %s", y.FreezeID, dec.ID)
	}
}

// TestAYearClosesOnlyAfterAFreezeOfItsFiguresAsTheyStand: an employer registered in 2006 and
// recorded after the December freeze changes 2006's figures, so closing after that freeze (named
// or the latest) is 409 naming freeze_id and pointing to its restatement, and appends nothing;
// closing after a freeze made since is recorded with that freeze's digest.
func TestAYearClosesOnlyAfterAFreezeOfItsFiguresAsTheyStand(t *testing.T) {
	e, _ := newYearsEnv(t)
	stale := e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.register(t, tokClerkA, orgCode(7002), "360702")
	e.waitViews(t, e.count())
	for _, body := range []string{`{}`, fmt.Sprintf(`{"freeze_id":%q}`, stale.ID)} {
		before := e.count()
		r := e.post(t, "/v1/years/2006/close", tokAssessor, body)
		wantError(t, r, 409, "conflict", "freeze_id")
		if d := r.str("detail"); !strings.Contains(d, "/v1/freezes/"+stale.ID+"/restatement") {
			t.Errorf("closing after a freeze whose figures changed, body %s: detail %q names no restatement of %s", body, d, stale.ID)
		}
		e.wantUnchanged(t, before)
	}
	if y := e.yearOf(t, 2006); y.Closed {
		t.Fatalf("2006 closed after a freeze of figures that changed: %+v", y)
	}
	fresh := e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	if y := e.yearOf(t, 2006); !y.Closed || y.FreezeID != fresh.ID || y.Digest != fresh.Digest {
		t.Errorf("GET /v1/years says of 2006 %+v, want closed after freeze %s (%s)", y, fresh.ID, fresh.Digest)
	}
}

// TestAYearClosesOnlyWhenItsSegmentsAndFlagsAreTheFreezes: a change of a payer's risk class
// dated in the year, recorded after the year-end freeze, moves a segment's figures and a flag's
// count and none of the counties' figures (the restatement is empty): closing after that freeze
// is refused all the same. A change dated after the year moves nothing of it: the year closes.
func TestAYearClosesOnlyWhenItsSegmentsAndFlagsAreTheFreezes(t *testing.T) {
	e, id := newYearsEnv(t)
	stale := e.freeze(t, tokAssessor, "2006-12-31", 0)
	changed := e.mustWrite(t, empPath(id, "changes"), tokClerkA, `{"on":"2006-12-01","risk_class":3}`)
	e.waitViews(t, uint64(changed.num("seq")))
	if r := e.get(t, "/v1/freezes/"+stale.ID+"/restatement", tokAssessor); strings.Contains(string(r.Raw), `"scope"`) {
		t.Fatalf("the restatement lists changed figures; this test wants a change only segments and flags show: %s", r.Raw)
	}
	before := e.count()
	r := e.post(t, "/v1/years/2006/close", tokAssessor, fmt.Sprintf(`{"freeze_id":%q}`, stale.ID))
	wantError(t, r, 409, "conflict", "freeze_id")
	if d := r.str("detail"); !strings.Contains(d, "segment") || !strings.Contains(d, stale.ID) {
		t.Errorf("closing after a freeze whose segments and flags moved: detail %q, want it to name the freeze and the segments", d)
	}
	e.wantUnchanged(t, before)

	fresh := e.freeze(t, tokAssessor, "2006-12-31", 0)
	later := e.mustWrite(t, empPath(id, "changes"), tokClerkA, `{"on":"2007-01-10","in_industrial_park":true,"risk_class":1}`)
	e.waitViews(t, uint64(later.num("seq")))
	e.closeYear(t, tokAssessor, "2006", fmt.Sprintf(`{"freeze_id":%q}`, fresh.ID))
	if y := e.yearOf(t, 2006); !y.Closed || y.FreezeID != fresh.ID {
		t.Errorf("GET /v1/years says of 2006 %+v, want closed after freeze %s", y, fresh.ID)
	}
}

// TestAnAdminReopensAClosedYearWithAReason: only an admin reopens a closed year, and only with a
// visible reason (400 otherwise); then a backdated write is recorded, the year is listed open
// with who reopened it and why, the first closing's key still answers it, and it can be closed
// again.
func TestAnAdminReopensAClosedYearWithAReason(t *testing.T) {
	e, id := newYearsEnv(t)
	e.freeze(t, tokAssessor, "2006-12-31", 0)
	key := map[string]string{"Idempotency-Key": "close-2006"}
	first := e.do(t, req{Path: "/v1/years/2006/close", Token: tokAssessor, Body: []byte(`{}`), Header: key})
	if first.Status != 201 {
		t.Fatalf("closing 2006 after its December freeze: %s", first)
	}
	backdated := paymentBody("Y-5", 500, "2006-11-20")
	wantError(t, e.post(t, empPath(id, "payments"), tokClerkA, backdated), 409, "year_closed", "paid_on")
	for _, tt := range []struct {
		name, token, body string
		status            int
		kind, field       string
	}{
		{"without a reason", tokAdmin, `{}`, 400, "invalid", "reason"},
		{"with a blank reason", tokAdmin, `{"reason":"  "}`, 400, "invalid", "reason"},
		{"with an invisible reason", tokAdmin, `{"reason":"\u200b"}`, 400, "invalid", "reason"},
		{"by an assessor", tokAssessor, `{"reason":"补录"}`, 403, "forbidden", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count()
			wantError(t, e.post(t, "/v1/years/2006/reopen", tt.token, tt.body), tt.status, tt.kind, tt.field)
			e.wantUnchanged(t, before)
		})
	}
	const figures = "/v1/counties?as_of=2006-12-31"
	closed := digestOf(t, e.get(t, figures, tokAdmin), true)
	if b := e.runner.Current().Boundary; b != domain.MustDate("2006-12-31") {
		t.Fatalf("the views are compacted through %s after closing 2006", b)
	}
	r := e.mustWrite(t, "/v1/years/2006/reopen", tokAdmin, `{"reason":"补录审计发现的欠费"}`)
	e.waitViews(t, uint64(r.num("seq")))
	// Reopened, 2006 is in the live views again: every employer folded anew from its events.
	if l := e.runner.Current(); l.Boundary != 0 || !l.Covers(projections.Query{AsOf: domain.MustDate("2006-12-31"), Period: domain.MustPeriod("2006-11")}) {
		t.Errorf("after reopening 2006 the views are compacted through %s", l.Boundary)
	}
	if got := digestOf(t, e.get(t, figures, tokAdmin), true); got != closed {
		t.Errorf("figures as of 2006-12-31 differ once 2006 is reopened: digest %s, was %s", got, closed)
	}
	e.mustWrite(t, empPath(id, "payments"), tokClerkA, backdated)
	e.register(t, tokClerkA, orgCode(7003), "360702")
	var y eventstore.YearRecord
	waitFor(t, 10*time.Second, "the reopening's time", func() bool { y = e.yearOf(t, 2006); return !y.ReopenedAt.IsZero() })
	if y.Closed || y.ReopenReason != "补录审计发现的欠费" || y.ReopenedBy != "admin:adm" || y.ReopenedOn != yearsToday || y.ReopenedAt.Before(y.ClosedAt) {
		t.Errorf("GET /v1/years says of 2006 %+v, want open, reopened by admin:adm on %s for its reason", y, yearsToday)
	}
	wantError(t, e.post(t, "/v1/years/2006/reopen", tokAdmin, `{"reason":"again"}`), 409, "conflict", "year")
	// The freeze 2006 was first closed after no longer holds its figures (one more employer).
	before := e.count()
	wantError(t, e.post(t, "/v1/years/2006/close", tokAdmin, `{}`), 409, "conflict", "freeze_id")
	e.wantUnchanged(t, before)
	// The first closing's key still answers it, figures moved or not; with another body, 422.
	if retry := e.do(t, req{Path: "/v1/years/2006/close", Token: tokAssessor, Body: []byte(`{}`), Header: key}); retry.Status != 200 || retry.num("seq") != first.num("seq") {
		t.Errorf("a retry of the first closing's key after reopening and a backdated write: %s, want 200 answering sequence %d", retry, first.num("seq"))
	}
	other := e.do(t, req{Path: "/v1/years/2006/close", Token: tokAssessor, Body: []byte(`{"freeze_id":"x"}`), Header: key})
	wantError(t, other, 422, "idempotency_mismatch", "Idempotency-Key")
	e.wantUnchanged(t, before)
	e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAdmin, "2006", `{}`)
	wantError(t, e.post(t, empPath(id, "payments"), tokClerkA, paymentBody("Y-6", 500, "2006-11-21")), 409, "year_closed", "paid_on")
}

// TestRatesTakingEffectInTheClosedBooksAreRefused: a late-fee rate, a rate table, settings, an
// average wage, a baseline or a county's new code from a date in a closed year would change its figures, which the views keep as
// they were closed: 409 naming effective_from, nothing appended; from a date after the closed
// books they are recorded. Targets of a closed year are refused naming year.
func TestRatesTakingEffectInTheClosedBooksAreRefused(t *testing.T) {
	e, _ := newYearsEnv(t)
	e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	for _, tt := range []struct{ kind, body string }{
		{"late-fee-rates", `{"effective_from":"2006-07-01","daily_bp":50}`},
		{"settings", `{"effective_from":"2006-12-31","due_day":20,"enforcement_grace_days":90}`},
		{"average-wage", `{"effective_from":"2006-01-01","monthly_fen":150000}`},
		{"county-redefinitions", `{"code":"360799","name":"大余区","predecessor":"360723","effective_from":"2006-06-01"}`},
	} {
		before := e.count()
		wantError(t, e.post(t, "/v1/reference/"+tt.kind, tokAdmin, tt.body), 409, "conflict", "effective_from")
		e.wantUnchanged(t, before)
	}
	e.mustWrite(t, "/v1/reference/late-fee-rates", tokAdmin, `{"effective_from":"2007-01-01","daily_bp":50}`)
	e.mustWrite(t, "/v1/reference/county-redefinitions", tokAdmin, `{"code":"360799","name":"大余区","predecessor":"360723","effective_from":"2007-01-01"}`)

	// A closed year's targets are final (its progress and ranking), and a baseline in force
	// within the closed books would move their growth.
	targets := func(year int) string {
		b, err := json.Marshal(domain.Targets{EffectiveFrom: domain.MustDate("2007-01-05"), Year: year, City: targets2007})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tt := range []struct{ kind, body, field string }{
		{"targets", targets(2006), "year"},
		{"targets", targets(2005), "year"},
		{"baselines", baselineBody("2006-06-01", "2005年报", `{"insured":1,"should_insure":2,"paid_insured":1,"due_fen":100,"collected_fen":100}`), "effective_from"},
	} {
		before := e.count()
		wantError(t, e.post(t, "/v1/reference/"+tt.kind, tokAdmin, tt.body), 409, "conflict", tt.field)
		e.wantUnchanged(t, before)
	}
	e.mustWrite(t, "/v1/reference/targets", tokAdmin, targets(2007))
	e.mustWrite(t, "/v1/reference/baselines", tokAdmin, baselineBody("2007-01-01", "2005年报", `{"insured":1,"should_insure":2,"paid_insured":1,"due_fen":100,"collected_fen":100}`))
}

// TestAClosedYearStaysClosedAfterARestart: the closing is rebuilt from the stream when the store
// starts again.
func TestAClosedYearStaysClosedAfterARestart(t *testing.T) {
	e, id := newYearsEnv(t)
	f := e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	var at time.Time
	waitFor(t, 10*time.Second, "the closing's time", func() bool { at = e.yearOf(t, 2006).ClosedAt; return !at.IsZero() })
	e.restart()
	before := e.count()
	wantError(t, e.post(t, empPath(id, "payments"), tokClerkA, paymentBody("Y-7", 500, "2006-11-20")), 409, "year_closed", "paid_on")
	e.wantUnchanged(t, before)
	if y := e.yearOf(t, 2006); !y.Closed || y.FreezeID != f.ID || y.ClosedBy != "assessor:ass" || !y.ClosedAt.Equal(at) {
		t.Errorf("after a restart GET /v1/years says of 2006 %+v, want closed by assessor:ass after %s at %v", y, f.ID, at)
	}
}

// TestAnImportRowDatedInAClosedYearIsRejectedYearClosed: an imported row dated in a closed year
// is rejected with error year_closed, naming its date column; the file's other rows import.
func TestAnImportRowDatedInAClosedYearIsRejectedYearClosed(t *testing.T) {
	e, _ := newYearsEnv(t)
	e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	org := orgCode(7001)
	file := "组织机构代码,缴费日期,金额(分),票据号\n" + org + ",2006-11-20,100,I-1\n" + org + ",2007-01-10,100,I-2\n"
	r := e.upload(t, tokClerkA, "pay.csv", []byte(file))
	var rep importer.Report
	if err := json.Unmarshal(r.Raw, &rep); err != nil {
		t.Fatalf("import: %s: %v", r, err)
	}
	if rep.Imported != 1 || len(rep.Rejected) != 1 {
		t.Fatalf("import: %s, want one row imported and one rejected", r)
	}
	if rj := rep.Rejected[0]; rj.Row != 2 || rj.Error != "year_closed" || rj.Column != "缴费日期" || rj.Value != "2006-11-20" {
		t.Errorf("the row dated 2006-11-20 is rejected as %+v, want row 2, error year_closed, column 缴费日期", rj)
	}
}

// TestANoticeRetriedAfterItsYearClosedAnswersTheFirst: a notice's Idempotency-Key answers the
// notice it recorded at any later time, also once the year of its issue date is closed (it
// answered 409 year_closed); a new notice of that date is refused, and the key with another
// body too.
func TestANoticeRetriedAfterItsYearClosedAnswersTheFirst(t *testing.T) {
	e, _ := newYearsEnv(t)
	id := e.register(t, tokAdmin, orgCode(7002), "360702")
	e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	key := http.Header{"Idempotency-Key": {"notice-2006-12"}}
	const body = `{"issued_on":"2006-12-20","deadline":"2007-01-05"}`
	first := e.rawWith(t, http.MethodPost, empPath(id, "notices"), tokAuditor, body, key)
	if first.status != http.StatusCreated {
		t.Fatalf("the notice: %d %.300s", first.status, first.body)
	}
	e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	again := e.rawWith(t, http.MethodPost, empPath(id, "notices"), tokAuditor, body, key)
	if again.status != http.StatusOK || !bytes.Equal(again.body, first.body) || docNumber(t, again) != docNumber(t, first) {
		t.Errorf("the retry after 2006 closed: %d, %d bytes (number %q); want 200 and the first notice's %d bytes (%q)",
			again.status, len(again.body), again.header.Get("X-Document-Number"), len(first.body), docNumber(t, first))
	}
	if fresh := e.rawWith(t, http.MethodPost, empPath(id, "notices"), tokAuditor, body, http.Header{"Idempotency-Key": {"another"}}); fresh.status != http.StatusConflict || !strings.Contains(string(fresh.body), "year_closed") {
		t.Errorf("a new notice dated in the closed year: %d %.200s; want 409 year_closed", fresh.status, fresh.body)
	}
	if changed := e.rawWith(t, http.MethodPost, empPath(id, "notices"), tokAuditor, `{"issued_on":"2006-12-20","deadline":"2007-01-06"}`, key); changed.status != http.StatusUnprocessableEntity {
		t.Errorf("the key with another body: %d %.200s; want 422", changed.status, changed.body)
	}
}

// TestAYearIsNotClosedAfterAFreezeThisBuildCountsOtherwise: a freeze views-17 made, before late-fee
// waivers split in parts were reviewed as one (views-18), still verifies by its own rules; the
// year is not closed after it, since today's rules count its figures otherwise (it was, with
// every figure of the freeze unchanged by its own rules).
func TestAYearIsNotClosedAfterAFreezeThisBuildCountsOtherwise(t *testing.T) {
	e, _ := newYearsEnv(t)
	id := e.register(t, tokAdmin, orgCode(7003), "360702")
	e.mustWrite(t, empPath(id, "declarations"), tokAdmin,
		`{"declared_on":"2006-06-01","period":"2006-05","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`)
	for _, doc := range []string{"赣劳社字〔2006〕41号", "赣劳社字〔2006〕42号"} {
		e.mustWrite(t, empPath(id, "waivers"), tokAuditor, fmt.Sprintf(
			`{"decided_on":"2006-08-31","kind":"late_fee","authority_doc":%q,"reason":"困难企业","insurance":"pension","period":"2006-05","amount_fen":12000}`, doc))
	}
	ctx := context.Background()
	st := e.l.Store
	through, err := st.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	end := domain.MustDate("2006-12-31")
	old, _, err := st.AppendFreeze(ctx, eventstore.FreezeOrder{Actor: "assessor:views-17"}, func() (domain.FreezeMade, error) {
		f, err := projections.MakeFreeze(ctx, st, through, end, nil)
		if err != nil {
			return f, err
		}
		l := projections.NewLedger()
		if err := projections.ReplayOnto(ctx, st, l, through, nil); err != nil {
			return f, err
		}
		_, f.Figures, f.Digest, err = projections.FreezeFiguresIn(l, end, "views-17")
		f.CodeVersion = "views-17"
		return f, err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.waitViews(t, old.Seq)
	r := e.post(t, "/v1/years/2006/close", tokAssessor, fmt.Sprintf(`{"freeze_id":%q}`, old.ID))
	if r.Status != http.StatusConflict || r.str("field") != "freeze_id" || !strings.Contains(r.str("detail"), "counts the figures of 2006 otherwise") {
		t.Fatalf("closing 2006 after the views-17 freeze: %s; want 409 naming freeze_id", r)
	}
	f := e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", fmt.Sprintf(`{"freeze_id":%q}`, f.ID))
}

// TestACountyBatchRetriedAfterItsYearClosedAnswersTheFirst: a county batch's Idempotency-Key
// answers the notices it recorded once the year of its issue date is closed, byte for byte (the
// payer it left out unprintable listed again) and appending nothing; a batch of that date never
// recorded is refused year_closed, with a key or without.
func TestACountyBatchRetriedAfterItsYearClosedAnswersTheFirst(t *testing.T) {
	e, _ := newYearsEnv(t)
	// The last one's name holds a character the font lacks: the batch lists it unprintable.
	for i, name := range []string{"甲厂", "乙厂", "赣州市堃龙机械厂"} {
		id := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(`{"name":%q,"county":"360721","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`,
			name, orgCode(7010+i))).str("employer_id")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	}
	const path, body = "/v1/counties/360721/notices", `{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":30}`
	key := http.Header{"Idempotency-Key": {"batch-2006-12"}}
	first := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key)
	if first.status != http.StatusOK || first.header.Get("X-Notice-Count") != "2" || first.header.Get("X-Notice-Unprintable") != "1" {
		t.Fatalf("the batch: %d, %s notices, %s unprintable %.300s", first.status, first.header.Get("X-Notice-Count"), first.header.Get("X-Notice-Unprintable"), first.body)
	}
	e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	before := e.events()
	again := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key)
	if again.status != http.StatusOK || !bytes.Equal(again.body, first.body) {
		t.Errorf("the retry after 2006 closed: %d, %d bytes %.200s; want 200 and the first zip's %d bytes", again.status, len(again.body), again.body, len(first.body))
	}
	if got := e.events() - before; got != 0 {
		t.Errorf("the retry appended %d events, want none", got)
	}
	for _, h := range []http.Header{{"Idempotency-Key": {"another-batch"}}, nil} {
		if fresh := e.rawWith(t, http.MethodPost, path, tokAuditor, body, h); fresh.status != http.StatusConflict || !strings.Contains(string(fresh.body), "year_closed") {
			t.Errorf("a batch dated in the closed year (%v): %d %.200s; want 409 year_closed", h, fresh.status, fresh.body)
		}
	}
}

// TestAClosingIsCheckedWithTheServersWritesHeld: payments dated in 2006 arrive while 2006 is
// closed after its freeze, each paying a fen of a line due. A closing that is taken holds the
// freeze's figures: no payment this server took lands before it (the freeze's restatement lists
// no change) or after it (none answered 201 has a later sequence); one refused says the figures
// moved since the freeze.
func TestAClosingIsCheckedWithTheServersWritesHeld(t *testing.T) {
	e, id := newYearsEnv(t)
	e.mustWrite(t, empPath(id, "declarations"), tokClerkA, `{"declared_on":"2006-12-05","period":"2006-11","lines":[{"insurance":"pension","headcount":5,"wage_base_fen":1000000}]}`)
	pay := func(receipt string) (int, uint64) {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+empPath(id, "payments"), strings.NewReader(paymentBody(receipt, 1, "2006-12-28")))
		if err != nil {
			return 0, 0
		}
		req.Header.Set("Authorization", "Bearer "+tokClerkA)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0
		}
		defer res.Body.Close()
		var body struct {
			Seq uint64 `json:"seq"`
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, body.Seq
	}
	closed := 0
	for round := range 8 {
		f := e.freeze(t, tokAssessor, "2006-12-31", 0)
		var mu sync.Mutex
		var landed []uint64
		stop := untilStopped(4, func(w, i int) {
			if status, seq := pay(fmt.Sprintf("HOLD-%d-%d-%d", round, w, i)); status == http.StatusCreated {
				mu.Lock()
				landed = append(landed, seq)
				mu.Unlock()
			}
		})
		r := e.post(t, "/v1/years/2006/close", tokAssessor, fmt.Sprintf(`{"freeze_id":%q}`, f.ID))
		stop()
		if r.Status == http.StatusConflict {
			if !strings.Contains(r.str("detail"), "no longer those of freeze") {
				t.Errorf("round %d: the closing refused %s, want the figures moved since the freeze", round, r)
			}
			continue
		}
		if r.Status != http.StatusCreated {
			t.Fatalf("round %d: the closing answered %s", round, r)
		}
		closed++
		at := uint64(r.num("seq"))
		for _, seq := range landed {
			if seq > at {
				t.Errorf("round %d: a payment dated 2006-12-28 landed at sequence %d, after the closing at %d", round, seq, at)
			}
		}
		e.waitViews(t, at)
		if changes := e.restatement(t, tokAssessor, f.ID).Changes; len(changes) > 0 {
			t.Errorf("round %d: 2006 closed at sequence %d after freeze %s, whose figures moved since: %+v", round, at, f.ID, changes[0])
		}
		e.mustWrite(t, "/v1/years/2006/reopen", tokAdmin, fmt.Sprintf(`{"reason":"第%d轮"}`, round))
	}
	t.Logf("%d of 8 closings taken", closed)
}

// TestAClosingIsNotTakenOverAFreezeAWriteThroughAnotherReplicaMoved: payments dated in 2006,
// each paying a fen of a line due, go through another replica while 2006 is closed here after
// its freeze. A closing taken holds the freeze's figures (its restatement at the closing lists
// no change: no such payment landed between the check and the closing), and none of them is
// recorded after it (each is fenced); one refused says the figures moved since the freeze, or,
// 503, that writes kept landing; nothing else.
func TestAClosingIsNotTakenOverAFreezeAWriteThroughAnotherReplicaMoved(t *testing.T) {
	e, id := newYearsEnv(t)
	e.mustWrite(t, empPath(id, "declarations"), tokClerkA, `{"declared_on":"2006-12-05","period":"2006-11","lines":[{"insurance":"pension","headcount":5,"wage_base_fen":1000000}]}`)
	other := e.secondReplica(t)
	ctx := context.Background()
	outcomes := map[int]int{}
	for round := range 8 {
		f := e.freeze(t, tokAssessor, "2006-12-31", 0)
		var landed []uint64 // one goroutine's
		stop := untilStopped(1, func(w, i int) {
			// Sparse enough that some land while the closing is checked, not all before.
			time.Sleep(time.Duration(1+i%3) * time.Millisecond)
			// Refused once the other replica has followed the closing, or when the closing
			// lands before it (fenced): year_closed.
			res, err := other.Execute(ctx, eventstore.Request{EmployerID: id, Today: yearsToday, Actor: "clerk:b", Command: &domain.RecordPayment{
				PaidOn: "2006-12-28", AmountFen: "1", ReceiptNo: fmt.Sprintf("B-%d-%d-%d", round, w, i)}})
			if err == nil {
				landed = append(landed, res.Seq)
			}
		})
		r := e.post(t, "/v1/years/2006/close", tokAssessor, fmt.Sprintf(`{"freeze_id":%q}`, f.ID))
		stop()
		outcomes[r.Status]++
		switch r.Status {
		case http.StatusCreated:
		case http.StatusConflict:
			if !strings.Contains(r.str("detail"), "no longer those of freeze") {
				t.Errorf("round %d: the closing refused %s, want the figures moved since the freeze", round, r)
			}
			continue
		case http.StatusServiceUnavailable:
			if !strings.Contains(r.str("detail"), "kept landing") {
				t.Errorf("round %d: the closing answered %s, want writes through other replicas named", round, r)
			}
			continue
		default:
			t.Fatalf("round %d: the closing answered %s", round, r)
		}
		at := uint64(r.num("seq"))
		for _, seq := range landed {
			if seq > at {
				t.Errorf("round %d: a payment dated 2006-12-28 through the other replica landed at sequence %d, after the closing at %d", round, seq, at)
			}
		}
		e.waitViews(t, at)
		if changes := e.restatement(t, tokAssessor, f.ID).Changes; len(changes) > 0 {
			t.Errorf("round %d: 2006 closed at sequence %d after freeze %s, whose figures moved before it: %+v", round, at, f.ID, changes[0])
		}
		e.mustWrite(t, "/v1/years/2006/reopen", tokAdmin, fmt.Sprintf(`{"reason":"第%d轮"}`, round))
	}
	t.Logf("closings answered by status: %v", outcomes)
}

// untilStopped runs do(w, i) over and over on n goroutines (w the goroutine, i its call) until
// the returned func is called, which waits for the calls under way to end.
func untilStopped(n int, do func(w, i int)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				do(w, i)
			}
		})
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

// TestALiveMonthlyReportOfAClosedYearSaysItsFiguresStand: the live monthly report of a month of
// a closed year says the year is closed and its figures no longer move unless a closed year is
// reopened (it may have closed with a later one), not that later entries may change them; a month
// of the open year says they may.
func TestALiveMonthlyReportOfAClosedYearSaysItsFiguresStand(t *testing.T) {
	e, _ := newYearsEnv(t)
	e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	for _, tt := range []struct{ month, want, not string }{
		{"2006-11", "2006年已结转：本月数字不再变动，除非重新开启已结转的年度", "未冻结"},
		{"2007-01", "未冻结：此后记录的事项可能改变本月数字", "已结转"},
	} {
		r := e.raw(t, http.MethodGet, "/v1/reports/monthly/"+tt.month+"?format=pdf", tokSuper, "")
		if r.status != http.StatusOK {
			t.Fatalf("the monthly report of %s: %d %.200s", tt.month, r.status, r.body)
		}
		if text := pdfText(t, r.body); !strings.Contains(text, tt.want) || strings.Contains(text, tt.not) {
			t.Errorf("the live monthly report of %s does not say %q, or says %q:\n%.600s", tt.month, tt.want, tt.not, text)
		}
	}
}

// TestClosingsReopeningsAndFreezesAreLoggedAtInfo: an operator reading the log at its default
// level finds each freeze made and each year closed or reopened, once (a retry logs nothing).
func TestClosingsReopeningsAndFreezesAreLoggedAtInfo(t *testing.T) {
	logBuf := &storetest.SyncBuffer{}
	e := newLoggedEnv(t, domain.MustDate("2007-01-10"), slog.NewJSONHandler(logBuf, nil))
	f := e.mustWrite(t, "/v1/freezes", tokAdmin, `{"valid_through":"2006-12-31"}`)
	key := map[string]string{"Idempotency-Key": "close-2006"}
	for range 2 { // the second a retry
		if r := e.do(t, req{Path: "/v1/years/2006/close", Token: tokAdmin, Body: []byte(`{}`), Header: key}); r.Status >= 300 {
			t.Fatalf("closing 2006: %s", r)
		}
	}
	reopen := map[string]string{"Idempotency-Key": "reopen-2006"}
	for range 2 { // the second a retry
		if r := e.do(t, req{Path: "/v1/years/2006/reopen", Token: tokAdmin, Body: []byte(`{"reason":"补录缴费"}`), Header: reopen}); r.Status >= 300 {
			t.Fatalf("reopening 2006: %s", r)
		}
	}
	made := withMsg(t, logBuf, "freeze made", 1)
	if len(made) != 1 || made[0]["id"] != f.str("id") || made[0]["valid_through"] != "2006-12-31" || made[0]["actor"] != "admin:adm" {
		t.Errorf("freeze made lines: %v; want one naming freeze %s, 2006-12-31, admin:adm", made, f.str("id"))
	}
	recorded := withMsg(t, logBuf, "reference data recorded", 2)
	if len(recorded) != 2 || recorded[0]["type"] != "year.closed" || recorded[1]["type"] != "year.reopened" ||
		!strings.Contains(fmt.Sprint(recorded[1]["data"]), "补录缴费") {
		t.Errorf("reference data lines: %v; want the closing, then the reopening with its reason, each once", recorded)
	}
}

// TestFreezesClosingsAndReopeningsGiveTheSequenceTheyRecorded: the answers of a freeze, a closing
// (and its retry) and a reopening carry the X-Ledger-Seq of what they recorded or found recorded,
// as every write's does, for min_seq on another replica.
func TestFreezesClosingsAndReopeningsGiveTheSequenceTheyRecorded(t *testing.T) {
	e := newLoggedEnv(t, domain.MustDate("2007-01-10"), slog.DiscardHandler)
	key := map[string]string{"Idempotency-Key": "close-2006-seq"}
	for _, tt := range []struct {
		name string
		req  req
	}{
		{"a freeze", req{Path: "/v1/freezes", Token: tokAdmin, Body: []byte(`{"valid_through":"2006-12-31"}`)}},
		{"a closing", req{Path: "/v1/years/2006/close", Token: tokAdmin, Body: []byte(`{}`), Header: key}},
		{"a closing's retry", req{Path: "/v1/years/2006/close", Token: tokAdmin, Body: []byte(`{}`), Header: key}},
		{"a reopening", req{Path: "/v1/years/2006/reopen", Token: tokAdmin, Body: []byte(`{"reason":"补录缴费"}`)}},
	} {
		r := e.do(t, tt.req)
		var answer struct{ Seq uint64 }
		_ = json.Unmarshal(r.Raw, &answer)
		if seq := answer.Seq; r.Status >= 300 || seq == 0 || r.Header.Get("X-Ledger-Seq") != strconv.FormatUint(seq, 10) {
			t.Errorf("%s: %d X-Ledger-Seq %q, seq %d; want the sequence it recorded", tt.name, r.Status, r.Header.Get("X-Ledger-Seq"), seq)
		}
	}
}

// TestAWriteRightAfterAReopeningThroughAnotherReplicaIsRecorded: 2006 is reopened through
// another replica and a payment dated in 2006 is sent here at once: it is recorded, not refused
// as dated in a closed year (a final answer) on this replica's reference data from before the
// reopening. (A two-replica review: 9 of 78 were answered 409 year_closed.)
func TestAWriteRightAfterAReopeningThroughAnotherReplicaIsRecorded(t *testing.T) {
	e, id := newYearsEnv(t)
	other := e.secondReplica(t)
	for round := range 8 {
		f := e.freeze(t, tokAssessor, "2006-12-31", 0)
		closing := e.closeYear(t, tokAssessor, "2006", fmt.Sprintf(`{"freeze_id":%q}`, f.ID))
		if err := other.WaitApplied(context.Background(), uint64(closing.num("seq"))); err != nil {
			t.Fatal(err)
		}
		if _, err := other.ExecuteRef(context.Background(), eventstore.RefRequest{Payload: domain.YearReopened{Year: 2006, Reason: fmt.Sprintf("第%d轮补录", round)},
			On: yearsToday, Actor: "admin:b"}); err != nil {
			t.Fatal(err)
		}
		if r := e.post(t, empPath(id, "payments"), tokClerkA, paymentBody(fmt.Sprintf("RO-%d", round), 100, "2006-12-28")); r.Status != http.StatusCreated {
			t.Fatalf("round %d: a payment dated in 2006 just after another replica reopened it: %s, want 201", round, r)
		}
	}
}
