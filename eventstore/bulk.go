package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
)

// BulkResult is the outcome of one request of a bulk append.
type BulkResult struct {
	Result
	Err error
}

// ExecuteBulk executes many commands, in order per employer, packing them into atomic batches of
// up to MaxBatch messages, committed as Config.BatchesInFlight allows: the path for imports and generated
// ledgers. Each request succeeds or fails on its own; results are in the order of reqs.
func (s *Store) ExecuteBulk(ctx context.Context, reqs []Request) []BulkResult {
	out := make([]BulkResult, len(reqs))
	if err := s.writing.Acquire(ctx, 1); err != nil { // HoldWrites
		for i := range out {
			out[i].Err = notRecorded(err)
		}
		return out
	}
	defer s.writing.Release(1)
	keys := make([]string, len(reqs))
	pending := map[string][]int{} // employer → indexes of its requests still to do, in order
	var order []string
	for i := range reqs {
		r := &reqs[i]
		if r.IdempotencyKey != "" {
			keys[i] = KeyHash(r.IdempotencyKey)
		}
		if r.EmployerID == "" {
			if rc, ok := r.Command.(*domain.RegisterEmployer); ok && r.Create {
				if err := check(*r, s.Reference()); err != nil {
					out[i].Err = err
					continue
				}
				// Checked once: the id comes from the organisation code as Check normalised it.
				r.Checked = true
				if code := rc.Code(); code != "" {
					slot, _, err := s.OrgCodeSlot(ctx, code)
					if err != nil {
						out[i].Err = err
						continue
					}
					r.EmployerID = slot
				}
			}
			if r.EmployerID == "" {
				r.EmployerID = newID()
			}
		}
		if _, ok := pending[r.EmployerID]; !ok {
			order = append(order, r.EmployerID)
		}
		pending[r.EmployerID] = append(pending[r.EmployerID], i)
	}
	for len(order) > 0 {
		if ctx.Err() != nil {
			for _, id := range order {
				for _, i := range pending[id] {
					out[i].Err = ctx.Err()
				}
			}
			return out
		}
		order = s.bulkRound(ctx, reqs, keys, out, pending, order)
	}
	return out
}

type bulkUnit struct {
	u     *unit
	reqs  []int
	ends  []int // index in u.msgs after each request's last event
	first uint64
	err   error
	done  func() // clears the follower's wait on the subject
}

// bulkRound decides and appends the next run of commands of every employer in order; it returns
// the employers with work left.
func (s *Store) bulkRound(ctx context.Context, reqs []Request, keys []string, out []BulkResult, pending map[string][]int, order []string) []string {
	// No per-employer locks here: a command decided on a state another writer changes meanwhile
	// fails its expected sequence and is decided again next round.
	usedKeys := make(map[string]bool, len(order))
	var units []*bulkUnit
	var fakeSeq uint64 = math.MaxUint64 / 2
	// The years' head the round's reference data include: what its fenced units are stored on.
	s.mu.RLock()
	ref, years := s.Reference(), s.foldHead(yearsSubject(s.sub)).seq
	s.mu.RUnlock()
	// Units go to the committer as they are built, which folds each batch's as it is stored; one
	// goroutine takes their outcomes in order, so building and committing overlap. It holds as
	// many units as the batches in flight and the next one can: with a unit per employer (an
	// import's rows), fewer held the building back until a batch before was answered. A round
	// has a unit per employer at most.
	sent := make(chan *bulkUnit, min(len(order), s.cfg.MaxBatch*(s.cfg.BatchesInFlight+1)))
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for bu := range sent {
			r := s.com.outcome(ctx, bu.u)
			bu.first, bu.err = r.firstSeq, r.err
			if r.err == nil {
				if !bu.u.folded {
					s.applyLocal(bu.u, bu.first)
				}
				s.observeAppended(bu.u.evs)
			}
			bu.done()
		}
	}()
	for _, id := range order {
		idx := pending[id]
		cur, cached, err := s.rlockEmployerFor(ctx, id, false)
		var e *domain.Employer
		if err != nil {
			for _, i := range idx {
				out[i] = BulkResult{Err: err}
			}
			pending[id] = nil
			continue
		}
		switch {
		case cur == nil:
			e = &domain.Employer{SkipHistory: true}
		case cached:
			e = cur.Clone()
		default:
			e = cur // folded for this round alone
		}
		// As Execute answers: a retry of a recorded row by its key, any other row refused.
		unreadable := s.unreadableLast(id, e)
		s.mu.RUnlock()
		// Most commands make one event: room for that many, as many as a unit takes at most.
		room := min(len(idx), s.cfg.MaxBatch/2)
		bu := &bulkUnit{u: &unit{subject: s.sub.Employer + id, expected: e.Version, msgs: make([]*nats.Msg, 0, room),
			evs: make([]domain.Event, 0, room), uncached: true}, reqs: make([]int, 0, room), ends: make([]int, 0, room)}
		taken := 0
		for _, i := range idx {
			req := reqs[i]
			if k := keys[i]; k != "" {
				if r, ok, err := s.lookupKey(ctx, k, req.BodyHash); ok || err != nil {
					out[i] = BulkResult{Result: r, Err: err}
					taken++
					continue
				}
				if usedKeys[k] {
					break // the same key again: after this round's append it answers as a duplicate
				}
			}
			if unreadable != nil {
				out[i].Err = unreadable
				taken++
				continue
			}
			if bu.u.size() >= s.cfg.MaxBatch/2 {
				break
			}
			if req.IfMatch != nil && len(bu.u.msgs) > 0 {
				break // its version is the one after this round's append: it goes in the next
			}
			taken++
			if _, ok := req.Command.(domain.EventsDecider); ok {
				out[i].Err = fmt.Errorf("eventstore: %T is decided on the employer's events: execute it on its own", req.Command)
				continue
			}
			if err := check(req, ref); err != nil {
				out[i].Err = err
				continue
			}
			payloads, err := decideOn(e, id, req, ref, nil)
			if err != nil {
				out[i].Err = err
				continue
			}
			// A command after another in the same unit follows it directly in the stream.
			prevSeq := e.Version
			if len(bu.u.msgs) > 0 {
				prevSeq = 0
			}
			nu, evs, err := s.build(id, e, prevSeq, req, keys[i], payloads)
			if err == nil {
				s.mu.RLock()
				err = s.claimNotices(nu, evs, bu.u.guards)
				s.mu.RUnlock()
			}
			if err != nil {
				out[i].Err = err
				continue
			}
			out[i].EventIDs = make([]string, len(evs))
			for k := range evs {
				fakeSeq++
				evs[k].Seq = fakeSeq
				e.Apply(evs[k])
				out[i].EventIDs[k] = evs[k].ID
			}
			if keys[i] != "" {
				usedKeys[keys[i]] = true
			}
			if s.fenced(req) {
				bu.u.fenced, bu.u.yearsSeq = true, years
			}
			bu.u.msgs = append(bu.u.msgs, nu.msgs...)
			bu.u.guards = append(bu.u.guards, nu.guards...)
			bu.u.evs = append(bu.u.evs, evs...)
			bu.reqs = append(bu.reqs, i)
			bu.ends = append(bu.ends, len(bu.u.msgs))
		}
		pending[id] = idx[taken:]
		if len(bu.u.msgs) > 0 {
			units = append(units, bu)
			bu.done = s.markPending(bu.u.subject)
			if err := s.com.enqueue(ctx, bu.u); err != nil {
				bu.err = err
				bu.done()
				continue
			}
			sent <- bu
		}
	}
	close(sent)
	<-collected
	retry, inProcess := false, false
	for _, bu := range units {
		err := bu.err
		switch {
		case err == nil:
			for j, i := range bu.reqs {
				seq := bu.first + uint64(bu.ends[j]) - 1
				out[i].EmployerID, out[i].Seq, out[i].Version = reqs[i].EmployerID, seq, seq

			}
		case errors.Is(err, ErrConflict) || errors.Is(err, errDuplicate):
			// Decide again on the state as it is now, next round.
			retry = true
			inProcess = inProcess || errors.Is(err, errInProcess)
			id := reqs[bu.reqs[0]].EmployerID
			for _, i := range bu.reqs {
				out[i].EventIDs = nil
			}
			pending[id] = append(slices.Clone(bu.reqs), pending[id]...)
		default:
			for _, i := range bu.reqs {
				out[i] = BulkResult{Err: err}
			}
		}
	}
	if inProcess {
		// A key's first attempt, sent through another replica, is being committed: give it
		// a moment rather than decide again and meet it in process once more.
		pause(ctx, time.Duration(rand.Int64N(int64(retryPauseMax))))
	}
	if retry {
		_ = s.CatchUp(ctx)
	}
	next := order[:0]
	for _, id := range order {
		if len(pending[id]) > 0 {
			next = append(next, id)
		}
	}
	return next
}
