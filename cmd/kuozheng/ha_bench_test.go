package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// failoverKills is how many times BenchmarkHAFailover kills a stream leader's node at least
// (more with -benchtime Nx, N > 5).
const failoverKills = 5

// BenchmarkHAFailover kills the stream leader's node with SIGKILL under a write load, again and
// again (the node is started again and caught up between kills), and reports the median
// failover time: the last acknowledgement before the kill to the first of a write sent after
// it. kuozheng: four clients paying through one `serve --nats` replica, retrying with the same
// Idempotency-Key; jetstream: four writers publishing 1 KB to an R3 stream with a message id,
// retrying the same id, with a 2 s publish timeout (the floor: raft's election).
func BenchmarkHAFailover(b *testing.B) {
	dir, bin := buildBinary(b)
	natsBin, cluster, _, js := benchCluster(b, dir)

	b.Run("kuozheng", func(b *testing.B) {
		srv := startReplica(b, bin, nil, "--nats", cluster.url(), "--replicas", "3")
		employers := make([]string, 4)
		for i := range employers {
			employers[i] = registerVia(b, srv, fmt.Sprintf("故障转移单位%d", i), 7400+i)
		}
		write := func(w, k int) error {
			receipt := fmt.Sprintf("FO-%d-%06d", w, k)
			wr := crashWrite{employer: employers[w], receipt: receipt, key: "fo-" + receipt,
				body: fmt.Appendf(nil, `{"paid_on":"2006-12-20","amount_fen":100,"receipt_no":%q}`, receipt)}
			status, _, dup, _, err := postBody(srv, wr)
			switch {
			case err != nil:
				return err
			case status == http.StatusCreated || status == http.StatusOK && dup:
				return nil
			case status >= 500:
				return fmt.Errorf("answer %d", status)
			default:
				b.Errorf("%s: answer %d, which no retry changes", receipt, status)
				return nil
			}
		}
		measureFailovers(b, cluster, js, natsBin, "LEDGER", len(employers), write)
	})

	b.Run("jetstream", func(b *testing.B) {
		ctx := context.Background()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "FAILOVER", Subjects: []string{"failover.>"},
			Storage: jetstream.FileStorage, Replicas: 3}); err != nil {
			b.Fatal(err)
		}
		data := bytes.Repeat([]byte("x"), 1024)
		write := func(w, k int) error {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := js.Publish(pctx, fmt.Sprintf("failover.%d", w), data, jetstream.WithMsgID(fmt.Sprintf("fo-%d-%d", w, k)))
			return err
		}
		measureFailovers(b, cluster, js, natsBin, "FAILOVER", 4, write)
	})
}

// measureFailovers runs writers (write(w, k) sends writer w's k-th write once, nil when it was
// acknowledged) and kills the stream's leader node failoverKills times or b.N times.
func measureFailovers(b *testing.B, c *natsCluster, js jetstream.JetStream, natsBin, stream string, writers int, write func(w, k int) error) {
	type ack struct{ sent, at time.Time }
	var (
		mu   sync.Mutex
		acks []ack
		stop atomic.Bool
		wg   sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for k := 0; !stop.Load(); k++ {
				for attempt := 1; !stop.Load(); attempt++ {
					sent := time.Now()
					if err := write(w, k); err == nil {
						mu.Lock()
						acks = append(acks, ack{sent, time.Now()})
						mu.Unlock()
						break
					}
					time.Sleep(time.Duration(min(attempt, 10)) * 20 * time.Millisecond) // a client's backoff
				}
			}
		})
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	// acked counts the acknowledgements of writes sent after t.
	acked := func(t time.Time) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, a := range acks {
			if a.sent.After(t) {
				n++
			}
		}
		return n
	}
	var failovers, elections []time.Duration
	b.ResetTimer()
	for range max(b.N, failoverKills) {
		mark := time.Now()
		storetest.CheckFor(b, 60*time.Second, 10*time.Millisecond, func() error {
			if n := acked(mark); n < 50 {
				return fmt.Errorf("%d of 50 writes acknowledged", n)
			}
			return nil
		})
		info, err := streamInfo(js, stream)
		if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
			b.Fatalf("stream %s before the kill: %v", stream, err)
		}
		node := c.node(info.Cluster.Leader)
		kill := time.Now()
		node.kill(b)
		_, elected := waitLeader(b, js, stream, node.name)
		storetest.CheckFor(b, 90*time.Second, 10*time.Millisecond, func() error {
			if n := acked(kill); n < 50 {
				return fmt.Errorf("%d of 50 writes sent after the kill acknowledged", n)
			}
			return nil
		})
		var last, first time.Time
		mu.Lock()
		for _, a := range acks {
			if a.at.Before(kill) && a.at.After(last) {
				last = a.at
			}
			if a.sent.After(kill) && (first.IsZero() || a.at.Before(first)) {
				first = a.at
			}
		}
		mu.Unlock()
		failovers = append(failovers, first.Sub(last))
		elections = append(elections, elected.Sub(kill))
		b.Logf("kill of %s: failover %v, election %v after the kill", node.name, first.Sub(last).Round(time.Millisecond), elected.Sub(kill).Round(time.Millisecond))
		b.StopTimer()
		node.restart(b, natsBin)
		waitCurrent(b, js, stream)
		b.StartTimer()
	}
	b.ReportMetric(float64(median(failovers).Milliseconds()), "ms/failover")
	b.ReportMetric(float64(median(elections).Milliseconds()), "ms/election")
	b.ReportMetric(0, "ns/op")
}

// waitCurrent waits until every replica of the stream is current with its leader.
func waitCurrent(tb testing.TB, js jetstream.JetStream, stream string) {
	tb.Helper()
	storetest.CheckFor(tb, 90*time.Second, 50*time.Millisecond, func() error {
		info, err := streamInfo(js, stream)
		if err != nil {
			return err
		}
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return errors.New("no leader")
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current || r.Offline {
				return fmt.Errorf("replica %s not current (lag %d)", r.Name, r.Lag)
			}
		}
		return nil
	})
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// BenchmarkHAAppends: durable appends per second (sync_interval: always, acknowledged one by
// one) to 1, 2 and 3 streams whose leaders sit on different nodes. ledger: city ledgers
// (serve --ledger's stores, R3, each city's leadership handed to another node), 16 writers a
// city each recording payments of its own employer, every append a command's event through the
// store's group commit. R1 and R3: raw JetStream's best durable use of the same load, 16 writers
// a stream each appending a ledger's payment message (its bytes and chain hash) through
// client-side group commit into atomic batches (storetest.GroupCommitter), to R1 streams placed
// by the nodes' tags and to R3 streams led from a chosen node. All three nodes share this
// machine's disk and CPUs, so the scaling is indicative only.
func BenchmarkHAAppends(b *testing.B) {
	_, cluster, nc, js := benchCluster(b, b.TempDir())
	// One connection per node, so that a stream's writers talk to its leader's node as a city's
	// replicas beside it would.
	conns := map[string]jetstream.JetStream{}
	for _, n := range cluster.nodes {
		c, err := nats.Connect(fmt.Sprintf("nats://%s:%s@%s", clusterUser, clusterPassword, n.client), quiet)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if conns[n.name], err = jetstream.New(c); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	cityCodes := []string{"360300", "360500", "360700"}
	_, pay := storetest.LedgerPayments(b, 1)
	payment := pay[0]
	for cities := 1; cities <= 3; cities++ {
		b.Run(fmt.Sprintf("ledger/cities=%d", cities), func(b *testing.B) {
			type writer struct {
				store    *eventstore.Store
				employer string
			}
			var writers []writer
			for i, code := range cityCodes[:cities] {
				node := cluster.nodes[i]
				c, err := nats.Connect(fmt.Sprintf("nats://%s:%s@%s", clusterUser, clusterPassword, node.client), quiet)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				st, err := eventstore.Open(ctx, c, eventstore.Config{Ledger: code, Replicas: 3})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				stepDown(b, nc, js, st.Stream(), node.name)
				county := st.Reference().Counties[0].Code
				for range 16 {
					w := registered.Add(1)
					res, err := st.Execute(ctx, eventstore.Request{Create: true, Today: demoToday, Actor: "bench", Command: &domain.RegisterEmployer{
						Name: fmt.Sprintf("写入单位%d", w), County: county, OrgCode: domain.NumberedOrgCode(7600 + int(w)), Kind: "enterprise",
						RiskClass: "1", RegisteredOn: "2006-04-03"}})
					if err != nil {
						b.Fatal(err)
					}
					writers = append(writers, writer{st, res.EmployerID})
				}
			}
			var appends []func(k int64) error
			for _, w := range writers {
				appends = append(appends, func(k int64) error {
					_, err := w.store.Execute(ctx, eventstore.Request{EmployerID: w.employer, Today: demoToday, Actor: "bench",
						Command: &domain.RecordPayment{PaidOn: "2006-06-10", AmountFen: domain.Number("100"), ReceiptNo: fmt.Sprintf("B%d", k)}})
					return err
				})
			}
			appendAll(b, appends)
		})
	}
	for _, replicas := range []int{1, 3} {
		for streams := 1; streams <= 3; streams++ {
			b.Run(fmt.Sprintf("R%d/streams=%d", replicas, streams), func(b *testing.B) {
				var names []string
				for i := range streams {
					node := cluster.nodes[i].name
					name := fmt.Sprintf("APPEND_R%d_%d_%s", replicas, streams, node)
					cfg := jetstream.StreamConfig{Name: name, Subjects: []string{"append." + name + ".>"}, Storage: jetstream.FileStorage, Replicas: replicas,
						AllowAtomicPublish: true}
					if replicas == 1 {
						cfg.Placement = &jetstream.Placement{Tags: []string{"node:" + node}}
					}
					if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
						b.Fatal(err)
					}
					if replicas > 1 {
						stepDown(b, nc, js, name, node)
					}
					info, err := streamInfo(js, name)
					if err != nil || info.Cluster == nil || info.Cluster.Leader != node {
						b.Fatalf("%s: leader %+v (%v), want %s", name, info.Cluster, err, node)
					}
					names = append(names, name)
				}
				const perStream = 16
				var appends []func(k int64) error
				run := time.Now().UnixNano() // subjects new to the publishers of this run
				for i, name := range names {
					g := storetest.NewGroupCommitter(b, storetest.NewRawPublisher(conns[cluster.nodes[i].name].Conn()), 1000)
					for w := range perStream {
						m := payment
						m.Subject = fmt.Sprintf("append.%s.%d.%d", name, run, w)
						appends = append(appends, func(int64) error { return g.Publish(m) })
					}
				}
				appendAll(b, appends)
			})
		}
	}
}

var demoToday = domain.MustDate("2006-12-31")

// registered numbers the employers the ledger appends benchmark registers, across its runs.
var registered atomic.Int64

// appendAll runs the appends, each on its own goroutine and over and over, until b.N appends
// were made between them, and reports appends per second; a failed append fails the run.
func appendAll(b *testing.B, appends []func(k int64) error) {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for _, f := range appends {
		wg.Go(func() {
			for k := next.Add(1); k <= int64(b.N); k = next.Add(1) {
				if err := f(k); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Errorf("%d of %d appends failed", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
}

// benchCluster builds nats-server into dir and starts a three-node cluster of it, with a
// connection (closed when the benchmark ends) and its JetStream.
func benchCluster(b *testing.B, dir string) (natsBin string, cluster *natsCluster, nc *nats.Conn, js jetstream.JetStream) {
	b.Helper()
	natsBin = buildNATSServer(b, dir)
	cluster = startNATSCluster(b, natsBin)
	nc = cluster.connect(b)
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	return natsBin, cluster, nc, js
}
