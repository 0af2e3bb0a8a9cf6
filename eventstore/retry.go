package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

// RetryTimeoutDefault is the default of Config.RetryTimeout.
const RetryTimeoutDefault = 10 * time.Second

// ErrContended: a write lost the race to other writers of its subject (another API replica
// writing the same employer) on every attempt for Config.RetryTimeout, or until its context's
// deadline; this attempt recorded nothing. It is not a stale If-Match (ErrStale): the caller sent
// none. The error also carries a domain.Error of kind conflict whose detail asks to retry.
var ErrContended = errors.New("eventstore: other writers kept changing the subject; retry")

// contendedError is the answer of a write that gave up racing: ErrContended, and a conflict
// (409) for the caller's client that says to retry.
type contendedError struct {
	attempts int
	took     time.Duration
	last     error
}

func (e *contendedError) Error() string {
	return fmt.Sprintf("%v: gave up after %d lost races in %v (last: %v)", ErrContended, e.attempts, e.took.Round(time.Millisecond), e.last)
}

func (e *contendedError) Unwrap() []error {
	return []error{ErrContended, &domain.Error{Kind: domain.KindConflict,
		Detail: "other writers kept changing the employer while this write was decided, and it was not recorded; " +
			"conflict, retry (with the same Idempotency-Key)"}}
}

// Backoff between attempts: a random pause up to a bound that doubles from retryPauseMin after
// each lost race, up to retryPauseMax. Random, so that two replicas that collided do not collide
// again in step; short, so that a loser tries again often within its budget.
const (
	retryPauseMin = 500 * time.Microsecond
	retryPauseMax = 20 * time.Millisecond
)

// retrier paces the attempts of one write that loses races, within a budget of time.
type retrier struct {
	s        *Store
	start    time.Time
	until    time.Time
	deadline time.Time // ctx's, or retryStretch budgets from the start without one
	attempts int
}

// retryStretch bounds how far catching up may stretch a write's budget without a deadline (an
// import, the command line): a few budgets, not without end while it holds its employer's lock.
const retryStretch = 4

// retrier starts the budget of a write: Config.RetryTimeout, or until ctx's deadline if sooner.
func (s *Store) retrier(ctx context.Context) *retrier {
	now := time.Now()
	r := &retrier{s: s, start: now, until: now.Add(s.cfg.RetryTimeout), deadline: now.Add(retryStretch * s.cfg.RetryTimeout)}
	if d, ok := ctx.Deadline(); ok {
		r.deadline = d
		r.until = minTime(r.until, d)
	}
	return r
}

// catchUp is Store.CatchUp for a write between its attempts. The time it waits (for a leader
// after a failover, for a follower given a new consumer, for a follower behind) is not time
// racing other writers, so it is added to the budget, up to ctx's deadline (or retryStretch
// budgets): a write that waited out an election tries again on the state it caught up with,
// rather than answering that others kept changing its employer.
func (r *retrier) catchUp(ctx context.Context) error {
	began := time.Now()
	err := r.s.CatchUp(ctx)
	r.until = minTime(r.until.Add(time.Since(began)), r.deadline)
	return err
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// again waits before the next attempt of a write whose attempt failed with cause (a lost race, a
// duplicate in process). It returns nil when the write is to be tried again, and the error to
// answer when the budget is spent (a contendedError) or ctx ended.
func (r *retrier) again(ctx context.Context, cause error) error {
	r.attempts++
	bound := min(retryPauseMin<<min(r.attempts-1, 16), retryPauseMax)
	pause := time.Duration(rand.Int64N(int64(bound))) + 1
	if time.Now().Add(pause).After(r.until) {
		return &contendedError{attempts: r.attempts, took: time.Since(r.start), last: cause}
	}
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (after %d lost races: %v)", ctx.Err(), r.attempts, cause)
	}
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
