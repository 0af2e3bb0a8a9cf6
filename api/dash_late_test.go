package api_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLateAnswersDrawNothingInChromium: the page's answers can arrive out of order (a slow
// county's flags, a refresh's targets held up behind the next). One for a choice no longer made,
// or older than the one drawn, is dropped: the flags panel showed another county's rows under the
// county chosen, and the target bars an older sequence than the table beside "caught up", until
// the next write (an outside review, pausing one county's requests in Chromium).
func TestLateAnswersDrawNothingInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newFreezeEnv(t, 80)
	var counties supCounties
	decode(t, e.get(t, "/v1/counties", tokSuper), &counties)
	counts, _ := counties.flagCounts()
	var a, b string // two of the supervisor's counties with different flags
	for _, c := range counties.Counties {
		if a == "" {
			a = c.Code
		} else if b == "" && counts[c.Code] != counts[a] {
			b = c.Code
		}
	}
	if b == "" {
		t.Fatalf("no two of the supervisor's counties have different flags: %v", counts)
	}
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/", tokSuper)
	poll(t, ctx, 15*time.Second, `document.getElementById('flags-total').dataset.flags !== undefined && document.getElementById('targets-city').dataset.seq !== undefined && document.getElementById('caught-up').dataset.state === 'ok'`)
	// Answers to requests a test names are held in the page until it lets them go.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const real = window.fetch;
		window.kzHeld = [];
		window.kzHold = null;
		window.fetch = async (url, opts) => {
			const hold = window.kzHold && window.kzHold(String(url));
			const res = await real(url, opts);
			if (hold) await new Promise(r => window.kzHeld.push(r));
			return res;
		};
	})()`))
	release := func() {
		run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kzHold = null; window.kzHeld.splice(0).forEach(r => r())`))
	}

	// County a's flags are slow; b is chosen meanwhile and drawn; then a's answer arrives.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.kzHold = u => u.includes('/v1/flags?') && u.includes('county=%s')`, a)))
	supChoose(t, ctx, "flags-county", a)
	poll(t, ctx, 10*time.Second, `window.kzHeld.length === 1`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kzHold = null`))
	supChoose(t, ctx, "flags-county", b)
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('flags').dataset.query.includes('county=%s')`, b))
	dropped := eval[int](t, ctx, `window.kz.lateDropped`)
	release()
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.kz.lateDropped === %d`, dropped+1))
	want := supGetFlags(t, e, tokSuper, "by=employer&county="+b)
	if q := eval[string](t, ctx, `document.getElementById('flags').dataset.query`); !strings.Contains(q, "county="+b) {
		t.Errorf("after county %s's late answer the flags panel is of %q, want county %s's", a, q, b)
	}
	if got := eval[string](t, ctx, `document.getElementById('flags-total').dataset.flags`); got != strconv.Itoa(want.FlagsTotal) {
		t.Errorf("after county %s's late answer the panel counts %s flags, want county %s's %d", a, got, b, want.FlagsTotal)
	}

	// A refresh's targets are held; a later write's refresh draws its own; then the first arrives.
	id := e.register(t, tokAdmin, orgCode(19501), a)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kzHold = u => u.includes('/v1/targets')`))
	first := e.mustWrite(t, empPath(id, "surveys"), tokAdmin, `{"as_of":"2006-04-20","workforce":8}`).num("seq")
	poll(t, ctx, 10*time.Second, `window.kzHeld.length >= 1`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kzHold = null`))
	last := e.mustWrite(t, empPath(id, "surveys"), tokAdmin, `{"as_of":"2006-04-21","workforce":9}`).num("seq")
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`Number(document.getElementById('targets-city').dataset.seq) >= %d`, last))
	// The answers held now are let go (one still to come stays held, and draws nothing).
	held := eval[int](t, ctx, `window.kzHeld.length`)
	dropped = eval[int](t, ctx, `window.kz.lateDropped`)
	release()
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.kz.lateDropped >= %d`, dropped+held))
	if got := eval[string](t, ctx, `document.getElementById('targets-city').dataset.seq`); got != strconv.FormatInt(last, 10) {
		t.Errorf("after the refresh of sequence %d answered late, the targets are of sequence %s, want %d", first, got, last)
	}
}
