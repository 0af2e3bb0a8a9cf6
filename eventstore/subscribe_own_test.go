package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

func TestASubscriptionThroughTheStoresOwnConnectionDeliversWhatTheClientDelivers(t *testing.T) {
	l, _, _ := replayLedger(t)
	w := &warnings{}
	l.Config.Log = slog.New(w)
	l.FollowThroughClient = true
	l.Restart(t)
	last := l.MessageCount(t)
	whole, middle := subscribed(t, l.Store, 1, last), subscribed(t, l.Store, 700, last)
	l.FollowThroughClient = false
	l.Restart(t)
	if got := subscribed(t, l.Store, 1, last); !reflect.DeepEqual(got, whole) {
		t.Fatalf("through the store's own connection %d events from 1, through the client %d:\n%q\nwant\n%q", len(got), len(whole), got[:min(3, len(got))], whole[:3])
	}
	if got := subscribed(t, l.Store, 700, last); !reflect.DeepEqual(got, middle) {
		t.Fatalf("through the store's own connection %d events from 700, through the client %d", len(got), len(middle))
	}
	if len(whole) != int(last) || len(middle) != int(last)-699 {
		t.Fatalf("%d events from 1 and %d from 700 of %d", len(whole), len(middle), last)
	}
	// Caught up, it waits for new events and delivers them as they come.
	live := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		next, enough := last+1, errors.New("enough")
		err := l.Store.Subscribe(ctx, next, func(ev domain.Event) error {
			if ev.Seq != next || ev.Body == nil {
				return fmt.Errorf("delivered %d (%s), want the new event %d", ev.Seq, ev.Type, next)
			}
			if next++; next > last+3 {
				return enough
			}
			return nil
		})
		if errors.Is(err, enough) {
			err = nil
		}
		live <- err
	}()
	id := l.Store.EmployerIDs()[0]
	for k := range 3 {
		mustExecute(t, l.Store, payment(id, fmt.Sprintf("live %d", k), 200))
	}
	if err := <-live; err != nil {
		t.Fatalf("after the replay the subscription: %v", err)
	}
	if fell := w.about("a subscription's own connection failed"); len(fell) > 0 {
		t.Fatalf("the subscriptions went through the client: %q", fell)
	}
}

func TestASubscriptionWhoseOwnConnectionFailsGoesOnThroughTheClient(t *testing.T) {
	l, _, _ := replayLedger(t)
	l.FollowThroughClient = true
	l.Restart(t)
	l.FollowThroughClient = false
	size := float64(streamBytes(t, l))
	id := l.Store.EmployerIDs()[0]
	for _, tc := range connectionBreaks {
		t.Run(tc.name, func(t *testing.T) {
			w := &warnings{}
			l.Config.Log = slog.New(w)
			var subscribing, broke atomic.Bool
			var cur atomic.Pointer[breakingConn]
			l.Config.DialFollow = func() (net.Conn, eventstore.Credentials, error) {
				conn, cred, err := l.Embedded.DialFollow()
				if err != nil || !subscribing.Load() { // the store's follower reads on
					return conn, cred, err
				}
				if tc.after < 0 {
					conn.Close()
					broke.Store(true)
					return nil, cred, errors.New("no connection, by the test")
				}
				c := &breakingConn{Conn: conn, broke: &broke}
				c.left.Store(math.MaxInt64)
				if tc.after > 0 {
					c.left.Store(int64(math.Max(1, tc.after*size)))
				}
				cur.Store(c)
				return c, cred, nil
			}
			l.Restart(t)
			last := l.MessageCount(t)
			want := subscribed(t, l.Store, 1, last) // through an own connection left whole
			subscribing.Store(true)
			// Once the replay is read (and the connection cut, in the last case), three events
			// are appended: the subscription delivers them too.
			appended := make(chan error, 1)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var got []string
			enough := errors.New("enough")
			err := l.Store.Subscribe(ctx, 1, func(ev domain.Event) error {
				got = append(got, eventText(t, ev))
				if ev.Seq == last {
					if c := cur.Load(); tc.after == 0 && c != nil {
						c.cut()
					}
					go func() {
						for k := range 3 {
							if _, err := l.Store.Execute(ctx, payment(id, fmt.Sprintf("%s %d", tc.name, k), 300)); err != nil {
								appended <- err
								return
							}
						}
						appended <- nil
					}()
				}
				if ev.Seq >= last+3 {
					return enough
				}
				return nil
			})
			if !errors.Is(err, enough) {
				t.Fatalf("subscribe: %v after %d events", err, len(got))
			}
			if err := <-appended; err != nil {
				t.Fatal(err)
			}
			if !broke.Load() {
				t.Fatal("the subscription's connection never broke: the test does not test the fallback")
			}
			if len(got) != len(want)+3 || !reflect.DeepEqual(got[:len(want)], want) {
				t.Fatalf("with its own connection broken, the subscription delivered %d events, want the %d a subscription through the client delivers and the 3 appended", len(got), len(want))
			}
			if len(w.about("a subscription's own connection failed")) != 1 {
				t.Fatalf("warnings %q, want one of the subscription going on through the client", w.about(""))
			}
		})
	}
}

// BenchmarkSubscribe replays 100,000 realistic events to a handler that only counts them,
// through the store's own connection and through the client's ordered consumer.
func BenchmarkSubscribe(b *testing.B) {
	l := storetest.Start(b, eventstore.Config{})
	for _, r := range l.Store.ExecuteBulk(context.Background(), realisticRequests(1, benchEmployers)) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	last := l.MessageCount(b)
	for _, tc := range []struct {
		name string
		dial eventstore.DialFollow
	}{{"own-connection", l.Embedded.DialFollow}, {"client", nil}} {
		b.Run(tc.name, func(b *testing.B) {
			st, err := eventstore.Open(context.Background(), l.Embedded.Conn, eventstore.Config{DialFollow: tc.dial})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var events int
			var elapsed time.Duration
			for b.Loop() {
				start := time.Now()
				enough := errors.New("enough")
				err := st.Subscribe(context.Background(), 1, func(ev domain.Event) error {
					if events++; ev.Seq >= last {
						return enough
					}
					return nil
				})
				if !errors.Is(err, enough) {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
		})
	}
}

func TestASubscriptionStoppedByItsHandlerInTheReplayEndsAndDeletesItsConsumer(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	var ids []string
	for i := range 40 {
		ids = append(ids, mustExecute(t, l.Store, register(orgCode(5100+i), "360702")).EmployerID)
	}
	// Many more pulls than the subscription reads ahead of its handler: it is stopped while it
	// still reads the replay.
	var reqs []eventstore.Request
	for k := range 20000 {
		reqs = append(reqs, payment(ids[k%len(ids)], fmt.Sprintf("S%d", k), int64(100+k)))
	}
	for i, r := range l.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			t.Fatalf("payment %d: %v", i, r.Err)
		}
	}
	ctx := context.Background()
	consumers := consumerCount(t, l)
	before := consumers()
	for _, stopAt := range []uint64{1, 2500} {
		stop := errors.New("stop")
		var seen uint64
		err := l.Store.Subscribe(ctx, 1, func(ev domain.Event) error {
			if seen++; ev.Seq != seen {
				return fmt.Errorf("delivered %d after %d", ev.Seq, seen-1)
			}
			if ev.Seq == stopAt {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || seen != stopAt {
			t.Fatalf("stopped at %d: Subscribe returned %v after %d events, want the handler's error after %d", stopAt, err, seen, stopAt)
		}
		deadline := time.Now().Add(30 * time.Second)
		for consumers() != before {
			if time.Now().After(deadline) {
				t.Fatalf("stopped at %d: the stream has %d consumers, %d before the subscription", stopAt, consumers(), before)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Replays share the slices their pulls are read and decoded into, each given back once its
// events are handed on: replays at once must each still get every event once, whole, in order.
func TestReplaysAtOnceEachDeliverEveryEventOnceInOrderAcrossManyPulls(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	var ids []string
	for i := range 20 {
		ids = append(ids, mustExecute(t, l.Store, register(orgCode(5000+i), "360702")).EmployerID)
	}
	const payments = 5000 // several pulls' worth
	var reqs []eventstore.Request
	for k := range payments {
		reqs = append(reqs, payment(ids[k%len(ids)], fmt.Sprintf("R%d", k), int64(100+k)))
	}
	for i, r := range l.Store.ExecuteBulk(context.Background(), reqs) {
		if r.Err != nil {
			t.Fatalf("payment %d: %v", i, r.Err)
		}
	}
	last := l.MessageCount(t)
	// paid is a payment as a replay delivered it.
	type paid struct {
		seq      uint64
		employer string
		receipt  string
		fen      domain.Fen
	}
	const replays = 3
	got := make([][]paid, replays)
	errs := make(chan error, replays)
	for r := range replays {
		go func() {
			errs <- func() error {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				next, enough := uint64(1), errors.New("enough")
				err := l.Store.Subscribe(ctx, 1, func(ev domain.Event) error {
					if ev.Seq != next || ev.Body == nil {
						return fmt.Errorf("replay %d delivered %d (%s), want %d", r, ev.Seq, ev.Type, next)
					}
					next++
					if p, ok := ev.Body.(domain.PaymentReceived); ok {
						got[r] = append(got[r], paid{ev.Seq, ev.EmployerID, p.ReceiptNo, p.AmountFen})
					}
					if ev.Seq >= last {
						return enough
					}
					return nil
				})
				if errors.Is(err, enough) {
					return nil
				}
				return err
			}()
		}()
	}
	for range replays {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, p := range got[0] {
		k, err := strconv.Atoi(strings.TrimPrefix(p.receipt, "R"))
		if err != nil || seen[p.receipt] || p.employer != ids[k%len(ids)] || p.fen != domain.Fen(100+k) {
			t.Fatalf("payment %+v: delivered twice or not as recorded", p)
		}
		seen[p.receipt] = true
	}
	if len(seen) != payments {
		t.Fatalf("%d payments delivered, want %d", len(seen), payments)
	}
	for r := 1; r < replays; r++ {
		if !reflect.DeepEqual(got[r], got[0]) {
			t.Fatalf("replay %d delivered %d payments unlike replay 0's %d", r, len(got[r]), len(got[0]))
		}
	}
}
