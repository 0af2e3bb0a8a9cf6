package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go/jetstream"
)

// emptyServer starts an embedded nats-server on a new folder, stopped at the test's end. It
// acknowledges before syncing, as kuozheng restore's does: syncing every message restored would
// make the test slow, not different.
func emptyServer(t *testing.T) *eventstore.Embedded {
	t.Helper()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir(), LazySync: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	return emb
}

func TestAStreamSnapshotRestoresOnAnotherServerMessageForMessage(t *testing.T) {
	ctx := context.Background()
	l := storetest.Start(t, eventstore.Config{})
	last := storetest.AppendDemo(t, l.Store, 300)

	var archive bytes.Buffer
	var subjects []string
	var told int
	snap, err := eventstore.SnapshotStream(ctx, l.Embedded.Conn, l.Store.Stream(), &archive, eventstore.SnapshotOptions{
		Progress: func(size int64, seq uint64) { told++ },
		Message:  func(seq uint64, subject string) { subjects = append(subjects, subject) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if snap.LastSeq != last || snap.Messages != last || snap.FirstSeq != 1 || uint64(len(subjects)) != last {
		t.Fatalf("snapshot of %d messages through %d (first %d), %d told; the stream holds %d", snap.Messages, snap.LastSeq, snap.FirstSeq, len(subjects), last)
	}
	if told == 0 || snap.Size != int64(archive.Len()) {
		t.Fatalf("progress told %d times, size %d of %d bytes written", told, snap.Size, archive.Len())
	}

	to := emptyServer(t)
	var sent int64
	info, err := eventstore.RestoreStream(ctx, to.Conn, snap.Config, snap.State, bytes.NewReader(archive.Bytes()), func(n int64) { sent = n })
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq != last || info.State.Msgs != last || sent != snap.Size {
		t.Fatalf("restored %d messages through %d after %d bytes; want %d and %d bytes", info.State.Msgs, info.State.LastSeq, sent, last, snap.Size)
	}
	from, _ := l.Store.JetStream().Stream(ctx, l.Store.Stream())
	js, _ := jetstream.New(to.Conn)
	restored, err := js.Stream(ctx, l.Store.Stream())
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= last; seq++ {
		a, err := from.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		b, err := restored.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("restored message %d: %v", seq, err)
		}
		if a.Subject != b.Subject || !bytes.Equal(a.Data, b.Data) || a.Header.Get(eventstore.HashHeader) != b.Header.Get(eventstore.HashHeader) || !a.Time.Equal(b.Time) {
			t.Fatalf("message %d differs after the restore", seq)
		}
	}
	st, err := eventstore.Open(ctx, to.Conn, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if in, err := st.Verify(ctx); err != nil || !in.OK || in.LastSeq != last {
		t.Fatalf("verify of the restored stream: %+v, %v", in, err)
	}
}

func TestAStreamSnapshotCannotBeRestoredOverItsStreamNorFromPartOfItsArchive(t *testing.T) {
	ctx := context.Background()
	l := storetest.Start(t, eventstore.Config{})
	storetest.AppendDemo(t, l.Store, 10)
	var archive bytes.Buffer
	snap, err := eventstore.SnapshotStream(ctx, l.Embedded.Conn, l.Store.Stream(), &archive, eventstore.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}

	_, err = eventstore.RestoreStream(ctx, l.Embedded.Conn, snap.Config, snap.State, bytes.NewReader(archive.Bytes()), nil)
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("a restore over the stream itself: %v, want a refusal", err)
	}

	to := emptyServer(t)
	half := bytes.NewReader(archive.Bytes()[:archive.Len()/2])
	if _, err := eventstore.RestoreStream(ctx, to.Conn, snap.Config, snap.State, half, nil); err == nil {
		t.Fatal("half an archive was restored")
	}
	js, _ := jetstream.New(to.Conn)
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := js.Stream(tctx, l.Store.Stream()); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("after a failed restore the stream is there: %v", err)
	}

	if _, err := eventstore.SnapshotStream(ctx, to.Conn, "NO_SUCH_STREAM", &bytes.Buffer{}, eventstore.SnapshotOptions{}); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("snapshot of a stream that does not exist: %v, want stream not found", err)
	}
}
