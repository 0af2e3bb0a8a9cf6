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
// Messages are decoded a little ahead of handle, on another goroutine: a replay of the whole
// stream decodes while it folds.
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	type decoded struct {
		ev  domain.Event
		err error
	}
	events := make(chan decoded, subscribeAhead)
	go func() {
		defer close(events)
		for {
			ev, err := nextEvent(it)
			select {
			case events <- decoded{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for d := range events {
		if d.err != nil {
			if errors.Is(d.err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return d.err
		}
		if err := handle(d.ev); err != nil {
			return err
		}
	}
	return context.Cause(ctx)
}

// subscribeAhead is how many events Subscribe decodes ahead of its handler.
const subscribeAhead = 256

// nextEvent reads and decodes the next message of it.
func nextEvent(it jetstream.MessagesContext) (domain.Event, error) {
	msg, err := it.Next()
	if err != nil {
		return domain.Event{}, err
	}
	meta, err := msg.Metadata()
	if err != nil {
		return domain.Event{}, err
	}
	ev, derr := domain.Decode(msg.Data())
	if derr != nil {
		ev.Body = nil
	}
	ev.Seq, ev.RecordedAt, ev.Hash = meta.Sequence.Stream, meta.Timestamp.UnixNano(), msg.Headers().Get(HashHeader)
	if id, ok := strings.CutPrefix(msg.Subject(), EmployerPrefix); ok {
		ev.EmployerID = id
	}
	return ev, nil
}
