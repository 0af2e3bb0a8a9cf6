package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

// conflictSignal is an Observer that tells the test when a batch was refused as a conflict or
// as a duplicate (inside an atomic batch, JetStream checks message ids first).
type conflictSignal struct{ conflicts chan struct{} }

func (o *conflictSignal) Appended(string, int) {}
func (o *conflictSignal) Conflict()            {}
func (o *conflictSignal) Duplicate()           {}
func (o *conflictSignal) Batch(_ int, _ time.Duration, err error) {
	if errors.Is(err, ErrConflict) || errors.Is(err, errDuplicate) {
		select {
		case o.conflicts <- struct{}{}:
		default:
		}
	}
}

var replicaToday = domain.MustDate("2006-12-31")

// replicaPair opens a second store on the first one's server, as a second API replica, with an
// employer both know.
func replicaPair(t *testing.T) (first, second *Store, employer string, sig *conflictSignal) {
	t.Helper()
	first, emb := testStore(t)
	sig = &conflictSignal{conflicts: make(chan struct{}, 1)}
	second, err := Open(context.Background(), emb.Conn, Config{Metrics: sig})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Close)
	res, err := first.Execute(context.Background(), Request{Create: true, Today: replicaToday, Actor: "test", Command: &domain.RegisterEmployer{
		Name: "单位", County: "360702", OrgCode: "10000004-0", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.WaitApplied(context.Background(), res.Seq); err != nil {
		t.Fatal(err)
	}
	return first, second, res.EmployerID, sig
}

// keyedPayment is a payment of receipt R-1 with an Idempotency-Key and a body hash.
func keyedPayment(employer, key, body string) Request {
	return Request{EmployerID: employer, Today: replicaToday, Actor: "test", IdempotencyKey: key, BodyHash: body,
		Command: &domain.RecordPayment{PaidOn: "2006-06-10", AmountFen: "100", ReceiptNo: "R-1"}}
}

func wantDuplicateOf(t *testing.T, got Result, err error, first Result) {
	t.Helper()
	if err != nil {
		t.Fatalf("the retry on the other replica: %v; want the first result as a duplicate", err)
	}
	if !got.Duplicate || got.Seq != first.Seq || fmt.Sprint(got.EventIDs) != fmt.Sprint(first.EventIDs) {
		t.Fatalf("the retry on the other replica answered %+v, want %+v marked duplicate", got, first)
	}
}

func wantMismatch(t *testing.T, err error) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != domain.KindIdempotencyMismatch {
		t.Fatalf("the same key with another body: %v, want an idempotency mismatch (422)", err)
	}
}

type outcome struct {
	res Result
	err error
}

// awaitConflict waits until the write whose outcome out will carry (what names it) lost its
// race, failing the test if it returned instead or did neither within 20 s.
func awaitConflict(t *testing.T, sig *conflictSignal, out chan outcome, what string) {
	t.Helper()
	select {
	case <-sig.conflicts:
	case o := <-out:
		t.Fatalf("the %s did not conflict: %+v %v", what, o.res, o.err)
	case <-time.After(20 * time.Second):
		t.Fatalf("the %s neither conflicted nor returned", what)
	}
}

// The second replica decides a retry on a state without the first replica's event (its follower
// is held back), so the append conflicts; once it catches up, the retry must find the key
// rather than decide again and hit the receipt the first attempt recorded.
func TestARetryThatConflictsWithTheFirstAttemptOnAnotherReplicaAnswersTheFirstResult(t *testing.T) {
	for _, body := range []string{"same", "other"} {
		t.Run(body+" body", func(t *testing.T) {
			first, second, id, sig := replicaPair(t)
			release := second.markPending(EmployerPrefix + id) // the follower waits here
			done, err := first.Execute(context.Background(), keyedPayment(id, "k-1", "same"))
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan outcome, 1)
			go func() {
				res, err := second.Execute(context.Background(), keyedPayment(id, "k-1", body))
				out <- outcome{res, err}
			}()
			awaitConflict(t, sig, out, "retry")
			release()
			o := <-out
			if body == "same" {
				wantDuplicateOf(t, o.res, o.err, done)
			} else {
				wantMismatch(t, o.err)
			}
		})
	}
}

// The second replica looks the key up before the first replica's event reaches it, and decides
// after: the receipt is then already recorded, but the key must answer first.
func TestARetryDecidedAfterTheFirstAttemptArrivedAnswersTheFirstResult(t *testing.T) {
	for _, body := range []string{"same", "other"} {
		t.Run(body+" body", func(t *testing.T) {
			first, second, id, _ := replicaPair(t)
			unlock := second.locks.lock("e:" + id)
			release := second.markPending(EmployerPrefix + id)
			done, err := first.Execute(context.Background(), keyedPayment(id, "k-2", "same"))
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan outcome, 1)
			go func() {
				res, err := second.Execute(context.Background(), keyedPayment(id, "k-2", body))
				out <- outcome{res, err}
			}()
			// Wait until the retry missed the key and queues for the employer.
			deadline := time.Now().Add(20 * time.Second)
			for waiters(&second.locks, "e:"+id) < 2 {
				if time.Now().After(deadline) {
					t.Fatal("the retry never reached the employer's lock")
				}
				time.Sleep(time.Millisecond)
			}
			release()
			if err := second.WaitApplied(context.Background(), done.Seq); err != nil {
				t.Fatal(err)
			}
			unlock()
			o := <-out
			if body == "same" {
				wantDuplicateOf(t, o.res, o.err, done)
			} else {
				wantMismatch(t, o.err)
			}
		})
	}
}

// The bulk path decides on a copy of the state taken before it looks keys up, and decides a
// conflicting unit again only after looking its keys up again.
func TestABulkRetryThatConflictsWithTheFirstAttemptOnAnotherReplicaAnswersTheFirstResult(t *testing.T) {
	first, second, id, sig := replicaPair(t)
	release := second.markPending(EmployerPrefix + id)
	done, err := first.Execute(context.Background(), keyedPayment(id, "k-3", "same"))
	if err != nil {
		t.Fatal(err)
	}
	other := keyedPayment(id, "k-4", "x")
	other.Command = &domain.RecordPayment{PaidOn: "2006-06-11", AmountFen: "200", ReceiptNo: "R-2"}
	out := make(chan []BulkResult, 1)
	go func() {
		out <- second.ExecuteBulk(context.Background(), []Request{keyedPayment(id, "k-3", "same"), other})
	}()
	select {
	case <-sig.conflicts:
	case <-time.After(20 * time.Second):
		t.Fatal("the bulk retry did not conflict")
	}
	release()
	res := <-out
	wantDuplicateOf(t, res[0].Result, res[0].Err, done)
	if res[1].Err != nil {
		t.Fatalf("the other request of the bulk: %v", res[1].Err)
	}
}

// waiters counts the holders and waiters of one key of a keyedMutex.
func waiters(k *keyedMutex, key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if m := k.locks[key]; m != nil {
		return m.refs
	}
	return 0
}

// A write that lost its race and has no time left to try again answers a conflict that asks for a
// retry: not a stale If-Match, which its caller never sent.
func TestAWriteThatKeepsLosingRacesAnswersConflictRetry(t *testing.T) {
	first, second, id, sig := replicaPair(t)
	second.cfg.RetryTimeout = time.Nanosecond
	release := second.markPending(EmployerPrefix + id)
	if _, err := first.Execute(context.Background(), keyedPayment(id, "k-6", "a")); err != nil {
		t.Fatal(err)
	}
	out := make(chan outcome, 1)
	go func() {
		req := keyedPayment(id, "k-7", "b")
		req.Command = &domain.RecordPayment{PaidOn: "2006-06-11", AmountFen: "200", ReceiptNo: "R-2"}
		res, err := second.Execute(context.Background(), req)
		out <- outcome{res, err}
	}()
	awaitConflict(t, sig, out, "write")
	release()
	o := <-out
	var de *domain.Error
	if !errors.Is(o.err, ErrContended) || errors.Is(o.err, ErrStale) || !errors.As(o.err, &de) || de.Kind != domain.KindConflict ||
		!strings.Contains(de.Detail, "retry") {
		t.Fatalf("a write out of retries: %v, want ErrContended with a conflict (409) that says retry, not ErrStale", o.err)
	}
	t.Logf("answered: %v; detail: %s", o.err, de.Detail)
}

// heldCatchUp has the second store's write lose a race and then wait for its follower, held for
// at least hold, with a race budget of budget and the context ctx; it returns the write's outcome.
func heldCatchUp(t *testing.T, ctx context.Context, budget, hold time.Duration) outcome {
	t.Helper()
	first, second, id, sig := replicaPair(t)
	second.cfg.RetryTimeout = budget
	// The second store's follower is held before another employer's registration, and so before
	// the payment after it; nothing the write does touches that hold.
	other := domain.EmployerIDForOrgCode("10000005-9") // a registration's id is its code's
	release := sync.OnceFunc(second.markPending(EmployerPrefix + other))
	defer release()
	reg := Request{EmployerID: other, Create: true, Today: replicaToday, Actor: "test", Command: &domain.RegisterEmployer{
		Name: "单位乙", County: "360702", OrgCode: "10000005-9", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}}
	if _, err := first.Execute(context.Background(), reg); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Execute(context.Background(), keyedPayment(id, "k-9", "a")); err != nil {
		t.Fatal(err)
	}
	out := make(chan outcome, 1)
	go func() {
		req := keyedPayment(id, "k-10", "b")
		req.Command = &domain.RecordPayment{PaidOn: "2006-06-11", AmountFen: "200", ReceiptNo: "R-2"}
		res, err := second.Execute(ctx, req)
		out <- outcome{res, err}
	}()
	awaitConflict(t, sig, out, "write")
	time.Sleep(hold) // at least: the write waits for the held follower all this while
	release()
	o := <-out
	if o.err == nil {
		if e, ok := second.Employer(id); !ok || e.Version != o.res.Seq {
			t.Fatalf("the employer after the write: %+v, want version %d", e, o.res.Seq)
		}
	}
	return o
}

// A write that lost a race and then waited longer than its whole budget for its follower (as one
// does after a failover: an election, then a consumer made again) tries again on the state it
// caught up with: the wait was not other writers changing its employer, so no 409. Its request's
// deadline bounds the wait, not the budget.
func TestAWriteThatWaitedForItsFollowerLongerThanItsBudgetStillTriesAgain(t *testing.T) {
	// The budget also pays the first attempt's round trip, which a busy machine stretched past
	// 50 ms: it is far above any such trip here, and the hold eight times it.
	const budget = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if o := heldCatchUp(t, ctx, budget, 8*budget); o.err != nil {
		t.Fatalf("a write that lost one race, then waited %v for its follower with a budget of %v and a minute's deadline: %v, want it recorded", 8*budget, budget, o.err)
	}
}

// Without a deadline (an import, the command line) the waits stretch a write's budget to four
// budgets at most: it does not hold its employer's lock without end.
func TestAWriteWithoutADeadlineStretchesItsBudgetFourTimesAtMost(t *testing.T) {
	const budget = 500 * time.Millisecond
	if o := heldCatchUp(t, context.Background(), budget, 8*budget); !errors.Is(o.err, ErrContended) {
		t.Fatalf("a write without a deadline that waited %v for its follower with a budget of %v: %+v %v, want ErrContended", 8*budget, budget, o.res, o.err)
	}
}

// A client registers an employer through one replica and pays through the other before that
// one's follower has folded the registration: the payment must not be refused as "no employer".
func TestAWriteRefusedOnAStateBehindTheStreamIsDecidedAgain(t *testing.T) {
	first, second, _, _ := replicaPair(t)
	id := domain.EmployerIDForOrgCode("10000005-9") // a registration's id is its code's
	release := sync.OnceFunc(second.markPending(EmployerPrefix + id))
	defer release()
	reg := Request{EmployerID: id, Create: true, Today: replicaToday, Actor: "test", Command: &domain.RegisterEmployer{
		Name: "单位乙", County: "360702", OrgCode: "10000005-9", Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03"}}
	if _, err := first.Execute(context.Background(), reg); err != nil {
		t.Fatal(err)
	}
	// The follower is held before the registration: the payment can only wait for it.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := second.Execute(ctx, keyedPayment(id, "k-8", "a"))
	cancel()
	var de *domain.Error
	if errors.As(err, &de) {
		t.Fatalf("a payment on a store behind the registration: %v, want it to wait for the registration", err)
	}
	release()
	if _, err := second.Execute(context.Background(), keyedPayment(id, "k-8", "a")); err != nil {
		t.Fatalf("the payment once the store followed: %v", err)
	}
}
