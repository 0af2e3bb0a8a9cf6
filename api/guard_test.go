package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api"
)

// sendHost sends a request whose Host header is host (the client otherwise sends the URL's).
func (e *env) sendHost(t *testing.T, method, path, host, token, body string, header map[string]string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	hr, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	hr.Host = host
	if body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
}

// TestWithoutTokensOnlyLoopbackHostNamesAreServed: without tokens every request is an admin's, so
// a page of another site whose name was made to resolve to 127.0.0.1 (DNS rebinding) must not be
// served: its requests carry its own name in Host (and Origin), and are refused before any route.
func TestWithoutTokensOnlyLoopbackHostNamesAreServed(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	port := e.srv.Listener.Addr().String()[strings.LastIndex(e.srv.Listener.Addr().String(), ":"):]
	for i, c := range []struct {
		host string
		ok   bool
	}{
		{"localhost" + port, true},
		{"127.0.0.1" + port, true},
		{"[::1]" + port, true},
		{"LOCALHOST" + port, true},
		{"localhost", true},
		{"evil.example" + port, false},
		{"evil.example", false},
		{"127.0.0.1.evil.example" + port, false},
		{"localhost.evil.example", false},
		{"10.0.0.1" + port, false},
	} {
		t.Run(c.host, func(t *testing.T) {
			before := e.count()
			origin := map[string]string{"Origin": "http://" + c.host}
			get := e.sendHost(t, http.MethodGet, empPath(id, ""), c.host, "", "", origin)
			post := e.sendHost(t, http.MethodPost, empPath(id, "payments"), c.host, "", paymentBody(fmt.Sprintf("DNS-%d", i), 100, "2006-06-20"), origin)
			if c.ok {
				if get.Status != http.StatusOK || post.Status != http.StatusCreated {
					t.Errorf("Host %s: GET %d, POST %d; want 200 and 201: %s %s", c.host, get.Status, post.Status, get.Raw, post.Raw)
				}
				return
			}
			for _, r := range []resp{get, post} {
				if r.Status != http.StatusForbidden || !bytes.Contains(r.Raw, []byte(`"field":"Host"`)) {
					t.Errorf("Host %s: %d %s, want 403 naming Host", c.host, r.Status, r.Raw)
				}
				if bytes.Contains(r.Raw, []byte(orgA)) {
					t.Errorf("Host %s: the refusal shows the employer: %s", c.host, r.Raw)
				}
			}
			e.wantUnchanged(t, before)
		})
	}
	// With tokens, the token is what admits a request, whatever name the server is reached by.
	a := newAuthEnv(t)
	if r := a.sendHost(t, http.MethodGet, "/v1/verify", "ledger.example", tokAdmin, "", nil); r.Status == http.StatusForbidden {
		t.Errorf("with tokens, a request by another name: %d %s", r.Status, r.Raw)
	}
}

// TestRequestIDsAreBoundedAndEchoed: X-Request-Id is stored in every event the request appends,
// for ever, so it is at most 128 printable ASCII characters; an answer always names its request.
func TestRequestIDsAreBoundedEchoedAndCarriedByTheEvents(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	for _, c := range []struct{ name, value string }{
		{"60,000 bytes", strings.Repeat("r", 60000)},
		{"129 characters", strings.Repeat("r", api.MaxRequestID+1)},
		{"a control character", "abc\tdef"},
		{"non-ASCII", "请求-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.count()
			r := e.do(t, req{Path: empPath(id, "payments"), Body: []byte(paymentBody("RID-1", 100, "2006-06-20")),
				Header: map[string]string{"X-Request-Id": c.value}})
			wantHostileError(t, r, http.StatusBadRequest, "X-Request-Id")
			if len(r.Raw) > 1024 {
				t.Errorf("the refusal echoes the id: %d bytes", len(r.Raw))
			}
			e.wantUnchanged(t, before)
		})
	}
	longest := strings.Repeat("x", api.MaxRequestID-2) + " ~"
	r := e.do(t, req{Path: empPath(id, "payments"), Body: []byte(paymentBody("RID-2", 100, "2006-06-20")),
		Header: map[string]string{"X-Request-Id": longest}})
	if r.Status != http.StatusCreated || r.Header.Get("X-Request-Id") != longest {
		t.Fatalf("a request id of %d printable characters: %s, X-Request-Id %q", len(longest), r, r.Header.Get("X-Request-Id"))
	}
	stream, err := e.l.Store.JetStream().Stream(context.Background(), e.l.Store.Stream())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetMsg(context.Background(), uint64(r.num("seq")))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(msg.Data, []byte(`"correlation_id":"`+longest+`"`)) {
		t.Errorf("the event does not carry the request id %q: %s", longest, msg.Data)
	}
	if got := e.get(t, "/healthz", "").Header.Get("X-Request-Id"); len(got) < 16 {
		t.Errorf("an answer to a request without an id names none: %q", got)
	}
	// Without one, the id the server made up is the events' too: a log line finds its events.
	r = e.do(t, req{Path: empPath(id, "payments"), Body: []byte(paymentBody("RID-3", 100, "2006-06-20"))})
	made := r.Header.Get("X-Request-Id")
	if r.Status != http.StatusCreated || len(made) < 16 {
		t.Fatalf("a payment without a request id: %s, X-Request-Id %q", r, made)
	}
	if msg, err = stream.GetMsg(context.Background(), uint64(r.num("seq"))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(msg.Data, []byte(`"correlation_id":"`+made+`"`)) {
		t.Errorf("the event does not carry the request id %q the answer gave: %s", made, msg.Data)
	}
}

// TestAnswersCannotBeSniffedOrFramed: every answer, the dashboard's page and JSON alike, says
// nosniff and refuses to be framed by another page.
func TestAnswersCannotBeSniffedOrFramed(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/", "/healthz", "/v1/employers/nobody", "/assets/app.js"} {
		r := e.sendHost(t, http.MethodGet, path, "localhost", "", "", nil)
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", path, got)
		}
		if got := r.Header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q, want frame-ancestors 'none'", path, got)
		}
	}
}

// TestReadsRefuseDatesBefore1990: every read that takes as_of refuses a date before 1990 with 400
// naming as_of, and every read that takes a period or month one of a year before 1990, as writes
// refuse such dates.
func TestReadsRefuseDatesBefore1990(t *testing.T) {
	e := newReadEnv(t, today)
	id := e.register(t, tokAdmin, orgA, "360702")
	for _, path := range []string{"/v1/counties", "/v1/counties/360702", "/v1/groups", "/v1/groups/1", "/v1/targets",
		"/v1/worklists", "/v1/flags", "/v1/series", empPath(id, ""), empPath(id, "history")} {
		for _, d := range []string{"0001-01-01", "1989-12-31"} {
			r := e.get(t, path+"?as_of="+d, tokAdmin)
			wantHostileError(t, r, http.StatusBadRequest, "as_of")
		}
		if r := e.get(t, path+"?as_of=1990-01-01", tokAdmin); r.Status != http.StatusOK {
			t.Errorf("%s?as_of=1990-01-01: %s, want 200", path, r)
		}
	}
	// Periods too: a month or period before 1990 is no record of this ledger.
	for _, c := range []struct{ path, field string }{
		{"/v1/counties?period=0001-01", "period"},
		{"/v1/counties/360702?period=1989-12", "period"},
		{"/v1/reports/monthly/0001-11", "month"},
		{"/v1/series?from=0001-01&to=0001-12", "from"},
	} {
		wantHostileError(t, e.get(t, c.path, tokAdmin), http.StatusBadRequest, c.field)
	}
}

// TestAStoppedStoreIsAnsweredWithoutItsInternals: an error that is not the client's is logged
// with the request id, and the client gets a generic answer naming that id, never the Go error.
func TestAStoppedStoreIsAnsweredWithoutItsInternals(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	e.l.Embedded.Conn.Close()
	write := e.do(t, req{Path: empPath(id, "payments"), Body: []byte(paymentBody("GONE-1", 100, "2006-06-20")),
		Header: map[string]string{"X-Request-Id": "req-gone-1"}})
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "payments.csv")
	fmt.Fprintf(fw, "组织机构代码,缴费日期,金额(分),票据号\n%s,2006-06-20,100,GONE-2\n", orgA)
	mw.Close()
	hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/imports", &form)
	hr.Header.Set("Content-Type", mw.FormDataContentType())
	hr.Header.Set("X-Request-Id", "req-gone-1")
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	imp := resp{Status: res.StatusCode, Raw: raw}
	for _, r := range []resp{write, imp} {
		if r.Status < 500 {
			t.Errorf("a write with the store gone: %s, want a 5xx", r)
		}
		for _, leak := range []string{"nats", "jetstream", "tcp", "127.0.0.1", "/tmp/"} {
			if bytes.Contains(bytes.ToLower(r.Raw), []byte(leak)) {
				t.Errorf("the answer leaks %q: %s", leak, r.Raw)
			}
		}
		if !bytes.Contains(r.Raw, []byte("req-gone-1")) {
			t.Errorf("the answer does not name the request id to report: %s", r.Raw)
		}
	}
}
