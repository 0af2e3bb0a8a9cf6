package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestMetricsFollowPrometheusConventionsAndCountWhatHappens(t *testing.T) {
	m := api.NewMetrics()
	l := storetest.Start(t, eventstore.Config{Metrics: m})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runner := projections.NewRunner(l.Store, projections.RunnerConfig{NoSnapshots: true, Observe: m})
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	m.Watch(l.Store, runner)
	srv := httptest.NewServer(api.New(api.Config{Store: l.Store, Runner: runner, Metrics: m,
		Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()

	body := `{"name":"赣州某厂","county":"360702","org_code":"10000004-0","kind":"enterprise","risk_class":1,"registered_on":"2006-04-03"}`
	resp, err := http.Post(srv.URL+"/v1/employers", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	// A registration refused: the check digit of its organisation code is wrong.
	resp, err = http.Post(srv.URL+"/v1/employers", "application/json", strings.NewReader(strings.Replace(body, "10000004-0", "10000004-1", 1)))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a registration of a wrong check digit: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	resp, err = http.Get(srv.URL + "/v1/counties?min_seq=8")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("counties: %v %v", err, resp.Status)
	}
	resp.Body.Close()

	// Requests are counted once their answer is written and the views follow the write side, so
	// the figures settle a moment after the answers.
	var text []byte
	storetest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			return err
		}
		text, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`kuozheng_events_appended_total{type="employer.registered"} 1`,
			`kuozheng_http_requests_total{code="201",route="POST /v1/employers"} 1`,
			`kuozheng_http_requests_total{code="200",route="GET /v1/counties"} 1`,
			`kuozheng_http_errors_total{error="invalid",route="POST /v1/employers"} 1`,
			"kuozheng_append_batch_duration_seconds_count 1",
			"kuozheng_projection_lag_sequences 0",
			"kuozheng_projection_sequence 8",
			"kuozheng_projection_events_applied_total 8",
		} {
			if !strings.Contains(string(text), want) {
				return fmt.Errorf("/metrics lacks %q", want)
			}
		}
		return nil
	})
	problems, err := promlint.New(strings.NewReader(string(text))).Lint()
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint (as promtool check metrics): %s: %s", p.Metric, p.Text)
	}
}
