package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api"
)

// wantHostileError checks the answer to a hostile request: the wanted 4xx status, the JSON error
// shape {error, field, detail} with a non-empty error and detail, and the field named as wanted
// (any of fields; the first is the one the contract asks for).
func wantHostileError(t testing.TB, r resp, status int, fields ...string) {
	t.Helper()
	if r.Status < 400 || r.Status > 499 {
		t.Errorf("status %d, want a 4xx (%d): %s", r.Status, status, r.Raw)
		return
	}
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q, want application/json: %s", r.Header.Get("Content-Type"), r.Raw)
	}
	var body struct {
		Error  *string `json:"error"`
		Field  *string `json:"field"`
		Detail *string `json:"detail"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil || body.Error == nil || *body.Error == "" || body.Detail == nil || *body.Detail == "" {
		t.Errorf("not the {error, field, detail} shape: %s", r.Raw)
		return
	}
	got := ""
	if body.Field != nil {
		got = *body.Field
	}
	for _, f := range fields {
		if got == f {
			return
		}
	}
	t.Errorf("field %q, want %q: %s", got, fields[0], r.Raw)
}

// hostile is one malformed or hostile request. Its path may hold {id} (a real employer of 360702).
type hostile struct {
	name   string
	method string // default POST
	path   string
	body   string
	header map[string]string
	status int
	fields []string // the field the error must name (the first is the contract's; more are tolerated)
}

func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

// TestHostileRequestsAreRefusedWithoutAppending sends malformed and hostile requests to the write
// routes and a few reads: each must answer its 4xx with the {error, field, detail} shape naming
// the field, and append nothing.
func TestHostileRequestsAreRefusedWithoutAppending(t *testing.T) {
	e := newReadEnv(t, today)
	id := e.register(t, tokAdmin, orgA, "360702")
	e.mustWrite(t, empPath(id, "declarations"), tokAdmin,
		`{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`)
	e.mustWrite(t, empPath(id, "enforcement"), tokAdmin, `{"step":"notice","on":"2006-07-01","doc_no":"限改[2006]9号","deadline":"2006-07-31"}`)
	// A first write with a key, replayed below with another body.
	if r := e.do(t, req{Path: empPath(id, "payments"), Token: tokAdmin, Body: []byte(paymentBody("K-1", 100, "2006-06-20")),
		Header: map[string]string{"Idempotency-Key": "hostile-key-1"}}); r.Status != http.StatusCreated {
		t.Fatalf("first keyed payment: %s", r)
	}

	pay := func(fields string) string {
		return `{"paid_on":"2006-06-20","amount_fen":100,"receipt_no":"H-R",` + fields + `}`
	}
	payWith := func(field, value string) string {
		base := map[string]string{"paid_on": `"2006-06-20"`, "amount_fen": "100", "receipt_no": `"H-R"`}
		base[field] = value
		return fmt.Sprintf(`{"paid_on":%s,"amount_fen":%s,"receipt_no":%s}`, base["paid_on"], base["amount_fen"], base["receipt_no"])
	}
	decl := func(period, line string) string {
		return fmt.Sprintf(`{"declared_on":"2006-06-10","period":%s,"lines":%s}`, period, line)
	}
	nextOrg := 77100000
	regWith := func(field, value string) string {
		nextOrg++ // a fresh organisation code each, so that a wrongly accepted one does not mask the next
		m := map[string]string{"name": `"单位 H"`, "county": `"360702"`, "org_code": fmt.Sprintf("%q", orgCode(nextOrg)),
			"kind": `"enterprise"`, "risk_class": "1", "registered_on": `"2006-04-03"`}
		m[field] = value
		var b strings.Builder
		b.WriteString("{")
		first := true
		for _, k := range []string{"name", "county", "org_code", "kind", "risk_class", "registered_on", "in_industrial_park"} {
			v, ok := m[k]
			if !ok {
				continue
			}
			if !first {
				b.WriteString(",")
			}
			first = false
			fmt.Fprintf(&b, "%q:%s", k, v)
		}
		b.WriteString("}")
		return b.String()
	}
	finding := func(redeclareBy string) string {
		return `{"found_on":"2006-08-01","kind":"under_reported_base","period":"2006-06","insurance":"pension","extra_wage_base_fen":10000,"redeclare_by":` + redeclareBy + `}`
	}

	// 100,000 declaration lines in well under 1 MiB.
	manyLines := "[" + strings.TrimSuffix(strings.Repeat("{},", 100000), ",") + "]"
	if n := len(decl(`"2006-05"`, manyLines)); n >= api.MaxBody {
		t.Fatalf("the 100,000-line declaration is %d bytes, not within 1 MiB", n)
	}
	twoMiB := `{"paid_on":"2006-06-20","amount_fen":100,"receipt_no":"` + strings.Repeat("x", 2<<20) + `"}`
	tenKB := strings.Repeat("k", 10<<10)

	cases := []hostile{
		// Wrong JSON types, field by field.
		{name: "name is a number", path: "/v1/employers", body: regWith("name", "123"), status: 400, fields: []string{"name"}},
		{name: "county is a number", path: "/v1/employers", body: regWith("county", "360702"), status: 400, fields: []string{"county"}},
		{name: "in_industrial_park is a string", path: "/v1/employers", body: regWith("in_industrial_park", `"yes"`), status: 400, fields: []string{"in_industrial_park"}},
		{name: "org_code is a list", path: "/v1/employers", body: regWith("org_code", `["10000004-0"]`), status: 400, fields: []string{"org_code"}},
		{name: "registered_on is a number", path: "/v1/employers", body: regWith("registered_on", "20060403"), status: 400, fields: []string{"registered_on"}},
		{name: "receipt_no is a number", path: "{id}/payments", body: payWith("receipt_no", "7"), status: 400, fields: []string{"receipt_no"}},
		{name: "allocations is an object", path: "{id}/payments", body: pay(`"allocations":{}`), status: 400, fields: []string{"allocations"}},
		{name: "allocations[0].period is a number", path: "{id}/payments", body: pay(`"allocations":[{"insurance":"pension","period":200605,"amount_fen":1}]`), status: 400, fields: []string{"allocations[0].period"}},
		{name: "declaration lines is a string", path: "{id}/declarations", body: decl(`"2006-05"`, `"pension"`), status: 400, fields: []string{"lines"}},
		{name: "a declaration line is a number", path: "{id}/declarations", body: decl(`"2006-05"`, `[1]`), status: 400, fields: []string{"lines[0]"}},
		{name: "headcount is a string", path: "{id}/enrollments", body: `{"insurance":"pension","headcount":"3","effective_on":"2006-05-01"}`, status: 400, fields: []string{"headcount"}},
		{name: "a change's name is a number", path: "{id}/changes", body: `{"on":"2006-06-01","name":5}`, status: 400, fields: []string{"name"}},
		{name: "workforce is an object", path: "{id}/surveys", body: `{"as_of":"2006-06-01","workforce":{}}`, status: 400, fields: []string{"workforce"}},
		{name: "valid_through is a number", path: "/v1/freezes", body: `{"valid_through":20061130}`, status: 400, fields: []string{"valid_through"}},
		{name: "through_seq is a string", path: "/v1/freezes", body: `{"valid_through":"2006-11-30","through_seq":"5"}`, status: 400, fields: []string{"through_seq"}},
		{name: "daily_bp is a string", path: "/v1/reference/late-fee-rates", body: `{"effective_from":"2006-12-01","daily_bp":"5"}`, status: 400, fields: []string{"daily_bp"}},
		{name: "due_day is true", path: "/v1/reference/settings", body: `{"effective_from":"2006-12-01","due_day":true}`, status: 400, fields: []string{"due_day"}},

		// Numbers beyond int64.
		{name: "amount_fen 9223372036854775808", path: "{id}/payments", body: payWith("amount_fen", "9223372036854775808"), status: 400, fields: []string{"amount_fen"}},
		{name: "amount_fen 1e400", path: "{id}/payments", body: payWith("amount_fen", "1e400"), status: 400, fields: []string{"amount_fen"}},
		{name: "wage_base_fen 9223372036854775808", path: "{id}/declarations", body: decl(`"2006-05"`, `[{"insurance":"pension","headcount":1,"wage_base_fen":9223372036854775808}]`), status: 400, fields: []string{"lines[0].wage_base_fen"}},
		{name: "risk_class 1e400", path: "/v1/employers", body: regWith("risk_class", "1e400"), status: 400, fields: []string{"risk_class"}},
		{name: "through_seq 1e400", path: "/v1/freezes", body: `{"valid_through":"2006-11-30","through_seq":1e400}`, status: 400, fields: []string{"through_seq"}},
		{name: "due_day 9223372036854775808", path: "/v1/reference/settings", body: `{"effective_from":"2006-12-01","due_day":9223372036854775808}`, status: 400, fields: []string{"due_day"}},
		{name: "monthly_fen 9223372036854775808", path: "/v1/reference/average-wage", body: `{"effective_from":"2006-12-01","monthly_fen":9223372036854775808}`, status: 400, fields: []string{"monthly_fen"}},

		// Fen that are not whole numbers.
		{name: "amount_fen 12.5", path: "{id}/payments", body: payWith("amount_fen", "12.5"), status: 400, fields: []string{"amount_fen"}},
		{name: "amount_fen -1", path: "{id}/payments", body: payWith("amount_fen", "-1"), status: 400, fields: []string{"amount_fen"}},
		{name: `amount_fen "12"`, path: "{id}/payments", body: payWith("amount_fen", `"12"`), status: 400, fields: []string{"amount_fen"}},
		{name: "amount_fen true", path: "{id}/payments", body: payWith("amount_fen", "true"), status: 400, fields: []string{"amount_fen"}},
		{name: "monthly_fen 12.5", path: "/v1/reference/average-wage", body: `{"effective_from":"2006-12-01","monthly_fen":12.5}`, status: 400, fields: []string{"monthly_fen"}},

		// Dates and periods that do not exist or are not YYYY-MM-DD / YYYY-MM.
		{name: "paid_on 2006-04-31", path: "{id}/payments", body: payWith("paid_on", `"2006-04-31"`), status: 400, fields: []string{"paid_on"}},
		{name: "paid_on 2006-02-29", path: "{id}/payments", body: payWith("paid_on", `"2006-02-29"`), status: 400, fields: []string{"paid_on"}},
		{name: "paid_on 2006-13-01", path: "{id}/payments", body: payWith("paid_on", `"2006-13-01"`), status: 400, fields: []string{"paid_on"}},
		{name: "paid_on 06-04-01", path: "{id}/payments", body: payWith("paid_on", `"06-04-01"`), status: 400, fields: []string{"paid_on"}},
		{name: "paid_on 2006-4-1", path: "{id}/payments", body: payWith("paid_on", `"2006-4-1"`), status: 400, fields: []string{"paid_on"}},
		{name: "paid_on empty", path: "{id}/payments", body: payWith("paid_on", `""`), status: 400, fields: []string{"paid_on"}},
		{name: "deadline 2006-4-1", path: "{id}/enforcement", body: `{"step":"notice","on":"2006-08-01","doc_no":"限改1","deadline":"2006-4-1"}`, status: 400, fields: []string{"deadline"}},
		{name: "redeclare_by 2006-13-01", path: "{id}/audit-findings", body: finding(`"2006-13-01"`), status: 400, fields: []string{"redeclare_by"}},
		{name: "extra_headcount on an under_reported_base finding", path: "{id}/audit-findings", body: `{"found_on":"2006-08-01","kind":"under_reported_base","period":"2006-06","insurance":"pension","extra_wage_base_fen":10000,"extra_headcount":3,"redeclare_by":"2006-08-31"}`, status: 400, fields: []string{"extra_headcount"}},
		{name: "extra_wage_base_fen on an unregistered finding", path: "{id}/audit-findings", body: `{"found_on":"2006-08-01","kind":"unregistered","period":"2006-06","insurance":"pension","extra_wage_base_fen":10000,"redeclare_by":"2006-08-31"}`, status: 400, fields: []string{"extra_wage_base_fen"}},
		{name: "valid_through 2006-04-31", path: "/v1/freezes", body: `{"valid_through":"2006-04-31"}`, status: 400, fields: []string{"valid_through"}},
		{name: "effective_from 2006-02-29", path: "/v1/reference/late-fee-rates", body: `{"effective_from":"2006-02-29","daily_bp":5}`, status: 400, fields: []string{"effective_from"}},
		{name: "period 2006-00", path: "{id}/declarations", body: decl(`"2006-00"`, `[{"insurance":"pension","headcount":1,"wage_base_fen":1000}]`), status: 400, fields: []string{"period"}},
		{name: "period 2006-13", path: "{id}/declarations", body: decl(`"2006-13"`, `[{"insurance":"pension","headcount":1,"wage_base_fen":1000}]`), status: 400, fields: []string{"period"}},
		{name: "waiver period 2006-00", path: "{id}/waivers", body: `{"decided_on":"2006-08-01","kind":"late_fee","authority_doc":"文1","reason":"r","insurance":"pension","period":"2006-00","amount_fen":1}`, status: 400, fields: []string{"period"}},

		// Unknown fields.
		{name: "unknown top-level field", path: "{id}/payments", body: pay(`"colour":"red"`), status: 400, fields: []string{"colour"}},
		{name: "unknown field in a freeze", path: "/v1/freezes", body: `{"valid_thru":"2006-11-30"}`, status: 400, fields: []string{"valid_thru"}},
		{name: "unknown field in reference data", path: "/v1/reference/average-wage", body: `{"effective_from":"2006-12-01","monthly_fen":100000,"extra":1}`, status: 400, fields: []string{"extra"}},
		// The contract asks for a path; the decoder only gives the name. Either names it.
		{name: "unknown field inside a list", path: "{id}/payments", body: pay(`"allocations":[{"insurance":"pension","period":"2006-04","amount_fen":1,"note":"x"}]`), status: 400, fields: []string{"allocations[0].note", "note"}},

		// Huge and deep JSON.
		{name: "a declaration of 100,000 lines", path: "{id}/declarations", body: decl(`"2006-05"`, manyLines), status: 400, fields: []string{"lines[0].insurance"}},
		{name: "10,000 nested lists", path: "/v1/employers", body: nested("[", "]", 10000), status: 400, fields: []string{"body"}},
		{name: "10,001 nested objects (beyond the decoder's depth)", path: "{id}/payments", body: strings.Repeat(`{"a":`, 10000) + "{}" + strings.Repeat("}", 10000), status: 400, fields: []string{"body", "a"}},
		{name: "100,001 nested lists (beyond the decoder's depth)", path: "{id}/payments", body: nested("[", "]", 100001), status: 400, fields: []string{"body"}},
		{name: "10,000 unclosed lists", path: "/v1/reference/rates", body: strings.Repeat("[", 10000), status: 400, fields: []string{"body"}},

		// Names that are not plain text, or too long.
		{name: "a NUL in a name", path: "/v1/employers", body: regWith("name", `"单位\u0000H"`), status: 400, fields: []string{"name"}},
		{name: "a right-to-left override in a name", path: "/v1/employers", body: regWith("name", `"单位\u202eH"`), status: 400, fields: []string{"name"}},
		{name: "a 10 KB name", path: "/v1/employers", body: regWith("name", `"`+tenKB+`"`), status: 400, fields: []string{"name"}},
		{name: "a 10 KB name in a change", path: "{id}/changes", body: `{"on":"2006-06-01","name":"` + tenKB + `"}`, status: 400, fields: []string{"name"}},
		{name: "a NUL in a receipt number", path: "{id}/payments", body: payWith("receipt_no", `"R\u0000"`), status: 400, fields: []string{"receipt_no"}},

		// Bytes that are not UTF-8, bodies too large, of the wrong type or shape.
		{name: "invalid UTF-8 in a name", path: "/v1/employers", body: regWith("name", "\"\xff\xfe\""), status: 400, fields: []string{"body", "name"}},
		{name: "a 2 MiB payment", path: "{id}/payments", body: twoMiB, status: 413, fields: []string{"body"}},
		{name: "a 2 MiB freeze", path: "/v1/freezes", body: twoMiB, status: 413, fields: []string{"body"}},
		{name: "a 2 MiB rate table", path: "/v1/reference/rates", body: twoMiB, status: 413, fields: []string{"body"}},
		// A JSON body sent as text/plain or a form is what a cross-site form can send without a
		// preflight: it must not be taken as JSON.
		{name: "valid JSON sent as text/plain", path: "{id}/payments", body: paymentBody("CT-1", 100, "2006-06-20"), header: map[string]string{"Content-Type": "text/plain"}, status: 415, fields: []string{"Content-Type"}},
		{name: "valid JSON sent as a form", path: "{id}/payments", body: paymentBody("CT-2", 100, "2006-06-20"), header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415, fields: []string{"Content-Type"}},
		{name: "empty body", path: "{id}/payments", body: "", status: 400, fields: []string{"body"}},
		{name: "a JSON list", path: "{id}/payments", body: `[]`, status: 400, fields: []string{"body"}},
		{name: "a JSON string", path: "/v1/employers", body: `"hello"`, status: 400, fields: []string{"body"}},
		{name: "JSON null", path: "{id}/payments", body: `null`, status: 400, fields: []string{"paid_on"}},
		{name: "two JSON values", path: "/v1/freezes", body: `{"valid_through":"2006-11-30"}{}`, status: 400, fields: []string{"body"}},
		{name: "garbage after the value", path: "{id}/payments", body: paymentBody("G-1", 100, "2006-06-20") + " x", status: 400, fields: []string{"body"}},

		// Headers.
		{name: "a 10 KB Idempotency-Key on a payment", path: "{id}/payments", body: paymentBody("IK-1", 100, "2006-06-20"), header: map[string]string{"Idempotency-Key": tenKB}, status: 400, fields: []string{"Idempotency-Key"}},
		{name: "a 10 KB Idempotency-Key on a registration", path: "/v1/employers", body: registration(orgCode(77000002), "360702"), header: map[string]string{"Idempotency-Key": tenKB}, status: 400, fields: []string{"Idempotency-Key"}},
		{name: "a 10 KB Idempotency-Key on reference data", path: "/v1/reference/late-fee-rates", body: `{"effective_from":"2006-12-01","daily_bp":5}`, header: map[string]string{"Idempotency-Key": tenKB}, status: 400, fields: []string{"Idempotency-Key"}},
		{name: "If-Match garbage", path: "{id}/payments", body: paymentBody("IM-1", 100, "2006-06-20"), header: map[string]string{"If-Match": "garbage"}, status: 400, fields: []string{"If-Match"}},
		{name: "If-Match negative", path: "{id}/payments", body: paymentBody("IM-2", 100, "2006-06-20"), header: map[string]string{"If-Match": `"-1"`}, status: 400, fields: []string{"If-Match"}},
		{name: "If-Match beyond uint64", path: "{id}/payments", body: paymentBody("IM-3", 100, "2006-06-20"), header: map[string]string{"If-Match": `"18446744073709551616"`}, status: 400, fields: []string{"If-Match"}},
		{name: "a replayed Idempotency-Key with another body", path: "{id}/payments", body: paymentBody("K-2", 100, "2006-06-20"), header: map[string]string{"Idempotency-Key": "hostile-key-1"}, status: 422, fields: []string{"Idempotency-Key"}},

		// Path ids that are not employers.
		{name: "an id that is not a UUID", path: "/v1/employers/not-a-uuid/payments", body: paymentBody("P-1", 100, "2006-06-20"), status: 404, fields: []string{"employer_id"}},
		{name: "an id of ../../etc/passwd", path: "/v1/employers/..%2F..%2Fetc%2Fpasswd/payments", body: paymentBody("P-2", 100, "2006-06-20"), status: 404, fields: []string{"employer_id"}},
		{name: "an id that is a NATS wildcard *", path: "/v1/employers/%2A/payments", body: paymentBody("P-3", 100, "2006-06-20"), status: 404, fields: []string{"employer_id"}},
		{name: "an id that is a NATS wildcard >", path: "/v1/employers/%3E/deregistration", body: `{"on":"2006-08-01","reason":"x"}`, status: 404, fields: []string{"employer_id"}},
		{name: "an id with subject dots", path: "/v1/employers/a.b.c/audit-findings", body: finding(`"2006-08-31"`), status: 404, fields: []string{"employer_id"}},
		// The mux cleans a path holding /../ with a redirect; what is finally answered is a 404.
		{name: "a raw ../ in the path", path: "/v1/employers/" + "x/../../employers/zz/payments", body: paymentBody("P-4", 100, "2006-06-20"), status: 404, fields: []string{"employer_id", "id"}},
		{name: "an unknown reference kind", path: "/v1/reference/..%2Fsecrets", body: `{}`, status: 404, fields: []string{"kind"}},
		{name: "read an id of ../x", method: "GET", path: "/v1/employers/..%2Fx", status: 404, fields: []string{"id"}},
		{name: "read the history of an id holding NUL", method: "GET", path: "/v1/employers/%00/history", status: 404, fields: []string{"id"}},
		{name: "read a freeze whose id is not a UUID", method: "GET", path: "/v1/freezes/..%2F..%2Fx", status: 404, fields: []string{"id"}},

		// Query parameters with bad values.
		{name: "as_of 2006-02-30", method: "GET", path: "{id}?as_of=2006-02-30", status: 400, fields: []string{"as_of"}},
		{name: "as_of yesterday", method: "GET", path: "/v1/counties?as_of=yesterday", status: 400, fields: []string{"as_of"}},
		{name: "as_of 9999-12-31 (late fees of millennia past int64)", method: "GET", path: "/v1/counties?as_of=9999-12-31", status: 400, fields: []string{"as_of"}},
		{name: "as_of 2200-01-01", method: "GET", path: "{id}?as_of=2200-01-01", status: 400, fields: []string{"as_of"}},
		{name: "period 2006-00 on counties", method: "GET", path: "/v1/counties?period=2006-00", status: 400, fields: []string{"period"}},
		{name: "period 2006-13 on groups", method: "GET", path: "/v1/groups?period=2006-13", status: 400, fields: []string{"period"}},
		{name: "period 9999-12 on counties", method: "GET", path: "/v1/counties?period=9999-12", status: 400, fields: []string{"period"}},
		{name: "as_of given twice", method: "GET", path: "/v1/counties?as_of=2006-06-30&as_of=2006-12-31", status: 400, fields: []string{"as_of"}},
		{name: "through_seq given twice", method: "GET", path: "{id}/history?through_seq=1&through_seq=999", status: 400, fields: []string{"through_seq"}},
		{name: "a query not well formed", method: "GET", path: "/v1/counties?as_of=%zz", status: 400, fields: []string{"query"}},
		{name: "a parameter given twice on a write", path: "{id}/payments?x=1&x=2", body: `{"paid_on":"2006-06-20","amount_fen":1,"receipt_no":"H-Q"}`, status: 400, fields: []string{"x"}},
		{name: "a period not begun on as_of", method: "GET", path: "/v1/counties?period=2006-06&as_of=2006-05-31", status: 400, fields: []string{"period"}},
		{name: "min_seq -1", method: "GET", path: "{id}?min_seq=-1", status: 400, fields: []string{"min_seq"}},
		{name: "min_seq abc on counties", method: "GET", path: "/v1/counties?min_seq=abc", status: 400, fields: []string{"min_seq"}},
		{name: "page 0", method: "GET", path: "/v1/employers?page=0", status: 400, fields: []string{"page"}},
		{name: "page -1 on flags", method: "GET", path: "/v1/flags?page=-1", status: 400, fields: []string{"page"}},
		{name: "page beyond int64", method: "GET", path: "/v1/employers?page=99999999999999999999", status: 400, fields: []string{"page"}},
		{name: "format docx", method: "GET", path: "/v1/reports/monthly/2006-12?format=docx", status: 400, fields: []string{"format"}},
		{name: "month 2006-13", method: "GET", path: "/v1/reports/monthly/2006-13", status: 400, fields: []string{"month"}},
		{name: "series from 2006-00", method: "GET", path: "/v1/series?from=2006-00", status: 400, fields: []string{"from"}},
		{name: "through_seq -5", method: "GET", path: "{id}/history?through_seq=-5", status: 400, fields: []string{"through_seq"}},
		{name: "through_seq 0", method: "GET", path: "{id}/history?through_seq=0", status: 400, fields: []string{"through_seq"}},
		{name: "through_seq past the ledger's last sequence", method: "GET", path: "{id}/history?through_seq=99999999999", status: 400, fields: []string{"through_seq"}},
		{name: "a statement through a sequence past the ledger's last", method: "GET", path: "{id}/statement.pdf?from=2006-04-01&to=2006-12-31&through_seq=99999999999", status: 400, fields: []string{"through_seq"}},
		{name: "worklists of county 999999", method: "GET", path: "/v1/worklists?county=999999", status: 400, fields: []string{"county"}},
		{name: "flags of kind bogus", method: "GET", path: "/v1/flags?kind=bogus", status: 400, fields: []string{"kind"}},

		// Issue 12: what an attacker, a second replica and an auditor found.
		{name: "as_of 0001-01-01 on counties", method: "GET", path: "/v1/counties?as_of=0001-01-01", status: 400, fields: []string{"as_of"}},
		{name: "as_of 0001-01-01 on an employer", method: "GET", path: "{id}?as_of=0001-01-01", status: 400, fields: []string{"as_of"}},
		{name: "period 1989-12 on counties", method: "GET", path: "/v1/counties?period=1989-12", status: 400, fields: []string{"period"}},
		{name: "month 0001-11", method: "GET", path: "/v1/reports/monthly/0001-11", status: 400, fields: []string{"month"}},
		{name: "amount_fen given twice", path: "{id}/payments", body: `{"paid_on":"2006-06-20","amount_fen":1,"amount_fen":999999,"receipt_no":"H-2"}`, status: 400, fields: []string{"amount_fen"}},
		{name: "AMOUNT_FEN in capitals", path: "{id}/payments", body: `{"paid_on":"2006-06-20","AMOUNT_FEN":1,"receipt_no":"H-3"}`, status: 400, fields: []string{"AMOUNT_FEN"}},
		{name: "a receipt of one zero-width space", path: "{id}/payments", body: payWith("receipt_no", `"\u200b"`), status: 400, fields: []string{"receipt_no"}},
		{name: "a receipt holding U+FFFD from a lone surrogate", path: "{id}/payments", body: payWith("receipt_no", `"H-\ud800"`), status: 400, fields: []string{"receipt_no"}},
		{name: "a name of zero-width characters", path: "/v1/employers", body: regWith("name", `"\u200b\u200c\u2060"`), status: 400, fields: []string{"name"}},
		{name: "a name of the Braille blank", path: "/v1/employers", body: regWith("name", `"\u2800"`), status: 400, fields: []string{"name"}},
		{name: "an X-Request-Id of 60,000 bytes", path: "{id}/payments", body: pay(`"allocations":[]`), header: map[string]string{"X-Request-Id": strings.Repeat("r", 60000)}, status: 400, fields: []string{"X-Request-Id"}},
		{name: "a freeze valid through 2030", path: "/v1/freezes", body: `{"valid_through":"2030-01-01"}`, status: 400, fields: []string{"valid_through"}},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d hostile requests", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if strings.HasPrefix(path, "{id}") {
				path = empPath(id, "") + strings.TrimPrefix(path, "{id}")
			}
			method := c.method
			if method == "" {
				method = http.MethodPost
			}
			q := req{Method: method, Path: path, Token: tokAdmin, Header: c.header}
			if method == http.MethodPost {
				q.Body = []byte(c.body)
			}
			before := e.count()
			r := e.do(t, q)
			wantHostileError(t, r, c.status, c.fields...)
			e.wantUnchanged(t, before)
		})
	}
}

// TestRepeatedAndWronglyCasedJSONKeysAreRefused: encoding/json would keep the last of a repeated
// key and match names regardless of case, so two bodies that mean different things could pass as
// one idempotent request. Both are refused with 400 naming the field, and nothing is appended.
func TestRepeatedAndWronglyCasedJSONKeysAreRefused(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	pay := empPath(id, "payments")
	decl := empPath(id, "declarations")
	for _, c := range []struct {
		name, path, body, field string
	}{
		{"a key given twice", pay, `{"paid_on":"2006-06-20","amount_fen":1,"amount_fen":999999,"receipt_no":"D-1"}`, "amount_fen"},
		{"a key given twice, the first invalid", pay, `{"paid_on":"2006-06-20","amount_fen":"x","amount_fen":250,"receipt_no":"D-2"}`, "amount_fen"},
		{"a name in capitals", pay, `{"paid_on":"2006-06-20","AMOUNT_FEN":100,"receipt_no":"D-3"}`, "AMOUNT_FEN"},
		{"a name in mixed case", pay, `{"Paid_On":"2006-06-20","amount_fen":100,"receipt_no":"D-4"}`, "Paid_On"},
		{"a key given twice inside a list", decl, `{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":1,"wage_base_fen":300000}]}`, "lines[0].wage_base_fen"},
		{"a wrongly cased name inside a list", decl, `{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","Headcount":3,"wage_base_fen":300000}]}`, "lines[0].Headcount"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			r := e.do(t, req{Path: c.path, Body: []byte(c.body), Header: map[string]string{"Idempotency-Key": "dup-" + c.name}})
			wantHostileError(t, r, http.StatusBadRequest, c.field)
			e.wantUnchanged(t, before)
		})
	}

	// The key of an accepted request is not matched by a body that repeats one of its fields:
	// that is another request under the key (422, before the body's own 400).
	key := map[string]string{"Idempotency-Key": "dup-keys-1"}
	if r := e.do(t, req{Path: pay, Body: []byte(`{"paid_on":"2006-06-20","amount_fen":250,"receipt_no":"D-9"}`), Header: key}); r.Status != http.StatusCreated {
		t.Fatalf("the first request: %s", r)
	}
	before := e.count()
	r := e.do(t, req{Path: pay, Body: []byte(`{"paid_on":"2006-06-20","amount_fen":999999,"amount_fen":250,"receipt_no":"D-9"}`), Header: key})
	wantError(t, r, http.StatusUnprocessableEntity, "idempotency_mismatch", "Idempotency-Key")
	e.wantUnchanged(t, before)
}

// TestTextNamesAreStoredVerbatimAndNeverExecuted: names that look like SQL or HTML are plain text
// to the ledger (there is no SQL, and the dashboard only ever sets textContent): accepted, stored
// exactly, and answered as JSON strings, escaped as JSON requires.
func TestTextNamesAreStoredVerbatimAndNeverExecuted(t *testing.T) {
	e := newEnv(t)
	for i, name := range []string{
		`x"); DROP TABLE employers; --`,
		`<script>alert(document.cookie)</script>`,
		`<img src=x onerror=alert(1)>`,
	} {
		body, _ := json.Marshal(map[string]any{"name": name, "county": "360702", "org_code": orgCode(78000001 + i),
			"kind": "enterprise", "risk_class": 1, "registered_on": "2006-04-03"})
		r := e.post(t, "/v1/employers", "", string(body))
		if r.Status != http.StatusCreated {
			t.Fatalf("name %q: %s, want 201", name, r)
		}
		g := e.get(t, empPath(r.str("employer_id"), ""), "")
		if got := g.str("name"); got != name {
			t.Errorf("stored name %q, want %q exactly", got, name)
		}
		if ct := g.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("the read of a name holding markup answers Content-Type %q, want application/json", ct)
		}
		if strings.Contains(name, `"`) && !bytes.Contains(g.Raw, []byte(`x\"); DROP`)) {
			t.Errorf("the quote in %q is not JSON-escaped: %s", name, g.Raw)
		}
	}
	// The dashboard renders names as text, never as markup, in every one of its modules.
	files, err := filepath.Glob("dashboard/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("the dashboard's modules: %v %v", files, err)
	}
	for _, f := range append(files, "dashboard/index.html") {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function`).Find(src); m != nil {
			t.Errorf("%s uses %s: a stored name could run as markup", f, m)
		}
	}
}

// TestAReplayedKeyOfARefusedRequestIsNotUsedUp: a request refused with a 4xx does not use up its
// Idempotency-Key (API.md): the corrected request with the same key is recorded.
func TestAReplayedKeyOfARefusedRequestIsNotUsedUp(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	key := map[string]string{"Idempotency-Key": "refused-then-fixed"}
	before := e.count()
	wantHostileError(t, e.do(t, req{Path: empPath(id, "payments"), Body: []byte(paymentBody("F-1", 100, "2006-02-30")), Header: key}), 400, "paid_on")
	e.wantUnchanged(t, before)
	if r := e.do(t, req{Path: empPath(id, "payments"), Body: []byte(paymentBody("F-1", 100, "2006-06-30")), Header: key}); r.Status != http.StatusCreated {
		t.Fatalf("the corrected request with the refused request's key: %s, want 201", r)
	}
}

// TestAClerksIncompleteRegistrationIsAnsweredAsIncomplete: a clerk's registration without a
// county is answered 400 naming what is missing, as an admin's is, not 403 for a county "";
// one for another county is still 403, naming county; nothing is appended.
func TestAClerksIncompleteRegistrationIsAnsweredAsIncomplete(t *testing.T) {
	e := newReadEnv(t, today)
	before := e.count()
	for _, tt := range []struct {
		body   string
		status int
		field  string
	}{
		{`{}`, http.StatusBadRequest, "name"},
		{`null`, http.StatusBadRequest, "name"},
		{`{"name":"单位","org_code":"` + orgCode(77200001) + `","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, http.StatusBadRequest, "county"},
		{`{"name":"单位","county":"360721","org_code":"` + orgCode(77200002) + `","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`, http.StatusForbidden, "county"},
	} {
		r := e.do(t, req{Path: "/v1/employers", Token: tokClerkA, Body: []byte(tt.body)})
		if r.Status != tt.status || r.str("field") != tt.field {
			t.Errorf("a clerk of 360702 registering %s: %s, want %d naming %q", tt.body, r, tt.status, tt.field)
		}
	}
	e.wantUnchanged(t, before)
}
