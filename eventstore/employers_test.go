package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

func TestAnEmployerOutOfTheCacheIsFoldedAgainToTheSameState(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{EmployerCache: 2})
	live := map[string]*domain.Employer{}
	var ids []string
	for i := range 12 {
		id := mustExecute(t, l.Store, register(orgCode(6000+i), "360702")).EmployerID
		// More events than an archive chunk, so the state comes from chunks and the tail.
		for k := range eventstore.ChunkSize + 2 + i {
			mustExecute(t, l.Store, payment(id, fmt.Sprintf("C%d", k), int64(100+k)))
		}
		e, ok := l.Store.Employer(id)
		if !ok {
			t.Fatalf("employer %s not found right after its commands", id)
		}
		live[id] = e
		ids = append(ids, id)
	}
	for _, id := range ids {
		e, ok := l.Store.Employer(id)
		if !ok || !reflect.DeepEqual(e, live[id]) {
			t.Fatalf("employer %s folded again differs from its live state:\n%+v\nwant\n%+v", id, e, live[id])
		}
	}
	// Decisions on an employer out of the cache see its whole past: a receipt used before is refused.
	_, err := l.Store.Execute(t.Context(), payment(ids[0], "C3", 1))
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != domain.KindConflict || de.Field != "receipt_no" {
		t.Fatalf("reused receipt on an employer out of the cache: %v, want a conflict on receipt_no", err)
	}
	res := mustExecute(t, l.Store, payment(ids[1], "new", 5))
	if want := live[ids[1]].Version; res.Seq <= want {
		t.Fatalf("payment appended at %d, not after the employer's last event %d", res.Seq, want)
	}
}

// clerksLedger starts a ledger whose write side caches 4 employers, with 3 employers registered
// by a clerk's single writes, and so cached.
func clerksLedger(t *testing.T) (*storetest.Ledger, []string) {
	t.Helper()
	l := storetest.Start(t, eventstore.Config{EmployerCache: 4})
	var clerks []string
	for i := range 3 {
		clerks = append(clerks, mustExecute(t, l.Store, register(orgCode(7000+i), "360702")).EmployerID)
	}
	return l, clerks
}

// checkCached fails the test unless st caches every employer of kept and none of others, after
// what by names ran.
func checkCached(t *testing.T, st *eventstore.Store, kept, others []string, by string) {
	t.Helper()
	cached := st.CachedEmployerIDs()
	for _, id := range kept {
		if !cached[id] {
			t.Errorf("the clerks' employer %s was pushed out of the cache by %s", id, by)
		}
	}
	for _, id := range others {
		if cached[id] {
			t.Errorf("employer %s, of %s, is cached", id, by)
		}
	}
}

// The county lookup a clerk's import makes of every row leaves the write side's cache to the
// employers clerks work on, and answers as a clerk's read does.
func TestACountyLookupForAnImportLeavesTheCacheToTheEmployersClerksWorkOn(t *testing.T) {
	l, clerks := clerksLedger(t)
	var reqs []eventstore.Request
	for i := range 40 {
		county := "360702"
		if i%2 == 1 {
			county = "360721"
		}
		reqs = append(reqs, register(orgCode(7100+i), county))
	}
	var looked []string
	for i, r := range l.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
		looked = append(looked, r.EmployerID)
	}
	for _, id := range clerks {
		if _, ok := l.Store.Employer(id); !ok { // a clerk's read caches the employer
			t.Fatalf("employer %s not found", id)
		}
	}
	for i, id := range looked {
		want := "360702"
		if i%2 == 1 {
			want = "360721"
		}
		if county, ok := l.Store.EmployerCounty(id); !ok || county != want {
			t.Fatalf("employer %d: county %q (%v), want %s", i, county, ok, want)
		}
	}
	if county, ok := l.Store.EmployerCounty("no-such-employer"); ok || county != "" {
		t.Fatalf("an employer with no events: county %q (%v), want none", county, ok)
	}
	checkCached(t, l.Store, clerks, looked, "the lookups")
}

// A bulk load leaves the write side's cache to the employers clerks work on: the employers it
// folds and appends to are cached only if they were already, and those that were have its
// events folded in.
func TestABulkLoadLeavesTheCacheToTheEmployersClerksWorkOn(t *testing.T) {
	l, clerks := clerksLedger(t)
	var reqs []eventstore.Request
	for i := range 40 {
		reqs = append(reqs, register(orgCode(7100+i), "360702"))
	}
	reqs = append(reqs, payment(clerks[0], "B-clerk", 500))
	var loaded []string
	for i, r := range l.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
		if i < 40 {
			loaded = append(loaded, r.EmployerID)
		}
	}
	// Payments for the employers just registered: their states are folded from their events.
	reqs = reqs[:0]
	for i, id := range loaded {
		reqs = append(reqs, payment(id, fmt.Sprintf("B%d", i), 100))
	}
	for i, r := range l.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			t.Fatalf("payment %d: %v", i, r.Err)
		}
	}
	checkCached(t, l.Store, clerks, loaded, "the bulk load")
	if e, _ := l.Store.Employer(clerks[0]); len(e.Receipts) != 1 {
		t.Fatalf("the cached employer has %d receipts after the bulk load's payment, want 1", len(e.Receipts))
	}
	for _, id := range loaded {
		if e, _ := l.Store.Employer(id); e == nil || len(e.Receipts) != 1 || e.Version == 0 {
			t.Fatalf("employer %s of the bulk load: %+v, want registered with one receipt", id, e)
		}
	}
}
