package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

var noticePrefix = domain.NoticePrefix("章贡区", 2006)

func notice(id, number string) eventstore.Request {
	return eventstore.Request{EmployerID: id, Today: today, Actor: "test", IdempotencyKey: "notice-" + id, BodyHash: "n",
		Command: &domain.RecordEnforcement{Step: domain.StepNotice, On: "2006-07-01", DocNo: number, Deadline: "2006-07-15"}}
}

// numberings counts the calls of issue functions, once per numbering.
var numberings atomic.Int64

// issueOne numbers and records one notice, as the API's issue of one notice does.
func issueOne(ctx context.Context, st *eventstore.Store, id string) error {
	return st.WithNoticeNumber(ctx, noticePrefix, func(number string) error {
		numberings.Add(1)
		_, err := st.Execute(ctx, notice(id, number))
		return err
	})
}

// issueBatch numbers and records notices for ids in one bulk append, as the API's county batch
// does: what is recorded stays, what lost its number to another replica is numbered again.
func issueBatch(ctx context.Context, st *eventstore.Store, ids []string) error {
	return st.WithNoticeNumbers(ctx, noticePrefix, func(next int) error {
		numberings.Add(1)
		var reqs []eventstore.Request
		for _, id := range ids {
			if done, err := st.Recorded("notice-" + id); err != nil {
				return err
			} else if !done {
				reqs = append(reqs, notice(id, domain.NoticeNumber(noticePrefix, next+len(reqs))))
			}
		}
		var taken error
		for _, r := range st.ExecuteBulk(ctx, reqs) {
			switch {
			case errors.Is(r.Err, eventstore.ErrNoticeNumberTaken):
				taken = r.Err
			case r.Err != nil:
				return r.Err
			}
		}
		return taken
	})
}

// noticeNumbers reads the serials of the notices recorded for ids.
func noticeNumbers(t *testing.T, st *eventstore.Store, ids []string) []int {
	t.Helper()
	var serials []int
	for _, id := range ids {
		h, err := st.History(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range h {
			if s, ok := ev.Body.(domain.EnforcementStepRecorded); ok && s.Step == domain.StepNotice {
				prefix, n, ok := domain.ParseNoticeNumber(s.DocNo)
				if !ok || prefix != noticePrefix {
					t.Fatalf("employer %s: notice number %q", id, s.DocNo)
				}
				serials = append(serials, n)
			}
		}
	}
	slices.Sort(serials)
	return serials
}

// Two replicas number notices of one county at once, one by one and in batches: the stream
// keeps the numbers unique and without gaps.
func TestTwoReplicasNumberNoticesUniquelyAndWithoutGaps(t *testing.T) {
	servers := storetest.StartCluster(t)
	stores := []*eventstore.Store{
		storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 0), eventstore.Config{}),
		storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 1), eventstore.Config{}),
	}
	ctx := context.Background()
	const perReplica = 24
	ids := make([][]string, 2)
	var reqs []eventstore.Request
	for i := range 2 * perReplica {
		reqs = append(reqs, register(orgCode(900+i), "360702"))
	}
	for i, r := range stores[0].ExecuteBulk(ctx, reqs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		ids[i%2] = append(ids[i%2], r.EmployerID)
	}
	// Each owes May's pension from 2006-06-16, so that a notice orders something paid.
	reqs = reqs[:0]
	for _, id := range slices.Concat(ids...) {
		reqs = append(reqs,
			eventstore.Request{EmployerID: id, Today: today, Actor: "test", Command: &domain.RecordEnrollment{Insurance: "pension", Headcount: "10", EffectiveOn: "2006-05-01"}},
			eventstore.Request{EmployerID: id, Today: today, Actor: "test", Command: &domain.FileDeclaration{DeclaredOn: "2006-06-05", Period: "2006-05",
				Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "10", WageBaseFen: "1000000"}}}})
	}
	for _, r := range stores[0].ExecuteBulk(ctx, reqs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if err := stores[1].CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	numberings.Store(0)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for r, st := range stores {
		wg.Go(func() {
			mine := ids[r]
			// One by one, then in batches of four, then the rest at once.
			for _, id := range mine[:8] {
				if err := issueOne(ctx, st, id); err != nil {
					errs[r] = fmt.Errorf("one notice for %s: %w", id, err)
					return
				}
			}
			for lo := 8; lo < 16; lo += 4 {
				if err := issueBatch(ctx, st, mine[lo:lo+4]); err != nil {
					errs[r] = fmt.Errorf("a batch: %w", err)
					return
				}
			}
			if err := issueBatch(ctx, st, mine[16:]); err != nil {
				errs[r] = fmt.Errorf("the last batch: %w", err)
			}
		})
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", r, err)
		}
	}
	if err := stores[0].CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	got := noticeNumbers(t, stores[0], append(slices.Clone(ids[0]), ids[1]...))
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("notice serials %v: want 1..%d, each once", got, 2*perReplica)
		}
	}
	if len(got) != 2*perReplica {
		t.Fatalf("%d notices recorded, want %d", len(got), 2*perReplica)
	}
	t.Logf("%d notices numbered 1..%d in 22 issues, %d numberings: %d numbered again after a number was taken",
		len(got), len(got), numberings.Load(), numberings.Load()-22)
}
