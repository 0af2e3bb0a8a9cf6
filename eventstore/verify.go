package eventstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ChainBreak records where an employer's hash chain or sequence links first fail.
type ChainBreak struct {
	Seq    uint64 `json:"seq"`
	Reason string `json:"reason"`
}

// ChainBreak reports the first break in an employer's chain, if any.
func (s *Store) ChainBreak(id string) (ChainBreak, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.breaks[id]
	return b, ok
}

// Integrity is what verification found.
type Integrity struct {
	LastSeq  uint64 `json:"last_seq"`
	Messages uint64 `json:"messages"`
	Deleted  int    `json:"deleted"`
	Lost     int    `json:"lost"`
	// LostTail, when the stream's last messages could not be read back at the store's start, or
	// the store's snapshot had folded messages past the stream's end, says which: counted in
	// Deleted where the stream still counts them (so it does), else in Lost.
	LostTail string `json:"lost_tail,omitempty"`
	// Unreadable is how many messages the stream holds but could not read back (their stored
	// bytes fail their checksum): counted by VerifyWhole only.
	Unreadable int `json:"unreadable,omitempty"`
	// UnreadableAt names the first of them (at most unreadableNamed), in order: a message of no
	// employer (a freeze, a reference event) damaged breaks no employer's chain.
	UnreadableAt []uint64 `json:"unreadable_at,omitempty"`
	// StoreDamaged is how many reads of the store's files derived from the stream (its history
	// archive, its idempotency index) found their bytes damaged since the store opened. Stop the
	// server and remove the store's folder to make them again.
	StoreDamaged int64        `json:"store_damaged,omitempty"`
	Employers    int          `json:"employers"`
	Breaks       []BreakEntry `json:"breaks"`
	OK           bool         `json:"ok"`
}

// BreakEntry names an employer whose chain is broken.
type BreakEntry struct {
	EmployerID string `json:"employer_id"`
	ChainBreak
}

// Verify checks every employer's hash chain and sequence links as folded so far, and the stream's
// deleted and lost counters (zero in a ledger that never forgets).
func (s *Store) Verify(ctx context.Context) (Integrity, error) {
	if err := s.CatchUp(ctx); err != nil {
		return Integrity{}, err
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		return Integrity{}, err
	}
	in := Integrity{LastSeq: info.State.LastSeq, Messages: info.State.Msgs, Deleted: info.State.NumDeleted, Breaks: []BreakEntry{}}
	if info.State.Lost != nil {
		in.Lost = len(info.State.Lost.Msgs)
	}
	if s.lost.count() > 0 {
		in.LostTail = s.lost.String()
		if s.lost.gone {
			// The stream no longer counts them at all; a tail it still counts, it counts deleted.
			in.Lost += s.lost.count()
		}
	}
	s.mu.RLock()
	for subject := range s.heads {
		if id, ok := strings.CutPrefix(subject, s.sub.Employer); ok && !s.recoded[id] {
			in.Employers++ // a claim of an organisation code is no employer
		}
	}
	for id, b := range s.breaks {
		in.Breaks = append(in.Breaks, BreakEntry{EmployerID: id, ChainBreak: b})
	}
	s.mu.RUnlock()
	slices.SortFunc(in.Breaks, func(a, b BreakEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	in.StoreDamaged = s.damage.Load()
	in.OK = len(in.Breaks) == 0 && in.Deleted == 0 && in.Lost == 0 && in.LostTail == "" && in.StoreDamaged == 0
	return in, nil
}

// archiveDamaged reports whether err is a read of the history archive that found its bytes
// damaged; if so it is counted and logged, and the caller reads the stream instead, of which the
// archive is a copy.
func (s *Store) archiveDamaged(id string, err error) bool {
	if !errors.Is(err, errCorrupt) {
		return false
	}
	s.damage.Add(1)
	s.log.Error("history archive damaged: the employer's events are read from the stream instead; stop the server and remove the store's folder (data/store) to make the archive again",
		"employer", id, "error", err)
	return true
}

// keyIndexDamaged is the error of a write whose idempotency key the index cannot look up, its
// bytes damaged (errKeyRunCorrupt): whether the key was used cannot be told, so nothing is
// appended. It is counted and logged; err is returned as it is if it is no such damage.
func (s *Store) keyIndexDamaged(err error) error {
	if !errors.Is(err, errKeyRunCorrupt) {
		return err
	}
	s.damage.Add(1)
	s.log.Error("idempotency index damaged: writes whose keys it holds are refused; stop the server and remove the store's folder (data/store) to make the index again", "error", err)
	return &domain.Error{Kind: domain.KindUnavailable, Field: "Idempotency-Key",
		Detail: "not recorded: the ledger's index of idempotency keys is damaged where this key would be, so it cannot tell whether the key was used; an administrator must stop the server and remove its store folder, which makes the index again"}
}

// unreadableLast is the error of a write to employer id, of state e, when its subject ends with
// messages the store could not fold (they do not decode), the last at seq; nil when it does not.
// The write would be decided on a state short of them, and its append, expecting the subject to
// end at the state's last event, would lose every race to them until its budget ran out. Nothing
// is appended. The caller holds s.mu.
func (s *Store) unreadableLast(id string, e *domain.Employer) error {
	seq := s.foldHead(s.sub.Employer + id).seq
	if seq <= e.Version {
		return nil
	}
	why := "it does not decode"
	if b, ok := s.breaks[id]; ok {
		why = fmt.Sprintf("the chain breaks at sequence %d: %s", b.Seq, b.Reason)
	}
	return &domain.Error{Kind: domain.KindUnavailable,
		Detail: fmt.Sprintf("not recorded: employer %s's last message in the ledger (sequence %d) cannot be read (%s), so no write is decided on its state; an administrator must inspect it (kuozheng verify names the damage)", id, seq, why)}
}

// VerifyWhole is Verify with every employer's hash chain and sequence links checked again from
// the stream as it stands now, from its first event (checkChains), and every employer's history
// read from the store's archive, checked against the stream's: it also finds an event altered in
// the stream's files after the store folded it, which Verify does not (the store resumes from its
// snapshot and reads no event twice), and damage to the archive no read has met yet. It reads
// every event twice: seconds a million.
func (s *Store) VerifyWhole(ctx context.Context) (Integrity, error) {
	return s.verifyAgain(ctx, true)
}

// VerifyStream is VerifyWhole without the store's own files: every chain checked again from the
// stream as it stands now, from its first event. It reads every event once, and keeps little of
// what it reads.
func (s *Store) VerifyStream(ctx context.Context) (Integrity, error) {
	return s.verifyAgain(ctx, false)
}

// verifyAgain is VerifyWhole, or VerifyStream without files.
func (s *Store) verifyAgain(ctx context.Context, files bool) (Integrity, error) {
	if err := s.CatchUp(ctx); err != nil {
		return Integrity{}, err
	}
	again, skipped, err := s.checkChains(ctx)
	if err != nil {
		return Integrity{}, err
	}
	if files {
		if err := s.checkFiles(ctx); err != nil {
			return Integrity{}, err
		}
	}
	in, err := s.Verify(ctx)
	if err != nil {
		return in, err
	}
	in.Unreadable = len(skipped)
	if len(skipped) > 0 {
		in.UnreadableAt = skipped[:min(len(skipped), unreadableNamed)]
	}
	// Each employer's first break, whichever read found it (the follower's sees this store's own
	// appends stored otherwise than appended, which a read of the stream cannot tell).
	earliest := map[string]BreakEntry{}
	for _, b := range slices.Concat(in.Breaks, again) {
		if e, ok := earliest[b.EmployerID]; !ok || b.Seq < e.Seq {
			earliest[b.EmployerID] = b
		}
	}
	in.Breaks = slices.AppendSeq(make([]BreakEntry, 0, len(earliest)), maps.Values(earliest))
	slices.SortFunc(in.Breaks, func(a, b BreakEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	in.OK = in.OK && len(in.Breaks) == 0 && in.Unreadable == 0
	// What the reads found is the store's to know from now on, as the follower's finds are: the
	// metric of broken chains (and its alert) and the employer's reads say so.
	s.mu.Lock()
	for _, b := range in.Breaks {
		s.noteBreak(b.EmployerID, b.ChainBreak)
	}
	s.mu.Unlock()
	return in, nil
}

// checkIdle is how long checkChains waits for the stream's next message before it takes the
// rest the stream said it held as unreadable: a message cut off at the end of a damaged block is
// never delivered, and a wait for it would not end.
const checkIdle = 30 * time.Second

// checkFiles reads every employer's history from the store's archive, checked against the
// stream's, and the idempotency index's runs whole: damage met is counted (archiveDamaged) and
// read past; a damaged block of the index is otherwise found only by a write whose key falls in it.
func (s *Store) checkFiles(ctx context.Context) error {
	for _, id := range s.EmployerIDs() {
		if err := s.EachEvent(ctx, id, func(RawEvent) error { return nil }); err != nil {
			return err
		}
	}
	n, err := s.keys.damagedBlocks()
	if err != nil {
		return err
	}
	if n > 0 {
		s.damage.Add(int64(n))
		s.log.Error("idempotency index damaged: writes whose keys fall in its damaged blocks are refused; stop the server and remove the store's folder (data/store) to make the index again", "blocks", n)
	}
	return nil
}

// unreadableNamed is how many unreadable messages a verification names.
const unreadableNamed = 20

// checkChains reads the stream from its first event and returns the first break of every
// employer's hash chain or sequence links, as the follower checks them, and the sequences of the
// messages the stream could not read back.
func (s *Store) checkChains(ctx context.Context) ([]BreakEntry, []uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return nil, nil, err
	}
	breaks := []BreakEntry{}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return breaks, nil, nil
	}
	it, err := s.tailFrom(ctx, info.State.FirstSeq)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	heads := map[string]head{}
	broken := map[string]bool{}
	// The stream's file store skips a message whose stored bytes fail their checksum: the gaps
	// in what it delivers name the damaged messages, whose employers are not known.
	var skipped []uint64
	next := info.State.FirstSeq
	for {
		msg, err := it.Next(jetstream.NextMaxWait(checkIdle))
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
				// Nothing more comes: what the stream said it held and did not deliver is unreadable.
				for ; next <= last; next++ {
					skipped = append(skipped, next)
				}
				return breaks, skipped, nil
			}
			return nil, nil, fmt.Errorf("check chains: %w", err)
		}
		m := tailMsgOf(msg)
		// The last message stored when the check began, or none left then (one deleted at the end).
		done := m.seq >= last
		if meta, err := msg.Metadata(); err == nil && meta.NumPending == 0 {
			done = true
		}
		if !m.ok {
			if done {
				return breaks, skipped, nil
			}
			continue
		}
		for ; next < m.seq; next++ {
			skipped = append(skipped, next)
		}
		next = m.seq + 1
		ev, derr := domain.Decode(m.data)
		ev.Seq, ev.Hash = m.seq, m.hash
		prev := heads[m.subject]
		at, reason := m.seq, chainReason(prev, ev, hashMatches(ev, m.data), derr)
		if reason != "" {
			// A damaged message between this one and the subject's one before is likely its cause.
			if i, _ := slices.BinarySearch(skipped, prev.seq+1); i < len(skipped) && skipped[i] < m.seq {
				at, reason = skipped[i], "the stream could not read this event back: its stored bytes are damaged"
			}
		}
		heads[m.subject] = head{seq: m.seq, n: ev.N, hash: ev.Hash}
		if id, ok := strings.CutPrefix(m.subject, s.sub.Employer); ok && reason != "" && !broken[id] {
			broken[id] = true
			breaks = append(breaks, BreakEntry{EmployerID: id, ChainBreak: ChainBreak{Seq: at, Reason: reason}})
		}
		if done {
			return breaks, skipped, nil
		}
	}
}
