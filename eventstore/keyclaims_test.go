package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// A key claimed through two stores on one stream at once, for two bodies, is the claim of one
// of them: that one's claim and its retries through either store are taken, the other's
// refused as an idempotency mismatch; claims are no events (the ledger's event count is
// unchanged) and a restarted store knows them.
func TestAKeyIsClaimedForOneBodyAcrossReplicas(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	ctx := context.Background()
	other, err := eventstore.Open(ctx, l.Embedded.Conn, l.Embedded.StoreConfig(eventstore.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	stores := []*eventstore.Store{l.Store, other}
	on := domain.MustDate("2006-12-20")
	events := l.Events(t)
	mismatch := func(err error) bool {
		var de *domain.Error
		return errors.As(err, &de) && de.Kind == domain.KindIdempotencyMismatch
	}
	for round := range 8 {
		key := fmt.Sprintf("batch-%d", round)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, st := range stores {
			wg.Go(func() { errs[i] = st.ClaimKey(ctx, key, fmt.Sprint("body-", i), "auditor:a", on) })
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case !mismatch(err):
				t.Fatalf("round %d: claims of one key for two bodies: %v and %v; want one taken and one idempotency mismatch", round, errs[0], errs[1])
			}
		}
		if won < 0 {
			t.Fatalf("round %d: both claims refused: %v, %v", round, errs[0], errs[1])
		}
		for _, st := range stores {
			if err := st.ClaimKey(ctx, key, fmt.Sprint("body-", won), "auditor:a", on); err != nil {
				t.Errorf("round %d: the claimed body's retry: %v; want it taken", round, err)
			}
			if err := st.ClaimKey(ctx, key, fmt.Sprint("body-", 1-won), "auditor:a", on); !mismatch(err) {
				t.Errorf("round %d: the other body's retry: %v; want an idempotency mismatch", round, err)
			}
		}
	}
	if got := l.Events(t); got != events {
		t.Errorf("claims changed the ledger's events from %d to %d; want them no events", events, got)
	}
	other.Close()
	l.Restart(t)
	if err := l.Store.ClaimKey(ctx, "batch-0", "body-x", "auditor:a", on); !mismatch(err) {
		t.Errorf("a claimed key's other body after a restart: %v; want an idempotency mismatch", err)
	}
}
