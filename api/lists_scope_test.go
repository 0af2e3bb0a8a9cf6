package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
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
	entered := e.mustWrite(t, "/v1/employers", tokClerkA, fmt.Sprintf(`{"name":"摸底乙厂","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"found_on":"2006-04-03"}`, orgCode(8402)))
	found := entered.str("employer_id")
	lists := func(token string, minSeq int64) (string, string) {
		t.Helper()
		flags := e.get(t, fmt.Sprintf("/v1/flags?as_of=2006-09-30&min_seq=%d", minSeq), token)
		work := e.get(t, fmt.Sprintf("/v1/worklists?as_of=2006-09-30&min_seq=%d", minSeq), token)
		if flags.Status != 200 || work.Status != 200 {
			t.Fatalf("flags %d, worklists %d as %s", flags.Status, work.Status, token)
		}
		return string(flags.Raw), string(work.Raw)
	}
	flags, work := lists(tokClerkA, entered.num("seq"))
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

// TestListsOfAClosedYearLeaveOutPayersSinceTransferredAway: as of a date in a closed year the
// lists are made from the ledger replayed to the year's close, where a payer transferred in 2007
// still stands in its county of 2006; the worklist and the arrears publicity list leave it out all
// the same for a clerk who may no longer read it, and keep it for an auditor.
func TestListsOfAClosedYearLeaveOutPayersSinceTransferredAway(t *testing.T) {
	e := serveAssessed(t, storetest.Start(t, eventstore.Config{}), yearsToday)
	found := e.mustWrite(t, "/v1/employers", tokClerkA, fmt.Sprintf(`{"name":"摸底丙厂","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"found_on":"2006-04-03"}`, orgCode(8403))).str("employer_id")
	owing := e.mustWrite(t, "/v1/employers", tokClerkA, fmt.Sprintf(`{"name":"欠费丁厂","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, orgCode(8404))).str("employer_id")
	e.mustWrite(t, empPath(owing, "declarations"), tokClerkA, `{"declared_on":"2006-06-01","period":"2006-05","lines":[{"insurance":"pension","headcount":2,"wage_base_fen":200000}]}`)
	e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	var seq int64
	for _, id := range []string{found, owing} {
		seq = e.mustWrite(t, empPath(id, "transfer"), tokClerkA, `{"on":"2007-01-15","county":"360721"}`).num("seq")
	}
	e.waitViews(t, uint64(seq))

	for _, c := range []struct {
		token string
		want  bool
	}{{tokClerkA, false}, {tokAuditor, true}} {
		work := e.get(t, "/v1/worklists?as_of=2006-09-30", c.token)
		if work.Status != 200 || strings.Contains(string(work.Raw), found) != c.want {
			t.Errorf("%s's worklist as of 2006-09-30 (%d) lists the payer transferred in 2007: %v, want %v: %s", c.token, work.Status, !c.want, c.want, work.Raw)
		}
		list := e.raw(t, http.MethodGet, "/v1/counties/360702/arrears-list.pdf?as_of=2006-09-30", c.token, "")
		if list.status != 200 || strings.Contains(pdfText(t, list.body), "欠费丁厂") != c.want {
			t.Errorf("%s's arrears list of 360702 as of 2006-09-30 (%d) prints the payer transferred in 2007: %v, want %v", c.token, list.status, !c.want, c.want)
		}
	}
}

// TestAListOfAPastDateTakesThePayersInTheCountyThen: the arrears publicity list of a county as of a
// date in an open year takes the payers in the county on that date, as the
// county's figures of that date count their arrears: a payer transferred since is listed where
// it was (for readers who may read it now), not where it went.
func TestAListOfAPastDateTakesThePayersInTheCountyThen(t *testing.T) {
	e := newReadEnv(t, today)
	owing := e.mustWrite(t, "/v1/employers", tokClerkA, fmt.Sprintf(`{"name":"欠费戊厂","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, orgCode(8405))).str("employer_id")
	e.mustWrite(t, empPath(owing, "declarations"), tokClerkA, `{"declared_on":"2006-06-01","period":"2006-05","lines":[{"insurance":"pension","headcount":2,"wage_base_fen":200000}]}`)
	seq := e.mustWrite(t, empPath(owing, "transfer"), tokClerkA, `{"on":"2006-11-15","county":"360721"}`).num("seq")
	for _, c := range []struct {
		county, asOf string
		want         bool
	}{{"360702", "2006-09-30", true}, {"360721", "2006-09-30", false}, {"360702", "2006-12-31", false}, {"360721", "2006-12-31", true}} {
		list := e.raw(t, http.MethodGet, fmt.Sprintf("/v1/counties/%s/arrears-list.pdf?as_of=%s&min_seq=%d", c.county, c.asOf, seq), tokAuditor, "")
		if list.status != 200 || strings.Contains(pdfText(t, list.body), "欠费戊厂") != c.want {
			t.Errorf("the arrears list of %s as of %s (%d) prints the payer in 360702 until 2006-11-15: %v, want %v", c.county, c.asOf, list.status, !c.want, c.want)
		}
		wantFilename(t, list, "arrears-list-"+c.county+"-"+c.asOf+".pdf")
	}
	if list := e.raw(t, http.MethodGet, fmt.Sprintf("/v1/counties/360702/arrears-list.pdf?as_of=2006-09-30&min_seq=%d", seq), tokClerkA, ""); list.status != 200 || strings.Contains(pdfText(t, list.body), "欠费戊厂") {
		t.Errorf("the clerk of 360702, who may no longer read the payer, finds it in the list as of 2006-09-30 (%d)", list.status)
	}
}
