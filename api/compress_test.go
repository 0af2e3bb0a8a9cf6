package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// getRaw sends GET path with the Accept-Encoding given ("" sends none) and returns the answer
// as it came over the wire: not decompressed by the client.
func getRaw(t *testing.T, e *env, path, token, acceptEncoding string) resp {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	header := map[string]string{}
	if acceptEncoding != "" {
		header["Accept-Encoding"] = acceptEncoding
	}
	return rawGetFrom(t, client, e.srv.URL+path, token, header)
}

// decoded is the answer's body with its Content-Encoding undone.
func decoded(t *testing.T, a resp) []byte {
	t.Helper()
	switch ce := a.Header.Get("Content-Encoding"); ce {
	case "":
		return a.Raw
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(a.Raw))
		if err != nil {
			t.Fatalf("the answer says gzip but is not: %v", err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("the answer's gzip does not decode: %v", err)
		}
		return b
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(a.Raw))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("the answer's zstd does not decode: %v", err)
		}
		return b
	default:
		t.Fatalf("unexpected Content-Encoding %q", ce)
		return nil
	}
}

// The tables a dashboard reads on every live event went uncompressed: about 220 KB a refresh on
// the demo, gigabytes a day for a page left open, over county links.
func TestLargeAnswersAreCompressedForClientsThatAcceptIt(t *testing.T) {
	e := newReadEnv(t, today)
	id := e.register(t, tokClerkA, orgCode(1), "360702")
	var etag string
	var last int64
	for i := range 8 {
		r := e.mustWrite(t, empPath(id, "payments"), tokClerkA, paymentBody(fmt.Sprintf("R-%d", i), 100, "2006-06-10"))
		etag, last = r.Header.Get("ETag"), r.num("seq")
	}
	// The last write's own sequence: the store may not have folded it yet when the write answers,
	// and a table read compressed and as it is must be of one sequence.
	e.waitViews(t, uint64(last))

	for _, c := range []struct {
		name, path, token, accept, want string
	}{
		{"a cached table goes gzipped to a client that accepts gzip", "/v1/counties", tokAdmin, "gzip", "gzip"},
		{"a cached table goes gzipped to a browser that accepts several", "/v1/counties", tokAdmin, "gzip, deflate, br, zstd", "gzip"},
		{"a cached table goes as it is to a client that names no coding", "/v1/counties", tokAdmin, "", ""},
		{"gzip;q=0 refuses gzip", "/v1/counties", tokAdmin, "gzip;q=0", ""},
		{"a history goes gzipped", empPath(id, "history"), tokAuditor, "gzip", "gzip"},
		{"a history goes in zstd to a client that accepts only zstd", empPath(id, "history"), tokAuditor, "zstd", "zstd"},
		{"a small answer goes as it is", "/healthz", "", "gzip", ""},
		{"a PDF goes as it is", empPath(id, "statement.pdf?from=2006-01-01&to=2006-12-31"), tokAuditor, "gzip", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := getRaw(t, e, c.path, c.token, c.accept)
			if a.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", c.path, a.Status, a.Raw)
			}
			if got := a.Header.Get("Content-Encoding"); got != c.want {
				t.Fatalf("GET %s with Accept-Encoding %q: Content-Encoding %q, want %q", c.path, c.accept, got, c.want)
			}
			if !strings.Contains(strings.Join(a.Header.Values("Vary"), ","), "Accept-Encoding") {
				t.Errorf("GET %s: Vary %q does not name Accept-Encoding: a cache between could hand gzip to a client that cannot read it", c.path, a.Header.Values("Vary"))
			}
			plain := getRaw(t, e, c.path, c.token, "")
			if plain.Header.Get("Content-Encoding") != "" {
				t.Fatalf("GET %s without Accept-Encoding: Content-Encoding %q", c.path, plain.Header.Get("Content-Encoding"))
			}
			if c.want == "" {
				return
			}
			if !bytes.Equal(decoded(t, a), plain.Raw) {
				t.Errorf("GET %s: the %s answer decodes to other bytes than the plain one", c.path, c.want)
			}
			if len(a.Raw)*2 > len(plain.Raw) {
				t.Errorf("GET %s: %d bytes in %s for %d plain: not compressed", c.path, len(a.Raw), c.want, len(plain.Raw))
			}
			for _, h := range []string{"ETag", "X-Ledger-Seq"} {
				if a.Header.Get(h) != plain.Header.Get(h) {
					t.Errorf("GET %s: %s %q compressed, %q plain: it names the ledger's version, not the bytes", c.path, h, a.Header.Get(h), plain.Header.Get(h))
				}
			}
		})
	}

	t.Run("the ETag of a compressed read is good for If-Match", func(t *testing.T) {
		a := getRaw(t, e, empPath(id, "history"), tokAuditor, "gzip")
		if a.Header.Get("Content-Encoding") != "gzip" || a.Header.Get("ETag") != etag {
			t.Fatalf("history: Content-Encoding %q, ETag %q, want gzip and the last write's %q", a.Header.Get("Content-Encoding"), a.Header.Get("ETag"), etag)
		}
		r := e.do(t, req{Path: empPath(id, "payments"), Token: tokClerkA, Body: []byte(paymentBody("R-if", 100, "2006-06-10")),
			Header: map[string]string{"If-Match": a.Header.Get("ETag")}})
		if r.Status != http.StatusCreated {
			t.Fatalf("a payment with If-Match from a compressed read: %s", r)
		}
	})

	t.Run("live events are not held back to be compressed", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		hr, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/v1/live", nil)
		hr.Header.Set("Authorization", "Bearer "+tokAdmin)
		hr.Header.Set("Accept-Encoding", "gzip")
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		defer client.CloseIdleConnections()
		res, err := client.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if ce := res.Header.Get("Content-Encoding"); ce != "" {
			t.Fatalf("/v1/live answered Content-Encoding %q", ce)
		}
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: {") {
				return
			}
		}
		t.Fatalf("no event on /v1/live: %v", sc.Err())
	})
}
