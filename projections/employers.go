package projections

import (
	"hash/maphash"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// employerParts is how many parts an EmployerMap is kept in. Sharing one copies that many
// pointers, however many employers it holds; the first change to a part after that copies the
// part, about 1/employerParts of the employers.
const employerParts = 1024

// partSeed places ids in parts; any seed will do, as long as a process keeps one.
var partSeed = maphash.MakeSeed()

// EmployerMap holds employers by id. Share gives a copy that costs the same at any size: the
// original and the copy share their parts, and each copies a part before it first changes it.
// So a copy is never changed by a change to the original, nor the original by one to the copy.
// Like a map, an EmployerMap must not be changed while anyone else reads it, and a nil one reads
// as empty.
type EmployerMap struct {
	parts [employerParts]*employerPart
	owned [employerParts]bool // parts this map alone holds, changed in place
	n     int
}

// An employerPart is behind a pointer so that two maps can tell a part they share.
type employerPart struct {
	byID map[string]*domain.Employer
}

// items is p's employers by id; a nil part has none.
func (p *employerPart) items() map[string]*domain.Employer {
	if p == nil {
		return nil
	}
	return p.byID
}

// NewEmployerMap returns an empty map.
func NewEmployerMap() *EmployerMap {
	return &EmployerMap{}
}

func partOf(id string) int {
	return int(maphash.String(partSeed, id) % employerParts)
}

// Get returns the employer with id, or nil.
func (m *EmployerMap) Get(id string) *domain.Employer {
	if m == nil {
		return nil
	}
	return m.parts[partOf(id)].items()[id]
}

// Set makes e the employer with id.
func (m *EmployerMap) Set(id string, e *domain.Employer) {
	i := partOf(id)
	if !m.owned[i] {
		byID := maps.Clone(m.parts[i].items())
		if byID == nil {
			byID = map[string]*domain.Employer{}
		}
		m.parts[i], m.owned[i] = &employerPart{byID: byID}, true
	}
	p := m.parts[i].byID
	if _, ok := p[id]; !ok {
		m.n++
	}
	p[id] = e
}

// Len returns how many employers m holds.
func (m *EmployerMap) Len() int {
	if m == nil {
		return 0
	}
	return m.n
}

// All yields every employer with its id, in no set order.
func (m *EmployerMap) All() iter.Seq2[string, *domain.Employer] {
	return func(yield func(string, *domain.Employer) bool) {
		if m == nil {
			return
		}
		for _, p := range m.parts {
			for id, e := range p.items() {
				if !yield(id, e) {
					return
				}
			}
		}
	}
}

// IDs returns every id, sorted, for output that does not change from run to run.
func (m *EmployerMap) IDs() []string {
	ids := make([]string, 0, m.Len())
	for id := range m.All() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Sorted yields every employer with its id, in the order of the ids.
func (m *EmployerMap) Sorted() iter.Seq2[string, *domain.Employer] {
	return func(yield func(string, *domain.Employer) bool) {
		type entry struct {
			id string
			e  *domain.Employer
		}
		all := make([]entry, 0, m.Len())
		for id, e := range m.All() {
			all = append(all, entry{id, e})
		}
		slices.SortFunc(all, func(a, b entry) int { return strings.Compare(a.id, b.id) })
		for _, x := range all {
			if !yield(x.id, x.e) {
				return
			}
		}
	}
}

// Share returns a copy of m. From then on m and the copy each copy a part before changing it.
// Share counts as a change to m: no one else may be reading m meanwhile.
func (m *EmployerMap) Share() *EmployerMap {
	m.owned = [employerParts]bool{}
	c := *m
	return &c
}

// differing calls fn with each employer of m in a part that base (nil: none) does not share,
// and base's employer with the same id (nil: none). It returns how many employers are in the
// parts the two share, which are the same in both.
func (m *EmployerMap) differing(base *EmployerMap, fn func(id string, e, old *domain.Employer)) (shared int) {
	for i, p := range m.parts {
		var bp *employerPart
		if base != nil {
			bp = base.parts[i]
		}
		if p == bp {
			shared += len(p.items())
			continue
		}
		for id, e := range p.items() {
			fn(id, e, bp.items()[id])
		}
	}
	return shared
}
