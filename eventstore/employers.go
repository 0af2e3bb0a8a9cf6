package eventstore

import (
	"container/list"
	"context"
	"strings"
	"sync"

	"github.com/kuozheng/kuozheng/domain"
)

// employerCache holds the write side's folded state of the employers used most recently. The
// others are folded again from their stored events when a command needs them: holding every
// employer's state was a quarter of serve's memory, for employers most commands never touch.
type employerCache struct {
	mu    sync.Mutex
	max   int
	items map[string]*list.Element // of *domain.Employer
	order *list.List               // most recently used first
}

func newEmployerCache(max int) *employerCache {
	return &employerCache{max: max, items: map[string]*list.Element{}, order: list.New()}
}

// get returns a cached employer, or nil.
func (c *employerCache) get(id string) *domain.Employer {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.items[id]
	if el == nil {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*domain.Employer)
}

// put caches an employer, dropping the least recently used beyond the bound.
func (c *employerCache) put(e *domain.Employer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.items[e.ID]; el != nil {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.items[e.ID] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*domain.Employer).ID)
	}
}

// employer returns an employer's write-side state, folding it from its stored events when it is
// not cached; nil when the employer has no events. The caller holds s.mu, for reading or
// writing, so the events folded are exactly those the indexes know.
func (s *Store) employer(ctx context.Context, id string) (*domain.Employer, error) {
	if e := s.cache.get(id); e != nil {
		return e, nil
	}
	seqs := s.seqs[id]
	if len(seqs) == 0 {
		return nil, nil
	}
	raws, err := s.readEvents(ctx, id, seqs)
	if err != nil {
		return nil, err
	}
	e := &domain.Employer{ID: strings.Clone(id), SkipHistory: true}
	for _, r := range raws {
		if r.Body == nil {
			continue // undecodable: the fold skips it too, and the chain check reports it
		}
		ev := r.Event
		ev.EmployerID = e.ID
		e.Apply(ev)
	}
	s.cache.put(e)
	return e, nil
}
