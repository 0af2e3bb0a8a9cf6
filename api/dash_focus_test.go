package api_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestFocusStaysWhereTheClerkWorksInChromium: a keyboard user's place is kept (a review with
// the keyboard alone found each of these sent the focus to the page's top, where the next Tab
// begins again): a form submitted with Enter on its button keeps the focus on it once recorded;
// another clerk's write, drawing the history again, keeps the focus on the control it was on and
// a raw record opened stays open; removing a declaration's line gives the focus to the line left;
// Escape in the token dialog changes nothing and gives the focus back to its opener. The page's
// title names the employer shown, English text is marked English for a screen reader, and a live
// region whose words do not change is not rewritten.
func TestFocusStaysWhereTheClerkWorksInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokAdmin, orgCode(19001), "360702")
	e.mustWrite(t, empPath(id, "surveys"), tokAdmin, `{"as_of":"2006-04-20","workforce":8}`)
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs') !== null && document.querySelectorAll('#history tbody tr').length === 2`)
	active := func() string {
		return eval[string](t, ctx, `(a => a === document.body ? 'body' : (a.id || a.dataset.path || a.className || a.tagName))(document.activeElement)`)
	}

	if got := eval[string](t, ctx, `document.title`); !strings.HasPrefix(got, "单位 "+orgCode(19001)+" · ") {
		t.Errorf("the employer's page is titled %q, want its name first", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('.en:not([lang="en"])').length`); n != 0 {
		t.Errorf("%d English texts are not marked lang=en", n)
	}
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll('table')].filter(t => t.offsetParent !== null && !t.caption && !t.getAttribute('aria-label') && !(t.getAttribute('aria-labelledby') && document.getElementById(t.getAttribute('aria-labelledby')))).map(t => t.id)`); len(got) != 0 {
		t.Errorf("tables shown with no name (caption or heading): %q", got)
	}

	// keepFocus itself: a table drawn again in another order keeps the focus on the same row's
	// button, though the button carries the row's key too (a county's flags count, which the
	// diff's review saw lose the focus), and skips a disabled control before it.
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](`import('/assets/dom.js').then(m => {
		const box = m.el('div');
		document.body.append(box);
		const draw = codes => box.replaceChildren(m.el('table', null, ...codes.map(c => m.el('tr', { 'data-county': c },
			m.el('td', null, m.el('button', { disabled: true }, 'off'), m.el('button', null, 'a'), m.el('button', { 'data-county': c, class: 'flags-link' }, 'flags ' + c))))));
		draw(['360702', '360703']);
		box.querySelector('tr[data-county="360703"] .flags-link').focus();
		m.keepFocus(box, () => draw(['360703', '360702']));
		const a = document.activeElement.textContent;
		// Its row gone (the county's flags cleared), the focus stays at its place in the table.
		box.querySelector('tr[data-county="360702"] .flags-link').focus();
		m.keepFocus(box, () => draw(['360703', '360704']));
		const b = document.activeElement.textContent;
		box.remove();
		return a + ' | ' + b;
	})`, chromedp.EvalAwaitPromise))
	if err != nil || kept != "flags 360703 | flags 360704" {
		t.Errorf("after the table was drawn again the focus is on %q (%v), want the flags of 360703, then, its row gone, the control at its place (the flags of 360704)", kept, err)
	}

	// A survey submitted with Enter on its button: recorded, the focus back on the button.
	openForm(t, ctx, "survey")
	fill(t, ctx, "survey", map[string]string{"as_of": "2006-05-20", "workforce": "9"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="survey"] button[type=submit]').focus()`))
	run(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitWritten(t, ctx, 1)
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="survey"]').dataset.busy === 'false'`)
	if got := eval[bool](t, ctx, `document.activeElement === document.querySelector('form[data-form="survey"] button[type=submit]')`); !got {
		t.Errorf("after the survey was recorded the focus is on %s, want its submit button", active())
	}

	// The first event's replay link focused and its raw record open; another clerk's write
	// draws the history again.
	poll(t, ctx, 10*time.Second, `document.querySelectorAll('#history tbody tr').length === 3`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(r => { r.querySelector('details').open = true; r.querySelector('td.seq a').focus(); return true })(document.querySelector('#history tbody tr'))`))
	seq := eval[string](t, ctx, `document.activeElement.closest('tr').dataset.seq`)
	// The view's state line (a live region) says the same after the write: it is not rewritten,
	// which a screen reader would read out again.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.cutSaid = 0; new MutationObserver(() => window.cutSaid++).observe(document.getElementById('cut-state'), {childList: true, characterData: true, subtree: true})`))
	e.mustWrite(t, empPath(id, "surveys"), tokAdmin, `{"as_of":"2006-06-20","workforce":10}`)
	poll(t, ctx, 15*time.Second, `document.querySelectorAll('#history tbody tr').length === 4`)
	if got := eval[string](t, ctx, `(a => a.closest('tr') ? a.closest('tr').dataset.seq + ' ' + a.tagName : 'none')(document.activeElement)`); got != seq+" A" {
		t.Errorf("after another clerk's write the focus is on %q (%s), want event %s's link", got, active(), seq)
	}
	if n := eval[int](t, ctx, `window.cutSaid`); n != 0 {
		t.Errorf("the state line, unchanged, was rewritten %d times by the write", n)
	}
	if !eval[bool](t, ctx, `document.querySelector('#history tbody tr[data-seq="`+seq+`"] details').open`) {
		t.Errorf("event %s's raw record, open, was closed by the history drawn again", seq)
	}

	// A declaration's second line removed: the focus goes to the line left.
	openForm(t, ctx, "declaration")
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.querySelector('.add-line').click(); f.querySelector('.add-line').click(); f.querySelectorAll('.line-row .remove')[1].focus(); return true })(document.querySelector('form[data-form="declaration"]'))`))
	run(t, ctx, chromedp.KeyEvent(kb.Enter))
	if got := eval[string](t, ctx, `document.activeElement.closest('.line-row') ? document.activeElement.dataset.path : 'none'`); !strings.HasPrefix(got, "lines[") {
		t.Errorf("after a line was removed the focus is on %s, want the line left", active())
	}

	// Escape in the token dialog: no reload (a mark set on the page stays), the opener focused.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.stayed = true; document.getElementById('token-change').click(); true`))
	poll(t, ctx, 5*time.Second, `document.getElementById('token-dialog').open`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('token-input').value = 'typed then cancelled'`))
	run(t, ctx, chromedp.KeyEvent(kb.Escape))
	// The dialog closes at once, its close event (which gives the focus back) comes after.
	poll(t, ctx, 10*time.Second, `!document.getElementById('token-dialog').open && window.stayed === true && document.activeElement === document.getElementById('token-change')`)
	if got := eval[string](t, ctx, `sessionStorage.getItem('kuozheng-token') || ''`); got != tokClerkA {
		t.Errorf("after Escape the token kept is %q, want the one before, %q: what was typed is sent only by OK", got, tokClerkA)
	}
}
