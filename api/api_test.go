// Over 500 lines for a reason: the write routes' refusals of bad input are one table over one
// server.

package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Organisation codes used below (body + GB 11714 check digit).
var (
	orgA = orgCode(10000004) // 10000004-0
	orgB = orgCode(10000018) // 10000018-X
)

func TestInvalidBodiesAreRefusedWith400NamingTheFieldAndAppendNothing(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	e.mustWrite(t, empPath(id, "declarations"), "",
		`{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`)

	reg := func(override string) string {
		base := map[string]any{"name": "新单位", "county": "360702", "org_code": orgB, "kind": "enterprise",
			"risk_class": json.Number("1"), "registered_on": "2006-04-03"}
		var o map[string]any
		d := json.NewDecoder(strings.NewReader(override))
		d.UseNumber()
		if err := d.Decode(&o); err != nil {
			panic(err)
		}
		for k, v := range o {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		b, _ := json.Marshal(base)
		return string(b)
	}
	badCredit := []byte(creditCodeOf(orgB, "360702"))
	badCredit[17] = map[bool]byte{true: '1', false: '0'}[badCredit[17] == '0']
	huge := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`

	cases := []struct {
		name   string
		path   string // "" is /v1/employers; else a sub-route of the employer
		body   []byte
		status int
		field  string
	}{
		{"registered_on 2006-04-31 does not exist", "", []byte(reg(`{"registered_on":"2006-04-31"}`)), 400, "registered_on"},
		{"registered_on 2006-02-29 does not exist (2006 is no leap year)", "", []byte(reg(`{"registered_on":"2006-02-29"}`)), 400, "registered_on"},
		{"org code with a wrong check digit", "", []byte(reg(`{"org_code":"10000004-1"}`)), 400, "org_code"},
		{"credit code with a wrong check character", "", []byte(reg(`{"org_code":null,"credit_code":"` + string(badCredit) + `"}`)), 400, "credit_code"},
		{"unknown county 360799", "", []byte(reg(`{"county":"360799"}`)), 400, "county"},
		{"missing name", "", []byte(reg(`{"name":null}`)), 400, "name"},
		{"unknown kind", "", []byte(reg(`{"kind":"corporation"}`)), 400, "kind"},
		{"risk_class 4 is above 3", "", []byte(reg(`{"risk_class":4}`)), 400, "risk_class"},
		{"risk_class 1.5 is not whole", "", []byte(reg(`{"risk_class":1.5}`)), 400, "risk_class"},
		{"registered_on after today", "", []byte(reg(`{"registered_on":"2007-01-05"}`)), 400, "registered_on"},
		{"unknown JSON field on a registration", "", []byte(reg(`{"colour":"red"}`)), 400, "colour"},
		{"negative amount_fen", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":-5,"receipt_no":"V1"}`), 400, "amount_fen"},
		{"fractional amount_fen 12.5", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":12.5,"receipt_no":"V2"}`), 400, "amount_fen"},
		{"amount_fen given as a string", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":"100","receipt_no":"V3"}`), 400, "amount_fen"},
		{"amount_fen given as a non-numeric string", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":"abc","receipt_no":"V3b"}`), 400, "amount_fen"},
		{"risk_class given as a string", "", []byte(reg(`{"risk_class":"2"}`)), 400, "risk_class"},
		{"amount_fen given as true", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":true,"receipt_no":"V3c"}`), 400, "amount_fen"},
		{"wage_base_fen given as true names its line", "declarations", []byte(`{"declared_on":"2006-06-10","period":"2006-05","lines":[{"insurance":"pension","headcount":1,"wage_base_fen":true}]}`), 400, "lines[0].wage_base_fen"},
		{"paid_on after today", "payments", []byte(`{"paid_on":"2007-01-05","amount_fen":100,"receipt_no":"V4"}`), 400, "paid_on"},
		{"allocations add up to more than amount_fen", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":100,"receipt_no":"V5",
			"allocations":[{"insurance":"pension","period":"2006-04","amount_fen":60},{"insurance":"medical","period":"2006-04","amount_fen":41}]}`), 400, "allocations[1].amount_fen"},
		{"two allocations to one line", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":100,"receipt_no":"V5",
			"allocations":[{"insurance":"pension","period":"2006-04","amount_fen":60},{"insurance":"pension","period":"2006-04","amount_fen":40}]}`), 400, "allocations[1].period"},
		{"an allocation to a period not begun on the day of payment", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":100,"receipt_no":"V5",
			"allocations":[{"insurance":"pension","period":"2006-07","amount_fen":60}]}`), 400, "allocations[0].period"},
		{"unknown JSON field on a payment", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":100,"receipt_no":"V6","colour":"red"}`), 400, "colour"},
		{"unknown insurance in a declaration line", "declarations", []byte(`{"declared_on":"2006-06-10","period":"2006-05","lines":[{"insurance":"pensions","headcount":1,"wage_base_fen":1000}]}`), 400, "lines[0].insurance"},
		{"negative wage_base_fen", "declarations", []byte(`{"declared_on":"2006-06-10","period":"2006-05","lines":[{"insurance":"pension","headcount":1,"wage_base_fen":-1}]}`), 400, "lines[0].wage_base_fen"},
		{"period 2006-13 does not exist", "declarations", []byte(`{"declared_on":"2006-06-10","period":"2006-13","lines":[{"insurance":"pension","headcount":1,"wage_base_fen":1000}]}`), 400, "period"},
		{"invalid UTF-8 in the body", "payments", []byte("{\"paid_on\":\"2006-06-20\",\"amount_fen\":100,\"receipt_no\":\"R\xff\xfe\"}"), 400, "body"},
		{"2 MiB body", "changes", []byte(huge), 413, "body"},
		{"empty body", "payments", []byte{}, 400, "body"},
		{"whitespace-only body", "payments", []byte(" \n\t "), 400, "body"},
		{"truncated JSON", "payments", []byte(`{"paid_on":"2006-06-20","amount_fen":10`), 400, "body"},
		{"waiver without authority_doc", "waivers", []byte(`{"decided_on":"2006-08-01","kind":"late_fee","reason":"r","insurance":"pension","period":"2006-04","amount_fen":10}`), 400, "authority_doc"},
		{"principal waiver without basis", "waivers", []byte(`{"decided_on":"2006-08-01","kind":"principal","authority_doc":"赣劳社字[2006]1号","reason":"r","insurance":"pension","period":"2006-04","amount_fen":10}`), 400, "basis"},
		{"enforcement notice without deadline", "enforcement", []byte(`{"step":"notice","on":"2006-08-01","doc_no":"限改[2006]1号"}`), 400, "deadline"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			path := "/v1/employers"
			if c.path != "" {
				path = empPath(id, c.path)
			}
			r := e.do(t, req{Path: path, Body: c.body})
			kind := "invalid"
			if c.status == http.StatusRequestEntityTooLarge {
				kind = "too_large"
			}
			wantError(t, r, c.status, kind, c.field)
			e.wantUnchanged(t, before)
		})
	}
}

// A body saved by an editor that writes a byte order mark before the JSON is refused saying so,
// not as an unreadable character, and nothing is appended.
func TestABodyBeginningWithAByteOrderMarkIsRefusedSayingSo(t *testing.T) {
	e := newEnv(t)
	before := e.count()
	r := e.do(t, req{Path: "/v1/employers", Body: append([]byte("\uFEFF"), registration(orgB, "360702")...)})
	wantError(t, r, http.StatusBadRequest, "invalid", "body")
	if d := r.str("detail"); !strings.Contains(d, "byte order mark") {
		t.Errorf("the refusal says %q; want it to name the byte order mark", d)
	}
	e.wantUnchanged(t, before)
}

// A clerk who pastes an organisation code in full-width characters registers the payer under
// its ASCII code, and the same code typed in ASCII is then the same payer (DOMAIN.md: codes
// compare after NFKC normalisation).
func TestAFullWidthOrgCodeIsTheSameCode(t *testing.T) {
	e := newEnv(t)
	wide := strings.Map(func(r rune) rune { return r - '!' + '！' }, orgB) // 10000018-X as １００００１８－Ｘ
	id := e.register(t, "", " "+wide+" ", "360702")
	if r := e.get(t, "/v1/employers/"+id, ""); r.str("org_code") != orgB {
		t.Errorf("registered with org code %q, want %q: %s", r.str("org_code"), orgB, r)
	}
	before := e.count()
	wantError(t, e.post(t, "/v1/employers", "", registration(orgB, "360702")), http.StatusConflict, "conflict", "org_code")
	e.wantUnchanged(t, before)
}

func TestRulesBrokenByTheEmployersStateAnswer409AndUnknownEmployer404(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "", orgA, "360702")
	e.mustWrite(t, empPath(a, "payments"), "", paymentBody("R-1", 500, "2006-06-10"))
	e.mustWrite(t, empPath(a, "declarations"), "",
		`{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`)
	flex := e.mustWrite(t, "/v1/employers", "",
		`{"name":"张三","county":"360702","kind":"flexible","risk_class":1,"registered_on":"2006-04-03"}`).str("employer_id")
	const unknown = "0190d2a4-0000-7000-8000-000000000000"

	cases := []struct {
		name   string
		path   string
		body   string
		status int
		kind   string
		field  string
	}{
		{"a second registration of the same organisation code", "/v1/employers", registration(orgA, "360721"), 409, "conflict", "org_code"},
		{"a second registration given as a credit code holding that organisation code", "/v1/employers",
			`{"name":"同一单位","county":"360702","credit_code":"` + creditCodeOf(orgA, "360702") + `","kind":"enterprise","risk_class":2,"registered_on":"2006-05-01"}`, 409, "conflict", "org_code"},
		{"a duplicate receipt number", empPath(a, "payments"), paymentBody("R-1", 700, "2006-06-11"), 409, "conflict", "receipt_no"},
		{"an inspection before any notice", empPath(a, "enforcement"), `{"step":"inspection","on":"2006-08-01","doc_no":"检[2006]1号"}`, 409, "conflict", "step"},
		{"a payment dated before the employer's registered_on", empPath(a, "payments"), paymentBody("R-early", 100, "2006-04-02"), 409, "conflict", "paid_on"},
		{"deregistration while arrears remain", empPath(a, "deregistration"), `{"on":"2006-08-01","reason":"关闭"}`, 409, "conflict", "on"},
		{"unemployment enrollment for a flexible (individual) payer", empPath(flex, "enrollments"), `{"insurance":"unemployment","headcount":1,"effective_on":"2006-05-01"}`, 409, "conflict", "insurance"},
		{"a reversal of an unknown receipt", empPath(a, "payment-reversals"), `{"reversed_on":"2006-07-01","receipt_no":"R-404","reason":"退票"}`, 409, "conflict", "receipt_no"},
		{"a payment to an unknown employer", empPath(unknown, "payments"), paymentBody("R-1", 100, "2006-06-10"), 404, "not_found", "employer_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			wantError(t, e.post(t, c.path, "", c.body), c.status, c.kind, c.field)
			e.wantUnchanged(t, before)
		})
	}
	t.Run("a read of an unknown employer", func(t *testing.T) {
		wantError(t, e.get(t, empPath(unknown, ""), ""), 404, "not_found", "id")
		wantError(t, e.get(t, empPath(unknown, "history"), ""), 404, "not_found", "id")
	})
}

func TestTokensGateEveryRouteByRoleAndCounty(t *testing.T) {
	e := newAuthEnv(t)
	a := e.register(t, tokAdmin, orgA, "360702")
	b := e.register(t, tokAdmin, orgB, "360721")
	c := e.register(t, tokAdmin, orgCode(10000021), "360782") // group 2
	// a owes May's pension from 2006-06-16: a notice orders it paid, an inspection escalates.
	e.mustWrite(t, empPath(a, "enrollments"), tokAdmin, `{"insurance":"pension","headcount":5,"effective_on":"2006-05-01"}`)
	e.mustWrite(t, empPath(a, "declarations"), tokAdmin, `{"declared_on":"2006-06-05","period":"2006-05","lines":[{"insurance":"pension","headcount":5,"wage_base_fen":500000}]}`)
	e.mustWrite(t, empPath(a, "enforcement"), tokAdmin, `{"step":"notice","on":"2006-07-01","doc_no":"限改[2006]1号","deadline":"2006-07-31"}`)

	finding := `{"found_on":"2006-08-01","kind":"under_reported_base","period":"2006-06","insurance":"pension","extra_wage_base_fen":10000,"redeclare_by":"2006-08-31"}`
	cases := []struct {
		name   string
		method string
		path   string
		token  string
		header map[string]string
		body   string
		status int
		field  string // for errors
	}{
		{"no Authorization header is 401", "POST", "/v1/employers", "", nil, registration(orgCode(3), "360702"), 401, "Authorization"},
		{"an unknown token is 401", "POST", empPath(a, "payments"), tokUnknown, nil, paymentBody("X1", 100, "2006-06-10"), 401, "Authorization"},
		{"a non-bearer scheme is 401", "POST", empPath(a, "payments"), "", map[string]string{"Authorization": "Basic " + tokAdmin}, paymentBody("X2", 100, "2006-06-10"), 401, "Authorization"},
		{"a read without a token is 401", "GET", empPath(a, ""), "", nil, "", 401, "Authorization"},
		{"a clerk of 360702 registering in 360721 is 403 naming county", "POST", "/v1/employers", tokClerkA, nil, registration(orgCode(3), "360721"), 403, "county"},
		{"another county in full-width digits is 403 as in ASCII (the code is NFKC'd, then gated)", "POST", "/v1/employers", tokClerkA, nil, registration(orgCode(3), "３６０７２１"), 403, "county"},
		{"a clerk of 360702 paying for an employer of 360721 is 403", "POST", empPath(b, "payments"), tokClerkA, nil, paymentBody("X3", 100, "2006-06-10"), 403, ""},
		{"a clerk recording an audit finding is 403", "POST", empPath(a, "audit-findings"), tokClerkA, nil, finding, 403, ""},
		{"a clerk recording enforcement is 403", "POST", empPath(a, "enforcement"), tokClerkA, nil, `{"step":"inspection","on":"2006-08-02","doc_no":"检1"}`, 403, ""},
		{"an auditor registering an employer is 403", "POST", "/v1/employers", tokAuditor, nil, registration(orgCode(3), "360702"), 403, ""},
		{"an auditor recording a payment is 403", "POST", empPath(a, "payments"), tokAuditor, nil, paymentBody("X4", 100, "2006-06-10"), 403, ""},
		{"a supervisor registering an employer is 403", "POST", "/v1/employers", tokSuper, nil, registration(orgCode(3), "360702"), 403, ""},
		{"a supervisor recording a payment is 403", "POST", empPath(a, "payments"), tokSuper, nil, paymentBody("X5", 100, "2006-06-10"), 403, ""},
		{"a supervisor recording enforcement is 403", "POST", empPath(a, "enforcement"), tokSuper, nil, `{"step":"inspection","on":"2006-08-02","doc_no":"检2"}`, 403, ""},
		{"a supervisor recording an audit finding is 403", "POST", empPath(a, "audit-findings"), tokSuper, nil, finding, 403, ""},
		{"a clerk reading an employer of another county is 403", "GET", empPath(b, ""), tokClerkA, nil, "", 403, ""},
		{"a clerk reading the history of an employer of another county is 403", "GET", empPath(b, "history"), tokClerkA, nil, "", 403, ""},
		{"a supervisor reading an employer outside its groups' counties is 403", "GET", empPath(c, ""), tokSuper, nil, "", 403, ""},
		{"a supervisor reading an employer of its groups' counties is 200", "GET", empPath(a, ""), tokSuper, nil, "", 200, ""},
		{"a clerk reading an employer of its county is 200", "GET", empPath(a, ""), tokClerkA, nil, "", 200, ""},
		{"an auditor reading any employer is 200", "GET", empPath(b, "history"), tokAuditor, nil, "", 200, ""},
		{"a clerk paying for an employer of its county is 201", "POST", empPath(a, "payments"), tokClerkA, nil, paymentBody("OK1", 100, "2006-06-10"), 201, ""},
		{"an auditor recording enforcement after a notice is 201", "POST", empPath(a, "enforcement"), tokAuditor, nil, `{"step":"inspection","on":"2006-08-02","doc_no":"检3"}`, 201, ""},
		{"an auditor recording an audit finding is 201", "POST", empPath(b, "audit-findings"), tokAuditor, nil, finding, 201, ""},
		{"a token_sha256 entry authenticates its clerk", "POST", empPath(a, "payments"), tokHashed, nil, paymentBody("OK2", 100, "2006-06-10"), 201, ""},
		{"a token_sha256 entry is scoped to its counties", "POST", empPath(b, "payments"), tokHashed, nil, paymentBody("X6", 100, "2006-06-10"), 403, ""},
		{"a clerk registering in its county is 201", "POST", "/v1/employers", tokClerkB, nil, registration(orgCode(3), "360721"), 201, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			q := req{Method: c.method, Path: c.path, Token: c.token, Header: c.header}
			if c.body != "" {
				q.Body = []byte(c.body)
			}
			r := e.do(t, q)
			switch c.status {
			case 401:
				wantError(t, r, 401, "unauthorized", c.field)
				if r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 without WWW-Authenticate")
				}
			case 403:
				wantError(t, r, 403, "forbidden", c.field)
			case 400:
				wantError(t, r, 400, "invalid", c.field)
			case 404:
				wantError(t, r, 404, "not_found", c.field)
			default:
				if r.Status != c.status {
					t.Fatalf("%s, want %d", r, c.status)
				}
			}
			want := before
			if c.status == 201 {
				want = before + 1
			}
			if got := e.count(); got != want {
				t.Errorf("the stream holds %d messages after the request, want %d", got, want)
			}
		})
	}
}

func TestIdempotencyKeyAnswersTheFirstResultAcrossARestart(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "", orgA, "360702")
	path := empPath(a, "payments")
	key := map[string]string{"Idempotency-Key": "pay-1"}
	bodies := []string{
		`{"paid_on":"2006-06-10","amount_fen":5000,"receipt_no":"R-1","allocations":[{"insurance":"pension","period":"2006-04","amount_fen":100}]}`,
		"{ \"receipt_no\" : \"R-1\",\n  \"allocations\": [ {\"amount_fen\":100, \"period\":\"2006-04\", \"insurance\":\"pension\"} ],\n  \"amount_fen\": 5000, \"paid_on\": \"2006-06-10\" }\n",
		"\t{\"amount_fen\":5000,\"paid_on\":\"2006-06-10\",\"allocations\":[{\"period\":\"2006-04\",\"insurance\":\"pension\",\"amount_fen\":100}],\"receipt_no\":\"R-1\"}  ",
	}
	before := e.count()
	first := e.do(t, req{Path: path, Body: []byte(bodies[0]), Header: key})
	if first.Status != 201 || first.JSON["duplicate"] != nil {
		t.Fatalf("first request: %s, want 201 without duplicate", first)
	}
	same := func(t *testing.T, r resp) {
		t.Helper()
		if r.Status != 200 || r.JSON["duplicate"] != true {
			t.Fatalf("retry: %s, want 200 with \"duplicate\": true", r)
		}
		if fmt.Sprint(r.JSON["event_ids"]) != fmt.Sprint(first.JSON["event_ids"]) || r.num("seq") != first.num("seq") ||
			r.num("version") != first.num("version") || r.str("employer_id") != a {
			t.Fatalf("retry answered %s, want the first result %s", r, first)
		}
	}
	same(t, e.do(t, req{Path: path, Body: []byte(bodies[1]), Header: key}))
	e.restart()
	same(t, e.do(t, req{Path: path, Body: []byte(bodies[2]), Header: key}))
	if got := e.count(); got != before+1 {
		t.Fatalf("three requests with one key appended %d messages, want 1", got-before)
	}

	t.Run("a stale If-Match on a retry still gets the stored result", func(t *testing.T) {
		e.mustWrite(t, path, "", paymentBody("R-2", 100, "2006-06-11"))
		h := map[string]string{"Idempotency-Key": "pay-1", "If-Match": fmt.Sprintf(`"%d"`, first.num("version"))}
		n := e.count()
		same(t, e.do(t, req{Path: path, Body: []byte(bodies[0]), Header: h}))
		e.wantUnchanged(t, n)
	})
	t.Run("the same key with another body is 422", func(t *testing.T) {
		n := e.count()
		r := e.do(t, req{Path: path, Body: []byte(paymentBody("R-1", 5001, "2006-06-10")), Header: key})
		wantError(t, r, 422, "idempotency_mismatch", "Idempotency-Key")
		e.wantUnchanged(t, n)
	})
	t.Run("the same key and body on another route is 422", func(t *testing.T) {
		n := e.count()
		r := e.do(t, req{Path: empPath(a, "payment-reversals"), Body: []byte(`{"reversed_on":"2006-07-01","receipt_no":"R-1","reason":"x"}`), Header: key})
		wantError(t, r, 422, "idempotency_mismatch", "Idempotency-Key")
		e.wantUnchanged(t, n)
	})
	t.Run("a registration retried with its key answers the first employer", func(t *testing.T) {
		h := map[string]string{"Idempotency-Key": "reg-B"}
		n := e.count()
		r1 := e.do(t, req{Path: "/v1/employers", Body: []byte(registration(orgB, "360721")), Header: h})
		r2 := e.do(t, req{Path: "/v1/employers", Body: []byte(registration(orgB, "360721")), Header: h})
		if r1.Status != 201 || r2.Status != 200 || r2.JSON["duplicate"] != true || r1.str("employer_id") != r2.str("employer_id") || r1.num("seq") != r2.num("seq") {
			t.Fatalf("first %s, retry %s: want 201 then 200 duplicate of the same employer", r1, r2)
		}
		if got := e.count(); got != n+1 {
			t.Fatalf("appended %d messages, want 1", got-n)
		}
	})

	refused := []struct {
		name   string
		path   string
		bad    string
		status int
		field  string
		good   string
	}{
		{"a 400 body error (unparseable)", path, `{"paid_on":"2006-06-12","amount_fen":`, 400, "body", paymentBody("R-3", 100, "2006-06-12")},
		{"a 400 field error", path, paymentBody("R-4", -100, "2006-06-12"), 400, "amount_fen", paymentBody("R-4", 100, "2006-06-12")},
		{"a 409 rule", path, paymentBody("R-1", 100, "2006-06-12"), 409, "receipt_no", paymentBody("R-5", 100, "2006-06-12")},
		{"a 400 registration", "/v1/employers", registration("10000004-1", "360702"), 400, "org_code", registration(orgCode(3), "360702")},
	}
	for i, c := range refused {
		t.Run("a refused request does not use up its key: "+c.name, func(t *testing.T) {
			h := map[string]string{"Idempotency-Key": fmt.Sprintf("refused-%d", i)}
			n := e.count()
			r := e.do(t, req{Path: c.path, Body: []byte(c.bad), Header: h})
			kind := map[int]string{400: "invalid", 409: "conflict"}[c.status]
			wantError(t, r, c.status, kind, c.field)
			e.wantUnchanged(t, n)
			if r := e.do(t, req{Path: c.path, Body: []byte(c.good), Header: h}); r.Status != 201 {
				t.Fatalf("the same key with a valid body: %s, want 201", r)
			}
			if got := e.count(); got != n+1 {
				t.Fatalf("appended %d messages, want 1", got-n)
			}
		})
	}
}

func TestIfMatchRefusesAStaleVersionWith412(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "", orgA, "360702")
	g := e.get(t, empPath(a, ""), "")
	if g.Status != 200 {
		t.Fatalf("GET: %s", g)
	}
	etag := g.Header.Get("ETag")
	if want := fmt.Sprintf(`"%d"`, g.num("version")); etag != want || g.num("version") <= 0 {
		t.Fatalf("ETag %q, want %q (the version in the body)", etag, want)
	}
	ok := e.do(t, req{Path: empPath(a, "payments"), Body: []byte(paymentBody("R-1", 100, "2006-06-10")), Header: map[string]string{"If-Match": etag}})
	if ok.Status != 201 {
		t.Fatalf("payment with the current If-Match: %s, want 201", ok)
	}
	if ok.num("version") <= g.num("version") || ok.Header.Get("ETag") != fmt.Sprintf(`"%d"`, ok.num("version")) {
		t.Fatalf("answer %s with ETag %q: want a newer version as ETag", ok, ok.Header.Get("ETag"))
	}
	n := e.count()
	r := e.do(t, req{Path: empPath(a, "payments"), Body: []byte(paymentBody("R-2", 100, "2006-06-10")), Header: map[string]string{"If-Match": etag}})
	wantError(t, r, 412, "stale", "If-Match")
	e.wantUnchanged(t, n)
	for _, bad := range []string{`"abc"`, `"-1"`, `*x`} {
		t.Run("malformed If-Match "+bad, func(t *testing.T) {
			r := e.do(t, req{Path: empPath(a, "payments"), Body: []byte(paymentBody("R-3", 100, "2006-06-10")), Header: map[string]string{"If-Match": bad}})
			wantError(t, r, 400, "invalid", "If-Match")
			e.wantUnchanged(t, n)
		})
	}
	if g2 := e.get(t, empPath(a, ""), ""); g2.Header.Get("ETag") != ok.Header.Get("ETag") {
		t.Fatalf("after refused writes the employer's ETag is %s, want %s", g2.Header.Get("ETag"), ok.Header.Get("ETag"))
	}
}

func TestTwoClientsRacingOnOneEmployerLoseNoPayment(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "", orgA, "360702")
	before := e.count()
	var wg sync.WaitGroup
	versions := make([][]int64, 2)
	errs := make(chan string, 20)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 10 {
				body := []byte(paymentBody(fmt.Sprintf("W%d-%02d", w, k), 100, "2006-06-10"))
				r := e.do(t, req{Path: empPath(a, "payments"), Body: body})
				if r.Status != 201 {
					errs <- fmt.Sprintf("client %d payment %d: %s", w, k, r)
					continue
				}
				versions[w] = append(versions[w], r.num("version"))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	seen := map[int64]bool{}
	for w, vs := range versions {
		for i, v := range vs {
			if i > 0 && v <= vs[i-1] {
				t.Errorf("client %d: versions %v do not strictly increase", w, vs)
			}
			if seen[v] {
				t.Errorf("version %d answered twice", v)
			}
			seen[v] = true
		}
	}
	if got := e.count(); got != before+20 {
		t.Errorf("20 payments appended %d messages", got-before)
	}
	g := e.get(t, empPath(a, "")+"?as_of=2006-12-31", "")
	totals, _ := g.JSON["totals"].(map[string]any)
	if fmt.Sprint(totals["credit_fen"]) != "2000" || fmt.Sprint(totals["paid_fen"]) != "0" {
		t.Errorf("totals %v, want credit_fen 2000 (20 × 100 fen, nothing due) and paid_fen 0", totals)
	}
	if g.num("version") != int64(before+20) {
		t.Errorf("version %d, want %d", g.num("version"), before+20)
	}
}

func TestWritesAnswer201WithTheirEventsAndReadsShowTheBalances(t *testing.T) {
	e := newEnv(t)
	if r := e.get(t, "/healthz", ""); r.Status != 200 {
		t.Fatalf("GET /healthz: %s", r)
	}
	reg := e.mustWrite(t, "/v1/employers", "", registration(orgA, "360724"))
	a := reg.str("employer_id")
	decl := e.mustWrite(t, empPath(a, "declarations"), "",
		`{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":5,"wage_base_fen":1234567}]}`)
	pay := e.mustWrite(t, empPath(a, "payments"), "", paymentBody("R-1", 100000, "2006-06-20"))
	for i, r := range []resp{reg, decl, pay} {
		ids, _ := r.JSON["event_ids"].([]any)
		if r.str("employer_id") != a || len(ids) == 0 || r.num("seq") <= 0 || r.num("version") != r.num("seq") {
			t.Errorf("write %d answered %s: want employer_id, non-empty event_ids, seq and version", i, r)
		}
		if r.Header.Get("X-Ledger-Seq") == "" {
			t.Errorf("write %d: no X-Ledger-Seq", i)
		}
	}
	if !(reg.num("seq") < decl.num("seq") && decl.num("seq") < pay.num("seq")) {
		t.Errorf("seqs %d, %d, %d do not increase", reg.num("seq"), decl.num("seq"), pay.num("seq"))
	}

	g := e.get(t, empPath(a, "")+"?as_of=2006-08-31", "")
	if g.Status != 200 || g.Header.Get("X-Ledger-Seq") == "" || g.Header.Get("ETag") != fmt.Sprintf(`"%d"`, pay.num("version")) {
		t.Fatalf("GET employer: %s, ETag %q", g, g.Header.Get("ETag"))
	}
	if g.str("as_of") != "2006-08-31" || g.str("county") != "360724" || g.str("enforcement_stage") != "none" || g.num("version") != pay.num("version") {
		t.Errorf("employer %s: want as_of 2006-08-31, county 360724, stage none, version %d", g.Raw, pay.num("version"))
	}
	want := map[string]string{"due_fen": "345679", "paid_fen": "100000", "outstanding_fen": "245679", "late_fee_fen": "60067"}
	lines, _ := g.JSON["lines"].([]any)
	if len(lines) != 1 {
		t.Fatalf("lines %v, want one line (2006-04 pension)", lines)
	}
	line := lines[0].(map[string]any)
	if line["period"] != "2006-04" || line["insurance"] != "pension" || line["due_date"] != "2006-05-15" {
		t.Errorf("line %v: want 2006-04 pension due 2006-05-15", line)
	}
	totals, _ := g.JSON["totals"].(map[string]any)
	for k, v := range want {
		if fmt.Sprint(line[k]) != v {
			t.Errorf("line %s = %v, want %s", k, line[k], v)
		}
		if fmt.Sprint(totals[k]) != v {
			t.Errorf("totals %s = %v, want %s", k, totals[k], v)
		}
	}
	if fmt.Sprint(totals["arrears_current_year_fen"]) != "245679" || fmt.Sprint(totals["credit_fen"]) != "0" {
		t.Errorf("totals %v: want arrears_current_year_fen 245679, credit_fen 0", totals)
	}

	h := e.get(t, empPath(a, "history"), "")
	if h.Status != 200 || h.JSON["chain_ok"] != true || h.Header.Get("X-Ledger-Seq") == "" {
		t.Fatalf("history: %s", h)
	}
	evs, _ := h.JSON["events"].([]any)
	wantTypes := []string{"employer.registered", "declaration.filed", "payment.received"}
	wantSeqs := []int64{reg.num("seq"), decl.num("seq"), pay.num("seq")}
	if len(evs) != len(wantTypes) {
		t.Fatalf("history has %d events, want %d: %s", len(evs), len(wantTypes), h.Raw)
	}
	// Reads of an employer send its version as ETag (API.md), a history's whatever its cut.
	for _, path := range []string{empPath(a, "history"), empPath(a, "history") + fmt.Sprintf("?through_seq=%d", decl.num("seq"))} {
		if h := e.get(t, path, ""); h.Header.Get("ETag") != fmt.Sprintf(`"%d"`, pay.num("version")) {
			t.Errorf("%s: ETag %q, want the employer's version %d", path, h.Header.Get("ETag"), pay.num("version"))
		}
	}
	for i, x := range evs {
		ev := x.(map[string]any)
		seq, _ := ev["seq"].(json.Number).Int64()
		hash, _ := ev["hash"].(string)
		if ev["type"] != wantTypes[i] || seq != wantSeqs[i] || hash == "" || ev["chain_ok"] != true {
			t.Errorf("event %d: %v, want type %s, seq %d, a hash and chain_ok true", i, ev, wantTypes[i], wantSeqs[i])
		}
	}
}
