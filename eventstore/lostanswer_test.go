package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// An append whose acknowledgement was lost is sent again; the stream refuses the second sending
// (a conflict with its expected sequence on one server; on a cluster, where the message id is
// checked first, a duplicate of a keyed write's id), and the store reads the stream to learn that
// the first sending was stored: the write answers its own result, not a duplicate of itself.
func TestAnAppendWhoseAnswerWasLostAnswersItsOwnResult(t *testing.T) {
	for _, c := range []struct {
		name    string
		cluster bool
		keyed   bool
	}{
		{"one server, with an idempotency key", false, true},
		{"one server, without one", false, false},
		{"a cluster, with an idempotency key", true, true},
		{"a cluster, without one", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var st *eventstore.Store
			if c.cluster {
				servers := storetest.StartCluster(t)
				st = storetest.OpenOnCluster(t, storetest.ClusterConn(t, servers, 0), eventstore.Config{})
			} else {
				st = storetest.Start(t, eventstore.Config{}).Store
			}
			emp := mustExecute(t, st, register(orgCode(81), "360702"))
			req := payment(emp.EmployerID, "LOST-1", 100)
			if c.keyed {
				req.IdempotencyKey, req.BodyHash = "lost-1", "body"
			}
			st.LoseAnswers(1, 200*time.Millisecond)
			res, err := st.Execute(context.Background(), req)
			if err != nil {
				t.Fatalf("a write whose first answer was lost: %v", err)
			}
			last, err := st.LastSeq(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Duplicate || res.Seq != last || res.Seq != emp.Seq+1 {
				t.Errorf("answered %+v; the stream's last sequence is %d, the registration's %d: want its own event, once", res, last, emp.Seq)
			}
		})
	}
}

// A write conditional on the stream's last sequence (RefRequest.AfterSeq) whose acknowledgement
// was lost is sent again and refused, the stream being past that sequence by its own first
// sending; the store reads the message after that sequence, finds it its own, and answers it.
func TestAConditionalWriteWhoseAnswerWasLostAnswersItsOwnResult(t *testing.T) {
	st := storetest.Start(t, eventstore.Config{}).Store
	ctx := context.Background()
	at := st.Applied()
	st.LoseAnswers(1, 200*time.Millisecond)
	res, err := st.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.LateFeeRatesSet{Rate: domain.LateFeeRate{
		EffectiveFrom: domain.MustDate("2006-07-01"), DailyBP: 10, Basis: "test"}},
		On: domain.MustDate("2006-07-01"), Actor: "admin:a", IdempotencyKey: "rates-lost", BodyHash: "h", AfterSeq: at})
	if err != nil {
		t.Fatalf("a conditional write whose first answer was lost: %v", err)
	}
	last, err := st.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || res.Seq != last || res.Seq != at+1 {
		t.Errorf("answered %+v; the stream's last sequence is %d, the write was decided at %d: want its own event, once", res, last, at)
	}
}
