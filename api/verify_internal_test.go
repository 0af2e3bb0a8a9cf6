package api

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// Callers that ask while a verification runs share it: one run, one answer for all of them; a
// caller after it ended starts another.
func TestVerificationsAskedAtOnceShareOneRun(t *testing.T) {
	var v verifyRuns
	var runs atomic.Int32
	release := make(chan struct{})
	do := func() (Verification, error) {
		n := runs.Add(1)
		<-release
		return Verification{}, fmt.Errorf("run %d", n)
	}
	const callers = 8
	got := make([]*verifyRun, callers)
	var joined sync.WaitGroup
	for i := range callers {
		joined.Go(func() { got[i] = v.join(do) })
	}
	joined.Wait()
	close(release)
	for i, run := range got {
		<-run.done
		if run != got[0] || run.err == nil || run.err.Error() != "run 1" {
			t.Fatalf("caller %d got run %p (%v); want the first's, run 1", i, run, run.err)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d callers at once made %d runs, want 1", callers, n)
	}
	next := v.join(do)
	<-next.done
	if next == got[0] || runs.Load() != 2 || next.err.Error() != "run 2" {
		t.Fatalf("a caller after the run ended got %v (runs %d); want a run of its own", next.err, runs.Load())
	}
}
