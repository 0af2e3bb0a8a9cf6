package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// HealthTimeout bounds one Health probe when its context has no earlier deadline.
const HealthTimeout = 2 * time.Second

// ErrUnhealthy wraps every error Health answers.
var ErrUnhealthy = errors.New("eventstore: not healthy")

// Health says whether the store can write and follows the stream now: nil when it can, an error
// wrapping ErrUnhealthy that says why when it cannot. It is meant for a readiness probe (a load
// balancer sends writes elsewhere while it fails) and takes at most HealthTimeout, or until
// ctx's deadline when that comes first. It writes nothing to the stream.
//
// It fails when:
//   - the NATS connection is not connected (writes would fail at once);
//   - the data folder takes no write now: full, read-only, or the server's writes fail (the
//     error wraps the *DiskError writes are refused with);
//   - the stream does not answer its info request in time, or answers without a leader (on a
//     cluster: a leader election is under way or a quorum of its replicas is lost; writes
//     would wait for it);
//   - the store's follower stopped (its error), or it is behind the stream's last sequence and
//     folds nothing while Health waits for it (stuck: its consumer may sit on a dead node,
//     which the client notices only after missed heartbeats). A follower still catching up
//     (a replay at start, a burst of writes) is healthy as long as it advances.
//
// Health is cheap enough to call every second: one stream info request, and no wait at all
// when the follower has folded the stream's last sequence.
func (s *Store) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, HealthTimeout)
	defer cancel()
	if st := s.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("%w: NATS connection %s", ErrUnhealthy, st)
	}
	if err := s.DiskCheck(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnhealthy, err)
	}
	s.mu.RLock()
	terr := s.tailErr
	s.mu.RUnlock()
	if terr != nil {
		return fmt.Errorf("%w: following the stream stopped: %w", ErrUnhealthy, terr)
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("%w: stream %s does not answer: %w", ErrUnhealthy, s.cfg.Stream, err)
	}
	if info.Cluster != nil && info.Cluster.Leader == "" {
		return fmt.Errorf("%w: stream %s has no leader", ErrUnhealthy, s.cfg.Stream)
	}
	last := info.State.LastSeq
	from := s.applied.Load()
	if s.Reached(last) {
		return nil
	}
	err = s.WaitApplied(ctx, last)
	if err == nil || s.applied.Load() > from {
		return nil // caught up, or catching up
	}
	return fmt.Errorf("%w: the store's follower is stuck at sequence %d, the stream is at %d", ErrUnhealthy, from, last)
}
