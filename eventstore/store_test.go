package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var today = domain.MustDate("2006-12-31")

func register(orgCode, county string) eventstore.Request {
	return eventstore.Request{Create: true, Today: today, Actor: "test", Command: &domain.RegisterEmployer{
		Name: "单位 " + orgCode, County: county, OrgCode: orgCode, Kind: "enterprise", RiskClass: "1", RegisteredOn: "2006-04-03",
	}}
}

func payment(id, receipt string, fen int64) eventstore.Request {
	return eventstore.Request{EmployerID: id, Today: today, Actor: "test", Command: &domain.RecordPayment{
		PaidOn: "2006-06-10", AmountFen: domain.Number(fmt.Sprint(fen)), ReceiptNo: receipt,
	}}
}

// orgCode makes a valid organisation code from a number.
func orgCode(n int) string { return domain.NumberedOrgCode(n) }

func mustExecute(t *testing.T, s *eventstore.Store, req eventstore.Request) eventstore.Result {
	t.Helper()
	res, err := s.Execute(context.Background(), req)
	if err != nil {
		t.Fatalf("execute %T: %v", req.Command, err)
	}
	return res
}

func TestDefaultReferenceDataIsWrittenOnceAtFirstStart(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	n := l.MessageCount(t)
	if n != uint64(len(domain.DefaultReferenceEvents())) {
		t.Fatalf("first start wrote %d messages, want %d reference events", n, len(domain.DefaultReferenceEvents()))
	}
	ref := l.Store.Reference()
	if len(ref.Counties) != 19 || len(ref.Groups) != 6 {
		t.Fatalf("reference has %d counties and %d groups, want 19 and 6", len(ref.Counties), len(ref.Groups))
	}
	if bp, _ := ref.Rate(domain.Pension, domain.PayerUnit, 1, domain.MustDate("2006-05-01")); bp != 2800 {
		t.Fatalf("pension rate %d bp, want 2800", bp)
	}
	l.Restart(t)
	if got := l.MessageCount(t); got != n {
		t.Fatalf("a restart wrote reference data again: %d messages, want %d", got, n)
	}
}

func TestRestartKeepsEveryAcknowledgedEventAndItsChain(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	ctx := context.Background()
	var ids []string
	for i := range 20 {
		res := mustExecute(t, l.Store, register(orgCode(1000+i), "360702"))
		ids = append(ids, res.EmployerID)
		for k := range 3 {
			mustExecute(t, l.Store, payment(res.EmployerID, fmt.Sprintf("R%d", k), int64(100*(k+1))))
		}
	}
	before := map[string][]eventstore.RawEvent{}
	for _, id := range ids {
		h, err := l.Store.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		before[id] = h
	}
	n := l.MessageCount(t)
	l.Restart(t)
	if got := l.MessageCount(t); got != n {
		t.Fatalf("after restart the stream holds %d messages, want %d", got, n)
	}
	for _, id := range ids {
		after, err := l.Store.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != 4 || len(after) != len(before[id]) {
			t.Fatalf("employer %s: %d events after restart, %d before, want 4", id, len(after), len(before[id]))
		}
		for i := range after {
			a, b := after[i], before[id][i]
			if a.Seq != b.Seq || a.Hash != b.Hash || string(a.Data) != string(b.Data) || !a.ChainOK {
				t.Fatalf("employer %s event %d differs after restart or breaks its chain: %+v vs %+v", id, i, a.Envelope, b.Envelope)
			}
		}
	}
	in, err := l.Store.Verify(ctx)
	if err != nil || !in.OK {
		t.Fatalf("verify after restart: %+v, %v", in, err)
	}
}

func TestIdempotencyKeyAppendsOnceAcrossRestartAndDuplicateWindow(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{DuplicateWindow: 300 * time.Millisecond})
	emp := mustExecute(t, l.Store, register(orgCode(7), "360721"))
	req := payment(emp.EmployerID, "R-1", 5000)
	req.IdempotencyKey, req.BodyHash = "pay-1", "body-A"
	first := mustExecute(t, l.Store, req)
	n := l.MessageCount(t)

	second := mustExecute(t, l.Store, req)
	l.Restart(t)
	time.Sleep(400 * time.Millisecond) // let JetStream's own duplicate window pass
	third := mustExecute(t, l.Store, req)

	for i, r := range []eventstore.Result{second, third} {
		if !r.Duplicate || r.Seq != first.Seq || len(r.EventIDs) != 1 || r.EventIDs[0] != first.EventIDs[0] {
			t.Fatalf("retry %d: %+v, want the first result %+v marked duplicate", i+2, r, first)
		}
	}
	if got := l.MessageCount(t); got != n {
		t.Fatalf("retries appended: %d messages, want %d", got, n)
	}
	other := req
	other.BodyHash = "body-B"
	_, err := l.Store.Execute(context.Background(), other)
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != domain.KindIdempotencyMismatch {
		t.Fatalf("same key, another body: %v, want an idempotency mismatch", err)
	}
}

func TestRacingWritersOnOneEmployerLoseNoUpdate(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	emp := mustExecute(t, l.Store, register(orgCode(42), "360722"))
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 20 {
				if _, err := l.Store.Execute(context.Background(), payment(emp.EmployerID, fmt.Sprintf("W%d-%d", w, k), 100)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("racing payment failed: %v", err)
	}
	e, _ := l.Store.Employer(emp.EmployerID)
	if len(e.Receipts) != 40 || e.N != 41 {
		t.Fatalf("employer has %d receipts and %d events, want 40 and 41", len(e.Receipts), e.N)
	}
	st := e.Account.Statement(today, l.Store.Reference().LateFees)
	if st.Totals.CreditFen != 4000 {
		t.Fatalf("credit %d fen, want 4000 (40 payments of 100 with nothing due)", st.Totals.CreditFen)
	}
}

func TestStaleIfMatchIsRefused(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	emp := mustExecute(t, l.Store, register(orgCode(43), "360723"))
	v := emp.Version
	req := payment(emp.EmployerID, "A", 100)
	req.IfMatch = &v
	mustExecute(t, l.Store, req)
	n := l.MessageCount(t)
	req = payment(emp.EmployerID, "B", 100)
	req.IfMatch = &v
	if _, err := l.Store.Execute(context.Background(), req); !errors.Is(err, eventstore.ErrStale) {
		t.Fatalf("stale If-Match: %v, want ErrStale", err)
	}
	if got := l.MessageCount(t); got != n {
		t.Fatalf("a refused write appended: %d messages, want %d", got, n)
	}
}

func TestConflictFromAnotherProcessIsRetriedOnTheNewState(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	emp := mustExecute(t, l.Store, register(orgCode(44), "360724"))
	// A second store on the same stream plays another API replica.
	other, err := eventstore.Open(context.Background(), l.Embedded.Conn, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var wg sync.WaitGroup
	for w, s := range []*eventstore.Store{l.Store, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 15 {
				if _, err := s.Execute(context.Background(), payment(emp.EmployerID, fmt.Sprintf("P%d-%d", w, k), 10)); err != nil {
					t.Errorf("replica %d payment %d: %v", w, k, err)
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Store.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	e, _ := l.Store.Employer(emp.EmployerID)
	if len(e.Receipts) != 30 {
		t.Fatalf("%d receipts recorded, want 30: an update was lost", len(e.Receipts))
	}
	if in, _ := l.Store.Verify(context.Background()); !in.OK {
		t.Fatalf("chains broken after concurrent replicas: %+v", in.Breaks)
	}
}

func TestBulkAppendsEveryCommandInOrderWithValidChains(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{MaxBatch: 50})
	var reqs []eventstore.Request
	for i := range 30 {
		reqs = append(reqs, register(orgCode(500+i), "360730"))
	}
	for i := range 30 {
		id := domain.EmployerIDForOrgCode(orgCode(500 + i))
		for k := range 5 {
			reqs = append(reqs, payment(id, fmt.Sprintf("B%d", k), 100))
		}
	}
	bad := payment(domain.EmployerIDForOrgCode(orgCode(500)), "B0", 100) // receipt used twice
	reqs = append(reqs, bad)
	res := l.Store.ExecuteBulk(context.Background(), reqs)
	for i, r := range res[:len(res)-1] {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
	}
	var de *domain.Error
	if err := res[len(res)-1].Err; !errors.As(err, &de) || de.Kind != domain.KindConflict || de.Field != "receipt_no" {
		t.Fatalf("duplicate receipt in bulk: %v, want a conflict on receipt_no", err)
	}
	want := uint64(len(domain.DefaultReferenceEvents()) + 30*6)
	if got := l.MessageCount(t); got != want {
		t.Fatalf("stream holds %d messages, want %d", got, want)
	}
	if in, _ := l.Store.Verify(context.Background()); !in.OK {
		t.Fatalf("bulk broke chains: %+v", in.Breaks)
	}
	l.Restart(t)
	if in, _ := l.Store.Verify(context.Background()); !in.OK || in.Employers != 30 {
		t.Fatalf("after restart: %+v", in)
	}
}

func TestTamperedEventBreaksTheChainAtItsSequence(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	emp := mustExecute(t, l.Store, register(orgCode(99), "360781"))
	mustExecute(t, l.Store, payment(emp.EmployerID, "OK", 100))
	// A forger writes straight into the stream, copying the last event with another amount.
	h, err := l.Store.History(context.Background(), emp.EmployerID)
	if err != nil {
		t.Fatal(err)
	}
	last := h[len(h)-1]
	var env map[string]any
	_ = json.Unmarshal(last.Data, &env)
	env["payload"] = map[string]any{"paid_on": "2006-06-10", "amount_fen": 99999999, "receipt_no": "FORGED"}
	env["n"] = last.N + 1
	env["prev_hash"] = last.Hash
	delete(env, "prev_seq")
	data, _ := json.Marshal(env)
	m := nats.NewMsg(eventstore.EmployerPrefix + emp.EmployerID)
	m.Data = data
	m.Header.Set(eventstore.HashHeader, last.Hash) // not the hash of these bytes
	ack, err := l.Embedded.Conn.RequestMsg(m, 5*time.Second)
	if err != nil || len(ack.Data) == 0 {
		t.Fatalf("forged publish: %v", err)
	}
	storetest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if _, ok := l.Store.ChainBreak(emp.EmployerID); !ok {
			return errors.New("no chain break recorded yet")
		}
		return nil
	})
	in, err := l.Store.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if in.OK || len(in.Breaks) != 1 || in.Breaks[0].EmployerID != emp.EmployerID || in.Breaks[0].Seq != last.Seq+1 {
		t.Fatalf("verify: %+v, want one break for %s at %d", in, emp.EmployerID, last.Seq+1)
	}
	h, _ = l.Store.History(context.Background(), emp.EmployerID)
	if !h[len(h)-2].ChainOK || h[len(h)-1].ChainOK {
		t.Fatalf("history chain_ok should hold up to the forged event and fail from it")
	}
}

// A subject whose last message does not decode (published around the ledger, or damaged) takes
// no write, alone or in a bulk round: the state stops short of the message, so each is refused at
// once naming its sequence (not after losing every race to it for the retry budget), and nothing
// is appended. A retry of a write recorded before answers as it did, in both.
func TestAWriteToASubjectEndingInAnUndecodableMessageIsRefusedAtOnce(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	emp := mustExecute(t, l.Store, register(orgCode(98), "360781"))
	recorded := payment(emp.EmployerID, "OK", 100)
	recorded.IdempotencyKey, recorded.BodyHash = "ok-1", "b"
	first := mustExecute(t, l.Store, recorded)
	if _, err := l.Embedded.Conn.Request(eventstore.EmployerPrefix+emp.EmployerID, []byte("not json"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	damaged := l.MessageCount(t)
	if err := l.Store.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	refused := func(how string, err error) {
		t.Helper()
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != domain.KindUnavailable || !strings.Contains(de.Detail, fmt.Sprint("sequence ", damaged)) {
			t.Errorf("%s: %v; want unavailable naming sequence %d", how, err, damaged)
		}
	}
	_, err := l.Store.Execute(context.Background(), payment(emp.EmployerID, "AFTER", 100))
	refused("a write", err)
	res := l.Store.ExecuteBulk(context.Background(), []eventstore.Request{payment(emp.EmployerID, "BULK", 100), recorded})
	refused("a bulk round's write", res[0].Err)
	if again, err := l.Store.Execute(context.Background(), recorded); err != nil || !again.Duplicate || again.Seq != first.Seq {
		t.Errorf("a retry of a recorded write: %+v, %v; want its first answer, a duplicate", again, err)
	}
	if r := res[1]; r.Err != nil || !r.Duplicate || r.Seq != first.Seq {
		t.Errorf("a bulk round's retry of a recorded write: %+v, %v; want its first answer, a duplicate", r.Result, r.Err)
	}
	if n := l.MessageCount(t); n != damaged {
		t.Fatalf("the stream holds %d messages after the refusals, %d before", n, damaged)
	}
}

func TestSubscribeDeliversEventsFromASequenceInOrder(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	emp := mustExecute(t, l.Store, register(orgCode(61), "360725"))
	for k := range 5 {
		mustExecute(t, l.Store, payment(emp.EmployerID, fmt.Sprint("S", k), 100))
	}
	last := l.MessageCount(t)
	from := last - 2
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []uint64
	stop := errors.New("enough")
	err := l.Store.Subscribe(ctx, from, func(ev domain.Event) error {
		got = append(got, ev.Seq)
		if ev.EmployerID != emp.EmployerID || ev.Type != "payment.received" || ev.Body == nil {
			t.Errorf("event %d: %s for %s", ev.Seq, ev.Type, ev.EmployerID)
		}
		if ev.Seq == last {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("subscribe: %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint([]uint64{from, from + 1, from + 2}) {
		t.Fatalf("delivered %v, want %d..%d", got, from, last)
	}
}

func TestTheEmbeddedServerListensOnlyWhenAskedAndThenRequiresCredentials(t *testing.T) {
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if addr := emb.Server.Addr(); addr != nil {
		t.Fatalf("the default embedded server listens on %v", addr)
	}
	emb.Close()
	if _, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:0"}, nil); err == nil {
		t.Fatal("a listening server without credentials started")
	}
	emb, err = eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:-1", User: "kz", Password: "correct horse battery"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	url := emb.Server.ClientURL()
	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Fatal("a client without credentials connected")
	}
	nc, err := nats.Connect(url, nats.UserInfo("kz", "correct horse battery"))
	if err != nil {
		t.Fatalf("a client with credentials: %v", err)
	}
	nc.Close()
}

func TestRecordedKnowsTheKeysOfRecordedCommandsOnly(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	req := register(orgCode(7), "360702")
	req.IdempotencyKey, req.BodyHash = "register-7", "body-7"
	mustExecute(t, l.Store, req)
	for _, tc := range []struct {
		key  string
		want bool
	}{{"register-7", true}, {"register-8", false}} {
		got, err := l.Store.Recorded(tc.key)
		if err != nil || got != tc.want {
			t.Errorf("Recorded(%q) = %v, %v; want %v", tc.key, got, err, tc.want)
		}
	}
}

// An event a newer build wrote (a type or schema this build does not know, its chain whole)
// cannot be folded: it is a break, which says the ledger is a newer build's, not that it was
// altered; one whose hash or link to the event before does not hold is not taken for a newer
// build's.
func TestAnEventOfANewerBuildIsABreakThatSaysSo(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	for i, c := range []struct {
		typ    string
		schema int
		whole  bool   // its chain hash holds
		gap    uint64 // events its number skips: its link to the one before does not hold
	}{
		{"employer.renamed_in_2030", 1, true, 0},
		{"payment.received", 99, true, 0},
		{"employer.renamed_in_2030", 1, false, 0},
		{"employer.renamed_in_2030", 1, true, 7},
	} {
		newer := c.whole && c.gap == 0
		id := mustExecute(t, l.Store, register(orgCode(90+i), "360781")).EmployerID
		storetest.Forge(t, l.Store, l.Embedded.Conn, id, func(env map[string]any) bool {
			env["type"], env["schema"] = c.typ, c.schema
			env["n"] = env["n"].(uint64) + c.gap
			return c.whole
		})
		if err := l.Store.CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		b, ok := l.Store.ChainBreak(id)
		if !ok || b.ByNewerBuild() != newer || strings.Contains(b.Reason, "newer build") != newer {
			t.Errorf("%s schema %d, hash whole %v, %d events skipped: break %+v, %v; want one saying a newer build wrote it if and only if whole and linked", c.typ, c.schema, c.whole, c.gap, b, ok)
		}
	}
}

// The ledger's stream never forgets and answers reads and atomic batches; the embedded server
// syncs every write before acknowledging it unless told to be lazy.
func TestTheStreamForgetsNothingAndTheServerSyncsBeforeAcknowledging(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		l := storetest.StartLazy(t, eventstore.Config{}, lazy)
		s, err := l.Store.JetStream().Stream(context.Background(), l.Store.Stream())
		if err != nil {
			t.Fatal(err)
		}
		c := s.CachedInfo().Config
		if !c.DenyDelete || !c.DenyPurge || !c.AllowDirect || !c.AllowAtomicPublish || c.Storage != jetstream.FileStorage {
			t.Errorf("the stream's config %+v; want file storage, deny delete and purge, direct gets and atomic batches", c)
		}
		if got := l.Embedded.Server.JetStreamConfig().SyncAlways; got == lazy {
			t.Errorf("lazy %v: the server syncs every write %v", lazy, got)
		}
	}
}
