package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/projections"
)

// loadYears generates and appends the demo ledger from 2006 through last: for each year its
// reference data, then its payers' steps batch by batch (the next batch generated while one is
// appended), then, but for the last year, the year-end freeze and the closing. A year an
// earlier run closed is not generated again; everything else is appended with idempotency
// keys, so a run after an interrupted one appends only what is missing.
func loadYears(ctx context.Context, store *eventstore.Store, cfg demo.Config, last int, w io.Writer) (demoSummary, error) {
	if cfg.Employers <= 0 {
		cfg.Employers = 20000
	}
	if cfg.Seed == 0 {
		cfg.Seed = 2006
	}
	var sum demoSummary
	c := demo.NewCampaign(cfg)
	p := newDemoProgress(w, last)
	views := &parkedViews{store: store}
	for y := demo.FirstYear; y <= last; y++ {
		if y > demo.FirstYear {
			if err := c.Next(); err != nil {
				return sum, err
			}
		}
		// Before a year is skipped as closed: a run of another seed or size must not go on
		// with the years after those another run closed.
		if y == demo.FirstYear {
			if err := ownLedger(ctx, store, cfg, c); err != nil {
				return sum, err
			}
		}
		ys := yearSummary{year: y}
		if closedSeq(store, y) != 0 {
			ys.skipped = true
			sum.years = append(sum.years, ys)
			continue
		}
		start := time.Now()
		if err := writeReference(ctx, store, cfg, c); err != nil {
			return sum, err
		}
		state := stateAt(ctx, store, closedSeq(store, y-1))
		appended, err := yearAppended(ctx, store, cfg, c, state)
		if err != nil {
			return sum, err
		}
		if appended {
			ys.appendedBefore = true
		} else if err := appendYear(ctx, store, cfg, c, state, p, &ys); err != nil {
			return sum, err
		}
		ys.took = time.Since(start)
		if !appended {
			ys.stats = c.Stats()
		}
		if y < last {
			start := time.Now()
			l, err := views.take(ctx)
			if err != nil {
				return sum, err
			}
			if err := closeYear(ctx, store, cfg, y, l, p); err != nil {
				return sum, err
			}
			ys.froze = time.Since(start)
			if y < last-1 {
				if err := views.park(l); err != nil {
					return sum, err
				}
			}
		}
		p.yearDone(ys)
		sum.years = append(sum.years, ys)
		sum.commands += ys.commands
		if !appended {
			sum.payers = ys.stats.Active
		}
	}
	return sum, store.CatchUp(ctx)
}

// parkedViews are the views the year-end freezes fold on from one year to the next, so that
// each event is folded once. Between two freezes they are kept compressed: the year's appends
// need the memory, and only the freeze reads them.
type parkedViews struct {
	store *eventstore.Store
	data  []byte // a snapshot of the views, nil before the run's first freeze
}

// take returns the views: the parked ones, or at the run's first freeze those serve last saved
// (a run going on with a ledger an earlier one made), else empty ones. Either way they read
// employers from the store, so that each closing compacts them as it does serve's.
func (v *parkedViews) take(ctx context.Context) (*projections.Ledger, error) {
	if v.data == nil {
		if len(v.store.EmployerIDs()) > 0 {
			if l, err := projections.SavedViews(ctx, v.store); err == nil {
				return l, nil
			}
		}
		l := projections.NewLedger()
		l.Source = projections.StoreSource{Store: v.store}
		return l, nil
	}
	l, err := projections.RestoreLedgerBytes(v.data)
	if err != nil {
		return nil, fmt.Errorf("demo: the views parked since the last freeze: %w", err)
	}
	v.data = nil
	l.Source = projections.StoreSource{Store: v.store}
	return l, nil
}

// park keeps l, compressed, until the next freeze.
func (v *parkedViews) park(l *projections.Ledger) error {
	data, err := l.SnapshotBytes()
	if err != nil {
		return fmt.Errorf("demo: parking the views until the next freeze: %w", err)
	}
	v.data = data
	return nil
}

// closedSeq is the stream sequence of year y's closing, 0 while it is open.
func closedSeq(store *eventstore.Store, y int) uint64 {
	for _, r := range store.Years(domain.Date(0)) {
		if r.Year == y && r.Closed {
			return r.ClosedSeq
		}
	}
	return 0
}

// ownLedger refuses a ledger that holds the demo's first payer other than by this demo's steps
// (a ledger made by an older demo, or with another --employers): appending to it would record
// the payers' steps twice. The first step is appended here, and found there by the year.
func ownLedger(ctx context.Context, store *eventstore.Store, cfg demo.Config, c *demo.Campaign) error {
	if err := store.CatchUp(ctx); err != nil {
		return err
	}
	n := len(store.EmployerIDs())
	if n == 0 {
		return nil
	}
	recorded, err := begunBy(store, cfg, c)
	if err != nil {
		return err
	}
	if !recorded {
		return fmt.Errorf("demo: the ledger holds %d employers but not the first payer of a demo of seed %d and %d payers (another --seed or --employers, an older demo, or a ledger of clerks' records); the demo appends to an empty ledger or to one it made with the same --seed and --employers; nothing was appended",
			n, cfg.Seed, cfg.Employers)
	}
	return nil
}

// begunBy reports whether the store holds the first step of the demo of cfg, whose campaign c
// has not moved past its first year. A run of a seed and size appends its first payer's first
// step before any other: a ledger with employers but without that step's key was made
// otherwise, and a run would mix its payers into it.
func begunBy(store *eventstore.Store, cfg demo.Config, c *demo.Campaign) (bool, error) {
	steps, err := c.Steps(0, 1, nil)
	if err != nil || len(steps) == 0 {
		return false, err
	}
	return store.Recorded(demoRequests(cfg, c, steps[:1])[0].IdempotencyKey)
}

// writeReference appends the year's reference data before its activity.
func writeReference(ctx context.Context, store *eventstore.Store, cfg demo.Config, c *demo.Campaign) error {
	for i, r := range c.Reference() {
		key := demoKey(cfg, c.Year(), fmt.Sprint("ref-", i))
		err := retryUnknown(ctx, store, func() error {
			_, err := store.ExecuteRef(ctx, eventstore.RefRequest{Payload: r.Payload, On: r.On, IdempotencyKey: key, BodyHash: key, Actor: demoActor})
			return err
		})
		if err != nil {
			return fmt.Errorf("demo: %d reference data %s: %w", c.Year(), r.Payload.EventType(), err)
		}
	}
	return nil
}

// stateAt gives a payer's state as it stood at sequence since (the previous year's closing):
// what the store holds, unless a run interrupted in this year already appended some of the
// payer's steps, in which case its events up to since are folded again, so that the year is
// generated exactly as the interrupted run generated it.
func stateAt(ctx context.Context, store *eventstore.Store, since uint64) demo.State {
	return func(id string) (*domain.Employer, error) {
		e, err := store.EmployerContext(ctx, id)
		if err != nil || e == nil || e.Version <= since {
			return e, err
		}
		raws, err := store.History(ctx, id)
		if err != nil {
			return nil, err
		}
		return eventstore.Fold(id, raws, since), nil
	}
}

// yearAppended reports whether an earlier run appended every step of the campaign's year: the
// batches are appended one after the other, so it did when every step of the year's last batch
// is recorded. A year's last run then only closes it, without offering its steps again.
func yearAppended(ctx context.Context, store *eventstore.Store, cfg demo.Config, c *demo.Campaign, state demo.State) (bool, error) {
	n := (c.Payers() + demoBatch - 1) / demoBatch
	last := n - 1
	if c.Year()%2 == 1 {
		last = 0 // odd years run the batches from the last (appendYear)
	}
	steps, err := c.Steps(last*demoBatch, (last+1)*demoBatch, state)
	if err != nil || len(steps) == 0 {
		return false, err
	}
	for _, r := range demoRequests(cfg, c, steps) {
		if ok, err := store.Recorded(r.IdempotencyKey); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// batch is one batch of a year's steps, generated ahead of its append.
type batch struct {
	steps []demo.Step
	err   error
}

// appendYear generates and appends the year's steps, batch by batch.
func appendYear(ctx context.Context, store *eventstore.Store, cfg demo.Config, c *demo.Campaign, state demo.State, p *demoProgress, ys *yearSummary) error {
	payers := c.Payers()
	p.yearStart(c.Year(), payers)
	// One batch is generated while the one before it is appended: both are read and decided
	// on the store's folded employers, which its cache keeps for two batches.
	ahead := make(chan batch)
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Every other year runs the batches from the last: the store's cache still holds the
	// employers of the last batches a year appended, which are then not folded again.
	n := (payers + demoBatch - 1) / demoBatch
	go func() {
		defer close(ahead)
		for i := range n {
			if c.Year()%2 == 1 {
				i = n - 1 - i
			}
			steps, err := c.Steps(i*demoBatch, (i+1)*demoBatch, state)
			select {
			case ahead <- batch{steps, err}:
			case <-gctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	done := 0
	for b := range ahead {
		if b.err != nil {
			return b.err
		}
		reqs := demoRequests(cfg, c, b.steps)
		var refused []error
		for i, res := range store.ExecuteBulk(ctx, reqs) {
			switch {
			case res.Err != nil:
				refused = append(refused, fmt.Errorf("%s %T for %s: %w", reqs[i].IdempotencyKey, reqs[i].Command, reqs[i].EmployerID, res.Err))
			case res.Duplicate:
				ys.duplicate++
			default:
				ys.events += len(res.EventIDs)
			}
		}
		ys.commands += len(reqs)
		done += demoBatch
		if err := ctx.Err(); err != nil {
			// Stopped, not refused: what was appended stays, and a run again appends the rest.
			return fmt.Errorf("demo: stopped in %d (%w); the ledger holds part of the demo: run the same command again to append the rest", c.Year(), err)
		}
		if len(refused) > 0 {
			return fmt.Errorf("demo: %d of %d commands of %d were refused, the first: %w", len(refused), len(reqs), c.Year(), refused[0])
		}
		p.batchDone(min(done, payers), ys)
	}
	return nil
}

// demoRequests are the requests that append steps of the campaign's year, each with its key.
func demoRequests(cfg demo.Config, c *demo.Campaign, steps []demo.Step) []eventstore.Request {
	reqs := make([]eventstore.Request, len(steps))
	for i, s := range steps {
		key := demoKey(cfg, c.Year(), fmt.Sprintf("%d-%d", s.Payer, s.N))
		reqs[i] = eventstore.Request{EmployerID: s.EmployerID, Create: s.Create, Command: s.Command, Today: c.Today(),
			Actor: demoActor, IdempotencyKey: key, BodyHash: key}
	}
	return reqs
}

// closeYear makes the year-end freeze of y (its figures through the stream's last sequence,
// counting what is dated on or before 31 December) and closes the year after it (年度结转), as
// POST /v1/freezes and POST /v1/years/{y}/close do. The freeze folds on from the views of the
// previous one.
func closeYear(ctx context.Context, store *eventstore.Store, cfg demo.Config, y int, views *projections.Ledger, p *demoProgress) error {
	on := demo.ClosingDay(y)
	key := demoKey(cfg, y, "freeze")
	var ref eventstore.FreezeRef
	err := retryUnknown(ctx, store, func() (err error) {
		ref, _, err = projections.Freeze(ctx, store, projections.FreezeRequest{
			ValidThrough: domain.MustDate(fmt.Sprintf("%d-12-31", y)), Today: on,
			Views: func(through uint64) (*projections.Ledger, error) {
				if views.Seq > through {
					return nil, nil
				}
				return views, nil
			},
			Progress:    func(seq uint64) { p.freezing(y, seq) },
			FreezeOrder: eventstore.FreezeOrder{Actor: demoActor, IdempotencyKey: key, BodyHash: key},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("demo: the year-end freeze of %d: %w", y, err)
	}
	key = demoKey(cfg, y, "close")
	err = retryUnknown(ctx, store, func() error {
		_, err := store.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.YearClosed{Year: y, FreezeID: ref.ID, Digest: ref.Digest},
			On: on, IdempotencyKey: key, BodyHash: ref.ID, Actor: demoActor})
		return err
	})
	var de *domain.Error
	switch {
	case errors.As(err, &de) && de.Kind == domain.KindConflict && closedSeq(store, y) != 0:
		return nil // closed meanwhile, by someone else
	case err != nil:
		return fmt.Errorf("demo: closing %d: %w", y, err)
	case closedSeq(store, y) == 0:
		// The key answered an earlier closing, and an admin has reopened the year since.
		return fmt.Errorf("demo: %d was closed by an earlier run and reopened since: close it again (POST /v1/years/%d/close) to go on", y, y)
	}
	return nil
}

// retryUnknown runs a write again, at most twice, when the store could not say whether it was
// recorded (or said it was not), once the store has caught up with the stream: its idempotency
// key then answers the first write if that was recorded after all. A loaded machine with a
// large ledger has left a year-end freeze unacknowledged within the store's timeout.
func retryUnknown(ctx context.Context, store *eventstore.Store, write func() error) error {
	err := write()
	for attempt := 0; attempt < 2 && (errors.Is(err, eventstore.ErrOutcomeUnknown) || errors.Is(err, eventstore.ErrNotRecorded)); attempt++ {
		if err := store.CatchUp(ctx); err != nil {
			return err
		}
		err = write()
	}
	return err
}
