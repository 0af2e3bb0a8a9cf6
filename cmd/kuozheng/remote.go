package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/api"
)

// remote is how a command reaches a running server.
type remote struct {
	server string
	// ca is a PEM file of the certificates to trust for an https:// server instead of the
	// system's.
	ca string
	// client is made from ca by the first request.
	client *http.Client
}

func (r *remote) register(fs *flag.FlagSet) {
	r.server = "http://127.0.0.1:8080"
	fs.Func("server", "URL of a running kuozheng server, http:// or https:// (token from KUOZHENG_TOKEN; default "+r.server+")", func(v string) error {
		u, err := url.Parse(v)
		switch {
		case err == nil && u.Host != "" && u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("want an http:// or https:// URL, not %s://", u.Scheme)
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return fmt.Errorf("want the server's URL with its scheme, such as http://%s", strings.TrimPrefix(strings.TrimPrefix(v, "//"), "/"))
		}
		r.server = v
		return nil
	})
	fs.StringVar(&r.ca, "ca", "", "trust the server's certificate if it is signed by a CA of this PEM file (a private CA), instead of the system's CAs")
}

// httpClient is the client of the server's URL: the default one, or one that trusts --ca only.
func (r *remote) httpClient() (*http.Client, error) {
	if r.client != nil {
		return r.client, nil
	}
	if r.ca == "" {
		r.client = http.DefaultClient
		return r.client, nil
	}
	if !strings.HasPrefix(strings.ToLower(r.server), "https://") {
		return nil, usageError{fmt.Sprintf("--ca is for an https:// --server; %s is plain HTTP", r.server)}
	}
	pem, err := os.ReadFile(r.ca)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", r.ca)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	r.client = &http.Client{Transport: tr}
	return r.client, nil
}

func (r *remote) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.server, "/")+path, nil)
	if err != nil {
		return err
	}
	return r.do(req, v)
}

// do sends a request with the token from KUOZHENG_TOKEN and decodes a 2xx JSON answer into v,
// or turns an error answer into one line.
func (r *remote) do(req *http.Request, v any) error {
	client, err := r.httpClient()
	if err != nil {
		return err
	}
	// A token read from a file ends in a line break, which no header may hold.
	if tok := strings.TrimSpace(os.Getenv("KUOZHENG_TOKEN")); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := client.Do(req)
	var unknownCA x509.UnknownAuthorityError
	var netErr *net.OpError
	switch {
	case err != nil && req.Context().Err() != nil:
		return fmt.Errorf("interrupted before the server answered: %w", req.Context().Err())
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%w (give --ca FILE, the certificate of the CA that signed the server's)", err)
	case errors.As(err, &netErr) && netErr.Op == "dial":
		return fmt.Errorf("%w (is 'kuozheng serve' running? or use --data DIR)", err)
	case err != nil:
		// A server took the connection, then broke it off or answered no HTTP.
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		err := answerError(resp, body)
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
			return &busyError{retryAfter: resp.Header.Get("Retry-After"), err: err}
		}
		return err
	}
	return json.Unmarshal(body, v)
}

// answerError is an error answer in one line.
func answerError(resp *http.Response, body []byte) error {
	var eb api.ErrorBody
	hint := ""
	if resp.StatusCode == http.StatusUnauthorized && strings.TrimSpace(os.Getenv("KUOZHENG_TOKEN")) == "" {
		hint = " (set KUOZHENG_TOKEN to your token)"
	}
	if json.Unmarshal(body, &eb) == nil && eb.Detail != "" {
		eb.Detail += hint
		if eb.Field != "" {
			return fmt.Errorf("%s: %s: %s", resp.Status, eb.Field, eb.Detail)
		}
		return fmt.Errorf("%s: %s", resp.Status, eb.Detail)
	}
	if bytes.Contains(body, []byte("HTTP request to an HTTPS server")) {
		return fmt.Errorf("%s: the server speaks HTTPS: give --server https://…", resp.Status)
	}
	return fmt.Errorf("%s%s", resp.Status, hint)
}

// busyError is a 503 with a Retry-After: the server asks to be asked again later.
type busyError struct {
	retryAfter string // seconds
	err        error
}

func (e *busyError) Error() string { return e.err.Error() }
func (e *busyError) Unwrap() error { return e.err }

// after is how long the server asks to wait, at least a second.
func (e *busyError) after() time.Duration {
	n, err := strconv.Atoi(e.retryAfter)
	if err != nil || n < 1 {
		n = 1
	}
	return time.Duration(n) * time.Second
}

// flagSet reports whether a flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func (r *remote) post(ctx context.Context, path string, body []byte, v any, key string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.server, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return r.do(req, v)
}
