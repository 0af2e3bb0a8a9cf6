package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
)

// unit is the events of one or more commands on one subject, appended contiguously, all or none.
type unit struct {
	subject  string
	expected uint64 // the subject's last sequence the events were decided on (0: none yet)
	msgs     []*nats.Msg
	// guards are messages on subjects of their own (claims of notice numbers), each expected to
	// be the first of its subject, sent just before msgs in the same batch: the unit is stored
	// only if none of their subjects was taken.
	guards []*nats.Msg
	done   chan unitResult // the unit's one outcome (buffered: sending it never blocks)
	state  atomic.Int32    // unitQueued, unitSent, unitWithdrawn or unitAbandoned
}

// A unit's life: queued, then sent (and back to queued if its batch was refused whole and it
// is to be sent alone), or withdrawn before it was sent. Only its writer, while it still waits,
// lets it go out: a writer answered before its unit was sent withdraws it, so it is never sent;
// a writer answered while it was in flight abandons it, so it is never sent again.
const (
	unitQueued    int32 = iota // waiting to be sent
	unitSent                   // in a batch on its way to JetStream
	unitWithdrawn              // never to be sent: its writer gave up, or the committer stopped
	unitAbandoned              // sent, and its writer was answered with ErrOutcomeUnknown
)

// size is how many messages the unit sends.
func (u *unit) size() int { return len(u.guards) + len(u.msgs) }

type unitResult struct {
	firstSeq uint64
	err      error
}

// committer shares fsyncs between concurrent writers: it packs the units waiting when a batch
// goes out into one atomic batch (group commit), with up to Config.BatchesInFlight batches
// committing at once.
type committer struct {
	nc        *nats.Conn
	maxMsgs   int
	timeout   time.Duration
	queue     chan *unit
	slots     chan struct{}
	mu        sync.Mutex
	inflight  map[string]bool // subjects with a unit in flight: at most one each
	wake      chan struct{}
	linger    time.Duration // longest wait for more units once one is ready
	lastUnits atomic.Int64  // units in the last batch sent
	gap       time.Duration // a batch leaves when no unit arrived for this long
	observe   func(batchMsgs int, d time.Duration, err error)
	stopped   chan struct{}  // closed when run stops taking units
	wg        sync.WaitGroup // run and every goroutine committing a batch
}

func newCommitter(nc *nats.Conn, maxMsgs, inFlight int, timeout time.Duration) *committer {
	return &committer{
		nc: nc, maxMsgs: maxMsgs, timeout: timeout,
		queue:    make(chan *unit, 4096),
		slots:    make(chan struct{}, inFlight),
		inflight: map[string]bool{},
		wake:     make(chan struct{}, 1),
		linger:   4 * time.Millisecond,
		gap:      200 * time.Microsecond,
		stopped:  make(chan struct{}),
	}
}

// start runs the committer until ctx ends; wait then waits for it and its batches.
func (c *committer) start(ctx context.Context) {
	c.wg.Go(func() { c.run(ctx) })
}

// wait returns once the committer has stopped and every batch it sent has its outcome, which
// takes at most the publish timeout after ctx ended.
func (c *committer) wait() { c.wg.Wait() }

// notRecorded wraps why a unit was never sent.
func notRecorded(cause error) error {
	return fmt.Errorf("%w: %w", ErrNotRecorded, cause)
}

// submit queues u and waits for its outcome.
func (c *committer) submit(ctx context.Context, u *unit) (uint64, error) {
	if err := c.enqueue(ctx, u); err != nil {
		return 0, err
	}
	r := c.outcome(ctx, u)
	return r.firstSeq, r.err
}

// enqueue queues u; outcome gives its outcome. Nothing is queued once ctx has ended or the
// committer has stopped.
func (c *committer) enqueue(ctx context.Context, u *unit) error {
	u.done = make(chan unitResult, 1)
	if err := ctx.Err(); err != nil {
		return notRecorded(err)
	}
	select {
	case <-c.stopped:
		return notRecorded(ErrClosed)
	default:
	}
	select {
	case c.queue <- u:
		return nil
	case <-ctx.Done():
		return notRecorded(ctx.Err())
	case <-c.stopped:
		return notRecorded(ErrClosed)
	}
}

// outcome waits for the outcome of a queued unit. When ctx ends first, a unit not yet sent is
// withdrawn and answers ErrNotRecorded, and one already sent answers ErrOutcomeUnknown: neither
// is sent afterwards. When the committer stops, a unit not yet sent answers ErrNotRecorded and
// one in flight its outcome, which comes within the publish timeout.
func (c *committer) outcome(ctx context.Context, u *unit) unitResult {
	stopped := c.stopped
	for {
		select {
		case r := <-u.done:
			return r
		case <-stopped:
			if u.state.CompareAndSwap(unitQueued, unitWithdrawn) {
				return unitResult{err: notRecorded(ErrClosed)}
			}
			stopped = nil // in flight: its outcome comes
		case <-ctx.Done():
			return abandon(u, ctx.Err())
		}
	}
}

// abandon answers the writer of u, whose context ended with cause, and makes sure u is not
// sent after that answer.
func abandon(u *unit, cause error) unitResult {
	for {
		select {
		case r := <-u.done:
			return r
		default:
		}
		switch u.state.Load() {
		case unitQueued:
			if u.state.CompareAndSwap(unitQueued, unitWithdrawn) {
				return unitResult{err: notRecorded(cause)}
			}
		case unitSent:
			if u.state.CompareAndSwap(unitSent, unitAbandoned) {
				return unitResult{err: fmt.Errorf("%w: %w", ErrOutcomeUnknown, cause)}
			}
		default: // withdrawn by the committer as it stopped, which answers it
			return <-u.done
		}
	}
}

// refuse answers a unit that will not be sent, unless its writer withdrew it already.
func refuse(u *unit, cause error) {
	if u.state.CompareAndSwap(unitQueued, unitWithdrawn) {
		u.done <- unitResult{err: notRecorded(cause)}
	}
}

// run is the committer's loop; it returns when ctx ends.
func (c *committer) run(ctx context.Context) {
	var deferred []*unit
	defer func() { c.stop(deferred) }()
	for {
		if len(deferred) == 0 {
			select {
			case u := <-c.queue:
				deferred = append(deferred, u)
			case <-ctx.Done():
				return
			}
		}
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		var batch []*unit
		n := 0
		c.mu.Lock()
		taken := map[string]bool{}
		// take puts u in the batch, or drops it if its writer withdrew it; false defers it.
		take := func(u *unit) bool {
			if u.state.Load() == unitWithdrawn {
				return true
			}
			if c.inflight[u.subject] || taken[u.subject] || (n > 0 && n+u.size() > c.maxMsgs) {
				return false
			}
			for _, g := range u.guards {
				if c.inflight[g.Subject] || taken[g.Subject] {
					return false
				}
			}
			taken[u.subject] = true
			for _, g := range u.guards {
				taken[g.Subject] = true
			}
			batch = append(batch, u)
			n += u.size()
			return true
		}
		rest := deferred[:0]
		for _, u := range deferred {
			if !take(u) {
				rest = append(rest, u)
			}
		}
		deferred = rest
		// Linger briefly while writers keep arriving: a batch costs the server a fixed few
		// milliseconds whatever its size, so fuller batches mean more commands per second. The
		// writers of the last batch are likely to come back (over HTTP, a round trip later), so
		// a batch waits for as many units as the last one had, up to the linger time.
		target := int(c.lastUnits.Load())
		linger := time.NewTimer(c.linger)
		quiet := time.NewTimer(c.gap)
	drain:
		for n < c.maxMsgs {
			select {
			case u := <-c.queue:
				if !take(u) {
					deferred = append(deferred, u)
				}
				quiet.Reset(c.gap)
			case <-quiet.C:
				if len(batch) >= target {
					break drain
				}
				quiet.Reset(c.gap)
			case <-linger.C:
				break drain
			}
		}
		linger.Stop()
		quiet.Stop()
		for _, u := range batch {
			c.inflight[u.subject] = true
			for _, g := range u.guards {
				c.inflight[g.Subject] = true
			}
		}
		c.mu.Unlock()
		if len(batch) == 0 {
			// Everything waiting is behind a unit in flight on its subject.
			<-c.slots
			select {
			case <-c.wake:
			case u := <-c.queue:
				deferred = append(deferred, u)
			case <-ctx.Done():
				return
			}
			continue
		}
		c.wg.Go(func() { c.commit(batch, n) })
	}
}

// stop answers the units still waiting when run returns: none of them is sent.
func (c *committer) stop(waiting []*unit) {
	close(c.stopped)
	for _, u := range waiting {
		refuse(u, ErrClosed)
	}
	for {
		select {
		case u := <-c.queue:
			refuse(u, ErrClosed)
		default:
			// A unit queued from now on is withdrawn by its writer, which sees c.stopped.
			return
		}
	}
}

// unmark frees the subjects of units no longer in flight.
func (c *committer) unmark(units []*unit) {
	c.mu.Lock()
	for _, u := range units {
		delete(c.inflight, u.subject)
		for _, g := range u.guards {
			delete(c.inflight, g.Subject)
		}
	}
	c.mu.Unlock()
}

func (c *committer) release(batch []*unit) {
	c.unmark(batch)
	<-c.slots
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *committer) commit(batch []*unit, n int) {
	// Send only the units whose writers still wait: a unit withdrawn since it was taken is not.
	sending := make([]*unit, 0, len(batch))
	var withdrawn []*unit
	for _, u := range batch {
		if u.state.CompareAndSwap(unitQueued, unitSent) {
			sending = append(sending, u)
		} else {
			withdrawn = append(withdrawn, u)
			n -= u.size()
		}
	}
	c.unmark(withdrawn)
	batch = sending
	if len(batch) == 0 {
		c.release(nil)
		return
	}
	c.lastUnits.Store(int64(len(batch)))
	start := time.Now()
	first, err := c.publish(batch, n)
	if c.observe != nil {
		c.observe(n, time.Since(start), err)
	}
	c.release(batch)
	if err == nil {
		seq := first
		for _, u := range batch {
			seq += uint64(len(u.guards))
			u.done <- unitResult{firstSeq: seq}
			seq += uint64(len(u.msgs))
		}
		return
	}
	if len(batch) == 1 || !(errors.Is(err, ErrConflict) || errors.Is(err, errDuplicate)) {
		for _, u := range batch {
			u.done <- unitResult{err: err}
		}
		return
	}
	// One unit spoiled the batch, which stored nothing; the rest must not pay for it. Commit
	// each on its own (their subjects are free again, and order within a subject is kept by
	// the callers), unless its writer was answered meanwhile: then it is not sent again.
	for _, u := range batch {
		if u.state.CompareAndSwap(unitSent, unitQueued) {
			c.wg.Go(func() { c.commitAlone(u) })
		}
	}
}

// commitAlone sends one unit as a batch of its own, if its writer still waits for it.
func (c *committer) commitAlone(u *unit) {
	select {
	case <-c.stopped:
		refuse(u, ErrClosed)
		return
	default:
	}
	select {
	case c.slots <- struct{}{}:
	case <-c.stopped:
		refuse(u, ErrClosed)
		return
	}
	defer func() { <-c.slots }()
	if !u.state.CompareAndSwap(unitQueued, unitSent) {
		return // withdrawn: its writer was answered
	}
	first, err := c.publish([]*unit{u}, u.size())
	if err == nil {
		first += uint64(len(u.guards))
	}
	u.done <- unitResult{firstSeq: first, err: err}
}

type pubAck struct {
	Stream    string    `json:"stream"`
	Seq       uint64    `json:"seq"`
	Duplicate bool      `json:"duplicate"`
	Count     uint64    `json:"count"`
	Error     *APIError `json:"error"`
}

// publish sends the units as one message (a single event) or one atomic batch, each unit's
// guards just before its messages, and returns the sequence of the first message. An error wrapping ErrNotRecorded means nothing was stored; one
// wrapping ErrOutcomeUnknown means the batch was sent but not acknowledged.
func (c *committer) publish(batch []*unit, n int) (uint64, error) {
	if !c.nc.IsConnected() {
		// Not sent: a message published now would wait in the client's reconnect buffer and
		// could be stored at any later time.
		return 0, notRecorded(fmt.Errorf("append: NATS connection %s", c.nc.Status()))
	}
	msgs := make([]*nats.Msg, 0, n)
	for _, u := range batch {
		for _, g := range u.guards {
			g.Header.Set("Nats-Expected-Last-Subject-Sequence", "0")
			msgs = append(msgs, g)
		}
		for i, m := range u.msgs {
			m.Header.Del("Nats-Expected-Last-Subject-Sequence")
			if i == 0 {
				// Only the first message of a subject may carry the expected sequence: the
				// server checks each message against the stream as it stood before the batch.
				m.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(u.expected, 10))
			}
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 1 {
		m := msgs[0]
		m.Header.Del("Nats-Batch-Id")
		m.Header.Del("Nats-Batch-Sequence")
		m.Header.Del("Nats-Batch-Commit")
		ack, err := c.request(m)
		if err != nil {
			return 0, err
		}
		if ack.Duplicate {
			return 0, errDuplicate
		}
		return ack.Seq, nil
	}
	id := uuid.NewString()
	for i, m := range msgs {
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i == len(msgs)-1 {
			m.Header.Set("Nats-Batch-Commit", "1")
			break
		}
		m.Header.Del("Nats-Batch-Commit")
		m.Reply = ""
		if err := c.nc.PublishMsg(m); err != nil {
			// Without its commit message the server stores none of the batch.
			return 0, notRecorded(fmt.Errorf("publish batch: %w", err))
		}
	}
	ack, err := c.request(msgs[len(msgs)-1])
	if err != nil {
		return 0, err
	}
	if ack.Count != uint64(len(msgs)) {
		return 0, fmt.Errorf("atomic batch: committed %d of %d messages", ack.Count, len(msgs))
	}
	return ack.Seq - ack.Count + 1, nil
}

func (c *committer) request(m *nats.Msg) (*pubAck, error) {
	resp, err := c.nc.RequestMsg(m, c.timeout)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, notRecorded(fmt.Errorf("append: %w", err)) // no stream took it
	}
	if err != nil {
		return nil, fmt.Errorf("%w: append: %w", ErrOutcomeUnknown, err)
	}
	var ack pubAck
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return nil, fmt.Errorf("%w: append: bad acknowledgement %q: %w", ErrOutcomeUnknown, resp.Data, err)
	}
	if ack.Error != nil {
		return nil, classify(ack.Error)
	}
	return &ack, nil
}
