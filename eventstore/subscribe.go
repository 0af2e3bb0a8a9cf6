package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go/jetstream"
)

// Subscribe delivers every event from sequence from on (1 for all), in stream order, to handle
// until ctx ends or handle returns an error. On the embedded server it reads through a
// connection of the store's own (subscribeOwn), and through an ordered consumer of the client
// from where that stops if it fails; the server forgets either consumer once it stops.
// Undecodable messages are delivered with Body nil and Type set; claims of notice numbers
// (NoticeNumberPrefix) are not delivered. Messages are decoded a little ahead of handle, on
// another goroutine: a replay of the whole stream decodes while it folds.
func (s *Store) Subscribe(ctx context.Context, from uint64, handle func(domain.Event) error) error {
	if s.cfg.DialFollow != nil {
		next, err := s.subscribeOwn(ctx, from, handle)
		if !errors.Is(err, errOwnEnd) {
			return err
		}
		s.log.Warn("event store: a subscription's own connection failed; the client goes on from where it stopped", "from", next, "err", err)
		from = next
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := s.orderedConsumer(ctx, "subscribe", cfg)
	if err != nil {
		return fmt.Errorf("subscribe from %d: %w", from, err)
	}
	it, err := messagesDropping(s.stream, cons, jetstream.PullMaxMessages(2000), jetstream.PullHeartbeat(followHeartbeat))
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
			ev, err := nextEvent(it, s.sub.Employer, s.sub.Notice)
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

// replayMsgs and replayEvents keep the slices of a replay's pulls once handed on: growing them
// anew for each pull was a third of a replay's garbage.
var (
	replayMsgs   = sync.Pool{New: func() any { msgs := make([]tailMsg, 0, pullSize); return &msgs }}
	replayEvents = sync.Pool{New: func() any { evs := make([]domain.Event, 0, pullSize); return &evs }}
)

// subscribeDecoders is how many pulls of a replay subscribeOwn decodes at once.
const subscribeDecoders = 2

// decodedAlready is the ready channel of what subscribeOwn hands on decoded: closed, shared, so
// that a live event costs no channel of its own.
var decodedAlready = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// subscribeOwn is Subscribe through a connection of the store's own (ownConn, as the follower
// reads): the replay in pulls that do not wait, each read whole, then decoded on one of
// subscribeDecoders goroutines while the next is read and handed on in order; then pulls that
// wait for new messages, each handed on as it comes.
// Through the client, a replay spent more on reading each message than on folding it. When the
// connection fails it returns an error wrapping errOwnEnd and the sequence to go on from.
func (s *Store) subscribeOwn(ctx context.Context, from uint64, handle func(domain.Event) error) (next uint64, err error) {
	c, err := openOwn(s.cfg.DialFollow, s.cfg.Stream, from)
	if err != nil {
		return from, fmt.Errorf("%w: %w", errOwnEnd, err)
	}
	// On the way out the consumer is deleted through the client, at once: the reader may wait in
	// a pull for up to followPullWait before it would, and over a connection closed as ctx ended
	// (a request's reader gone) it deletes nothing, leaving the consumer to the server for
	// ownInactive (see dropConsumer).
	defer func() {
		c.conn.Close()
		deleteConsumer(s.stream, c.consumer)
	}()
	type decoded struct {
		evs  []domain.Event
		next uint64 // the sequence after the batch's last message, a skipped claim included
		err  error  // what ended the reads, in the batch after the last
	}
	// A pull of the replay is read whole into an arena, then decoded by one of
	// subscribeDecoders while the next is read: the server delivers a pull while the one
	// before is decoded, and decoding takes more than one core's share. Each pull is handed
	// on in order once decoded; after the replay each message is decoded as it comes.
	type pulled struct {
		msgs  []tailMsg
		arena *pullArena
		ready chan struct{} // closed once decoded into out
		out   decoded
	}
	batches := make(chan decoded, 2)
	done := make(chan struct{})
	defer close(done)
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	defer stop()
	decodeAll := func(msgs []tailMsg, evs []domain.Event) decoded {
		b := decoded{evs: evs}
		for _, m := range msgs {
			// A claim of a notice number is no event; the stream's last message is delivered,
			// as nextEvent does, so that a reader waiting for the last sequence sees it.
			if !strings.HasPrefix(m.subject, s.sub.Notice) || m.pending == 0 {
				b.evs = append(b.evs, decodeEvent(m.data, m.seq, m.ts, m.hash, m.subject, s.sub.Employer))
			}
			b.next = m.seq + 1
		}
		return b
	}
	work, ordered := make(chan *pulled, subscribeDecoders), make(chan *pulled, subscribeDecoders+1)
	for range subscribeDecoders {
		go func() {
			for p := range work {
				p.out = decodeAll(p.msgs, (*replayEvents.Get().(*[]domain.Event))[:0])
				p.arena.release() // the events are decoded: nothing points into it
				clear(p.msgs)
				msgs := p.msgs[:0]
				replayMsgs.Put(&msgs)
				close(p.ready)
			}
		}()
	}
	go func() {
		defer close(batches)
		defer func() {
			for range ordered { // the reader stops as it sees done
			}
		}()
		for p := range ordered {
			select {
			case <-p.ready:
			case <-done: // p may never be decoded: the reader stopped before handing it over
				return
			}
			select {
			case batches <- p.out:
			case <-done:
				return
			}
		}
	}()
	go func() {
		defer close(ordered)
		defer close(work)
		// On the way out the consumer is deleted, unless the connection broke in a pull (or
		// closed as ctx ended): the server then forgets the consumer itself (ownInactive).
		broken := false
		defer func() {
			if broken {
				c.conn.Close()
			} else {
				c.close()
			}
		}()
		// handOn passes p on in order, and to a decoder unless it is decoded already; false
		// once the handler is gone.
		handOn := func(p *pulled) bool {
			select {
			case ordered <- p:
			case <-done:
				return false
			}
			if p.ready == decodedAlready {
				return true
			}
			select {
			case work <- p:
				return true
			case <-done:
				return false
			}
		}
		decodedNow := func(b decoded) *pulled { return &pulled{ready: decodedAlready, out: b} }
		live := false
		for !live {
			p := &pulled{msgs: *replayMsgs.Get().(*[]tailMsg), arena: pullArenas.Get().(*pullArena), ready: make(chan struct{})}
			p.arena.refs.Store(1)
			short, err := c.pull(false, p.arena, func(m tailMsg) { p.msgs = append(p.msgs, m) })
			broken = err != nil
			if len(p.msgs) > 0 {
				if !handOn(p) {
					return
				}
			} else {
				p.arena.release()
				msgs := p.msgs[:0] // a pointer to the field would keep all of p in the pool
				replayMsgs.Put(&msgs)
			}
			if err != nil {
				handOn(decodedNow(decoded{err: err}))
				return
			}
			live = short
		}
		arena := &pullArena{}
		for { // each as it comes
			arena.buf = arena.buf[:0] // the events are decoded: nothing points into it
			_, err := c.pull(true, arena, func(m tailMsg) {
				handOn(decodedNow(decodeAll([]tailMsg{m}, nil)))
			})
			broken = err != nil
			if err != nil {
				handOn(decodedNow(decoded{err: err}))
				return
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	next = from
	for b := range batches {
		if b.err != nil {
			if ctx.Err() != nil {
				return next, context.Cause(ctx)
			}
			return next, fmt.Errorf("%w: %w", errOwnEnd, b.err)
		}
		for _, ev := range b.evs {
			if err := handle(ev); err != nil {
				return next, err
			}
			next = ev.Seq + 1
		}
		next = max(next, b.next)
		if cap(b.evs) >= pullSize { // a replay's pull: handled, and the handler has copies
			clear(b.evs)
			evs := b.evs[:0]
			replayEvents.Put(&evs)
		}
	}
	return next, context.Cause(ctx)
}

// nextEvent reads and decodes the next message of it. Claims of notice numbers are no events
// and are left out; each is appended just before the notice that took its number, so one is the
// stream's last message only for the moment between the two (a reader that waits for the
// stream's last sequence could then wait for ever): such a claim is delivered, as a message
// with no body.
func nextEvent(it jetstream.MessagesContext, employerPrefix, noticePrefix string) (domain.Event, error) {
	var msg jetstream.Msg
	var meta *jetstream.MsgMetadata
	for {
		var err error
		if msg, err = it.Next(); err != nil {
			return domain.Event{}, err
		}
		if meta, err = msg.Metadata(); err != nil {
			return domain.Event{}, err
		}
		if !strings.HasPrefix(msg.Subject(), noticePrefix) || meta.NumPending == 0 {
			break
		}
	}
	return decodeEvent(msg.Data(), meta.Sequence.Stream, meta.Timestamp.UnixNano(), msg.Headers().Get(HashHeader), msg.Subject(), employerPrefix), nil
}

// decodeEvent is the event of a message as Subscribe delivers it: Body nil when it cannot be
// decoded, the employer's ID from a subject of employerPrefix.
func decodeEvent(data []byte, seq uint64, ts int64, hash, subject, employerPrefix string) domain.Event {
	id, isEmployer := strings.CutPrefix(subject, employerPrefix)
	if !isEmployer {
		id = ""
	}
	ev, err := domain.DecodeFor(data, id)
	if err != nil {
		ev.Body = nil
	}
	ev.Seq, ev.RecordedAt, ev.Hash = seq, ts, hash
	if isEmployer {
		ev.EmployerID = id
	}
	return ev
}

// SeqAt returns the first sequence the stream recorded at or after t, or the stream's last
// sequence plus one when it recorded nothing since: where a read of what was recorded from t
// on starts.
func (s *Store) SeqAt(ctx context.Context, t time.Time) (uint64, error) {
	last, err := s.LastSeq(ctx)
	if err != nil {
		return 0, err
	}
	cons, err := s.orderedConsumer(ctx, "find a sequence by time", jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &t})
	if err != nil {
		return 0, fmt.Errorf("sequence at %s: %w", t.Format(time.RFC3339), err)
	}
	defer dropConsumer(s.stream, cons)
	if cons.CachedInfo().NumPending == 0 {
		return last + 1, nil
	}
	for until := time.Now().Add(noResponderWait); ; {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			return 0, fmt.Errorf("sequence at %s: %w", t.Format(time.RFC3339), err)
		}
		if msg, ok := <-batch.Messages(); ok {
			meta, err := msg.Metadata()
			if err != nil {
				return 0, err
			}
			return meta.Sequence.Stream, nil
		}
		if err := batch.Error(); err != nil {
			if unknownYet(ctx, err, until) {
				continue
			}
			return 0, fmt.Errorf("sequence at %s: %w", t.Format(time.RFC3339), err)
		}
		return last + 1, nil
	}
}
