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
// Messages are read and decoded on a goroutine of their own, so that decoding the next events
// overlaps with handling these: a replay is then bound by the slower of the two, not their sum.
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	batches := make(chan []domain.Event, 4)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- s.readEvents(ctx, it, batches)
	}()
	for batch := range batches {
		for _, ev := range batch {
			if err := handle(ev); err != nil {
				cancel()
				for range batches { // let the reader finish
				}
				return err
			}
		}
	}
	return <-readErr
}

// readEvents decodes messages into batches: full ones while a backlog lasts, and each message on
// its own once the consumer has caught up, so that a live follower is not held back.
func (s *Store) readEvents(ctx context.Context, it jetstream.MessagesContext, out chan<- []domain.Event) error {
	const size = 256
	batch := make([]domain.Event, 0, size)
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
		batch = append(batch, ev)
		if len(batch) == size || meta.NumPending == 0 {
			select {
			case out <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]domain.Event, 0, size)
		}
	}
}
