package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pageDocument is kz.lastDocument: what the page last offered as a PDF.
type pageDocument struct {
	Name   string `json:"name"`
	Status int    `json:"status"`
	Size   int    `json:"size"`
	Type   string `json:"type"`
	Number string `json:"number"`
	SHA256 string `json:"sha256"`
	URL    string `json:"url"`
}

// offered waits until the page has offered more than n documents and answers the last one with
// the bytes its Blob holds.
func offered(t *testing.T, ctx context.Context, n int) (pageDocument, []byte) {
	t.Helper()
	poll(t, ctx, 15*time.Second, `(window.kz.documentsOffered || 0) > `+strconv.Itoa(n)+` && window.kz.lastDocument.sha256 !== undefined`)
	d := eval[pageDocument](t, ctx, `window.kz.lastDocument`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__pdf = null; window.kz.lastDocument.blob.arrayBuffer().then(b => {
		let s = ''; for (const x of new Uint8Array(b)) s += String.fromCharCode(x); window.__pdf = btoa(s); })`))
	poll(t, ctx, 10*time.Second, `window.__pdf !== null`)
	b, err := base64.StdEncoding.DecodeString(eval[string](t, ctx, `window.__pdf`))
	if err != nil {
		t.Fatalf("the page's document bytes: %v", err)
	}
	return d, b
}

// wantSameDocument checks the page's document against the server's answer to GET path.
func wantSameDocument(t *testing.T, e *env, what string, d pageDocument, b []byte, path, token string) {
	t.Helper()
	g := e.raw(t, http.MethodGet, path, token, "")
	if g.status != http.StatusOK || g.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(g.body, []byte("%PDF-")) {
		t.Fatalf("GET %s: %d %s %.200s", path, g.status, g.header.Get("Content-Type"), g.body)
	}
	if d.Status != http.StatusOK && d.Status != http.StatusCreated {
		t.Errorf("%s: the page's answer was %d, want 200 or 201", what, d.Status)
	}
	if d.Type != "application/pdf" || d.Size == 0 || d.Size != len(b) {
		t.Errorf("%s: the page offers %q of %d bytes (holds %d), want a non-empty application/pdf", what, d.Type, d.Size, len(b))
	}
	if !bytes.Equal(b, g.body) {
		t.Errorf("%s: the page holds %d bytes (%s), GET %s answers %d (%s)", what, len(b), sha(b), path, len(g.body), sha(g.body))
	}
	if d.SHA256 != sha(g.body) {
		t.Errorf("%s: the page hashed its bytes to %s, the server's are %s", what, d.SHA256, sha(g.body))
	}
}

// TestDocumentsInChromium: an auditor issues an arrears notice from the employer page (one event
// appended, its number shown, the PDF offered byte for byte what GET …/notices/{number}.pdf
// prints again and what the ledger recorded the hash of; a second one the same day refused beside
// its date, the first one's PDF no longer offered), downloads the statement and a payment's
// receipt (the server's bytes), sees a refused statement date beside its field; a clerk of the
// county gets no notice form.
func TestDocumentsInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the documents test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokAdmin, orgCode(72000001), "360702")
	e.mustWrite(t, empPath(id, "opening-balances"), tokAdmin, `{"as_of":"2006-04-03","lines":[{"period":"2006-03","insurance":"pension","outstanding_fen":100000},{"period":"2006-03","insurance":"medical","outstanding_fen":54321}]}`)
	e.mustWrite(t, empPath(id, "payments"), tokAdmin, `{"paid_on":"2006-05-01","amount_fen":20000,"receipt_no":"D-1","allocations":[{"insurance":"medical","period":"2006-03","amount_fen":20000}]}`)
	var hist struct {
		Events []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"events"`
	}
	decode(t, e.get(t, empPath(id, "history"), tokAdmin), &hist)
	payID := ""
	for _, ev := range hist.Events {
		if ev.Type == "payment.received" {
			payID = ev.ID
		}
	}
	if payID == "" {
		t.Fatalf("no payment in the history of %s", id)
	}

	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokAuditor)
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs button[data-form="notice"]') !== null`)

	// The notice's form, its dates defaulting to the page's business date and 15 days later.
	openForm(t, ctx, "notice")
	form := `document.querySelector('form[data-form="notice"]')`
	if got := eval[[]string](t, ctx, `['issued_on', 'deadline'].map(k => `+form+`.querySelector('[data-path="' + k + '"]').value)`); got[0] != "2006-12-31" || got[1] != "2007-01-15" {
		t.Errorf("the notice's dates default to %v, want [2006-12-31 2007-01-15]", got)
	}
	// A deadline the server refuses is shown beside it, and nothing is appended.
	before := e.count()
	fill(t, ctx, "notice", map[string]string{"deadline": "2006-12-31"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](form+`.querySelector('button[type=submit]').click()`))
	poll(t, ctx, 10*time.Second, form+`.querySelector('[data-error-for="deadline"]').textContent !== ''`)
	e.wantUnchanged(t, before)
	events := e.events()

	fill(t, ctx, "notice", map[string]string{"deadline": "2007-01-15"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](form+`.querySelector('button[type=submit]').click()`))
	poll(t, ctx, 15*time.Second, form+`.querySelector('.form-document').dataset.number`)
	if got := e.events(); got != events+1 {
		t.Errorf("issuing a notice from the page appended %d events, want 1", got-events)
	}
	number := eval[string](t, ctx, form+`.querySelector('.form-document').dataset.number`)
	if number == "" || !strings.Contains(eval[string](t, ctx, form+`.querySelector('.form-document').textContent`), number) {
		t.Errorf("the page does not show the notice's number %q", number)
	}
	d, b := offered(t, ctx, 0)
	if d.Number != number {
		t.Errorf("the page's document is numbered %q, its form shows %q", d.Number, number)
	}
	wantSameDocument(t, e, "the notice", d, b, noticePath(id, number), tokAuditor)
	if rec := e.recordedSHA(t, id, number); rec != sha(b) {
		t.Errorf("the ledger recorded SHA-256 %s for notice %s, the page holds %s", rec, number, sha(b))
	}
	// The history is read again and links the notice issued.
	poll(t, ctx, 15*time.Second, `document.querySelector('#history a[data-doc="notice"][data-number="`+number+`"]') !== null`)
	if got := eval[string](t, ctx, `document.querySelector('#history a[data-doc="notice"]').getAttribute('href')`); got != noticePath(id, number) {
		t.Errorf("the history's notice link is %q, want %q", got, noticePath(id, number))
	}
	// A second notice the same day is refused beside its date, and the form no longer offers
	// the first one's PDF as though it were this one's.
	fill(t, ctx, "notice", map[string]string{"deadline": "2007-01-20"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](form+`.querySelector('button[type=submit]').click()`))
	poll(t, ctx, 10*time.Second, form+`.querySelector('[data-error-for="issued_on"]').textContent !== ''`)
	if got := eval[[]string](t, ctx, `(r => [r.textContent, r.dataset.number || ''])(`+form+`.querySelector('.form-document'))`); got[0] != "" || got[1] != "" {
		t.Errorf("after a refused notice the form still offers %q (number %q), the earlier notice's", got[0], got[1])
	}

	// The statement: from the year's start through the page's date, as the server prints it.
	if got := eval[[]string](t, ctx, `['from', 'to'].map(k => document.querySelector('#employer-statement [name="' + k + '"]').value)`); got[0] != "2006-01-01" || got[1] != "2006-12-31" {
		t.Errorf("the statement's dates default to %v, want [2006-01-01 2006-12-31]", got)
	}
	n := eval[int](t, ctx, `window.kz.documentsOffered`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#employer-statement button[type=submit]').click()`))
	d, b = offered(t, ctx, n)
	if !strings.HasPrefix(d.Name, "statement-") {
		t.Errorf("the statement is offered as %q", d.Name)
	}
	wantSameDocument(t, e, "the statement", d, b, empPath(id, "statement.pdf?from=2006-01-01&to=2006-12-31"), tokAuditor)
	shot(t, ctx, "kuozheng-employer-documents.png")

	// A refused date is shown beside its field.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.elements.from.value = '2006-12-31'; f.elements.to.value = '2006-01-01'; f.requestSubmit(); })(document.getElementById('employer-statement'))`))
	poll(t, ctx, 10*time.Second, `document.querySelector('#employer-statement [data-error-for="to"]').textContent !== ''`)

	// The payment's receipt, from its row of the history.
	n = eval[int](t, ctx, `window.kz.documentsOffered`)
	link := `document.querySelector('#history tr[data-type="payment.received"] a[data-doc="event"]')`
	if got := eval[string](t, ctx, link+`.getAttribute('href')`); got != empPath(id, "events/"+url.PathEscape(payID)+".pdf") {
		t.Errorf("the payment's print link is %q, want the receipt of %s", got, payID)
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](link+`.click()`))
	d, b = offered(t, ctx, n)
	wantSameDocument(t, e, "the receipt", d, b, empPath(id, "events/"+payID+".pdf"), tokAuditor)
	if got := eval[int](t, ctx, `document.querySelectorAll('#history tr[data-type="opening_balance.recorded"] a[data-doc]').length`); got != 0 {
		t.Errorf("an opening balance has %d print links: the server prints nothing for it", got)
	}

	// The dashboard's publicity list of 360702: the threshold typed in 元 is sent as fen (the
	// employer owes 1,343.21 元, above 1,343.2), as of the figures' date.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '#/'`))
	poll(t, ctx, 15*time.Second, `!document.getElementById('publicity').hidden && document.querySelector('#publicity-county option[value="360702"]') !== null`)
	asOf := eval[string](t, ctx, `document.getElementById('as-of').textContent`)
	if asOf != "2006-12-31" {
		t.Errorf("the figures are as of %q, want 2006-12-31", asOf)
	}
	n = eval[int](t, ctx, `window.kz.documentsOffered`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.elements.code.value = '360702'; f.elements.above_fen.value = '1.234'; f.requestSubmit(); })(document.getElementById('publicity'))`))
	poll(t, ctx, 5*time.Second, `document.querySelector('#publicity [data-error-for="above_fen"]').textContent !== ''`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.elements.above_fen.value = '1,343.2'; f.requestSubmit(); })(document.getElementById('publicity'))`))
	d, b = offered(t, ctx, n)
	if got := eval[int](t, ctx, `window.kz.documentsOffered`); got != n+1 {
		t.Errorf("the page offered %d documents for two publicity submissions (one refused), want 1", got-n)
	}
	wantSameDocument(t, e, "the publicity list", d, b, "/v1/counties/360702/arrears-list.pdf?as_of=2006-12-31&above_fen=134320", tokAuditor)
	if !strings.Contains(pdfText(t, b), "72000001-7") {
		t.Errorf("the publicity list above 1,343.20 元 leaves out the employer owing 1,343.21 元")
	}

	// A clerk of the county: the history's documents, no notice form.
	clerk, cancel := chromedp.NewContext(ctx)
	defer cancel()
	signIn(t, clerk, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, clerk, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs') !== null && document.querySelector('#history a[data-doc="notice"]') !== null`)
	if got := eval[int](t, clerk, `document.querySelectorAll('[data-form="notice"]').length`); got != 0 {
		t.Errorf("a clerk's page has %d notice forms or buttons, want none", got)
	}
}

// TestDocumentsBulletinInChromium: in a freeze's view, the bulletin's download offers the bytes
// GET /v1/freezes/{id}/bulletin.pdf answers.
func TestDocumentsBulletinInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the documents test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newFreezeEnv(t, 30)
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, freezeToday.String(), 0)
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/", tokAdmin)
	poll(t, ctx, 15*time.Second, `document.querySelector('#freezes tr[data-freeze="`+f.ID+`"]') !== null`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#freezes tr[data-freeze="`+f.ID+`"]`)))
	link := `document.querySelector('#freeze-detail .freeze-downloads a[href$="/bulletin.pdf"]')`
	poll(t, ctx, 10*time.Second, link+` !== null`)
	path := "/v1/freezes/" + url.PathEscape(f.ID) + "/bulletin.pdf"
	if got := eval[string](t, ctx, link+`.getAttribute('href')`); got != path {
		t.Errorf("the bulletin's link is %q, want %q", got, path)
	}
	n := eval[int](t, ctx, `window.kz.documentsOffered || 0`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](link+`.click()`))
	d, b := offered(t, ctx, n)
	wantSameDocument(t, e, "the bulletin", d, b, path, tokAdmin)
}

// TestAnEmployerLinkOpenedFirstNamesItsCounty: an employer's page opened by its link, drawn
// before the counties' names arrive, names its county once they do (it showed the code twice).
func TestAnEmployerLinkOpenedFirstNamesItsCounty(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("chromium is needed for the dashboard's tests (scripts/setup.sh installs it): %v", err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokAdmin, orgA, "360702")
	// While hold is set, the counties are answered only once it is closed.
	var mu sync.Mutex
	var hold chan struct{}
	inner := e.srv.Config.Handler
	gated := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hold
		mu.Unlock()
		if h != nil && r.URL.Path == "/v1/counties" {
			select {
			case <-h:
			case <-r.Context().Done():
				return
			}
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(gated.Close) // after the browser's cleanup, which ends its live stream
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	facts := `document.getElementById('employer-facts').textContent`
	signIn(t, ctx, gated.URL+"/#/employer/"+id, tokAuditor)
	poll(t, ctx, 15*time.Second, facts+`.includes('章贡区 360702')`)
	// The page opened again with the token kept, as a link is: the employer is drawn first.
	mu.Lock()
	hold = make(chan struct{})
	mu.Unlock()
	release := func() {
		mu.Lock()
		if hold != nil {
			close(hold)
			hold = nil
		}
		mu.Unlock()
	}
	defer release()
	run(t, ctx, chromedp.Reload())
	poll(t, ctx, 15*time.Second, `!!document.getElementById('employer-detail').dataset.version`)
	if got := eval[string](t, ctx, facts); !strings.Contains(got, "360702 360702") {
		t.Fatalf("drawn before the counties' names, the county reads %q: the test no longer shows the race", got)
	}
	release()
	poll(t, ctx, 15*time.Second, facts+`.includes('章贡区 360702')`)
}
