package eventstore

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/kuozheng/kuozheng/domain"
	"golang.org/x/sync/errgroup"
)

// RawEvent is one stored message of an employer, with its chain check.
type RawEvent struct {
	domain.Event
	Data    []byte
	ChainOK bool
}

// Events loads one employer's events in order (see History).
func (s *Store) Events(ctx context.Context, id string) ([]domain.Event, error) {
	h, err := s.History(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Event, len(h))
	for i, ev := range h {
		out[i] = ev.Event
	}
	return out, nil
}

// History loads one employer's events in order with, for each, whether its chain link holds.
// The store knows each employer's sequences, so it reads them by direct get, several at once,
// with no consumer and no scan of the file store for the subject; recently read employers come
// from a bounded cache and only their new events are read.
func (s *Store) History(ctx context.Context, id string) ([]RawEvent, error) {
	s.mu.RLock()
	seqs := append([]uint64(nil), s.seqs[id]...)
	s.mu.RUnlock()
	cached := s.cache.get(id)
	n := 0
	for n < len(cached) && n < len(seqs) && cached[n].Seq == seqs[n] {
		n++
	}
	out := make([]RawEvent, len(seqs))
	copy(out, cached[:n])
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := n; i < len(seqs); i++ {
		g.Go(func() error {
			raw, err := s.stream.GetMsg(gctx, seqs[i])
			if err != nil {
				return fmt.Errorf("load event %d of employer %s: %w", seqs[i], id, err)
			}
			ev, derr := domain.Decode(raw.Data)
			if derr != nil {
				ev.Type = "undecodable"
			}
			ev.Seq, ev.RecordedAt, ev.Hash = raw.Sequence, raw.Time.UnixNano(), raw.Header.Get(HashHeader)
			ev.EmployerID = id
			out[i] = RawEvent{Event: ev, Data: raw.Data}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Chain links are checked on every read (the cache keeps the bytes, not the verdict).
	var prev head
	broken := false
	for i := range out {
		var derr error
		if out[i].Body == nil {
			derr = fmt.Errorf("undecodable")
		}
		if chainReason(prev, out[i].Event, out[i].Data, derr) != "" {
			broken = true
		}
		prev = head{seq: out[i].Seq, n: out[i].N, hash: out[i].Hash}
		out[i].ChainOK = !broken
	}
	if n < len(out) {
		s.cache.put(id, out)
	}
	return out, nil
}

// eventCache is a least-recently-used cache of employers' events, bounded by the number of
// events it holds (each costs its stored bytes, ~0.3–0.6 KB, plus its decoded form, ~0.5 KB).
type eventCache struct {
	mu    sync.Mutex
	limit int
	n     int
	order *list.List
	byID  map[string]*list.Element
}

type cacheEntry struct {
	id     string
	events []RawEvent
}

func newEventCache(limit int) *eventCache {
	return &eventCache{limit: limit, order: list.New(), byID: map[string]*list.Element{}}
}

func (c *eventCache) get(id string) []RawEvent {
	if c == nil || c.limit <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[id]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*cacheEntry).events
	}
	return nil
}

func (c *eventCache) put(id string, events []RawEvent) {
	if c == nil || c.limit <= 0 || len(events) > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[id]; ok {
		e := el.Value.(*cacheEntry)
		c.n += len(events) - len(e.events)
		e.events = events
		c.order.MoveToFront(el)
	} else {
		c.byID[id] = c.order.PushFront(&cacheEntry{id, events})
		c.n += len(events)
	}
	for c.n > c.limit {
		el := c.order.Back()
		e := el.Value.(*cacheEntry)
		c.order.Remove(el)
		delete(c.byID, e.id)
		c.n -= len(e.events)
	}
}

// CachedEvents is how many events the history cache holds now.
func (s *Store) CachedEvents() int {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	return s.cache.n
}
