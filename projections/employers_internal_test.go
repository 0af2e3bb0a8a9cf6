package projections

import (
	"fmt"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

func TestDifferingVisitsOnlyThePartsNotShared(t *testing.T) {
	base := NewEmployerMap()
	for i := range 3000 {
		base.Set(fmt.Sprint(i), &domain.Employer{})
	}
	visit := func(m, b *EmployerMap) (seen map[string]*domain.Employer, shared int) {
		seen = map[string]*domain.Employer{}
		shared = m.differing(b, func(id string, e, old *domain.Employer) {
			if e != m.Get(id) || old != b.Get(id) {
				t.Fatalf("%s: given %p and %p, the maps hold %p and %p", id, e, old, m.Get(id), b.Get(id))
			}
			seen[id] = e
		})
		return seen, shared
	}
	if seen, shared := visit(base.Share(), base); len(seen) != 0 || shared != 3000 {
		t.Fatalf("a copy not changed since: %d visited, %d shared; want 0 and 3000", len(seen), shared)
	}
	changed := base.Share()
	changed.Set("7", &domain.Employer{})
	changed.Set("new", &domain.Employer{})
	seen, shared := visit(changed, base)
	inParts := map[int]bool{partOf("7"): true, partOf("new"): true}
	want := 0
	for id := range base.All() {
		if inParts[partOf(id)] {
			want++
		}
	}
	if len(seen) != want+1 || shared != 3000-want || seen["7"] == nil || seen["new"] == nil {
		t.Fatalf("two employers written: %d visited (7: %v, new: %v), %d shared; want the %d of their parts and the new one, %d shared",
			len(seen), seen["7"] != nil, seen["new"] != nil, shared, want, 3000-want)
	}
	if seen, shared := visit(base, nil); len(seen) != 3000 || shared != 0 {
		t.Fatalf("against no map: %d visited, %d shared; want 3000 and 0", len(seen), shared)
	}
}
