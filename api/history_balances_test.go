package api_test

import (
	"encoding/json"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// TestHistoryBalancesStandOnEachEventsBusinessDate reads a history twenty years on, as the
// issue saw it (no as_of: today, 2026-06-30). Each event's balances are those on its own
// business date, counting it and the events recorded before it; the response's totals are as of
// as_of. The line: 2006-04 pension, 28% of 60,000 = 16,800 fen, due 2006-05-15, so fees accrue
// from 05-16 at 20 bp a day (5 bp from 2011-07-01), rounded half up once per line.
func TestHistoryBalancesStandOnEachEventsBusinessDate(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2026-06-30"))
	id := e.register(t, tokAdmin, "10000004-0", "360702")
	write := func(sub, body string) { e.mustWrite(t, empPath(id, sub), tokAdmin, body) }
	write("declarations", `{"declared_on":"2006-05-05","period":"2006-04","lines":[{"insurance":"pension","headcount":1,"wage_base_fen":60000}]}`)
	write("payments", paymentBody("R-1", 10000, "2006-06-14"))
	write("enforcement", `{"step":"notice","on":"2006-07-01","doc_no":"N-1","deadline":"2006-07-16"}`)
	write("payments", paymentBody("R-2", 2000, "2006-06-01")) // recorded last, dated before R-1

	r := e.get(t, empPath(id, "history"), tokAdmin)
	if r.Status != 200 {
		t.Fatalf("history: %s", r)
	}
	var h projections.History
	if err := json.Unmarshal(r.Raw, &h); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want projections.Balances
	}{
		{"registration, 2006-04-03: nothing due yet", projections.Balances{}},
		{"declaration, 2006-05-05: due, not yet overdue, no fee", projections.Balances{DueFen: 16800, OutstandingFen: 16800}},
		// 29 days (05-16 to 06-13) × 16,800 × 20 bp = 9,744,000, and on 06-14 the paid part bears
		// no fee: 1 day × 6,800 × 20 bp = 136,000. 9,880,000 / 10,000 = 988.
		{"payment R-1, 2006-06-14: the fee through its date on what it left", projections.Balances{DueFen: 16800, PaidFen: 10000, OutstandingFen: 6800, LateFeeFen: 988}},
		// 9,744,000 + 18 days (06-14 to 07-01) × 6,800 × 20 bp = 2,448,000: 12,192,000 → 1,219.2 → 1,219.
		{"notice, 2006-07-01: the fee keeps accruing on what is left", projections.Balances{DueFen: 16800, PaidFen: 10000, OutstandingFen: 6800, LateFeeFen: 1219}},
		// On 06-01 R-1 (06-14) had not happened: 16 days (05-16 to 05-31) × 16,800 × 20 bp =
		// 5,376,000, and 06-01 × 14,800 × 20 bp = 296,000: 5,672,000 → 567.2 → 567.
		{"payment R-2, dated 2006-06-01, recorded last: the balances of 06-01", projections.Balances{DueFen: 16800, PaidFen: 2000, OutstandingFen: 14800, LateFeeFen: 567}},
	}
	if len(h.Events) != len(tests) {
		t.Fatalf("%d events, want %d: %s", len(h.Events), len(tests), r.Raw)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Events[i].Balances; got != tt.want {
				t.Errorf("event %d (%s on %s): balances %+v, want %+v", i, h.Events[i].Type, h.Events[i].OccurredOn, got, tt.want)
			}
		})
	}
	// As of 2026-06-30: 16 days × 16,800 × 20 = 5,376,000; 13 days (06-01 to 06-13) × 14,800 ×
	// 20 = 3,848,000; 1,843 days (2006-06-14 to 2011-06-30) × 4,800 × 20 = 176,928,000; 5,479
	// days (2011-07-01 to 2026-06-30) × 4,800 × 5 = 131,496,000. Sum 317,648,000 → 31,764.8 → 31,765.
	want := projections.Balances{DueFen: 16800, PaidFen: 12000, OutstandingFen: 4800, LateFeeFen: 31765}
	if h.AsOf != domain.MustDate("2026-06-30") || h.Balances != want {
		t.Errorf("totals as of %s: %+v, want as of 2026-06-30 %+v", h.AsOf, h.Balances, want)
	}
}
