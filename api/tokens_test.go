package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go"
)

// writeTokens writes entries as a tokens file and returns its path.
func writeTokens(t testing.TB, entries []map[string]any) string {
	t.Helper()
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTokensFile: a plain "token" is accepted with a warning (that does not log the token), a
// token_sha256 authenticates the token it digests, and a token differing from a known one in its
// last byte, or a prefix of it, is refused.
//
// Lookup (auth.go) digests the presented token with SHA-256 and compares the digest with each
// stored digest through crypto/subtle.ConstantTimeCompare, so the time a comparison takes does not
// reveal how many leading bytes of a token were right; this test checks auth.go still does so.
func TestTokensFile(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	ref := l.Store.Reference()
	const plain, hashed = "plain-secret-token-1", "hashed-secret-token-2"
	sum := sha256.Sum256([]byte(hashed))
	path := writeTokens(t, []map[string]any{
		{"token": plain, "name": "p", "role": "clerk", "counties": []string{"360702"}},
		{"token_sha256": hex.EncodeToString(sum[:]), "name": "h", "role": "auditor"},
	})
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	toks, err := api.LoadTokens(path, ref, log)
	if err != nil {
		t.Fatalf("a tokens file with a plain token: %v", err)
	}
	var warned bool
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) == nil && rec["level"] == "WARN" && strings.Contains(fmt.Sprint(rec["msg"]), "plain token") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning logged for a plain token: %q", logs.String())
	}
	if strings.Contains(logs.String(), plain) {
		t.Errorf("the warning logs the token itself: %q", logs.String())
	}
	if p, ok := toks.Lookup(plain); !ok || p.Role != "clerk" || p.Name != "p" {
		t.Errorf("the plain token looks up %+v, %v", p, ok)
	}
	if p, ok := toks.Lookup(hashed); !ok || p.Role != "auditor" {
		t.Errorf("the token of a token_sha256 entry looks up %+v, %v", p, ok)
	}
	for _, bad := range []string{
		plain[:len(plain)-1] + "2", hashed[:len(hashed)-1] + "3", // the last byte differs
		plain[:len(plain)-1], plain + "x", strings.ToUpper(plain), hex.EncodeToString(sum[:]), "",
	} {
		if p, ok := toks.Lookup(bad); ok {
			t.Errorf("Lookup(%q) found %+v", bad, p)
		}
	}
	src, err := os.ReadFile("auth.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte("subtle.ConstantTimeCompare(")) {
		t.Error("auth.go no longer compares token digests with crypto/subtle.ConstantTimeCompare")
	}

	// Over HTTP: the last-byte variant is a 401 like any unknown token.
	e := &env{t: t, l: l, tokens: toks}
	e.serve()
	if r := e.get(t, "/v1/employers/x", plain[:len(plain)-1]+"2"); r.Status != http.StatusUnauthorized {
		t.Errorf("a token differing in its last byte: %s, want 401", r)
	}
	if r := e.get(t, "/v1/employers/x", plain); r.Status != http.StatusNotFound {
		t.Errorf("the plain token: %s, want 404 (authenticated, no such employer)", r)
	}

	for name, entries := range map[string][]map[string]any{
		"an unknown role":             {{"token": "x", "name": "x", "role": "root"}},
		"an unknown county":           {{"token": "x", "name": "x", "role": "clerk", "counties": []string{"999999"}}},
		"a short token_sha256":        {{"token_sha256": "abcd", "name": "x", "role": "admin"}},
		"neither token nor digest":    {{"name": "x", "role": "admin"}},
		"an unknown field":            {{"token": "x", "name": "x", "role": "admin", "password": "y"}},
		"a token_sha256 not hex":      {{"token_sha256": strings.Repeat("z", 64), "name": "x", "role": "admin"}},
		"a role in the wrong case":    {{"token": "x", "name": "x", "role": "Admin"}},
		"a clerk without counties":    {{"token": "x", "name": "x", "role": "clerk"}},
		"a supervisor without groups": {{"token": "x", "name": "x", "role": "supervisor"}},
		"an entry that is not a map":  nil,
		"no entry":                    {},
	} {
		p := writeTokens(t, entries)
		switch {
		case entries == nil:
			_ = os.WriteFile(p, []byte(`["adm"]`), 0o600)
		case len(entries) == 0:
			_ = os.WriteFile(p, []byte(`[]`), 0o600) // an operator's drill: every request answered 401, nothing said
		}
		_, err := api.LoadTokens(p, ref, nil)
		switch {
		case err == nil:
			t.Errorf("a tokens file with %s loaded", name)
		case name == "an unknown county" && !strings.Contains(err.Error(), "entry 0 (x): unknown county"):
			t.Errorf("a tokens file with %s: %v, want the entry named as the other refusals name it", name, err)
		}
	}
}

// A tokens file is refused, saying why, where it would let a role or a name mean other than it
// says: one token under two entries (the later would take the earlier's role in silence), two
// names that read as one (four eyes compare names), a name with white space at an end or an
// invisible character,
// counties or groups on a role they do not scope, a group that does not exist.
func TestATokensFileIsRefusedWhereItWouldMisleadAboutWhoIsWho(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	ref := l.Store.Reference()
	admin := map[string]any{"token": "t-admin", "name": "alice", "role": "admin"}
	for _, tt := range []struct {
		name  string
		entry map[string]any // besides admin
		want  string
	}{
		{"the same token twice", map[string]any{"token": "t-admin", "name": "bob", "role": "auditor"}, "entries 0 (alice) and 1 (bob) hold the same token"},
		{"the same token, once as a digest", map[string]any{"token_sha256": digest("t-admin"), "name": "bob", "role": "auditor"}, "hold the same token"},
		{"a name in another case", map[string]any{"token": "t2", "name": "Alice", "role": "auditor"}, `named "alice" and "Alice", which read as one name`},
		{"a name in full-width letters", map[string]any{"token": "t2", "name": "ａｌｉｃｅ", "role": "auditor"}, `named "alice" and "ａｌｉｃｅ", which read as one name`},
		{"a name with a zero-width space", map[string]any{"token": "t2", "name": "al\u200bice", "role": "auditor"}, `write it "alice"`},
		{"a name with a trailing space", map[string]any{"token": "t2", "name": "alice ", "role": "auditor"}, `write it "alice"`},
		{"a name with a control character", map[string]any{"token": "t2", "name": "bob\nadmin", "role": "auditor"}, `a control or an invisible character: write it "bobadmin"`},
		{"a name spaced otherwise", map[string]any{"token": "t2", "name": "a lice", "role": "auditor"}, `named "alice" and "a lice", which read as one name`},
		{"a name with an ideographic space", map[string]any{"token": "t2", "name": "al\u3000ice", "role": "auditor"}, `which read as one name`},
		{"a name too long", map[string]any{"token": "t2", "name": strings.Repeat("名", 50), "role": "auditor"}, "longer than 128 bytes"},
		{"counties on an auditor", map[string]any{"token": "t2", "name": "bob", "role": "auditor", "counties": []string{"360702"}}, `an auditor reads every county: "counties" would not restrict it`},
		{"counties on an admin", map[string]any{"token": "t2", "name": "bob", "role": "admin", "counties": []string{"360702"}}, `"counties" would not restrict it`},
		{"groups on a clerk", map[string]any{"token": "t2", "name": "bob", "role": "clerk", "counties": []string{"360702"}, "groups": []int{1}}, `"groups" scope supervisors only`},
		{"an unknown group", map[string]any{"token": "t2", "name": "bob", "role": "supervisor", "groups": []int{9}}, "unknown supervision group 9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.LoadTokens(writeTokens(t, []map[string]any{admin, tt.entry}), ref, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadTokens: %v; want an error saying %q", err, tt.want)
			}
		})
	}
	ok := []map[string]any{admin,
		{"token": "t2", "name": "张三", "role": "clerk", "counties": []string{"360702"}},
		{"token": "t3", "name": "bob", "role": "supervisor", "groups": []int{1}, "counties": []string{"360721"}},
		{"token": "t4", "name": "carol", "role": "assessor"},
		{"token": "t5", "name": "王五（东区）", "role": "clerk", "counties": []string{"360702"}}, // full-width brackets, as Chinese writes them
	}
	if _, err := api.LoadTokens(writeTokens(t, ok), ref, nil); err != nil {
		t.Fatalf("a tokens file of distinct names and tokens, each scoped as its role is: %v", err)
	}
}

func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TestEmbeddedNATSListensOnNoPortByDefault: the embedded nats-server of EmbeddedConfig{Dir} opens
// no client, cluster, gateway, monitoring or profiling port; clients connect in-process only.
func TestEmbeddedNATSListensOnNoPortByDefault(t *testing.T) {
	busy := func(addr string) bool {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	before := busy("127.0.0.1:4222")
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	if a := emb.Server.Addr(); a != nil {
		t.Errorf("the embedded nats-server listens for clients on %v", a)
	}
	if a := emb.Server.ClusterAddr(); a != nil {
		t.Errorf("the embedded nats-server listens for routes on %v", a)
	}
	if a := emb.Server.GatewayAddr(); a != nil {
		t.Errorf("the embedded nats-server listens for gateways on %v", a)
	}
	if a := emb.Server.MonitorAddr(); a != nil {
		t.Errorf("the embedded nats-server serves monitoring on %v", a)
	}
	if a := emb.Server.ProfilerAddr(); a != nil {
		t.Errorf("the embedded nats-server serves profiling on %v", a)
	}
	if !before && busy("127.0.0.1:4222") {
		t.Error("127.0.0.1:4222 (NATS's default port) accepts connections once the embedded server runs")
	}
	if !emb.Conn.IsConnected() {
		t.Error("the in-process connection is not connected")
	}

	// The control: given Listen, it does listen, and only with a user and password, which a
	// client must then give.
	if _, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:-1"}, nil); err == nil {
		t.Error("an embedded nats-server listening without a user and password started")
	}
	const user, password = "kuozheng", "a-long-enough-password"
	withPort, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:-1", User: user, Password: password}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer withPort.Close()
	a := withPort.Server.Addr()
	if a == nil || !busy(a.String()) {
		t.Fatalf("with Listen 127.0.0.1:-1 the server listens on %v", a)
	}
	if nc, err := nats.Connect("nats://" + a.String()); err == nil {
		nc.Close()
		t.Error("a client without the user and password connected to the listening embedded server")
	}
	nc, err := nats.Connect("nats://"+a.String(), nats.UserInfo(user, password))
	if err != nil {
		t.Fatalf("a client with the user and password: %v", err)
	}
	nc.Close()
}
