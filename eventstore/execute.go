// Over 500 lines for a reason: Execute's path (checking, deciding, If-Match, idempotency keys,
// conflicts and retries) is one sequence that each write takes.

package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
)

// Request is one command to execute against one employer.
type Request struct {
	// EmployerID names the employer; for a new employer it is the id to create ("" makes a fresh
	// one), but for a registration with an organisation code, which goes to the code's slot
	// (OrgCodeSlot).
	EmployerID string
	// Create is true for a command that enters a new employer.
	Create  bool
	Command domain.Command
	// IfMatch, when set, is the version the caller last saw; a different current version fails.
	IfMatch *uint64
	// IdempotencyKey is the client's key ("" for none); BodyHash identifies the request it came with.
	IdempotencyKey string
	BodyHash       string
	Actor          string
	CorrelationID  string
	// Today is the business date against which future dates are refused.
	Today domain.Date
	// Authorize, if set, vets the employer's current state (e.g. the caller's county scope). It
	// runs under the store's read lock: it must not call the Store (a nested read lock waits
	// behind a writer waiting for the first, and the store stops).
	Authorize func(e *domain.Employer) error
	// Again, when set, puts Command back as it was before its checks (they normalise it in
	// place), for checks again on reference data the store catches up to (Check).
	Again func() error
	// Checked says the caller already ran Command.Check on this very Command value against the
	// current reference data (Check also normalises the fields Decide and the ids use), so that
	// the write side does not run it again.
	Checked bool
}

// Result is the outcome of an executed command.
type Result struct {
	EmployerID string   `json:"employer_id"`
	EventIDs   []string `json:"event_ids"`
	Seq        uint64   `json:"seq"`
	Version    uint64   `json:"version"`
	Duplicate  bool     `json:"duplicate,omitempty"`
}

// ErrStale: the caller's If-Match version is not the employer's current version.
var ErrStale = errors.New("eventstore: stale version")

// KeyHash is how an idempotency key is stored: hashed, so clients' keys never appear in events.
func KeyHash(key string) string {
	sum := sha256.Sum256([]byte("idempotency-key\x00" + key))
	return hex.EncodeToString(sum[:])
}

// Execute checks a command, decides its events against the employer's current state and appends
// them atomically. A retried idempotency key answers the first result; a conflicting concurrent
// write is retried on the new state unless the caller gave If-Match.
func (s *Store) Execute(ctx context.Context, req Request) (Result, error) {
	if err := s.writing.Acquire(ctx, 1); err != nil { // HoldWrites
		return Result{}, notRecorded(err)
	}
	defer s.writing.Release(1)
	return s.withKey(ctx, req.IdempotencyKey, req.BodyHash, func(key string) (Result, error) {
		return s.execute(ctx, req, key)
	})
}

// withKey runs do once per idempotency key: requests with the same key wait for each other, and a
// key already in the ledger answers from its index without running do.
func (s *Store) withKey(ctx context.Context, raw, bodyHash string, do func(key string) (Result, error)) (Result, error) {
	if raw == "" {
		return do("")
	}
	key := KeyHash(raw)
	unlock := s.locks.lock("key:" + key)
	defer unlock()
	if r, ok, err := s.lookupKey(ctx, key, bodyHash); ok || err != nil {
		return r, err
	}
	return do(key)
}

// errKeyKnown: the command's idempotency key reached the indexes after withKey looked it up (its
// first attempt was appended by another replica meanwhile); the key answers, not a new decision.
var errKeyKnown = errors.New("eventstore: idempotency key already recorded")

// refusal reports whether err refuses a command on the state it was decided on (a rule of the
// domain, an If-Match that is not the current version).
func refusal(err error) bool {
	var de *domain.Error
	return errors.As(err, &de) || errors.Is(err, ErrStale)
}

func (s *Store) execute(ctx context.Context, req Request, key string) (Result, error) {
	if err := s.checkFollowed(ctx, req); err != nil {
		return Result{}, err
	}
	// The state a command is decided on is what this store has folded, which may lack what
	// another API replica appended a moment ago: the employer's registration, the version the
	// client read there as its If-Match. An append decided on such a state is refused by its
	// expected sequence, but a refusal is not; so before it answers a refusal the store catches
	// up with the stream once and decides again. (Not so the command's own checks, which
	// normalise its fields and so run once.)
	id := req.EmployerID
	if id == "" {
		if !req.Create {
			return Result{}, domain.NotFound("employer_id", "no employer id given")
		}
		id = newID()
	}
	// A registration goes to its code's slot, and a correction claims the code's: where they
	// are is read again after each catching up, as another replica may have taken one.
	registered, claimed := codeOf(req)
	var slot, holder string
	locate := func() error {
		var err error
		switch {
		case registered != "":
			id, _, err = s.OrgCodeSlot(ctx, registered)
		case claimed != "":
			slot, holder, err = s.OrgCodeSlot(ctx, claimed)
		}
		return err
	}
	if err := locate(); err != nil {
		return Result{}, err
	}
	unlock := s.locks.lock("e:" + id)
	defer func() { unlock() }()
	relock := func() error {
		was := id
		if err := locate(); err != nil {
			return err
		}
		if id != was {
			unlock()
			unlock = s.locks.lock("e:" + id)
		}
		return nil
	}
	retry := s.retrier(ctx)
	caughtUp := false
	recheck := func(err error) (bool, error) {
		if caughtUp || !refusal(err) {
			return false, err
		}
		caughtUp = true
		if err := retry.catchUp(ctx); err != nil {
			return false, err
		}
		return true, nil
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := relock(); err != nil {
				return Result{}, err
			}
		}
		u, evs, err := s.decide(ctx, id, req, key, slot, holder)
		if errors.Is(err, errKeyKnown) {
			r, _, err := s.lookupKey(ctx, key, req.BodyHash)
			return r, err
		}
		if err != nil {
			if again, err := recheck(err); !again {
				return Result{}, err
			}
			continue
		}
		ids := eventIDs(evs)
		first, err := s.appendLocal(ctx, u, evs)
		switch {
		case err == nil:
			last := first + uint64(len(u.msgs)) - 1
			return Result{EmployerID: id, EventIDs: ids, Seq: last, Version: last}, nil
		case errors.Is(err, errDuplicate):
			if s.cfg.Metrics != nil {
				s.cfg.Metrics.Duplicate()
			}
			if err := retry.catchUp(ctx); err != nil {
				return Result{}, err
			}
			if r, ok, err := s.lookupKey(ctx, key, req.BodyHash); ok || err != nil {
				return r, err
			}
			if !errors.Is(err, errInProcess) {
				return Result{}, fmt.Errorf("append refused as a duplicate, but no event carries its key: %w", err)
			}
			// The key's first attempt (sent through another replica) is being committed:
			// once it is, its key answers; if it fails, this attempt goes through.
		case errors.Is(err, ErrConflict):
			if s.cfg.Metrics != nil {
				s.cfg.Metrics.Conflict()
			}
			if err := retry.catchUp(ctx); err != nil {
				return Result{}, err
			}
			// The writer that won may be this command's own first attempt, sent to another
			// replica: its key answers (a duplicate, or a mismatch), before any If-Match.
			if r, ok, err := s.lookupKey(ctx, key, req.BodyHash); ok || err != nil {
				return r, err
			}
			// Decided again, an If-Match with it: the conflict may be another subject's (a
			// fence's, when a year was closed or reopened meanwhile), the employer unchanged.
		default:
			return Result{}, err
		}
		if err := retry.again(ctx, err); err != nil {
			return Result{}, err
		}
	}
}

func (s *Store) observeAppended(evs []domain.Event) {
	if s.cfg.Metrics == nil {
		return
	}
	for _, ev := range evs {
		s.cfg.Metrics.Appended(ev.Body.EventType(), 1)
	}
}

// Recorded reports whether a command with this idempotency key is in the ledger, as far as the
// store has followed the stream.
func (s *Store) Recorded(key string) (bool, error) {
	_, ok, err := s.RecordedAt(key)
	return ok, err
}

// RecordedAt is the stream sequence of the first event of the command recorded with this
// idempotency key, as far as the store has followed the stream; false when none is.
func (s *Store) RecordedAt(key string) (uint64, bool, error) {
	rec, ok, err := s.keys.get(digestOf(KeyHash(key)))
	if err != nil || !ok {
		return 0, false, err
	}
	return rec.first, true, nil
}

// RecordedFor is RecordedAt for a request whose body hashes to bodyHash: a KeyReused error when
// key was recorded with another body. It reads the key index only.
func (s *Store) RecordedFor(key, bodyHash string) (uint64, bool, error) {
	rec, ok, err := s.keys.get(digestOf(KeyHash(key)))
	switch {
	case err != nil || !ok:
		return 0, false, err
	case rec.body != digestOf(bodyHash):
		return 0, true, KeyReused()
	}
	return rec.first, true, nil
}

// KeyReused is the refusal of a request whose idempotency key was recorded with another one.
func KeyReused() *domain.Error {
	return &domain.Error{Kind: domain.KindIdempotencyMismatch, Field: "Idempotency-Key",
		Detail: "this key was already used with a different request; use a new key for a new request"}
}

// Retried answers a retry of a recorded command: the first result, marked duplicate, when the
// idempotency key (as the client sent it, scoped as Execute takes it) was recorded with the
// same body; a KindIdempotencyMismatch error when with another; false when it is not recorded.
func (s *Store) Retried(ctx context.Context, key, bodyHash string) (Result, bool, error) {
	if key == "" {
		return Result{}, false, nil
	}
	return s.lookupKey(ctx, KeyHash(key), bodyHash)
}

// lookupKey answers a retried idempotency key: the first result for the same body, an error for
// another body. The command's events are read back from the stream: those of its subject from
// its first to its last sequence that carry the key.
func (s *Store) lookupKey(ctx context.Context, key, bodyHash string) (Result, bool, error) {
	if key == "" {
		return Result{}, false, nil
	}
	rec, ok, err := s.keys.get(digestOf(key))
	if err != nil || !ok {
		return Result{}, ok, s.keyIndexDamaged(err)
	}
	if rec.body != digestOf(bodyHash) {
		return Result{}, true, KeyReused()
	}
	first, err := s.getFolded(ctx, rec.first, "")
	if err != nil {
		return Result{}, true, fmt.Errorf("read back event %d of key: %w", rec.first, err)
	}
	employerID, _ := strings.CutPrefix(first.Subject, s.sub.Employer)
	if employerID == first.Subject {
		employerID = "" // reference data
	}
	var ids []string
	for raw := first; ; {
		ev, err := domain.Decode(raw.Data)
		if err != nil {
			return Result{}, true, err
		}
		if ev.IdemKey == key {
			ids = append(ids, ev.ID)
		}
		// A command's events are contiguous on its subject; a read by subject also steps over
		// anything else.
		if raw.Sequence >= rec.last {
			break
		}
		after := raw.Sequence
		if raw, err = s.getFolded(ctx, after+1, first.Subject); err != nil {
			return Result{}, true, fmt.Errorf("read back the events of key after %d: %w", after, err)
		}
	}
	return Result{EmployerID: employerID, EventIDs: ids, Seq: rec.last, Version: rec.last, Duplicate: true}, true, nil
}

// decide runs the command against the current state and builds the messages to append; it
// answers errKeyKnown when the command's key is in the indexes, which change together with the
// state: a command whose first attempt is already folded into the state is never decided again.
func (s *Store) decide(ctx context.Context, id string, req Request, key, slot, holder string) (*unit, []domain.Event, error) {
	var evs []domain.Event
	_, withEvents := req.Command.(domain.EventsDecider)
	var read uint64 // the sequence evs were read through
	e, err := s.rlockEmployer(ctx, id)
	for withEvents && err == nil && e != nil && read != s.foldHead(s.sub.Employer+id).seq {
		// The events are read without the lock, then the state they must end at is taken again:
		// only another replica's append, folded meanwhile, makes them differ.
		s.mu.RUnlock()
		var raws []RawEvent
		if raws, err = s.employerEvents(ctx, id, 0); err != nil {
			return nil, nil, err
		}
		if len(raws) > 0 {
			read = raws[len(raws)-1].Seq
		}
		evs = events(raws, id)
		e, err = s.rlockEmployer(ctx, id)
	}
	if err != nil {
		return nil, nil, err
	}
	defer s.mu.RUnlock()
	if key != "" {
		if _, ok, err := s.keys.get(digestOf(key)); err != nil {
			return nil, nil, err
		} else if ok {
			return nil, nil, errKeyKnown
		}
	}
	if e == nil {
		e = &domain.Employer{}
	}
	if err := s.unreadableLast(id, e); err != nil {
		return nil, nil, err
	}
	ref := s.ref
	payloads, err := decideOn(e, id, req, &ref, evs)
	if err != nil {
		return nil, nil, err
	}
	u, built, err := s.build(id, e, e.Version, req, key, payloads)
	if err == nil && s.fenced(req) {
		u.fenced, u.yearsSeq = true, s.foldHead(yearsSubject(s.sub)).seq
	}
	if err == nil {
		err = s.claimNotices(u, built, nil)
	}
	if err == nil && slot != "" {
		err = s.claimCode(u, e, built, slot, holder)
	}
	return u, built, err
}

// codeOf is the organisation code a request registers, or the one it corrects an employer to
// (after its checks: "" before them).
func codeOf(req Request) (registered, claimed string) {
	switch c := req.Command.(type) {
	case *domain.RegisterEmployer:
		if req.Create {
			return c.Code(), ""
		}
	case codeClaimer:
		return "", c.ClaimedCode()
	}
	return "", ""
}

// checkFollowed is Check for a request the caller has not checked.
func (s *Store) checkFollowed(ctx context.Context, req Request) error {
	if req.Checked {
		return nil
	}
	_, err := s.Check(ctx, req.Command, req.Again, req.Today)
	return err
}

// Checker is what Check runs: a command's checks, or a batch's.
type Checker interface {
	Check(domain.Context) error
}

// Check runs c's checks on the reference data this store has followed and answers the data it
// checked on. A refusal that rests on them (domain.Error.OnReference: a year closed, a county
// code unknown) is checked again once the store has caught up with the stream, if they moved
// meanwhile: a year reopened or a county redefined through another replica a moment ago is not
// refused for this one's lag, as a refusal is final to the client. again puts c back as it was
// before its checks, which normalise it in place (a field they refused would be checked again
// blank); without it the refusal stands. An error catching up is answered in its place:
// whether the refusal stands is not known.
func (s *Store) Check(ctx context.Context, c Checker, again func() error, today domain.Date) (*domain.Reference, error) {
	was := s.refNow.Load()
	ref := s.Reference()
	err := c.Check(domain.Context{Ref: ref, Today: today})
	var de *domain.Error
	if err == nil || again == nil || !errors.As(err, &de) || !de.OnReference() {
		return ref, err
	}
	if err := s.CatchUp(ctx); err != nil {
		return ref, err
	}
	if s.refNow.Load() == was {
		return ref, err
	}
	if err := again(); err != nil {
		return ref, err
	}
	ref = s.Reference()
	return ref, c.Check(domain.Context{Ref: ref, Today: today})
}

// check runs the command's checks of its own fields, unless the caller says it has.
func check(req Request, ref *domain.Reference) error {
	if req.Checked {
		return nil
	}
	return req.Command.Check(domain.Context{Ref: ref, Today: req.Today})
}

// decideOn is the write side's one decision, for single commands and bulk rounds alike: the
// request against e, the employer's current state, and the reference data ref; evs are the
// employer's events when the command is an EventsDecider.
func decideOn(e *domain.Employer, id string, req Request, ref *domain.Reference, evs []domain.Event) ([]domain.Payload, error) {
	// A registration of an employer that exists is left to Decide, which names the rule.
	if !req.Create && !e.Exists() {
		return nil, domain.NotFound("employer_id", "no employer %s in the ledger", id)
	}
	if req.IfMatch != nil && *req.IfMatch != e.Version {
		return nil, fmt.Errorf("%w: If-Match %d, current version %d", ErrStale, *req.IfMatch, e.Version)
	}
	// Checked before a year's closing this store held its writes for (by its caller, or before
	// an attempt refused by a closing through another replica, Store.fenced): the year is asked
	// again on the reference data the command is decided on.
	if err := domain.StillOpen(req.Command, ref); err != nil {
		return nil, err
	}
	if req.Authorize != nil && (e.Exists() || e.HeldBy != "") {
		if err := req.Authorize(e); err != nil {
			return nil, err
		}
	}
	return req.Command.Decide(e, domain.Context{Ref: ref, Today: req.Today, Actor: req.Actor, Events: evs})
}

// build turns payloads into chained messages for the employer's subject.
// prevSeq is the sequence of the employer's previous event, or 0 when the events follow it directly.
func (s *Store) build(id string, e *domain.Employer, prevSeq uint64, req Request, key string, payloads []domain.Payload) (*unit, []domain.Event, error) {
	subject := s.sub.Employer + id
	u := &unit{subject: subject, expected: e.Version}
	evs := make([]domain.Event, 0, len(payloads))
	prevHash, n := e.Head, e.N
	county := e.County
	for i, p := range payloads {
		evID, err := uuid.NewV7()
		if err != nil {
			return nil, nil, err
		}
		if reg, ok := p.(domain.EmployerRegistered); ok {
			county = reg.County
		} else if f, ok := p.(domain.EmployerFound); ok {
			county = f.County
		}
		n++
		env := domain.Envelope{
			ID: evID.String(), EmployerID: id, County: county, OccurredOn: req.Command.Date(), Actor: req.Actor,
			IdemKey: key, BodyHash: req.BodyHash, CorrelationID: req.CorrelationID, N: n, PrevHash: prevHash,
		}
		if i == 0 {
			env.PrevSeq = prevSeq
		}
		msgID := ""
		if i == 0 {
			msgID = key
		}
		m, ev, err := chained(subject, env, p, msgID)
		if err != nil {
			return nil, nil, err
		}
		u.msgs = append(u.msgs, m)
		evs = append(evs, ev)
		prevHash = ev.Hash
	}
	return u, evs, nil
}

// chained encodes an event as a message of subject with the hash that chains it to
// env.PrevHash; msgID, when set, is the id JetStream deduplicates on.
func chained(subject string, env domain.Envelope, p domain.Payload, msgID string) (*nats.Msg, domain.Event, error) {
	data, err := domain.Encode(env, p)
	if err != nil {
		return nil, domain.Event{}, err
	}
	env.Hash = domain.ChainHash(env.PrevHash, data)
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(HashHeader, env.Hash)
	if msgID != "" {
		m.Header.Set(nats.MsgIdHdr, msgID)
	}
	return m, domain.Event{Envelope: env, Body: p}, nil
}

// ensureReference writes the city's reference data at the ledger's first start. Each kind is
// appended with expected sequence 0, so concurrent first starts write it once.
func (s *Store) ensureReference(ctx context.Context) error {
	s.mu.RLock()
	have := len(s.ref.Counties) > 0
	s.mu.RUnlock()
	if have {
		return nil
	}
	bySubject := map[string]*unit{}
	var order []*unit
	city, _ := domain.CityOf(s.cfg.Ledger)
	for _, p := range city.ReferenceEvents() {
		subject := s.sub.Ref + domain.RefKind(p)
		u := bySubject[subject]
		if u == nil {
			u = &unit{subject: subject}
			bySubject[subject] = u
			order = append(order, u)
		}
		var prev head
		if n := len(u.msgs); n > 0 {
			prev = head{n: uint64(n), hash: u.msgs[n-1].Header.Get(HashHeader)}
		}
		ev, _ := uuid.NewV7()
		env := domain.Envelope{ID: ev.String(), OccurredOn: domain.MustDate("2006-04-18"), Actor: "system:defaults", N: prev.n + 1, PrevHash: prev.hash}
		m, _, err := chained(subject, env, p, "")
		if err != nil {
			return err
		}
		u.msgs = append(u.msgs, m)
	}
	// One atomic batch of every kind: all or nothing. Sent again while the stream cannot take
	// it yet (its leader just elected, on a new cluster): a copy stored meanwhile makes the
	// next conflict, which is what another replica's first start meets too.
	err := untilAvailable(ctx, StartTimeout, availableAttempt, s.log, "write default reference data", func(context.Context) error {
		first, err := s.com.publish(order, 0)
		if err == nil {
			s.log.Info("wrote default reference data", "first_seq", first)
		}
		if errors.Is(err, ErrConflict) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("write default reference data: %w", err)
	}
	// On a cluster the conflict can come while the other replica's copy is still being
	// committed, before the stream's info counts it: catch up until it is folded.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if err := s.CatchUp(wctx); err != nil {
			return err
		}
		s.mu.RLock()
		have := len(s.ref.Counties) > 0
		s.mu.RUnlock()
		if have {
			return nil
		}
		pause(wctx, 10*time.Millisecond)
		if wctx.Err() != nil {
			return fmt.Errorf("the default reference data another replica wrote did not arrive: %w", wctx.Err())
		}
	}
}

// RefRequest is a new version of one kind of reference data.
type RefRequest struct {
	Payload        domain.Payload
	On             domain.Date
	IdempotencyKey string
	BodyHash       string
	Actor          string
	// AfterSeq, when not 0, is the stream's last sequence the write was decided at: it is
	// appended only if nothing was appended since, through any replica, and answers ErrMoved
	// otherwise (a key it was recorded under answers first).
	AfterSeq uint64
	// settles: once sent, the write waits for its outcome whatever ctx (Held.ExecuteRef).
	settles bool
}

// ExecuteRef validates and appends a new version of reference data.
func (s *Store) ExecuteRef(ctx context.Context, req RefRequest) (Result, error) {
	if err := s.writing.Acquire(ctx, 1); err != nil { // HoldWrites
		return Result{}, notRecorded(err)
	}
	defer s.writing.Release(1)
	return s.executeRefKeyed(ctx, req)
}

// executeRefKeyed is ExecuteRef without waiting for writes held (HoldWrites' own).
func (s *Store) executeRefKeyed(ctx context.Context, req RefRequest) (Result, error) {
	return s.withKey(ctx, req.IdempotencyKey, req.BodyHash, func(key string) (Result, error) {
		return s.executeRef(ctx, req, key)
	})
}

func (s *Store) executeRef(ctx context.Context, req RefRequest, key string) (Result, error) {
	subject := s.sub.Ref + domain.RefKind(req.Payload)
	unlock := s.locks.lock(subject)
	defer unlock()
	retry := s.retrier(ctx)
	for {
		// Checked under the subject's lock, on every attempt, so that two closings of a year
		// (or a closing that another replica recorded meanwhile) cannot both pass.
		if err := domain.CheckReference(req.Payload, s.Reference()); err != nil {
			return Result{}, err
		}
		s.mu.RLock()
		h := s.heads[subject]
		s.mu.RUnlock()
		evID, err := uuid.NewV7()
		if err != nil {
			return Result{}, err
		}
		env := domain.Envelope{ID: evID.String(), OccurredOn: req.On, Actor: req.Actor, IdemKey: key, BodyHash: req.BodyHash,
			N: h.n + 1, PrevSeq: h.seq, PrevHash: h.hash}
		m, ev, err := chained(subject, env, req.Payload, key)
		if err != nil {
			return Result{}, err
		}
		u := &unit{subject: subject, expected: h.seq, after: req.AfterSeq, msgs: []*nats.Msg{m}, settles: req.settles}
		first, err := s.appendLocal(ctx, u, []domain.Event{ev})
		switch {
		case err == nil:
			return Result{EventIDs: []string{ev.ID}, Seq: first, Version: first}, nil
		case errors.Is(err, ErrConflict) || errors.Is(err, errDuplicate):
			if err := retry.catchUp(ctx); err != nil {
				return Result{}, err
			}
			if r, ok, err := s.lookupKey(ctx, key, req.BodyHash); ok || err != nil {
				return r, err
			}
			if errors.Is(err, errDuplicate) && !errors.Is(err, errInProcess) {
				return Result{}, fmt.Errorf("append refused as a duplicate, but no event carries its key: %w", err)
			}
			if req.AfterSeq != 0 && errors.Is(err, ErrConflict) {
				return Result{}, fmt.Errorf("%w: %w: %v", ErrNotRecorded, ErrMoved, err)
			}
		default:
			return Result{}, err
		}
		if err := retry.again(ctx, err); err != nil {
			return Result{}, err
		}
	}
}

// newID is a fresh time-ordered id (UUIDv7).
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

func eventIDs(evs []domain.Event) []string {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	return ids
}
