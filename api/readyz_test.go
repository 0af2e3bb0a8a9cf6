package api_test

import (
	"context"
	"errors"
	"io"
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

func TestADamagedLedgerIsNotReadyAndSaysWhy(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	r := startRunner(t, l.Store)
	srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: r, Damage: "employer x breaks at sequence 42",
		Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "breaks at sequence 42") || !strings.Contains(string(body), "--accept-damage") {
		t.Fatalf("/readyz of a damaged ledger: %d %s", resp.StatusCode, body)
	}
}

// TestALedgerIsReadyOnlyOnceItsLiveReportIsComputed: after WarmWhenReady, /readyz answers 503
// "warming up" until the live report is computed (and logged), then 200.
func TestALedgerIsReadyOnlyOnceItsLiveReportIsComputed(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	loadDemoLedger(t, l.Store, 100)
	r := startRunner(t, l.Store)
	var log storetest.SyncBuffer
	h := api.New(api.Config{Store: l.Store, Runner: r, Log: slog.New(slog.NewTextHandler(&log, nil)),
		Today: func() domain.Date { return domain.MustDate("2006-12-31") }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	readyz := func() (int, string) {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := readyz(); code != http.StatusOK {
		t.Fatalf("/readyz with the views caught up and nothing to warm: %d %s", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	warmed := h.WarmWhenReady(ctx)
	select {
	case <-warmed:
		if !strings.Contains(log.String(), "live report computed") {
			t.Fatalf("WarmWhenReady said it was done before the live report was computed; log: %s", log.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("WarmWhenReady never said it was done")
	}
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		code, body := readyz()
		switch {
		case code == http.StatusServiceUnavailable && strings.Contains(body, "warming up"):
			return errors.New("warming up")
		case code != http.StatusOK:
			t.Fatalf("/readyz while warming: %d %s", code, body)
		case !strings.Contains(log.String(), "live report computed"):
			t.Fatalf("/readyz 200 before the live report was computed; log: %s", log.String())
		}
		return nil
	})
}

// TestAnAcceptedDamageIsReadyAndStillDamagedToTheScraper: --accept-damage serves a damaged ledger
// (/readyz 200), and kuozheng_ledger_damaged still reads 1: the alert stands until the ledger is
// restored (it read 0, as if verification had found nothing).
func TestAnAcceptedDamageIsReadyAndStillDamagedToTheScraper(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	r := startRunner(t, l.Store)
	m := api.NewMetrics()
	srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: r, Metrics: m, AcceptedDamage: "employer x breaks at sequence 42",
		Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if resp.StatusCode != http.StatusOK || !strings.Contains(rec.Body.String(), "\nkuozheng_ledger_damaged 1\n") {
		t.Fatalf("/readyz %d; metrics:\n%s\nwant ready and kuozheng_ledger_damaged 1", resp.StatusCode, rec.Body)
	}
}
