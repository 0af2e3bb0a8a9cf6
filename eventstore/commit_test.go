package eventstore

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func testStore(t *testing.T) (*Store, *Embedded) {
	t.Helper()
	emb, err := StartEmbedded(EmbeddedConfig{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), emb.Conn, Config{})
	if err != nil {
		emb.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); emb.Close() })
	return s, emb
}

func msg(subject, data string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = []byte(data)
	return m
}

func lastSeq(t *testing.T, s *Store) uint64 {
	t.Helper()
	n, err := s.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAtomicBatchIsAllOrNothing(t *testing.T) {
	s, _ := testStore(t)
	before := lastSeq(t, s)
	bad := msg("ledger.x.b", "3")
	bad.Header.Set("Nats-Expected-Last-Msg-Id", "x") // refused inside atomic batches
	_, err := s.com.publish([]*unit{
		{subject: "ledger.x.a", msgs: []*nats.Msg{msg("ledger.x.a", "1"), msg("ledger.x.a", "2")}},
		{subject: "ledger.x.b", msgs: []*nats.Msg{bad}},
	}, 3)
	if err == nil {
		t.Fatal("a batch with a refused message committed")
	}
	if got := lastSeq(t, s); got != before {
		t.Fatalf("part of a refused batch was stored: last sequence %d, want %d", got, before)
	}
}

func TestStaleExpectedSequenceFailsTheWholeBatch(t *testing.T) {
	s, _ := testStore(t)
	before := lastSeq(t, s)
	_, err := s.com.publish([]*unit{
		{subject: "ledger.x.a", expected: 0, msgs: []*nats.Msg{msg("ledger.x.a", "1")}},
		{subject: "ledger.x.b", expected: 12345, msgs: []*nats.Msg{msg("ledger.x.b", "2")}},
	}, 2)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale expected sequence: %v, want ErrConflict", err)
	}
	if got := lastSeq(t, s); got != before {
		t.Fatalf("a batch with a stale unit stored messages: %d, want %d", got, before)
	}
}

func TestTwoUnitsForOneSubjectInOneGroupCommitNeverBothPassAStaleSequence(t *testing.T) {
	s, _ := testStore(t)
	for round := range 20 {
		subject := "ledger.x.race" + string(rune('a'+round))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ok, conflicts int
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.com.submit(context.Background(), &unit{subject: subject, expected: 0, msgs: []*nats.Msg{msg(subject, "x"), msg(subject, "y")}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrConflict):
					conflicts++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || conflicts != 3 {
			t.Fatalf("round %d: %d units passed and %d conflicted, want 1 and 3", round, ok, conflicts)
		}
		m, err := s.stream.GetLastMsgForSubject(context.Background(), subject)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := s.stream.Info(context.Background(), jetstream.WithSubjectFilter(subject))
		if info.State.Subjects[subject] != 2 {
			t.Fatalf("subject %s holds %d messages (last %d), want 2", subject, info.State.Subjects[subject], m.Sequence)
		}
	}
}
