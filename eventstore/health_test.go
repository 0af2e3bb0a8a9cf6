package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// A second store on the same server plays another API replica; its follower is held before an
// event the first one appends, as a consumer sitting on a dead node would hold it.
func TestHealthSaysWhenTheFollowerIsStuck(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	ctx := context.Background()
	second, err := eventstore.Open(ctx, l.Embedded.Conn, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.Health(ctx); err != nil {
		t.Fatalf("a store that follows the stream: %v", err)
	}
	emp := mustExecute(t, l.Store, register(orgCode(61), "360702"))
	if err := second.WaitApplied(ctx, emp.Seq); err != nil {
		t.Fatal(err)
	}
	release := second.HoldFollower(eventstore.EmployerPrefix + emp.EmployerID)
	defer release()
	mustExecute(t, l.Store, payment(emp.EmployerID, "R-1", 100))
	hctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = second.Health(hctx)
	cancel()
	if !errors.Is(err, eventstore.ErrUnhealthy) || !strings.Contains(err.Error(), "stuck") {
		t.Fatalf("Health of a store whose follower is stuck: %v, want ErrUnhealthy saying stuck", err)
	}
	if err := l.Store.Health(ctx); err != nil {
		t.Fatalf("the first store follows: %v", err)
	}
	release()
	storetest.CheckFor(t, 20*time.Second, 10*time.Millisecond, func() error { return second.Health(ctx) })
}
