package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// natsDefaultMaxPayload is an external nats-server's default max_payload (1 MiB): a freeze is
// one message of the ledger's stream.
const natsDefaultMaxPayload = 1 << 20

// TestAFreezeOfTheDemoLedgerStaysFarBelowNATSDefaultMaxPayload: the figures of a year-end
// freeze of a demo ledger with its baseline (every county and insurance with its growth), all
// eleven segments included, take less than a quarter of an external nats-server's default
// max_payload. Their size barely depends on the payers (19 counties, eleven segments; only the
// numbers grow), so 400 payers stand for 20,000.
func TestAFreezeOfTheDemoLedgerStaysFarBelowNATSDefaultMaxPayload(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	ctx := context.Background()
	if _, err := l.Store.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.BaselineSet{Baseline: demo.Baseline2005()},
		On: domain.MustDate("2006-01-01"), Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	last := storetest.AppendDemo(t, l.Store, 400)
	f, err := projections.MakeFreeze(ctx, l.Store, last, demo.Today, nil)
	if err != nil {
		t.Fatal(err)
	}
	var parts map[string]json.RawMessage
	if err := json.Unmarshal(f.Figures, &parts); err != nil {
		t.Fatal(err)
	}
	t.Logf("figures %d bytes: counties %d, groups %d, city %d, segments %d", len(f.Figures), len(parts["counties"]), len(parts["groups"]), len(parts["city"]), len(parts["segments"]))
	if !bytes.Contains(parts["city"], []byte(`"growth":`)) {
		t.Error("the city has no growth: the baseline is not in force")
	}
	if len(f.Figures) > natsDefaultMaxPayload/4 {
		t.Errorf("a freeze's figures take %d bytes, more than a quarter of %d", len(f.Figures), natsDefaultMaxPayload)
	}
	if len(parts["segments"]) > len(parts["counties"]) {
		t.Errorf("the segments take %d bytes, more than the counties' figures (%d)", len(parts["segments"]), len(parts["counties"]))
	}
}
