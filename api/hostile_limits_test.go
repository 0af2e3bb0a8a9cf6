package api_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
)

// TestAHugeArrayWithinTheLimitIsHandled: a payment split into as many one-fen allocations as fit
// in 1 MiB is answered without a 5xx (it may be refused or recorded), and the employer stays readable.
func TestAHugeArrayWithinTheLimitIsHandled(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	const one = `{"insurance":"pension","period":"2006-04","amount_fen":1},`
	n := (api.MaxBody - 200) / len(one)
	body := fmt.Sprintf(`{"paid_on":"2006-06-20","amount_fen":%d,"receipt_no":"BIG","allocations":[%s]}`, n, strings.TrimSuffix(strings.Repeat(one, n), ","))
	before := e.count()
	start := time.Now()
	r := e.post(t, empPath(id, "payments"), "", body)
	t.Logf("%d allocations (%d bytes): %d in %v", n, len(body), r.Status, time.Since(start))
	switch {
	case r.Status >= 500:
		t.Fatalf("%d allocations: %s", n, r)
	case r.Status >= 400:
		e.wantUnchanged(t, before)
	case r.Status != http.StatusCreated:
		t.Fatalf("%d allocations: %s, want 201 or a 4xx", n, r)
	}
	if g := e.get(t, empPath(id, ""), ""); g.Status != http.StatusOK {
		t.Errorf("the employer read after a huge payment: %s", g)
	}
}

// TestAHugePageNumberIsNotA5xx: ?page= with a number whose offset overflows int is answered (an
// empty page or a 400), not a panic that drops the connection.
func TestAHugePageNumberIsNotA5xx(t *testing.T) {
	e := newReadEnv(t, today)
	e.register(t, tokAdmin, orgA, "360702")
	for _, path := range []string{"/v1/employers?page=92233720368547760", "/v1/flags?page=92233720368547760", "/v1/employers?page=9223372036854775807"} {
		hr, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		hr.Header.Set("Authorization", "Bearer "+tokAdmin)
		res, err := e.srv.Client().Do(hr)
		if err != nil {
			t.Errorf("GET %s: %v (the handler panicked and the connection was dropped)", path, err)
			continue
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 || (res.StatusCode != 200 && res.StatusCode != 400) {
			t.Errorf("GET %s: %d %s, want 200 (an empty page) or 400", path, res.StatusCode, raw)
		}
	}
}

// TestAStreamedHugeBodyIsRefusedQuickly: a 50 MiB body is answered 413 once the first MiB is
// read, without waiting for the rest, and appends nothing.
func TestAStreamedHugeBodyIsRefusedQuickly(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	before := e.count()
	const size = 50 << 20
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_ = conn.SetDeadline(start.Add(20 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", empPath(id, "payments"), size)
	sent := make(chan int64, 1)
	go func() {
		// Stream the body; the server may stop reading and close long before it ends.
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		var n int64
		for n < size {
			w, err := conn.Write(chunk)
			n += int64(w)
			if err != nil {
				break
			}
		}
		sent <- n
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a 50 MiB body: %v", err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	elapsed := time.Since(start)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 50 MiB body: %d %s, want 413", res.StatusCode, raw)
	}
	if elapsed > 5*time.Second {
		t.Errorf("the 413 took %v", elapsed)
	}
	conn.Close()
	if n := <-sent; n >= size {
		t.Errorf("the server read all %d bytes of a body it refuses after 1 MiB", n)
	}
	e.wantUnchanged(t, before)
}

// TestHTTPServerTimeoutsCloseSlowClients: api.HTTPServer sets every timeout and a header limit,
// and a client sending its headers a byte at a time is cut off after ReadHeaderTimeout (tested on
// a copy of the server with the timeouts shortened), as is one trickling its body after ReadTimeout.
func TestHTTPServerTimeoutsCloseSlowClients(t *testing.T) {
	e := newEnv(t)
	real := api.HTTPServer("127.0.0.1:0", api.New(api.Config{Store: e.l.Store}))
	if real.ReadHeaderTimeout <= 0 || real.ReadTimeout <= 0 || real.WriteTimeout <= 0 || real.IdleTimeout <= 0 {
		t.Errorf("api.HTTPServer leaves a timeout unset: header %v, read %v, write %v, idle %v",
			real.ReadHeaderTimeout, real.ReadTimeout, real.WriteTimeout, real.IdleTimeout)
	}
	if real.ReadHeaderTimeout > real.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %v is longer than ReadTimeout %v", real.ReadHeaderTimeout, real.ReadTimeout)
	}
	if real.MaxHeaderBytes <= 0 || real.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes %d, want a limit of at most 1 MiB", real.MaxHeaderBytes)
	}
	if real.Handler == nil {
		t.Error("api.HTTPServer has no handler")
	}

	srv := api.HTTPServer("", real.Handler)
	scale := func(d time.Duration) time.Duration { return d / 40 } // 10 s → 250 ms, 30 s → 750 ms
	srv.ReadHeaderTimeout, srv.ReadTimeout = scale(real.ReadHeaderTimeout), scale(real.ReadTimeout)
	srv.WriteTimeout, srv.IdleTimeout = scale(real.WriteTimeout), scale(real.IdleTimeout)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// closedWithin trickles the request a byte every 50 ms and reports how long the server took
	// to close the connection (or answer and close), and what it answered.
	closedWithin := func(t *testing.T, head, trickle string) (time.Duration, string) {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				time.Sleep(50 * time.Millisecond)
				if _, err := conn.Write([]byte{trickle[i%len(trickle)]}); err != nil {
					return
				}
				if time.Since(start) > 10*time.Second {
					return
				}
			}
		}()
		_ = conn.SetReadDeadline(start.Add(10 * time.Second))
		var answer bytes.Buffer
		_, err = io.Copy(&answer, conn)
		elapsed := time.Since(start)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server still held the connection after %v", elapsed)
		}
		conn.Close()
		<-done
		return elapsed, answer.String()
	}
	t.Run("slow headers", func(t *testing.T) {
		d, _ := closedWithin(t, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n", "X-Slow: aaaaaaaaaa\r\n")
		if limit := srv.ReadHeaderTimeout + time.Second; d > limit {
			t.Errorf("a client sending headers a byte at a time was closed after %v, want within %v", d, limit)
		}
	})
	t.Run("slow body", func(t *testing.T) {
		d, answer := closedWithin(t, "POST /v1/employers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", " ")
		if limit := srv.ReadTimeout + time.Second; d > limit {
			t.Errorf("a client trickling its body was closed after %v, want within %v", d, limit)
		}
		// The answer may say the body did not arrive, never which sockets it did not arrive on.
		if strings.Contains(answer, "127.0.0.1") || strings.Contains(answer, ln.Addr().String()) || strings.Contains(answer, "i/o timeout") {
			t.Errorf("the answer to a slow body names sockets or internals: %q", answer)
		}
	})
	t.Run("headers over MaxHeaderBytes", func(t *testing.T) {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		go fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", srv.MaxHeaderBytes+8192))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to oversized headers: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("headers over %d bytes: %d, want 431", srv.MaxHeaderBytes, res.StatusCode)
		}
	})
}

// TestAJSONBodyWithoutContentTypeIsRefused: a body with no Content-Type is what a web page can
// send cross-site without a CORS preflight (fetch with mode "no-cors" and a Blob of no type), so
// against a server run without tokens (every request an admin's, on loopback) any page the
// operator opens could write to the ledger. Writes must require application/json.
func TestAJSONBodyWithoutContentTypeIsRefused(t *testing.T) {
	e := newEnv(t)
	id := e.register(t, "", orgA, "360702")
	for _, path := range []string{empPath(id, "payments"), "/v1/employers"} {
		body := paymentBody("NCT-1", 100, "2006-06-20")
		if path == "/v1/employers" {
			body = registration(orgB, "360702")
		}
		// From another site the request is refused as cross-site (403); from the same site (no
		// Origin) for want of a JSON Content-Type (415). Either way nothing is appended.
		for origin, want := range map[string]int{"https://evil.example": http.StatusForbidden, "": http.StatusUnsupportedMediaType} {
			hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
			if origin != "" {
				hr.Header.Set("Origin", origin)
			}
			before := e.count()
			res, err := e.srv.Client().Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != want {
				t.Errorf("POST %s with no Content-Type, Origin %q: %d %s, want %d", path, origin, res.StatusCode, raw, want)
			}
			e.wantUnchanged(t, before)
		}
	}
}

// TestACrossSiteImportIsRefusedWithoutTokens: multipart/form-data is a content type any web page
// may POST cross-site without a preflight (a FormData with a Blob), so a server run without
// tokens must not take an import from a page of another site (the browser says so in Origin and
// Sec-Fetch-Site); it appends nothing.
func TestACrossSiteImportIsRefusedWithoutTokens(t *testing.T) {
	e := newEnv(t)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", "registrations.csv")
	fmt.Fprintf(fw, "单位名称,组织机构代码,所属区县,单位类型,行业风险类别,登记日期\n跨站单位,%s,章贡区,企业,1,2006-04-03\n", orgA)
	mw.Close()
	hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/imports", &b)
	hr.Header.Set("Content-Type", mw.FormDataContentType())
	hr.Header.Set("Origin", "https://evil.example")
	hr.Header.Set("Sec-Fetch-Site", "cross-site")
	before := e.count()
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode < 400 || res.StatusCode > 499 {
		t.Errorf("a cross-site import to a server without tokens: %d %s, want a 4xx (403)", res.StatusCode, raw)
	}
	e.wantUnchanged(t, before)
}
