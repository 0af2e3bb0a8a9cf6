package eventstore

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"testing"
	"time"
)

// A snapshot copies the chain breaks under the lock a whole verification notes its finds under:
// one taken while a verification notes a break holds it, and never reads the map while it is
// written. (An outside review: the breaks were copied under applyMu alone, a map read while
// VerifyWhole wrote it, which maps.Clone hides from the race detector.)
func TestASnapshotWaitsForTheBreaksAVerificationNotes(t *testing.T) {
	emb, err := StartEmbedded(EmbeddedConfig{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	s, err := Open(context.Background(), emb.Conn, Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)

	s.mu.Lock() // as VerifyWhole holds it while it notes what it found
	got := make(chan int)
	go func() {
		s.applyMu.Lock() // as the follower and the idle watcher hold it for a snapshot
		defer s.applyMu.Unlock()
		got <- len(s.capture().breaks)
	}()
	waitBlocked(t, "eventstore.(*Store).capture", "[sync.RWMutex.RLock]")
	s.noteBreak("an employer", ChainBreak{Seq: 7, Reason: "found by a whole verification"})
	s.mu.Unlock()
	if n := <-got; n != 1 {
		t.Errorf("the snapshot taken while the break was noted holds %d breaks, want the one noted", n)
	}
}

// waitBlocked waits until a goroutine is blocked inside fn, in one of the wait states given
// (as a goroutine's stack names them: "[sync.Mutex.Lock]", "[select]").
func waitBlocked(t *testing.T, fn string, states ...string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); runtime.Gosched() {
		for _, g := range bytes.Split(buf[:runtime.Stack(buf, true)], []byte("\n\n")) {
			if bytes.Contains(g, []byte(fn)) && slices.ContainsFunc(states, func(s string) bool { return bytes.Contains(g, []byte(s)) }) {
				return
			}
		}
	}
	t.Fatalf("no goroutine blocked in %s (%v)", fn, states)
}
