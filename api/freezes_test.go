package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
)

// TestFreezeRestatesABackdatedPayment: the same (S, D) always gives the same freeze; a payment
// recorded later but dated on or before D is exactly the difference between (S, D) and (S', D),
// and the restatement names it; a payment dated after D changes nothing at D.
func TestFreezeRestatesABackdatedPayment(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 150)
	const county, group = "360782", "group:2" // 南康市, supervision group 2
	x, due := e.freezeEmployer(t, 99000001, county, 4000000)
	s := e.count()
	e.waitViews(t, s)
	d := novEnd.String()

	f1 := e.freeze(t, tokAssessor, d, 0)
	if f1.ThroughSeq != s || f1.Seq != s+1 {
		t.Errorf("freeze through_seq %d stored at %d, want through the last sequence %d, stored at %d", f1.ThroughSeq, f1.Seq, s, s+1)
	}
	f2 := e.freeze(t, tokAdmin, d, s)
	if f2.ID == f1.ID || f2.Digest != f1.Digest || f2.ChainHead != f1.ChainHead || f2.CodeVersion != f1.CodeVersion {
		t.Errorf("a second freeze of (%d, %s) differs from the first: %+v vs %+v", s, d, f2, f1)
	}
	g1, g2 := e.getFreeze(t, tokAdmin, f1.ID), e.getFreeze(t, tokAdmin, f2.ID)
	if !bytes.Equal(g1.Figures, g2.Figures) {
		t.Errorf("two freezes of (%d, %s) have different figures bytes", s, d)
	}
	if g1.Digest != f1.Digest || g1.ThroughSeq != s || g1.ValidThrough != d || g1.ChainHead != f1.ChainHead {
		t.Errorf("GET /v1/freezes/%s answers another manifest than POST: %+v vs %+v", f1.ID, g1, f1)
	}
	// The figures are served whole (every segment's groups and city summed again); as stored,
	// they are the bytes the digest is the SHA-256 of.
	var stored manifest
	decode(t, e.get(t, "/v1/freezes/"+f1.ID+"?layout=stored", tokAdmin), &stored)
	if sum := sha256.Sum256(stored.Figures); hex.EncodeToString(sum[:]) != f1.Digest {
		t.Errorf("digest %s is not the SHA-256 of the figures served as stored (%x)", f1.Digest, sum)
	}
	wantError(t, e.get(t, "/v1/freezes/"+f1.ID+"?layout=stored", tokClerkA), http.StatusForbidden, "forbidden", "")
	wantError(t, e.get(t, "/v1/freezes/"+f1.ID+"?layout=rows", tokAdmin), http.StatusBadRequest, "invalid", "layout")
	fig1 := g1.figures(t)
	if fig1.AsOf != d || fig1.Period != "2006-10" || fig1.Seq != s || len(fig1.Counties) != 19 {
		t.Errorf("figures of (%d, %s): seq %d, as_of %s, period %s, %d counties; want %d, %s, 2006-10, 19",
			s, d, fig1.Seq, fig1.AsOf, fig1.Period, len(fig1.Counties), s, d)
	}
	if r := e.restatement(t, tokAssessor, f1.ID); len(r.Changes) != 0 || len(r.Events) != 0 {
		t.Errorf("restatement with nothing recorded since the freeze: %+v, want no changes and no events", r)
	}

	// A payment dated 2006-11-10, before D, recorded after S: 2006-10's pension in full, on time.
	paid := e.mustWrite(t, empPath(x, "payments"), tokAdmin, allocated("LATE-RECORDED", due, "2006-11-10", "2006-10"))
	p, payID := uint64(paid.num("seq")), paid.JSON["event_ids"].([]any)[0].(string)
	s2 := e.count()
	if s2 != p {
		t.Fatalf("the payment is at %d but the stream ends at %d", p, s2)
	}
	f3 := e.freeze(t, tokAssessor, d, 0)
	if f3.ThroughSeq != p {
		t.Errorf("freeze through_seq %d, want the payment's %d", f3.ThroughSeq, p)
	}
	if f3.Digest == f1.Digest || f3.ChainHead == f1.ChainHead {
		t.Errorf("freeze (%d, %s) has the digest or chain head of (%d, %s) although a payment dated %s lies between", p, d, s, d, "2006-11-10")
	}
	if again := e.freeze(t, tokAssessor, d, s); again.Digest != f1.Digest {
		t.Errorf("(%d, %s) frozen again after the payment: digest %s, want %s forever", s, d, again.Digest, f1.Digest)
	}
	fig3 := e.getFreeze(t, tokAdmin, f3.ID).figures(t)
	diff := diffFigures(t, fig1, fig3)
	scopes := map[string]bool{}
	for _, c := range diff {
		scopes[c.Scope] = true
		if c.Scope != county && c.Scope != group && c.Scope != "city" {
			t.Errorf("the payment in %s changed %s of %s: %+v", county, c.Figure, c.Scope, c)
		}
	}
	for _, sc := range []string{county, group, "city"} {
		for _, want := range []change{
			{sc, "insurances.pension.period_collected_fen", 0, due, due},
			{sc, "insurances.pension.cumulative_collected_fen", 0, due, due},
		} {
			if !slices.ContainsFunc(diff, func(c change) bool { return c.Scope == want.Scope && c.Figure == want.Figure && c.Delta == want.Delta }) {
				t.Errorf("freeze (%d, %s) vs (%d, %s): %s %s did not move by the payment's %d: %+v", s, d, p, d, sc, want.Figure, due, diff)
			}
		}
		for _, c := range diff {
			if c.Scope == sc && strings.HasSuffix(c.Figure, "_fen") && c.Figure != "late_fee_fen" && c.Delta != due && c.Delta != -due {
				t.Errorf("%s %s moved by %d, not by the payment's ±%d", sc, c.Figure, c.Delta, due)
			}
		}
	}

	for _, f := range []manifest{f1, f2} {
		r := e.restatement(t, tokAssessor, f.ID+"/restatement?min_seq="+strconv.FormatUint(p, 10))
		if len(r.Events) != 1 || r.Events[0].Seq != p || r.Events[0].Type != "payment.received" || r.Events[0].EmployerID != x ||
			r.Events[0].County != county || r.Events[0].OccurredOn != "2006-11-10" || r.Events[0].Actor == "" || r.Events[0].RecordedAt == "" {
			t.Errorf("restatement of %s: events %+v, want only the payment %d of %s in %s dated 2006-11-10", f.ID, r.Events, p, x, county)
		}
		got := slices.Clone(r.Changes)
		sortChanges(got)
		if !reflect.DeepEqual(got, diff) {
			t.Errorf("restatement of %s lists\n%+v\nwant the difference between the freezes (%d, %s) and (%d, %s):\n%+v", f.ID, got, s, d, p, d, diff)
		}
	}
	if r := e.restatement(t, tokAssessor, f3.ID); len(r.Changes) != 0 || len(r.Events) != 0 {
		t.Errorf("restatement of the freeze at the head: %+v, want nothing", r)
	}

	// A payment dated 2006-12-10, after D: nothing changes at D.
	late := e.pay(t, x, "DECEMBER", due, "2006-12-10", "2006-11")
	e.waitViews(t, late)
	if r := e.restatement(t, tokAssessor, f3.ID); len(r.Changes) != 0 || len(r.Events) != 0 {
		t.Errorf("restatement of (%d, %s) after a payment dated 2006-12-10: %+v, want no change and no event", p, d, r)
	}
	f4 := e.freeze(t, tokAssessor, d, 0)
	fig4 := e.getFreeze(t, tokAdmin, f4.ID).figures(t)
	if diff := diffFigures(t, fig3, fig4); len(diff) != 0 {
		t.Errorf("a payment dated after %s changed the figures of a freeze valid through it: %+v", d, diff)
	}
	for i := range fig3.Counties {
		if !bytes.Equal(fig3.Counties[i], fig4.Counties[i]) {
			t.Errorf("county %s differs between (%d, %s) and (%d, %s)", scopeOf(t, fig3.Counties[i], false), p, d, f4.ThroughSeq, d)
		}
	}
	if r := e.restatement(t, tokAssessor, f1.ID); len(r.Events) != 1 || r.Events[0].Seq != p {
		t.Errorf("restatement of the first freeze after a payment dated after D: events %+v, want only %d", r.Events, p)
	}

	// The backdated payment voided on a day after D: a void counts by sequence, so it changes
	// the figures as of D back, and it is the event the restatement names, whatever its date.
	v := e.mustWrite(t, empPath(x, "voids"), tokAuditor, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-12-20","reason":"录错 mistyped"}`, payID))
	vs := uint64(v.num("seq"))
	e.waitViews(t, vs)
	if r := e.restatement(t, tokAssessor, f3.ID); len(r.Changes) == 0 || len(r.Events) != 1 || r.Events[0].Seq != vs || r.Events[0].Type != "event.voided" {
		t.Errorf("restatement of (%d, %s) after the payment's void dated 2006-12-20: %+v, want changes and the void %d", p, d, r, vs)
	}
}

// TestFreezeEqualsTheLiveViewsAndSurvivesARestart: a freeze through the last sequence, valid
// through today, holds the live views' figures; after a restart it is still listed with the same
// digest and figures, and (S, D) frozen again gives the same digest.
func TestFreezeEqualsTheLiveViewsAndSurvivesARestart(t *testing.T) {
	t.Parallel()
	e := newFreezeEnv(t, 150)
	s := e.count()
	e.waitViews(t, s)
	var made []manifest
	for _, d := range []domain.Date{freezeToday, novEnd} {
		f := e.freeze(t, tokAssessor, d.String(), s)
		made = append(made, f)
		g := e.getFreeze(t, tokAssessor, f.ID)
		fig := g.figures(t)
		if fig.AsOf != d.String() || fig.Seq != s {
			t.Errorf("freeze (%d, %s): figures as_of %s seq %d", s, d, fig.AsOf, fig.Seq)
		}
		q := fmt.Sprintf("?as_of=%s&period=%s", d, fig.Period)
		var counties, groups frozenFigures
		decode(t, e.get(t, "/v1/counties"+q, tokAssessor), &counties)
		decode(t, e.get(t, "/v1/groups"+q, tokAssessor), &groups)
		if counties.AsOf != fig.AsOf || counties.Period != fig.Period || len(counties.Counties) != 19 {
			t.Fatalf("GET /v1/counties%s: as_of %s period %s, %d counties", q, counties.AsOf, counties.Period, len(counties.Counties))
		}
		wantSameFigures(t, "counties "+q, fig.Counties, counties.Counties)
		wantSameFigures(t, "groups "+q, fig.Groups, groups.Groups)
		if diff := jsonDiff("city", jsonValue(t, fig.City), jsonValue(t, counties.City)); len(diff) > 0 {
			t.Errorf("city %s: the freeze differs from the live views:\n%s", q, strings.Join(diff, "\n"))
		}
	}
	before := map[string]manifest{}
	for _, f := range made {
		before[f.ID] = e.getFreeze(t, tokAdmin, f.ID)
	}

	e.restart()
	var list struct {
		Freezes []manifest `json:"freezes"`
	}
	decode(t, e.get(t, "/v1/freezes", tokClerkA), &list)
	if len(list.Freezes) != len(made) {
		t.Fatalf("after a restart GET /v1/freezes lists %d freezes, want %d", len(list.Freezes), len(made))
	}
	for i, f := range made {
		got := list.Freezes[i]
		if got.ID != f.ID || got.Digest != f.Digest || got.ThroughSeq != f.ThroughSeq || got.ValidThrough != f.ValidThrough ||
			got.ChainHead != f.ChainHead || got.CodeVersion != f.CodeVersion || got.Seq != f.Seq || got.CreatedAt != f.CreatedAt {
			t.Errorf("after a restart the list holds %+v, want %+v", got, f)
		}
		g := e.getFreeze(t, tokAdmin, f.ID)
		if g.Digest != f.Digest || !bytes.Equal(g.Figures, before[f.ID].Figures) {
			t.Errorf("after a restart freeze %s answers digest %s (want %s) or other figures", f.ID, g.Digest, f.Digest)
		}
		if again := e.freeze(t, tokAssessor, f.ValidThrough, f.ThroughSeq); again.Digest != f.Digest || again.ChainHead != f.ChainHead {
			t.Errorf("(%d, %s) frozen again after a restart: digest %s, want %s", f.ThroughSeq, f.ValidThrough, again.Digest, f.Digest)
		}
	}

	// Without views (e.restart serves no runner) the reads that need them answer 503 like every
	// other projection read, and do not drop the connection.
	for _, path := range []string{"/v1/freezes/" + made[0].ID + "/restatement", "/v1/rankings?freeze=" + made[0].ID} {
		status, body, err := e.rawDo(path, tokAdmin)
		if err != nil {
			t.Errorf("GET %s on a server without views: %v (the handler panicked?), want 503", path, err)
		} else if status != http.StatusServiceUnavailable && !(status == http.StatusOK && strings.HasPrefix(path, "/v1/rankings")) {
			t.Errorf("GET %s on a server without views: %d %s, want 503", path, status, body)
		}
	}

	e.runner = startRunner(t, e.l.Store)
	e.serve()
	if r := e.restatement(t, tokAssessor, made[1].ID); len(r.Changes) != 0 || len(r.Events) != 0 {
		t.Errorf("restatement after a restart with nothing dated on or before %s recorded since: %+v", made[1].ValidThrough, r)
	}
}

// TestFreezeRefusals: what POST /v1/freezes refuses appends nothing, and the freeze reads answer
// 404 for an unknown freeze and 400 for a missing or mismatched one.
func TestFreezeRefusals(t *testing.T) {
	e := newFreezeEnv(t, 0)
	e.register(t, tokAdmin, orgCode(99000002), "360702")
	last := e.count()
	for _, c := range []struct {
		token, body string
		status      int
		kind, field string
	}{
		{tokAssessor, `{}`, 400, "invalid", "valid_through"},
		{tokAssessor, `{"through_seq":1}`, 400, "invalid", "valid_through"},
		{tokAssessor, `{"valid_through":""}`, 400, "invalid", "valid_through"},
		{tokAssessor, `{"valid_through":"2006-02-30"}`, 400, "invalid", "valid_through"},
		{tokAssessor, `{"valid_through":"30/11/2006"}`, 400, "invalid", "valid_through"},
		{tokAssessor, fmt.Sprintf(`{"valid_through":"2006-11-30","through_seq":%d}`, last+1), 400, "invalid", "through_seq"},
		{tokAssessor, `{"valid_through":"2006-11-30","through_seq":-1}`, 400, "invalid", "through_seq"},
		{tokAssessor, `{"valid_through":"2006-11-30","seq":1}`, 400, "invalid", "seq"},
		{tokClerkA, `{"valid_through":"2006-11-30"}`, 403, "forbidden", ""},
		{tokSuper, `{"valid_through":"2006-11-30"}`, 403, "forbidden", ""},
		{tokAuditor, `{"valid_through":"2006-11-30"}`, 403, "forbidden", ""},
		{"", `{"valid_through":"2006-11-30"}`, 401, "unauthorized", "Authorization"},
	} {
		wantError(t, e.post(t, "/v1/freezes", c.token, c.body), c.status, c.kind, c.field)
	}
	// A clerk refused is told who may freeze: admins as well as the assessment team.
	if d := e.post(t, "/v1/freezes", tokClerkA, `{"valid_through":"2006-11-30"}`).str("detail"); !strings.Contains(d, "assessors") || !strings.Contains(d, "admins") {
		t.Errorf("a clerk's refusal says %q; want it to name assessors and admins", d)
	}
	e.wantUnchanged(t, last)

	nov := e.freeze(t, tokAssessor, "2006-11-30", last)
	e.waitViews(t, e.count())
	unknown := "01a00000-0000-7000-8000-000000000000"
	wantError(t, e.get(t, "/v1/freezes/"+unknown, tokAdmin), 404, "not_found", "id")
	wantError(t, e.get(t, "/v1/freezes/"+unknown+"/restatement", tokAdmin), 404, "not_found", "id")
	if r := e.get(t, "/v1/rankings?freeze="+unknown, tokAdmin); r.Status != http.StatusNotFound {
		t.Errorf("rankings of an unknown freeze: %s, want 404", r)
	}
	wantError(t, e.get(t, "/v1/rankings", tokAdmin), 400, "invalid", "freeze")
	wantError(t, e.get(t, "/v1/rankings?freeze=", tokAdmin), 400, "invalid", "freeze")
	wantError(t, e.get(t, "/v1/reports/monthly/2006-10?freeze="+nov.ID, tokAdmin), 400, "invalid", "freeze")
	wantError(t, e.get(t, "/v1/reports/monthly/2006-12?format=csv&freeze="+nov.ID, tokAdmin), 400, "invalid", "freeze")
	t.Run("the error names the query parameter freeze", func(t *testing.T) {
		// The {error, field, detail} field names the request's input: here ?freeze=, not "id".
		wantError(t, e.get(t, "/v1/rankings?freeze="+unknown, tokAdmin), 404, "not_found", "freeze")
		wantError(t, e.get(t, "/v1/reports/monthly/2006-11?freeze="+unknown, tokAdmin), 404, "not_found", "freeze")
	})

	// Every role reads freezes; a clerk sees only its counties' figures.
	for _, tok := range []string{tokClerkA, tokClerkB, tokSuper, tokAuditor, tokAssessor, tokAdmin} {
		var list struct {
			Freezes []manifest `json:"freezes"`
		}
		decode(t, e.get(t, "/v1/freezes", tok), &list)
		if len(list.Freezes) != 1 || list.Freezes[0].ID != nov.ID || list.Freezes[0].ValidThrough != "2006-11-30" {
			t.Errorf("%s: GET /v1/freezes lists %+v, want the one freeze", tok, list.Freezes)
		}
	}
	fig := e.getFreeze(t, tokClerkA, nov.ID).figures(t)
	if len(fig.Counties) != 1 || scopeOf(t, fig.Counties[0], false) != "360702" || len(fig.Groups) != 0 {
		t.Errorf("clerk of 360702 reads a freeze's figures of %d counties and %d groups, want 360702 only", len(fig.Counties), len(fig.Groups))
	}
}

// TestFreezeRestatementIsScoped: a restatement shows a principal only changes it may read; a
// group's or the city's movement caused by another county's payment is not for a clerk.
func TestFreezeRestatementIsScoped(t *testing.T) {
	e := newFreezeEnv(t, 0)
	e.freezeEmployer(t, 99000003, "360702", 3000000) // group 1, clerk A's county
	b, due := e.freezeEmployer(t, 99000004, "360782", 3000000)
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, novEnd.String(), 0)
	p := e.pay(t, b, "B-LATE", due, "2006-11-10", "2006-10")
	e.waitViews(t, p)
	if r := e.restatement(t, tokAdmin, f.ID); len(r.Changes) == 0 || len(r.Events) != 1 {
		t.Fatalf("admin's restatement: %+v, want the payment's changes and event", r)
	}
	for _, tok := range []string{tokClerkA, tokSuper} {
		r := e.restatement(t, tok, f.ID)
		if len(r.Changes) != 0 || len(r.Events) != 0 {
			t.Errorf("%s (who may not read 360782) sees the restatement of a payment in 360782: %+v", tok, r)
		}
	}
}

// A payment of a payer that left 360702, dated before the freeze's date, may pay lines of 360702
// (a line stays with the county of its period's first day): 360702's clerk, whose figures it
// changed, finds it among the events of the restatement, whether the payer moved after the
// payment's date or before it. A payment of a payer never in 360702 is not named to it.
func TestARestatementNamesAPaymentOfAPayerThatLeftTheCounty(t *testing.T) {
	e := newFreezeEnv(t, 0)
	a, due := e.freezeEmployer(t, 99000011, "360702", 3000000)
	b, dueB := e.freezeEmployer(t, 99000012, "360702", 3000000)
	c, dueC := e.freezeEmployer(t, 99000013, "360721", 3000000)
	e.mustWrite(t, empPath(b, "transfer"), tokAdmin, `{"on":"2006-11-15","county":"360721"}`)
	e.waitViews(t, e.count())
	f := e.freeze(t, tokAssessor, novEnd.String(), 0)
	e.mustWrite(t, empPath(a, "transfer"), tokAdmin, `{"on":"2006-12-05","county":"360721"}`)
	movedAfter := e.pay(t, a, "T-A", due, "2006-11-10", "2006-10")
	movedBefore := e.pay(t, b, "T-B", dueB, "2006-11-20", "2006-10")
	never := e.pay(t, c, "T-C", dueC, "2006-11-20", "2006-10")
	e.waitViews(t, never)
	r := e.restatement(t, tokClerkA, f.ID)
	named := map[uint64]bool{}
	for _, ev := range r.Events {
		named[ev.Seq] = true
	}
	if len(r.Changes) == 0 || !named[movedAfter] || !named[movedBefore] || named[never] {
		t.Fatalf("360702's clerk reads the restatement %+v; want 360702's changes, the payments of its payers since moved (seq %d, %d), not that of a payer never in 360702 (seq %d)", r, movedAfter, movedBefore, never)
	}
}

// TestFreezeReadsAnswerXLedgerSeq: "every read answers the header X-Ledger-Seq" (API.md).
func TestFreezeReadsAnswerXLedgerSeq(t *testing.T) {
	e := newFreezeEnv(t, 0)
	e.register(t, tokAdmin, orgCode(99000007), "360702")
	f := e.freeze(t, tokAssessor, "2006-11-30", 0)
	e.waitViews(t, f.Seq)
	for _, path := range []string{"/v1/freezes", "/v1/freezes/" + f.ID, "/v1/freezes/" + f.ID + "/restatement", "/v1/rankings?freeze=" + f.ID} {
		r := e.get(t, path, tokAdmin)
		if r.Status != http.StatusOK {
			t.Errorf("GET %s: %s", path, r)
		} else if r.Header.Get("X-Ledger-Seq") == "" {
			t.Errorf("GET %s: 200 without X-Ledger-Seq", path)
		}
	}
}

// A freeze of a long ledger folds for longer than the server's write timeout: its answer must
// still reach the client. Here the timeout has passed before the handler starts.
func TestAFreezeIsAnsweredAfterTheServersWriteTimeout(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(api.New(api.Config{Store: e.l.Store, Today: func() domain.Date { return freezeToday }}))
	srv.Config.WriteTimeout = time.Nanosecond
	srv.Start()
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+"/v1/freezes", "application/json", strings.NewReader(`{"valid_through":"2006-12-31"}`))
	if err != nil {
		t.Fatalf("POST /v1/freezes on a server whose write timeout has passed: %v", err)
	}
	defer resp.Body.Close()
	var m struct {
		ID     string `json:"id"`
		Digest string `json:"digest"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusCreated || m.Digest == "" {
		t.Fatalf("POST /v1/freezes: %s, %+v, %v; want 201 with the freeze", resp.Status, m, err)
	}
}
