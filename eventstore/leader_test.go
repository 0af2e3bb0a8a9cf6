package eventstore_test

import (
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go/jetstream"
)

// A replica is down, as its stream's leader sees it, when it is known offline, or behind and
// unheard from for 5 s, or behind and never heard from by a leader that has led for 5 s (elected
// after the node crashed: nats-server then reports no last contact at all, and marks the node
// offline only minutes later), how long it has led read on the leader's own clock.
func TestReplicaDown(t *testing.T) {
	now := time.Now()
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, tc := range []struct {
		name          string
		answered, led *time.Time // when the leader answered, and since when it has led, on its clock
		r             jetstream.PeerInfo
		down          bool
	}{
		{"known offline", at(0), at(-time.Hour), jetstream.PeerInfo{Offline: true, Current: true}, true},
		{"current", at(0), at(-time.Hour), jetstream.PeerInfo{Current: true, Active: 300 * time.Millisecond}, false},
		{"behind, heard from a second ago", at(0), at(-time.Hour), jetstream.PeerInfo{Active: time.Second}, false},
		{"behind, unheard from for 5 s", at(0), at(-time.Hour), jetstream.PeerInfo{Active: 5 * time.Second}, true},
		{"never heard from by a leader of a second", at(0), at(-time.Second), jetstream.PeerInfo{}, false},
		{"never heard from by a leader of a minute", at(0), at(-time.Minute), jetstream.PeerInfo{}, true},
		{"never heard from, the leader's start unknown", at(0), nil, jetstream.PeerInfo{}, false},
		// This node's clock 10 s ahead of the leader's: it has led 1 s, not 11.
		{"a leader of a second whose clock is 10 s behind this node's", at(-10 * time.Second), at(-11 * time.Second), jetstream.PeerInfo{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := &jetstream.StreamInfo{TimeStamp: *tc.answered, Cluster: &jetstream.ClusterInfo{Leader: "n1", LeaderSince: tc.led}}
			if got := eventstore.ReplicaDown(info, &tc.r); got != tc.down {
				t.Fatalf("down %v, want %v", got, tc.down)
			}
		})
	}
}
