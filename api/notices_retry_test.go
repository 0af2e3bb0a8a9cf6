// Over 500 lines for a reason: a notice batch cut and resumed, against notices recorded by older
// builds, over one ledger.

package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// olderBuildNotice records a notice as a build before domain.MaxNoticeDays did: its dates are
// not checked, and the step is the one given.
type olderBuildNotice struct {
	step domain.EnforcementStepRecorded
}

func (c *olderBuildNotice) Check(domain.Context) error { return nil }
func (c *olderBuildNotice) Date() domain.Date          { return c.step.On }
func (c *olderBuildNotice) Decide(*domain.Employer, domain.Context) ([]domain.Payload, error) {
	return []domain.Payload{c.step}, nil
}

// recordAsOlderBuild prints employer id's notice numbered n of its county's 2006 series, issued
// on and due by deadline, and records it under the key and body hash the server records
// principal aud's request (path, body, key) under, with no check of its dates.
func recordAsOlderBuild(t *testing.T, e *env, id string, n int, on, deadline, key, path, body string) {
	t.Helper()
	notice := documents.NoticeOf("", domain.MustDate(on), domain.MustDate(deadline), e.eventsOf(t, id), e.l.Store.Reference())
	notice.Number = domain.NoticeNumber(domain.NoticePrefix(notice.CountyName, 2006), n)
	pdf, err := notice.Render()
	if err != nil {
		t.Fatal(err)
	}
	idem, hash := api.RecordedKey("aud", key, http.MethodPost, path, body)
	step := domain.EnforcementStepRecorded{Step: domain.StepNotice, On: domain.MustDate(on), Deadline: domain.MustDate(deadline),
		DocNo: notice.Number, DocSHA256: sha(pdf)}
	if _, err := e.l.Store.Execute(context.Background(), eventstore.Request{EmployerID: id, Command: &olderBuildNotice{step}, Checked: true,
		IdempotencyKey: idem, BodyHash: hash, Actor: "aud"}); err != nil {
		t.Fatal(err)
	}
}

// TestANoticeRetriedAfterARuleRefusesItsDatesAnswersTheFirst: a notice whose deadline an older
// build recorded more than domain.MaxNoticeDays after its date is answered, retried with its
// Idempotency-Key, as first recorded (API.md answers a retry before any other check), single or
// in a county batch, appending nothing; the same body without the key, or the key with another
// body, is refused.
func TestANoticeRetriedAfterARuleRefusesItsDatesAnswersTheFirst(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	const on, deadline = "2006-12-20", "2007-06-30" // 192 days
	body := fmt.Sprintf(`{"issued_on":%q,"deadline":%q}`, on, deadline)
	debt := `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`

	id := e.register(t, tokAdmin, orgCode(7101), "360702")
	e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, debt)
	recordAsOlderBuild(t, e, id, 1, on, deadline, "long-deadline", empPath(id, "notices"), body)
	var batch []string
	const batchPath = "/v1/counties/360721/notices"
	batchBody := fmt.Sprintf(`{"issued_on":%q,"deadline":%q,"overdue_days":30}`, on, deadline)
	for i := range 2 {
		bid := e.register(t, tokAdmin, orgCode(7110+i), "360721")
		e.mustWrite(t, empPath(bid, "opening-balances"), tokAdmin, debt)
		recordAsOlderBuild(t, e, bid, i+1, on, deadline, "long-batch\x00county-notices\x00"+bid, batchPath, batchBody)
		batch = append(batch, bid)
	}
	before, err := e.l.Store.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	again := e.rawWith(t, http.MethodPost, empPath(id, "notices"), tokAuditor, body, http.Header{"Idempotency-Key": {"long-deadline"}})
	if again.status != http.StatusOK || docNumber(t, again) != domain.NoticeNumber(domain.NoticePrefix("章贡区", 2006), 1) {
		t.Errorf("the notice retried: %d, number %q %.200s; want 200 and the one recorded", again.status, again.header.Get("X-Document-Number"), again.body)
	}
	if g := e.raw(t, http.MethodGet, noticePath(id, docNumber(t, again)), tokAuditor, ""); sha(g.body) != sha(again.body) {
		t.Errorf("the retry's bytes are not the notice recorded")
	}
	retried := e.rawWith(t, http.MethodPost, batchPath, tokAuditor, batchBody, http.Header{"Idempotency-Key": {"long-batch"}})
	if retried.status != http.StatusOK || retried.header.Get("X-Notice-Count") != "2" {
		t.Fatalf("the batch retried: %d, %s notices %.200s; want 200 and the 2 recorded", retried.status, retried.header.Get("X-Notice-Count"), retried.body)
	}
	_, files := unzip(t, retried.body)
	for _, bid := range batch {
		raw, err := e.l.Store.History(context.Background(), bid)
		if err != nil {
			t.Fatal(err)
		}
		step := raw[len(raw)-1].Body.(domain.EnforcementStepRecorded)
		if pdf, ok := files[step.DocNo+".pdf"]; !ok || sha(pdf) != step.DocSHA256 {
			t.Errorf("the batch's zip has no %s.pdf with the SHA-256 recorded (%v)", step.DocNo, ok)
		}
	}

	wantError(t, e.post(t, empPath(id, "notices"), tokAuditor, body), 400, "invalid", "deadline")
	other := e.rawWith(t, http.MethodPost, empPath(id, "notices"), tokAuditor, strings.Replace(body, "06-30", "06-29", 1), http.Header{"Idempotency-Key": {"long-deadline"}})
	if other.status != http.StatusUnprocessableEntity {
		t.Errorf("the key with another body: %d %.200s; want 422", other.status, other.body)
	}
	wantError(t, e.post(t, batchPath, tokAuditor, batchBody), 400, "invalid", "deadline")
	fresh := e.rawWith(t, http.MethodPost, batchPath, tokAuditor, batchBody, http.Header{"Idempotency-Key": {"new-batch"}})
	if fresh.status != http.StatusBadRequest || !strings.Contains(string(fresh.body), "deadline") {
		t.Errorf("a new batch with the deadline: %d %.200s; want 400 naming deadline", fresh.status, fresh.body)
	}
	if after, err := e.l.Store.LastSeq(context.Background()); err != nil || after != before {
		t.Errorf("the stream moved from %d to %d (%v): retries and refusals append nothing", before, after, err)
	}
}

// TestACountyBatchUnderAKeyAnotherWriteRecordedIsRefused: a county batch sent under an
// Idempotency-Key that a single notice or an enforcement step recorded is another request under
// the key (422), and appends nothing.
func TestACountyBatchUnderAKeyAnotherWriteRecordedIsRefused(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	debt := `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`
	var ids []string
	for i := range 2 {
		id := e.register(t, tokAdmin, orgCode(7120+i), "360721")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, debt)
		ids = append(ids, id)
	}
	single := e.rawWith(t, http.MethodPost, empPath(ids[0], "notices"), tokAuditor, `{"issued_on":"2006-12-20","deadline":"2007-01-05"}`,
		http.Header{"Idempotency-Key": {"used-by-a-notice"}})
	if single.status != http.StatusCreated {
		t.Fatalf("the notice: %d %.200s", single.status, single.body)
	}
	step := e.rawWith(t, http.MethodPost, empPath(ids[1], "enforcement"), tokAuditor, `{"step":"notice","on":"2006-12-18","doc_no":"N-1","deadline":"2007-01-05"}`,
		http.Header{"Idempotency-Key": {"used-by-a-step"}})
	if step.status != http.StatusCreated {
		t.Fatalf("the step: %d %.200s", step.status, step.body)
	}
	before, err := e.l.Store.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"used-by-a-notice", "used-by-a-step"} {
		r := e.rawWith(t, http.MethodPost, "/v1/counties/360721/notices", tokAuditor, `{"issued_on":"2006-12-21","deadline":"2007-01-05","overdue_days":30}`,
			http.Header{"Idempotency-Key": {key}})
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("a batch under the key %s: %d %.100q; want 422", key, r.status, r.body)
		}
	}
	if after, err := e.l.Store.LastSeq(context.Background()); err != nil || after != before {
		t.Errorf("the stream moved from %d to %d (%v): a refused batch appends nothing", before, after, err)
	}
}

// TestACountyBatchKeyIsRefusedForAnotherBatchBeforeAnyNotice: a batch's key sent with another
// batch (other days overdue, another county) is refused 422 before any notice is recorded, as is
// a write of another route under it after the batch; the batch's retry answers its first zip.
func TestACountyBatchKeyIsRefusedForAnotherBatchBeforeAnyNotice(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	// One payer owes since 2006-03, another since a declaration of 2006-10 (due 11-15).
	old := e.register(t, tokAdmin, orgCode(7130), "360721")
	e.mustWrite(t, empPath(old, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	recent := e.register(t, tokAdmin, orgCode(7131), "360721")
	e.mustWrite(t, empPath(recent, "declarations"), tokAdmin, `{"declared_on":"2006-11-01","period":"2006-10","lines":[{"insurance":"pension","headcount":1,"wage_base_fen":250000}]}`)
	other := e.register(t, tokAdmin, orgCode(7132), "360702")
	e.mustWrite(t, empPath(other, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	key := http.Header{"Idempotency-Key": {"batch-k"}}
	batch := func(county string, overdue int) pdfAnswer {
		return e.rawWith(t, http.MethodPost, "/v1/counties/"+county+"/notices", tokAuditor,
			fmt.Sprintf(`{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":%d}`, overdue), key)
	}
	first := batch("360721", 150)
	if first.status != http.StatusOK || first.header.Get("X-Notice-Count") != "1" {
		t.Fatalf("the batch of payers 150 days overdue: %d, %s notices", first.status, first.header.Get("X-Notice-Count"))
	}
	before, err := e.l.Store.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		county  string
		overdue int
	}{{"360721", 10}, {"360702", 150}} {
		if r := batch(tt.county, tt.overdue); r.status != http.StatusUnprocessableEntity {
			t.Errorf("the key with a batch of %s, %d days overdue: %d %.100q; want 422", tt.county, tt.overdue, r.status, r.body)
		}
	}
	if after, err := e.l.Store.LastSeq(context.Background()); err != nil || after != before {
		t.Errorf("the stream moved from %d to %d (%v): a batch refused under its key records no notice", before, after, err)
	}
	// A write sent under the batch's key afterwards, by another route, is refused: the batch's
	// first notice was recorded under the key itself. The batch's retry answers its first zip.
	if r := e.rawWith(t, http.MethodPost, empPath(other, "enforcement"), tokAuditor, `{"step":"notice","on":"2006-12-18","doc_no":"N-9","deadline":"2007-01-05"}`, key); r.status != http.StatusUnprocessableEntity {
		t.Errorf("a step under the batch's key: %d %.200s; want 422", r.status, r.body)
	}
	if after, err := e.l.Store.LastSeq(context.Background()); err != nil || after != before {
		t.Errorf("the stream moved from %d to %d (%v): a write refused under a batch's key appends nothing", before, after, err)
	}
	if again := batch("360721", 150); again.status != http.StatusOK || !bytes.Equal(again.body, first.body) {
		t.Errorf("the batch retried: %d %.100q; want 200 and its first zip", again.status, again.body)
	}
}

// onMessage is a log handler that runs do, once, on the first record of message msg, in the
// goroutine that logs it.
type onMessage struct {
	slog.Handler
	msg  string
	once sync.Once
	do   func()
}

func (h *onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h *onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(h.do)
	}
	return nil
}

// TestABatchStoppedByAClosingAfterItsFirstNoticeIsNoRefusal: a county batch whose year is closed
// after it recorded a notice (between two of its chunks) answers 503 saying how many it
// recorded, not a 4xx, which would say nothing was; its retry answers the notice recorded and
// says how many payers the batch would have reached get none (X-Notice-Left).
func TestABatchStoppedByAClosingAfterItsFirstNoticeIsNoRefusal(t *testing.T) {
	defer api.SetNoticeChunk(1)()
	defer api.SetNoticeProgressEvery(1)()
	// After the batch's first notice is recorded and added, the year is frozen and closed.
	var e *env
	var closing []string
	closeYear := func() {
		for _, w := range []struct{ path, body string }{{"/v1/freezes", `{"valid_through":"2006-12-31"}`}, {"/v1/years/2006/close", `{}`}} {
			hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+w.path, strings.NewReader(w.body))
			hr.Header.Set("Authorization", "Bearer "+tokAdmin)
			hr.Header.Set("Content-Type", "application/json")
			res, err := e.srv.Client().Do(hr)
			if err != nil {
				closing = append(closing, err.Error())
				continue
			}
			res.Body.Close()
			closing = append(closing, fmt.Sprint(w.path, " ", res.StatusCode))
		}
	}
	e = newLoggedEnv(t, domain.MustDate("2007-01-10"), &onMessage{Handler: slog.DiscardHandler, msg: "county notices", do: closeYear})
	for i := range 2 {
		id := e.register(t, tokAdmin, orgCode(7140+i), "360702")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	}
	const path, body = "/v1/counties/360702/notices", `{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":30}`
	key := http.Header{"Idempotency-Key": {"closed-midway"}}
	before := e.events()
	stopped := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key)
	if fmt.Sprint(closing) != "[/v1/freezes 201 /v1/years/2006/close 201]" {
		t.Fatalf("closing 2006 after the batch's first notice: %v", closing)
	}
	if stopped.status != http.StatusServiceUnavailable || !strings.Contains(string(stopped.body), "stopped after 1 notices were recorded") {
		t.Errorf("the batch its year closed under: %d %.300s; want 503 saying 1 notice was recorded", stopped.status, stopped.body)
	}
	// The notice, the freeze and the closing.
	if got := e.events() - before; got != 3 {
		t.Errorf("the batch and the closing appended %d events, want 3", got)
	}
	again := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key)
	if again.status != http.StatusOK || again.header.Get("X-Notice-Count") != "1" || again.header.Get("X-Notice-Left") != "1" {
		t.Errorf("the retry after 2006 closed: %d, %s notices, %s left %.200s; want 200, the 1 notice recorded, 1 payer left",
			again.status, again.header.Get("X-Notice-Count"), again.header.Get("X-Notice-Left"), again.body)
	}
}

// TestTwoBatchesSentAtOnceUnderOneKeyLeaveItOneRequests: two county batches of other bodies sent
// at once under one key run one after the other: one issues its notices, the other is refused 422
// recording none, and the first's retry answers its zip.
func TestTwoBatchesSentAtOnceUnderOneKeyLeaveItOneRequests(t *testing.T) {
	defer api.SetNoticeChunk(1)()
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	// Payers overdue since a declaration of 2006-10 (due 11-15) first, then since 2006-03.
	for i := range 6 {
		id := e.register(t, tokAdmin, orgCode(7150+i), "360721")
		e.mustWrite(t, empPath(id, "declarations"), tokAdmin, `{"declared_on":"2006-11-01","period":"2006-10","lines":[{"insurance":"pension","headcount":1,"wage_base_fen":250000}]}`)
	}
	for i := range 6 {
		id := e.register(t, tokAdmin, orgCode(7160+i), "360721")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	}
	before := e.events()
	key := http.Header{"Idempotency-Key": {"one-key"}}
	bodies := []string{
		`{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":150}`,
		`{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":10}`,
	}
	answers := make([]pdfAnswer, 2)
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Go(func() {
			answers[i] = e.rawWith(t, http.MethodPost, "/v1/counties/360721/notices", tokAuditor, body, key)
		})
	}
	wg.Wait()
	won := slices.IndexFunc(answers, func(a pdfAnswer) bool { return a.status == http.StatusOK })
	if won < 0 || answers[1-won].status != http.StatusUnprocessableEntity {
		t.Fatalf("two batches under one key: %d and %d; want one 200 and one 422", answers[0].status, answers[1].status)
	}
	count, _ := strconv.Atoi(answers[won].header.Get("X-Notice-Count"))
	if got := e.events() - before; got != uint64(count) || count == 0 {
		t.Errorf("the batches appended %d events; want the %d notices of the one answered 200", got, count)
	}
	if again := e.rawWith(t, http.MethodPost, "/v1/counties/360721/notices", tokAuditor, bodies[won], key); again.status != http.StatusOK || !bytes.Equal(again.body, answers[won].body) {
		t.Errorf("the retry of the batch answered 200: %d %.100q; want its zip", again.status, again.body)
	}
}

// TestTwoBatchesUnderOneKeyThroughTwoReplicasLeaveItOneRequests: county batches sent at once
// under one key, each through its own API replica on one stream. Of two bodies (other days
// overdue: other payers) one issues its notices and the other is refused 422 recording none (the
// batch's first notice, alone, takes the key itself); of one body sent twice, each answers its
// zip or 503 (another try is running), issuing no notice twice. A retry through the other replica
// answers the zip.
func TestTwoBatchesUnderOneKeyThroughTwoReplicasLeaveItOneRequests(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	other := e.secondReplica(t)
	second := &env{t: t, l: e.l, tokens: e.tokens, today: e.today, runner: startRunner(t, other)}
	second.srv = httptest.NewServer(api.New(api.Config{Store: other, Runner: second.runner, Tokens: e.tokens, Today: func() domain.Date { return e.today }}))
	t.Cleanup(second.srv.Close)
	bodies := []string{
		`{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":150}`, // the 2006-03 payers
		`{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":10}`,  // all of them
	}
	for round := range 8 {
		// New payers each round, overdue since a declaration of 2006-10 (due 11-15), and since 2006-03.
		for i := range 3 {
			id := e.register(t, tokAdmin, orgCode(7200+10*round+i), "360721")
			e.mustWrite(t, empPath(id, "declarations"), tokAdmin, `{"declared_on":"2006-11-01","period":"2006-10","lines":[{"insurance":"pension","headcount":1,"wage_base_fen":250000}]}`)
			id = e.register(t, tokAdmin, orgCode(7205+10*round+i), "360721")
			e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
		}
		key := http.Header{"Idempotency-Key": {fmt.Sprintf("two-replicas-%d", round)}}
		sameBody := round >= 4
		sent := func(i int) string {
			if sameBody {
				return bodies[1]
			}
			return bodies[(i+round)%2]
		}
		before := e.events()
		answers := make([]pdfAnswer, 2)
		var wg sync.WaitGroup
		for i, through := range []*env{e, second} {
			wg.Go(func() {
				answers[i] = through.rawWith(t, http.MethodPost, "/v1/counties/360721/notices", tokAuditor, sent(i), key)
			})
		}
		wg.Wait()
		won := slices.IndexFunc(answers, func(a pdfAnswer) bool { return a.status == http.StatusOK })
		switch {
		case sameBody:
			for _, a := range answers {
				if a.status != http.StatusOK && a.status != http.StatusServiceUnavailable || a.status == http.StatusOK && !bytes.Equal(a.body, answers[won].body) {
					t.Fatalf("round %d: one batch sent twice at once through two replicas: %d and %d; want each its zip or 503:\n%s\n%s",
						round, answers[0].status, answers[1].status, answerManifest(t, answers[0]), answerManifest(t, answers[1]))
				}
			}
		case won < 0 || answers[1-won].status != http.StatusUnprocessableEntity:
			t.Fatalf("round %d: two batches under one key through two replicas: %d %.200s and %d %.200s; want one 200 and one 422",
				round, answers[0].status, answers[0].body, answers[1].status, answers[1].body)
		}
		if won < 0 {
			won = 0
		}
		through := []*env{second, e}[won] // the other replica
		again := through.rawWith(t, http.MethodPost, "/v1/counties/360721/notices", tokAuditor, sent(won), key)
		if again.status != http.StatusOK || answers[won].status == http.StatusOK && !bytes.Equal(again.body, answers[won].body) {
			t.Errorf("round %d: the retry of the batch through the other replica: %d %.100q; want 200 and its zip", round, again.status, again.body)
		}
		count, _ := strconv.Atoi(again.header.Get("X-Notice-Count"))
		if got := e.events() - before; got != uint64(count) || count == 0 {
			t.Errorf("round %d: the batches appended %d events; want the %d notices of the batch's zip", round, got, count)
		}
	}
}

// TestARetryRefusedBeforeItRecordsIsNoRefusalWhenEarlierTriesDid: a batch's retry whose year is
// closed before it records a notice answers 503, not a 4xx: its key holds the notices an earlier
// try recorded.
func TestARetryRefusedBeforeItRecordsIsNoRefusalWhenEarlierTriesDid(t *testing.T) {
	defer api.SetNoticeChunk(1)()
	var e *env
	closeYear := func() { // once the batch has read its payers, before it records
		for _, path := range []string{"/v1/freezes", "/v1/years/2006/close"} {
			body := `{}`
			if path == "/v1/freezes" {
				body = `{"valid_through":"2006-12-31"}`
			}
			e.mustWrite(t, path, tokAdmin, body)
		}
	}
	e = newLoggedEnv(t, domain.MustDate("2007-01-10"), &onMessage{Handler: slog.DiscardHandler, msg: "county notices: cannot be printed, left out", do: closeYear})
	debt := `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`
	var ids []string // the list's order: B, then A, then one whose name cannot be printed
	for i, name := range []string{"乙厂", "甲厂", "赣州市堃龙机械厂"} {
		id := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(`{"name":%q,"county":"360721","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`,
			name, orgCode(7170+i))).str("employer_id")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, debt)
		ids = append(ids, id)
	}
	const path, body = "/v1/counties/360721/notices", `{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":30}`
	// An earlier try recorded A's notice.
	recordAsOlderBuild(t, e, ids[1], 1, "2006-12-20", "2007-01-05", "earlier\x00county-notices\x00"+ids[1], path, body)
	r := e.rawWith(t, http.MethodPost, path, tokAuditor, body, http.Header{"Idempotency-Key": {"earlier"}})
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "after its earlier tries recorded notices") {
		t.Errorf("the retry refused year_closed before it recorded: %d %.300s; want 503 saying earlier tries recorded notices", r.status, r.body)
	}
}

// TestABatchMeetingAnotherTryOfItselfAnswers503: a batch that finds its key taken, after it read
// its payers, by a notice of its own body for another payer (another try of it, through another
// replica) answers 503 and records nothing; sent again, it answers that notice and the rest.
func TestABatchMeetingAnotherTryOfItselfAnswers503(t *testing.T) {
	var e *env
	var ids []string
	const path, body = "/v1/counties/360721/notices", `{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":30}`
	otherTry := func() { // the list's second payer's notice, under the batch's own key
		recordAsOlderBuild(t, e, ids[1], 1, "2006-12-20", "2007-01-05", "k-other-try", path, body)
	}
	e = newLoggedEnv(t, domain.MustDate("2006-12-31"), &onMessage{Handler: slog.DiscardHandler, msg: "county notices: cannot be printed, left out", do: otherTry})
	debt := `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`
	for i, name := range []string{"乙厂", "甲厂", "赣州市堃龙机械厂"} { // the list's order: B, A, one that cannot be printed
		id := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(`{"name":%q,"county":"360721","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`,
			name, orgCode(7300+i))).str("employer_id")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, debt)
		ids = append(ids, id)
	}
	key := http.Header{"Idempotency-Key": {"k-other-try"}}
	before := e.events()
	if r := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key); r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "another try of this batch") {
		t.Errorf("a batch whose key another try took for another payer: %d %.300s; want 503 saying so", r.status, r.body)
	}
	if got := e.events() - before; got != 1 {
		t.Errorf("the batch and the other try appended %d events; want the other try's 1", got)
	}
	again := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key)
	if again.status != http.StatusOK || again.header.Get("X-Notice-Count") != "2" {
		t.Errorf("the batch sent again: %d, %s notices %.200s; want 200 with both payers'", again.status, again.header.Get("X-Notice-Count"), again.body)
	}
	if got := e.events() - before; got != 2 {
		t.Errorf("in all %d events; want 2 notices, none issued twice", got)
	}
}

// TestAnOlderBuildsBatchIsAnsweredThoughAWriteTookItsKeySince: a batch whose notices an older
// build recorded under derived keys only, its own key then taken by a write of another route,
// still answers its retry with its notices, recording nothing.
func TestAnOlderBuildsBatchIsAnsweredThoughAWriteTookItsKeySince(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	const path, body = "/v1/counties/360721/notices", `{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":30}`
	id := e.register(t, tokAdmin, orgCode(7310), "360721")
	e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	recordAsOlderBuild(t, e, id, 1, "2006-12-20", "2007-01-05", "old-batch\x00county-notices\x00"+id, path, body)
	other := e.register(t, tokAdmin, orgCode(7311), "360702")
	e.mustWrite(t, empPath(other, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	key := http.Header{"Idempotency-Key": {"old-batch"}}
	if r := e.rawWith(t, http.MethodPost, empPath(other, "enforcement"), tokAuditor, `{"step":"notice","on":"2006-12-18","doc_no":"N-9","deadline":"2007-01-05"}`, key); r.status != http.StatusCreated {
		t.Fatalf("a step under the older batch's key: %d %.200s", r.status, r.body)
	}
	before := e.events()
	if r := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key); r.status != http.StatusOK || r.header.Get("X-Notice-Count") != "1" {
		t.Errorf("the older batch retried after a write took its key: %d, %s notices %.200s; want 200 with its notice", r.status, r.header.Get("X-Notice-Count"), r.body)
	}
	if got := e.events() - before; got != 0 {
		t.Errorf("the retry appended %d events, want none", got)
	}
}

// A county batch may take longer than the server's write timeout (a large county, or the views of
// closed books replayed first): its answer must still reach the client. Here the timeout has
// passed before the handler starts.
func TestACountyBatchIsAnsweredAfterTheServersWriteTimeout(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	id := e.register(t, tokAdmin, orgCode(7320), "360721")
	e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	srv := httptest.NewUnstartedServer(api.New(api.Config{Store: e.l.Store, Runner: e.runner, Today: func() domain.Date { return e.today }}))
	srv.Config.WriteTimeout = time.Nanosecond
	srv.Start()
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+"/v1/counties/360721/notices", "application/json", strings.NewReader(`{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":30}`))
	if err != nil {
		t.Fatalf("a county batch on a server whose write timeout has passed: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("X-Notice-Count") != "1" || !bytes.HasPrefix(b, []byte("PK")) {
		t.Fatalf("the batch: %s, %s notices, %d bytes, %v; want 200 with its zip of 1 notice", resp.Status, resp.Header.Get("X-Notice-Count"), len(b), err)
	}
}

// TestTwoBatchesOfOneCountyAtOnceLeaveNoGapInItsNumbers: two batches of one county and day sent
// at once under their own keys, reaching mostly the same payers, give each payer one notice and
// the county's numbers from 0001 without a gap: a payer another batch reached first is read again
// before it takes a number, not numbered and then left out.
func TestTwoBatchesOfOneCountyAtOnceLeaveNoGapInItsNumbers(t *testing.T) {
	defer api.SetNoticeChunk(2)()
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	for i := range 12 {
		id := e.register(t, tokAdmin, orgCode(7400+i), "360721")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	}
	before := e.events()
	answers := make([]pdfAnswer, 2)
	var wg sync.WaitGroup
	for i, days := range []int{30, 60} {
		wg.Go(func() {
			answers[i] = e.rawWith(t, http.MethodPost, "/v1/counties/360721/notices", tokAuditor,
				fmt.Sprintf(`{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":%d}`, days), http.Header{"Idempotency-Key": {fmt.Sprint("gap-", i)}})
		})
	}
	wg.Wait()
	var serials []int
	payers := map[string]int{}
	for _, a := range answers {
		if a.status != http.StatusOK {
			t.Fatalf("a batch: %d %.200s", a.status, a.body)
		}
		names, files := unzip(t, a.body)
		for _, name := range names {
			if n, ok := strings.CutSuffix(name, ".pdf"); ok {
				i := strings.LastIndex(n, "-")
				serial, _ := strconv.Atoi(n[i+1:])
				serials = append(serials, serial)
			}
		}
		rows, err := csv.NewReader(bytes.NewReader(files["manifest.csv"])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows[1:] {
			payers[row[1]]++
		}
	}
	slices.Sort(serials)
	for i, n := range serials {
		if n != i+1 {
			t.Fatalf("the county's notice numbers: %v; want 1 to %d without a gap", serials, len(serials))
		}
	}
	if len(payers) != 12 || len(serials) != 12 {
		t.Errorf("%d notices to %d payers: %v; want one to each of the 12", len(serials), len(payers), payers)
	}
	if got := e.events() - before; got != 12 {
		t.Errorf("the batches appended %d events; want 12 notices", got)
	}
	// Each batch's progress counts as due only the payers it issued to, not those left out.
	for i := range 2 {
		r := e.rawWith(t, http.MethodGet, "/v1/counties/360721/notices/progress", tokAuditor, "", http.Header{"Idempotency-Key": {fmt.Sprint("gap-", i)}})
		var p api.BatchProgress
		if err := json.Unmarshal(r.body, &p); err != nil || p.State != "done" || p.Eligible != p.Issued || answers[i].header.Get("X-Notice-Count") != strconv.Itoa(p.Issued) {
			t.Errorf("batch %d's progress: %d %s; want done, as many due as issued (%s)", i, r.status, r.body, answers[i].header.Get("X-Notice-Count"))
		}
	}
}

// answerManifest is a batch's answer as a failure shows it: the zip's manifest, or the body.
func answerManifest(t *testing.T, a pdfAnswer) string {
	if a.status != http.StatusOK {
		return fmt.Sprintf("%d %.300s", a.status, a.body)
	}
	_, files := unzip(t, a.body)
	return fmt.Sprintf("200, X-Notice-Count %s, manifest:\n%s", a.header.Get("X-Notice-Count"), files["manifest.csv"])
}
