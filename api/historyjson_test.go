package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
)

// TestAHistoryAnswerIsWhatEncodingJSONWrites checks the history's own encoder against
// encoding/json, byte for byte, on every employer of a demo ledger (every kind of event it
// makes), on a name with characters JSON escapes or HTML would (U+2028 in the token's name: text
// a client sends may not hold it), and on an event that cannot be
// decoded (shown as its stored text), whole and cut by as_of and through_seq.
func TestAHistoryAnswerIsWhatEncodingJSONWrites(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	loadDemoLedger(t, l.Store, 60)
	e := &env{t: t, l: l, today: domain.MustDate("2006-12-31")}
	e.useTokens([]map[string]any{{"token": tokAdmin, "name": "张三 <b>&\u2028\"", "role": "admin"}})
	e.serve()
	odd := e.register(t, tokAdmin, "10000005-9", "360702")
	e.mustWrite(t, empPath(odd, "payments"), tokAdmin, paymentBody(`R<1>&"`+"\u00e9中", 100, "2006-05-20"))
	// A survey voided: the answer links them (voided).
	survey := e.mustWrite(t, empPath(odd, "surveys"), tokAdmin, `{"as_of":"2006-05-21","workforce":7}`).JSON["event_ids"].([]any)[0].(string)
	e.mustWrite(t, empPath(odd, "voids"), tokAdmin, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-05-22","reason":"<录错> & \u00e9"}`, survey))
	// A message no build can decode, on the employer's subject: its chain breaks there.
	if _, err := l.Embedded.Conn.Request(eventstore.EmployerPrefix+odd, []byte("not json \xff <b>&\u2028"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.Store.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	ids := l.Store.EmployerIDs()
	if len(ids) < 60 {
		t.Fatalf("%d employers, want the demo's 60 and one more", len(ids))
	}
	types := map[string]bool{}
	for i, id := range ids {
		raw, err := l.Store.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range raw {
			types[r.Type] = true
		}
		cuts := []struct {
			query   string
			through uint64
			asOf    domain.Date
		}{{"", 0, e.today}}
		if i%4 == 0 || id == odd {
			mid := raw[len(raw)/2]
			cuts = append(cuts,
				struct {
					query   string
					through uint64
					asOf    domain.Date
				}{fmt.Sprintf("?through_seq=%d", mid.Seq), mid.Seq, e.today},
				struct {
					query   string
					through uint64
					asOf    domain.Date
				}{"?as_of=" + mid.OccurredOn.String(), 0, mid.OccurredOn})
		}
		for _, c := range cuts {
			r := e.get(t, empPath(id, "history")+c.query, tokAdmin)
			if r.Status != http.StatusOK {
				t.Fatalf("history of %s%s: %s", id, c.query, r)
			}
			want := projections.BuildHistory(id, raw, c.through, c.asOf, l.Store.Reference())
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(want); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.Raw, buf.Bytes()) {
				at := 0
				for at < min(len(r.Raw), buf.Len()) && r.Raw[at] == buf.Bytes()[at] {
					at++
				}
				t.Fatalf("history of %s%s differs from encoding/json's at byte %d:\n got %q\nwant %q", id, c.query, at,
					r.Raw[max(0, at-80):min(len(r.Raw), at+80)], buf.Bytes()[max(0, at-80):min(buf.Len(), at+80)])
			}
		}
	}
	for _, typ := range []string{"employer.registered", "declaration.filed", "payment.received", "undecodable"} {
		if !types[typ] {
			t.Errorf("no %s event among the histories compared", typ)
		}
	}
}
