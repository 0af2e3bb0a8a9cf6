package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// A command its caller checked while its year was open (a printed notice, an import's row) and
// sent after the year's closing is refused year_closed, naming its date's field, when the store
// decides it, alone or in bulk; nothing is appended.
func TestACommandCheckedBeforeItsYearClosedIsRefusedWhenDecided(t *testing.T) {
	st := storetest.Start(t, eventstore.Config{}).Store
	ctx := context.Background()
	id := mustExecute(t, st, register(orgCode(8101), "360702")).EmployerID
	checked := func(receipt string) eventstore.Request {
		req := payment(id, receipt, 100)
		if err := req.Command.Check(domain.Context{Ref: st.Reference(), Today: req.Today}); err != nil {
			t.Fatal(err)
		}
		req.Checked = true
		return req
	}
	single, bulk := checked("S-1"), checked("S-2")

	f, _, err := st.AppendFreeze(ctx, eventstore.FreezeOrder{Actor: "test"}, func() (domain.FreezeMade, error) {
		return domain.FreezeMade{ID: "f2006", ThroughSeq: st.Applied(), ValidThrough: domain.MustDate("2006-12-31"),
			ChainHead: "h", CodeVersion: "test", Digest: "d", Figures: []byte(`{"n":1}`)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ExecuteRef(ctx, eventstore.RefRequest{Payload: domain.YearClosed{Year: 2006, FreezeID: f.ID, Digest: f.Digest},
		On: domain.MustDate("2007-01-05"), Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	before, err := st.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refusedAsClosed := func(how string, err error) {
		t.Helper()
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != domain.KindYearClosed || de.Field != "paid_on" {
			t.Errorf("%s, checked before 2006 closed: %v; want year_closed naming paid_on", how, err)
		}
	}
	_, err = st.Execute(ctx, single)
	refusedAsClosed("a payment executed alone", err)
	refusedAsClosed("a payment executed in bulk", st.ExecuteBulk(ctx, []eventstore.Request{bulk})[0].Err)
	if after, err := st.LastSeq(ctx); err != nil || after != before {
		t.Errorf("the stream moved from %d to %d (%v): refusals append nothing", before, after, err)
	}
}
