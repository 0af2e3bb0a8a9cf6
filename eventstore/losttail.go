package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// lostTail is the run of sequences at the stream's end, as Start found it, that the stream says it
// holds but cannot give back: the end of its last block file cut off while its index still
// counts them (a disk that lost its last writes, a copy made mid-write). Consumers pass over
// them, so a replay that waited for the stream's last sequence would wait for ever.
type lostTail struct {
	from, to uint64 // 0, 0: none
	// gone says the stream no longer counts them either (its index was made again from the
	// blocks): the store's own snapshot had folded them. Their sequences are the stream's
	// next ones, so a reader waits for them as for any.
	gone bool
}

// Reached reports whether the store has followed the stream through seq: folded it, or passed it
// as one of the last messages Start found the stream had lost, which no consumer delivers.
func (s *Store) Reached(seq uint64) bool {
	applied := s.applied.Load()
	return applied >= seq || s.lost.covers(seq, applied)
}

// readable is the stream's last sequence last as a reader can reach it: before the lost tail
// while no message follows it.
func (t lostTail) readable(last uint64) uint64 {
	if t.from != 0 && !t.gone && last <= t.to {
		return min(last, t.from-1)
	}
	return last
}

// count is how many messages the tail lost.
func (t lostTail) count() int {
	if t.from == 0 {
		return 0
	}
	return int(t.to - t.from + 1)
}

// covers reports whether waiting for seq is waiting for the lost tail, with applied, what the
// store has folded, at its start.
func (t lostTail) covers(seq, applied uint64) bool {
	return t.from != 0 && !t.gone && seq <= t.to && applied+1 >= t.from
}

// readableEnd is the last sequence at or before last that the stream gives back, and the tail
// after it that it does not. The last message is asked for a few times over a second and more
// before it is taken as lost: even a stream's leader can answer "not found" for a moment (just
// elected, say). The search then halves the range, and walks on from what it found, so that a
// message missing before the tail (what a verification names) does not end it early.
func (s *Store) readableEnd(ctx context.Context, last uint64) (uint64, lostTail, error) {
	readable := func(seq uint64) (bool, error) {
		// A direct get: a node of a cluster just formed may not route it yet (no responders),
		// so it is asked again, as the stream's creation and info are.
		err := untilAvailable(ctx, StartTimeout, availableAttempt, s.log, fmt.Sprintf("read message %d", seq), func(ctx context.Context) error {
			_, err := s.getMsg(ctx, seq, "")
			return err
		})
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	if last == 0 {
		return 0, lostTail{}, nil
	}
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		ok, err := readable(last)
		if ok || err != nil {
			return last, lostTail{}, err
		}
		if wait > time.Second {
			break
		}
		if pause(ctx, wait); ctx.Err() != nil {
			return 0, lostTail{}, ctx.Err()
		}
	}
	lo, hi := uint64(0), last // lo readable (0: none), hi not
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := readable(mid)
		if err != nil {
			return 0, lostTail{}, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	for seq := lo + 1; seq < last; seq++ {
		ok, err := readable(seq)
		if err != nil {
			return 0, lostTail{}, err
		}
		if ok {
			lo = seq
		}
	}
	return lo, lostTail{from: lo + 1, to: last}, nil
}

// String says what the tail lost, for a verification and the log.
func (t lostTail) String() string {
	if t.gone {
		// The snapshot is of what was folded when it was taken: more may have been lost since.
		return fmt.Sprintf("the store's snapshot had folded the stream to sequence %d, but it ends at %d: at least %d acknowledged %s lost", t.to, t.from-1, t.count(), plural(t.count(), "event was", "events were"))
	}
	return fmt.Sprintf("the stream says it ends at sequence %d, but its messages from %d on cannot be read: %d acknowledged %s lost", t.to, t.from, t.count(), plural(t.count(), "event was", "events were"))
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
