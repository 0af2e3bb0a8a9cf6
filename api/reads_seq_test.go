package api_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// A read's X-Ledger-Seq is the sequence of the views its answer was computed from, not of the
// views when the read began: two reads answering the same sequence agree while payments,
// backdated ones among them, are recorded beside them. Here the city's arrears (GET /v1/counties)
// and the sum of its payers' (GET /v1/employers) at the same sequence.
func TestReadsAnsweringOneSequenceAgreeWhileWritesGoOn(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	var ids []string
	for n := range 6 {
		id, _ := e.freezeEmployer(t, 9500+n, "360702", 400000)
		ids = append(ids, id)
	}
	const writes = 120
	var wg sync.WaitGroup
	failed := make(chan string, writes)
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range writes {
			// Every other payment backdated into November: it changes late fees and arrears
			// of dates already passed, which a report and a list must both see or both not.
			paidOn := "2006-12-20"
			if i%2 == 1 {
				paidOn = fmt.Sprintf("2006-11-%02d", 16+i%14)
			}
			r := e.post(t, empPath(ids[i%len(ids)], "payments"), tokAdmin, fmt.Sprintf(`{"paid_on":%q,"amount_fen":%d,"receipt_no":"SEQ-%d"}`, paidOn, 1000+i, i))
			if r.Status != 201 {
				failed <- r.String()
			}
		}
	}()
	seqOf := func(r resp) (uint64, error) {
		n, err := strconv.ParseUint(r.Header.Get("X-Ledger-Seq"), 10, 64)
		if r.Status != 200 || err != nil {
			return 0, fmt.Errorf("%s (X-Ledger-Seq %q)", r, r.Header.Get("X-Ledger-Seq"))
		}
		return n, nil
	}
	fen := func(v any) int64 {
		n, _ := v.(json.Number).Int64()
		return n
	}
	// A disagreement ends the reads; the writes still end before the test does.
	check := func() (same bool, err error) {
		c := e.get(t, "/v1/counties?period=2006-11", tokAdmin)
		at, err := seqOf(c)
		if err != nil {
			return false, err
		}
		if body := uint64(c.num("seq")); body != at {
			return false, fmt.Errorf("the counties' answer is of sequence %d, its X-Ledger-Seq %d", body, at)
		}
		l := e.get(t, "/v1/employers?limit=1000", tokAdmin)
		if lat, err := seqOf(l); err != nil || lat != at {
			return false, err
		}
		city := c.JSON["city"].(map[string]any)
		want := fen(city["arrears_current_year_fen"]) + fen(city["arrears_prior_years_fen"])
		var sum int64
		for _, row := range l.JSON["employers"].([]any) {
			sum += fen(row.(map[string]any)["arrears_fen"])
		}
		if sum != want {
			return true, fmt.Errorf("at sequence %d the payers' arrears sum to %d fen, the city's are %d", at, sum, want)
		}
		return true, nil
	}
	reads, same := 0, 0
	for stop := false; !stop; reads++ {
		select {
		case <-done:
			stop = true // one more pair once every write is in
		default:
		}
		ok, err := check()
		if err != nil {
			t.Error(err)
			break
		}
		if ok {
			same++
		}
	}
	wg.Wait()
	close(failed)
	for f := range failed {
		t.Errorf("a payment was refused: %s", f)
	}
	t.Logf("%d pairs of reads, %d at the same sequence", reads, same)
}

// The monthly series is answered again for a while as events arrive (a year of months is costly
// to fold), under its own sequence; a reader's min_seq still gets one through its write.
func TestASeriesIsAnsweredUnderItsOwnSequenceAndHonoursMinSeq(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	id, _ := e.freezeEmployer(t, 9600, "360702", 400000)
	first := e.get(t, "/v1/series", tokAdmin)
	if first.Status != 200 || first.Header.Get("X-Ledger-Seq") != fmt.Sprint(first.num("seq")) {
		t.Fatalf("%s: X-Ledger-Seq %q, want the series' seq", first, first.Header.Get("X-Ledger-Seq"))
	}
	paid := e.pay(t, id, "SER-1", 5000, "2006-12-20", "2006-11")
	reused := e.get(t, "/v1/series", tokAdmin)
	if reused.Header.Get("X-Ledger-Seq") != fmt.Sprint(reused.num("seq")) {
		t.Fatalf("X-Ledger-Seq %q of a series of sequence %d", reused.Header.Get("X-Ledger-Seq"), reused.num("seq"))
	}
	after := e.get(t, fmt.Sprintf("/v1/series?min_seq=%d", paid), tokAdmin)
	if after.Status != 200 || uint64(after.num("seq")) < paid || after.Header.Get("X-Ledger-Seq") != fmt.Sprint(after.num("seq")) {
		t.Fatalf("min_seq=%d: %d, seq %d, X-Ledger-Seq %q; want the series through the payment", paid, after.Status, after.num("seq"), after.Header.Get("X-Ledger-Seq"))
	}
	collected := func(r resp) string {
		return fmt.Sprint(r.JSON["city"].(map[string]any)["collected_fen"])
	}
	if collected(after) == collected(first) {
		t.Fatalf("the series through the payment collected %s, as before it", collected(after))
	}
}

// An employer's state and history answer the sequence of the events they were read from: while
// only that employer is written, every event is its, so the sequence is its version, exactly.
func TestAnEmployersReadsAnswerTheSequenceOfTheEventsRead(t *testing.T) {
	e := newReadEnv(t, domain.MustDate("2006-12-31"))
	id, _ := e.freezeEmployer(t, 9700, "360702", 400000)
	const writes = 150
	done := make(chan struct{})
	failed := make(chan string, writes)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range writes {
			if r := e.post(t, empPath(id, "payments"), tokAdmin, fmt.Sprintf(`{"paid_on":"2006-12-20","amount_fen":%d,"receipt_no":"VER-%d"}`, 100+i, i)); r.Status != 201 {
				failed <- r.String()
			}
		}
	}()
	var mismatch string
	for stop := false; !stop && mismatch == ""; {
		select {
		case <-done:
			stop = true
		default:
		}
		for _, path := range []string{"/v1/employers/" + id, "/v1/employers/" + id + "/history"} {
			r := e.get(t, path, tokAdmin)
			if r.Status != 200 || r.Header.Get("X-Ledger-Seq") != fmt.Sprint(r.num("version")) {
				mismatch = fmt.Sprintf("%s: %d, version %d, X-Ledger-Seq %q", path, r.Status, r.num("version"), r.Header.Get("X-Ledger-Seq"))
				break
			}
		}
	}
	wg.Wait()
	close(failed)
	for f := range failed {
		t.Errorf("a payment was refused: %s", f)
	}
	if mismatch != "" {
		t.Fatalf("an employer's read answers a sequence not of the events it read: %s", mismatch)
	}
}
