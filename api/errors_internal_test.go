package api

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/kuozheng/kuozheng/eventstore"
)

// A write its client gave up on before it was sent is answered as not recorded, but is no failure
// of the server's: the request log does not report it as one (a client dropping connections
// would otherwise fill an operator's log with errors). A write the ledger could not take is one.
func TestAWriteItsClientCanceledIsNotLoggedAsAServerFailure(t *testing.T) {
	for _, c := range []struct {
		name     string
		err      error
		internal bool
	}{
		{"the client canceled", fmt.Errorf("%w: %w", eventstore.ErrNotRecorded, context.Canceled), false},
		{"the ledger could not take it", fmt.Errorf("%w: %w", eventstore.ErrNotRecorded, errors.New("no stream leader")), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			gw := &guardWriter{ResponseWriter: rec, id: "r1"}
			writeError(gw, c.err)
			if rec.Code != 503 || (gw.internal != nil) != c.internal {
				t.Fatalf("%d, logged as a failure: %v; want 503, logged: %v", rec.Code, gw.internal, c.internal)
			}
		})
	}
}
