package eventstore_test

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

func TestALongFoldLogsHowFarItHasComeUntilStopped(t *testing.T) {
	var out storetest.SyncBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	var seq atomic.Uint64
	seq.Store(400)
	stop := eventstore.ReportProgress(log, "replaying", 100, 1000, seq.Load, time.Millisecond)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "seq=400 of=1000"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no progress logged within 10 s: %q", out.String())
		}
	}
	if !strings.Contains(out.String(), `msg=replaying`) || !strings.Contains(out.String(), "eta=") {
		t.Fatalf("progress line without its message or time left: %s", out.String())
	}
	stop()
	stop() // a second stop does nothing
	logged := out.String()
	seq.Store(900)
	// After stop returns the reporter has exited: nothing it could still log is pending.
	if out.String() != logged || strings.Contains(logged, "seq=900") {
		t.Fatalf("logged after stop: %s", out.String())
	}
}
