package api_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// Values a hostile client found taken, each now refused naming its field, with nothing appended:
// reference data that would break the ledger's figures, and idempotency keys that would have
// made a retry record twice.
func TestWritesThatWouldQuietlyMisleadAreRefused(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	for _, c := range []struct {
		name, path, body string
		header           map[string]string
		field            string
	}{
		{"a grace of a trillion days", "/v1/reference/settings", `{"effective_from":"2006-07-01","due_day":15,"enforcement_grace_days":1000000000000}`, nil, "enforcement_grace_days"},
		{"a grace past ten years", "/v1/reference/settings", `{"effective_from":"2006-07-01","due_day":15,"enforcement_grace_days":3651}`, nil, "enforcement_grace_days"},
		{"a late-fee rate left out (a rate of 0)", "/v1/reference/late-fee-rates", `{"effective_from":"2006-07-01"}`, nil, "daily_bp"},
		{"a late-fee rate of null (a rate of 0)", "/v1/reference/late-fee-rates", `{"effective_from":"2006-07-01","daily_bp":null}`, nil, "daily_bp"},
		{"a target measure the assessment does not know", "/v1/reference/targets", `{"effective_from":"2006-07-01","year":2006,"city":{"bogus":5}}`, nil, "city.bogus"},
		{"a county's target measure misspelt", "/v1/reference/targets", `{"effective_from":"2006-07-01","year":2006,"city":{"pension_insured":5},"counties":{"360702":{"pension_insurd":1}}}`, nil, "counties.360702.pension_insurd"},
		{"an empty idempotency key", empPath(id, "payments"), paymentBody("K-1", 100, "2006-06-20"), map[string]string{"Idempotency-Key": ""}, "Idempotency-Key"},
		{"an idempotency key of spaces", empPath(id, "payments"), paymentBody("K-2", 100, "2006-06-20"), map[string]string{"Idempotency-Key": "   "}, "Idempotency-Key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			r := e.do(t, req{Path: c.path, Body: []byte(c.body), Header: c.header})
			wantHostileError(t, r, http.StatusBadRequest, c.field)
			e.wantUnchanged(t, before)
		})
	}
	// A header sent twice: which one is meant is not guessed (the first was taken: a stale
	// If-Match second, a text/plain second, went unnoticed).
	version := e.get(t, empPath(id, ""), "").Header.Get("ETag")
	if version == "" {
		t.Fatal("the employer's read sends no ETag")
	}
	for _, c := range []struct {
		header string
		values []string
	}{
		{"Idempotency-Key", []string{"first", "second"}},
		{"If-Match", []string{version, `"1"`}},
		{"Content-Type", []string{"application/json", "text/plain"}},
		{"Content-Encoding", []string{"identity", "gzip"}},
	} {
		t.Run("two "+c.header+" headers", func(t *testing.T) {
			before := e.count()
			q, err := http.NewRequest(http.MethodPost, e.srv.URL+empPath(id, "payments"), strings.NewReader(paymentBody("K-3", 100, "2006-06-20")))
			if err != nil {
				t.Fatal(err)
			}
			q.Header.Set("Content-Type", "application/json")
			q.Header.Del(c.header)
			for _, v := range c.values {
				q.Header.Add(c.header, v)
			}
			res, err := e.srv.Client().Do(q)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"field":"`+c.header+`"`) {
				t.Errorf("two %s headers %q: %d %s, want 400 naming %s", c.header, c.values, res.StatusCode, body, c.header)
			}
			e.wantUnchanged(t, before)
		})
	}
	// What is allowed stays allowed: a grace of ten years, a rate of 0 said outright.
	e.mustWrite(t, "/v1/reference/settings", "", `{"effective_from":"2006-07-01","due_day":15,"enforcement_grace_days":3650}`)
	e.mustWrite(t, "/v1/reference/late-fee-rates", "", `{"effective_from":"2006-07-01","daily_bp":0}`)
}

// The Bearer scheme's name is case-insensitive: "bearer TOKEN" is the token's request.
func TestTheBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := newAuthEnv(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		r := e.do(t, req{Method: http.MethodGet, Path: "/v1/verify", Header: map[string]string{"Authorization": scheme + " " + tokAdmin}})
		if r.Status != http.StatusOK {
			t.Errorf("%s %s: %s, want 200", scheme, tokAdmin, r)
		}
	}
	if r := e.do(t, req{Method: http.MethodGet, Path: "/v1/verify", Header: map[string]string{"Authorization": "Basic " + tokAdmin}}); r.Status != http.StatusUnauthorized {
		t.Errorf("Basic %s: %s, want 401", tokAdmin, r)
	}
	// Two credentials: which one is meant is not guessed (the first one was taken).
	before := e.count()
	hr, err := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/employers", strings.NewReader(`{"name":"单位","county":"360702","org_code":"`+orgCode(77300001)+`","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Add("Authorization", "Bearer "+tokClerkA)
	hr.Header.Add("Authorization", "Bearer "+tokAdmin)
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"field":"Authorization"`) {
		t.Errorf("two Authorization headers: %d %s, want 400 naming Authorization", res.StatusCode, body)
	}
	e.wantUnchanged(t, before)
}

// A refusal names the field where it is, nested or not, and says what it holds in words.
func TestARefusalNamesTheNestedFieldAndSaysWhatItHolds(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	for _, c := range []struct{ name, path, body, field, detail string }{
		{"an unknown field in a list's object", empPath(id, "declarations"),
			`{"declared_on":"2006-06-05","period":"2006-05","lines":[{"insurance":"pension","headcount":1,"wage_base_fen":100},{"insurance":"medical","headcount":1,"wage_base_fen":100,"extra":1}]}`,
			"lines[1].extra", "is not a field of this request: lines[1] takes headcount, insurance, wage_base_fen"},
		{"an unknown field at the top", empPath(id, "payments"), `{"paid_on":"2006-06-20","amount_fen":1,"receipt_no":"R","zz":1}`, "zz", "is not a field of this request: the body takes allocations, amount_fen, paid_on, receipt_no"},
		{"an object for a string", empPath(id, "payments"), `{"paid_on":{},"amount_fen":1,"receipt_no":"R"}`, "paid_on", "has an object where a string is expected"},
		{"a string for a whole number", "/v1/reference/settings", `{"effective_from":"2006-07-01","due_day":"x"}`, "due_day", "has a string where a whole number is expected"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			r := e.do(t, req{Path: c.path, Body: []byte(c.body)})
			wantHostileError(t, r, http.StatusBadRequest, c.field)
			if d := r.str("detail"); d != c.detail {
				t.Errorf("detail %q, want %q", d, c.detail)
			}
			e.wantUnchanged(t, before)
		})
	}
}

// A body is read as sent and as UTF-8: another charset or a Content-Encoding is refused (415)
// naming the header, not read as garbled text; nothing is appended.
func TestABodyInAnotherCharsetOrEncodingIsRefusedByItsHeader(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	for _, c := range []struct{ name, header, value string }{
		{"charset gbk", "Content-Type", "application/json; charset=gbk"},
		{"gzip", "Content-Encoding", "gzip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			r := e.do(t, req{Path: empPath(id, "payments"), Body: []byte(paymentBody("CS-1", 100, "2006-06-20")), Header: map[string]string{c.header: c.value}})
			wantHostileError(t, r, http.StatusUnsupportedMediaType, c.header)
			e.wantUnchanged(t, before)
		})
	}
	for i, cs := range []string{"UTF-8", "us-ascii"} {
		r := e.do(t, req{Path: empPath(id, "payments"), Body: []byte(paymentBody(fmt.Sprint("CS-OK-", i), 100, "2006-06-20")),
			Header: map[string]string{"Content-Type": "application/json; charset=" + cs}})
		if r.Status != http.StatusCreated {
			t.Fatalf("charset=%s: %s, want 201", cs, r)
		}
	}
}

// An import's unknown kind or encoding is refused naming that field, not the file.
func TestAnImportsUnknownKindOrEncodingIsNamed(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ field, value string }{{"kind", "loans"}, {"encoding", "big5"}} {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, err := mw.CreateFormFile("file", "rows.csv")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte("组织机构代码\n" + orgA + "\n"))
		_ = mw.WriteField(c.field, c.value)
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		before := e.count()
		r := e.do(t, req{Path: "/v1/imports", Body: b.Bytes(), Header: map[string]string{"Content-Type": mw.FormDataContentType()}})
		wantHostileError(t, r, http.StatusBadRequest, c.field)
		e.wantUnchanged(t, before)
	}
}

// TestAnImportGivingAFieldTwiceIsRefused: an import that sends its file, kind or encoding twice
// (in the form, or in the form and the query) is refused naming it, and nothing is appended:
// the first was taken, and the second file dropped without a word.
func TestAnImportGivingAFieldTwiceIsRefused(t *testing.T) {
	e := newEnv(t)
	e.register(t, "", orgA, "360702")
	surveys := []byte("组织机构代码,调查日期,应参保人数\n" + orgA + ",2006-04-10,30\n")
	form := func(files int, fields ...[2]string) (string, []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for _, f := range fields {
			if err := mw.WriteField(f[0], f[1]); err != nil {
				t.Fatal(err)
			}
		}
		for i := range files {
			fw, err := mw.CreateFormFile("file", fmt.Sprintf("surveys-%d.csv", i))
			if err != nil {
				t.Fatal(err)
			}
			fw.Write(surveys)
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		return mw.FormDataContentType(), b.Bytes()
	}
	for _, c := range []struct {
		name, query string
		files       int
		fields      [][2]string
		field       string
	}{
		{"two files", "", 2, nil, "file"},
		{"two kinds", "", 1, [][2]string{{"kind", "surveys"}, {"kind", "payments"}}, "kind"},
		{"a kind in the form and another in the query", "?kind=payments", 1, [][2]string{{"kind", "surveys"}}, "kind"},
		{"two encodings", "", 1, [][2]string{{"encoding", "utf-8"}, {"encoding", "gbk"}}, "encoding"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			ct, body := form(c.files, c.fields...)
			r := e.do(t, req{Path: "/v1/imports" + c.query, Body: body, Header: map[string]string{"Content-Type": ct}})
			wantHostileError(t, r, http.StatusBadRequest, c.field)
			e.wantUnchanged(t, before)
		})
	}
	ct, body := form(1, [2]string{"kind", "surveys"})
	if r := e.do(t, req{Path: "/v1/imports", Body: body, Header: map[string]string{"Content-Type": ct}}); r.Status != http.StatusOK || r.num("imported") != 1 {
		t.Errorf("the same import with each field once: %s, want 200 with 1 imported", r)
	}
}
