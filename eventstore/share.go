package eventstore

import (
	"context"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// replayShare is a reader's share of the replay Start began: the events from sequence from
// through the replay's end, decoded once for the store and the reader.
type replayShare struct {
	from    uint64
	events  chan SharedEvents
	pending SharedEvents // given, not yet passed: the follower's alone
}

// SharedEvents is a batch of events of a shared replay (ShareReplay), in stream order. It goes
// through the channel by value, so that a replay allocates nothing for passing its events.
type SharedEvents struct {
	n      int
	events [shareBatch]domain.Event
}

// Events returns the batch's events.
func (b *SharedEvents) Events() []domain.Event { return b.events[:b.n] }

const (
	// shareBatch is how many events a SharedEvents holds at most (a channel's element is
	// smaller than 64 KiB).
	shareBatch = 128
	// shareAhead is how many batches the follower may pass a sharing reader before it waits
	// for it: the reader's backlog stays bounded, and the faster of the two waits for the slower.
	shareAhead = 32
)

// ShareReplay gives the events from sequence from through the end of the replay Start began
// (the stream's last sequence then) to the returned channel, in batches, in stream order and
// decoded once for the store and the reader, as Subscribe would deliver them; the channel is
// closed after the last of them, or when the store closes. A reader that would replay the same
// events itself (the views on a first start) so folds them beside the store instead of after
// it, at the cost of one decoding. The reader must take every batch, until the channel is
// closed: the follower waits for it. It reports false, and gives nothing, when the follower is
// past from already, the replay is over, or another reader shares it; the reader then
// subscribes.
//
// The store keeps nothing of a shared event's payload (the reader may keep and change it): an
// employer's folded state it would change is dropped from its cache, to be folded again from
// the stored events when a command needs it.
func (s *Store) ShareReplay(from uint64) (<-chan SharedEvents, bool) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if from == 0 || from > s.replayTo || s.applied.Load() >= from || s.share.Load() != nil {
		return nil, false
	}
	sh := &replayShare{from: from, events: make(chan SharedEvents, shareAhead)}
	s.share.Store(sh)
	return sh.events, true
}

// shared reports whether the event at seq goes to a reader sharing the replay. The caller holds
// s.applyMu.
func (s *Store) shared(seq uint64) bool {
	sh := s.share.Load()
	return sh != nil && seq >= sh.from && seq <= s.replayTo
}

// giveShare gives a folded message to the reader sharing the replay, if it is theirs, and ends
// the share at the replay's end; passShare passes what was given since the last time. Only the
// follower calls them, giveShare after apply, passShare after a batch.
func (s *Store) giveShare(runCtx context.Context, p *prepared) {
	sh := s.share.Load()
	if sh == nil || !p.ok || p.seq < sh.from {
		return
	}
	if p.seq <= s.replayTo && !strings.HasPrefix(p.subject, s.sub.Notice) {
		if sh.pending.n == shareBatch {
			s.passShare(runCtx)
		}
		sh.pending.events[sh.pending.n] = s.sharedEvent(p)
		sh.pending.n++
	}
	if p.seq >= s.replayTo {
		s.passShare(runCtx)
		s.endShare()
	}
}

// passShare passes the reader what giveShare gave it since the last time.
func (s *Store) passShare(runCtx context.Context) {
	sh := s.share.Load()
	if sh == nil || sh.pending.n == 0 {
		return
	}
	// While it waits for the reader the follower folds nothing, but what its consumer delivers
	// meanwhile waits in its backlog, so it is not given a new one (kickFollower).
	select {
	case sh.events <- sh.pending:
	case <-runCtx.Done():
	}
	sh.pending.n = 0 // the events it holds are the reader's now, overwritten as new ones come
}

// sharedEvent is the event Subscribe would deliver for p. An employer's event is the one
// prepared, whose payload the store did not keep; reference data and freezes, which the store
// keeps, are decoded again so that the reader's copy is its own.
func (s *Store) sharedEvent(p *prepared) domain.Event {
	ev, derr := p.ev, p.derr
	id, isEmployer := strings.CutPrefix(p.subject, s.sub.Employer)
	if !isEmployer || p.own {
		ev, derr = domain.Decode(p.data)
		ev.Seq, ev.RecordedAt, ev.Hash = p.seq, p.ev.RecordedAt, p.ev.Hash
	}
	if derr != nil {
		ev.Body = nil
	}
	if isEmployer {
		ev.EmployerID = id
	}
	return ev
}

// endShare closes the share's channel, if there is one.
func (s *Store) endShare() {
	if sh := s.share.Swap(nil); sh != nil {
		close(sh.events)
	}
}
