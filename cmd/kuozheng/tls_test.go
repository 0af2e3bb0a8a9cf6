package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// testPKI is a private CA and a server certificate it signed for 127.0.0.1 and localhost, as PEM
// files in a temporary folder.
type testPKI struct {
	ca, cert, key string
	pool          *x509.CertPool
}

// newTestPKI makes a CA named name and a server certificate valid from notBefore to notAfter.
func newTestPKI(t *testing.T, name string, notBefore, notAfter time.Time) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kuozheng test server"},
		NotBefore: notBefore, NotAfter: notAfter, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{ca: filepath.Join(dir, "ca.pem"), cert: filepath.Join(dir, "server.pem"), key: filepath.Join(dir, "server-key.pem"),
		pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	for path, block := range map[string]*pem.Block{p.ca: {Type: "CERTIFICATE", Bytes: caDER},
		p.cert: {Type: "CERTIFICATE", Bytes: der}, p.key: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// client is an HTTPS client that trusts the CA only.
func (p testPKI) client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool}}}
}

// writeTokensFile writes a tokens file of entries into a temporary folder.
func writeTokensFile(t *testing.T, entries ...map[string]any) string {
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

// send sends a request with a bearer token (none when token is ""), and returns its status,
// headers and body.
func send(t *testing.T, c *http.Client, method, url, token, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

const registrationBody = `{"name":"赣州某厂","county":"360702","org_code":"10000004-0","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`

// TestServeOverTLS: serve --tls-cert --tls-key answers HTTPS to a client that trusts the private
// CA; a client with the system's CAs fails on the certificate (and serve logs the failed
// handshake), plain HTTP to the port is answered 400 by net/http without reaching the API, TLS
// 1.1 is refused; the CLI reaches the server with --ca, fails without it saying to give it, and
// refuses --ca on an http:// server.
func TestServeOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	pki := newTestPKI(t, "kuozheng test CA", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	const token = "tls-admin-token-4b7e19c2d05a8f36"
	tokens := writeTokensFile(t, map[string]any{"token": token, "name": "ops", "role": "admin"})
	dir, bin := buildBinary(t)
	s := startServe(t, bin, nil, pki.client(), "--data", filepath.Join(dir, "data"), "--tokens", tokens,
		"--tls-cert", pki.cert, "--tls-key", pki.key)
	if !strings.HasPrefix(s.base, "https://127.0.0.1:") {
		t.Fatalf("serve logged %q, want an https:// URL", s.base)
	}

	status, _, body := send(t, s.client, http.MethodPost, s.base+"/v1/employers", token, registrationBody)
	var reg struct {
		EmployerID string `json:"employer_id"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &reg) != nil {
		t.Fatalf("registration over HTTPS: %d %s", status, body)
	}

	t.Run("a client without the CA fails on the certificate", func(t *testing.T) {
		_, err := (&http.Client{Timeout: 30 * time.Second}).Get(s.base + "/healthz")
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Fatalf("GET without the CA: %v, want x509: certificate signed by unknown authority", err)
		}
		storetest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			if !strings.Contains(s.stderr.String(), "TLS handshake error") {
				return fmt.Errorf("serve did not log the failed handshake:\n%s", s.stderr)
			}
			return nil
		})
	})
	t.Run("plain HTTP to the TLS port is refused", func(t *testing.T) {
		status, h, body := send(t, &http.Client{Timeout: 30 * time.Second}, http.MethodGet, "http://"+strings.TrimPrefix(s.base, "https://")+"/healthz", "", "")
		if status != http.StatusBadRequest || !bytes.Contains(body, []byte("HTTP request to an HTTPS server")) || h.Get("X-Request-Id") != "" {
			t.Fatalf("plain HTTP: %d %v %q, want 400 from net/http, not an answer of the API", status, h, body)
		}
	})
	t.Run("TLS 1.1 is refused", func(t *testing.T) {
		old := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
		if _, err := old.Get(s.base + "/healthz"); err == nil || !strings.Contains(err.Error(), "protocol version") {
			t.Fatalf("GET over TLS 1.1: %v, want a protocol version alert", err)
		}
	})
	t.Run("the CLI with --ca", func(t *testing.T) {
		t.Setenv("KUOZHENG_TOKEN", token)
		other := newTestPKI(t, "another CA", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
		for _, c := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"history trusts the CA of --ca", []string{"history", reg.EmployerID, "--server", s.base, "--ca", pki.ca}, 0, "employer.registered  admin:ops"},
			{"verify trusts the CA of --ca", []string{"verify", "--server", s.base, "--ca", pki.ca}, 0, "1 employers"},
			{"verify of one employer names it", []string{"verify", reg.EmployerID, "--server", s.base, "--ca", pki.ca}, 0, "ok: employer " + reg.EmployerID},
			{"verify of an employer the ledger does not hold fails", []string{"verify", "0d9c4a1e-5b7f-4c2a-9e3d-6f8a1b2c3d4e", "--server", s.base, "--ca", pki.ca}, 1, "404"},
			{"without --ca the system's CAs do not know the server's", []string{"verify", "--server", s.base}, 1, "give --ca FILE"},
			{"another CA does not sign the server's certificate", []string{"verify", "--server", s.base, "--ca", other.ca}, 1, "unknown authority"},
			{"--ca is for https:// servers", []string{"verify", "--server", "http://127.0.0.1:1", "--ca", pki.ca}, 2, "--ca is for an https:// --server"},
			{"a --ca file that is not there", []string{"verify", "--server", s.base, "--ca", filepath.Join(dir, "nope.pem")}, 1, "--ca: open"},
			{"a --ca file with no certificate", []string{"verify", "--server", s.base, "--ca", tokens}, 1, "no PEM certificate"},
			{"http:// to the TLS port says the server speaks HTTPS", []string{"verify", "--server", "http://" + strings.TrimPrefix(s.base, "https://")}, 1, "give --server https://"},
		} {
			t.Run(c.name, func(t *testing.T) {
				code, out, errOut := runCmd(c.args...)
				if code != c.code || !strings.Contains(out+errOut, c.want) {
					t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d mentioning %q", code, out, errOut, c.code, c.want)
				}
			})
		}
	})
	t.Run("a token read from a file, its line break and all, is the token", func(t *testing.T) {
		t.Setenv("KUOZHENG_TOKEN", token+"\n")
		if code, out, errOut := runCmd("history", reg.EmployerID, "--server", s.base, "--ca", pki.ca); code != 0 || !strings.Contains(out, "employer.registered") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want the history", code, out, errOut)
		}
	})
	t.Run("the CLI without a token is told where it goes", func(t *testing.T) {
		t.Setenv("KUOZHENG_TOKEN", "")
		code, _, errOut := runCmd("history", reg.EmployerID, "--server", s.base, "--ca", pki.ca)
		if code != 1 || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "set KUOZHENG_TOKEN") {
			t.Fatalf("exit %d, stderr %q; want 1, a 401 that names KUOZHENG_TOKEN", code, errOut)
		}
	})
	t.Run("a renewed certificate is served without a restart", func(t *testing.T) {
		renewed := newTestPKI(t, "renewing CA", time.Now().Add(-time.Hour), time.Now().Add(48*time.Hour))
		later := time.Now().Add(time.Minute) // file times are coarse: the renewal is stamped apart
		for dst, src := range map[string]string{pki.cert: renewed.cert, pki.key: renewed.key} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(dst, later, later); err != nil {
				t.Fatal(err)
			}
		}
		if status, _, body := send(t, renewed.client(), http.MethodGet, s.base+"/healthz", "", ""); status != http.StatusOK {
			t.Fatalf("GET trusting the renewing CA only: %d %s", status, body)
		}
		storetest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			if !strings.Contains(s.stderr.String(), "TLS certificate read again") {
				return fmt.Errorf("serve did not log the renewed certificate:\n%s", s.stderr)
			}
			return nil
		})
	})
}

// parseServeTransport parses the transport flags of serve out of args.
func parseServeTransport(t *testing.T, args []string) (listen string, tokens bool, tf tlsFlags) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	l := fs.String("listen", "127.0.0.1:8080", "")
	tok := fs.String("tokens", "", "")
	tf.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return *l, *tok != "", tf
}

// TestServeTransportRules: which listeners, tokens and TLS flags serve accepts; each refusal is
// a usage error (exit 2) that names the flags that would make it right, and comes before the
// data folder is opened.
func TestServeTransportRules(t *testing.T) {
	cert, key := []string{"--tls-cert", "c.pem"}, []string{"--tls-key", "k.pem"}
	tls := append(append([]string{}, cert...), key...)
	rules := []struct {
		name string
		args []string
		want string // "" when allowed
	}{
		{"loopback without tokens or TLS is allowed", []string{"--listen", "127.0.0.1:8080"}, ""},
		{"loopback with tokens and without TLS is allowed", []string{"--listen", "localhost:8080", "--tokens", "t.json"}, ""},
		{"[::1] is loopback", []string{"--listen", "[::1]:8080", "--tokens", "t.json"}, ""},
		{"loopback over TLS is allowed", append([]string{"--listen", "127.0.0.1:8443"}, tls...), ""},
		{"tokens on a non-loopback listener over TLS are allowed", append([]string{"--listen", "10.0.0.5:8443", "--tokens", "t.json"}, tls...), ""},
		{"--insecure-http lets tokens cross a non-loopback listener in clear text", []string{"--listen", "0.0.0.0:8080", "--tokens", "t.json", "--insecure-http"}, ""},
		{"a certificate needs its key", append([]string{"--listen", "127.0.0.1:8443"}, cert...), "--tls-cert needs --tls-key"},
		{"a key needs its certificate", append([]string{"--listen", "127.0.0.1:8443"}, key...), "--tls-key needs --tls-cert"},
		{"tokens on a non-loopback listener need TLS", []string{"--listen", "0.0.0.0:8080", "--tokens", "t.json"}, "give --tls-cert and --tls-key, or --insecure-http"},
		{"every interface is not loopback", []string{"--listen", ":8080", "--tokens", "t.json"}, "in clear text"},
		{"a non-loopback listener needs tokens, even over TLS", append([]string{"--listen", "0.0.0.0:8443"}, tls...), "give --tokens"},
		{"a non-loopback listener needs tokens, even with --insecure-http", []string{"--listen", "0.0.0.0:8080", "--insecure-http"}, "give --tokens"},
		{"--insecure-http contradicts TLS", append([]string{"--listen", "10.0.0.5:8443", "--tokens", "t.json", "--insecure-http"}, tls...), "drop --insecure-http"},
		{"a --listen without a port", []string{"--listen", "127.0.0.1"}, "--listen"},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			err := checkTransport(parseServeTransport(t, r.args))
			var ue usageError
			switch {
			case r.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case r.want == "":
				return
			case !errors.As(err, &ue) || !strings.Contains(err.Error(), r.want):
				t.Fatalf("%v, want a usage error mentioning %q", err, r.want)
			}
			data := filepath.Join(t.TempDir(), "data")
			code, _, errOut := runCmd(append([]string{"serve", "--data", data}, r.args...)...)
			if _, statErr := os.Stat(data); code != 2 || !strings.Contains(errOut, r.want) || !errors.Is(statErr, os.ErrNotExist) {
				t.Fatalf("serve: exit %d, stderr %q, data folder %v; want exit 2 mentioning %q before the data folder is made", code, errOut, statErr, r.want)
			}
		})
	}
}

// TestServeRefusesBadTLSFilesBeforeOpeningTheLedger: a certificate or key that cannot be read, or
// a key that is not the certificate's, stops serve with an error naming the flag (exit 1)
// before it opens the data folder, let alone listens.
func TestServeRefusesBadTLSFilesBeforeOpeningTheLedger(t *testing.T) {
	pki := newTestPKI(t, "kuozheng test CA", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	other := newTestPKI(t, "another CA", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, c := range []struct {
		name, cert, key, want string
	}{
		{"a certificate that is not there", missing, pki.key, "--tls-cert: open " + missing},
		{"a key that is not there", pki.cert, missing, "--tls-key: open " + missing},
		{"the key of another certificate", pki.cert, other.key, "private key does not match public key"},
		{"a certificate file holding a key", pki.key, pki.key, "--tls-cert " + pki.key + " and --tls-key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			code, _, errOut := runCmd("serve", "--data", data, "--listen", "127.0.0.1:0", "--tls-cert", c.cert, "--tls-key", c.key)
			if _, err := os.Stat(data); code != 1 || !strings.Contains(errOut, c.want) || !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("exit %d, stderr %q, data folder %v; want exit 1 mentioning %q before the data folder is made", code, errOut, err, c.want)
			}
		})
	}
}

// TestCertValidity: serve warns of a certificate clients will refuse for its dates.
func TestCertValidity(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{now, ""},
		{now.Add(-2 * time.Hour), "not valid before 2026-11-30T23:00:00Z"},
		{now.Add(2 * time.Hour), "expired at 2026-12-01T01:00:00Z"},
	} {
		if got := certValidity(c, tc.at); got != tc.want {
			t.Errorf("at %v: %q, want %q", tc.at, got, tc.want)
		}
	}
}

// A renewal replaces the certificate's files while serve runs: each handshake after it gets the
// new pair, with no restart. A certificate replaced before its key does not load; the pair before
// it goes on being served, with a warning, until the key follows.
func TestARenewedCertificateIsServedWithoutARestart(t *testing.T) {
	live := newTestPKI(t, "first CA", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	var logged bytes.Buffer
	cfg, leaf, err := serverTLS(tlsFlags{cert: live.cert, key: live.key}, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	served := func() *x509.Certificate {
		t.Helper()
		c, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf
	}
	if !served().Equal(leaf) {
		t.Fatal("the certificate served is not the one read at start")
	}
	// Each replacement is stamped a minute after the one before: file times are coarse.
	stamp := time.Now()
	replace := func(dst, src string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		stamp = stamp.Add(time.Minute)
		if err := os.Chtimes(dst, stamp, stamp); err != nil {
			t.Fatal(err)
		}
	}
	leafOf := func(p testPKI) *x509.Certificate {
		t.Helper()
		pair, err := tls.LoadX509KeyPair(p.cert, p.key)
		if err != nil {
			t.Fatal(err)
		}
		return pair.Leaf
	}
	renewed, next := newTestPKI(t, "second CA", time.Now().Add(-time.Hour), time.Now().Add(48*time.Hour)), newTestPKI(t, "third CA", time.Now().Add(-time.Hour), time.Now().Add(72*time.Hour))
	replace(live.cert, renewed.cert)
	replace(live.key, renewed.key)
	if !served().Equal(leafOf(renewed)) || !strings.Contains(logged.String(), "TLS certificate read again") {
		t.Fatalf("after a renewal: the renewed certificate is not served, or not logged:\n%s", logged.String())
	}
	replace(live.cert, next.cert)
	if !served().Equal(leafOf(renewed)) || !strings.Contains(logged.String(), "do not load") {
		t.Fatalf("with a certificate whose key is not there yet: the pair before is not served, or no warning:\n%s", logged.String())
	}
	replace(live.key, next.key)
	if !served().Equal(leafOf(next)) {
		t.Fatal("once the key follows: the new certificate is not served")
	}
}
