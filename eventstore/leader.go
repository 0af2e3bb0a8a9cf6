package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// leadFrom asks the stream's leadership to move to node, the server named so, unless it is
// there already: a province's city streams, each led from another node, commit on all of them at
// once. JetStream moves a leadership on request but never back by itself after a failure, so
// serve asks at every start. Only a replicated stream has a leadership to move.
func (s *Store) leadFrom(ctx context.Context, node string) error {
	if s.cfg.Replicas < 2 {
		return fmt.Errorf("--prefer-leader %s: the stream %s has one replica, whose node cannot change", node, s.cfg.Stream)
	}
	deadline := time.Now().Add(30 * time.Second)
	var downSince time.Time // when the node was first seen down in a row of looks; zero: up
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		info, err := s.stream.Info(ictx)
		cancel()
		if err == nil && info.Cluster != nil && info.Cluster.Leader == node {
			s.log.Info("the stream is led from the preferred node", "stream", s.cfg.Stream, "node", node)
			return nil
		}
		down := err == nil && info.Cluster != nil && !online(info, node)
		switch {
		case !down:
			downSince = time.Time{}
		case downSince.IsZero():
			downSince = time.Now() // one look may be stale (just after an election): look again
		case time.Since(downSince) >= seenDown:
			// Asking cannot help while it is down, and a start waits for this.
			return fmt.Errorf("the stream %s cannot be led from %s: %s is not one of its replicas that are up (its leader is %s)",
				s.cfg.Stream, node, node, info.Cluster.Leader)
		}
		if err == nil && !down {
			// nats.go's Placement has no Preferred: the request is written as the server reads it.
			req, _ := json.Marshal(map[string]any{"placement": map[string]string{"preferred": node}})
			var msg []byte
			// Each request waits a few seconds at most: an answer lost on a busy cluster must not
			// spend the caller's whole deadline.
			if m, rerr := s.nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+s.cfg.Stream, req, 5*time.Second); rerr == nil {
				msg = m.Data
			} else {
				err = rerr
			}
			var resp struct {
				Error *struct {
					Description string `json:"description"`
				} `json:"error"`
			}
			if err == nil && json.Unmarshal(msg, &resp) == nil && resp.Error != nil {
				err = fmt.Errorf("%s", resp.Error.Description)
			}
		}
		if time.Now().After(deadline) {
			if err == nil && info.Cluster != nil {
				err = fmt.Errorf("its leader stayed %s though asked to move", info.Cluster.Leader)
			}
			return fmt.Errorf("the stream %s could not be led from %s in 30 s: %v", s.cfg.Stream, node, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// online reports whether node is one of the stream's replicas and not down (ReplicaDown).
func online(info *jetstream.StreamInfo, node string) bool {
	for _, r := range info.Cluster.Replicas {
		if r.Name == node {
			return !ReplicaDown(info, r)
		}
	}
	return false
}

// ReplicaDown reports whether replica r of a stream, as its leader sees it in info, is down: known
// to be offline, or behind and unheard from for 5 s (a crashed node is marked offline only
// minutes later). A leader elected after the node crashed has never heard from it (no last
// contact at all): such a replica is down once the leader has led for 5 s, as a live one answers
// its first heartbeat within a second; how long it has led is read on the leader's own clock
// (when it answered, less when it was elected), so that this node's clock does not count.
func ReplicaDown(info *jetstream.StreamInfo, r *jetstream.PeerInfo) bool {
	if r.Offline {
		return true
	}
	if r.Current {
		return false
	}
	if r.Active == 0 {
		c := info.Cluster
		return c != nil && c.LeaderSince != nil && !info.TimeStamp.IsZero() && info.TimeStamp.Sub(*c.LeaderSince) >= unheardFor
	}
	return r.Active >= unheardFor
}

// seenDown is how long a preferred leader must be seen down, look after look, before a start
// stops asking it to lead.
const seenDown = 2 * time.Second

// unheardFor is how long a replica that is behind may go unheard before it counts as down.
const unheardFor = 5 * time.Second
