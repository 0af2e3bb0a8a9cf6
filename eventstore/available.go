package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNoLeader: the stream has replicas on a cluster and none of them leads it now (an election
// is under way, or a quorum of its replicas is lost); what it answers meanwhile may lag.
var ErrNoLeader = errors.New("eventstore: the stream has no leader")

// errNotFromLeader: a clustered stream's info came from a replica that does not lead it (a new
// stream's preferred replica answers before its election); its state may lag.
var errNotFromLeader = errors.New("eventstore: the stream's info came from a replica that does not lead it")

// errNotYet: a stream Open has just created was not found by the server that answered (one that
// has not applied the creation yet).
var errNotYet = errors.New("eventstore: the stream is not known everywhere yet")

// StartTimeout bounds how long Open keeps trying while the cluster cannot answer (a JetStream
// meta leader or the stream's leader being elected, nodes still joining), when Open's context has
// no earlier deadline.
const StartTimeout = time.Minute

// availableAttempt bounds one attempt of the requests Open repeats (the client's default).
const availableAttempt = 5 * time.Second

// transient reports whether err may pass if the request is made again in a moment: no answer
// in time, nobody listening, no leader, a cluster not available (JetStream answers 5xx), no
// suitable peers yet (nodes still joining), a write that was not recorded or whose outcome is
// unknown. Errors that say the request is wrong (a stream configuration JetStream refuses) are
// not, and neither is a closed store or connection.
func transient(err error) bool {
	if err == nil || errors.Is(err, ErrClosed) || errors.Is(err, nats.ErrConnectionClosed) {
		return false
	}
	for _, e := range []error{context.DeadlineExceeded, nats.ErrTimeout, nats.ErrNoResponders, jetstream.ErrJetStreamNotEnabled,
		jetstream.ErrNoStreamResponse, nats.ErrDisconnected, nats.ErrConnectionReconnecting, nats.ErrReconnectBufExceeded, ErrNoLeader, errNotFromLeader, errNotYet, ErrNotRecorded,
		ErrOutcomeUnknown} {
		if errors.Is(err, e) {
			return true
		}
	}
	var jae *jetstream.APIError
	if errors.As(err, &jae) {
		return jae.Code >= 500 || jae.Code == 408 || jae.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabled ||
			jae.ErrorCode == codeNoSuitablePeers
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == 408
	}
	return false
}

// codeNoSuitablePeers is JetStream's "insufficient resources / no suitable peers for placement",
// which a cluster whose nodes are still joining answers.
const codeNoSuitablePeers = 10005

// untilAvailable runs fn until it succeeds, fails for good (not transient), ctx ends or the
// budget is spent: ctx's deadline, or budget from now when ctx has none. Each attempt gets at
// most attempt; between attempts it pauses from 50 ms, doubling up to 1 s. With a log, each
// failed attempt is logged as a warning. The last error says what was tried and for how long.
func untilAvailable(ctx context.Context, budget, attempt time.Duration, log *slog.Logger, what string, fn func(ctx context.Context) error) error {
	start := time.Now()
	deadline := start.Add(budget)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	wait := 50 * time.Millisecond
	for n := 1; ; n++ {
		end := time.Now().Add(attempt)
		if deadline.Before(end) {
			end = deadline
		}
		actx, cancel := context.WithDeadline(ctx, end)
		err := fn(actx)
		cancel()
		if err == nil || !transient(err) {
			return err
		}
		if ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("%s: the stream did not answer for %v (%d attempts; on a cluster, is a JetStream meta leader elected, "+
				"and are enough of the stream's replicas up? on one server, can its data folder be written, and is its disk full?): %w",
				what, time.Since(start).Round(time.Millisecond), n, err)
		}
		if log != nil {
			log.Warn("event store: the stream cannot answer yet; trying again", "what", what, "attempt", n, "err", err)
		}
		pause(ctx, wait)
		wait = min(2*wait, time.Second)
	}
}

// createStream creates the stream, or updates it to sc. Two replicas creating it at once on a
// cluster can see the request go unanswered (nats-server#3677) though the stream was created,
// and a start while the meta leader is elected answers nothing or "not available": after such
// a failure the stream is looked up, and used if it exists with sc's settings; otherwise the
// create is tried again, until the budget is spent.
func createStream(ctx context.Context, js jetstream.JetStream, sc jetstream.StreamConfig, log *slog.Logger) (jetstream.Stream, error) {
	var stream jetstream.Stream
	err := untilAvailable(ctx, StartTimeout, availableAttempt, log, "create stream "+sc.Name, func(ctx context.Context) error {
		var err error
		if stream, err = js.CreateOrUpdateStream(ctx, sc); err == nil || !transient(err) {
			return err
		}
		if found, ferr := js.Stream(ctx, sc.Name); ferr == nil && sameStream(found.CachedInfo().Config, sc) {
			stream = found
			return nil
		}
		return err
	})
	return stream, err
}

// streamReplicas is how many replicas the stream has, or 1 when there is no stream yet; it asks
// again while the cluster cannot answer, rather than take a failure for "no stream" and scale
// the stream down.
func streamReplicas(ctx context.Context, js jetstream.JetStream, name string, log *slog.Logger) (int, error) {
	n := 1
	err := untilAvailable(ctx, StartTimeout, availableAttempt, log, "look up stream "+name, func(ctx context.Context) error {
		st, err := js.Stream(ctx, name)
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			return nil // none yet: it is made with one
		case err != nil:
			return err
		}
		n = st.CachedInfo().Config.Replicas
		return nil
	})
	return n, err
}

// sameStream reports whether the stream has the settings the store asks for.
func sameStream(have, want jetstream.StreamConfig) bool {
	return have.Name == want.Name && slices.Equal(have.Subjects, want.Subjects) && have.Storage == want.Storage &&
		have.Replicas == want.Replicas && have.Retention == want.Retention && have.Discard == want.Discard &&
		have.Duplicates == want.Duplicates && have.DenyDelete == want.DenyDelete && have.DenyPurge == want.DenyPurge &&
		have.AllowDirect == want.AllowDirect && have.AllowAtomicPublish == want.AllowAtomicPublish
}

// orderedConsumer creates an ordered consumer of the stream, trying again while the cluster
// cannot answer: a consumer create can go unanswered like a stream create when others are made
// at once (nats-server#3677), or while a leader is elected, and the client would wait for it
// until ctx ends. Each attempt waits at most followConsumerAttempt; without a deadline on ctx, tries
// stop after StartTimeout.
func (s *Store) orderedConsumer(ctx context.Context, what string, cfg jetstream.OrderedConsumerConfig) (jetstream.Consumer, error) {
	return orderedConsumer(ctx, s.stream, s.log, what, cfg)
}

// orderedConsumer is Store.orderedConsumer for any stream (a city's, read by the province); log
// may be nil.
func orderedConsumer(ctx context.Context, stream jetstream.Stream, log *slog.Logger, what string, cfg jetstream.OrderedConsumerConfig) (jetstream.Consumer, error) {
	var cons jetstream.Consumer
	err := untilAvailable(ctx, StartTimeout, followConsumerAttempt, log, what, func(ctx context.Context) error {
		var err error
		cons, err = stream.OrderedConsumer(ctx, cfg)
		return err
	})
	return cons, err
}

// dropConsumer deletes cons, an ordered consumer its reader is done with, on the server: else it
// stays until its inactivity threshold (5 minutes), and reads of the stream a few a second pile
// up to the server's limit of consumers, which then refuses every new one (a replica's follower
// at its restart too). A reader stops its messages first: an ordered consumer whose server-side
// consumer goes away under it makes another. The delete is sent in the background: a request
// does not wait for it.
func dropConsumer(stream jetstream.Stream, cons jetstream.Consumer) {
	if info := cons.CachedInfo(); info != nil {
		deleteConsumer(stream, info.Name)
	}
}

// deleteConsumer deletes the consumer name of stream in the background; if the delete fails,
// the consumer's inactivity threshold still ends it.
func deleteConsumer(stream jetstream.Stream, name string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), dropConsumerTimeout)
		defer cancel()
		_ = stream.DeleteConsumer(ctx, name)
	}()
}

const dropConsumerTimeout = 5 * time.Second

// droppingMessages are an ordered consumer's messages whose Stop (or Drain) also deletes the
// consumer (dropConsumer), once.
type droppingMessages struct {
	jetstream.MessagesContext
	once sync.Once
	drop func()
}

// messagesDropping is cons's messages (opts as Consumer.Messages takes them) that delete cons
// when stopped.
func messagesDropping(stream jetstream.Stream, cons jetstream.Consumer, opts ...jetstream.PullMessagesOpt) (jetstream.MessagesContext, error) {
	it, err := cons.Messages(opts...)
	if err != nil {
		dropConsumer(stream, cons)
		return nil, err
	}
	return &droppingMessages{MessagesContext: it, drop: func() { dropConsumer(stream, cons) }}, nil
}

// Stop stops the messages, then deletes their consumer.
func (d *droppingMessages) Stop() {
	d.MessagesContext.Stop()
	d.once.Do(d.drop)
}

// Drain drains the messages, then deletes their consumer.
func (d *droppingMessages) Drain() {
	d.MessagesContext.Drain()
	d.once.Do(d.drop)
}

// unknownYet reports a pull that met no responder while a read's consumer is new: on a cluster
// the consumer is made on the stream's leader, and the node the client talks to learns of it a
// moment later, so the read pulls again (pausing a little) until until.
func unknownYet(ctx context.Context, err error, until time.Time) bool {
	if !errors.Is(err, nats.ErrNoResponders) || time.Now().After(until) {
		return false
	}
	// Each pull from an ordered consumer makes it again on the server: a few tries, not a
	// consumer every few milliseconds.
	pause(ctx, 100*time.Millisecond)
	return ctx.Err() == nil
}

// noResponderWait bounds how long a read pulls again from a consumer not known yet (unknownYet).
const noResponderWait = 5 * time.Second

// followConsumerAttempt bounds one attempt to create a consumer.
const followConsumerAttempt = 2 * time.Second
