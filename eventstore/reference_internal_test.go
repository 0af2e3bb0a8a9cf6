package eventstore

import (
	"testing"
	"time"
)

// Reference answers while the store's lock is held (a writer holds it, or waits for it behind a
// reader): it is called from callbacks that run under the lock (Request.Authorize), where a
// nested read lock stopped the store (an outside review's deadlock: a registration whose code was
// taken, beside other writes). It answers the reference data as folded.
func TestReferenceAnswersUnderTheStoresLock(t *testing.T) {
	s, _ := testStore(t)
	s.mu.Lock()
	got := make(chan int, 1)
	go func() { got <- len(s.Reference().Counties) }()
	var n int
	select {
	case n = <-got:
	case <-time.After(time.Minute):
		s.mu.Unlock()
		t.Fatal("Reference waited for the store's lock")
	}
	want := len(s.ref.Counties)
	s.mu.Unlock()
	if n == 0 || n != want {
		t.Errorf("Reference under the lock lists %d counties, want the %d folded", n, want)
	}
}
