package eventstore

import (
	"context"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
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

// A reference Reference answered stays as it was when the reference data change after it: a
// late-fee rate of the same date replaces its version in place, which a copy sharing the list
// would see change under it (an outside review, with the race detector).
func TestAReferenceAnsweredDoesNotChangeUnderItsHolder(t *testing.T) {
	s, _ := testStore(t)
	held := s.Reference()
	if len(held.LateFees) == 0 {
		t.Fatal("the default reference data hold no late-fee rate")
	}
	first := held.LateFees[len(held.LateFees)-1]
	again := first
	again.DailyBP++
	if _, err := s.ExecuteRef(context.Background(), RefRequest{Payload: domain.LateFeeRatesSet{Rate: again}, On: domain.MustDate("2006-12-31"), Actor: "admin:test"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Reference().LateFees[len(held.LateFees)-1]; got.DailyBP != again.DailyBP {
		t.Fatalf("after the change the store's reference holds %+v, want %+v", got, again)
	}
	if got := held.LateFees[len(held.LateFees)-1]; got != first {
		t.Errorf("the reference held before the change reads %+v, want %+v as it was", got, first)
	}
}
