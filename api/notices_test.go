package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// pdfAnswer is an answer whose body is not JSON.
type pdfAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) raw(t testing.TB, method, path, token, body string) pdfAnswer {
	t.Helper()
	return e.rawWith(t, method, path, token, body, nil)
}

// rawWith is raw with more request headers.
func (e *env) rawWith(t testing.TB, method, path, token, body string, header http.Header) pdfAnswer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	hr, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		hr.Header[k] = v
	}
	hr.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return pdfAnswer{res.StatusCode, res.Header, b}
}

// issue posts a notice and fails the test unless it answers 201 with a PDF.
func (e *env) issue(t testing.TB, id, issuedOn, deadline string) pdfAnswer {
	t.Helper()
	a := e.raw(t, http.MethodPost, empPath(id, "notices"), tokAuditor, `{"issued_on":"`+issuedOn+`","deadline":"`+deadline+`"}`)
	if a.status != http.StatusCreated || a.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(a.body, []byte("%PDF-")) {
		t.Fatalf("POST notice of %s: %d %s %.300s", id, a.status, a.header.Get("Content-Type"), a.body)
	}
	wantFilename(t, a, docNumber(t, a)+".pdf")
	return a
}

// docNumber is an answer's X-Document-Number, decoded: the API percent-encodes it, and nothing
// else (a raw byte above 0x7e is refused).
func docNumber(t testing.TB, a pdfAnswer) string {
	t.Helper()
	v := a.header.Get("X-Document-Number")
	for _, c := range []byte(v) {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("X-Document-Number %q is not ASCII", v)
		}
	}
	n, err := url.PathUnescape(v)
	if err != nil {
		t.Fatalf("X-Document-Number %q: %v", v, err)
	}
	return n
}

func noticePath(id, number string) string {
	return empPath(id, "notices/"+url.PathEscape(number+".pdf"))
}

// pdfText extracts a PDF's text with poppler's pdftotext -layout, spaces collapsed.
func pdfText(t testing.TB, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatalf("pdftotext is not installed (Debian: apt-get install poppler-utils; scripts/setup.sh does): %v", err)
	}
	cmd := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return regexp.MustCompile(`[ \t\x{3000}]+`).ReplaceAllString(string(out), " ")
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// recordedSHA is the doc_sha256 the employer's history records for notice number.
func (e *env) recordedSHA(t testing.TB, id, number string) string {
	t.Helper()
	h := e.get(t, empPath(id, "history"), tokAuditor)
	m := regexp.MustCompile(`"doc_no":"` + regexp.QuoteMeta(number) + `"[^}]*"doc_sha256":"([0-9a-f]{64})"`).FindSubmatch(h.Raw)
	if m == nil {
		t.Fatalf("the history of %s records no doc_sha256 for notice %s: %.2000s", id, number, h.Raw)
	}
	return string(m[1])
}

// recordedSeq is the sequence of the event recording notice number in id's history.
func (e *env) recordedSeq(t testing.TB, id, number string) uint64 {
	t.Helper()
	h := e.get(t, empPath(id, "history"), tokAuditor)
	at := bytes.Index(h.Raw, []byte(`"doc_no":"`+number+`"`))
	seqs := regexp.MustCompile(`"seq":([0-9]+)`).FindAllSubmatch(h.Raw[:max(at, 0)], -1)
	if at < 0 || len(seqs) == 0 {
		t.Fatalf("the history of %s records no notice %s: %.2000s", id, number, h.Raw)
	}
	seq, _ := strconv.ParseUint(string(seqs[len(seqs)-1][1]), 10, 64)
	return seq
}

// TestNoticesPrintTheLedgersFigures issues arrears notices and checks their numbers, their text
// against GET /v1/employers/{id}?as_of=issued_on and a hand-computed late fee, their recorded
// hashes against the bytes served when issued and later (after more writes and a restart), and
// who may issue and read them.
func TestNoticesPrintTheLedgersFigures(t *testing.T) {
	e := newAuthEnv(t)
	opening := `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000},{"period":"2006-03","insurance":"medical","outstanding_fen":54321}]}`
	a := e.register(t, tokAdmin, orgCode(71000001), "360702")
	b := e.register(t, tokAdmin, orgCode(71000002), "360702")
	c := e.register(t, tokAdmin, orgCode(71000003), "360721")
	none := e.register(t, tokAdmin, orgCode(71000004), "360702")
	for _, id := range []string{a, b, c} {
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, opening)
	}
	// A payment of half the medical line on 2006-05-01 makes the two lines' fees differ.
	e.mustWrite(t, empPath(a, "payments"), tokAdmin, `{"paid_on":"2006-05-01","amount_fen":20000,"receipt_no":"N-1","allocations":[{"insurance":"medical","period":"2006-03","amount_fen":20000}]}`)

	// Refusals append nothing: a clerk may not issue; no arrears → 409; dates checked.
	before := e.count()
	if r := e.raw(t, http.MethodPost, empPath(a, "notices"), tokClerkA, `{"issued_on":"2006-05-15","deadline":"2006-05-31"}`); r.status != http.StatusForbidden {
		t.Errorf("a clerk issuing a notice: %d %s, want 403", r.status, r.body)
	}
	wantError(t, e.post(t, empPath(none, "notices"), tokAuditor, `{"issued_on":"2006-05-15","deadline":"2006-05-31"}`), 409, "conflict", "issued_on")
	wantError(t, e.post(t, empPath(a, "notices"), tokAuditor, `{"issued_on":"2006-05-15","deadline":"2006-05-15"}`), 400, "invalid", "deadline")
	wantError(t, e.post(t, empPath(a, "notices"), tokAuditor, `{"issued_on":"2007-01-01","deadline":"2007-01-31"}`), 400, "invalid", "issued_on")
	wantError(t, e.post(t, empPath(a, "notices"), tokAuditor, `{"issued_on":"2006-04-31","deadline":"2006-05-31"}`), 400, "invalid", "issued_on")
	e.wantUnchanged(t, before)

	na := e.issue(t, a, "2006-05-15", "2006-05-31")
	nb := e.issue(t, b, "2006-06-01", "2006-06-30")
	nc := e.issue(t, c, "2006-05-15", "2006-05-31")
	for _, x := range []struct {
		got  pdfAnswer
		want string
	}{{na, "赣社征〔2006〕章贡-0001"}, {nb, "赣社征〔2006〕章贡-0002"}, {nc, "赣社征〔2006〕赣县-0001"}} {
		if n := docNumber(t, x.got); n != x.want {
			t.Errorf("X-Document-Number %q, want %q", n, x.want)
		}
	}
	number := docNumber(t, na)

	// The text against the employer read as of the issue date.
	var st struct {
		Name    string             `json:"name"`
		OrgCode string             `json:"org_code"`
		Lines   []domain.LineState `json:"lines"`
		Totals  domain.Totals      `json:"totals"`
	}
	decode(t, e.get(t, empPath(a, "")+"?as_of=2006-05-15", tokAuditor), &st)
	text := pdfText(t, na.body)
	want := []string{"责令限期缴纳通知书", number, st.Name, st.OrgCode, "章贡区", "章贡区社会保险事业管理局",
		"2006年5月15日", "2006年5月31日", "2006-04-16 至 2006-05-15，按日加收 2‰，依据《社会保险费征缴暂行条例》第十三条"}
	principal := st.Totals.ArrearsCurrentYearFen + st.Totals.ArrearsPriorYearsFen
	if len(st.Lines) != 2 || principal != 134321 {
		t.Fatalf("employer as of 2006-05-15: %d lines, principal %d; want 2 lines, 1,343.21 yuan", len(st.Lines), principal)
	}
	for i, l := range st.Lines {
		want = append(want, strings.Join([]string{strconv.Itoa(i + 1), l.Period.String(), documents.InsuranceName(l.Insurance), l.DueDate.String(),
			documents.Yuan(l.OutstandingFen), documents.Yuan(l.LateFeeFen)}, " "))
	}
	// By hand: 1,000.00 yuan of pension outstanding from 2006-04-16 through 2006-05-15 (30 days)
	// at 20 bp a day: 100,000 × 30 × 20 / 10,000 = 6,000 fen.
	if st.Lines[0].Insurance != domain.Pension || st.Lines[0].LateFeeFen != 100_000*30*20/10_000 {
		t.Errorf("pension line %+v: want a late fee of 6,000 fen", st.Lines[0])
	}
	total := principal + st.Totals.LateFeeFen
	want = append(want, "1 2006-03 养老保险 2006-04-15 1,000.00 60.00",
		"合计 "+documents.Yuan(principal)+" "+documents.Yuan(st.Totals.LateFeeFen),
		"欠缴本金：人民币 "+documents.Yuan(principal)+" 元（大写："+domain.ChineseCapitals(principal)+"）",
		"滞 纳 金：人民币 "+documents.Yuan(st.Totals.LateFeeFen)+" 元（大写："+domain.ChineseCapitals(st.Totals.LateFeeFen)+"）",
		"合 计：人民币 "+documents.Yuan(total)+" 元（大写："+domain.ChineseCapitals(total)+"）")
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the notice does not print %q:\n%s", w, text)
		}
	}

	// The recorded hash is the POST's bytes' and the GET's, now, after more writes, after a restart.
	if got := e.recordedSHA(t, a, number); got != sha(na.body) {
		t.Errorf("recorded doc_sha256 %s, the POST answered bytes of %s", got, sha(na.body))
	}
	check := func(when string) {
		t.Helper()
		g := e.raw(t, http.MethodGet, noticePath(a, number), tokClerkA, "")
		if g.status != http.StatusOK || !bytes.Equal(g.body, na.body) {
			t.Errorf("%s: GET the notice: %d, %d bytes of SHA-256 %s; want the %d bytes issued (%s)", when, g.status, len(g.body), sha(g.body), len(na.body), sha(na.body))
		}
	}
	check("at once")
	check("read again")
	e.mustWrite(t, empPath(a, "payments"), tokAdmin, paymentBody("N-2", 5000, "2006-05-10")) // backdated before the notice
	e.mustWrite(t, empPath(a, "changes"), tokAdmin, `{"on":"2006-05-20","name":"改名后的单位"}`)
	check("after later writes")
	e.restart()
	check("after a restart")
	if got := e.recordedSHA(t, a, number); got != sha(na.body) {
		t.Errorf("after a restart, recorded doc_sha256 %s, want %s", got, sha(na.body))
	}
	// Numbering goes on after the restart.
	if n := docNumber(t, e.issue(t, b, "2006-07-01", "2006-07-31")); n != "赣社征〔2006〕章贡-0003" {
		t.Errorf("the first notice of 360702 after a restart is %q, want 赣社征〔2006〕章贡-0003", n)
	}

	// Readers of the employer only.
	before = e.count()
	if g := e.raw(t, http.MethodGet, noticePath(a, number), tokClerkB, ""); g.status != http.StatusForbidden {
		t.Errorf("a clerk of 360721 reading a notice of 360702: %d, want 403", g.status)
	}
	if g := e.raw(t, http.MethodGet, noticePath(a, "赣社征〔2006〕章贡-0009"), tokAuditor, ""); g.status != http.StatusNotFound {
		t.Errorf("an unknown notice: %d, want 404", g.status)
	}
	e.wantUnchanged(t, before)
}

// TestANoticePrintedAnEarlierWayIsServedAgainByteForByte records a flexible worker's notice as
// each earlier printing printed it (fpdf with the font cut to the notice's characters; the first build's fpdf
// with the whole font) and reads it back: the GET answers those bytes, which the current printing
// does not give, and a notice issued now is printed the current way.
func TestANoticePrintedAnEarlierWayIsServedAgainByteForByte(t *testing.T) {
	for _, p := range documents.Printings[1:] {
		t.Run(fmt.Sprintf("printing %d", p), func(t *testing.T) { noticePrintedEarlier(t, p) })
	}
}

func noticePrintedEarlier(t *testing.T, p documents.Printing) {
	e := newAuthEnv(t)
	ctx := context.Background()
	// A flexible worker: the persons' printing addresses one as a person, where the printing
	// before it printed a unit's notice the same.
	id := e.mustWrite(t, "/v1/employers", tokAdmin, `{"name":"张三","county":"360702","kind":"flexible","risk_class":1,"registered_on":"2006-04-03"}`).str("employer_id")
	// January's line paid on 04-10, March's due 04-15 unpaid: no fee accrued from 04-10 to 04-15,
	// which the fee-days printing's rate lines leave out and the earlier printings' do not. The
	// twelve lines of 2005 make it long enough that the current printing's line and page breaks
	// differ from the fee-days printing's (a short notice prints the same bytes under both).
	lines := `{"period":"2006-01","insurance":"pension","outstanding_fen":50000},{"period":"2006-03","insurance":"pension","outstanding_fen":100000}`
	for m := 1; m <= 12; m++ {
		lines += fmt.Sprintf(`,{"period":"2005-%02d","insurance":"pension","outstanding_fen":%d}`, m, 12345+m)
	}
	e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[`+lines+`]}`)
	e.mustWrite(t, empPath(id, "payments"), tokAdmin, `{"paid_on":"2006-04-10","amount_fen":50000,"receipt_no":"P-1","allocations":[{"insurance":"pension","period":"2006-01","amount_fen":50000}]}`)
	events := e.eventsOf(t, id)
	number := domain.NoticeNumber(domain.NoticePrefix("章贡区", 2006), 1)
	n := documents.NoticeOf(number, domain.MustDate("2006-05-15"), domain.MustDate("2006-05-31"), events, e.l.Store.Reference())
	first, err := n.RenderAs(p)
	if err != nil {
		t.Fatal(err)
	}
	// The printing after OwnWriterPersons fits the cells of statements and wide tables only: a
	// notice prints the same bytes under both (served as it was, with nothing to fall back from);
	// every earlier printing's differ from the current one's.
	if now, err := n.Render(); err != nil || bytes.Equal(now, first) != (p == documents.OwnWriterPersons) {
		t.Fatalf("the current printing gives printing %d's bytes: %v (%v); want them only for OwnWriterPersons", p, bytes.Equal(now, first), err)
	}
	cmd := domain.IssueNotice{IssuedOn: "2006-05-15", Deadline: "2006-05-31"}
	if err := cmd.Check(domain.Context{Ref: e.l.Store.Reference(), Today: domain.MustDate("2006-12-31")}); err != nil {
		t.Fatal(err)
	}
	cmd.Document(number, sha(first))
	if _, err := e.l.Store.Execute(ctx, eventstore.Request{EmployerID: id, Command: &cmd, Checked: true}); err != nil {
		t.Fatal(err)
	}
	if g := e.raw(t, http.MethodGet, noticePath(id, number), tokAuditor, ""); g.status != http.StatusOK || !bytes.Equal(g.body, first) {
		t.Fatalf("GET the notice printed way %d: %d, SHA-256 %s; want the recorded %s", p, g.status, sha(g.body), sha(first))
	}
	next := e.issue(t, id, "2006-06-15", "2006-06-30")
	if got := docNumber(t, next); got != domain.NoticeNumber(domain.NoticePrefix("章贡区", 2006), 2) {
		t.Fatalf("the next notice is numbered %q", got)
	}
	if g := e.raw(t, http.MethodGet, noticePath(id, docNumber(t, next)), tokAuditor, ""); !bytes.Equal(g.body, next.body) {
		t.Fatalf("the notice issued now is not served again byte for byte")
	}
}

// eventsOf is employer id's events as the store holds them.
func (e *env) eventsOf(t testing.TB, id string) []domain.Event {
	t.Helper()
	raw, err := e.l.Store.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	events := make([]domain.Event, len(raw))
	for i := range raw {
		events[i] = raw[i].Event
	}
	return events
}

// BenchmarkNotices prints the notices of a county's payers with arrears on 2006-12-31 in a demo
// ledger, as GET …/notices/{n}.pdf does (the employer's events read, the notice composed and
// printed), and reports notices per second and bytes per notice. It gates on nothing.
func BenchmarkNotices(b *testing.B) {
	l := benchLedger(b, 2000, true)
	ctx, ref, on := context.Background(), l.Store.Reference(), domain.MustDate("2006-12-31")
	var payers []string
	for _, id := range l.Store.EmployerIDs() {
		raw, err := l.Store.History(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		events := make([]domain.Event, len(raw))
		for i := range raw {
			events[i] = raw[i].Event
		}
		if n := documents.NoticeOf("", on, on+15, events, ref); n.CountyCode == "360702" && n.PrincipalFen > 0 {
			payers = append(payers, id)
		}
	}
	if len(payers) == 0 {
		b.Fatal("no payer of 360702 has arrears in the demo ledger")
	}
	var size int64
	printed := 0
	b.ResetTimer()
	for b.Loop() {
		id := payers[printed%len(payers)]
		raw, err := l.Store.History(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		events := make([]domain.Event, len(raw))
		for i := range raw {
			events[i] = raw[i].Event
		}
		n := documents.NoticeOf(domain.NoticeNumber(domain.NoticePrefix("章贡区", 2006), printed+1), on, on+15, events, ref)
		pdf, err := n.Render()
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(pdf))
		printed++
	}
	b.ReportMetric(float64(printed)/b.Elapsed().Seconds(), "notices/s")
	b.ReportMetric(float64(size)/float64(printed), "bytes/notice")
	b.ReportMetric(float64(len(payers)), "payers")
}

// TestANoticeThisBuildCannotPrintAgainIsRefusedSayingWhy: a notice whose recorded SHA-256 no way of
// printing gives (issued by a newer build) is answered 409 naming its number and why, not 500
// internal with the reason in the server's log alone.
func TestANoticeThisBuildCannotPrintAgainIsRefusedSayingWhy(t *testing.T) {
	e := newAuthEnv(t)
	id := e.register(t, tokAdmin, orgCode(71000009), "360702")
	e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
	cmd := domain.IssueNotice{IssuedOn: "2006-06-01", Deadline: "2006-06-20"}
	if err := cmd.Check(domain.Context{Ref: e.l.Store.Reference(), Today: today}); err != nil {
		t.Fatal(err)
	}
	const number = "赣社征〔2006〕章贡-0099"
	cmd.Document(number, strings.Repeat("ab", 32))
	res, err := e.l.Store.Execute(context.Background(), eventstore.Request{EmployerID: id, Command: &cmd, Checked: true, Today: today, Actor: "auditor:newer-build"})
	if err != nil {
		t.Fatal(err)
	}
	g := e.do(t, req{Method: http.MethodGet, Path: noticePath(id, number) + fmt.Sprintf("?min_seq=%d", res.Seq), Token: tokAuditor})
	if g.Status != http.StatusConflict || g.str("field") != "number" || !strings.Contains(g.str("detail"), "cannot be printed again byte for byte") {
		t.Fatalf("GET the notice: %s; want 409 naming number", g)
	}
}
