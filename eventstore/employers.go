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

// rlockEmployer returns an employer's write-side state with s.mu read-locked, so that the state
// is exactly what the indexes know until the caller releases the lock; nil when the employer
// has no events. An employer not cached is folded, from its newest checkpoint (checkpoint.go)
// or its first event, without the lock (reading them may wait on NATS), with ctx bounding the
// reads; events that arrive meanwhile are folded too before it is cached. On error the lock is
// not held.
func (s *Store) rlockEmployer(ctx context.Context, id string) (*domain.Employer, error) {
	subject := EmployerPrefix + id
	var e *domain.Employer
	var folded uint64 // the sequence e is folded through
	applied := 0      // events applied past the checkpoint the fold started from
	for {
		s.mu.RLock()
		if c := s.cache.get(id); c != nil {
			return c, nil
		}
		if s.foldHead(subject).seq <= folded {
			if e != nil {
				s.cache.put(e)
			}
			return e, nil
		}
		s.mu.RUnlock()
		if e == nil {
			e, folded = s.checkpoint(id)
			if e == nil {
				e = &domain.Employer{ID: strings.Clone(id), SkipHistory: true}
			}
		}
		raws, err := s.employerEvents(ctx, id, folded)
		if err != nil {
			return nil, err
		}
		for _, r := range raws {
			folded = r.Seq
			applied++
			if r.Body == nil {
				continue // undecodable: the fold skips it too, and the chain check reports it
			}
			ev := r.Event
			ev.EmployerID = e.ID
			e.Apply(ev)
		}
		if applied >= checkpointAfter && e.Version == folded {
			s.saveCheckpoint(e)
			applied = 0
		}
	}
}
