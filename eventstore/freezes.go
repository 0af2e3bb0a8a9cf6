package eventstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
)

// FreezePrefix is the subject prefix of freezes: "ledger.freeze.<id>".
const FreezePrefix = "ledger.freeze."

// FreezeRef is a stored freeze's manifest (without its figures) and where it is in the stream.
type FreezeRef struct {
	domain.FreezeMade
	Seq uint64 `json:"seq"`
}

// AppendFreeze stores a freeze in the ledger's stream, under its own subject, once.
func (s *Store) AppendFreeze(ctx context.Context, f domain.FreezeMade) (uint64, error) {
	subject := FreezePrefix + f.ID
	env := domain.Envelope{ID: newID(), OccurredOn: f.ValidThrough, Actor: "system:freeze", N: 1}
	m, ev, err := chained(subject, env, f, "")
	if err != nil {
		return 0, err
	}
	m.Header.Set("Kz-Type", f.EventType())
	return s.appendLocal(ctx, &unit{subject: subject, msgs: []*nats.Msg{m}}, []domain.Event{ev})
}

// Freezes lists the stored freezes, oldest first.
func (s *Store) Freezes() []FreezeRef {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]FreezeRef(nil), s.freezes...)
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
	raw, err := s.stream.GetMsg(ctx, seq)
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
	if !ok || !strings.HasPrefix(subject, FreezePrefix) {
		return
	}
	f.Figures = nil
	s.freezes = append(s.freezes, FreezeRef{FreezeMade: f, Seq: ev.Seq})
}
