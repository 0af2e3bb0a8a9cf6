package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
)

// TestWriteErrorTellsUnknownFromNotRecorded: a client must be able to tell a write that was not
// recorded (503: retry) from one whose outcome is unknown (504 outcome_unknown: retry with the
// same key to learn which), and never read an internal error's text. A write its client gave up
// on before it was sent is no failure of the server's: it is not logged as one (a client
// dropping connections would otherwise fill an operator's log with errors).
func TestWriteErrorTellsUnknownFromNotRecorded(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		status int
		kind   string
		detail string
		logged bool
	}{
		{"sent, not acknowledged", fmt.Errorf("append: %w: %w", eventstore.ErrOutcomeUnknown, context.DeadlineExceeded), 504, "outcome_unknown", "Idempotency-Key", false},
		{"never sent, the client gone", fmt.Errorf("append: %w: %w", eventstore.ErrNotRecorded, context.Canceled), 503, "unavailable", "only a 2xx or 4xx answer is final", false},
		{"store closed", fmt.Errorf("%w: %w", eventstore.ErrNotRecorded, eventstore.ErrClosed), 503, "unavailable", "not recorded", true},
		{"no stream leader while catching up", fmt.Errorf("stream info: the stream did not answer for 8.6s (13 attempts): stream info: %w", eventstore.ErrNoLeader), 503, "unavailable", "retry", true},
		{"a bug", errors.New("open /var/lib/kuozheng/secret: permission denied"), 500, "internal", "request id", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			gw := &guardWriter{ResponseWriter: rec, id: "req-7"}
			writeError(gw, c.err)
			var body ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != c.status || body.Error != c.kind || !strings.Contains(body.Detail, c.detail) {
				t.Errorf("%v: %d %+v, want %d %s mentioning %q", c.err, rec.Code, body, c.status, c.kind, c.detail)
			}
			if strings.Contains(body.Detail, "/var/lib") || strings.Contains(body.Detail, "eventstore:") {
				t.Errorf("the answer shows the internal error: %+v", body)
			}
			if (gw.internal != nil) != c.logged {
				t.Errorf("logged as the server's failure: %v, want %v", gw.internal != nil, c.logged)
			}
			if c.status == http.StatusInternalServerError && (gw.internal == nil || !strings.Contains(body.Detail, "req-7")) {
				t.Errorf("an internal error is not kept for the log under its request id: %+v", body)
			}
		})
	}
}

// TestALogThrottleLetsOneLineAMinute: while a disk is full every write is refused alike; the log
// gets one line a minute, which counts those held back since the last.
func TestALogThrottleLetsOneLineAMinute(t *testing.T) {
	var th logThrottle
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i, c := range []struct {
		at      time.Duration
		ok      bool
		skipped int
	}{{0, true, 0}, {time.Second, false, 0}, {59 * time.Second, false, 0}, {time.Minute, true, 2}, {time.Minute + time.Second, false, 0}, {3 * time.Minute, true, 1}} {
		if skipped, ok := th.let(t0.Add(c.at)); ok != c.ok || skipped != c.skipped {
			t.Errorf("line %d at +%v: let %v, %d held back; want %v, %d", i, c.at, ok, skipped, c.ok, c.skipped)
		}
	}
}
