package projections

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// The follower folds the events it reads in runs (a store's replay shared at start comes in
// batches): a year's closing inside a run ends it, so that the views kept at the closing are
// those at its sequence, not at the end of the run.
func TestViewsAreKeptAtEachClosingInsideARun(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := NewRunner(l.Store, RunnerConfig{})
	objects, err := r.snapshotBucket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.objects = objects
	var evs []domain.Event
	for i, year := range []int{2006, 2007, 2008} {
		evs = append(evs, domain.Event{Envelope: domain.Envelope{Seq: uint64(i + 1)}, Body: domain.YearClosed{Year: year, FreezeID: "f", Digest: "d"}})
	}
	r.applyAll(evs)
	r.keepClosings(ctx)
	r.bg.Wait()
	infos, err := objects.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]string{}
	for _, info := range infos {
		if strings.HasPrefix(info.Name, closedPrefix) {
			kept[info.Name] = info.Metadata["boundary"]
		}
	}
	want := map[string]string{}
	for i, year := range []int{2006, 2007, 2008} {
		d, _ := domain.DateOf(year, time.December, 31)
		want[closedName(uint64(i+1))] = strconv.FormatInt(int64(d), 10)
	}
	if !maps.Equal(kept, want) {
		t.Errorf("views kept (name: boundary) %v, want %v: one at each closing, compacted through its year", kept, want)
	}
}
