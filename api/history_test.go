package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

// TestHistoryCutsMatchAFoldByHand builds one employer's history, then checks that the
// through_seq cut (what the ledger knew) and the as_of cut (what was dated by then) list the
// events and balances a fold by hand gives: the totals as of as_of, and the last event's
// balances on its own business date.
func TestHistoryCutsMatchAFoldByHand(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	id := e.register(t, tokAdmin, "10000004-0", "360702")
	decl := e.mustWrite(t, "/v1/employers/"+id+"/declarations", tokAdmin,
		`{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`)
	pay1 := e.mustWrite(t, "/v1/employers/"+id+"/payments", tokAdmin, paymentBody("R1", 100000, "2006-05-25"))
	// Recorded last but dated before the first payment: a late-recorded payment.
	pay2 := e.mustWrite(t, "/v1/employers/"+id+"/payments", tokAdmin, paymentBody("R2", 50000, "2006-05-20"))

	type hist struct {
		Version uint64 `json:"version"`
		ChainOK bool   `json:"chain_ok"`
		Events  []struct {
			Seq      uint64               `json:"seq"`
			Type     string               `json:"type"`
			Balances projections.Balances `json:"balances"`
		} `json:"events"`
		Balances projections.Balances `json:"balances"`
	}
	read := func(query string) hist {
		t.Helper()
		r := e.get(t, "/v1/employers/"+id+"/history?"+query, tokAdmin)
		if r.Status != 200 {
			t.Fatalf("history?%s: %s", query, r)
		}
		var h hist
		if err := json.Unmarshal(r.Raw, &h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	seq := func(r resp) uint64 { n, _ := r.JSON["seq"].(json.Number).Int64(); return uint64(n) }

	// Due 280000 (28% of 1000000), due date 2006-05-15.
	tests := []struct {
		name    string
		query   string
		types   []string
		balance projections.Balances
		last    projections.Balances
	}{
		{
			// Through the first payment, as of 05-31: 280000 due; 100000 paid on 05-25;
			// fee: 9 days (16–24) on 280000 + 7 days (25–31) on 180000 at 20 bp = 5040 + 2520 = 7560.
			name: "through_seq cuts by what the ledger knew", query: fmt.Sprintf("through_seq=%d&as_of=2006-05-31", seq(pay1)),
			types:   []string{"employer.registered", "declaration.filed", "payment.received"},
			balance: projections.Balances{DueFen: 280000, PaidFen: 100000, OutstandingFen: 180000, LateFeeFen: 7560},
			// On 05-25: 5040 + 1 day (25) on 180000 = 360.
			last: projections.Balances{DueFen: 280000, PaidFen: 100000, OutstandingFen: 180000, LateFeeFen: 5040 + 360},
		},
		{
			// Everything, as of 05-31: the 05-20 payment counts from its date: 4 days (16–19) on
			// 280000 = 2240, 5 days (20–24) on 230000 = 2300, 7 days (25–31) on 130000 = 1820.
			name: "a late-recorded payment changes the fee from its business date", query: "as_of=2006-05-31",
			types:   []string{"employer.registered", "declaration.filed", "payment.received", "payment.received"},
			balance: projections.Balances{DueFen: 280000, PaidFen: 150000, OutstandingFen: 130000, LateFeeFen: 6360},
			// The last event, the 05-20 payment, on 05-20 (the 05-25 one not yet dated): 2240 +
			// 1 day (20) on 230000 = 460.
			last: projections.Balances{DueFen: 280000, PaidFen: 50000, OutstandingFen: 230000, LateFeeFen: 2240 + 460},
		},
		{
			// As of 05-22: the 05-25 payment is not yet dated; 4 days on 280000 (2240) + 3 days (20–22) on 230000 (1380).
			name: "as_of cuts by business date", query: "as_of=2006-05-22",
			types:   []string{"employer.registered", "declaration.filed", "payment.received"},
			balance: projections.Balances{DueFen: 280000, PaidFen: 50000, OutstandingFen: 230000, LateFeeFen: 2240 + 1380},
			last:    projections.Balances{DueFen: 280000, PaidFen: 50000, OutstandingFen: 230000, LateFeeFen: 2240 + 460},
		},
		{
			name: "as_of before the declaration shows nothing due", query: "as_of=2006-05-01",
			types:   []string{"employer.registered"},
			balance: projections.Balances{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := read(tt.query)
			var types []string
			for _, ev := range h.Events {
				types = append(types, ev.Type)
			}
			if fmt.Sprint(types) != fmt.Sprint(tt.types) {
				t.Fatalf("events %v, want %v", types, tt.types)
			}
			if h.Balances != tt.balance {
				t.Fatalf("balances %+v, want %+v", h.Balances, tt.balance)
			}
			if last := h.Events[len(h.Events)-1].Balances; last != tt.last {
				t.Fatalf("last event's balances %+v, want %+v", last, tt.last)
			}
			if !h.ChainOK {
				t.Fatal("chain_ok false on an untouched ledger")
			}
		})
	}
	if h := read(fmt.Sprintf("through_seq=%d&as_of=2006-12-31", seq(decl))); h.Version != seq(decl) || len(h.Events) != 2 {
		t.Fatalf("through_seq at the declaration: version %d, %d events", h.Version, len(h.Events))
	}
	if h := read("as_of=2006-12-31"); h.Version != seq(pay2) {
		t.Fatalf("full history version %d, want %d", h.Version, seq(pay2))
	}
	// Through a sequence before the employer entered the ledger there is no history to show:
	// 404 naming through_seq, as its statement of that cut answers.
	before := seq(decl) - 2
	for _, path := range []string{"history?", "statement.pdf?from=2006-01-01&to=2006-12-31&"} {
		r := e.get(t, empPath(id, path)+fmt.Sprintf("through_seq=%d", before), tokAdmin)
		wantError(t, r, 404, "not_found", "through_seq")
	}
}

// A history is read under the access the employer gives today, whatever date it is read as of:
// a clerk reads the whole past of an employer transferred into the county, and none of one
// transferred out (forbidden, as for any employer not theirs). The county it shows is the one
// of the date asked, as the events through the sequence asked make it.
func TestAHistoryAsOfAnEarlierDateIsReadUnderTheEmployersPresentCounty(t *testing.T) {
	e := newAuthEnv(t)
	movedIn := e.register(t, tokAdmin, orgCode(71000001), "360721")
	movedOut := e.register(t, tokAdmin, orgCode(71000002), "360702")
	moved := e.mustWrite(t, empPath(movedIn, "transfer"), tokAdmin, `{"on":"2006-07-15","county":"360702"}`)
	e.mustWrite(t, empPath(movedOut, "transfer"), tokAdmin, `{"on":"2006-07-15","county":"360721"}`)
	transfer := moved.num("seq")
	for _, c := range []struct {
		name, id, asOf string
		status         int
		county         string
	}{
		{"moved in, read as of before the move", movedIn, "2006-06-30", 200, "360721"},
		{"moved in, read as of after the move", movedIn, "2006-07-20", 200, "360702"},
		// through_seq shows what the ledger knew then: the county too.
		{"moved in, read through a sequence before the move was recorded", movedIn, fmt.Sprintf("2006-07-20&through_seq=%d", transfer-1), 200, "360721"},
		{"moved in, read through the move's sequence", movedIn, fmt.Sprintf("2006-07-20&through_seq=%d", transfer), 200, "360702"},
		{"moved out, read as of before the move", movedOut, "2006-06-30", 403, ""},
		{"moved out, read as of after the move", movedOut, "2006-07-20", 403, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.get(t, empPath(c.id, "history")+"?as_of="+c.asOf, tokClerkA)
			if r.Status != c.status {
				t.Fatalf("clerk of 360702: %s, want %d", r, c.status)
			}
			if c.status == 200 && r.str("county") != c.county {
				t.Fatalf("county %q, want %q", r.str("county"), c.county)
			}
		})
	}
}

// TestAHistoryThroughASequenceAnotherReplicaAppendedHoldsIt: through_seq names a sequence the
// stream has but this replica may not have followed yet (appended through another one): the
// history waits for it, as min_seq does, and holds the event, not an answer that later grows.
func TestAHistoryThroughASequenceAnotherReplicaAppendedHoldsIt(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	ctx := context.Background()
	other := e.secondReplica(t)
	for i := range 40 {
		res, err := other.Execute(ctx, eventstore.Request{EmployerID: id, Today: today, Actor: "replica-b",
			Command: &domain.RecordPayment{PaidOn: "2006-06-20", AmountFen: "100", ReceiptNo: fmt.Sprintf("B-%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		var h struct {
			Events []struct {
				Seq uint64 `json:"seq"`
			} `json:"events"`
		}
		decode(t, e.get(t, empPath(id, "history")+fmt.Sprintf("?through_seq=%d", res.Seq), ""), &h)
		if n := len(h.Events); n == 0 || h.Events[n-1].Seq != res.Seq {
			t.Fatalf("history through %d, appended by another replica: %d events, the last %+v; want it to end with %d", res.Seq, n, h.Events[max(n-1, 0):], res.Seq)
		}
	}
}

// A statement or a receipt through a sequence another replica appended, or read with min_seq
// at it, waits for it as the history does, and prints through it: not an older document under
// the sequence asked for (the second-replica probe saw 7 of 15 print without the payment).
func TestADocumentThroughASequenceAnotherReplicaAppendedHoldsIt(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	ctx := context.Background()
	other := e.secondReplica(t)
	get := func(path string) (int, string) {
		t.Helper()
		res, err := e.srv.Client().Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		return res.StatusCode, res.Header.Get("X-Ledger-Seq")
	}
	for i := range 20 {
		res, err := other.Execute(ctx, eventstore.Request{EmployerID: id, Today: today, Actor: "replica-b",
			Command: &domain.RecordPayment{PaidOn: "2006-06-20", AmountFen: "100", ReceiptNo: fmt.Sprintf("B-%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		statement := empPath(id, "statement.pdf") + "?from=2006-06-01&to=2006-06-30"
		for _, path := range []string{
			statement + fmt.Sprintf("&through_seq=%d", res.Seq),
			statement + fmt.Sprintf("&min_seq=%d", res.Seq),
			empPath(id, "events/"+res.EventIDs[0]+".pdf") + fmt.Sprintf("?through_seq=%d", res.Seq),
			empPath(id, "events/"+res.EventIDs[0]+".pdf") + fmt.Sprintf("?min_seq=%d", res.Seq),
		} {
			if code, seq := get(path); code != 200 || seq != fmt.Sprint(res.Seq) {
				t.Fatalf("%s, the payment appended by another replica at %d: %d, X-Ledger-Seq %s; want 200 through it", path, res.Seq, code, seq)
			}
		}
	}
	// An employer registered through the other replica: its access is decided once it is here
	// (before, 2 of 20 answered 404: 40 tries).
	for i := range 40 {
		res, err := other.Execute(ctx, eventstore.Request{Create: true, Today: today, Actor: "replica-b", Command: &domain.RegisterEmployer{
			Name: fmt.Sprintf("单位%d", i), County: "360702", OrgCode: orgCode(78200000 + i), Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
		if err != nil {
			t.Fatal(err)
		}
		path := empPath(res.EmployerID, "statement.pdf") + fmt.Sprintf("?from=2006-06-01&to=2006-06-30&through_seq=%d", res.Seq)
		if code, seq := get(path); code != 200 || seq != fmt.Sprint(res.Seq) {
			t.Fatalf("%s, registered by another replica at %d: %d, X-Ledger-Seq %s; want 200 through it", path, res.Seq, code, seq)
		}
	}
}

// TestAWriteRightAfterARegistrationThroughAnotherReplicaIsRecorded: a payment sent here just
// after another replica registered its employer is recorded, not answered 404 from this
// replica's state before it has followed the registration (README, High availability).
func TestAWriteRightAfterARegistrationThroughAnotherReplicaIsRecorded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := e.secondReplica(t)
	for i := range 40 {
		code := orgCode(78100000 + i)
		res, err := other.Execute(ctx, eventstore.Request{Create: true, Today: today, Actor: "replica-b", Command: &domain.RegisterEmployer{
			Name: fmt.Sprintf("单位%d", i), County: "360702", OrgCode: code, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
		if err != nil {
			t.Fatal(err)
		}
		id := res.EmployerID
		if r := e.do(t, req{Path: empPath(id, "payments"), Body: []byte(paymentBody("R1", 100, "2006-06-20"))}); r.Status != 201 {
			t.Fatalf("a payment just after another replica registered %s: %s, want 201", id, r)
		}
	}
}

// secondReplica opens another store on e's server, as a second API replica's, closed when the
// test ends.
func (e *env) secondReplica(t *testing.T) *eventstore.Store {
	t.Helper()
	st, err := eventstore.Open(context.Background(), e.l.Embedded.Conn, e.l.Embedded.StoreConfig(eventstore.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}
