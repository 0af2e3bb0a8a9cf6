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
// offline only minutes later).
func TestReplicaDown(t *testing.T) {
	since := func(d time.Duration) *time.Time { at := time.Now().Add(-d); return &at }
	for _, tc := range []struct {
		name   string
		leader *time.Time
		r      jetstream.PeerInfo
		down   bool
	}{
		{"known offline", since(time.Hour), jetstream.PeerInfo{Offline: true, Current: true}, true},
		{"current", since(time.Hour), jetstream.PeerInfo{Current: true, Active: 300 * time.Millisecond}, false},
		{"behind, heard from a second ago", since(time.Hour), jetstream.PeerInfo{Active: time.Second}, false},
		{"behind, unheard from for 5 s", since(time.Hour), jetstream.PeerInfo{Active: 5 * time.Second}, true},
		{"never heard from by a leader of a second", since(time.Second), jetstream.PeerInfo{}, false},
		{"never heard from by a leader of a minute", since(time.Minute), jetstream.PeerInfo{}, true},
		{"never heard from, the leader's start unknown", nil, jetstream.PeerInfo{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &jetstream.ClusterInfo{Leader: "n1", LeaderSince: tc.leader}
			if got := eventstore.ReplicaDown(c, &tc.r); got != tc.down {
				t.Fatalf("down %v, want %v", got, tc.down)
			}
		})
	}
}
