package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
)

// batchPost is one entry of kz.noticeBatch.posts: a POST the county batch's form sent.
type batchPost struct {
	Key    string `json:"key"`
	Code   string `json:"code"`
	Retry  bool   `json:"retry"`
	Status int    `json:"status"`
	Count  *int   `json:"count"`
}

// saveLink clicks the link js finds and answers the name the browser was told to save it as and
// the bytes it saved (Chromium's own download, into a folder of the test).
func saveLink(t *testing.T, ctx context.Context, js string) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	wait, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	begin := chromedp.Events(wait, browser.DownloadWillBegin)
	progress := chromedp.Events(wait, browser.DownloadProgress)
	events := true
	run(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events})
		return err
	}))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](js+`.click()`))
	var name, guid string
	for ev, err := range begin {
		if err != nil {
			t.Fatalf("waiting for the download of %s: %v", js, err)
		}
		name, guid = ev.SuggestedFilename, ev.GUID
		break
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("waiting for the download of %s to complete: %v", name, err)
		}
		if ev.GUID != guid || ev.State == browser.DownloadProgressStateInProgress {
			continue
		}
		if ev.State != browser.DownloadProgressStateCompleted {
			t.Fatalf("the download of %s ended %s", name, ev.State)
		}
		break
	}
	b, err := os.ReadFile(filepath.Join(dir, guid))
	if err != nil {
		t.Fatalf("the downloaded %s: %v", name, err)
	}
	return name, b
}

// TestDocumentsCountyBatchInChromium: an auditor issues the county batch of arrears notices
// from the dashboard. An overdue-days value that is not a whole number of days, 0 or more, is
// refused beside its field before any request, appending nothing. The batch's zip is offered as
// notices-{code}-{issued_on}.zip: what Chromium saves is the bytes the page holds, X-Notice-Count
// PDFs (the count shown) and manifest.csv, whose rows are the overdue employers' notices as the
// ledger recorded them (the doc_sha256 of each employer's history is its PDF's SHA-256); the
// status element ends with the counts GET …/notices/progress answers for the POST's key. An
// answer lost on the way is retried with the same key: the server finishes the batch, issuing
// nothing twice. A clerk's page has no batch form.
func TestDocumentsCountyBatchInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the documents test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	opening := func(id, asOf, period string, fen int) {
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, fmt.Sprintf(`{"as_of":%q,"lines":[{"period":%q,"insurance":"pension","outstanding_fen":%d},{"period":%q,"insurance":"medical","outstanding_fen":5432}]}`, asOf, period, fen, period))
	}
	var due []string // 360702's employers overdue more than 30 days on 2006-12-31, in the list's order
	for i := range 4 {
		id := e.register(t, tokAdmin, orgCode(74000001+i), "360702")
		opening(id, "2006-04-03", "2006-03", 100000+i*1000)
		due = append(due, id)
	}
	recent := e.register(t, tokAdmin, orgCode(74000010), "360702") // due 2006-12-15: 16 days overdue
	// 2006-11 is the ledger's own period: declared (pension 70,000 and medical 5,432 fen due), unpaid.
	e.mustWrite(t, empPath(recent, "declarations"), tokAdmin, `{"declared_on":"2006-12-01","period":"2006-11","lines":[{"insurance":"pension","headcount":1,"wage_base_fen":250000},{"insurance":"medical","headcount":1,"wage_base_fen":67900}]}`)
	e.register(t, tokAdmin, orgCode(74000011), "360702") // no arrears
	other := e.register(t, tokAdmin, orgCode(74000012), "360721")
	opening(other, "2006-04-03", "2006-03", 90000)

	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/", tokAuditor)
	form := `document.getElementById('notice-batch')`
	poll(t, ctx, 15*time.Second, form+` !== null && `+form+`.querySelector('select[name="code"] option[value="360702"]') !== null`)
	if got := eval[[]string](t, ctx, `['issued_on', 'deadline', 'overdue_days'].map(k => `+form+`.elements[k].value)`); fmt.Sprint(got) != "[2006-12-31 2007-01-15 ]" {
		t.Errorf("the batch's fields start as %q, want the business date, 15 days later and no overdue days", got)
	}
	if got := eval[[]string](t, ctx, `(s => [s.getAttribute('role'), s.getAttribute('aria-live')])(`+form+`.querySelector('#notice-batch-progress'))`); fmt.Sprint(got) != "[status polite]" {
		t.Errorf("the progress element has role and aria-live %q, want status and polite", got)
	}

	// Overdue days that are not a whole number of days, 0 or more: refused beside the field, the
	// field marked and focused, no request sent, nothing appended.
	before, events := e.count(), e.events()
	for _, bad := range []string{"-1", "1.5", "", "三十", "30天"} {
		got := eval[[]string](t, ctx, `(f => { f.elements.code.value = '360702'; f.elements.overdue_days.value = `+strconv.Quote(bad)+`; f.requestSubmit();
			return [f.querySelector('[data-error-for="overdue_days"]').textContent, f.elements.overdue_days.getAttribute('aria-invalid') || '', document.activeElement.name || ''];
		})(`+form+`)`)
		if got[0] == "" || got[1] != "true" || got[2] != "overdue_days" {
			t.Errorf("overdue days %q: error %q, aria-invalid %q, focus on %q; want an error beside the field, marked and focused", bad, got[0], got[1], got[2])
		}
	}
	if got := eval[[]int](t, ctx, `[window.kz.noticeBatch.posts.length, window.kz.noticeBatch.polls]`); got[0] != 0 || got[1] != 0 {
		t.Errorf("refused overdue days sent %d POSTs and %d progress reads, want none", got[0], got[1])
	}
	e.wantUnchanged(t, before)

	// The batch: 4 notices, the zip offered and saved as the server answered it.
	n := eval[int](t, ctx, `window.kz.documentsOffered || 0`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.elements.overdue_days.value = '30'; f.requestSubmit(); })(`+form+`)`))
	d, b := offered(t, ctx, n)
	const zipName = "notices-360702-2006-12-31.zip"
	if d.Name != zipName || d.Type != "application/zip" || d.Size != len(b) || d.Status != http.StatusOK {
		t.Errorf("the page offers %q (%s, %d bytes, holding %d; answer %d), want %s, application/zip, 200", d.Name, d.Type, d.Size, len(b), d.Status, zipName)
	}
	if d.SHA256 != sha(b) {
		t.Errorf("the page hashed its zip to %s, the bytes it holds are %s", d.SHA256, sha(b))
	}
	link := form + `.querySelector('.form-document a[download]')`
	poll(t, ctx, 10*time.Second, link+` !== null && `+form+`.querySelector('.form-document').dataset.count !== undefined`)
	name, saved := saveLink(t, ctx, link)
	if name != zipName || sha(saved) != d.SHA256 {
		t.Errorf("Chromium saved %q of SHA-256 %s, the page holds %s of %s", name, sha(saved), zipName, d.SHA256)
	}
	posts := eval[[]batchPost](t, ctx, `window.kz.noticeBatch.posts`)
	if len(posts) != 1 || posts[0].Key == "" || posts[0].Code != "360702" || posts[0].Retry || posts[0].Status != http.StatusOK || posts[0].Count == nil {
		t.Fatalf("the form sent %+v, want one POST of 360702 with a key, answered 200 with a count", posts)
	}
	count := *posts[0].Count
	if shown := eval[string](t, ctx, form+`.querySelector('.form-document').dataset.count`); shown != strconv.Itoa(count) || count != len(due) {
		t.Errorf("X-Notice-Count %d, the page shows %s; want %d", count, shown, len(due))
	}
	if got := eval[string](t, ctx, form+`.querySelector('.form-document').textContent`); !strings.Contains(got, "已出具 "+strconv.Itoa(count)+" 份") {
		t.Errorf("the result reads %q, want the count %d", got, count)
	}
	if got := e.events() - events; got != uint64(len(due)) {
		t.Errorf("the batch appended %d events, want the %d notices", got, len(due))
	}

	names, files := unzip(t, saved)
	if len(names) != count+1 || names[count] != "manifest.csv" {
		t.Fatalf("the zip holds %q, want %d notices and manifest.csv", names, count)
	}
	rows, err := csv.NewReader(bytes.NewReader(files["manifest.csv"])).ReadAll()
	if err != nil || len(rows) != count+1 {
		t.Fatalf("manifest.csv: %v, %d rows: %q", err, len(rows), files["manifest.csv"])
	}
	for i, row := range rows[1:] {
		number, id := row[0], row[1]
		pdf := files[number+".pdf"]
		if names[i] != number+".pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("file %d is %s, the manifest's row is notice %s", i, names[i], number)
		}
		if id != due[i] {
			t.Errorf("manifest row %d is employer %s, want %s", i+1, id, due[i])
		}
		if got := e.recordedSHA(t, id, number); got != sha(pdf) || got != row[5] {
			t.Errorf("%s of %s: the history records SHA-256 %s, the zip's PDF is %s, the manifest says %s", number, id, got, sha(pdf), row[5])
		}
		var st struct {
			Name   string        `json:"name"`
			Totals domain.Totals `json:"totals"`
		}
		decode(t, e.get(t, empPath(id, "")+"?as_of=2006-12-31", tokAuditor), &st)
		want := []string{number, id, st.Name, strconv.FormatInt(int64(st.Totals.ArrearsFen()), 10), strconv.FormatInt(int64(st.Totals.LateFeeFen), 10), sha(pdf)}
		if fmt.Sprint(row) != fmt.Sprint(want) {
			t.Errorf("manifest row %d: %q, want %q", i+1, row, want)
		}
	}

	// The status ends with what the progress route answers for the POST's key.
	status := form + `.querySelector('#notice-batch-progress')`
	poll(t, ctx, 10*time.Second, status+`.dataset.state === 'done'`)
	wantProgress := func(key string, want api.BatchProgress) {
		t.Helper()
		var p api.BatchProgress
		decode(t, e.do(t, req{Method: http.MethodGet, Path: "/v1/counties/" + want.County + "/notices/progress", Token: tokAuditor, Header: map[string]string{"Idempotency-Key": key}}), &p)
		if p != want {
			t.Errorf("the progress route answers %+v, want %+v", p, want)
		}
		shown := eval[map[string]string](t, ctx, `Object.assign({text: `+status+`.textContent}, `+status+`.dataset)`)
		words := fmt.Sprintf("已读取 %d/%d 户，应出具 %d 份，已出具 %d 份", p.Read, p.Employers, p.Eligible, p.Issued)
		if !strings.Contains(shown["text"], words) || shown["state"] != p.State || shown["employers"] != strconv.Itoa(p.Employers) ||
			shown["read"] != strconv.Itoa(p.Read) || shown["eligible"] != strconv.Itoa(p.Eligible) || shown["issued"] != strconv.Itoa(p.Issued) {
			t.Errorf("the status shows %q, want %q and the route's %+v", shown, words, p)
		}
	}
	wantProgress(posts[0].Key, api.BatchProgress{County: "360702", State: "done", Employers: 5, Read: 5, Eligible: 4, Issued: 4})
	if polls := eval[int](t, ctx, `window.kz.noticeBatch.polls`); polls < 1 {
		t.Errorf("the page read the progress %d times, want at least once", polls)
	}
	shot(t, ctx, "kuozheng-notice-batch.png")

	// 360721's batch, its answer lost on the way (the page's fetch throws once the server has
	// answered): the page offers a retry; the clerk sends the form again instead, unchanged, and
	// the page sends the same key and body (as the retry button does); the server answers the
	// notice it issued, appending nothing more.
	before = e.events()
	n = eval[int](t, ctx, `window.kz.documentsOffered`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const real = window.fetch;
		let lose = 1;
		window.fetch = async (url, opts) => {
			const res = await real(url, opts);
			if (lose > 0 && opts && opts.method === 'POST' && String(url).endsWith('/notices')) { lose--; await res.arrayBuffer(); throw new TypeError('answer lost (test)'); }
			return res;
		};
	})()`))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.elements.code.value = '360721'; f.requestSubmit(); })(`+form+`)`))
	retry := form + `.querySelector('button.retry')`
	poll(t, ctx, 10*time.Second, `!`+retry+`.hidden && `+form+`.querySelector('.form-error').textContent !== ''`)
	if got := e.events() - before; got != 1 {
		t.Errorf("the batch whose answer was lost appended %d events, want its 1 notice", got)
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => f.requestSubmit())(`+form+`)`))
	d, b = offered(t, ctx, n)
	posts = eval[[]batchPost](t, ctx, `window.kz.noticeBatch.posts`)
	if len(posts) != 3 || posts[1].Code != "360721" || posts[1].Retry || posts[1].Status != 0 || posts[2].Key != posts[1].Key || posts[2].Status != http.StatusOK || posts[2].Count == nil || *posts[2].Count != 1 {
		t.Fatalf("the form sent %+v; want the lost POST of 360721, then the same batch sent again with its key answered 200 with 1 notice", posts[1:])
	}
	if got := e.events() - before; got != 1 {
		t.Errorf("the batch and its second sending appended %d events, want 1", got)
	}
	names, files = unzip(t, b)
	if d.Name != "notices-360721-2006-12-31.zip" || len(names) != 2 {
		t.Fatalf("the retry offers %q holding %q, want notices-360721-2006-12-31.zip with one notice", d.Name, names)
	}
	if got := e.recordedSHA(t, other, strings.TrimSuffix(names[0], ".pdf")); got != sha(files[names[0]]) {
		t.Errorf("the retry's %s: recorded SHA-256 %s, the zip's %s", names[0], got, sha(files[names[0]]))
	}
	poll(t, ctx, 10*time.Second, status+`.dataset.state === 'done' && `+retry+`.hidden`)
	wantProgress(posts[2].Key, api.BatchProgress{County: "360721", State: "done", Employers: 1, Read: 1, Eligible: 1, Issued: 1})

	// A deadline the server refuses (more than 90 days on) is shown beside its field, with no
	// retry offered: nothing was begun.
	before = e.events()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.elements.code.value = '360723'; f.elements.deadline.value = '2007-06-30'; f.requestSubmit(); })(`+form+`)`))
	poll(t, ctx, 10*time.Second, form+`.querySelector('[data-error-for="deadline"]').textContent !== ''`)
	if got := eval[[]string](t, ctx, `[String(`+retry+`.hidden), `+form+`.querySelector('.form-error').textContent, document.activeElement.name || '']`); got[0] != "true" || got[1] != "" || got[2] != "deadline" {
		t.Errorf("a refused deadline: retry hidden %s, the form's head says %q, focus on %q; want no retry, the error beside deadline, focused", got[0], got[1], got[2])
	}
	if got := e.events() - before; got != 0 {
		t.Errorf("a refused batch appended %d events, want none", got)
	}
	// 360723's one payer in arrears has a name the font cannot print: no notice, and the page
	// says so beside the count.
	unprintable := e.mustWrite(t, "/v1/employers", tokAdmin, `{"name":"赣州市堃龙机械厂","county":"360723","org_code":"`+orgCode(74000020)+`","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`).str("employer_id")
	opening(unprintable, "2006-04-03", "2006-03", 80000)
	before = e.events()
	n = eval[int](t, ctx, `window.kz.documentsOffered`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.elements.deadline.value = '2007-01-15'; f.requestSubmit(); })(`+form+`)`))
	offered(t, ctx, n)
	poll(t, ctx, 10*time.Second, form+`.querySelector('.form-document').dataset.unprintable === '1'`)
	if got := eval[string](t, ctx, form+`.querySelector('.form-document').textContent`); !strings.Contains(got, "unprintable.csv") || !strings.Contains(got, "1 户") {
		t.Errorf("the result of a batch leaving one payer out reads %q, want it to say so and name unprintable.csv", got)
	}
	if got := e.events() - before; got != 0 {
		t.Errorf("a batch of an unprintable payer appended %d events, want none", got)
	}

	// A clerk of 360702: the dashboard and its publicity list, no batch form, its module not loaded.
	clerk, cancel := chromedp.NewContext(ctx)
	defer cancel()
	signIn(t, clerk, e.srv.URL+"/", tokClerkA)
	poll(t, clerk, 15*time.Second, `document.getElementById('who').dataset.role === 'clerk' && document.querySelector('#publicity-county option[value="360702"]') !== null`)
	if got := eval[[]bool](t, clerk, `[document.getElementById('notice-batch') !== null, performance.getEntriesByType('resource').some(r => r.name.endsWith('/assets/noticebatch.js'))]`); got[0] || got[1] {
		t.Errorf("a clerk's page has a batch form: %v, loaded its module: %v; want neither", got[0], got[1])
	}
}

// TestBatchRetryAfterClosingInChromium: the form's batch sent again under the key of an earlier
// try that recorded one payer's notice, after the year of its dates was closed, offers that notice
// and says beside it how many payers the batch would have reached got none (X-Notice-Left).
func TestBatchRetryAfterClosingInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the documents test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, domain.MustDate("2007-01-10"))
	var ids []string
	for i := range 2 {
		id := e.register(t, tokAdmin, orgCode(74000030+i), "360702")
		e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000}]}`)
		ids = append(ids, id)
	}
	// The body the form sends for these fields, and the key its stubbed randomUUID makes.
	const path, body, key = "/v1/counties/360702/notices", `{"issued_on":"2006-12-20","deadline":"2007-01-05","overdue_days":30}`, "batch-of-2006"
	recordAsOlderBuild(t, e, ids[0], 1, "2006-12-20", "2007-01-05", key+"\x00county-notices\x00"+ids[0], path, body)
	e.mustWrite(t, "/v1/freezes", tokAdmin, `{"valid_through":"2006-12-31"}`)
	e.mustWrite(t, "/v1/years/2006/close", tokAdmin, `{}`)
	before := e.events()

	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/", tokAuditor)
	form := `document.getElementById('notice-batch')`
	poll(t, ctx, 15*time.Second, form+` !== null && `+form+`.querySelector('select[name="code"] option[value="360702"]') !== null`)
	n := eval[int](t, ctx, `window.kz.documentsOffered || 0`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => {
		crypto.randomUUID = () => `+strconv.Quote(key)+`;
		f.elements.code.value = '360702'; f.elements.issued_on.value = '2006-12-20'; f.elements.deadline.value = '2007-01-05'; f.elements.overdue_days.value = '30';
		f.requestSubmit();
	})(`+form+`)`))
	_, b := offered(t, ctx, n)
	poll(t, ctx, 10*time.Second, form+`.querySelector('.form-document').dataset.left !== undefined`)
	if got := eval[[]string](t, ctx, `(r => [r.dataset.count, r.dataset.left, r.textContent])(`+form+`.querySelector('.form-document'))`); got[0] != "1" || got[1] != "1" || !strings.Contains(got[2], "另有 1 户本批次应出具的单位未出具") {
		t.Errorf("the retry's result: count %s, left %s, reads %q; want 1 notice, 1 payer left, said so", got[0], got[1], got[2])
	}
	if names, _ := unzip(t, b); len(names) != 2 || !strings.HasSuffix(names[0], ".pdf") {
		t.Errorf("the retry offers a zip holding %q; want the earlier try's notice and its manifest", names)
	}
	if got := e.events() - before; got != 0 {
		t.Errorf("the retry of a batch whose year closed appended %d events, want none", got)
	}
}
