package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// TestIdempotencyKeysBelongToTheirPrincipal: with tokens, each principal has its own keys, so one
// clerk's key neither blocks another's request nor tells that the key exists; the same principal's
// key keeps its promise (first result for the same body, 422 for another).
func TestIdempotencyKeysBelongToTheirPrincipal(t *testing.T) {
	e := newAuthEnv(t)
	id := e.register(t, tokClerkA, orgA, "360702")
	key := map[string]string{"Idempotency-Key": "shared-key-1"}
	first := e.do(t, req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("SK-1", 100, "2006-06-20")), Header: key})
	if first.Status != http.StatusCreated {
		t.Fatalf("clerk a's payment: %s", first)
	}
	// Clerk h writes to the same county with the same key and another body: a request of its own.
	other := e.do(t, req{Path: empPath(id, "payments"), Token: tokHashed, Body: []byte(paymentBody("SK-2", 200, "2006-06-21")), Header: key})
	if other.Status != http.StatusCreated || other.JSON["duplicate"] == true {
		t.Errorf("clerk h's request with clerk a's key: %s, want 201 (a key of its own)", other)
	}
	// Clerk b, in another county, registers with the key: neither blocked nor told of a's key.
	reg := e.do(t, req{Path: "/v1/employers", Token: tokClerkB, Body: []byte(registration(orgB, "360721")), Header: key})
	if reg.Status != http.StatusCreated {
		t.Errorf("clerk b's registration with clerk a's key: %s, want 201", reg)
	}
	// Clerk a's own retry is still its first result, and another body under the key is 422.
	again := e.do(t, req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("SK-1", 100, "2006-06-20")), Header: key})
	if again.Status != http.StatusOK || again.JSON["duplicate"] != true || again.str("employer_id") != id {
		t.Errorf("clerk a's retry: %s, want 200 duplicate", again)
	}
	wantError(t, e.do(t, req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("SK-3", 300, "2006-06-22")), Header: key}),
		http.StatusUnprocessableEntity, "idempotency_mismatch", "Idempotency-Key")
}

// TestARetryIsAnsweredAfterTheEmployerLeftTheClerksCounty: a clerk whose payment's outcome never
// reached it retries with its key after the employer was transferred out of its county: the
// retry answers the first result (API.md: "at any later time, before any other check"), another
// body under the key 422; a new write, or a retry of a key the clerk never used, stays 403 and
// tells nothing of the employer.
func TestARetryIsAnsweredAfterTheEmployerLeftTheClerksCounty(t *testing.T) {
	e := newAuthEnv(t)
	id := e.register(t, tokClerkA, orgA, "360702")
	key := map[string]string{"Idempotency-Key": "lost-answer-1"}
	body := []byte(paymentBody("LA-1", 100, "2006-06-20"))
	first := e.do(t, req{Path: empPath(id, "payments"), Token: tokClerkA, Body: body, Header: key})
	if first.Status != http.StatusCreated {
		t.Fatalf("the payment: %s", first)
	}
	e.mustWrite(t, empPath(id, "transfer"), tokAdmin, `{"on":"2006-06-25","county":"360721"}`)
	before := e.count()
	again := e.do(t, req{Path: empPath(id, "payments"), Token: tokClerkA, Body: body, Header: key})
	if again.Status != http.StatusOK || again.JSON["duplicate"] != true || again.str("employer_id") != id ||
		fmt.Sprint(again.JSON["event_ids"]) != fmt.Sprint(first.JSON["event_ids"]) {
		t.Errorf("the retry after the transfer: %s, want 200 duplicate with the first result %s", again, first)
	}
	wantError(t, e.do(t, req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("LA-2", 100, "2006-06-20")), Header: key}),
		http.StatusUnprocessableEntity, "idempotency_mismatch", "Idempotency-Key")
	for name, h := range map[string]map[string]string{"no key": nil, "a key never used": {"Idempotency-Key": "lost-answer-2"}} {
		if r := e.do(t, req{Path: empPath(id, "payments"), Token: tokClerkA, Body: body, Header: h}); r.Status != http.StatusForbidden {
			t.Errorf("%s: %s, want 403", name, r)
		}
	}
	e.wantUnchanged(t, before)
}

// TestAUsedKeyWithABodyThatIsRefusedIs422: a key already recorded, sent with a body that would be
// refused (a field unknown, a field missing), is another request under the key (API.md: 422,
// before any other check); the same body under a new key is the body's 400.
func TestAUsedKeyWithABodyThatIsRefusedIs422(t *testing.T) {
	e := newAuthEnv(t)
	id := e.register(t, tokClerkA, orgA, "360702")
	used := map[string]string{"Idempotency-Key": "used-1"}
	if r := e.do(t, req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("UK-1", 100, "2006-06-20")), Header: used}); r.Status != http.StatusCreated {
		t.Fatalf("the payment: %s", r)
	}
	// The same request sent badly (not as JSON, or padded past the limit) is not another
	// request: it keeps its own answer, and sent right it is the retry it is.
	same := paymentBody("UK-1", 100, "2006-06-20")
	for name, q := range map[string]req{
		"as text/plain":         {Header: map[string]string{"Idempotency-Key": "used-1", "Content-Type": "text/plain"}},
		"padded past the limit": {Body: []byte(same + strings.Repeat(" ", 1<<20)), Header: used},
	} {
		q.Path, q.Token = empPath(id, "payments"), tokClerkA
		if q.Body == nil {
			q.Body = []byte(same)
		}
		if r := e.do(t, q); r.Status != http.StatusUnsupportedMediaType && r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("the first request %s: %s, want its own 415 or 413", name, r)
		}
	}
	// An admin's key, used once.
	if r := e.do(t, req{Path: "/v1/reference/late-fee-rates", Token: tokAdmin, Body: []byte(`{"effective_from":"2007-01-01","daily_bp":50}`), Header: used}); r.Status != http.StatusCreated {
		t.Fatalf("the late-fee rate: %s", r)
	}
	for _, tt := range []struct{ name, token, path, body, field string }{
		{"an unknown field", tokClerkA, empPath(id, "contracts"), `{"signed_on":"2006-05-01","count":3,"zz":1}`, "zz"},
		{"a registration without its county", tokClerkA, "/v1/employers", `{"name":"x"}`, "county"},
		{"a late-fee rate without its rate", tokAdmin, "/v1/reference/late-fee-rates", `{"effective_from":"2007-01-01"}`, "daily_bp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count()
			wantError(t, e.do(t, req{Path: tt.path, Token: tt.token, Body: []byte(tt.body), Header: used}), http.StatusUnprocessableEntity, "idempotency_mismatch", "Idempotency-Key")
			wantError(t, e.do(t, req{Path: tt.path, Token: tt.token, Body: []byte(tt.body), Header: map[string]string{"Idempotency-Key": "fresh-" + tt.field}}), http.StatusBadRequest, "invalid", tt.field)
			e.wantUnchanged(t, before)
		})
	}
}

// TestAFreezeUnderAUsedKeyWithADateThatDoesNotExistIs422: as for every write, another request
// under a key the assessor used is 422 before the body's own 400.
func TestAFreezeUnderAUsedKeyWithADateThatDoesNotExistIs422(t *testing.T) {
	e := serveAssessed(t, storetest.Start(t, eventstore.Config{}), domain.MustDate("2006-12-31"))
	used := map[string]string{"Idempotency-Key": "freeze-1"}
	if r := e.do(t, req{Path: "/v1/freezes", Token: tokAssessor, Body: []byte(`{"valid_through":"2006-12-31"}`), Header: used}); r.Status != http.StatusCreated {
		t.Fatalf("the freeze: %s", r)
	}
	bad := []byte(`{"valid_through":"2006-04-31"}`)
	before := e.count()
	wantError(t, e.do(t, req{Path: "/v1/freezes", Token: tokAssessor, Body: bad, Header: used}), http.StatusUnprocessableEntity, "idempotency_mismatch", "Idempotency-Key")
	wantError(t, e.do(t, req{Path: "/v1/freezes", Token: tokAssessor, Body: bad, Header: map[string]string{"Idempotency-Key": "freeze-2"}}), http.StatusBadRequest, "invalid", "valid_through")
	e.wantUnchanged(t, before)
}
