package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/nats-io/nats.go/jetstream"
)

// SnapshotBucket is the JetStream object store bucket that keeps snapshots of the default
// ledger's views; other cities' are SnapshotBucketOf theirs.
const SnapshotBucket = "KUOZHENG_VIEWS"

// SnapshotBucketOf is the bucket that keeps snapshots of a city ledger's views.
func SnapshotBucketOf(ledger string) string {
	if ledger == "" || ledger == eventstore.DefaultLedger {
		return SnapshotBucket
	}
	return SnapshotBucket + "_" + ledger
}

const snapshotObject = "views"

// readSnapshot reads the snapshot stored under name, if this build can use it.
func readSnapshot(ctx context.Context, objects jetstream.ObjectStore, name string) (*Ledger, int, error) {
	// Read whole first (it is compressed): decoding while the object streams in outlasts the
	// object store's read timeout on a large ledger.
	obj, err := objects.Get(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	defer obj.Close()
	info, err := obj.Info()
	if err != nil {
		return nil, 0, err
	}
	if v := info.Metadata["code_version"]; v != CodeVersion {
		return nil, 0, fmt.Errorf("snapshot written by %q, this build folds %q", v, CodeVersion)
	}
	// Into a buffer of the object's size (and the room ReadFrom asks for), read to the end,
	// where the object's digest is checked: grown as it came, it was copied over and over.
	size := info.Size
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := buf.ReadFrom(obj); err != nil {
		return nil, 0, err
	}
	data := buf.Bytes()
	l, err := RestoreLedgerBytes(data)
	return l, len(data), err
}

// SavedViews returns the views as serve last saved them, for work that folds on from there (a
// freeze through a later sequence); an error when there is no snapshot this build can use.
func SavedViews(ctx context.Context, store *eventstore.Store) (*Ledger, error) {
	objects, err := store.JetStream().ObjectStore(ctx, SnapshotBucketOf(store.Ledger()))
	if err != nil {
		return nil, err
	}
	l, _, err := readSnapshot(ctx, objects, snapshotObject)
	if err != nil {
		return nil, err
	}
	l.Source = StoreSource{Store: store}
	return l, nil
}

func (r *Runner) restore(ctx context.Context) error {
	start := time.Now()
	l, size, err := readSnapshot(ctx, r.objects, snapshotObject)
	if err != nil {
		return err
	}
	if last, err := r.store.LastSeq(ctx); err == nil && l.Seq > last {
		var lost []string
		for id, e := range l.Employers.Sorted() {
			if e.Version > last {
				lost = append(lost, fmt.Sprintf("%s (known through sequence %d)", id, e.Version))
			}
		}
		if len(lost) > 5 {
			lost = append(lost[:5], fmt.Sprintf("and %d more", len(lost)-5))
		}
		reason := fmt.Sprintf("the views' snapshot reached sequence %d but the stream ends at %d: acknowledged events were lost; employers affected: %s",
			l.Seq, last, strings.Join(lost, ", "))
		r.damage.Store(reason)
		r.snapHeld.Store(true)
		return errors.New(reason)
	}
	l.Source = r.cfg.Events
	r.mu.Lock()
	r.ledger, r.allDirty = l, true
	r.current, r.shared, r.refOwned = nil, false, false
	clear(r.owned)
	r.mu.Unlock()
	r.seq.Store(l.Seq)
	r.snapSeq.Store(l.Seq)
	r.log.Info("views restored from snapshot", "seq", l.Seq, "bytes", size, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// snapshotPerEmployer bounds how often a long replay stops to write a snapshot: writing one
// costs in proportion to the employers (4 s for 42,000 on the ten-year bench ledger), folding
// in proportion to the events, so a snapshot every 20 events an employer keeps the writing
// within a tenth of the folding, and what a crash makes fold again to about a minute.
const snapshotPerEmployer = 20

// maybeSnapshot starts a snapshot in the background when one is due and none is under way.
func (r *Runner) maybeSnapshot(ctx context.Context, idle bool) {
	if r.objects == nil {
		return
	}
	seq := r.seq.Load()
	last := r.snapSeq.Load()
	r.mu.RLock()
	every := max(r.cfg.SnapshotEvery, snapshotPerEmployer*uint64(r.ledger.Employers.Len()))
	r.mu.RUnlock()
	due := seq >= last+every || (idle && seq > last)
	// Below the disk's reserve the ledger takes no write, and an upload filling the disk would
	// fault the server's store (every write refused until a restart): the snapshot waits for
	// space, as the writes do, unsaid (readyz and the store say the disk is full).
	if !due || r.store.DiskCheck() != nil || !r.snapMu.TryLock() {
		return
	}
	r.bg.Go(func() {
		defer r.snapMu.Unlock()
		if err := r.saveSnapshot(ctx); err != nil {
			r.log.Warn("snapshot failed", "err", err)
		}
	})
}

func (r *Runner) idleSnapshots(ctx context.Context) {
	t := time.NewTicker(r.cfg.SnapshotIdle)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if r.ready.Load() {
				r.maybeSnapshot(ctx, true)
			}
			r.dropIdlePast()
		}
	}
}

// AcceptDamage lets the runner store the views' snapshot again after the one it found at its
// start was past the stream's end (Damage), which it otherwise does not from then on: that
// snapshot is kept, so that the next start says it again. An operator accepting the damage
// (serve --accept-damage) calls it.
func (r *Runner) AcceptDamage() { r.snapHeld.Store(false) }

// ErrNoSnapshots is SaveSnapshot's answer when the runner keeps no snapshots.
var ErrNoSnapshots = errors.New("snapshots are disabled")

// SaveSnapshot writes the views' state now, unless the last snapshot stored or restored holds
// it already. It encodes a read-only copy of the views (Current), holding up neither the
// follower nor readers.
func (r *Runner) SaveSnapshot(ctx context.Context) error {
	if r.objects == nil {
		return ErrNoSnapshots
	}
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	return r.saveSnapshot(ctx)
}

// snapshotUpload bounds the upload of a snapshot whose caller set no deadline.
const snapshotUpload = 2 * time.Minute

// saveSnapshot is SaveSnapshot for a caller holding r.snapMu.
func (r *Runner) saveSnapshot(ctx context.Context) error {
	if r.snapHeld.Load() {
		return nil
	}
	start := time.Now()
	v := r.Current()
	if v.Seq != 0 && v.Seq == r.snapSeq.Load() {
		return nil // a restart with nothing new, or a shutdown just after a snapshot
	}
	if err := r.store.DiskCheck(); err != nil {
		return fmt.Errorf("store snapshot not stored: %w", err)
	}
	release, ok := r.claim(ctx, snapshotObject)
	if !ok {
		// Another replica stores the views now, at about the same sequence: replicas following
		// one stream reach a snapshot's turn together.
		r.snapSeq.Store(v.Seq)
		return nil
	}
	defer release()
	size, err := r.putViews(ctx, snapshotObject, map[string]string{"seq": strconv.FormatUint(v.Seq, 10), "code_version": CodeVersion}, v)
	if err != nil {
		return fmt.Errorf("store snapshot: %w", err)
	}
	r.snapSeq.Store(v.Seq)
	r.lastSnap.Store(time.Now().UnixNano())
	if r.cfg.Observe != nil {
		r.cfg.Observe.Snapshot(v.Seq, size, time.Since(start))
	}
	r.log.Debug("snapshot stored", "seq", v.Seq, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// putViews stores v in the snapshot bucket as name, with meta, encoded as it is uploaded: held
// whole, a snapshot and the buffer's doublings were a hundred megabytes at the peak of a start
// folding a year. A failed encoding fails the upload, which then leaves the object stored
// before in place. It returns the size uploaded.
func (r *Runner) putViews(ctx context.Context, name string, meta map[string]string, v *Ledger) (int, error) {
	if _, ok := ctx.Deadline(); !ok {
		// Without a deadline the object store gives each chunk's acknowledgement JetStream's
		// default of 5 s, which a disk syncing every write on a busy machine can take; the
		// upload as a whole gets longer instead.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, snapshotUpload)
		defer cancel()
	}
	pr, pw := io.Pipe()
	encoded := make(chan error, 1)
	var size countingWriter
	go func() {
		err := v.Snapshot(io.MultiWriter(pw, &size))
		pw.CloseWithError(err)
		encoded <- err
	}()
	_, err := r.objects.Put(ctx, jetstream.ObjectMeta{Name: name, Metadata: meta}, pr)
	pr.CloseWithError(errors.New("snapshot upload ended"))
	if eerr := <-encoded; eerr != nil && err == nil {
		err = eerr
	}
	return int(size), err
}

// keepLease is how long a replica's claim to upload an object of the views' bucket stands,
// should it not let go of it (it stopped): the others leave it meanwhile.
const keepLease = time.Hour

// KeepBucketOf is the key-value bucket in which a city ledger's replicas claim the uploads of
// the views' snapshots (claim).
func KeepBucketOf(ledger string) string { return SnapshotBucketOf(ledger) + "_KEEP" }

// keepBucket returns the bucket of claims to upload snapshots, made on first use.
func (r *Runner) keepBucket(ctx context.Context) (jetstream.KeyValue, error) {
	r.keepMu.Lock()
	defer r.keepMu.Unlock()
	if r.claims != nil {
		return r.claims, nil
	}
	kv, err := r.store.JetStream().CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: KeepBucketOf(r.store.Ledger()),
		Description: "which replica uploads a snapshot of kuozheng's views", TTL: keepLease, Storage: jetstream.FileStorage,
		Replicas: r.store.Replicas()})
	if err != nil {
		return nil, err
	}
	r.claims = kv
	return kv, nil
}

// claim takes name for this replica in the keeping bucket while it uploads the object: two
// uploads of one object at once leave one's chunks behind, unreferenced, for good (each purges
// only what was stored when it began); one begun after another ends replaces it whole. ok is
// false while another replica holds it; release lets it go. Without the bucket (it could not be
// made) the upload goes ahead unclaimed.
func (r *Runner) claim(ctx context.Context, name string) (release func(), ok bool) {
	claims, err := r.keepBucket(ctx)
	if err == nil {
		_, err = claims.Create(ctx, name, []byte(CodeVersion))
	}
	var ae *jetstream.APIError
	switch {
	case errors.Is(err, jetstream.ErrKeyExists) || errors.As(err, &ae) &&
		(ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant):
		return nil, false // Create over a deleted key answers a wrong last sequence
	case err != nil:
		r.log.Warn("claiming an upload to the views' bucket; going ahead unclaimed", "object", name, "err", err)
		return func() {}, true
	}
	return func() { _ = claims.Delete(context.WithoutCancel(ctx), name) }, true
}

// LastSnapshot is when the last snapshot was stored (zero if none this run) and its sequence.
func (r *Runner) LastSnapshot() (time.Time, uint64) {
	var at time.Time
	if ns := r.lastSnap.Load(); ns != 0 {
		at = time.Unix(0, ns)
	}
	return at, r.snapSeq.Load()
}

// countingWriter counts the bytes written to it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
