// Over 500 lines for a reason: the committer's batching (gathering, splitting on conflicts,
// retries, folding a batch under one hold) is one state machine over units.

package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// unit is the events of one or more commands on one subject, appended contiguously, all or none.
type unit struct {
	subject  string
	expected uint64 // the subject's last sequence the events were decided on (0: none yet)
	// after, when not 0, is the stream's last sequence the unit was decided on: it is stored
	// only if the stream is still there (Nats-Expected-Last-Sequence), so it goes in a batch
	// of its own, as one message.
	after uint64
	msgs  []*nats.Msg
	// guards are messages on subjects of their own (claims of notice numbers), each expected to
	// be the first of its subject, sent just before msgs in the same batch: the unit is stored
	// only if none of their subjects was taken.
	guards []*nats.Msg
	// fenced marks a unit decided with reference data that a year's closing or reopening
	// through another replica could make wrong (dated in a year that has ended, or a void): it is
	// stored only if the stream's last closing or reopening is still the one at yearsSeq, the
	// years' head it was decided on (a fence message goes in its batch, committer.fence).
	fenced   bool
	yearsSeq uint64
	// claims are the events among guards (claims of organisation codes), by their index there:
	// folded with evs, so that the writer's replica knows the claim as soon as it answers.
	claims []guardEvent
	// evs are msgs' events, if the committer is to fold them (its fold) as soon as the unit is
	// stored, before its writer is answered; folded says it did.
	evs    []domain.Event
	folded bool
	// uncached marks a bulk load's unit: its employer's state is folded into the write side's
	// cache only if cached already (rlockEmployerFor).
	uncached bool
	// settles marks a unit whose writer, once it is sent, waits for its outcome whatever its
	// context: a hold's own append, whose outcome the writes held must be decided after.
	settles bool
	done    chan unitResult // the unit's one outcome (buffered: sending it never blocks)
	state   atomic.Int32    // unitQueued, unitSent, unitWithdrawn or unitAbandoned
}

// guardEvent is the event of a unit's guard i.
type guardEvent struct {
	i  int
	ev domain.Event
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
	nc       *nats.Conn
	maxMsgs  int
	timeout  time.Duration
	queue    chan *unit
	slots    chan struct{}
	mu       sync.Mutex
	inflight map[string]bool // subjects with a unit in flight: at most one each
	wake     chan struct{}
	linger   time.Duration // longest wait for more units once one is ready
	gap      time.Duration // a batch leaves when no unit arrived for this long
	observe  func(batchMsgs int, d time.Duration, err error)
	stopped  chan struct{}  // closed when run stops taking units
	wg       sync.WaitGroup // run and every goroutine committing a batch
	// attempt bounds one sending of a batch (timeout bounds them all, from the first); shorter
	// than timeout on a clustered stream, where an unanswered sending is sent again.
	attempt time.Duration
	// resolve reads the first message of a subject from a sequence on, as the stream's leader
	// has it: what settles whether an unanswered sending was stored.
	resolve func(ctx context.Context, seq uint64, subject string) (*jetstream.RawStreamMsg, error)
	electMu sync.Mutex
	elected chan struct{} // closed when the stream's leader changes
	// lose is how many acknowledgements to treat as never received, set by tests that stand
	// for an answer lost on the way back.
	lose atomic.Int32
	disk *diskGuard // refuses sendings while the data folder is full or read-only; nil: none
	// fold folds the events of stored units, each from its first sequence, all at once: the
	// writers of a batch, answered together, would otherwise queue for the lock one by one.
	// nil: the writers fold.
	fold func(units []*unit, firsts []uint64)
	// fenceSubject is where a batch's fence message goes (a claim, no event), and yearsSubject
	// the subject the fence checks: the years' closings and reopenings.
	fenceSubject, yearsSubject string
	// fencing: a batch with fenced units is in flight. One at a time: on a clustered stream
	// the leader refuses a check of the years while another batch checking them is in process.
	fencing bool
	// seqValues[i] is the Nats-Batch-Sequence value of a batch's message i+1, shared by every
	// batch and never changed: one slice and string each rather than two allocations a message.
	seqValues [][]string
}

func newCommitter(nc *nats.Conn, maxMsgs, inFlight int, timeout time.Duration) *committer {
	return &committer{
		nc: nc, maxMsgs: maxMsgs, timeout: timeout, attempt: timeout, seqValues: batchSequences(maxMsgs),
		queue:    make(chan *unit, 4096),
		slots:    make(chan struct{}, inFlight),
		inflight: map[string]bool{},
		wake:     make(chan struct{}, 1),
		linger:   4 * time.Millisecond,
		gap:      400 * time.Microsecond,
		stopped:  make(chan struct{}),
	}
}

// batchSequences returns the Nats-Batch-Sequence values of a batch of up to n messages.
func batchSequences(n int) [][]string {
	v := make([][]string, n)
	for i := range v {
		v[i] = []string{strconv.Itoa(i + 1)}
	}
	return v
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
// withdrawn and answers ErrNotRecorded, and one already sent answers ErrOutcomeUnknown (unless
// it settles: then its outcome, which comes within the publish timeout): neither is sent
// afterwards. When the committer stops, a unit not yet sent answers ErrNotRecorded and one in
// flight its outcome.
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
			if u.settles {
				return settle(u, ctx.Err())
			}
			return abandon(u, ctx.Err())
		}
	}
}

// settle answers the writer of u, whose context ended with cause: not recorded if u was not
// sent yet (it never is after that answer), else its outcome once its batch has one.
func settle(u *unit, cause error) unitResult {
	if u.state.CompareAndSwap(unitQueued, unitWithdrawn) {
		return unitResult{err: notRecorded(cause)}
	}
	return <-u.done
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
		batch, n := c.gather(ctx, &deferred)
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

// gather takes the next batch from the units deferred and those queued, marks their subjects in
// flight, and returns it with its size in messages. The caller holds a slot.
//
// The server commits batches one after another: a batch sent beside one in flight only waits
// there, and splits the writers that would have filled one batch into two, each paying the
// server's fixed cost of a batch. So a batch goes beside another only once it is full (a bulk
// load's are); otherwise it gathers units until the one in flight ends. A batch alone goes once
// no unit has come for a moment (gap), writers having stopped arriving, or after the linger.
func (c *committer) gather(ctx context.Context, deferred *[]*unit) ([]*unit, int) {
	alone := len(c.slots) == 1
	var batch []*unit
	n, full := 0, false
	taken := map[string]bool{}
	var fence *uint64 // the years' head the batch's fenced units were decided on
	// take puts u in the batch, or drops it if its writer withdrew it; false defers it.
	take := func(u *unit) bool {
		if u.state.Load() == unitWithdrawn {
			return true
		}
		lead := 0 // the fence message, if u is the batch's first fenced unit
		if u.fenced && fence == nil {
			lead = 1
		}
		if n > 0 && (n+lead+u.size() > c.maxMsgs || u.after != 0 || batch[0].after != 0) {
			full = true
			return false
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.inflight[u.subject] || taken[u.subject] {
			return false
		}
		if u.fenced && (c.fencing || fence != nil && *fence != u.yearsSeq) {
			// One fence a batch, one fenced batch in flight.
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
		if lead > 0 {
			fence = &u.yearsSeq
		}
		batch = append(batch, u)
		n += lead + u.size()
		full = full || u.after != 0
		return true
	}
	retake := func() {
		rest := (*deferred)[:0]
		for _, u := range *deferred {
			if !take(u) {
				rest = append(rest, u)
			}
		}
		*deferred = rest
	}
	retake()
	linger := time.NewTimer(c.linger)
	quiet := time.NewTimer(c.gap)
	defer linger.Stop()
	defer quiet.Stop()
drain:
	for n < c.maxMsgs && !full {
		select {
		case u := <-c.queue:
			if !take(u) {
				*deferred = append(*deferred, u)
			}
			quiet.Reset(c.gap)
		case <-quiet.C:
			if alone {
				break drain
			} // else the next unit to come sets it again
		case <-linger.C:
			if alone {
				break drain
			}
		case <-c.wake:
			// A batch ended: units behind its subjects may go, and if it was the one in
			// flight, this batch lingers from now as if it had just begun.
			retake()
			if !alone && len(c.slots) == 1 {
				alone = true
				linger.Reset(c.linger)
				quiet.Reset(c.gap)
			}
		case <-ctx.Done():
			// Nothing goes out once the committer stops: its units are refused with the rest.
			*deferred = append(batch, *deferred...)
			return nil, 0
		}
	}
	c.mu.Lock()
	c.fencing = c.fencing || fence != nil
	for _, u := range batch {
		c.inflight[u.subject] = true
		for _, g := range u.guards {
			c.inflight[g.Subject] = true
		}
	}
	c.mu.Unlock()
	return batch, n
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

// release frees the subjects of a batch that ended, its fence if it was fenced, and its slot.
func (c *committer) release(batch []*unit, fenced bool) {
	c.unmark(batch)
	if fenced {
		c.mu.Lock()
		c.fencing = false
		c.mu.Unlock()
	}
	c.freeSlot()
}

// freeSlot frees a slot taken for a batch, and wakes the loop: a batch gathering beside it
// (gather) may go now, and units behind its subjects too.
func (c *committer) freeSlot() {
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
	fenced := slices.ContainsFunc(batch, func(u *unit) bool { return u.fenced })
	batch = sending
	if len(batch) == 0 {
		c.release(nil, fenced)
		return
	}
	start := time.Now()
	first, err := c.publish(batch, n)
	if c.observe != nil {
		c.observe(n, time.Since(start), err)
	}
	c.release(batch, fenced)
	if err == nil {
		firsts := make([]uint64, len(batch))
		seq := first
		for i, u := range batch {
			seq += uint64(len(u.guards))
			firsts[i] = seq
			seq += uint64(len(u.msgs))
		}
		c.folds(batch, firsts)
		for i, u := range batch {
			u.done <- unitResult{firstSeq: firsts[i]}
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
	defer c.freeSlot()
	if !u.state.CompareAndSwap(unitQueued, unitSent) {
		return // withdrawn: its writer was answered
	}
	first, err := c.publish([]*unit{u}, u.size())
	if err == nil {
		first += uint64(len(u.guards))
		c.folds([]*unit{u}, []uint64{first})
	}
	u.done <- unitResult{firstSeq: first, err: err}
}

// folds folds the events of the stored units that carry them (c.fold) and marks those folded,
// before their writers are answered.
func (c *committer) folds(units []*unit, firsts []uint64) {
	if c.fold == nil {
		return
	}
	var us []*unit
	var fs []uint64
	for i, u := range units {
		if u.evs != nil {
			us, fs = append(us, u), append(fs, firsts[i])
		}
	}
	if len(us) == 0 {
		return
	}
	c.fold(us, fs)
	for _, u := range us {
		u.folded = true
	}
}

type pubAck struct {
	Stream    string    `json:"stream"`
	Seq       uint64    `json:"seq"`
	Duplicate bool      `json:"duplicate"`
	Count     uint64    `json:"count"`
	Error     *APIError `json:"error"`
}

// publish sends the units as one message (a single event) or one atomic batch, each unit's
// guards just before its messages, after a fence message if a unit is fenced, and returns the
// sequence of the first unit's first message (its first guard's, if it has guards). An error
// wrapping ErrNotRecorded means nothing was stored; one wrapping ErrOutcomeUnknown means the
// batch was sent but its outcome could not be learnt before c.timeout from its first sending.
//
// On a clustered stream (c.attempt shorter than c.timeout) a sending that is not answered within
// c.attempt, or that finds no stream leader to take it (no responders, a batch the new leader
// never saw begin), is sent again, until c.timeout from the first: so writes go on as soon as
// the stream has a new leader after its leader's node died, rather than waiting out c.timeout
// for an answer that will never come. The leader-elected advisory cuts a sending's wait short.
// Sending again is safe: every unit carries its subject's expected sequence (and a keyed one its
// key as message id), so at most one sending is stored. When a sending is refused as a conflict,
// or as a duplicate of a message id, after an earlier one went unanswered, the stream is read to
// settle which it was: the earlier sending stored (the batch's first sequence is answered, not a
// duplicate: the write is this one), or another writer's (the refusal is).
func (c *committer) publish(batch []*unit, n int) (uint64, error) {
	msgs := make([]*nats.Msg, 0, n+1)
	if i := slices.IndexFunc(batch, func(u *unit) bool { return u.fenced }); i >= 0 {
		m, err := c.fence(batch[i].yearsSeq)
		if err != nil {
			return 0, notRecorded(err)
		}
		msgs = append(msgs, m)
	}
	lead := uint64(len(msgs))
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
				if u.after != 0 {
					m.Header.Set("Nats-Expected-Last-Sequence", strconv.FormatUint(u.after, 10))
				}
			}
			msgs = append(msgs, m)
		}
	}
	deadline := time.Now().Add(c.timeout)
	unknown := false // a sending went unanswered: the stream may hold the batch
	pause := resendPauseMin
	for {
		var elected chan struct{} // none on one server: nothing is sent again there
		if c.attempt < c.timeout {
			elected = c.electedCh()
		}
		first, err := c.send(msgs, min(c.attempt, time.Until(deadline)), elected)
		switch {
		case err == nil:
			return first + lead, nil
		case unknown && (errors.Is(err, ErrConflict) || errors.Is(err, errDuplicate)):
			return c.settle(batch, deadline, err)
		case errors.Is(err, ErrOutcomeUnknown):
			unknown = true
		case !errors.Is(err, ErrNotRecorded):
			if unknown {
				return 0, fmt.Errorf("%w: sent again after no answer, and refused: %w", ErrOutcomeUnknown, err)
			}
			return 0, err
		}
		if c.attempt >= c.timeout || time.Until(deadline) < pause {
			if unknown && !errors.Is(err, ErrOutcomeUnknown) {
				return 0, fmt.Errorf("%w: a sending went unanswered, the last one: %w", ErrOutcomeUnknown, err)
			}
			return 0, err
		}
		if errors.Is(err, ErrOutcomeUnknown) {
			continue // waited a whole attempt already (or a new leader was elected): at once
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-elected:
		case <-c.stopped:
			if !unknown {
				t.Stop()
				return 0, notRecorded(ErrClosed)
			}
			<-t.C
		}
		t.Stop()
		pause = min(2*pause, resendPauseMax)
	}
}

// Pauses before sending again a batch that no stream leader took (a leader being elected).
const (
	resendPauseMin = 25 * time.Millisecond
	resendPauseMax = 400 * time.Millisecond
)

// leaderElected tells sendings that wait that the stream has a new leader: one that went to the
// old leader is answered by nobody, and goes again at once.
func (c *committer) leaderElected() {
	c.electMu.Lock()
	defer c.electMu.Unlock()
	if c.elected != nil {
		close(c.elected)
	}
	c.elected = make(chan struct{})
}

// electedCh is closed at the next leaderElected.
func (c *committer) electedCh() chan struct{} {
	c.electMu.Lock()
	defer c.electMu.Unlock()
	if c.elected == nil {
		c.elected = make(chan struct{})
	}
	return c.elected
}

// send sends msgs once, waiting at most d for the acknowledgement, or until abort is closed.
func (c *committer) send(msgs []*nats.Msg, d time.Duration, abort <-chan struct{}) (uint64, error) {
	if !c.nc.IsConnected() {
		// Not sent: a message published now would wait in the client's reconnect buffer and
		// could be stored at any later time.
		return 0, notRecorded(fmt.Errorf("append: NATS connection %s", c.nc.Status()))
	}
	if err := c.disk.check(); err != nil {
		return 0, notRecorded(err)
	}
	if len(msgs) == 1 {
		m := msgs[0]
		m.Header.Del("Nats-Batch-Id")
		m.Header.Del("Nats-Batch-Sequence")
		m.Header.Del("Nats-Batch-Commit")
		ack, err := c.request(m, d, abort)
		if err != nil {
			return 0, err
		}
		if ack.Duplicate {
			return 0, errDuplicate
		}
		return ack.Seq, nil
	}
	id := []string{uuid.NewString()} // a new batch each sending: the one before may be half received
	for i, m := range msgs {
		// The values are shared: nats.Header.Set and Add replace a key's slice, never write in it.
		m.Header["Nats-Batch-Id"] = id
		if i < len(c.seqValues) {
			m.Header["Nats-Batch-Sequence"] = c.seqValues[i]
		} else {
			m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		}
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
	ack, err := c.request(msgs[len(msgs)-1], d, abort)
	if err != nil {
		return 0, err
	}
	if ack.Count != uint64(len(msgs)) {
		return 0, fmt.Errorf("atomic batch: committed %d of %d messages", ack.Count, len(msgs))
	}
	return ack.Seq - ack.Count + 1, nil
}

func (c *committer) request(m *nats.Msg, d time.Duration, abort <-chan struct{}) (*pubAck, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if abort != nil {
		go func() {
			select {
			case <-abort:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	resp, err := c.nc.RequestMsgWithContext(ctx, m)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, notRecorded(fmt.Errorf("append: %w", err)) // no stream took it
	}
	if err == nil && c.lose.Load() > 0 && c.lose.Add(-1) >= 0 {
		err = context.DeadlineExceeded
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

// settle learns whether an earlier sending of the batch, which went unanswered, is what the
// stream holds, now that a later one was refused as a conflict or a duplicate (cause): each unit's first message
// is the first of its subject after the sequence it expected, if the batch is stored. Another
// writer's message there means it is not (an atomic batch is stored whole or not at all), and
// cause stands. Nothing there yet means a sending is still being committed: the stream is read
// again, until deadline; then the outcome is unknown.
func (c *committer) settle(batch []*unit, deadline time.Time, cause error) (uint64, error) {
	pause := resendPauseMin
	for {
		first, stored, err := c.find(batch)
		if err == nil {
			if stored {
				return first, nil
			}
			return 0, cause
		}
		if c.resolve == nil || time.Until(deadline) < pause {
			return 0, fmt.Errorf("%w: sent again after no answer and refused (%v); whether the first sending is stored is not known: %v",
				ErrOutcomeUnknown, cause, err)
		}
		t := time.NewTimer(pause)
		<-t.C
		pause = min(2*pause, resendPauseMax)
	}
}

// find reads the first message after each unit's expected sequence on its subject: the unit's own
// (the batch is stored: the sequence of its first unit's first message, a fence before it left
// out, is answered), another's (it is not), or none yet (err).
func (c *committer) find(batch []*unit) (first uint64, stored bool, err error) {
	if c.resolve == nil {
		return 0, false, errors.New("no reader of the stream")
	}
	var offset uint64 // of the unit's first message from the first unit's
	err = errors.New("nothing after the expected sequences yet")
	for _, u := range batch {
		offset += uint64(len(u.guards))
		seq, subject := u.expected+1, u.subject
		if u.after != 0 {
			// Alone, and stored only at the stream's sequence after: whatever is there says.
			seq, subject = u.after+1, ""
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		raw, rerr := c.resolve(ctx, seq, subject)
		cancel()
		switch {
		case errors.Is(rerr, jetstream.ErrMsgNotFound):
		case rerr != nil:
			err = rerr
		case raw.Header.Get(HashHeader) == u.msgs[0].Header.Get(HashHeader):
			return raw.Sequence - offset, true, nil
		default:
			return 0, false, nil
		}
		offset += uint64(len(u.msgs))
	}
	return 0, false, err
}
