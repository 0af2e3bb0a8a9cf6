package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
