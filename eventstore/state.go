package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
)

// errSnapshotUnusable: the snapshot does not match the stream or the store's files; the store
// rebuilds from the stream's first message instead.
var errSnapshotUnusable = errors.New("store snapshot not used")

// snapshotIdle is how long the follower must have had nothing to fold before the store
// snapshots what it folded since the last snapshot (a variable for tests).
var snapshotIdle = 30 * time.Second

// openState opens the store's files and, from a snapshot in Config.Dir that matches the stream,
// restores the state at its sequence; otherwise the state is empty and the follower starts at
// the stream's first message.
func (s *Store) openState(ctx context.Context) error {
	dir := s.cfg.Dir
	if dir == "" {
		s.keys = newKeyIndex("", s.cfg.ArchiveDir, keyMemMax)
		var f *os.File
		if !s.cfg.NoArchive {
			var err error
			if f, err = scratchArchiveFile(s.cfg.ArchiveDir); err != nil {
				return err
			}
		}
		s.archive = newArchive(f, newTailLog("", s.cfg.ArchiveDir), s.log)
		return nil
	}
	lock, err := LockDir(dir)
	if err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	s.dirLock = lock
	s.keys = newKeyIndex(dir, "", keyMemMax)
	var f *os.File
	if !s.cfg.NoArchive {
		if f, err = os.OpenFile(filepath.Join(dir, archiveFile), os.O_CREATE|os.O_RDWR, 0o640); err != nil {
			return fmt.Errorf("history archive: %w", err)
		}
	}
	s.archive = newArchive(f, newTailLog(dir, ""), s.log)
	snap, err := readSnapshot(filepath.Join(dir, snapshotFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.log.Info("event store: no snapshot; folding the whole stream", "dir", dir)
	case err != nil:
		s.log.Warn("event store: snapshot ignored; folding the whole stream", "file", filepath.Join(dir, snapshotFile), "reason", err)
	default:
		err = s.restore(ctx, snap)
		if err == nil {
			s.removeOrphans(snap)
			s.log.Info("event store: snapshot restored", "seq", snap.seq)
			return nil
		}
		if !errors.Is(err, errSnapshotUnusable) {
			return err
		}
		s.log.Warn("event store: snapshot ignored; folding the whole stream", "file", filepath.Join(dir, snapshotFile), "reason", err)
	}
	return s.startFresh()
}

// restore sets the state to snap's after checking it against the stream and the files.
func (s *Store) restore(ctx context.Context, snap *snapshot) error {
	unusable := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", errSnapshotUnusable, fmt.Sprintf(format, args...))
	}
	if snap.stream != s.cfg.Stream || snap.created != s.created || snap.firstSeq != s.firstSeq {
		return unusable("taken of stream %s created %s (first sequence %d); this is %s created %s (first sequence %d)",
			snap.stream, time.Unix(0, snap.created).UTC().Format(time.RFC3339Nano), snap.firstSeq,
			s.cfg.Stream, time.Unix(0, s.created).UTC().Format(time.RFC3339Nano), s.firstSeq)
	}
	last, err := s.LastSeq(ctx)
	if err != nil {
		return err
	}
	if snap.notices == nil {
		return unusable("written before the store kept notice numbers")
	}
	if last < snap.seq {
		// The same stream (made at the same time) without messages the store folded.
		s.lost = lostTail{from: last + 1, to: snap.seq, gone: true}
		return unusable("taken at sequence %d, but the stream ends at %d", snap.seq, last)
	}
	// An older build, started on a ledger a newer one wrote to, took the events it could not
	// decode for breaks and left out what they hold (corrected codes, say): its snapshot is no
	// state of this build's, which decodes them. Checked after the loss above, which a snapshot
	// refused first would no longer say.
	for id, b := range snap.breaks {
		if !strings.HasPrefix(b.Reason, undecodable) {
			continue
		}
		raw, err := s.getMsg(ctx, b.Seq, "")
		if err != nil {
			continue // checked as the snapshot's breaks are, by verification
		}
		if _, err := domain.Decode(raw.Data); err == nil {
			return unusable("it holds event %d of employer %s as undecodable, which this build decodes (a build older than this one wrote it)", b.Seq, id)
		}
	}
	if snap.seq > 0 {
		raw, err := s.getMsg(ctx, snap.seq, "")
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return unusable("the stream has no message %d", snap.seq)
		}
		if err != nil {
			return fmt.Errorf("event store: checking the snapshot: %w", err)
		}
		if raw.Subject != snap.last.subject || raw.Header.Get(HashHeader) != snap.last.hash || uint64(len(raw.Data)) != snap.last.size {
			return unusable("message %d in the stream is not the one it folded", snap.seq)
		}
	}
	if snap.archived != (s.archive.file != nil) {
		return unusable("taken with the history archive in use %v, now %v", snap.archived, s.archive.file != nil)
	}
	if err := s.keys.load(snap.keyRuns); err != nil {
		return unusable("%v", err)
	}
	if snap.archived {
		if err := s.archive.restore(snap.arch); err != nil {
			return unusable("%v", err)
		}
	}
	// Reference data and years are folded again from their events, by this build's rules.
	refs := make([]record, len(snap.refSeqs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, seq := range snap.refSeqs {
		g.Go(func() (err error) {
			refs[i], err = s.getRecord(gctx, seq)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return unusable("a reference event: %v", err)
		}
		return fmt.Errorf("event store: reading reference events: %w", err)
	}
	for _, r := range refs {
		ev, err := domain.Decode(r.data)
		if err != nil {
			continue // the fold skips it too
		}
		ev.Seq, ev.RecordedAt, ev.Hash = r.seq, r.ts, r.hash
		s.ref.Apply(ev.Body)
		s.foldYear(ev)
	}
	s.publishRef()
	s.heads, s.breaks, s.refSeqs, s.freezes, s.earliest = snap.heads, snap.breaks, snap.refSeqs, snap.freezes, snap.earliest
	s.notices, s.recoded = snap.notices, snap.recoded
	s.last = snap.last
	s.applied.Store(snap.seq)
	return nil
}

// startFresh empties the store's folder of any earlier state, the snapshot first: until the next
// one is written, a start folds the whole stream again.
func (s *Store) startFresh() error {
	dir := s.cfg.Dir
	// A snapshot past the stream's end is kept, unused, until the loss it shows is accepted
	// (AcceptLoss): the next start says it again.
	if !s.lost.gone {
		if err := os.Remove(filepath.Join(dir, snapshotFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("event store: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	s.keys.close()
	s.keys = newKeyIndex(dir, "", keyMemMax)
	f := s.archive.file
	s.archive.tails.close()
	s.removeOrphans(nil)
	if f != nil {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("history archive: %w", err)
		}
	}
	s.archive = newArchive(f, newTailLog(dir, ""), s.log)
	s.heads, s.breaks, s.refSeqs, s.freezes, s.earliest = map[string]head{}, map[string]ChainBreak{}, nil, nil, 0
	s.ref, s.years, s.last = domain.Reference{}, map[int]YearRecord{}, lastMessage{}
	s.publishRef()
	s.notices, s.recoded = map[string]int{}, map[string]bool{}
	s.applied.Store(0)
	return nil
}

// removeOrphans deletes the key runs and tail segments snap does not name (written after it, or
// merged and retired before it) and a snapshot's temporary file left by a crash; with no
// snapshot, every run and segment.
func (s *Store) removeOrphans(snap *snapshot) {
	entries, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		var named bool
		if snap != nil {
			named = slices.ContainsFunc(snap.keyRuns, func(r keyRunRef) bool { return r.name == name }) ||
				slices.ContainsFunc(snap.arch.segs, func(t tailSegmentState) bool { return tailSegmentName(t.n) == name })
		}
		orphan := keyRunNumber(name) > 0 || tailSegmentNumber(name) > 0 || name == snapshotFile+".tmp" ||
			name == keyFilterFile+".tmp" || (snap == nil && name == keyFilterFile)
		if orphan && !named {
			_ = os.Remove(filepath.Join(s.cfg.Dir, name))
		}
	}
}

// keep is the keeper: it writes frozen memtables as runs and the snapshots the follower takes.
func (s *Store) keep(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.keys.wake:
			if err := s.keys.flush(); err != nil {
				s.log.Error("idempotency index: writing a run; its keys stay in memory", "err", err)
			}
		case snap := <-s.snapReq:
			if err := s.writeSnapshot(snap); err != nil {
				s.log.Error("event store: snapshot", "seq", snap.seq, "err", err)
			}
			s.snapBusy.Store(false)
		}
	}
}

// seal is the archive's sealer: it compresses and writes the chunks of full tails.
func (s *Store) seal(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.archive.wake:
			s.archive.sealWaiting()
		}
	}
}

// snapshotWhenIdle snapshots what the follower folded since the last snapshot once it has had
// nothing to fold for idle.
func (s *Store) snapshotWhenIdle(ctx context.Context, idle time.Duration) {
	t := time.NewTicker(idle / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.applied.Load() > s.snapSeq.Load() && time.Duration(monotonic()-s.lastApply.Load()) >= idle {
			s.requestSnapshot()
		}
	}
}
