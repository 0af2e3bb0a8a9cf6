package eventstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
)

// Two replicas writing one employer as fast as they can: within a replica its writers take
// turns, across replicas they race, and the replica whose follower must first fold the other's
// events loses most races. No write may fail for it, least of all as a stale If-Match nobody
// sent.
func TestTwoReplicasHammeringOneEmployerAllSucceed(t *testing.T) {
	obs := [2]*raceCount{{}, {}}
	servers := startCluster(t)
	stores := [2]*eventstore.Store{
		openOnCluster(t, clusterConn(t, servers, 0), eventstore.Config{Metrics: obs[0]}),
		openOnCluster(t, clusterConn(t, servers, 1), eventstore.Config{Metrics: obs[1]}),
	}
	ctx := context.Background()
	emp := mustExecute(t, stores[0], register(orgCode(81), "360702"))
	if err := stores[1].WaitApplied(ctx, emp.Seq); err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 60
	var wg sync.WaitGroup
	var wrote [2]atomic.Int64
	start := time.Now()
	for r, st := range stores {
		for w := range writers {
			wg.Go(func() {
				for k := range each {
					req := payment(emp.EmployerID, fmt.Sprintf("H%d-%d-%d", r, w, k), 100)
					req.IdempotencyKey, req.BodyHash = fmt.Sprintf("h-%d-%d-%d", r, w, k), "b"
					if _, err := st.Execute(ctx, req); err != nil {
						t.Errorf("replica %d writer %d write %d: %v", r, w, k, err)
						return
					}
					wrote[r].Add(1)
				}
			})
		}
	}
	wg.Wait()
	t.Logf("%d writes in %v: replica shares %d and %d, conflicts %d and %d",
		2*writers*each, time.Since(start).Round(time.Millisecond), wrote[0].Load(), wrote[1].Load(), obs[0].conflicts.Load(), obs[1].conflicts.Load())
	if err := stores[1].CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if e, _ := stores[1].Employer(emp.EmployerID); len(e.Receipts) != 2*writers*each {
		t.Fatalf("the ledger holds %d receipts, want %d", len(e.Receipts), 2*writers*each)
	}
}

// raceCount counts what a store's writes met: batches refused as in process (10158), those
// of them that held more than one message, duplicates and conflicts.
type raceCount struct {
	inProcess, inProcessShared, duplicates, conflicts atomic.Int64
}

func (o *raceCount) Appended(string, int) {}
func (o *raceCount) Conflict()            { o.conflicts.Add(1) }
func (o *raceCount) Duplicate()           { o.duplicates.Add(1) }
func (o *raceCount) Batch(msgs int, _ time.Duration, err error) {
	if err != nil && strings.Contains(err.Error(), "10158") {
		o.inProcess.Add(1)
		if msgs > 1 {
			o.inProcessShared.Add(1)
		}
	}
}
