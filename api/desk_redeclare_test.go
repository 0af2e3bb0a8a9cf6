package api_test

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestDeskAuditAdditionNote: a declaration form for a period an audit finding added to says so,
// with the addition's base, before the clerk re-declares: the ledger adds it on top of any
// declaration (DOMAIN.md), and a reviewer following the worklist's "no re-declaration"
// re-declared the corrected base and charged the difference twice.
func TestDeskAuditAdditionNote(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokClerkA, orgCode(8105), "360702")
	e.mustWrite(t, empPath(id, "declarations"), tokClerkA,
		`{"declared_on":"2006-07-01","period":"2006-06","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`)
	e.mustWrite(t, empPath(id, "audit-findings"), tokAuditor,
		`{"found_on":"2006-08-01","kind":"under_reported_base","period":"2006-06","insurance":"pension","extra_wage_base_fen":788400,"redeclare_by":"2006-08-31"}`)
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs button[data-form="declaration"]') !== null`)
	openForm(t, ctx, "declaration")
	note := `document.querySelector('form[data-form="declaration"] .form-note')`
	fill(t, ctx, "declaration", map[string]string{"period": "2006-06"})
	poll(t, ctx, 5*time.Second, note+` && !`+note+`.hidden`)
	if got := eval[string](t, ctx, note+`.textContent`); !strings.Contains(got, "7,884.00") || !strings.Contains(got, "count twice") {
		t.Errorf("the note for 2006-06 reads %q; want the addition's base 7,884.00 yuan and that it is added on top", got)
	}
	fill(t, ctx, "declaration", map[string]string{"period": "2006-07"})
	poll(t, ctx, 5*time.Second, note+`.hidden`)
}
