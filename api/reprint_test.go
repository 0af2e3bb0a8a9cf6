package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPrintedDocumentsRefuseDatesAfterToday asks a statement and an arrears list of days after
// the business date (2006-12-31): 400 naming the date, worded as notices word it (no late fee
// projected, no signature on a day to come); today itself prints.
func TestPrintedDocumentsRefuseDatesAfterToday(t *testing.T) {
	e := newReadEnv(t, today)
	id, _ := statementPayer(t, e)
	e.waitViews(t, e.count())
	before := e.count()
	for q, field := range map[string]string{
		"?from=2006-12-01&to=2007-06-30": "to", "?from=2007-01-01&to=2007-01-31": "from", "?from=2007-01-01&to=2006-12-31": "from",
	} {
		r := e.get(t, empPath(id, "statement.pdf")+q, tokClerkA)
		wantError(t, r, http.StatusBadRequest, "invalid", field)
		if !strings.Contains(r.str("detail"), "after today's business date 2006-12-31") {
			t.Errorf("statement%s: %s, want the notices' wording", q, r.Raw)
		}
	}
	r := e.get(t, "/v1/counties/360702/arrears-list.pdf?as_of=2007-06-30", tokAdmin)
	wantError(t, r, http.StatusBadRequest, "invalid", "as_of")
	if !strings.Contains(r.str("detail"), "2007-06-30 is after today's business date 2006-12-31") {
		t.Errorf("arrears list as of 2007-06-30: %s, want the notices' wording", r.Raw)
	}
	e.wantUnchanged(t, before)
	for _, path := range []string{empPath(id, "statement.pdf") + "?from=2006-12-01&to=2006-12-31", "/v1/counties/360702/arrears-list.pdf?as_of=2006-12-31"} {
		if a := e.raw(t, http.MethodGet, path, tokAdmin, ""); a.status != http.StatusOK {
			t.Errorf("GET %s (today): %d %.300s", path, a.status, a.body)
		}
	}
}
