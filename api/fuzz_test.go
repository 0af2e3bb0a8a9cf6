package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// FuzzDecodeRequest feeds arbitrary bytes as the JSON body of write routes, through the API's
// handler straight (no network): the answer is never a 5xx, an error is the {error, field,
// detail} shape, and the stream only grows on a 201.
func FuzzDecodeRequest(f *testing.F) {
	l := storetest.StartLazy(f, eventstore.Config{}, true)
	h := api.New(api.Config{Store: l.Store, Today: func() domain.Date { return today }})
	serve := func(path string, body []byte) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		r.Host = "localhost" // a server without tokens answers only loopback names
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	reg := serve("/v1/employers", []byte(registration(orgA, "360702")))
	var created struct {
		EmployerID string `json:"employer_id"`
	}
	if err := json.Unmarshal(reg.Body.Bytes(), &created); reg.Code != http.StatusCreated || err != nil {
		f.Fatalf("register the fuzzed employer: %d %s", reg.Code, reg.Body)
	}
	id := created.EmployerID
	routes := []string{"/v1/employers", empPath(id, "payments"), empPath(id, "declarations"), empPath(id, "enforcement"),
		empPath(id, "changes"), "/v1/reference/late-fee-rates"}

	f.Add(uint8(0), []byte(registration(orgB, "360702")))
	f.Add(uint8(0), []byte(`{"name":"张三","county":"360702","kind":"flexible","risk_class":1,"registered_on":"2006-04-03"}`))
	f.Add(uint8(0), []byte(`{"name":"x","county":"360702","credit_code":"91360702100000040X","kind":"enterprise","risk_class":"1","found_on":"2006-04-03"}`))
	f.Add(uint8(1), []byte(paymentBody("F-1", 100, "2006-06-20")))
	f.Add(uint8(1), []byte(`{"paid_on":"2006-06-20","amount_fen":100,"receipt_no":"F-2","allocations":[{"insurance":"pension","period":"2006-04","amount_fen":true}]}`))
	f.Add(uint8(1), []byte(`{"paid_on":"2006-02-29","amount_fen":9223372036854775808,"receipt_no":"\u0000"}`))
	f.Add(uint8(2), []byte(`{"declared_on":"2006-06-10","period":"2006-05","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`))
	f.Add(uint8(2), []byte(`{"declared_on":"2006-06-10","period":"2006-05","lines":[{"insurance":7}]}`))
	f.Add(uint8(3), []byte(`{"step":"notice","on":"2006-07-01","doc_no":"限改1","deadline":"2006-07-31"}`))
	f.Add(uint8(4), []byte(`{"on":"2006-06-01","name":null,"risk_class":2}`))
	f.Add(uint8(5), []byte(`{"effective_from":"2006-12-01","daily_bp":5}`))
	f.Add(uint8(5), []byte(`{"effective_from":2006,"daily_bp":"5"}`))
	f.Add(uint8(1), []byte(`[[[[[[[[[[`))
	f.Add(uint8(1), []byte("{\"receipt_no\":\"\xff\"}"))
	f.Add(uint8(1), []byte(`{"paid_on":"2006-06-20","paid_on":1}`))

	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := routes[int(route)%len(routes)]
		before := l.MessageCount(t)
		w := serve(path, body)
		after := l.MessageCount(t)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, w.Code, w.Body)
		}
		if w.Code == http.StatusCreated {
			var res struct {
				EventIDs []string `json:"event_ids"`
				Seq      uint64   `json:"seq"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || len(res.EventIDs) == 0 || res.Seq <= before {
				t.Fatalf("POST %s %q: 201 %s", path, body, w.Body)
			}
			if after != before+uint64(len(res.EventIDs)) {
				t.Fatalf("POST %s %q: 201 with %d events, but the stream went from %d to %d messages", path, body, len(res.EventIDs), before, after)
			}
			return
		}
		if after != before {
			t.Fatalf("POST %s %q answered %d but the stream went from %d to %d messages", path, body, w.Code, before, after)
		}
		var e struct {
			Error  *string `json:"error"`
			Detail *string `json:"detail"`
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == nil || e.Detail == nil {
			t.Fatalf("POST %s %q: %d without the {error, field, detail} shape: %s", path, body, w.Code, w.Body)
		}
	})
}
