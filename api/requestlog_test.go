package api_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// Tokens of newLogEnv, long enough that finding one in a log is no accident.
const (
	logTokClerk   = "clerk-token-7f3a9c51e2d84b06"
	logTokOther   = "other-token-0b8e4d2c6a91f735"
	logTokUnknown = "unknown-token-c4e19a7d3b5f8206"
)

// newLogEnv serves the API with a clerk of 360702 ("qa") and one of 360721 ("qb"), logging in
// JSON at level into the returned buffer.
func newLogEnv(t *testing.T, level slog.Level) (*env, *storetest.SyncBuffer) {
	t.Helper()
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{})}
	e.useTokens([]map[string]any{
		{"token": logTokClerk, "name": "qa", "role": "clerk", "counties": []string{"360702"}},
		{"token": logTokOther, "name": "qb", "role": "clerk", "counties": []string{"360721"}},
	})
	logBuf := &storetest.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logBuf, &slog.HandlerOptions{Level: level}))
	e.srv = httptest.NewServer(api.New(api.Config{Store: e.l.Store, Tokens: e.tokens, Log: log,
		Today: func() domain.Date { return today }}))
	t.Cleanup(e.srv.Close)
	return e, logBuf
}

// logLines decodes a JSON log, one object a line, failing on a line that is not one.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for line := range strings.Lines(log) {
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("a log line is not JSON: %v: %q", err, line)
		}
		lines = append(lines, m)
	}
	return lines
}

// withMsg are the lines whose msg is msg, waiting (up to a deadline) until there are n.
func withMsg(t *testing.T, buf *storetest.SyncBuffer, msg string, n int) []map[string]any {
	t.Helper()
	var got []map[string]any
	storetest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		got = got[:0]
		for _, l := range logLines(t, buf.String()) {
			if l["msg"] == msg {
				got = append(got, l)
			}
		}
		if len(got) < n {
			return fmt.Errorf("%d %q lines, want %d:\n%s", len(got), msg, n, buf)
		}
		return nil
	})
	return got
}

// TestDebugLogHasEveryWriteAndNoToken: at debug level every write that appended logs one
// "write recorded" line with its request id (the client's or the one the server gave), principal,
// employer and stream sequence (an Idempotency-Key retry its first answer's, duplicate); every
// refused write a "write refused" line with its status; reads log nothing of the kind; and no
// token, nor the Authorization header, is in any line.
func TestDebugLogHasEveryWriteAndNoToken(t *testing.T) {
	e, logBuf := newLogEnv(t, slog.LevelDebug)
	reg := e.do(t, req{Path: "/v1/employers", Token: logTokClerk, Body: []byte(registration(orgCode(10000004), "360702")),
		Header: map[string]string{"X-Request-Id": "client-request-1"}})
	if reg.Status != http.StatusCreated {
		t.Fatalf("registration: %s", reg)
	}
	id := reg.str("employer_id")
	pay := req{Path: empPath(id, "payments"), Token: logTokClerk, Body: []byte(paymentBody("R-1", 5000, "2006-06-10")),
		Header: map[string]string{"Idempotency-Key": "pay-1"}}
	paid := e.do(t, pay)
	again := e.do(t, pay)
	if paid.Status != http.StatusCreated || again.Status != http.StatusOK {
		t.Fatalf("payment %s, its retry %s: want 201 and 200", paid, again)
	}
	written := []resp{reg, paid, again}

	refused := []struct {
		q      req
		status int
		who    string
	}{
		{req{Path: empPath(id, "payments"), Token: logTokUnknown, Body: []byte(paymentBody("R-2", 1, "2006-06-10"))}, http.StatusUnauthorized, ""},
		{req{Path: empPath(id, "payments"), Body: []byte(paymentBody("R-2", 1, "2006-06-10"))}, http.StatusUnauthorized, ""},
		{req{Path: empPath(id, "payments"), Token: logTokOther, Body: []byte(paymentBody("R-2", 1, "2006-06-10"))}, http.StatusForbidden, "qb"},
		{req{Path: empPath(id, "payments"), Token: logTokClerk, Body: []byte(`{"paid_on":"2006-06-10"}`)}, http.StatusBadRequest, "qa"},
	}
	for _, r := range refused {
		if got := e.do(t, r.q); got.Status != r.status {
			t.Fatalf("%+v: %s, want %d", r.q, got, r.status)
		}
	}
	if got := e.get(t, empPath(id, ""), logTokClerk); got.Status != http.StatusOK {
		t.Fatalf("read: %s", got)
	}

	recorded := withMsg(t, logBuf, "write recorded", len(written))
	if len(recorded) != len(written) {
		t.Fatalf("%d write lines for %d writes:\n%s", len(recorded), len(written), logBuf)
	}
	for i, w := range written {
		l := recorded[i]
		want := map[string]any{"level": "DEBUG", "request_id": w.Header.Get("X-Request-Id"), "principal": "qa", "role": "clerk",
			"employer_id": id, "seq": json.Number(fmt.Sprint(w.num("seq"))), "duplicate": i == 2, "status": json.Number(fmt.Sprint(w.Status))}
		for k, v := range want {
			if l[k] != v {
				t.Errorf("write %d: %s = %v, want %v (line %v)", i, k, l[k], v, l)
			}
		}
	}
	if recorded[0]["request_id"] != "client-request-1" || recorded[1]["request_id"] == "" || recorded[1]["route"] != "POST /v1/employers/{id}/payments" {
		t.Errorf("request ids or route: %v", recorded)
	}
	lines := withMsg(t, logBuf, "write refused", len(refused))
	for i, r := range refused {
		if lines[i]["status"] != json.Number(fmt.Sprint(r.status)) || lines[i]["principal"] != r.who || lines[i]["request_id"] == "" {
			t.Errorf("refused write %d: line %v, want status %d, principal %q", i, lines[i], r.status, r.who)
		}
	}
	if n := len(logLines(t, logBuf.String())); n != len(written)+len(refused) {
		t.Errorf("%d log lines, want one for each of the %d writes and nothing for the read:\n%s", n, len(written)+len(refused), logBuf)
	}
	for _, secret := range []string{logTokClerk, logTokOther, logTokUnknown, "Bearer", "Authorization"} {
		if strings.Contains(logBuf.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logBuf)
		}
	}
}

// TestInfoLogHasNoWriteLines: above debug, writes log nothing (and answer as always).
func TestInfoLogHasNoWriteLines(t *testing.T) {
	e, logBuf := newLogEnv(t, slog.LevelInfo)
	id := e.register(t, logTokClerk, orgCode(10000004), "360702")
	e.mustWrite(t, empPath(id, "payments"), logTokClerk, paymentBody("R-1", 5000, "2006-06-10"))
	if got := e.post(t, empPath(id, "payments"), logTokUnknown, paymentBody("R-2", 1, "2006-06-10")); got.Status != http.StatusUnauthorized {
		t.Fatalf("unknown token: %s", got)
	}
	if log := logBuf.String(); strings.Contains(log, "write ") {
		t.Fatalf("write lines at info level:\n%s", log)
	}
}
