package projections_test

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// contents is what m holds, as a plain map, read through All.
func contents(t *testing.T, m *projections.EmployerMap) map[string]*domain.Employer {
	t.Helper()
	got := map[string]*domain.Employer{}
	for id, e := range m.All() {
		if _, twice := got[id]; twice {
			t.Fatalf("All yields %s twice", id)
		}
		got[id] = e
	}
	if len(got) != m.Len() {
		t.Fatalf("All yields %d employers, Len says %d", len(got), m.Len())
	}
	return got
}

func TestEmployerMapCopiesAreIndependent(t *testing.T) {
	const n = 5000 // several employers in every part
	emp := func(i int) *domain.Employer { return &domain.Employer{ID: fmt.Sprintf("e%04d", i)} }
	m := projections.NewEmployerMap()
	want := map[string]*domain.Employer{}
	for i := range n {
		e := emp(i)
		m.Set(e.ID, e)
		want[e.ID] = e
	}
	tests := []struct {
		name   string
		change func(orig, copy *projections.EmployerMap) (changed *projections.EmployerMap)
	}{
		{"a change to the original after a copy leaves the copy as it was", func(orig, _ *projections.EmployerMap) *projections.EmployerMap {
			orig.Set("e0001", emp(1))
			orig.Set("new", emp(n))
			return orig
		}},
		{"a change to the copy leaves the original as it was", func(_, copy *projections.EmployerMap) *projections.EmployerMap {
			copy.Set("e0002", emp(2))
			copy.Set("new", emp(n))
			return copy
		}},
		{"a copy of a copy is independent of both", func(_, copy *projections.EmployerMap) *projections.EmployerMap {
			c2 := copy.Share()
			c2.Set("e0003", emp(3))
			return c2
		}},
		{"every part changed after a copy leaves the copy as it was", func(orig, _ *projections.EmployerMap) *projections.EmployerMap {
			for i := range n {
				orig.Set(fmt.Sprintf("e%04d", i), emp(i))
			}
			return orig
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := projections.NewEmployerMap()
			for id, e := range want {
				orig.Set(id, e)
			}
			copy := orig.Share()
			changed := tt.change(orig, copy)
			for _, side := range []*projections.EmployerMap{orig, copy} {
				got := contents(t, side)
				if side == changed {
					if maps.Equal(got, want) {
						t.Fatal("the changed map holds what it held before")
					}
					continue
				}
				if !maps.Equal(got, want) {
					t.Fatalf("the unchanged map changed: %d employers, want %d", len(got), len(want))
				}
			}
		})
	}
}

func TestEmployerMapCountsEachIDOnce(t *testing.T) {
	m := projections.NewEmployerMap()
	a, b := &domain.Employer{}, &domain.Employer{}
	m.Set("x", a)
	m.Set("x", b)
	m.Set("y", a)
	if m.Len() != 2 || m.Get("x") != b || m.Get("y") != a || m.Get("z") != nil {
		t.Fatalf("Len %d, x %p (want %p), y %p (want %p), z %v", m.Len(), m.Get("x"), b, m.Get("y"), a, m.Get("z"))
	}
	if ids := m.IDs(); !slices.Equal(ids, []string{"x", "y"}) {
		t.Fatalf("IDs = %v, want [x y]", ids)
	}
}

func TestANilEmployerMapReadsAsEmpty(t *testing.T) {
	var m *projections.EmployerMap
	if m.Get("x") != nil || m.Len() != 0 || len(m.IDs()) != 0 || len(contents(t, m)) != 0 {
		t.Fatal("a nil map holds employers")
	}
}

func TestEmployerMapIDsAreSorted(t *testing.T) {
	m := projections.NewEmployerMap()
	var want []string
	for i := range 3000 {
		id := fmt.Sprintf("%08x", uint32(i)*2654435761)
		m.Set(id, &domain.Employer{})
		want = append(want, id)
	}
	slices.Sort(want)
	if got := m.IDs(); !slices.Equal(got, want) {
		t.Fatalf("IDs gives %d ids out of order or incomplete", len(got))
	}
	var sorted []string
	for id, e := range m.Sorted() {
		if e != m.Get(id) {
			t.Fatalf("Sorted gives %s another employer than Get", id)
		}
		sorted = append(sorted, id)
	}
	if !slices.Equal(sorted, want) {
		t.Fatalf("Sorted yields %d ids out of order or incomplete", len(sorted))
	}
}

// The race detector checks that a reader of a copy and a writer of the original touch nothing
// in common.
func TestEmployerMapCopyIsReadWhileTheOriginalChanges(t *testing.T) {
	m := projections.NewEmployerMap()
	for i := range 2000 {
		m.Set(fmt.Sprint(i), &domain.Employer{})
	}
	copy := m.Share()
	want := contents(t, copy)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 4000 {
			m.Set(fmt.Sprint(i), &domain.Employer{})
			if i%500 == 0 {
				m.Share()
			}
		}
	})
	for range 5 {
		if got := contents(t, copy); !maps.Equal(got, want) {
			t.Errorf("the copy changed while it was read: %d employers, want %d", len(got), len(want))
		}
	}
	wg.Wait()
	if m.Len() != 4000 || copy.Len() != 2000 {
		t.Fatalf("the original holds %d, the copy %d; want 4000 and 2000", m.Len(), copy.Len())
	}
}
