package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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
