package eventstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FreezePrefix is the subject prefix of freezes: "ledger.freeze.<id>".
const FreezePrefix = "ledger.freeze."

// FreezeRef is a stored freeze's manifest (without its figures) and where it is in the stream.
type FreezeRef struct {
	domain.FreezeMade
	Seq uint64 `json:"seq"`
	// MadeBy is who asked for the freeze ("role:name").
	MadeBy string `json:"made_by"`
}

// FreezeOrder says who asks for a freeze and how a retry is recognised.
type FreezeOrder struct {
	// Actor is recorded as the freeze's maker ("role:name").
	Actor string
	// IdempotencyKey ("" for none) and BodyHash make a retry answer the first freeze.
	IdempotencyKey string
	BodyHash       string
	CorrelationID  string
}

// AppendFreeze stores the freeze make returns in the ledger's stream, under its own subject, as
// made by o.Actor. With an idempotency key, make runs once per key on this store: a retry
// answers the freeze the key first made (duplicate true) without folding anything, and the same
// key with another body is refused. The key is the message's id in the stream too, so the same
// order sent through two API replicas at once records one freeze: the one the stream took
// first, which the other replica answers as a duplicate.
func (s *Store) AppendFreeze(ctx context.Context, o FreezeOrder, make func() (domain.FreezeMade, error)) (FreezeRef, bool, error) {
	res, err := s.withKey(ctx, o.IdempotencyKey, o.BodyHash, func(key string) (Result, error) {
		f, err := make()
		if err != nil {
			return Result{}, err
		}
		subject := s.sub.Freeze + f.ID
		env := domain.Envelope{ID: newID(), OccurredOn: f.ValidThrough, Actor: o.Actor, IdemKey: key, BodyHash: o.BodyHash,
			CorrelationID: o.CorrelationID, N: 1}
		m, ev, err := chained(subject, env, f, key)
		if err != nil {
			return Result{}, err
		}
		retry := s.retrier(ctx)
		for {
			seq, err := s.appendLocal(ctx, &unit{subject: subject, msgs: []*nats.Msg{m}}, []domain.Event{ev})
			if err == nil || !errors.Is(err, errDuplicate) {
				return Result{EventIDs: []string{env.ID}, Seq: seq, Version: seq}, err
			}
			// The key's freeze was made through another replica too.
			if err := retry.catchUp(ctx); err != nil {
				return Result{}, err
			}
			if r, ok, err := s.lookupKey(ctx, key, o.BodyHash); ok || err != nil {
				return r, err
			}
			if !errors.Is(err, errInProcess) {
				return Result{}, fmt.Errorf("freeze refused as a duplicate, but no event carries its key: %w", err)
			}
			if err := retry.again(ctx, err); err != nil {
				return Result{}, err
			}
		}
	})
	if err != nil {
		return FreezeRef{}, false, err
	}
	if err := s.WaitApplied(ctx, res.Seq); err != nil {
		return FreezeRef{}, false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, f := range s.freezes {
		if f.Seq == res.Seq {
			return f, res.Duplicate, nil
		}
	}
	return FreezeRef{}, false, fmt.Errorf("the freeze at sequence %d is not in the store's index", res.Seq)
}

// ReferenceAt is the reference data as it stood after stream sequence seq: what figures computed
// through seq (a freeze's) were computed with.
//
// Through what the store has folded, the reference events are the ones its index holds, each
// read by sequence (getFolded): a consumer over the stream, which a cluster may place on a
// replica that has not applied the newest messages, would end early without a word.
func (s *Store) ReferenceAt(ctx context.Context, seq uint64) (*domain.Reference, error) {
	s.mu.RLock()
	folded := s.applied.Load() >= seq
	n, _ := slices.BinarySearch(s.refSeqs, seq+1)
	seqs := slices.Clone(s.refSeqs[:n])
	s.mu.RUnlock()
	if !folded {
		return referenceAt(ctx, s.stream, s.sub, seq)
	}
	var ref domain.Reference
	for _, q := range seqs {
		raw, err := s.getFolded(ctx, q, "")
		if err != nil {
			return nil, fmt.Errorf("reference data at %d: message %d: %w", seq, q, err)
		}
		if err := applyRef(&ref, q, raw.Data); err != nil {
			return nil, fmt.Errorf("reference data at %d: %w", seq, err)
		}
	}
	return &ref, nil
}

// ReferenceSeq returns the sequence of the last reference event at or before seq that this store
// has folded (0: none).
func (s *Store) ReferenceSeq(seq uint64) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, _ := slices.BinarySearch(s.refSeqs, seq+1)
	if n == 0 {
		return 0
	}
	return s.refSeqs[n-1]
}

// applyRef folds the reference event stored as message seq into ref.
func applyRef(ref *domain.Reference, seq uint64, data []byte) error {
	ev, err := domain.Decode(data)
	if err != nil {
		return fmt.Errorf("message %d: %w", seq, err)
	}
	ref.Apply(ev.Body)
	return nil
}

// referenceAt folds the reference data of a ledger's stream through seq.
func referenceAt(ctx context.Context, stream jetstream.Stream, sub Subjects, seq uint64) (*domain.Reference, error) {
	var ref domain.Reference
	if seq == 0 {
		return &ref, nil
	}
	err := eachMessage(ctx, stream, sub.Ref+">", func(seqOf uint64, data []byte) (bool, error) {
		if seqOf > seq {
			return false, nil
		}
		return true, applyRef(&ref, seqOf, data)
	})
	if err != nil {
		return nil, fmt.Errorf("reference data at %d: %w", seq, err)
	}
	return &ref, nil
}

// eachMessage hands f the messages of stream whose subjects match filter, in order, until f
// says stop or there are none left: at least as many as the stream's leader holds when it
// starts. The ordered consumer it reads through may sit on any replica (a cluster places it
// so), and one that lags counts fewer pending: its count would end the read early, without a
// word, so the read waits for the leader's.
func eachMessage(ctx context.Context, stream jetstream.Stream, filter string, f func(seq uint64, data []byte) (bool, error)) error {
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return err
	}
	var held uint64
	for _, n := range info.State.Subjects {
		held += n
	}
	cons, err := orderedConsumer(ctx, stream, nil, "read "+filter, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		return err
	}
	defer dropConsumer(stream, cons)
	left := max(held, consumerPending(cons))
	until := time.Now().Add(noResponderWait)
	for left > 0 {
		batch, err := cons.Fetch(int(min(left, 256)), jetstream.FetchMaxWait(30*time.Second))
		if err != nil {
			return err
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			left--
			meta, err := msg.Metadata()
			if err != nil {
				return err
			}
			if more, err := f(meta.Sequence.Stream, msg.Data()); !more || err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil {
			if got == 0 && unknownYet(ctx, err, until) {
				continue
			}
			return err
		}
		if got == 0 {
			return fmt.Errorf("read %s: the replica reading it delivered none of the %d messages still to come that the stream's leader holds", filter, left)
		}
	}
	return nil
}

// consumerPending is how many messages cons had to deliver when it was made, as the replica
// it sits on counted them; a test counts fewer, as a lagging replica does.
var consumerPending = func(cons jetstream.Consumer) uint64 { return cons.CachedInfo().NumPending }

// Freezes lists the stored freezes, oldest first.
func (s *Store) Freezes() []FreezeRef {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append(make([]FreezeRef, 0, len(s.freezes)), s.freezes...) // [] in JSON when there are none
}

// Freeze loads one freeze with its figures.
func (s *Store) Freeze(ctx context.Context, id string) (domain.FreezeMade, uint64, error) {
	s.mu.RLock()
	var seq uint64
	for _, f := range s.freezes {
		if f.ID == id {
			seq = f.Seq
		}
	}
	s.mu.RUnlock()
	if seq == 0 {
		return domain.FreezeMade{}, 0, domain.NotFound("id", "no freeze %q", id)
	}
	raw, err := s.getFolded(ctx, seq, "")
	if err != nil {
		return domain.FreezeMade{}, 0, fmt.Errorf("load freeze %s: %w", id, err)
	}
	ev, err := domain.Decode(raw.Data)
	if err != nil {
		return domain.FreezeMade{}, 0, err
	}
	f, ok := ev.Body.(domain.FreezeMade)
	if !ok {
		return domain.FreezeMade{}, 0, fmt.Errorf("message %d is not a freeze", seq)
	}
	return f, seq, nil
}

// foldFreeze indexes a freeze seen in the stream. The caller holds s.mu.
func (s *Store) foldFreeze(subject string, ev domain.Event) {
	f, ok := ev.Body.(domain.FreezeMade)
	if !ok || !strings.HasPrefix(subject, s.sub.Freeze) {
		return
	}
	f.Figures = nil
	// In the stream's order: a store folds its own freezes when they are stored, before others'
	// stored earlier that its follower has yet to reach.
	i, _ := slices.BinarySearchFunc(s.freezes, ev.Seq, func(r FreezeRef, seq uint64) int { return cmp.Compare(r.Seq, seq) })
	s.freezes = slices.Insert(s.freezes, i, FreezeRef{FreezeMade: f, Seq: ev.Seq, MadeBy: ev.Actor})
}
