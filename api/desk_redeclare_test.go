package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kuozheng/kuozheng/domain"
)

// TestDeskRedeclaresOneLineInChromium: a declaration replaces its period's whole, so one of a
// single line, where pension and medical stand, is refused beside its lines (409); the desk
// offers the standing declaration's lines for the period typed, and the clerk, having loaded
// them, changes pension's base alone and the declaration is recorded, medical's due as it was.
// Nothing is offered for a period no declaration stands for, nor for one an assessment dated
// later stands for.
func TestDeskRedeclaresOneLineInChromium(t *testing.T) {
	e := newReadEnv(t, today)
	ctx := startBrowser(t)
	id := e.register(t, tokClerkA, orgCode(8501), "360702")
	e.mustWrite(t, empPath(id, "declarations"), tokClerkA, `{"declared_on":"2006-06-05","period":"2006-05","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000},{"insurance":"medical","headcount":10,"wage_base_fen":800000}]}`)
	e.mustWrite(t, empPath(id, "declarations"), tokClerkA, `{"declared_on":"2006-07-05","period":"2006-06","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`)
	seq := e.mustWrite(t, empPath(id, "assessments"), tokClerkA, `{"assessed_on":"2006-08-01","period":"2006-06","reason":"audit","lines":[{"insurance":"pension","due_fen":300000}]}`).num("seq")
	dues := func(minSeq int64) map[string]domain.Fen {
		t.Helper()
		var emp struct {
			Lines []domain.LineState `json:"lines"`
		}
		decode(t, e.get(t, fmt.Sprintf("%s?min_seq=%d", empPath(id, ""), minSeq), tokClerkA), &emp)
		due := map[string]domain.Fen{}
		for _, l := range emp.Lines {
			if l.Period == domain.MustPeriod("2006-05") {
				due[string(l.Insurance)] += l.DueFen
			}
		}
		return due
	}
	before := dues(int64(seq))
	if before["pension"] == 0 || before["medical"] == 0 {
		t.Fatalf("2006-05's dues before: %v; want pension and medical", before)
	}

	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs') !== null`)
	openForm(t, ctx, "declaration")
	const form = `document.querySelector('form[data-form="declaration"]')`
	offered := func() bool { return !eval[bool](t, ctx, form+`.querySelector('button.load-lines').hidden`) }
	for _, p := range []string{"2006-04", "2006-06"} {
		fill(t, ctx, "declaration", map[string]string{"period": p})
		if offered() {
			t.Errorf("period %s: the standing lines are offered; none stands (2006-06 was assessed after its declaration)", p)
		}
	}

	// Typed alone, pension's line is refused beside the lines: medical's due would go unseen.
	fill(t, ctx, "declaration", map[string]string{"declared_on": "2006-09-01", "period": "2006-05",
		"lines[0].insurance": "pension", "lines[0].headcount": "10", "lines[0].wage_base_fen": "1200000"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](form+`.querySelector('button[type=submit]').click()`))
	poll(t, ctx, 10*time.Second, form+`.dataset.errorStatus === '409'`)
	if got := eval[[]string](t, ctx, `[`+form+`.dataset.errorField, `+form+`.querySelector('[data-error-for="lines"]').textContent]`); got[0] != "lines" || !strings.Contains(got[1], "medical") {
		t.Errorf("the one-line declaration's refusal: field %q, beside the lines %q; want lines, naming medical", got[0], got[1])
	}

	// Loaded, the standing lines are the form's rows; the clerk changes pension's base alone.
	if !offered() {
		t.Fatalf("period 2006-05: the standing declaration's lines are not offered")
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](form+`.querySelector('button.load-lines').click()`))
	rows := eval[[][]string](t, ctx, `Array.from(`+form+`.querySelectorAll('.line-row')).map(r => ['insurance', 'headcount', 'wage_base_fen'].map(k => r.querySelector('[data-item="' + k + '"]').value))`)
	if fmt.Sprint(rows) != "[[pension 10 1000000] [medical 10 800000]]" {
		t.Fatalf("the loaded rows are %v; want the standing declaration's pension and medical lines", rows)
	}
	fill(t, ctx, "declaration", map[string]string{"lines[0].wage_base_fen": "1200000"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](form+`.querySelector('button[type=submit]').click()`))
	after := dues(waitWritten(t, ctx, 1))
	if after["medical"] != before["medical"] || after["pension"] == before["pension"] {
		t.Errorf("2006-05's dues after the desk's declaration: %v, before %v; want medical's as it was and pension's changed", after, before)
	}
}
