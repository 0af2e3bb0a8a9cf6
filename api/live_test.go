package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// A server shutting down waits for the requests under way, and a dashboard's live stream never
// ends of itself: EndStreams, registered to run on shutdown, ends it, so that the shutdown
// completes rather than waiting out its deadline (serve's 10 s, during which a restart found
// the data folder still held).
func TestAShutdownEndsTheLiveStreams(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	h := api.New(api.Config{Store: l.Store, Runner: startRunner(t, l.Store), Today: func() domain.Date { return domain.MustDate("2006-12-31") }})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.RegisterOnShutdown(h.EndStreams)
	srv.Start()
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/v1/live")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	events := sseEvents(res.Body)
	if _, ok := <-events; !ok {
		t.Fatalf("/v1/live: %d, no first event", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("the shutdown waited for the live stream: %v", err)
	}
	for range events {
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/v1/live answered %d", res.StatusCode)
	}
}

// One principal holds at most api.MaxLiveEach live streams: the next is refused 503 with
// Retry-After and a detail naming the limit, another principal's stream is not, and a stream
// closed frees its place.
func TestAPrincipalsLiveStreamsAreCapped(t *testing.T) {
	e := newAccessEnv(t)
	open := func(tok string) (*http.Response, context.CancelFunc) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		hr, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/v1/live", nil)
		hr.Header.Set("Authorization", "Bearer "+tok)
		res, err := e.srv.Client().Do(hr)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		return res, cancel
	}
	// firstEvent waits for a stream's first event: its place is taken by then.
	firstEvent := func(res *http.Response) {
		t.Helper()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				return
			}
		}
		t.Fatalf("no event on /v1/live: %v", sc.Err())
	}
	var cancels []context.CancelFunc
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	for i := range api.MaxLiveEach {
		res, cancel := open(tokClerkA)
		cancels = append(cancels, cancel)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("stream %d of %d: %d", i+1, api.MaxLiveEach, res.StatusCode)
		}
		firstEvent(res)
	}
	res, cancel := open(tokClerkA)
	if res.StatusCode == http.StatusOK {
		cancel()
		t.Fatalf("stream %d of one principal was opened: the most one may hold is %d", api.MaxLiveEach+1, api.MaxLiveEach)
	}
	body, _ := io.ReadAll(res.Body)
	cancel()
	var refusal struct{ Error, Detail string }
	_ = json.Unmarshal(body, &refusal)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || refusal.Error != "unavailable" ||
		!strings.Contains(refusal.Detail, fmt.Sprint(api.MaxLiveEach)) {
		t.Fatalf("stream %d of one principal: %d, Retry-After %q, %s; want 503 with Retry-After naming the limit",
			api.MaxLiveEach+1, res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	other, cancel := open(tokSuper)
	cancels = append(cancels, cancel)
	if other.StatusCode != http.StatusOK {
		t.Fatalf("another principal's stream beside them: %d", other.StatusCode)
	}
	firstEvent(other)
	cancels[0]()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, cancel := open(tokClerkA)
		cancels = append(cancels, cancel)
		if res.StatusCode == http.StatusOK {
			firstEvent(res)
			break
		}
		res.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("a stream closed left its place taken: still %d", res.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// smallSendBuffers is a listener whose connections hold little unsent: a client that stops
// reading fills them after a few events.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(1024)
	}
	return c, err
}

// TestALiveReaderThatStopsReadingIsCutOff: a client that opened a live stream and reads nothing
// more (a tab frozen, a proxy stuck) held its stream, a goroutine and one of its principal's
// places for as long as it stayed connected (a soak's review). Once the connection's buffers are
// full, an event that waits LiveSendWait for it ends the stream: kuozheng_live_streams falls back
// to 0 while the client is still connected, and a client that reads gets its stream.
func TestALiveReaderThatStopsReadingIsCutOff(t *testing.T) {
	t.Parallel()
	l := storetest.Start(t, eventstore.Config{})
	h := api.New(api.Config{Store: l.Store, Runner: startRunner(t, l.Store), Metrics: api.NewMetrics(), LiveSendWait: 200 * time.Millisecond,
		Today: func() domain.Date { return domain.MustDate("2006-12-31") }})
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallSendBuffers{srv.Listener}
	srv.Start()
	defer srv.Close()
	streams := func() string {
		t.Helper()
		res, err := srv.Client().Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "kuozheng_live_streams "); ok {
				return v
			}
		}
		t.Fatalf("no kuozheng_live_streams in /metrics")
		return ""
	}
	stuck, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	_ = stuck.(*net.TCPConn).SetReadBuffer(1024)
	if _, err := fmt.Fprintf(stuck, "GET /v1/live HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for streams() != "1" {
		if time.Now().After(deadline) {
			t.Fatalf("the stream never opened: kuozheng_live_streams %s", streams())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Writes, each changing the views, until the stream is cut: a bounded number of them.
	writes := 0
	for ; streams() != "0"; writes++ {
		if writes == 10000 {
			t.Fatalf("after %d writes the reader that reads nothing still holds its stream", writes)
		}
		res, err := srv.Client().Post(srv.URL+"/v1/employers", "application/json", strings.NewReader(registration(orgCode(91000000+writes), "360702")))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("write %d: %d", writes, res.StatusCode)
		}
	}
	t.Logf("cut off after %d writes", writes)
	res, err := srv.Client().Get(srv.URL + "/v1/live")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("a reading client's stream after: %d", res.StatusCode)
	}
}

// TestALiveStreamOverHTTP2OutlivesItsSendWaitWhenIdle: over HTTP/2 (serve's TLS) a write deadline
// is a timer that resets the stream even while nothing is written: one left set after an event
// cut a healthy client's stream once the views stayed still for LiveSendWait (the diff's review).
// Idle for several times that, the stream still carries the next change.
func TestALiveStreamOverHTTP2OutlivesItsSendWaitWhenIdle(t *testing.T) {
	t.Parallel()
	l := storetest.Start(t, eventstore.Config{})
	wait := 100 * time.Millisecond
	srv := httptest.NewUnstartedServer(api.New(api.Config{Store: l.Store, Runner: startRunner(t, l.Store), LiveSendWait: wait,
		Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/v1/live")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.ProtoMajor != 2 {
		t.Fatalf("the stream is HTTP/%d, want 2", res.ProtoMajor)
	}
	events := make(chan string, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- d
			}
		}
	}()
	if _, ok := <-events; !ok {
		t.Fatal("no first event")
	}
	time.Sleep(5 * wait) // idle: no change, no ping
	r, err := srv.Client().Post(srv.URL+"/v1/employers", "application/json", strings.NewReader(registration(orgCode(92000001), "360702")))
	if err != nil {
		t.Fatal(err)
	}
	var written struct{ Seq uint64 }
	_ = json.NewDecoder(r.Body).Decode(&written)
	r.Body.Close()
	if r.StatusCode != http.StatusCreated || written.Seq == 0 {
		t.Fatalf("the write: %d, seq %d", r.StatusCode, written.Seq)
	}
	for d := range events {
		var ev struct{ Seq uint64 }
		if json.Unmarshal([]byte(d), &ev) == nil && written.Seq > 0 && ev.Seq >= written.Seq {
			return // the change arrived
		}
	}
	t.Fatalf("the stream ended after being idle for %v: %v", 5*wait, res.Body.Close())
}

// A live stream asked for figures=none carries the sequences only, a fiftieth of the bytes of
// one with the city's figures (the default, kept for other clients), for a page that re-reads
// what it shows; another choice of figures is refused, naming figures.
func TestALiveStreamWithoutFiguresCarriesTheSequencesOnly(t *testing.T) {
	e := newAccessEnv(t)
	lean := firstLiveEventAt(t, e, tokAdmin, "/v1/live?figures=none")
	var got map[string]any
	if err := json.Unmarshal(lean, &got); err != nil {
		t.Fatalf("figures=none: %v: %s", err, lean)
	}
	keys := []string{}
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"as_of", "caught_up", "head", "period", "seq"}; !slices.Equal(keys, want) {
		t.Errorf("figures=none: the event holds %v, want %v: %s", keys, want, lean)
	}
	if seq, _ := got["seq"].(float64); uint64(seq) != e.runner.Seq() {
		t.Errorf("figures=none: the event says sequence %v, the views are at %d", got["seq"], e.runner.Seq())
	}
	full := firstLiveEventAt(t, e, tokAdmin, "/v1/live?figures=city")
	if !strings.Contains(string(full), `"city":{`) || len(lean)*20 > len(full) {
		t.Errorf("figures=city: %d bytes, figures=none %d: want the city's figures, and twenty times the bytes of none", len(full), len(lean))
	}
	if def := firstLiveEventAt(t, e, tokAdmin, "/v1/live"); !strings.Contains(string(def), `"city":{`) {
		t.Errorf("the default event carries no city's figures: %s", def)
	}
	wantError(t, e.get(t, "/v1/live?figures=all", tokAdmin), http.StatusBadRequest, "invalid", "figures")
}
