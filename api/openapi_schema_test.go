package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"go.yaml.in/yaml/v3"
)

// spec is openapi.yaml read whole, to check answers against the schemas it gives them: the part
// of JSON Schema the file uses ($ref, type, properties, required, additionalProperties, items,
// enum, const, allOf, anyOf, oneOf, not, minimum, maximum, pattern, minItems and the date,
// date-time and uuid formats).
type spec struct {
	doc map[string]any
}

func loadSpec(t *testing.T) spec {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return spec{doc}
}

// node follows a local $ref ("#/components/schemas/X") to the object it names.
func (s spec) node(n any) map[string]any {
	m, _ := n.(map[string]any)
	for m != nil {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = s.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			c, _ := cur.(map[string]any)
			cur = c[part]
		}
		m, _ = cur.(map[string]any)
	}
	return m
}

// operation returns the operation of openapi.yaml that serves method and path (without its
// query), the one with the most literal segments when templates overlap.
func (s spec) operation(method, path string) (map[string]any, string) {
	paths, _ := s.doc["paths"].(map[string]any)
	best, bestName, bestLiteral := map[string]any(nil), "", -1
	segs := strings.Split(path, "/")
	for tmpl, item := range paths {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		literal, ok := 0, true
		for i, p := range ts {
			switch {
			case strings.HasPrefix(p, "{"):
			case p == segs[i]:
				literal++
			default:
				ok = false
			}
		}
		op := s.node(s.node(item)[strings.ToLower(method)])
		if ok && op != nil && literal > bestLiteral {
			best, bestName, bestLiteral = op, method+" "+tmpl, literal
		}
	}
	return best, bestName
}

// answerSchema is the JSON schema op gives an answer of status; ok false when op documents no
// such status (nor a default).
func (s spec) answerSchema(op map[string]any, status int) (schema any, ok bool) {
	responses, _ := op["responses"].(map[string]any)
	r, ok := responses[strconv.Itoa(status)]
	if !ok {
		if r, ok = responses["default"]; !ok {
			return nil, false
		}
	}
	content, _ := s.node(r)["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	return media["schema"], true
}

// check returns where v does not hold to schema n, at the JSON path at.
func (s spec) check(n, v any, at string) []string {
	m := s.node(n)
	if m == nil {
		return nil
	}
	var bad []string
	fail := func(format string, args ...any) {
		bad = append(bad, at+": "+fmt.Sprintf(format, args...))
	}
	if t, ok := m["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, fmt.Sprint(x))
			}
		}
		if !slicesHas(types, jsonType(v)) && !(jsonType(v) == "integer" && slicesHas(types, "number")) {
			fail("a %s (%s), want %v", jsonType(v), clipJSON(v), types)
			return bad
		}
	}
	if e, ok := m["enum"].([]any); ok && !slicesHasFunc(e, func(x any) bool { return sameJSON(x, v) }) {
		fail("%s is none of %v", clipJSON(v), e)
	}
	if c, ok := m["const"]; ok && !sameJSON(c, v) {
		fail("%s, want %v", clipJSON(v), c)
	}
	for _, sub := range list(m["allOf"]) {
		bad = append(bad, s.check(sub, v, at)...)
	}
	if alts := list(m["anyOf"]); len(alts) > 0 && !slicesHasFunc(alts, func(sub any) bool { return len(s.check(sub, v, at)) == 0 }) {
		fail("matches none of anyOf: %s", clipJSON(v))
	}
	if one := list(m["oneOf"]); len(one) > 0 {
		matched := 0
		for _, sub := range one {
			if len(s.check(sub, v, at)) == 0 {
				matched++
			}
		}
		if matched != 1 {
			fail("matches %d of oneOf, want 1: %s", matched, clipJSON(v))
		}
	}
	if not, ok := m["not"]; ok && len(s.check(not, v, at)) == 0 {
		fail("matches what not excludes: %s", clipJSON(v))
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := m["properties"].(map[string]any)
		for _, r := range list(m["required"]) {
			if _, ok := v[fmt.Sprint(r)]; !ok {
				fail("lacks required %q", r)
			}
		}
		for k, x := range v {
			if p, ok := props[k]; ok {
				bad = append(bad, s.check(p, x, at+"."+k)...)
				continue
			}
			switch ap := m["additionalProperties"].(type) {
			case nil:
				// JSON Schema allows any other property; a field the description does not name
				// is one a client cannot know of.
				if props != nil {
					fail("has %q, which the schema does not document", k)
				}
			case bool:
				if !ap {
					fail("has %q, which the schema does not list", k)
				}
			case map[string]any:
				bad = append(bad, s.check(ap, x, at+"."+k)...)
			}
		}
	case []any:
		if min, ok := number(m["minItems"]); ok && float64(len(v)) < min {
			fail("%d items, want at least %v", len(v), min)
		}
		if items, ok := m["items"]; ok {
			for i, x := range v {
				bad = append(bad, s.check(items, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case json.Number:
		f, _ := v.Float64()
		if min, ok := number(m["minimum"]); ok && f < min {
			fail("%s, below the minimum %v", v, min)
		}
		if max, ok := number(m["maximum"]); ok && f > max {
			fail("%s, above the maximum %v", v, max)
		}
	case string:
		if p, ok := m["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			fail("%q does not match %s", v, p)
		}
		var err error
		switch m["format"] {
		case "date":
			_, err = domain.ParseDate(v)
		case "date-time":
			_, err = time.Parse(time.RFC3339Nano, v)
		case "uuid":
			_, err = uuid.Parse(v)
		}
		if err != nil {
			fail("%q is no %s: %v", v, m["format"], err)
		}
	}
	return bad
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// sameJSON compares a YAML value of the description with a JSON value of an answer.
func sameJSON(y, v any) bool {
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		yf, ok := number(y)
		return ok && f == yf
	}
	return reflect.DeepEqual(y, v)
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func list(v any) []any { l, _ := v.([]any); return l }

func slicesHas(l []string, s string) bool {
	return slicesHasFunc(l, func(x string) bool { return x == s })
}

func slicesHasFunc[T any](l []T, f func(T) bool) bool {
	for _, x := range l {
		if f(x) {
			return true
		}
	}
	return false
}

func clipJSON(v any) string {
	b, _ := json.Marshal(v)
	return domain.Clip(string(b), 120)
}

// TestAnswersHoldToTheirOpenAPISchemas sends reads and writes that answer every kind of status,
// as each role, to a ledger with a year closed, a freeze and corrections, and checks each answer
// against openapi.yaml: its status is one its operation documents, and its JSON body holds to
// the schema given that status (an error's code among those the Error schema lists). A client
// generated from the description must read every answer the server gives.
func TestAnswersHoldToTheirOpenAPISchemas(t *testing.T) {
	s := loadSpec(t)
	e, id := newYearsEnv(t)
	f := e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.closeYear(t, tokAssessor, "2006", `{}`)
	waitFor(t, 10*time.Second, "the closing's time", func() bool { return !e.yearOf(t, 2006).ClosedAt.IsZero() })
	pay := e.mustWrite(t, empPath(id, "payments"), tokClerkA, paymentBody("S-1", 700, "2007-01-20"))
	paySeq := pay.num("seq")
	e.waitViews(t, uint64(paySeq))
	events, _ := pay.JSON["event_ids"].([]any)
	if len(events) == 0 {
		t.Fatalf("the payment answered no event_ids: %s", pay)
	}
	e.mustWrite(t, empPath(id, "voids"), tokAuditor, fmt.Sprintf(`{"event_id":%q,"voided_on":"2007-01-25","reason":"录入错误"}`, events[0]))
	gets := []string{
		"/v1/employers?limit=3", "/v1/employers?county=360702&q=单位", "/v1/employers/" + id,
		"/v1/employers/" + id + "?as_of=2006-09-30", "/v1/employers/" + id + "/history",
		"/v1/employers/" + id + "/history?as_of=2006-12-31", "/v1/counties", "/v1/counties?with=groups", "/v1/counties?period=2006-11&as_of=2006-12-31",
		"/v1/counties/360702", "/v1/groups", "/v1/groups/1", "/v1/targets", "/v1/worklists?county=360702",
		"/v1/flags", "/v1/events?limit=5", "/v1/corrections", "/v1/reports/monthly/2006-11",
		"/v1/freezes", "/v1/freezes/" + f.ID, "/v1/freezes/" + f.ID + "/restatement", "/v1/rankings?freeze=" + f.ID,
		"/v1/years", "/v1/series", "/v1/verify", "/healthz", "/readyz",
		// refused reads
		"/v1/employers/" + uuid.NewString(), "/v1/employers?limit=0", "/v1/counties?as_of=2006-04-31",
		"/v1/counties/999999", "/v1/counties?with=nothing", "/v1/verify?min_seq=abc", "/v1/freezes/" + uuid.NewString(),
	}
	var reqs []req
	for _, tok := range []string{tokAdmin, tokClerkA, tokSuper, tokAuditor} {
		for _, p := range gets {
			reqs = append(reqs, req{Method: http.MethodGet, Path: p, Token: tok})
		}
	}
	key := map[string]string{"Idempotency-Key": "schema-key-1"}
	reqs = append(reqs,
		req{Path: "/v1/employers", Token: tokClerkA, Body: []byte(registration(orgCode(7101), "360702"))},
		req{Path: "/v1/employers", Token: tokClerkA, Body: []byte(registration(orgCode(7101), "360702"))},
		req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("S-2", 100, "2007-01-21")), Header: key},
		req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("S-2", 100, "2007-01-21")), Header: key},
		req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("S-3", 100, "2007-01-21")), Header: key},
		req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("S-4", 100, "2007-04-31"))},
		req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("S-5", 100, "2006-11-20"))},
		req{Path: empPath(id, "payments"), Token: tokClerkB, Body: []byte(paymentBody("S-6", 100, "2007-01-21"))},
		req{Path: empPath(id, "payments"), Token: tokUnknown, Body: []byte(paymentBody("S-7", 100, "2007-01-21"))},
		req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("S-8", 100, "2007-01-21")), Header: map[string]string{"Content-Type": "text/plain"}},
		req{Method: http.MethodPut, Path: "/v1/employers/" + id, Token: tokAdmin, Body: []byte(`{}`)},
		req{Path: empPath(uuid.NewString(), "payments"), Token: tokAdmin, Body: []byte(paymentBody("S-9", 100, "2007-01-21"))},
		req{Path: "/v1/years/2006/close", Token: tokAssessor, Body: []byte(`{}`)},
		req{Path: "/v1/freezes", Token: tokAssessor, Body: []byte(`{"valid_through":"2007-01-31"}`)},
	)
	for _, q := range reqs {
		if q.Method == "" {
			q.Method = http.MethodPost
		}
		r := e.do(t, q)
		route := q.Method + " " + q.Path + " as " + q.Token
		op, name := s.operation(q.Method, strings.SplitN(q.Path, "?", 2)[0])
		if op == nil {
			if r.Status != http.StatusMethodNotAllowed {
				t.Errorf("%s: no operation of openapi.yaml serves it, yet it answered %d", route, r.Status)
			}
			// A method no route takes: the answer is still the API's error.
			op = map[string]any{"responses": map[string]any{"405": map[string]any{"$ref": "#/components/responses/BadRequest"}}}
			name = "no route"
		}
		schema, ok := s.answerSchema(op, r.Status)
		if !ok {
			t.Errorf("%s: answered %d, which %s does not document: %s", route, r.Status, name, domain.Clip(string(r.Raw), 200))
			continue
		}
		if schema == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(r.Raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Errorf("%s: %d with a body that is not JSON: %v", route, r.Status, err)
			continue
		}
		for _, b := range s.check(schema, v, "$") {
			t.Errorf("%s (%s, %d): %s", route, name, r.Status, b)
		}
	}
}
