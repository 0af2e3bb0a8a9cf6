package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestListsAsOfLeaveOutPayersSinceTransferredAway: flags and worklists as of a date list the
// payers of the reader's counties on that date; a payer transferred since to a county the reader
// may not read is left out, as a read of it is refused (403): the list printed its name as the
// new county's clerk changed it and its figures with that county's payments. Readers of its
// county now, and readers of every county, still see it.
func TestListsAsOfLeaveOutPayersSinceTransferredAway(t *testing.T) {
	e := newReadEnv(t, today)
	// A park payer with no pension enrollment (flag park_employer_not_enrolled), and a payer
	// found by the survey and never registered (worklist found_not_registered).
	parked := e.mustWrite(t, "/v1/employers", tokClerkA, fmt.Sprintf(`{"name":"园区甲厂","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"park":"章贡工业园","in_industrial_park":true,"registered_on":"2006-04-03"}`, orgCode(8401))).str("employer_id")
	found := e.mustWrite(t, "/v1/employers", tokClerkA, fmt.Sprintf(`{"name":"摸底乙厂","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"found_on":"2006-04-03"}`, orgCode(8402))).str("employer_id")
	lists := func(token string, minSeq int64) (string, string) {
		t.Helper()
		flags := e.get(t, fmt.Sprintf("/v1/flags?as_of=2006-09-30&min_seq=%d", minSeq), token)
		work := e.get(t, fmt.Sprintf("/v1/worklists?as_of=2006-09-30&min_seq=%d", minSeq), token)
		if flags.Status != 200 || work.Status != 200 {
			t.Fatalf("flags %d, worklists %d as %s", flags.Status, work.Status, token)
		}
		return string(flags.Raw), string(work.Raw)
	}
	flags, work := lists(tokClerkA, 0)
	if !strings.Contains(flags, parked) || !strings.Contains(work, found) {
		t.Fatalf("before the transfers the clerk of 360702 sees flags %s and worklist %s, want both payers", flags, work)
	}

	for _, id := range []string{parked, found} {
		e.mustWrite(t, empPath(id, "transfer"), tokClerkA, `{"on":"2006-12-30","county":"360721"}`)
	}
	seq := e.mustWrite(t, empPath(parked, "changes"), tokClerkB, `{"on":"2006-12-30","name":"南康新名号厂"}`).num("seq")

	flags, work = lists(tokClerkA, seq)
	for _, c := range []struct{ list, body, id string }{{"flags", flags, parked}, {"worklist", work, found}} {
		if strings.Contains(c.body, c.id) || strings.Contains(c.body, "南康新名号厂") {
			t.Errorf("the clerk of 360702, who may no longer read %s, finds it in the %s as of 2006-09-30: %s", c.id, c.list, c.body)
		}
	}
	if g := e.get(t, empPath(parked, "")+"?as_of=2006-09-30", tokClerkA); g.Status != 403 {
		t.Errorf("the clerk of 360702 reading the payer as of 2006-09-30: %d, want 403", g.Status)
	}
	flags, work = lists(tokAuditor, seq)
	if !strings.Contains(flags, parked) || !strings.Contains(work, found) {
		t.Errorf("the auditor's flags %s and worklist %s as of 2006-09-30 leave out the payers transferred", flags, work)
	}
	now := e.get(t, fmt.Sprintf("/v1/flags?min_seq=%d", seq), tokClerkB)
	if !strings.Contains(string(now.Raw), parked) {
		t.Errorf("the clerk of 360721 does not find the payer transferred in among today's flags: %s", now.Raw)
	}
}
