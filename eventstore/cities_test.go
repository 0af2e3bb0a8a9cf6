package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// Two cities' ledgers on one server keep their own streams, subjects and reference data: an
// employer of one is neither seen nor accepted by the other, and each restarts on its own.
func TestCitiesKeepTheirOwnLedgersOnOneServer(t *testing.T) {
	ganzhou := storetest.Start(t, eventstore.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	xinyu, err := eventstore.Open(ctx, ganzhou.Embedded.Conn, eventstore.Config{Ledger: "360500"})
	if err != nil {
		t.Fatal(err)
	}
	defer xinyu.Close()

	if got := ganzhou.Store.Subjects(); got.Stream != "LEDGER" || got.Employer != eventstore.EmployerPrefix {
		t.Fatalf("Ganzhou's ledger is named %+v, want the names ledgers always had", got)
	}
	if got := xinyu.Subjects(); got.Stream != "LEDGER_360500" || !strings.HasPrefix(got.Employer, "city.360500.") {
		t.Fatalf("Xinyu's ledger is named %+v, want LEDGER_360500 and city.360500.>", got)
	}
	if ref := xinyu.Reference(); ref.City().Code != "360500" || len(ref.Counties) != 2 || ref.Counties[0].Code != "360502" {
		t.Fatalf("Xinyu's reference data: city %s, counties %+v", ref.City().Code, ref.Counties)
	}
	if ref := ganzhou.Store.Reference(); ref.City().Name != "赣州市" || len(ref.Counties) != 19 {
		t.Fatalf("Ganzhou's reference data: city %s, %d counties", ref.City().Name, len(ref.Counties))
	}

	res := mustExecute(t, xinyu, register(orgCode(7001), "360502"))
	if _, err := xinyu.Execute(ctx, register(orgCode(7002), "360702")); !errors.As(err, new(*domain.Error)) {
		t.Fatalf("a Ganzhou county in Xinyu's ledger: %v, want a domain error", err)
	}
	if _, err := ganzhou.Store.Execute(ctx, register(orgCode(7003), "360502")); !errors.As(err, new(*domain.Error)) {
		t.Fatalf("a Xinyu county in Ganzhou's ledger: %v, want a domain error", err)
	}
	if ids := ganzhou.Store.EmployerIDs(); len(ids) != 0 {
		t.Fatalf("Ganzhou's ledger sees %v", ids)
	}
	if ids := xinyu.EmployerIDs(); len(ids) != 1 || ids[0] != res.EmployerID {
		t.Fatalf("Xinyu's ledger sees %v, want %s", ids, res.EmployerID)
	}
	if n := ganzhou.MessageCount(t); n != uint64(len(domain.DefaultReferenceEvents())) {
		t.Fatalf("Ganzhou's stream holds %d messages, want only its reference data", n)
	}

	// A restart of the server: each ledger opens again on its own stream, nothing written twice.
	xinyu.Close()
	ganzhou.Restart(t)
	again, err := eventstore.Open(ctx, ganzhou.Embedded.Conn, eventstore.Config{Ledger: "360500"})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if ids := again.EmployerIDs(); len(ids) != 1 || ids[0] != res.EmployerID {
		t.Fatalf("after a restart Xinyu's ledger sees %v", ids)
	}
	city, _ := domain.CityOf("360500")
	if n, _ := again.LastSeq(ctx); n != uint64(len(city.ReferenceEvents()))+1 {
		t.Fatalf("Xinyu's stream holds %d messages, want its reference data and one registration", n)
	}
}

func TestALedgerOfACityWithoutReferenceDataIsRefused(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ledger := range []string{"999900", "36050", "360502", "abcdef"} {
		if _, err := eventstore.Open(ctx, l.Embedded.Conn, eventstore.Config{Ledger: ledger}); err == nil || !strings.Contains(err.Error(), "ledger") {
			t.Errorf("ledger %q: %v, want a refusal naming the ledger", ledger, err)
		}
	}
}
