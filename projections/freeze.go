package projections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// FreezeQuery is the query a freeze valid through d answers: as of d, for the period last due.
func FreezeQuery(ref *domain.Reference, d domain.Date) Query {
	return Query{Period: DefaultPeriod(ref, d), AsOf: d}
}

// ChainHead digests every employer's last hash as the ledger knows them: a chain rewritten
// before the sequence disagrees with it.
func ChainHead(l *Ledger) string {
	h := sha256.New()
	for id, e := range l.Employers.Sorted() {
		fmt.Fprintf(h, "%s %s\n", id, e.Head)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FreezeFigures is the canonical form of the figures of a freeze made now (in the format of
// today's code: freezeFormat) and its SHA-256 digest.
func FreezeFigures(l *Ledger, d domain.Date) (*Report, []byte, string, error) {
	return FreezeFiguresIn(l, d, CodeVersion)
}

// MakeFreeze folds the stream from sequence 1 through `through` with the views' folds, counts what
// is dated on or before validThrough, and returns the freeze to store. The same (through,
// validThrough) gives the same figures and digest, whatever was appended after `through`.
func MakeFreeze(ctx context.Context, store *eventstore.Store, through uint64, validThrough domain.Date, progress func(seq uint64)) (domain.FreezeMade, error) {
	return MakeFreezeFrom(ctx, store, nil, through, validThrough, progress)
}

// MakeFreezeFrom is MakeFreeze starting from views folded by the same code up to a sequence at or
// before `through` (a copy of the live views, or a snapshot), replaying only the rest onto them;
// with start nil it replays from sequence 1. Views already at `through` are only read, so they
// may be the live views themselves. Folding in two parts gives the same views as in one pass
// (tested), so the figures and digest are the same either way.
func MakeFreezeFrom(ctx context.Context, store *eventstore.Store, start *Ledger, through uint64, validThrough domain.Date, progress func(seq uint64)) (domain.FreezeMade, error) {
	l := start
	var err error
	if l == nil || l.Seq > through || !l.Covers(FreezeQuery(&l.Ref, validThrough)) {
		l, err = freezeViews(ctx, store, through, validThrough, progress)
	} else if l.Seq < through {
		err = ReplayOnto(ctx, store, l, through, progress)
	}
	if err != nil {
		return domain.FreezeMade{}, err
	}
	if l.Seq < through {
		return domain.FreezeMade{}, fmt.Errorf("the stream ends at %d, before %d", l.Seq, through)
	}
	_, figures, digest, err := FreezeFigures(l, validThrough)
	if err != nil {
		return domain.FreezeMade{}, err
	}
	return domain.FreezeMade{
		ID: uuid.Must(uuid.NewV7()).String(), ThroughSeq: through, ValidThrough: validThrough, ChainHead: ChainHead(l),
		CodeVersion: CodeVersion, Digest: digest, CreatedAt: time.Now().UTC().Format(time.RFC3339), Figures: figures,
	}, nil
}

// freezeViews folds the stream from sequence 1 through `through`, compacting closed books no
// further than the date frozen.
func freezeViews(ctx context.Context, store *eventstore.Store, through uint64, validThrough domain.Date, progress func(seq uint64)) (*Ledger, error) {
	l := NewLedger()
	l.Source = StoreSource{Store: store}
	keep := Query{AsOf: validThrough, Period: validThrough.Period().Prev().Prev()}
	l.Keep = &keep
	return l, ReplayOnto(ctx, store, l, through, progress)
}

// ReproduceFreeze folds the stream from sequence 1 through the freeze's sequence, as a freeze
// made from nothing does, and verifies the freeze against those views (VerifyFreeze): a freeze
// made by any code version, in the format it was made in.
func ReproduceFreeze(ctx context.Context, store *eventstore.Store, f domain.FreezeMade) error {
	l, err := freezeViews(ctx, store, f.ThroughSeq, f.ValidThrough, nil)
	if err != nil {
		return err
	}
	return VerifyFreeze(l, f)
}

// FrozenReport reads a freeze's figures back, in the format of the code that made it: a freeze
// of format 2 with the figures of every segment, whole (segmentTable.expand).
func FrozenReport(f domain.FreezeMade) (*Report, error) {
	format, err := FreezeFormatOf(f.CodeVersion)
	if err != nil {
		return nil, fmt.Errorf("freeze %s: %w", f.ID, err)
	}
	var r Report
	var segments *segmentTable
	if format == FreezeFormat1 {
		err = json.Unmarshal(f.Figures, &r)
	} else {
		var v reportV2
		err = json.Unmarshal(f.Figures, &v)
		r = Report{Seq: v.Seq, AsOf: v.AsOf, Period: v.Period, Counties: v.Counties, Groups: v.Groups, City: v.City}
		segments = v.Segments
	}
	if err != nil {
		return nil, fmt.Errorf("freeze %s: %w", f.ID, err)
	}
	if r.City == nil {
		return nil, fmt.Errorf("freeze %s: figures without the city", f.ID)
	}
	r.rules, _ = viewsNumber(f.CodeVersion) // FreezeFormatOf checked it
	// Rates are stored as numbers; their integer parts come back from the counts. The flag
	// counts are stored as they were (the employers behind them are not), worded as now.
	for _, c := range append(append(r.Counties, r.Groups...), r.City) {
		c.recoveryUnheld = format == FreezeFormat1
		c.rates()
		for i, fl := range c.Flags {
			c.Flags[i].Detail = flagCountDetail(fl.Kind, fl.Count)
		}
	}
	if segments != nil {
		if r.Segments, err = segments.expand(&r); err != nil {
			return nil, fmt.Errorf("freeze %s: %w", f.ID, err)
		}
	}
	return &r, nil
}

// FreezeRequest asks for a freeze, from the API or the command line alike.
type FreezeRequest struct {
	// ValidThrough is the business date the figures count events up to: not before 1990, not
	// after Today (a freeze counts what has happened).
	ValidThrough domain.Date
	Today        domain.Date
	// ThroughSeq is the last stream sequence to fold; 0 for the stream's last one now.
	ThroughSeq uint64
	// Views, if set, gives views folded by this code up to a sequence at or before the one
	// asked (or nil), to fold on from instead of from sequence 1: views short of it are changed,
	// views at it only read.
	Views func(through uint64) (*Ledger, error)
	// Progress, if set, hears the sequence the fold reached.
	Progress func(seq uint64)
	eventstore.FreezeOrder
}

// Freeze checks a freeze request, folds the ledger through its sequence and stores the freeze,
// recorded as made by the request's actor. A retry with the same idempotency key answers the
// first freeze (duplicate true) without folding again.
func Freeze(ctx context.Context, store *eventstore.Store, req FreezeRequest) (eventstore.FreezeRef, bool, error) {
	d := req.ValidThrough
	if err := domain.CheckHappened("valid_through", d, req.Today); err != nil {
		return eventstore.FreezeRef{}, false, err
	}
	last, err := store.LastSeq(ctx)
	if err != nil {
		return eventstore.FreezeRef{}, false, err
	}
	through := req.ThroughSeq
	if through == 0 {
		through = last
	} else if through > last {
		return eventstore.FreezeRef{}, false, domain.Invalid("through_seq", "%d is beyond the stream's last sequence %d", through, last)
	}
	return store.AppendFreeze(ctx, req.FreezeOrder, func() (domain.FreezeMade, error) {
		var start *Ledger
		if req.Views != nil {
			if start, err = req.Views(through); err != nil {
				return domain.FreezeMade{}, err
			}
		}
		return MakeFreezeFrom(ctx, store, start, through, d, req.Progress)
	})
}
