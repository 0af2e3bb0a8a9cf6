package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// Rebuild folds the whole stream from sequence 1 through seq into a new ledger.
func Rebuild(ctx context.Context, store *eventstore.Store, through uint64) (*Ledger, error) {
	return Replay(ctx, store, through, nil)
}

// Replay is Rebuild telling progress (the sequence reached) about once a second.
func Replay(ctx context.Context, store *eventstore.Store, through uint64, progress func(seq uint64)) (*Ledger, error) {
	l := NewLedger()
	l.Source = StoreSource{Store: store}
	if through == 0 {
		return l, nil
	}
	return l, ReplayOnto(ctx, store, l, through, progress)
}

// ReplayOnto folds the events after l.Seq through `through` into l.
func ReplayOnto(ctx context.Context, store *eventstore.Store, l *Ledger, through uint64, progress func(seq uint64)) error {
	// Never wait for sequences the stream does not hold (lost to damage, or not yet written).
	last, err := store.LastSeq(ctx)
	if err != nil {
		return err
	}
	through = min(through, last)
	if l.Seq >= through {
		return nil
	}
	stop := errors.New("done")
	told := time.Now()
	err = store.Subscribe(ctx, l.Seq+1, func(ev domain.Event) error {
		if ev.Seq > through {
			return stop
		}
		l.Apply(ev)
		if progress != nil && time.Since(told) > time.Second {
			told = time.Now()
			progress(ev.Seq)
		}
		if ev.Seq >= through {
			return stop
		}
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return err
	}
	return l.Err()
}

// Copy returns a copy of the live views for work that folds further on its own: each employer
// and the reference data copied as the follower copies them before changing them, so that
// neither side's folding changes the other's. It is made from a read-only copy (Current),
// holding up neither the follower nor readers.
func (r *Runner) Copy() (*Ledger, error) {
	cur := r.Current()
	l := &Ledger{Seq: cur.Seq, Ref: cur.Ref.Clone(), Employers: NewEmployerMap(),
		Order: slices.Clone(cur.Order), Boundary: cur.Boundary, KeepFrom: cur.KeepFrom, Source: r.cfg.Events}
	for id, e := range cur.Employers.All() {
		l.Employers.Set(id, e.Clone())
	}
	return l, nil
}

// ViewCheck is the outcome of comparing the live views with a rebuild from sequence 1.
type ViewCheck struct {
	Seq         uint64   `json:"seq"`
	OK          bool     `json:"ok"`
	Differences []string `json:"differences"`
}

// VerifyRebuild copies the live views at their current sequence, rebuilds the views from
// sequence 1 through the same sequence, and compares the two as of asOf.
func (r *Runner) VerifyRebuild(ctx context.Context, asOf domain.Date) (ViewCheck, error) {
	live, err := r.Copy()
	if err != nil {
		return ViewCheck{}, err
	}
	rebuilt, err := Rebuild(ctx, r.store, live.Seq)
	if err != nil {
		return ViewCheck{}, fmt.Errorf("rebuild: %w", err)
	}
	diffs := Compare(live, rebuilt, VerifyQueries(&live.Ref, asOf))
	return ViewCheck{Seq: live.Seq, OK: len(diffs) == 0, Differences: append([]string{}, diffs...)}, nil
}
