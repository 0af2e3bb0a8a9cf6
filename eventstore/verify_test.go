package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// TestAnEventAlteredInTheStreamsFilesIsFoundByAWholeVerification: the store resumes from its
// snapshot and reads no event twice, so an event altered in the stream's files after it was folded
// goes unseen by the follower; VerifyWhole reads every chain again from the stream and names it.
func TestAnEventAlteredInTheStreamsFilesIsFoundByAWholeVerification(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{Dir: t.TempDir()})
	id := mustExecute(t, l.Store, register(orgCode(1), "360702")).EmployerID
	paid := mustExecute(t, l.Store, payment(id, "TAMPER-0001", 12345))
	mustExecute(t, l.Store, payment(id, "TAMPER-0002", 100))
	other := mustExecute(t, l.Store, register(orgCode(2), "360702")).EmployerID
	mustExecute(t, l.Store, payment(other, "INTACT-0001", 100))
	l.Stop()

	blocks, _ := filepath.Glob(filepath.Join(l.Dir, "jetstream", "jetstream", "*", "streams", "LEDGER", "msgs", "*.blk"))
	altered := false
	for _, blk := range blocks {
		b, err := os.ReadFile(blk)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, []byte("TAMPER-0001")); i >= 0 {
			b[i+len("TAMPER-000")] = '9' // the receipt now reads TAMPER-0009
			if err := os.WriteFile(blk, b, 0o600); err != nil {
				t.Fatal(err)
			}
			altered = true
		}
	}
	if !altered {
		t.Fatalf("no block of %v holds the payment's receipt", blocks)
	}
	l.Restart(t)
	if n := l.Store.ChainBreaks(); n != 0 {
		t.Fatalf("resumed from its snapshot, the store counts %d broken chains before reading the stream again", n)
	}

	in, err := l.Store.VerifyWhole(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if in.OK || in.Unreadable != 1 || !slices.Equal(in.UnreadableAt, []uint64{paid.Seq}) || len(in.Breaks) != 1 || in.Breaks[0].EmployerID != id || in.Breaks[0].Seq != paid.Seq {
		t.Fatalf("verified whole: %+v; want employer %s broken at sequence %d only", in, id, paid.Seq)
	}
	// A backup of it fails, naming the sequence the server left out of its snapshot (an
	// operator's drill: it named none, with nothing to look for).
	if _, err := eventstore.SnapshotStream(context.Background(), l.Embedded.Conn, "LEDGER", io.Discard, eventstore.SnapshotOptions{}); err == nil ||
		!strings.Contains(err.Error(), fmt.Sprintf("it lacks sequence %d,", paid.Seq)) {
		t.Errorf("a backup of the damaged stream: %v; want it refused, naming sequence %d", err, paid.Seq)
	}
	if want := "the stream could not read this event back: its stored bytes are damaged"; in.Breaks[0].Reason != want {
		t.Errorf("the break's reason %q, want %q", in.Breaks[0].Reason, want)
	}
	// The store knows it from then on: the metric of broken chains (its alert) counts it, and
	// the employer's reads say its chain is broken.
	if b, ok := l.Store.ChainBreak(id); l.Store.ChainBreaks() != 1 || !ok || b.Seq != paid.Seq {
		t.Errorf("after the verification the store counts %d broken chains, %s's %+v (%v); want 1, at %d", l.Store.ChainBreaks(), id, b, ok, paid.Seq)
	}
}

// TestAStreamWhoseLastBlockIsCutShortOpensAndSaysWhatItLost: the end of the stream's last block
// file cut off, its index left as it was (counting the messages it held), left the store opening
// for ever, waiting for messages no consumer delivers, and every catch-up and verification with
// it; with its index made again from the blocks, the store's snapshot past the stream's end was
// ignored with a warning alone. Either way it opens to the last message the stream gives back,
// counts the rest as lost, and takes writes after them.
func TestAStreamWhoseLastBlockIsCutShortOpensAndSaysWhatItLost(t *testing.T) {
	for _, tt := range []struct {
		name      string
		dropIndex bool
		want      string // with the fourth payment's and the third's (the last kept) sequences
	}{
		{"its index kept", false, "its messages from %[1]d on cannot be read: 2 acknowledged events were lost"},
		// The snapshot is of what the follower had folded at the close: one of them or both.
		{"its index made again", true, "but it ends at %[2]d: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := storetest.Start(t, eventstore.Config{Dir: t.TempDir()})
			id := mustExecute(t, l.Store, register(orgCode(1), "360702")).EmployerID
			var paid []eventstore.Result
			for i := range 5 {
				paid = append(paid, mustExecute(t, l.Store, payment(id, fmt.Sprintf("CUT-%04d", i), 100)))
			}
			l.Stop()
			msgs := filepath.Join(l.Dir, "jetstream", "jetstream", "$G", "streams", "LEDGER", "msgs")
			blocks, _ := filepath.Glob(filepath.Join(msgs, "*.blk"))
			cut := false
			for _, blk := range blocks {
				b, err := os.ReadFile(blk)
				if err != nil {
					t.Fatal(err)
				}
				if i := bytes.Index(b, []byte("CUT-0003")); i >= 0 {
					if err := os.Truncate(blk, int64(i)); err != nil {
						t.Fatal(err)
					}
					cut = true
				}
			}
			if !cut {
				t.Fatalf("no block of %v holds the fourth payment", blocks)
			}
			if tt.dropIndex {
				if err := os.Remove(filepath.Join(msgs, "index.db")); err != nil {
					t.Fatal(err)
				}
			}
			l.Restart(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			in, err := l.Store.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(tt.want, paid[3].Seq, paid[2].Seq); in.OK || in.Lost+in.Deleted < 1 || !strings.Contains(in.LostTail, want) {
				t.Errorf("verified: %+v; want the last payments counted lost: %q", in, want)
			}
			if e, _ := l.Store.Employer(id); e.Version != paid[2].Seq {
				t.Errorf("the employer's version is %d, want %d: its third payment, the last the stream holds", e.Version, paid[2].Seq)
			}
			// No snapshot is written until the loss is accepted: the next start says it again
			// (a restart used to make it look like none), and once accepted, no more.
			l.Restart(t)
			if again, err := l.Store.Verify(ctx); err != nil || again.LostTail != in.LostTail {
				t.Errorf("verified after a restart: %+v, %v; want the loss said again: %q", again, err, in.LostTail)
			}
			l.Store.AcceptLoss()
			again := mustExecute(t, l.Store, payment(id, "CUT-0009", 100))
			if err := l.Store.CatchUp(ctx); err != nil || !l.Store.Reached(again.Seq) {
				t.Fatalf("a payment after the lost messages, at %d: caught up %v, applied %d", again.Seq, err, l.Store.Applied())
			}
			if e, _ := l.Store.Employer(id); e.Version != again.Seq {
				t.Errorf("the employer's version is %d after a payment at %d", e.Version, again.Seq)
			}
		})
	}
}

// TestAWriteWhoseKeyTheDamagedIndexCannotLookUpIsRefused: a write's idempotency key is looked up
// in the store's index (store/keys-*.run) before anything is appended. Where the index's bytes
// are damaged it cannot tell whether the key was used: the write is refused as unavailable,
// naming the key's header, nothing is appended, and verification counts the damage.
func TestAWriteWhoseKeyTheDamagedIndexCannotLookUpIsRefused(t *testing.T) {
	dir := t.TempDir()
	l := storetest.Start(t, eventstore.Config{Dir: dir})
	l.Store.SetKeyMemtable(8)
	id := mustExecute(t, l.Store, register(orgCode(1), "360702")).EmployerID
	var reqs []eventstore.Request
	for i := range 300 {
		req := payment(id, fmt.Sprint("R-", i), 100)
		req.IdempotencyKey, req.BodyHash = fmt.Sprint("key-", i), fmt.Sprint("body-", i)
		mustExecute(t, l.Store, req)
		reqs = append(reqs, req)
	}
	storetest.CheckFor(t, 20*time.Second, 5*time.Millisecond, func() error {
		if mem, _, _ := l.Store.KeyCounts(); mem > 8 {
			return fmt.Errorf("%d keys in memory", mem)
		}
		return nil
	})
	l.Stop()
	runs, _ := filepath.Glob(filepath.Join(dir, "keys-*.run"))
	if len(runs) == 0 {
		t.Fatal("no run of keys was written")
	}
	for _, run := range runs {
		b, err := os.ReadFile(run)
		if err != nil {
			t.Fatal(err)
		}
		for k := len(b) / 2; k < len(b)/2+64 && k < len(b); k++ {
			b[k] ^= 0x5a
		}
		if err := os.WriteFile(run, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l.Restart(t)
	ctx := context.Background()
	// A whole verification reads every block of the index: it finds the damage before any
	// write meets it (an operator's drill: GET /v1/verify answered ok until then).
	whole, err := l.Store.VerifyWhole(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if whole.OK || whole.StoreDamaged == 0 {
		t.Fatalf("a whole verification of the damaged index before any write: %+v; want it not ok", whole)
	}
	last, _ := l.Store.LastSeq(ctx)
	refused := 0
	for _, req := range reqs {
		res, err := l.Store.Execute(ctx, req)
		var de *domain.Error
		switch {
		case err == nil && res.Duplicate:
		case errors.As(err, &de) && de.Kind == domain.KindUnavailable && de.Field == "Idempotency-Key":
			refused++
		default:
			t.Fatalf("retry of %s: %+v, %v; want its first result, or a refusal naming Idempotency-Key", req.IdempotencyKey, res, err)
		}
	}
	if refused == 0 {
		t.Fatal("no retry met the damaged part of the index: the test damaged nothing it reads")
	}
	if now, _ := l.Store.LastSeq(ctx); now != last {
		t.Errorf("the stream grew from %d to %d on retries", last, now)
	}
	in, err := l.Store.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in.OK || in.StoreDamaged != whole.StoreDamaged+int64(refused) {
		t.Errorf("verification after %d refusals: %+v; want it not ok, counting them beside the %d blocks found before", refused, in, whole.StoreDamaged)
	}
}
