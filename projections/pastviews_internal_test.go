package projections

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go/jetstream"
)

// unstartedRunner is a runner over a new ledger with its snapshot bucket, following nothing: a
// test hands it events.
func unstartedRunner(t *testing.T, ctx context.Context) (*Runner, jetstream.ObjectStore) {
	t.Helper()
	l := storetest.Start(t, eventstore.Config{})
	r := NewRunner(l.Store, RunnerConfig{})
	objects, err := r.snapshotBucket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.objects = objects
	return r, objects
}

// The follower folds the events it reads in runs (a store's replay it shares comes in batches,
// a caught-up follower's as the stream has them): a year's closing ends its run, so that the
// views kept at the closing are those at its sequence, not at the end of the run. Views another
// replica claimed to keep are left to it.
func TestViewsAreKeptAtAClosingInsideARunUnlessAnotherReplicaClaimedThem(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, objects := unstartedRunner(t, ctx)
	r.ready.Store(true) // caught up: closings folded from now on are kept
	r.bg.Go(func() { r.keepClosings(ctx) })
	ev := func(seq uint64, body domain.Payload) domain.Event {
		return domain.Event{Envelope: domain.Envelope{Seq: seq}, Body: body}
	}
	freeze := func(seq uint64, d string) domain.Event {
		return ev(seq, domain.FreezeMade{ID: "f" + d, ValidThrough: domain.MustDate(d), ThroughSeq: seq - 1})
	}
	closing := func(seq uint64, year int) domain.Event {
		return ev(seq, domain.YearClosed{Year: year, FreezeID: "f", Digest: "d"})
	}
	claims, err := r.keepBucket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := claims.Create(ctx, closedName(3), []byte("another replica")); err != nil {
		t.Fatal(err)
	}
	for _, run := range [][]domain.Event{
		{closing(1, 2006), freeze(2, "2007-12-31")},
		{closing(3, 2007), freeze(4, "2008-12-31")}, // claimed by another replica
		{closing(5, 2008)},
	} {
		r.applyAll(run)
	}
	// One at a time, in order: once the last closing's views are kept, the others were decided.
	kept := map[string]string{}
	storetest.CheckFor(t, time.Minute, 10*time.Millisecond, func() error {
		infos, err := objects.List(ctx)
		if err != nil {
			return err
		}
		clear(kept)
		for _, info := range infos {
			if strings.HasPrefix(info.Name, closedPrefix) {
				kept[info.Name] = info.Metadata["boundary"] + " " + info.Metadata["year"]
			}
		}
		if _, ok := kept[closedName(5)]; !ok {
			return fmt.Errorf("views kept at %v, none at the last closing", kept)
		}
		return nil
	})
	want := map[string]string{}
	for seq, year := range map[uint64]int{1: 2006, 5: 2008} {
		d, _ := domain.DateOf(year, time.December, 31)
		want[closedName(seq)] = strconv.FormatInt(int64(d), 10) + " " + strconv.Itoa(year)
	}
	if !maps.Equal(kept, want) {
		t.Errorf("views kept (name: boundary year) %v, want %v: at each closing's own sequence, compacted through its year, but the one claimed", kept, want)
	}
}

// Replicas following one stream reach a snapshot's turn together: one claimed by another
// replica is left to it, and a replica's own claim is let go once its snapshot is stored.
func TestASnapshotClaimedByAnotherReplicaIsLeftToIt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, objects := unstartedRunner(t, ctx)
	claims, err := r.keepBucket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := claims.Create(ctx, snapshotObject, []byte("another replica")); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.GetInfo(ctx, snapshotObject); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Errorf("a snapshot another replica claimed was stored (%v)", err)
	}
	if err := claims.Delete(ctx, snapshotObject); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.GetInfo(ctx, snapshotObject); err != nil {
		t.Errorf("the snapshot was not stored once unclaimed: %v", err)
	}
	if _, err := claims.Get(ctx, snapshotObject); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("the claim of the snapshot stored is still held (%v)", err)
	}
}
