// Over 500 lines for a reason: the follower folds every message of the stream into the store's
// indexes and checks its chain; its cases (own appends, others', breaks, reference data, freezes)
// share one loop.

package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go/jetstream"
)

// localEvent is an event this store appended and folded as soon as it was acknowledged, kept
// until the follower reaches it in the stream and checks the stored bytes' chain link with it.
type localEvent struct {
	seq, n, prevSeq uint64
	prevHash, hash  string
}

// foldHead is the last event of a subject folded into the store's state: one of its own
// appends not yet reached by the follower, or else the last the follower checked. The caller
// holds s.mu.
func (s *Store) foldHead(subject string) head {
	if a := s.ahead[subject]; len(a) > 0 {
		l := a[len(a)-1]
		return head{seq: l.seq, n: l.n, hash: l.hash}
	}
	return s.heads[subject]
}

// startTail follows the stream from sequence from on. Messages are prepared (decoded, their
// chain hash checked) by followWorkers goroutines while the ones before are folded; they are
// folded in stream order, a run at a time (applyRun). They go from goroutine to goroutine in
// batches: during the replay Start began, as many as tailBatchMax at a time, so that a replay
// costs a few hand-overs a batch, not a few a message; after it, each as it comes.
//
// On the embedded server the stream is read through the store's own connection (ownConn), and
// through the client's ordered consumer from the next sequence if that fails. On a cluster it is
// read through the ordered consumer alone. When its node dies the client makes another,
// but with pauses of its own that grow to 10 s while the cluster elects leaders, and every write
// that must catch up waits meanwhile: a follower that folds nothing for followStall while someone
// waits for it (WaitApplied) is given a new consumer from the next sequence instead
// (kickFollower), and what the old one still delivers is dropped.
func (s *Store) startTail(ctx, runCtx context.Context, from uint64) error {
	var cur *tailReader
	if s.cfg.DialFollow != nil {
		c, err := openOwn(s.cfg.DialFollow, s.cfg.Stream, from)
		if err != nil {
			s.log.Warn("event store: the follower reads through the client", "err", err)
		} else {
			cur = s.readOwn(c)
		}
	}
	if cur == nil {
		it, err := s.tailFrom(ctx, from)
		if err != nil {
			return fmt.Errorf("follow stream: %w", err)
		}
		cur = readTail(it, s.replayTo)
	}
	// A few batches ahead, as many messages as a few thousand alone were.
	work, ordered := make(chan *preparedBatch, 8), make(chan *preparedBatch, 8)
	s.backlog.Store(&ordered)
	for range followWorkers {
		go func() {
			for b := range work {
				for i := range b.items {
					s.prepare(&b.items[i])
				}
				close(b.ready)
			}
		}()
	}
	go func() {
		defer close(work)
		defer close(ordered)
		next := from // the sequence after the last message handed on
		defer func() { cur.stop() }()
		for {
			var batch tailBatch
			select {
			case <-runCtx.Done():
				return
			case <-s.tailKick:
				s.log.Warn("event store: the follower folds nothing though it is behind the stream; following it with a new consumer",
					"from", next)
				it, err := s.tailFrom(runCtx, next)
				if err != nil {
					if runCtx.Err() == nil {
						s.log.Error("event store: a new consumer to follow the stream", "err", err)
					}
					continue
				}
				cur.stop()
				cur = readTail(it, s.replayTo)
				continue
			case batch = <-cur.batches:
			}
			b := preparedBatches.Get().(*preparedBatch)
			b.ready, b.arena = make(chan struct{}), batch.arena
			for _, m := range batch.msgs {
				if m.ok {
					if m.seq < next {
						continue // already handed on (a consumer made again may start a little early)
					}
					next = m.seq + 1
				}
				b.items = append(b.items, prepared{tailMsg: m})
			}
			batch.release()
			if len(b.items) > 0 {
				work <- b
				ordered <- b
			} else {
				b.release()
			}
			if err := batch.err; err != nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) || runCtx.Err() != nil {
					return
				}
				if !errors.Is(err, errOwnEnd) {
					s.log.Warn("following the stream", "err", err)
					continue
				}
				// The follower's own connection failed: the client follows the stream from here.
				cur.stop()
				if cur = s.followFrom(runCtx, next); cur == nil {
					return
				}
			}
		}
	}()
	s.tailing.Store(true)
	go func() {
		defer close(s.done)
		defer s.endShare()
		for b := range ordered {
			<-b.ready
			for start := 0; start < len(b.items); start += foldHoldEvents {
				run := b.items[start:min(start+foldHoldEvents, len(b.items))]
				if s.applyRun(run) {
					s.requestSnapshot()
				}
				for i := range run {
					s.giveShare(runCtx, &run[i])
				}
			}
			s.passShare(runCtx)
			s.mu.Lock()
			close(s.notify)
			s.notify = make(chan struct{})
			s.mu.Unlock()
			b.release()
		}
	}()
	return nil
}

// followFrom follows the stream from sequence from on through the client, trying again every
// followStall while the consumer cannot be made; nil once runCtx ends.
func (s *Store) followFrom(runCtx context.Context, from uint64) *tailReader {
	for {
		it, err := s.tailFrom(runCtx, from)
		if err == nil {
			return readTail(it, s.replayTo)
		}
		if runCtx.Err() != nil {
			return nil
		}
		s.log.Error("event store: a consumer to follow the stream", "from", from, "err", err)
		select {
		case <-runCtx.Done():
			return nil
		case <-time.After(followStall):
		}
	}
}

// readOwn reads the stream through the store's own connection c: up to replayTo in pulls that do
// not wait, each read whole before it is handed on in batches of up to tailBatchMax; then in
// pulls that wait for new messages, each handed on as it comes (readLive). If c fails it ends
// with a batch whose error is errOwnEnd, after all it read (logged).
func (s *Store) readOwn(c *ownConn) *tailReader {
	var ending atomic.Bool // the reader is done reading and deletes its consumer itself
	r := &tailReader{batches: make(chan tailBatch, 4), done: make(chan struct{}), end: func() {
		if !ending.Load() {
			c.conn.Close()
		}
	}}
	go func() {
		var msgs []tailMsg // a pull's messages
		var err error
		for {
			arena := pullArenas.Get().(*pullArena)
			var short bool
			msgs = msgs[:0]
			short, err = c.pull(false, arena, func(m tailMsg) { msgs = append(msgs, m) })
			arena.refs.Store(int32((len(msgs) + tailBatchMax - 1) / tailBatchMax))
			if len(msgs) == 0 {
				pullArenas.Put(arena)
			}
			for rest := msgs; len(rest) > 0; {
				n := min(len(rest), tailBatchMax)
				b := append(*tailBatches.Get().(*[]tailMsg), rest[:n]...)
				rest = rest[n:]
				select {
				case r.batches <- tailBatch{msgs: b, arena: arena}:
				case <-r.done:
					return
				}
			}
			if err != nil || short || (len(msgs) > 0 && msgs[len(msgs)-1].seq >= s.replayTo) {
				break
			}
			clear(msgs) // the messages are the batches' now
		}
		if err == nil {
			err = s.readLive(c, r)
		}
		select {
		case <-r.done: // stopped: the error is the connection closed
			return
		default:
		}
		s.log.Warn("event store: the follower's own connection failed; the client goes on from where it stopped", "err", err)
		ending.Store(true)
		c.close()
		select {
		case r.batches <- tailBatch{err: errOwnEnd}:
		case <-r.done:
		}
	}()
	return r
}

// readLive reads the stream through c in pulls that wait for new messages and hands each on as
// it comes, with those that came while the one before was handed on; it returns why it stopped.
// One goroutine reads the connection at all times, so that the server never waits on it, and
// asks for more only while fewer than a pull's worth wait to be handed on.
func (s *Store) readLive(c *ownConn, r *tailReader) error {
	queue := make(chan tailMsg, 2*pullSize)
	taken := make(chan struct{}, 1)
	failed := make(chan error, 1)
	go func() {
		defer close(queue)
		for {
			for len(queue) > cap(queue)-pullSize {
				select {
				case <-taken:
				case <-r.done:
					failed <- errors.New("stopped")
					return
				}
			}
			if _, err := c.pull(true, &pullArena{}, func(m tailMsg) { queue <- m }); err != nil {
				failed <- err
				return
			}
		}
	}()
	for {
		var m tailMsg
		var ok bool
		select {
		case m, ok = <-queue:
		case <-r.done:
			return errors.New("stopped")
		}
		if !ok {
			return <-failed
		}
		b := append(*tailBatches.Get().(*[]tailMsg), m)
	more:
		for len(b) < tailBatchMax {
			select {
			case m, ok := <-queue:
				if !ok {
					break more
				}
				b = append(b, m)
			default:
				break more
			}
		}
		select {
		case r.batches <- tailBatch{msgs: b}:
		case <-r.done:
			return errors.New("stopped")
		}
		select {
		case taken <- struct{}{}:
		default:
		}
	}
}

// tailFrom opens an ordered consumer of the stream from sequence from on and its messages.
func (s *Store) tailFrom(ctx context.Context, from uint64) (jetstream.MessagesContext, error) {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := s.orderedConsumer(ctx, "follow stream", cfg)
	if err != nil {
		return nil, err
	}
	return messagesDropping(s.stream, cons, jetstream.PullMaxMessages(2000), jetstream.PullHeartbeat(followHeartbeat))
}

// tailReader reads one consumer's messages on a goroutine of its own, so that the follower can
// leave it for another while it is stuck (its Next may block for as long as the client takes
// to make its consumer again).
type tailReader struct {
	batches chan tailBatch
	done    chan struct{}
	end     func() // ends what it reads from; it may block
}

// tailBatch is messages read in a row, then what ended the batch: an error, or nil.
type tailBatch struct {
	msgs  []tailMsg
	err   error
	arena *pullArena // where the bytes of msgs are: a pull's shared buffer during the own connection's replay; nil otherwise
}

// tailMsg is a message as the follower needs it.
type tailMsg struct {
	ok      bool // the message has its metadata (else it is skipped as bad)
	seq     uint64
	ts      int64  // when it was stored, Unix nanoseconds
	pending uint64 // messages after it not yet delivered (read by Subscribe only)
	subject string
	hash    string // its HashHeader
	data    []byte
}

// tailMsgOf is what the follower needs of a message the client delivered.
func tailMsgOf(msg jetstream.Msg) tailMsg {
	m := tailMsg{subject: msg.Subject(), hash: msg.Headers().Get(HashHeader), data: msg.Data()}
	if meta, err := msg.Metadata(); err == nil {
		m.ok, m.seq, m.ts = true, meta.Sequence.Stream, meta.Timestamp.UnixNano()
	}
	return m
}

// tailBatchMax is how many messages a batch holds at most.
const tailBatchMax = 256

// tailBatches and preparedBatches keep the slices of batches done with: a replay goes through
// tens of thousands of them.
var (
	tailBatches     = sync.Pool{New: func() any { msgs := make([]tailMsg, 0, tailBatchMax); return &msgs }}
	preparedBatches = sync.Pool{New: func() any { return &preparedBatch{} }}
)

// release gives b's slice back to tailBatches; its messages are the caller's.
func (b tailBatch) release() {
	if b.msgs != nil {
		clear(b.msgs)
		msgs := b.msgs[:0]
		tailBatches.Put(&msgs)
	}
}

// release clears b and gives it back to preparedBatches.
func (b *preparedBatch) release() {
	clear(b.items) // what the items hold is the follower's and the reader's now, not the pool's
	b.arena.release()
	b.items, b.ready, b.arena = b.items[:0], nil, nil
	preparedBatches.Put(b)
}

// readTail reads the messages of it in batches: up to tailBatchMax while they are before replayTo
// (Next returns them without waiting: they are in the stream already), else each on its own.
func readTail(it jetstream.MessagesContext, replayTo uint64) *tailReader {
	r := &tailReader{batches: make(chan tailBatch, 4), done: make(chan struct{}), end: it.Stop}
	go func() {
		msgs := *tailBatches.Get().(*[]tailMsg)
		for {
			msg, err := it.Next()
			if err == nil {
				m := tailMsgOf(msg)
				msgs = append(msgs, m)
				if m.ok && m.seq < replayTo && len(msgs) < tailBatchMax {
					continue
				}
			}
			select {
			case r.batches <- tailBatch{msgs: msgs, err: err}:
			case <-r.done:
				return
			}
			msgs = *tailBatches.Get().(*[]tailMsg)
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
		}
	}()
	return r
}

// stop leaves the reader: what it still reads is dropped. The consumer is stopped on a
// goroutine of its own: the client may hold it while it makes it again.
func (r *tailReader) stop() {
	if r == nil {
		return
	}
	select {
	case <-r.done:
		return
	default:
	}
	close(r.done)
	go r.end()
}

// followStall is how long the follower may fold nothing while a caller waits for it before it
// is given a new consumer.
const followStall = 2 * time.Second

// kickFollower asks the follower to follow the stream with a new consumer, at most once every
// followStall.
func (s *Store) kickFollower() {
	if b := s.backlog.Load(); b != nil && len(*b) > 0 {
		// Its consumer delivers: it folds slowly (a busy machine, a long seal, a slow reader
		// sharing the replay), but it is not stuck.
		return
	}
	now := monotonic()
	last := s.kicked.Load()
	if (last != 0 && now-last < int64(followStall)) || !s.kicked.CompareAndSwap(last, now) {
		return
	}
	select {
	case s.tailKick <- struct{}{}:
	default:
	}
}

// followHeartbeat is how often the server says a consumer is alive while it has nothing to deliver:
// a consumer that sat on a node that died is noticed, and made again on another, after two
// missed heartbeats (the client's default of 5 s would leave a follower stuck for 10 s).
const followHeartbeat = time.Second

// followWorkers is how many goroutines prepare messages for the follower.
const followWorkers = 2

// preparedBatch is messages handed to the workers and the folder together.
type preparedBatch struct {
	items []prepared
	ready chan struct{} // closed once every item is prepared
	arena *pullArena    // where the items' bytes are; nil: the client's messages
}

// prepared is a message made ready to be folded.
type prepared struct {
	tailMsg
	own    bool // folded by this store already when prepared
	ev     domain.Event
	derr   error
	hashOK bool // the hash header is the chain hash of the bytes after ev.PrevHash
}

// prepare decodes a message, unless this store folded it already when its append was
// acknowledged, and checks its hash: what folding it needs that does not depend on the messages
// before.
func (s *Store) prepare(p *prepared) {
	if !p.ok {
		return
	}
	// If this store has an append in flight on the subject, the message is most likely that
	// append: wait for its acknowledgement, which folds it, rather than decoding it here.
	s.pendMu.Lock()
	ch := s.pending[p.subject]
	s.pendMu.Unlock()
	if ch != nil {
		<-ch
	}
	s.mu.RLock()
	own, isOwn := s.ownEvent(p.subject, p.seq)
	s.mu.RUnlock()
	if isOwn {
		// Its envelope is the one this store built: the chain check needs no decoding.
		p.own = true
		p.ev.N, p.ev.PrevSeq, p.ev.PrevHash = own.n, own.prevSeq, own.prevHash
	} else {
		p.ev, p.derr = domain.Decode(p.data)
	}
	p.ev.Seq, p.ev.RecordedAt, p.ev.Hash = p.seq, p.ts, p.hash
	p.hashOK = hashMatches(p.ev, p.data)
}

// applyRun checks prepared messages' chain links and folds them into the indexes, in stream
// order, unless this store folded them already when their appends were acknowledged; it reports
// whether a snapshot is due. The run is archived, then folded under one hold of the lock: taking
// it for each message made the follower, the writers and readers queue for it in turn. So the
// archive may hold a run's records before the fold heads reach them: its readers take only
// records up to an employer's fold head (employerEvents, EachEvent). Those waiting for a message
// (WaitApplied) are told after its batch.
func (s *Store) applyRun(ps []prepared) bool {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	for i := range ps {
		p := &ps[i]
		if id, ok := strings.CutPrefix(p.subject, s.sub.Employer); ok && p.ok {
			s.archive.add(id, record{seq: p.seq, ts: p.ev.RecordedAt, hash: p.ev.Hash, data: p.data})
		}
	}
	due := false
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range ps {
		due = s.applyLocked(&ps[i]) || due
	}
	return due
}

// applyLocked is applyRun's fold of one message, archived already; the caller holds s.mu and
// s.applyMu.
func (s *Store) applyLocked(p *prepared) bool {
	if !p.ok {
		s.log.Error("message without metadata")
		return false
	}
	seq, subject, ev := p.seq, p.subject, p.ev
	id, isEmployer := strings.CutPrefix(subject, s.sub.Employer)
	own, isOwn := s.ownEvent(subject, seq)
	switch {
	case isOwn && !p.own:
		// Folded by this store after the message was prepared: checked, not folded again.
		ev.N, ev.PrevSeq, ev.PrevHash, p.derr = own.n, own.prevSeq, own.prevHash, nil
	case p.own && !isOwn:
		// Never so (only the follower forgets this store's appends), but then it is decoded.
		ev, p.derr = domain.Decode(p.data)
		ev.Seq, ev.RecordedAt, ev.Hash = seq, p.ev.RecordedAt, p.ev.Hash
		p.hashOK = hashMatches(ev, p.data)
	}
	for a := s.ahead[subject]; len(a) > 0 && a[0].seq <= seq; a = s.ahead[subject] {
		if len(a) == 1 {
			delete(s.ahead, subject)
		} else {
			s.ahead[subject] = a[1:]
		}
	}
	first := s.foldHead(subject).seq == 0
	fold := !isOwn && s.foldHead(subject).seq < seq
	reason := chainReason(s.heads[subject], ev, p.hashOK, p.derr)
	if isOwn && reason == "" && own.hash != ev.Hash {
		reason = "the stored event is not the one appended"
	}
	s.heads[subject] = head{seq: seq, n: ev.N, hash: ev.Hash}
	if strings.HasPrefix(subject, s.sub.Ref) {
		s.refSeqs = append(s.refSeqs, seq)
		if isOwn {
			s.stampYear(seq, ev.RecordedAt)
		}
	}
	if isEmployer && reason != "" {
		s.noteBreak(id, ChainBreak{Seq: seq, Reason: reason})
	}
	if fold {
		if isEmployer && s.shared(seq) {
			// Its payload goes to the reader sharing the replay, which may keep and change it.
			s.cache.drop(id)
			s.fold(subject, ev, p.derr, foldIndexes)
		} else {
			s.fold(subject, ev, p.derr, foldMode(first))
		}
	}
	s.last = lastMessage{subject: subject, hash: ev.Hash, size: uint64(len(p.data))}
	s.folded.Add(1)
	s.lastApply.Store(monotonic())
	s.applied.Store(seq)
	return s.cfg.SnapshotEvery > 0 && seq >= s.snapSeq.Load()+uint64(s.cfg.SnapshotEvery)
}

// ownEvent returns the event this store folded at seq on subject, if the follower has not
// reached it yet. The caller holds s.mu.
func (s *Store) ownEvent(subject string, seq uint64) (localEvent, bool) {
	for _, l := range s.ahead[subject] {
		if l.seq == seq {
			return l, true
		}
		if l.seq > seq {
			break
		}
	}
	return localEvent{}, false
}

// appendLocal submits a unit and, once it is acknowledged, folds its events; the follower waits
// for that rather than decoding the same messages.
func (s *Store) appendLocal(ctx context.Context, u *unit, evs []domain.Event) (uint64, error) {
	done := s.markPending(u.subject)
	defer done()
	u.evs = evs
	first, err := s.com.submit(ctx, u)
	if err == nil {
		if !u.folded {
			s.applyLocal(u, first)
		}
		s.observeAppended(evs)
	}
	return first, err
}

// markPending tells the follower that this store has an append in flight on subject; the
// returned func clears it.
func (s *Store) markPending(subject string) func() {
	ch := make(chan struct{})
	s.pendMu.Lock()
	s.pending[subject] = ch
	s.pendMu.Unlock()
	return func() {
		s.pendMu.Lock()
		delete(s.pending, subject)
		s.pendMu.Unlock()
		close(ch)
	}
}

// applyLocal folds events this store appended, as soon as they are acknowledged, so a writer
// need not wait for them to come back through the stream; the follower checks their chain
// links when it reaches them.
func (s *Store) applyLocal(u *unit, first uint64) {
	s.foldUnits([]*unit{u}, []uint64{first})
}

// foldUnits is applyLocal for the units of a batch, a few hundred events under each hold of
// the lock: a batch's writers are answered together, and queueing for the lock one unit at a
// time cost more than the folds; readers wait at most for one hold, not a whole bulk batch.
func (s *Store) foldUnits(units []*unit, firsts []uint64) {
	for start, end := range foldHolds(units) {
		s.mu.Lock()
		for i := start; i < end; i++ {
			s.foldLocal(units[i], firsts[i])
		}
		s.mu.Unlock()
	}
}

// foldHoldEvents is about how many events foldUnits folds under one hold of the lock: a
// millisecond or so of folding.
const foldHoldEvents = 256

// foldHolds splits units into runs [start, end) folded under one hold of the lock each: whole
// units, up to foldHoldEvents events a run, or one unit when it alone has more.
func foldHolds(units []*unit) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		for start := 0; start < len(units); {
			end, held := start, 0
			for end < len(units) && (end == start || held+len(units[end].evs) <= foldHoldEvents) {
				held += len(units[end].evs)
				end++
			}
			if !yield(start, end) {
				return
			}
			start = end
		}
	}
}

// foldLocal is applyLocal's fold of u's events, stored from sequence first; the caller holds
// s.mu.
func (s *Store) foldLocal(u *unit, first uint64) {
	for _, c := range u.claims {
		c.ev.Seq = first - uint64(len(u.guards)-c.i)
		s.foldOwn(u.guards[c.i].Subject, c.ev, false)
	}
	for i, ev := range u.evs {
		ev.Seq = first + uint64(i)
		s.foldOwn(u.subject, ev, u.uncached)
	}
}

// foldOwn folds one event this store appended at ev.Seq, unless the follower got there first.
func (s *Store) foldOwn(subject string, ev domain.Event, uncached bool) {
	h := s.foldHead(subject)
	if h.seq >= ev.Seq {
		return
	}
	s.ahead[subject] = append(s.ahead[subject], localEvent{seq: ev.Seq, n: ev.N, prevSeq: ev.PrevSeq, prevHash: ev.PrevHash, hash: ev.Hash})
	s.fold(subject, ev, nil, foldMode(h.seq == 0 && !uncached))
}

// How fold treats an employer's folded state.
const (
	foldCached  = iota // fold the event into it when it is cached
	foldFirst          // the employer's first event: cache its state
	foldIndexes        // leave it: fold only into the indexes
)

// foldMode is foldFirst for an employer's first event, else foldCached.
func foldMode(first bool) int {
	if first {
		return foldFirst
	}
	return foldCached
}

// fold applies one event to the state: idempotency keys, reference data, freezes and the
// employer's folded state as mode says. The caller holds s.mu.
func (s *Store) fold(subject string, ev domain.Event, derr error, mode int) {
	if derr != nil {
		return
	}
	if ev.IdemKey != "" {
		s.keys.add(digestOf(ev.IdemKey), digestOf(ev.BodyHash), ev.Seq)
	}
	if ev.OccurredOn != 0 && (s.earliest == 0 || ev.OccurredOn < s.earliest) {
		s.earliest = ev.OccurredOn
	}
	if strings.HasPrefix(subject, s.sub.Ref) {
		s.ref.Apply(ev.Body)
		s.publishRef()
		s.foldYear(ev)
		return
	}
	if strings.HasPrefix(subject, s.sub.Freeze) {
		s.foldFreeze(subject, ev)
		return
	}
	id, ok := strings.CutPrefix(subject, s.sub.Employer)
	if !ok {
		return
	}
	if st, ok := ev.Body.(domain.EnforcementStepRecorded); ok && st.Step == domain.StepNotice {
		if prefix, n, ok := domain.ParseNoticeNumber(st.DocNo); ok && n > s.notices[prefix] {
			s.notices[strings.Clone(prefix)] = n
		}
	}
	switch ev.Body.(type) {
	case domain.OrgCodeClaimed:
		s.recoded[strings.Clone(id)] = true
	case domain.OrgCodeCorrected:
		if _, ok := s.recoded[id]; !ok {
			s.recoded[strings.Clone(id)] = false
		}
	}
	if mode == foldIndexes {
		return
	}
	e := s.cache.get(id)
	if e == nil {
		if mode != foldFirst {
			return // not cached: folded from its events when a command needs it
		}
		id = strings.Clone(id) // not a slice of this message's subject, which would pin it
		e = &domain.Employer{ID: id, SkipHistory: true}
		s.cache.put(e)
	}
	ev.EmployerID = e.ID
	e.Apply(ev)
	if e.Refold {
		s.cache.drop(id) // a void: folded again from its events when a command needs it
	}
}

// hashMatches reports whether an event's hash is the chain hash of its bytes after its prev_hash.
func hashMatches(ev domain.Event, data []byte) bool {
	return ev.Hash != "" && domain.ChainHashIs(ev.Hash, ev.PrevHash, data)
}

// undecodable begins the reason of a break at an event the store could not decode; newerBuild
// follows it when the event's bytes are whole (their chain hash holds) but of a type or schema
// this build does not know.
const (
	undecodable = "undecodable event: "
	newerBuild  = "written by a newer build of kuozheng, which this one cannot read ("
)

// ByNewerBuild reports whether the break is at an event a newer build wrote: the ledger is
// whole, but this build cannot fold it.
func (b ChainBreak) ByNewerBuild() bool { return strings.HasPrefix(b.Reason, undecodable+newerBuild) }

// chainReason says why an event does not link to its subject's previous event, or ""; hashOK
// is hashMatches of the event.
func chainReason(prev head, ev domain.Event, hashOK bool, derr error) string {
	switch {
	case derr != nil && hashOK && errors.Is(derr, domain.ErrUnknownToThisBuild) && ev.PrevHash == prev.hash && ev.N == prev.n+1:
		return undecodable + newerBuild + derr.Error() + ")"
	case derr != nil:
		return undecodable + derr.Error()
	case ev.Hash == "":
		return "no hash header"
	case !hashOK:
		return "hash does not match the event's bytes"
	case ev.PrevHash != prev.hash:
		return "prev_hash does not match the previous event's hash"
	case ev.N != prev.n+1:
		return fmt.Sprintf("event number %d follows %d", ev.N, prev.n)
	case ev.PrevSeq != 0 && ev.PrevSeq != prev.seq:
		return fmt.Sprintf("prev_seq %d, but the previous event is at %d", ev.PrevSeq, prev.seq)
	case ev.PrevSeq == 0 && prev.seq != 0 && prev.seq != ev.Seq-1:
		return fmt.Sprintf("linked to the message just before (%d), but the previous event is at %d", ev.Seq-1, prev.seq)
	}
	return ""
}
