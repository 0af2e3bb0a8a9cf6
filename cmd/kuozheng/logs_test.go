package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
)

// TestServeJSONDebugLogHasEveryWriteAndNoSecret: serve on an external NATS server reached with a
// password, with tokens and TLS, logging JSON at debug level: every line of its standard error
// is a JSON object, every write logs its request id, principal, employer and sequence, and no
// line holds a token, the Authorization header, the NATS password or the TLS key, also for
// refused requests, a failed handshake and the shutdown.
func TestServeJSONDebugLogHasEveryWriteAndNoSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a NATS server beside it")
	}
	const (
		natsPassword = "nats-password-9c1e7a43f2b6d085"
		clerkToken   = "clerk-token-58d2e0b7a4c91f63"
		adminToken   = "admin-token-e3a1f9c6042b7d58"
		unknownToken = "unknown-token-1f6b8d3ea2c05947"
	)
	dir, bin := buildBinary(t)
	natsAddr := freeAddr(t)
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: filepath.Join(dir, "nats"), Listen: natsAddr, User: "kz", Password: natsPassword}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	pki := newTestPKI(t, "kuozheng test CA", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	sum := sha256.Sum256([]byte(adminToken))
	tokens := writeTokensFile(t,
		map[string]any{"token": clerkToken, "name": "clerk-zg", "role": "clerk", "counties": []string{"360702"}},
		map[string]any{"token_sha256": hex.EncodeToString(sum[:]), "name": "ops", "role": "admin"})
	s := startServe(t, bin, nil, pki.client(), "--nats", "nats://kz:"+natsPassword+"@"+natsAddr, "--tokens", tokens,
		"--tls-cert", pki.cert, "--tls-key", pki.key, "--log-format", "json", "--log-level", "debug")

	status, h, body := send(t, s.client, http.MethodPost, s.base+"/v1/employers", clerkToken, registrationBody, "X-Request-Id", "reg-from-the-desk")
	var reg struct {
		EmployerID string `json:"employer_id"`
		Seq        uint64 `json:"seq"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &reg) != nil {
		t.Fatalf("registration: %d %s", status, body)
	}
	writes := []struct {
		requestID string
		seq       uint64
	}{{h.Get("X-Request-Id"), reg.Seq}}
	for i, token := range []string{clerkToken, adminToken} {
		status, h, body := send(t, s.client, http.MethodPost, s.base+"/v1/employers/"+reg.EmployerID+"/payments", token,
			fmt.Sprintf(`{"paid_on":"2006-06-1%d","amount_fen":100,"receipt_no":"R-%d"}`, i, i))
		var res struct{ Seq uint64 }
		if status != http.StatusCreated || json.Unmarshal(body, &res) != nil {
			t.Fatalf("payment: %d %s", status, body)
		}
		writes = append(writes, struct {
			requestID string
			seq       uint64
		}{h.Get("X-Request-Id"), res.Seq})
	}
	for _, token := range []string{unknownToken, ""} {
		if status, _, body := send(t, s.client, http.MethodPost, s.base+"/v1/employers/"+reg.EmployerID+"/payments", token, `{"paid_on":"2006-06-20"}`); status != http.StatusUnauthorized {
			t.Fatalf("a write with token %q: %d %s, want 401", token, status, body)
		}
	}
	if status, _, body := send(t, s.client, http.MethodGet, s.base+"/v1/employers/"+reg.EmployerID, unknownToken, ""); status != http.StatusUnauthorized {
		t.Fatalf("a read with an unknown token: %d %s, want 401", status, body)
	}
	if _, err := (&http.Client{Timeout: 30 * time.Second}).Get(s.base + "/healthz"); err == nil {
		t.Fatal("a client without the CA got an answer")
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop within 60 s of SIGTERM:\n%s", s.stderr)
	}

	log := s.stderr.String()
	var recorded []map[string]any
	for line := range strings.Lines(log) {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("a line of serve's log is not JSON: %v: %q", err, line)
			continue
		}
		if l["msg"] == "write recorded" {
			recorded = append(recorded, l)
		}
	}
	if len(recorded) != len(writes) {
		t.Fatalf("%d write lines for %d writes:\n%s", len(recorded), len(writes), log)
	}
	principals := []string{"clerk-zg", "clerk-zg", "ops"}
	for i, w := range writes {
		l := recorded[i]
		if l["request_id"] != w.requestID || l["principal"] != principals[i] || l["employer_id"] != reg.EmployerID || l["seq"] != float64(w.seq) {
			t.Errorf("write %d: line %v, want request_id %q, principal %q, employer_id %s, seq %d", i, l, w.requestID, principals[i], reg.EmployerID, w.seq)
		}
	}
	if writes[0].requestID != "reg-from-the-desk" {
		t.Errorf("the registration's request id is %q, want the client's", writes[0].requestID)
	}
	keyPEM, err := os.ReadFile(pki.key)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(keyPEM)
	secrets := map[string]string{"the clerk's token": clerkToken, "the admin's token": adminToken, "an unknown token": unknownToken,
		"the NATS password": natsPassword, "an Authorization header": "Bearer", "the TLS key": base64.StdEncoding.EncodeToString(block.Bytes)[:24]}
	for what, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("serve's log holds %s (%q):\n%s", what, secret, log)
		}
	}
	for _, want := range []string{`"msg":"write refused"`, "TLS handshake error", `"msg":"shutting down"`} {
		if !strings.Contains(log, want) {
			t.Errorf("serve's log does not hold %s:\n%s", want, log)
		}
	}
}

// TestNATSURLPasswordIsNotPrinted: a --nats URL that cannot be reached is named without its
// password, or without its token (NATS's token authentication puts it where a user goes).
func TestNATSURLPasswordIsNotPrinted(t *testing.T) {
	closed := freeAddr(t)
	code, _, errOut := runCmd("serve", "--nats", "nats://kz:secret-pass-77@"+closed+",nats://tok-secret-88@"+closed, "--listen", "127.0.0.1:0")
	if code != 1 || strings.Contains(errOut, "secret") || !strings.Contains(errOut, "nats://kz:xxxxx@"+closed) {
		t.Fatalf("exit %d, stderr %q: want exit 1 naming the URL without its password or token", code, errOut)
	}
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                     "nats://127.0.0.1:4222",
		"nats://kz:pw@h:4222":                       "nats://kz:xxxxx@h:4222",
		"nats://token@h:4222":                       "nats://xxxxx@h:4222",
		"nats://a:p@h1:4222, nats://b:q@h2:4222":    "nats://a:xxxxx@h1:4222,nats://b:xxxxx@h2:4222",
		"nats://kz:50%zz@h:4222":                    "(a URL that does not parse, not shown: it may hold a password)",
		"tls://kz:pw@h:4222,nats://other-host:4222": "tls://kz:xxxxx@h:4222,nats://other-host:4222",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLogFlags: --log-format and --log-level take the values they name and refuse others as
// usage errors, on serve, demo and documents alike.
func TestLogFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"serve: an unknown format", []string{"serve", "--log-format", "xml"}, `--log-format "xml": want text or json`},
		{"serve: an unknown level", []string{"serve", "--log-level", "loud"}, `--log-level "loud": want debug, info, warn or error`},
		{"demo: an unknown format", []string{"demo", "--log-format", "logfmt"}, "--log-format"},
		{"documents: an unknown level", []string{"documents", "notices", "--county", "360702", "--issued-on", "2006-12-01", "--deadline", "2006-12-20",
			"--overdue-days", "90", "--log-level", "trace"}, "--log-level"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			code, _, errOut := runCmd(append(c.args, "--data", data)...)
			if _, err := os.Stat(data); code != 2 || !strings.Contains(errOut, c.want) || !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("exit %d, stderr %q, data folder %v; want exit 2 mentioning %q before the data folder is made", code, errOut, err, c.want)
			}
		})
	}
	for _, level := range []string{"debug", "INFO", "warn", "error"} {
		for _, format := range []string{"text", "json"} {
			var buf bytes.Buffer
			log, err := logFlags{format: format, level: level}.logger(&buf)
			if err != nil {
				t.Fatalf("%s %s: %v", format, level, err)
			}
			log.Error("an error")
			if format == "json" && !json.Valid(buf.Bytes()) || !strings.Contains(buf.String(), "an error") {
				t.Errorf("%s at %s: %q", format, level, buf.String())
			}
		}
	}
}

// TestProgressUnderJSONLogsIsJSON: serve --demo --log-format json tells the demo's progress as log
// records, so every line on standard error is a JSON object (it wrote "demo: 2006: …" lines).
func TestProgressUnderJSONLogsIsJSON(t *testing.T) {
	var buf bytes.Buffer
	log, err := logFlags{format: "json", level: "info"}.logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(logLines{log}, "demo: 2006: 1152/≈1152 commands (100%%)\ndemo: done\n")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for _, l := range lines {
		var rec struct{ Msg string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil || !strings.HasPrefix(rec.Msg, "demo: ") {
			t.Errorf("line %q: %v; want a JSON record of the progress", l, err)
		}
	}
	if len(lines) != 2 {
		t.Errorf("%d records of two lines of progress: %q", len(lines), buf.String())
	}
}
