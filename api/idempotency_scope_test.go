package api_test

import (
	"net/http"
	"testing"
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
