package eventstore_test

import (
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
