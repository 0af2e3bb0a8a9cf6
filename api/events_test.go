package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

type eventsPage struct {
	Events []struct {
		Seq    uint64 `json:"seq"`
		Type   string `json:"type"`
		County string `json:"county"`
		Actor  string `json:"actor"`
	} `json:"events"`
	NextCursor string `json:"next_cursor"`
}

// Events recorded today are listed by actor, a page at a time through next_cursor, to auditors
// and admins only (API.md); a period with nothing recorded lists nothing.
func TestEventsAreListedByActorOverAPeriodToAuditorsAndAdmins(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	a := e.register(t, tokClerkA, orgCode(10000004), "360702")
	e.register(t, tokClerkB, orgCode(10000018), "360721")
	e.mustWrite(t, empPath(a, "declarations"), tokClerkA, `{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`)
	const payments = 130 // more than a page
	for i := range payments {
		e.mustWrite(t, empPath(a, "payments"), tokAdmin, paymentBody(fmt.Sprintf("P%d", i), 100, "2006-06-20"))
	}
	today := domain.DateInChina(time.Now())
	period := fmt.Sprintf("from=%s&to=%s", today-1, today+1) // a day either side: the test may cross midnight
	list := func(token, query string) eventsPage {
		t.Helper()
		r := e.get(t, "/v1/events?"+query, token)
		if r.Status != http.StatusOK {
			t.Fatalf("GET /v1/events?%s: %s", query, r)
		}
		var p eventsPage
		if err := json.Unmarshal(r.Raw, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := list(tokAdmin, period+"&actor=a"); len(p.Events) != 2 || p.Events[0].Actor != "clerk:a" || p.Events[1].Type != "declaration.filed" || p.NextCursor != "" {
		t.Fatalf("clerk a's events: %+v, want its registration and declaration", p)
	}
	seen := map[uint64]bool{}
	query := period + "&actor=admin:adm"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatalf("the admin's %d payments took more than 3 pages", payments)
		}
		p := list(tokAdmin, query)
		for _, ev := range p.Events {
			if seen[ev.Seq] || ev.Type != "payment.received" || ev.Actor != "admin:adm" {
				t.Fatalf("page %d: %+v seen twice or not the admin's payment", pages, ev)
			}
			seen[ev.Seq] = true
		}
		if p.NextCursor == "" {
			break
		}
		query = period + "&actor=admin:adm&cursor=" + p.NextCursor
	}
	if len(seen) != payments {
		t.Fatalf("the admin's pages listed %d payments, want %d", len(seen), payments)
	}
	if p := list(tokAuditor, period+"&actor=b"); len(p.Events) != 1 || p.Events[0].County != "360721" {
		t.Fatalf("clerk b's events as an auditor lists them: %+v, want its registration in 360721", p)
	}
	for _, token := range []string{tokClerkA, tokClerkB, tokSuper} {
		wantError(t, e.get(t, "/v1/events?"+period, token), http.StatusForbidden, "forbidden", "")
	}
	if p := list(tokAdmin, "from=2020-01-01&to=2020-01-31"); len(p.Events) != 0 {
		t.Fatalf("a period before the ledger lists %d events", len(p.Events))
	}
	for _, c := range []struct{ query, field string }{
		{"to=2026-01-01", "from"},
		{"from=2026-04-31&to=2026-05-01", "from"},
		{"from=2026-05-02&to=2026-05-01", "to"},
		{period + "&cursor=x", "cursor"},
	} {
		if r := e.get(t, "/v1/events?"+c.query, tokAdmin); r.Status != http.StatusBadRequest || r.str("field") != c.field {
			t.Errorf("GET /v1/events?%s: %s, want 400 on %s", c.query, r, c.field)
		}
	}
}
