package projections

import (
	"slices"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// Balances are an employer's totals on a date, counting the events folded so far.
type Balances struct {
	DueFen         domain.Fen `json:"due_fen"`
	PaidFen        domain.Fen `json:"paid_fen"`
	WaivedFen      domain.Fen `json:"waived_fen"`
	OutstandingFen domain.Fen `json:"outstanding_fen"`
	LateFeeFen     domain.Fen `json:"late_fee_fen"`
	CreditFen      domain.Fen `json:"credit_fen"`
}

// HistoryEvent is one event of an employer's history.
type HistoryEvent struct {
	Seq        uint64      `json:"seq"`
	RecordedAt time.Time   `json:"recorded_at"`
	OccurredOn domain.Date `json:"occurred_on"`
	Type       string      `json:"type"`
	ID         string      `json:"id"`
	Actor      string      `json:"actor"`
	Payload    any         `json:"payload"`
	Hash       string      `json:"hash"`
	PrevHash   string      `json:"prev_hash,omitempty"`
	ChainOK    bool        `json:"chain_ok"`
	// Balances are the totals as they stood on this event's business date, counting this event
	// and those recorded before it (an auditor replaying reads them day by day).
	Balances Balances `json:"balances"`
}

// History is the answer of GET /v1/employers/{id}/history.
type History struct {
	EmployerID string      `json:"employer_id"`
	Version    uint64      `json:"version"`
	AsOf       domain.Date `json:"as_of"`
	ThroughSeq uint64      `json:"through_seq,omitempty"`
	ChainOK    bool        `json:"chain_ok"`
	// County is the employer's county on AsOf, under the code in force then (set by the route;
	// the events keep the code they were recorded with).
	County string         `json:"county,omitempty"`
	Events []HistoryEvent `json:"events"`
	// Voided links each event a void shown names to that void: from the void's row on, the
	// event counts as never recorded.
	Voided []VoidLink `json:"voided,omitempty"`
	// Balances are the totals as of AsOf, counting every event shown.
	Balances Balances `json:"balances"`
}

// VoidLink is an event a void names, and the void.
type VoidLink struct {
	EventSeq uint64 `json:"event_seq"`
	VoidSeq  uint64 `json:"void_seq"`
}

// BuildHistory turns stored events into the history answer: events recorded through throughSeq
// (0: all), dated on or before asOf, each with the balances on its own business date after it,
// and the totals as of asOf after them all. The balances come from the same fold as the
// ledger's, applied event by event; a replay computes them incrementally (domain.Replay), so a
// history in business-date order costs one pass instead of a statement from scratch per event.
// ref gives the late-fee rates, and the county's code on asOf, as the events shown make it.
func BuildHistory(id string, raw []eventstore.RawEvent, throughSeq uint64, asOf domain.Date, ref *domain.Reference) History {
	b := NewHistoryBuilder(id, throughSeq, asOf, ref.LateFees)
	h := History{Events: make([]HistoryEvent, 0, len(raw))}
	for _, ev := range raw {
		if row, shown := b.Add(ev); shown {
			h.Events = append(h.Events, row)
		}
	}
	if _, shown := b.Finish(&h); shown != nil {
		h.County = ref.CountyCodeOn(shown.CountyOn(asOf), asOf)
	}
	return h
}

// HistoryBuilder makes the history answer one stored event at a time, as BuildHistory
// describes, and folds the employer as it is now, with its dated facts, from every event (for
// the access check and the county): the shown events' fold while every event is shown, a copy
// of it from the first one that is not.
type HistoryBuilder struct {
	head  History // the answer but its events
	asOf  domain.Date
	fees  []domain.LateFeeRate
	rp    *domain.Replay
	shown *domain.Employer // folded from the events shown
	now   *domain.Employer // folded from every event, once they differ; nil while they do not
	ended bool             // an event recorded after the answer's through_seq was seen
	// kept holds what a fold needs of every decoded event, to fold them again after a void.
	kept []keptEvent
}

// keptEvent is what Employer.Apply reads of an event, and whether the answer shows it (or, for
// a void through through_seq, whatever its date, counts it: a void counts from its sequence).
type keptEvent struct {
	seq, n uint64
	hash   string
	body   domain.Payload
	shown  bool
}

// NewHistoryBuilder starts the history of employer id, as BuildHistory's arguments say.
func NewHistoryBuilder(id string, throughSeq uint64, asOf domain.Date, fees []domain.LateFeeRate) *HistoryBuilder {
	return &HistoryBuilder{
		head:  History{EmployerID: id, AsOf: asOf, ThroughSeq: throughSeq, ChainOK: true},
		asOf:  asOf,
		fees:  fees,
		rp:    domain.NewReplay(fees),
		shown: &domain.Employer{ID: id},
	}
}

// Expect tells the builder how many events are coming (the employer's count, as the store has
// it), so that what it keeps of them grows once.
func (b *HistoryBuilder) Expect(n uint64) {
	n = min(n, 1<<20) // a hint: a wrong one costs memory, not correctness
	b.kept = slices.Grow(b.kept, int(n))
	b.shown.Account.Reserve(int(n))
}

// refold folds the employer again after a void: shown from the events shown and the voids, now
// from every event. Balances start again from the fold.
func (b *HistoryBuilder) refold() {
	var shown, all []domain.Event
	for _, k := range b.kept {
		ev := domain.Event{Envelope: domain.Envelope{EmployerID: b.head.EmployerID, Seq: k.seq, N: k.n}, Body: k.body}
		ev.Hash = k.hash
		if k.shown {
			shown = append(shown, ev)
		}
		all = append(all, ev)
	}
	b.shown = &domain.Employer{ID: b.head.EmployerID}
	b.shown.Fold(shown)
	b.rp.Release()
	b.rp = domain.NewReplay(b.fees)
	if b.now != nil {
		b.now = &domain.Employer{ID: b.head.EmployerID}
		b.now.Fold(all)
	}
}

// Add takes the employer's next event and returns its row of the answer, if it is shown.
func (b *HistoryBuilder) Add(ev eventstore.RawEvent) (HistoryEvent, bool) {
	if !b.ended && b.head.ThroughSeq != 0 && ev.Seq > b.head.ThroughSeq {
		b.ended = true
	}
	if ev.Body != nil {
		b.kept = append(b.kept, keptEvent{seq: ev.Seq, n: ev.N, hash: ev.Hash, body: ev.Body})
	}
	void, isVoid := ev.Body.(domain.EventVoided)
	if b.ended || ev.OccurredOn > b.asOf {
		if b.now == nil {
			b.now = b.shown.Clone()
		}
		if ev.Body != nil {
			b.now.Apply(ev.Event)
		}
		if !b.ended {
			b.head.ChainOK = b.head.ChainOK && ev.ChainOK
			b.head.Version = ev.Seq
			if isVoid {
				b.kept[len(b.kept)-1].shown = true
				b.head.Voided = append(b.head.Voided, VoidLink{void.TargetSeq, ev.Seq})
			}
		}
		if b.now.Refold {
			b.refold()
		}
		return HistoryEvent{}, false
	}
	b.head.ChainOK = b.head.ChainOK && ev.ChainOK
	b.head.Version = ev.Seq
	var payload any = ev.Body
	if ev.Body == nil {
		payload = string(ev.Data)
	} else {
		b.kept[len(b.kept)-1].shown = true
		b.shown.Apply(ev.Event)
		if b.now != nil {
			b.now.Apply(ev.Event)
		}
		if isVoid {
			b.head.Voided = append(b.head.Voided, VoidLink{void.TargetSeq, ev.Seq})
		}
		if b.shown.Refold || b.now != nil && b.now.Refold {
			b.refold()
		}
	}
	return HistoryEvent{
		Seq: ev.Seq, RecordedAt: time.Unix(0, ev.RecordedAt).UTC(), OccurredOn: ev.OccurredOn, Type: ev.Type,
		ID: ev.ID, Actor: ev.Actor, Payload: payload, Hash: ev.Hash, PrevHash: ev.PrevHash, ChainOK: ev.ChainOK,
		Balances: BalancesOf(b.rp.TotalsOn(&b.shown.Account, ev.OccurredOn)),
	}, true
}

// Finish sets h's fields but its events, and returns the employer as it is now (nil when its
// events make none), for the access check, and as the events shown make it (nil when they make
// none), for what the answer says of it. The builder is done: it takes no more events.
func (b *HistoryBuilder) Finish(h *History) (now, shown *domain.Employer) {
	events := h.Events
	*h = b.head
	h.Events = events
	h.Balances = BalancesOf(b.rp.TotalsOn(&b.shown.Account, b.asOf))
	b.rp.Release()
	now, shown = b.now, b.shown
	if now == nil {
		now = shown
	}
	if !shown.Exists() {
		shown = nil
	}
	if !now.Exists() {
		return nil, shown
	}
	return now, shown
}

// BalancesOf are an account's totals as a history shows them.
func BalancesOf(t domain.Totals) Balances {
	return Balances{t.DueFen, t.PaidFen, t.WaivedFen, t.OutstandingFen, t.LateFeeFen, t.CreditFen}
}
