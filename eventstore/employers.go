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

// drop forgets a cached employer.
func (c *employerCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.items[id]; el != nil {
		c.order.Remove(el)
		delete(c.items, id)
	}
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
	e, _, err := s.rlockEmployerFor(ctx, id, true)
	return e, err
}

// rlockEmployerFor is rlockEmployer, caching an employer it folds only if keep; cached reports
// whether e is the cache's (shared: the caller must not change it) rather than the caller's own.
// A bulk load does not keep what it folds: its employers would push out those clerks work on,
// and most are folded once and then no more used (one with more rows than a round takes is
// folded again, from its checkpoint, each round).
func (s *Store) rlockEmployerFor(ctx context.Context, id string, keep bool) (e *domain.Employer, cached bool, err error) {
	subject := s.sub.Employer + id
	var folded uint64 // the sequence e is folded through
	applied := 0      // events applied past the checkpoint the fold started from
	for {
		s.mu.RLock()
		if c := s.cache.get(id); c != nil {
			return c, true, nil
		}
		if s.foldHead(subject).seq <= folded {
			if e != nil && keep {
				s.cache.put(e)
			}
			return e, e != nil && keep, nil
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
			return nil, false, err
		}
		// Undecodable events are skipped by the fold, and the chain check reports them.
		e.Fold(events(raws, e.ID))
		if len(raws) > 0 {
			folded = raws[len(raws)-1].Seq
			applied += len(raws)
		}
		if e.Refold {
			// A void named an event the checkpoint had folded: fold every event again.
			e, folded, applied = &domain.Employer{ID: strings.Clone(id), SkipHistory: true}, 0, checkpointAfter
			continue
		}
		if applied >= checkpointAfter && e.Version == folded {
			s.saveCheckpoint(e)
			applied = 0
		}
	}
}

// Version is employer id's version as far as this store has followed the stream (its own
// appends included): the sequence of its latest event, 0 for none.
func (s *Store) Version(id string) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.foldHead(s.sub.Employer + id).seq
}

// Employer returns a copy of an employer's write-side state; false when the employer has no
// events or they cannot be read within Config.Timeout.
func (s *Store) Employer(id string) (*domain.Employer, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	e, err := s.EmployerContext(ctx, id)
	if err != nil {
		s.log.Error("fold employer", "employer", id, "err", err)
	}
	return e, e != nil
}

// EmployerContext returns a copy of an employer's write-side state, nil when the employer has
// no events; ctx bounds reading its events when they are not cached.
func (s *Store) EmployerContext(ctx context.Context, id string) (*domain.Employer, error) {
	e, err := s.rlockEmployer(ctx, id)
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if e == nil {
		return nil, nil
	}
	return e.Clone(), nil
}

// EmployerIDs lists the ids of every employer (not the subjects that claim organisation
// codes: no employer is there).
func (s *Store) EmployerIDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for subject := range s.heads {
		if id, ok := strings.CutPrefix(subject, s.sub.Employer); ok && !s.recoded[id] {
			ids = append(ids, id)
		}
	}
	for subject := range s.ahead {
		if id, ok := strings.CutPrefix(subject, s.sub.Employer); ok && s.heads[subject].seq == 0 && !s.recoded[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// EmployerCounty returns the county an employer is in now; false when it has no events or they
// cannot be read within Config.Timeout. It is the lookup of bulk work (a clerk's import asks it
// of every row) and leaves the write side's cache as it is, as the bulk load after it does:
// EmployerCountyContext caches the employer, whose command usually follows.
func (s *Store) EmployerCounty(id string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	county, err := s.county(ctx, id, false)
	return county, err == nil && county != ""
}

// EmployerCountyContext returns the county an employer is in now, "" when it has no events; ctx
// bounds reading its events when they are not cached.
func (s *Store) EmployerCountyContext(ctx context.Context, id string) (string, error) {
	return s.county(ctx, id, true)
}

// county is an employer's county now, "" when it has no events; an employer folded for it is
// cached if keep (rlockEmployerFor).
func (s *Store) county(ctx context.Context, id string, keep bool) (string, error) {
	e, _, err := s.rlockEmployerFor(ctx, id, keep)
	if err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	if e == nil {
		return "", nil
	}
	return e.County, nil
}
