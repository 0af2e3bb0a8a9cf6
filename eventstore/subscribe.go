package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go/jetstream"
)

// Subscribe delivers every event from sequence from on (1 for all), in stream order, to handle
// until ctx ends or handle returns an error. It uses an ordered consumer, which the server
// forgets when it stops. Undecodable messages are delivered with Body nil and Type set.
func (s *Store) Subscribe(ctx context.Context, from uint64, handle func(domain.Event) error) error {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := s.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("subscribe from %d: %w", from, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2000))
	if err != nil {
		return fmt.Errorf("subscribe from %d: %w", from, err)
	}
	defer it.Stop()
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			return err
		}
		ev, derr := domain.Decode(msg.Data())
		if derr != nil {
			ev.Body = nil
		}
		ev.Seq, ev.RecordedAt, ev.Hash = meta.Sequence.Stream, meta.Timestamp.UnixNano(), msg.Headers().Get(HashHeader)
		if id, ok := strings.CutPrefix(msg.Subject(), EmployerPrefix); ok {
			ev.EmployerID = id
		}
		if err := handle(ev); err != nil {
			return err
		}
	}
}
