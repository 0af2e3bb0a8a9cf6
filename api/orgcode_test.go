package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

func codeCorrection(code, on string) string {
	return fmt.Sprintf(`{"org_code":%q,"corrected_on":%q,"reason":"登记时代码录错"}`, code, on)
}

// A payer registered under another's organisation code keeps its id and history when the code
// is corrected; the code it leaves is free for its owner, and the code it takes is no one
// else's, however either side comes.
func TestAnOrganisationCodeEnteredWrongIsCorrected(t *testing.T) {
	e := newReadEnv(t, today)
	wrong, right, other := orgCode(8101), orgCode(8102), orgCode(8103)
	a := e.register(t, tokClerkA, wrong, "360702")
	e.mustWrite(t, empPath(a, "payments"), tokClerkA, paymentBody("OC-1", 500, "2006-05-10"))
	b := e.register(t, tokClerkA, other, "360702")

	e.mustWrite(t, empPath(a, "org-code"), tokClerkA, codeCorrection(right, "2006-06-01"))
	e.waitViews(t, e.count())
	got := e.get(t, empPath(a, ""), tokClerkA)
	if got.Status != http.StatusOK || got.str("org_code") != right {
		t.Fatalf("after the correction the payer reads %s, want org_code %s", got, right)
	}

	t.Run("the code taken is refused to a registration", func(t *testing.T) {
		before := e.count()
		r := e.post(t, "/v1/employers", tokClerkA, registration(right, "360702"))
		wantError(t, r, http.StatusConflict, "conflict", "org_code")
		e.wantUnchanged(t, before)
	})
	t.Run("the code taken is refused to another correction", func(t *testing.T) {
		before := e.count()
		r := e.post(t, empPath(b, "org-code"), tokClerkA, codeCorrection(right, "2006-06-02"))
		wantError(t, r, http.StatusConflict, "conflict", "org_code")
		e.wantUnchanged(t, before)
	})
	t.Run("a correction to the payer's own code changes nothing", func(t *testing.T) {
		r := e.post(t, empPath(a, "org-code"), tokClerkA, codeCorrection(right, "2006-06-02"))
		wantError(t, r, http.StatusConflict, "conflict", "org_code")
	})
	t.Run("a correction is not voided", func(t *testing.T) {
		h := e.get(t, empPath(a, "history"), tokAuditor)
		var hist struct {
			Events []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"events"`
		}
		if err := json.Unmarshal(h.Raw, &hist); err != nil {
			t.Fatalf("history: %s: %v", h, err)
		}
		id := ""
		for _, ev := range hist.Events {
			if ev.Type == (domain.OrgCodeCorrected{}).EventType() {
				id = ev.ID
			}
		}
		if id == "" {
			t.Fatalf("the history holds no %s event: %s", domain.OrgCodeCorrected{}.EventType(), h)
		}
		r := e.post(t, empPath(a, "voids"), tokAuditor, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-06-03","reason":"x"}`, id))
		wantError(t, r, http.StatusConflict, "conflict", "event_id")
	})

	t.Run("a row naming the code left behind, before its owner registers, is refused naming the code", func(t *testing.T) {
		r := e.upload(t, tokAdmin, "pay.csv", []byte("组织机构代码,缴费日期,金额(分),票据号\n"+wrong+",2006-07-10,100,OC-0\n"))
		var rep importer.Report
		if err := json.Unmarshal(r.Raw, &rep); err != nil || len(rep.Rejected) != 1 ||
			rep.Rejected[0].Column != "组织机构代码" || rep.Rejected[0].Reason != "no employer holds this code" {
			t.Errorf("import: %s, want the row refused on its code: no employer holds it", r)
		}
	})

	// The owner of the code left behind registers under an id of its own.
	owner := e.register(t, tokClerkA, wrong, "360702")
	if owner == a {
		t.Fatalf("the owner of %s registered under the corrected payer's id %s", wrong, a)
	}
	t.Run("the code left behind is its owner's once registered", func(t *testing.T) {
		r := e.post(t, "/v1/employers", tokClerkA, registration(wrong, "360702"))
		wantError(t, r, http.StatusConflict, "conflict", "org_code")
		r = e.post(t, empPath(a, "org-code"), tokClerkA, codeCorrection(wrong, "2006-06-04"))
		wantError(t, r, http.StatusConflict, "conflict", "org_code")
	})

	// Rows naming a payer by code reach the one that holds it now.
	file := "组织机构代码,缴费日期,金额(分),票据号\n" + right + ",2006-07-10,100,OC-2\n" + wrong + ",2006-07-10,200,OC-3\n"
	r := e.upload(t, tokClerkA, "pay.csv", []byte(file))
	var rep importer.Report
	if err := json.Unmarshal(r.Raw, &rep); err != nil || rep.Imported != 2 {
		t.Fatalf("import: %s, want 2 rows imported", r)
	}
	e.waitViews(t, e.count())
	paid := func(id string) int64 {
		t.Helper()
		var v struct {
			Totals domain.Totals `json:"totals"`
		}
		s := e.get(t, empPath(id, "")+"?as_of=2006-12-31", tokClerkA)
		if err := json.Unmarshal(s.Raw, &v); err != nil {
			t.Fatalf("employer %s: %s: %v", id, s, err)
		}
		return int64(v.Totals.PaidFen + v.Totals.CreditFen) // paid with nothing due is credit
	}
	if got, want := paid(a), int64(600); got != want {
		t.Errorf("the corrected payer has paid %d fen, want %d (500 before, 100 by its new code)", got, want)
	}
	if got, want := paid(owner), int64(200); got != want {
		t.Errorf("the code's owner has paid %d fen, want %d", got, want)
	}

	t.Run("a registration imported goes to the code's free slot", func(t *testing.T) {
		moved, left := orgCode(8104), orgCode(8105)
		c := e.register(t, tokClerkA, moved, "360702")
		e.mustWrite(t, empPath(c, "org-code"), tokClerkA, codeCorrection(left, "2006-06-05"))
		regs := "name,org_code,county,kind,risk_class,registered_on\n" +
			"甲," + moved + ",360702,enterprise,1,2006-06-06\n" +
			"乙," + left + ",360702,enterprise,1,2006-06-06\n"
		r := e.upload(t, tokClerkA, "regs.csv", []byte(regs))
		var rep importer.Report
		if err := json.Unmarshal(r.Raw, &rep); err != nil {
			t.Fatalf("import: %s: %v", r, err)
		}
		if rep.Imported != 1 || len(rep.Rejected) != 1 || rep.Rejected[0].Row != 3 || rep.Rejected[0].Column != "org_code" {
			t.Fatalf("import: %s, want the row of %s imported and the row of %s (held by the corrected payer) refused", r, moved, left)
		}
	})
	t.Run("a correction retried with its key answers the first", func(t *testing.T) {
		d := e.register(t, tokClerkA, orgCode(8106), "360702")
		q := req{Path: empPath(d, "org-code"), Token: tokClerkA, Body: []byte(codeCorrection(orgCode(8107), "2006-06-05")),
			Header: map[string]string{"Idempotency-Key": "oc-retry"}}
		first := e.do(t, q)
		before := e.count()
		again := e.do(t, q)
		if first.Status != http.StatusCreated || again.Status != http.StatusOK || again.str("employer_id") != d || again.num("seq") != first.num("seq") {
			t.Errorf("a retried correction answers %s after %s, want 200 with the first's employer and sequence", again, first)
		}
		e.wantUnchanged(t, before)
	})

	// What the stream says holds after a start from it.
	e.restart()
	r = e.post(t, "/v1/employers", tokClerkA, registration(right, "360702"))
	wantError(t, r, http.StatusConflict, "conflict", "org_code")
	r = e.post(t, "/v1/employers", tokClerkA, registration(wrong, "360702"))
	wantError(t, r, http.StatusConflict, "conflict", "org_code")
}

func TestACodeCorrectionIsRefusedWithTheFieldAtFault(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "", orgCode(8201), "360702")
	withCredit := e.mustWrite(t, "/v1/employers", "", fmt.Sprintf(`{"name":"信用代码单位","county":"360702","credit_code":%q,"kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`,
		creditCodeOf(orgCode(8202), "360702"))).str("employer_id")
	person := e.mustWrite(t, "/v1/employers", "", `{"name":"张三","county":"360702","kind":"flexible","risk_class":1,"registered_on":"2006-04-03"}`).str("employer_id")
	bad := orgCode(8203)
	bad = bad[:9] + string("0123456789X"[(indexOf("0123456789X", bad[9])+1)%11])
	for _, tc := range []struct {
		name, id, body string
		status         int
		kind, field    string
	}{
		{"a wrong check digit", a, codeCorrection(bad, "2006-06-01"), 400, "invalid", "org_code"},
		{"no code", a, `{"corrected_on":"2006-06-01","reason":"x"}`, 400, "invalid", "org_code"},
		{"no reason", a, `{"org_code":"` + orgCode(8204) + `","corrected_on":"2006-06-01"}`, 400, "invalid", "reason"},
		{"a date before entry", a, codeCorrection(orgCode(8204), "2006-04-02"), 409, "conflict", "corrected_on"},
		{"an individual payer", person, codeCorrection(orgCode(8204), "2006-06-01"), 409, "conflict", "org_code"},
		{"a credit code left holding the old code", withCredit, codeCorrection(orgCode(8204), "2006-06-01"), 400, "invalid", "credit_code"},
		{"a credit code that disagrees", a, fmt.Sprintf(`{"org_code":%q,"credit_code":%q,"corrected_on":"2006-06-01","reason":"x"}`,
			orgCode(8204), creditCodeOf(orgCode(8205), "360702")), 400, "invalid", "org_code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.count()
			wantError(t, e.post(t, empPath(tc.id, "org-code"), "", tc.body), tc.status, tc.kind, tc.field)
			e.wantUnchanged(t, before)
		})
	}
	t.Run("a credit code corrected with its organisation code", func(t *testing.T) {
		e.mustWrite(t, empPath(withCredit, "org-code"), "", fmt.Sprintf(`{"credit_code":%q,"corrected_on":"2006-06-01","reason":"x"}`,
			creditCodeOf(orgCode(8206), "360702")))
		r := e.post(t, "/v1/employers", "", registration(orgCode(8206), "360702"))
		wantError(t, r, http.StatusConflict, "conflict", "org_code")
		e.register(t, "", orgCode(8202), "360702")
	})
}

func indexOf(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// Two API replicas on one stream: a correction to a code and a registration of it, sent at
// once, never both stand; nor two corrections of two payers to one code. A code corrected away
// on one replica registers on the other at once, though that one has not yet followed it.
func TestACodeIsHeldOnceAcrossReplicas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := e.secondReplica(t)
	register := func(st *eventstore.Store, code string) error {
		_, err := st.Execute(ctx, eventstore.Request{Create: true, Today: today, Actor: "clerk:b", Command: &domain.RegisterEmployer{
			Name: "单位" + code, County: "360702", OrgCode: code, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
		return err
	}
	correct := func(st *eventstore.Store, id, code string) error {
		_, err := st.Execute(ctx, eventstore.Request{EmployerID: id, Today: today, Actor: "clerk:a", Command: &domain.CorrectOrgCode{
			OrgCode: code, CorrectedOn: "2006-06-01", Reason: "录错"}})
		return err
	}
	both := func(f, g func() error) (int, []error) {
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, do := range []func() error{f, g} {
			wg.Go(func() { errs[i] = do() })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			var de *domain.Error
			switch {
			case err == nil:
				ok++
			case !errors.As(err, &de) || de.Kind != domain.KindConflict:
				t.Fatalf("want a conflict or nothing, got %v", err)
			}
		}
		return ok, errs
	}
	for i := range 15 {
		right := orgCode(8300000 + i)
		a := e.register(t, "", orgCode(8310000+i), "360702")
		b := e.register(t, "", orgCode(8320000+i), "360702")
		if ok, errs := both(func() error { return register(other, right) }, func() error { return correct(e.l.Store, a, right) }); ok != 1 {
			t.Fatalf("round %d: a registration and a correction to %s at once: %d stood (%v), want 1", i, right, ok, errs)
		}
		taken := orgCode(8330000 + i)
		if ok, errs := both(func() error { return correct(other, a, taken) }, func() error { return correct(e.l.Store, b, taken) }); ok != 1 {
			t.Fatalf("round %d: two corrections to %s at once: %d stood (%v), want 1", i, taken, ok, errs)
		}
		c := e.register(t, "", orgCode(8340000+i), "360702")
		if err := correct(e.l.Store, c, orgCode(8350000+i)); err != nil {
			t.Fatal(err)
		}
		if err := register(other, orgCode(8340000+i)); err != nil {
			t.Fatalf("round %d: the code corrected away on one replica, registered on the other: %v", i, err)
		}
	}
}

// A correction says what the code always was: the payer has the code the ledger holds for it on
// every date, the last correction recorded holding whatever dates the corrections give, so no
// date shows it with a code another payer holds now.
func TestACorrectedCodeIsThePayersOnEveryDate(t *testing.T) {
	e := newReadEnv(t, today)
	first, second, last := orgCode(8701), orgCode(8702), orgCode(8703)
	a := e.register(t, tokClerkA, first, "360702")
	e.mustWrite(t, empPath(a, "org-code"), tokClerkA, codeCorrection(second, "2006-11-01"))
	e.mustWrite(t, empPath(a, "org-code"), tokClerkA, codeCorrection(last, "2006-06-01"))
	for _, code := range []string{first, second} {
		if id := e.register(t, tokClerkA, code, "360702"); id == a {
			t.Fatalf("code %s, left behind, registered under the corrected payer's id", code)
		}
	}
	e.waitViews(t, e.count())
	for _, on := range []string{"2006-04-03", "2006-07-01", "2006-12-31"} {
		r := e.get(t, empPath(a, "")+"?as_of="+on, tokClerkA)
		if r.str("org_code") != last {
			t.Errorf("the payer as of %s has code %q, want %s, the one the ledger holds for it", on, r.str("org_code"), last)
		}
	}
}

// A correction of a code counts once among what its clerk recorded: the claim appended with it
// is no event of the clerk's work.
func TestACodeCorrectionCountsOnceInCorrections(t *testing.T) {
	e := newReadEnv(t, today)
	a := e.register(t, tokClerkA, orgCode(8801), "360702")
	e.mustWrite(t, empPath(a, "org-code"), tokClerkA, codeCorrection(orgCode(8802), "2006-06-01"))
	e.waitViews(t, e.count())
	now := domain.DateInChina(time.Now())
	var ans correctionsAnswer
	decode(t, e.get(t, fmt.Sprintf("/v1/corrections?from=%s&to=%s", now-1, now+1), tokAuditor), &ans)
	for _, r := range ans.Rows {
		if r.Actor == "clerk:a" && r.Recorded != 2 {
			t.Errorf("clerk a recorded %d events, want 2 (a registration and a code correction)", r.Recorded)
		}
	}
	if len(ans.Rows) != 1 {
		t.Errorf("rows %+v, want one for clerk a", ans.Rows)
	}
}
