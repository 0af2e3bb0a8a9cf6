package api_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// unzip reads a zip's files by name, in order.
func unzip(t testing.TB, b []byte) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	var names []string
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f.Name, ".csv") {
			// Excel reads a CSV without a byte-order mark in the system's code page, garbling
			// every Chinese name (an outside review found the zip's CSVs without one).
			var ok bool
			if body, ok = bytes.CutPrefix(body, []byte("\ufeff")); !ok {
				t.Errorf("%s in the zip begins %q, without a byte-order mark", f.Name, body[:min(len(body), 16)])
			}
		}
		names = append(names, f.Name)
		files[f.Name] = body
	}
	return names, files
}

// TestCountyNoticesZipTheNoticesIssued issues a county's notices in one batch and checks the zip:
// one PDF per employer of the county with principal overdue more than overdue_days days, numbered
// on from -0001 in the employer list's order, each the bytes recorded (SHA-256) and served again by
// GET …/notices/{number}.pdf, the manifest's figures those of the employer as of issued_on; a
// retry with the same Idempotency-Key answers the same bytes and appends nothing, after one of
// them moved to another county too; refusals append nothing.
func TestCountyNoticesZipTheNoticesIssued(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-06-30"))
	opening := func(asOf, period string, fen int) string {
		return fmt.Sprintf(`{"as_of":%q,"lines":[{"period":%q,"insurance":"pension","outstanding_fen":%d},{"period":%q,"insurance":"medical","outstanding_fen":5432}]}`, asOf, period, fen, period)
	}
	var due []string
	for i := range 4 {
		id := e.register(t, tokAdmin, orgCode(72000001+i), "360702")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, opening("2006-04-03", "2006-03", 100000+i*1000))
		due = append(due, id)
	}
	recent := e.register(t, tokAdmin, orgCode(72000010), "360702") // arrears due 2006-05-15: 5 days overdue
	e.mustWrite(t, empPath(recent, "opening-balances"), tokAdmin, opening("2006-05-03", "2006-04", 70000))
	e.register(t, tokAdmin, orgCode(72000011), "360702") // no arrears
	other := e.register(t, tokAdmin, orgCode(72000012), "360721")
	e.mustWrite(t, empPath(other, "opening-balances"), tokAdmin, opening("2006-04-03", "2006-03", 90000))

	const path, body = "/v1/counties/360702/notices", `{"issued_on":"2006-05-20","deadline":"2006-06-05","overdue_days":30}`
	before := e.count()
	if r := e.raw(t, http.MethodPost, path, tokClerkA, body); r.status != http.StatusForbidden {
		t.Errorf("a clerk issuing a county's notices: %d %s, want 403", r.status, r.body)
	}
	wantError(t, e.post(t, "/v1/counties/369999/notices", tokAuditor, body), 404, "not_found", "code")
	wantError(t, e.post(t, path, tokAuditor, `{"issued_on":"2006-05-20","deadline":"2006-05-20","overdue_days":30}`), 400, "invalid", "deadline")
	wantError(t, e.post(t, path, tokAuditor, `{"issued_on":"2006-05-20","deadline":"2006-06-05"}`), 400, "invalid", "overdue_days")
	wantError(t, e.post(t, path, tokAuditor, `{"issued_on":"2006-05-20","deadline":"2006-06-05","overdue_days":-1}`), 400, "invalid", "overdue_days")
	e.wantUnchanged(t, before)

	key := http.Header{"Idempotency-Key": {"batch-2006-05-20"}}
	a := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("POST %s: %d %s %.300s", path, a.status, a.header.Get("Content-Type"), a.body)
	}
	names, files := unzip(t, a.body)
	if len(names) != len(due)+1 || names[len(names)-1] != "manifest.csv" {
		t.Fatalf("the zip holds %q, want %d notices and manifest.csv", names, len(due))
	}
	rows, err := csv.NewReader(bytes.NewReader(files["manifest.csv"])).ReadAll()
	if err != nil || len(rows) != len(due)+1 {
		t.Fatalf("manifest.csv: %v, %d rows: %q", err, len(rows), files["manifest.csv"])
	}
	if h := rows[0]; fmt.Sprint(h) != "[number employer_id name principal_fen late_fee_fen sha256]" {
		t.Errorf("manifest header %q", h)
	}
	for i, id := range due {
		number := domain.NoticeNumber(domain.NoticePrefix("章贡区", 2006), i+1)
		pdf := files[number+".pdf"]
		if names[i] != number+".pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("file %d is %q, want the PDF %s.pdf", i, names[i], number)
			continue
		}
		if got := e.recordedSHA(t, id, number); got != sha(pdf) {
			t.Errorf("%s: recorded SHA-256 %s, the zip's PDF %s", number, got, sha(pdf))
		}
		if g := e.raw(t, http.MethodGet, noticePath(id, number), tokAuditor, ""); g.status != http.StatusOK || !bytes.Equal(g.body, pdf) {
			t.Errorf("GET %s: %d, %d bytes; want the zip's %d", number, g.status, len(g.body), len(pdf))
		}
		var st struct {
			Name   string        `json:"name"`
			Totals domain.Totals `json:"totals"`
		}
		decode(t, e.get(t, empPath(id, "")+"?as_of=2006-05-20", tokAuditor), &st)
		want := []string{number, id, st.Name, strconv.FormatInt(int64(st.Totals.ArrearsFen()), 10), strconv.FormatInt(int64(st.Totals.LateFeeFen), 10), sha(pdf)}
		if fmt.Sprint(rows[i+1]) != fmt.Sprint(want) {
			t.Errorf("manifest row %d: %q, want %q", i+1, rows[i+1], want)
		}
	}

	// Sent again with a new key, the batch leaves out every payer noticed that day (one a day).
	before = e.count()
	if again := e.rawWith(t, http.MethodPost, path, tokAuditor, body, http.Header{"Idempotency-Key": {"batch-sent-twice"}}); again.status != http.StatusOK || again.header.Get("X-Notice-Count") != "0" {
		t.Errorf("the same batch under a new key: %d, %s notices; want 200 and none (each payer has its notice of the day)", again.status, again.header.Get("X-Notice-Count"))
	}
	e.wantUnchanged(t, before)
	// A payer that came into the county after issued_on was not of it then: no notice of it.
	e.mustWrite(t, empPath(other, "transfer"), tokAdmin, `{"on":"2006-06-01","county":"360702"}`)
	nextDay := strings.Replace(body, "2006-05-20", "2006-05-21", 1)
	c := e.rawWith(t, http.MethodPost, path, tokAuditor, nextDay, http.Header{"Idempotency-Key": {"batch-after-a-move"}})
	if _, cf := unzip(t, c.body); c.status != http.StatusOK || c.header.Get("X-Notice-Count") != strconv.Itoa(len(due)) || bytes.Contains(cf["manifest.csv"], []byte(other)) {
		t.Errorf("a new batch of 360702 on 2006-05-21 after a payer of 360721 came in on 2006-06-01: %d, %s notices, manifest %q; want the %d of the county then",
			c.status, c.header.Get("X-Notice-Count"), cf["manifest.csv"], len(due))
	}
	// A retry answers the same bytes and appends nothing, though one of the batch has moved to
	// another county since.
	e.mustWrite(t, empPath(due[0], "transfer"), tokAdmin, `{"on":"2006-06-01","county":"360721"}`)
	before = e.count()
	if b := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key); b.status != http.StatusOK || !bytes.Equal(b.body, a.body) {
		t.Errorf("the retry answered %d, %d bytes of SHA-256 %s; want the first %d bytes (%s)", b.status, len(b.body), sha(b.body), len(a.body), sha(a.body))
	}
	e.wantUnchanged(t, before)
}

// TestABatchIsNumberedInOrderAcrossChunksAndARetryAnswersTheFirst issues a county batch of
// more notices than are printed side by side at once, after a single notice took the series'
// first number: the batch's notices are numbered on from it, contiguous, in the manifest's order,
// each recorded with its PDF's hash; its progress reads done with every count. A retry with the
// same key, after more employers fell into arrears and one of the batch paid, answers the zip
// first issued, byte for byte, and appends nothing (API.md: the same key and body answers the
// first result at any later time).
func TestABatchIsNumberedInOrderAcrossChunksAndARetryAnswersTheFirst(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-06-30"))
	owe := func(id string, fen int) {
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, fmt.Sprintf(`{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":%d}]}`, fen))
	}
	var first []string
	for i := range 40 {
		id := e.register(t, tokAdmin, orgCode(73000001+i), "360702")
		owe(id, 100000+i*100)
		first = append(first, id)
	}
	prefix := domain.NoticePrefix("章贡区", 2006)
	if n := docNumber(t, e.issue(t, first[5], "2006-05-10", "2006-05-31")); n != domain.NoticeNumber(prefix, 1) {
		t.Fatalf("the single notice is %q", n)
	}
	const path, body = "/v1/counties/360702/notices", `{"issued_on":"2006-05-20","deadline":"2006-06-05","overdue_days":30}`
	key := http.Header{"Idempotency-Key": {"big-batch"}}
	check := func(a pdfAnswer, want int) ([][]string, map[string][]byte) {
		t.Helper()
		if a.status != http.StatusOK {
			t.Fatalf("POST %s: %d %.300s", path, a.status, a.body)
		}
		names, files := unzip(t, a.body)
		rows, err := csv.NewReader(bytes.NewReader(files["manifest.csv"])).ReadAll()
		if err != nil || len(rows) != want+1 || len(names) != want+1 || a.header.Get("X-Notice-Count") != strconv.Itoa(want) {
			t.Fatalf("the zip holds %d files, %d manifest rows (%v), X-Notice-Count %s; want %d notices", len(names), len(rows), err, a.header.Get("X-Notice-Count"), want)
		}
		for i, row := range rows[1:] {
			number, id := row[0], row[1]
			if names[i] != number+".pdf" {
				t.Errorf("file %d is %s, the manifest's row %s", i, names[i], number)
			}
			if got := e.recordedSHA(t, id, number); got != sha(files[number+".pdf"]) || got != row[5] {
				t.Errorf("%s of %s: recorded SHA-256 %s, the zip's PDF %s, the manifest %s", number, id, got, sha(files[number+".pdf"]), row[5])
			}
			// The answer's X-Ledger-Seq reflects its notices: min_seq of it reads them anywhere.
			answered, _ := strconv.ParseUint(a.header.Get("X-Ledger-Seq"), 10, 64)
			if seq := e.recordedSeq(t, id, number); seq > answered {
				t.Errorf("%s of %s is at sequence %d; the answer's X-Ledger-Seq is %d", number, id, seq, answered)
			}
		}
		return rows[1:], files
	}
	firstAnswer := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key)
	rows, _ := check(firstAnswer, len(first))
	for i, row := range rows {
		if want := domain.NoticeNumber(prefix, i+2); row[0] != want {
			t.Errorf("manifest row %d is numbered %s, want %s", i+1, row[0], want)
		}
	}

	var progress api.BatchProgress
	byKey := map[string]string{"Idempotency-Key": "big-batch"}
	decode(t, e.do(t, req{Method: http.MethodGet, Path: path + "/progress", Token: tokAuditor, Header: byKey}), &progress)
	if want := (api.BatchProgress{County: "360702", State: "done", Employers: 40, Read: 40, Eligible: 40, Issued: 40}); progress != want {
		t.Errorf("progress %+v, want %+v", progress, want)
	}
	wantError(t, e.do(t, req{Method: http.MethodGet, Path: path + "/progress", Token: tokAdmin, Header: byKey}), 404, "not_found", "Idempotency-Key")
	wantError(t, e.do(t, req{Method: http.MethodGet, Path: "/v1/counties/360721/notices/progress", Token: tokAuditor, Header: byKey}), 404, "not_found", "Idempotency-Key")
	wantError(t, e.get(t, path+"/progress", tokAuditor), 400, "invalid", "Idempotency-Key")

	for i := range 3 {
		owe(e.register(t, tokAdmin, orgCode(73000101+i), "360702"), 50000)
	}
	// The batch's first employer pays its arrears (dated before the notice, recorded after it).
	e.mustWrite(t, empPath(first[0], "payments"), tokAdmin, fmt.Sprintf(`{"paid_on":"2006-05-18","amount_fen":%d,"receipt_no":"PAID-1"}`, 200000))
	before := e.events()
	again := e.rawWith(t, http.MethodPost, path, tokAuditor, body, key)
	if again.status != http.StatusOK || !bytes.Equal(again.body, firstAnswer.body) {
		names, _ := unzip(t, again.body)
		t.Errorf("the retry answered %d, %d files; want the first zip's %d, byte for byte", again.status, len(names), len(rows)+1)
	}
	if got := e.events() - before; got != 0 {
		t.Errorf("the retry appended %d events, want none", got)
	}
}

// TestABatchsProgressLogCountsTheBatchsTotal: each progress line of a county batch says how many
// notices are issued "of" the batch's eligible total, not of what is left after the chunk being
// printed.
func TestABatchsProgressLogCountsTheBatchsTotal(t *testing.T) {
	defer api.SetNoticeProgressEvery(2)()
	logBuf := &storetest.SyncBuffer{}
	e := newLoggedEnv(t, domain.MustDate("2006-06-30"), slog.NewJSONHandler(logBuf, nil))
	const n = 5
	for i := range n {
		id := e.register(t, tokAdmin, orgCode(73000201+i), "360702")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	}
	a := e.rawWith(t, http.MethodPost, "/v1/counties/360702/notices", tokAuditor, `{"issued_on":"2006-05-20","deadline":"2006-06-05","overdue_days":30}`, nil)
	if a.status != http.StatusOK || a.header.Get("X-Notice-Count") != strconv.Itoa(n) {
		t.Fatalf("the batch: %d, X-Notice-Count %s; want 200 and %d notices", a.status, a.header.Get("X-Notice-Count"), n)
	}
	lines := withMsg(t, logBuf, "county notices", n/2)
	for i, l := range lines {
		if issued, of := fmt.Sprint(l["issued"]), fmt.Sprint(l["of"]); issued != strconv.Itoa(2*(i+1)) || of != strconv.Itoa(n) {
			t.Errorf("progress line %d says issued=%s of=%s; want issued=%d of=%d", i+1, issued, of, 2*(i+1), n)
		}
	}
}

// TestABatchLeavesOutANoticeTheFontCannotPrintAndSaysSo: an overdue employer whose name holds a
// character outside GB2312 (堃) gets no notice and takes no number; the zip lists it in
// unprintable.csv, X-Notice-Unprintable and the progress count it; the others are numbered on
// without a gap. Once its name is corrected, a retry issues it the notice the batch left, and
// none to a payer that fell into arrears after the batch's first notice.
func TestABatchLeavesOutANoticeTheFontCannotPrintAndSaysSo(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-06-30"))
	owe := func(id string) {
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	}
	var ids []string
	for i, name := range []string{"甲厂", "赣州市堃龙机械厂", "乙厂"} {
		id := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(`{"name":%q,"county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`,
			name, orgCode(75000001+i))).str("employer_id")
		owe(id)
		ids = append(ids, id)
	}
	before := e.events()
	a := e.rawWith(t, http.MethodPost, "/v1/counties/360702/notices", tokAuditor, `{"issued_on":"2006-05-20","deadline":"2006-06-05","overdue_days":0}`,
		http.Header{"Idempotency-Key": {"unprintable"}})
	if a.status != http.StatusOK {
		t.Fatalf("batch: %d %.300s", a.status, a.body)
	}
	names, files := unzip(t, a.body)
	prefix := domain.NoticePrefix("章贡区", 2006)
	want := []string{domain.NoticeNumber(prefix, 1) + ".pdf", domain.NoticeNumber(prefix, 2) + ".pdf", "manifest.csv", "unprintable.csv"}
	if !slices.Equal(names, want) || a.header.Get("X-Notice-Count") != "2" || a.header.Get("X-Notice-Unprintable") != "1" || e.events()-before != 2 {
		t.Fatalf("the zip holds %q (X-Notice-Count %s, X-Notice-Unprintable %s, %d events appended), want %q, 2 and 1, and 2 events",
			names, a.header.Get("X-Notice-Count"), a.header.Get("X-Notice-Unprintable"), e.events()-before, want)
	}
	rows, err := csv.NewReader(bytes.NewReader(files["unprintable.csv"])).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != ids[1] || rows[1][1] != "赣州市堃龙机械厂" || !strings.Contains(rows[1][2], "U+5803") {
		t.Fatalf("unprintable.csv: %v %q", err, rows)
	}
	var p api.BatchProgress
	decode(t, e.do(t, req{Method: http.MethodGet, Path: "/v1/counties/360702/notices/progress", Token: tokAuditor, Header: map[string]string{"Idempotency-Key": "unprintable"}}), &p)
	if p.Eligible != 2 || p.Issued != 2 || p.Unprintable != 1 {
		t.Errorf("progress %+v, want 2 eligible, 2 issued, 1 unprintable", p)
	}

	// Its name corrected, a retry issues the notice the batch left, and none to a payer that
	// fell into arrears after the batch's first notice.
	e.mustWrite(t, empPath(ids[1], "changes"), tokAdmin, `{"on":"2006-04-03","name":"赣州市龙机械厂"}`)
	late := e.mustWrite(t, "/v1/employers", tokAdmin, fmt.Sprintf(`{"name":"丙厂","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`,
		orgCode(75000011))).str("employer_id")
	owe(late)
	before = e.events()
	b := e.rawWith(t, http.MethodPost, "/v1/counties/360702/notices", tokAuditor, `{"issued_on":"2006-05-20","deadline":"2006-06-05","overdue_days":0}`,
		http.Header{"Idempotency-Key": {"unprintable"}})
	names, files = unzip(t, b.body)
	want = []string{domain.NoticeNumber(prefix, 1) + ".pdf", domain.NoticeNumber(prefix, 3) + ".pdf", domain.NoticeNumber(prefix, 2) + ".pdf", "manifest.csv"}
	if b.status != http.StatusOK || !slices.Equal(names, want) || e.events()-before != 1 {
		t.Fatalf("the retry: %d, the zip holds %q (%d events appended), want %q and 1 event", b.status, names, e.events()-before, want)
	}
	if rows, err := csv.NewReader(bytes.NewReader(files["manifest.csv"])).ReadAll(); err != nil || len(rows) != 4 || rows[2][1] != ids[1] {
		t.Errorf("manifest.csv: %v %q, want the left notice of %s second, in the employer list's order", err, rows, ids[1])
	}
}

// BenchmarkNoticeBatch issues the notices of 360702 with POST /v1/counties/360702/notices (every
// payer with principal overdue on 2006-12-31, and a day earlier each batch after, numbered,
// printed, recorded and zipped), one batch an iteration, in a demo ledger of 2,000 payers (30 notices a batch) and in the default one of
// 20,000 (as serve --demo has; about 300 a batch, beside views of 20,000 payers), and reports
// notices per second and zip bytes per notice. It gates on nothing.
func BenchmarkNoticeBatch(b *testing.B) {
	for _, employers := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("%d payers", employers), func(b *testing.B) {
			l := benchLedger(b, employers, true)
			runner := startRunner(b, l.Store)
			srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: runner, Today: func() domain.Date { return demo.Today }}))
			b.Cleanup(srv.Close)
			var notices, size int64
			for k := 0; b.Loop(); k++ {
				// A day earlier each batch: a payer gets one notice a day.
				on := demo.Today.AddDays(-k)
				res, err := srv.Client().Post(srv.URL+"/v1/counties/360702/notices", "application/json",
					strings.NewReader(fmt.Sprintf(`{"issued_on":%q,"deadline":%q,"overdue_days":0}`, on, on.AddDays(15))))
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("batch: %d %v %.300s", res.StatusCode, err, body)
				}
				n, _ := strconv.ParseInt(res.Header.Get("X-Notice-Count"), 10, 64)
				if n == 0 {
					b.Fatal("the batch issued no notice: no payer of 360702 has arrears in the demo ledger")
				}
				notices += n
				size += int64(len(body))
			}
			b.ReportMetric(float64(notices)/b.Elapsed().Seconds(), "notices/s")
			b.ReportMetric(float64(size)/float64(notices), "bytes/notice")
			b.ReportMetric(float64(notices)/float64(b.N), "notices/batch")
		})
	}
}

// TestABatchLeavesOutAPayerWhoseLaterStepsItsNoticeWouldBreak: a county batch dated in the past
// leaves out a payer with an inspection recorded after the batch's date, within its deadline, as
// the single notice is refused (the inspection would then escalate a notice before its
// deadline); the others are numbered on without a gap.
func TestABatchLeavesOutAPayerWhoseLaterStepsItsNoticeWouldBreak(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-06-30"))
	var ids []string
	for i := range 3 {
		id := e.register(t, tokAdmin, orgCode(72000101+i), "360702")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin,
			fmt.Sprintf(`{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":%d}]}`, 100000+i))
		ids = append(ids, id)
	}
	e.mustWrite(t, empPath(ids[1], "enforcement"), tokAuditor, `{"step":"notice","on":"2006-04-20","doc_no":"N-1","deadline":"2006-05-01"}`)
	inspection := e.mustWrite(t, empPath(ids[1], "enforcement"), tokAuditor, `{"step":"inspection","on":"2006-05-25","doc_no":"I-1"}`)
	wantError(t, e.post(t, empPath(ids[1], "notices"), tokAuditor, `{"issued_on":"2006-05-20","deadline":"2006-06-05"}`), 409, "conflict", "deadline")

	const body = `{"issued_on":"2006-05-20","deadline":"2006-06-05","overdue_days":30}`
	key := http.Header{"Idempotency-Key": {"batch-ladder"}}
	r := e.rawWith(t, http.MethodPost, fmt.Sprintf("/v1/counties/360702/notices?min_seq=%d", inspection.num("seq")), tokAuditor, body, key)
	if r.status != http.StatusOK {
		t.Fatalf("the batch: %d %s", r.status, r.body)
	}
	// The inspection voided since, a retry issues what the first try would have: no more.
	seq := e.mustWrite(t, empPath(ids[1], "voids"), tokAdmin, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-06-01","reason":"录错"}`,
		inspection.JSON["event_ids"].([]any)[0])).num("seq")
	again := e.rawWith(t, http.MethodPost, fmt.Sprintf("/v1/counties/360702/notices?min_seq=%d", seq), tokAuditor, body, key)
	if again.status != http.StatusOK || !bytes.Equal(again.body, r.body) {
		t.Errorf("the retry after the inspection was voided: %d, %d bytes, want the first try's %d bytes", again.status, len(again.body), len(r.body))
	}
	names, files := unzip(t, r.body)
	rows, err := csv.NewReader(bytes.NewReader(files["manifest.csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range rows[1:] {
		got = append(got, strings.Join(row[:2], " "))
	}
	want := []string{"赣社征〔2006〕章贡-0001 " + ids[0], "赣社征〔2006〕章贡-0002 " + ids[2]}
	if !slices.Equal(got, want) {
		t.Errorf("the manifest's numbers and employers %q (files %q), want %q", got, names, want)
	}
}

// TestABatchLeavesOutAPayerWhoseCaseStandsPastANotice: a county's batch issues no notice to a
// payer whose case stands open at a later step of the ladder on the issue date (forced
// collection here): the notice would have taken its case back to the first step (a reviewer
// saw payers at forced collection turned back to "notice"). It lists them in escalated.csv and
// counts them in X-Notice-Escalated. A case closed by a court's result, its arrears still owed,
// gets a notice: a new case.
func TestABatchLeavesOutAPayerWhoseCaseStandsPastANotice(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-06-30"))
	var ids []string
	for i := range 3 {
		id := e.register(t, tokAdmin, orgCode(72000201+i), "360702")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin,
			fmt.Sprintf(`{"as_of":"2006-04-03","lines":[{"period":"2006-02","insurance":"pension","outstanding_fen":%d}]}`, 100000+i))
		ids = append(ids, id)
	}
	step := func(id, s, on string) {
		body := fmt.Sprintf(`{"step":%q,"on":%q,"doc_no":"D-%s-%s"}`, s, on, s, on)
		if s == "notice" {
			body = fmt.Sprintf(`{"step":"notice","on":%q,"doc_no":"N-%s","deadline":"2006-04-15"}`, on, on)
		}
		e.mustWrite(t, empPath(id, "enforcement"), tokAuditor, body)
	}
	step(ids[1], "notice", "2006-04-05")
	forced := e.mustWrite(t, empPath(ids[1], "enforcement"), tokAuditor, `{"step":"forced_collection","on":"2006-05-01","doc_no":"D-forced"}`)
	step(ids[2], "notice", "2006-04-05")
	step(ids[2], "court_application", "2006-04-20")
	step(ids[2], "court_result", "2006-05-10")

	r := e.rawWith(t, http.MethodPost, "/v1/counties/360702/notices", tokAuditor, `{"issued_on":"2006-05-20","deadline":"2006-06-05","overdue_days":30}`,
		http.Header{"Idempotency-Key": {"batch-escalated"}})
	if r.status != http.StatusOK || r.header.Get("X-Notice-Count") != "2" || r.header.Get("X-Notice-Escalated") != "1" {
		t.Fatalf("the batch: %d, %s notices, %s escalated; want 200, 2 and 1: %.300s", r.status, r.header.Get("X-Notice-Count"), r.header.Get("X-Notice-Escalated"), r.body)
	}
	_, files := unzip(t, r.body)
	manifest, escalated := string(files["manifest.csv"]), string(files["escalated.csv"])
	if !strings.Contains(manifest, ids[0]) || !strings.Contains(manifest, ids[2]) || strings.Contains(manifest, ids[1]) {
		t.Errorf("manifest %q; want notices to %s and %s (its case closed by a court), none to %s", manifest, ids[0], ids[2], ids[1])
	}
	rows, err := csv.NewReader(strings.NewReader(escalated)).ReadAll()
	if err != nil || len(rows) != 2 || fmt.Sprint(rows[0]) != "[employer_id name step on]" || rows[1][0] != ids[1] || rows[1][2] != "forced_collection" || rows[1][3] != "2006-05-01" {
		t.Fatalf("escalated.csv %q (%v); want %s at forced_collection of 2006-05-01", escalated, err, ids[1])
	}
	var st struct {
		Stage string `json:"enforcement_stage"`
	}
	decode(t, e.get(t, empPath(ids[1], "")+"?as_of=2006-05-25", tokAuditor), &st)
	if st.Stage != "forced_collection" {
		t.Errorf("the payer left out stands at %q, want forced_collection", st.Stage)
	}
	// Its forced collection voided since, a retry answers what the first try issued and listed,
	// byte for byte: no notice to it, and it still listed as the first try saw it.
	seq := e.mustWrite(t, empPath(ids[1], "voids"), tokAdmin, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-06-01","reason":"录错"}`,
		forced.JSON["event_ids"].([]any)[0])).num("seq")
	again := e.rawWith(t, http.MethodPost, fmt.Sprintf("/v1/counties/360702/notices?min_seq=%d", seq), tokAuditor, `{"issued_on":"2006-05-20","deadline":"2006-06-05","overdue_days":30}`,
		http.Header{"Idempotency-Key": {"batch-escalated"}})
	if again.status != http.StatusOK || !bytes.Equal(again.body, r.body) || again.header.Get("X-Notice-Escalated") != "1" {
		t.Errorf("the retry after the step was voided: %d, %d bytes, %s escalated; want the first try's %d bytes and 1", again.status, len(again.body), again.header.Get("X-Notice-Escalated"), len(r.body))
	}
}
