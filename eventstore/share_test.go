package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// A reader sharing a start's replay gets exactly what Subscribe delivers from its sequence to the
// replay's end, and the store keeps nothing of what it hands over: a reader that changes the
// payloads it was given leaves the store's state (folded employers, idempotency keys, histories)
// as a store that replayed alone has it.
func TestAReaderSharingTheReplayGetsWhatSubscribeDeliversAndChangesNothingOfTheStore(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ids []string
	for i := range 12 {
		id := mustExecute(t, l.Store, register(orgCode(300+i), "360702")).EmployerID
		ids = append(ids, id)
		for m := 5; m <= 7; m++ {
			period := fmt.Sprintf("2006-%02d", m)
			req := eventstore.Request{EmployerID: id, Today: today, Actor: "test", IdempotencyKey: "d-" + id + period, BodyHash: "h",
				Command: &domain.FileDeclaration{DeclaredOn: fmt.Sprintf("2006-%02d-05", m+1), Period: period,
					Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "36", WageBaseFen: "4320000"}, {Insurance: "medical", Headcount: "36", WageBaseFen: "4320000"}}}}
			mustExecute(t, l.Store, req)
			mustExecute(t, l.Store, payment(id, fmt.Sprint("R", i, m), 50000))
		}
	}
	last := l.MessageCount(t)
	want := subscribed(t, l.Store, 1, last)
	alone := states(t, l.Store, ids)

	l.Store.Close()
	st, err := eventstore.Start(ctx, l.Embedded.Conn, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l.Store = st // closed when the test ends
	const from = 7
	events, ok := st.ShareReplay(from)
	if !ok {
		t.Fatal("a replay that has not reached its first event is not shared")
	}
	if _, again := st.ShareReplay(from); again {
		t.Error("a replay shared twice")
	}
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch := range events {
			for _, ev := range batch.Events() {
				got = append(got, eventText(t, ev))
				scribble(reflect.ValueOf(ev.Body)) // a reader may change what it was given
			}
		}
	}()
	if err := st.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the share was not closed at the replay's end")
	}
	if !reflect.DeepEqual(got, want[from-1:]) {
		t.Errorf("shared %d events, Subscribe delivers %d from %d; first difference:\n%s", len(got), len(want[from-1:]), from, firstDifference(got, want[from-1:]))
	}
	if _, late := st.ShareReplay(last); late {
		t.Error("a replay that is over was shared")
	}
	if shared := states(t, st, ids); !reflect.DeepEqual(shared, alone) {
		t.Errorf("the store's state after a shared replay differs from one replayed alone:\n%s", firstDifference(shared, alone))
	}
	// The keys folded during the shared replay still answer, and a new command decides on the
	// state the events make.
	again := eventstore.Request{EmployerID: ids[3], Today: today, Actor: "test", IdempotencyKey: "d-" + ids[3] + "2006-06", BodyHash: "h",
		Command: &domain.FileDeclaration{DeclaredOn: "2006-07-05", Period: "2006-06",
			Lines: []domain.DeclareLine{{Insurance: "pension", Headcount: "36", WageBaseFen: "4320000"}, {Insurance: "medical", Headcount: "36", WageBaseFen: "4320000"}}}}
	if res := mustExecute(t, st, again); res.Seq > last {
		t.Errorf("a recorded key appended again at %d", res.Seq)
	}
	if res := mustExecute(t, st, payment(ids[3], "R-after", 100)); res.Seq != last+1 {
		t.Errorf("a payment after the shared replay at %d, want %d", res.Seq, last+1)
	}
}

// A store that has replayed already, or whose stream is empty, shares nothing.
func TestAReplayIsSharedOnlyBeforeItReachesTheReadersFirstEvent(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{})
	if _, ok := l.Store.ShareReplay(1); ok {
		t.Error("an opened store shared its replay")
	}
	mustExecute(t, l.Store, register(orgCode(401), "360702"))
	last := l.MessageCount(t)
	l.Store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := eventstore.Start(ctx, l.Embedded.Conn, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l.Store = st
	if _, ok := st.ShareReplay(last + 1); ok {
		t.Error("a reader already past the replay's end was given a share")
	}
	if _, ok := st.ShareReplay(0); ok {
		t.Error("sequence 0 was shared")
	}
	if err := st.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.ShareReplay(1); ok {
		t.Error("a replay that is over was shared")
	}

	// A store closed before it replayed closes its share too: the reader is not left waiting.
	st.Close()
	st, err = eventstore.Start(ctx, l.Embedded.Conn, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l.Store = st
	events, ok := st.ShareReplay(1)
	if !ok {
		t.Fatal("a replay not begun was not shared")
	}
	st.Close()
	select {
	case _, open := <-events:
		if open {
			t.Error("a store closed before its replay handed over an event")
		}
	case <-ctx.Done():
		t.Fatal("the share of a store closed before its replay was left open")
	}
}

// subscribed is what Subscribe delivers from from through last, as eventText.
func subscribed(t *testing.T, st *eventstore.Store, from, last uint64) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []string
	enough := errors.New("enough")
	err := st.Subscribe(ctx, from, func(ev domain.Event) error {
		out = append(out, eventText(t, ev))
		if ev.Seq >= last {
			return enough
		}
		return nil
	})
	if !errors.Is(err, enough) {
		t.Fatalf("subscribe: %v", err)
	}
	return out
}

// eventText is an event whole, as text, to compare.
func eventText(t *testing.T, ev domain.Event) string {
	t.Helper()
	b, err := json.Marshal(ev.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %s %s %+v %s", ev.Seq, ev.EmployerID, ev.Hash, ev.Envelope, b)
}

// states are the employers' folded states and histories in the store, as text.
func states(t *testing.T, st *eventstore.Store, ids []string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, id := range ids {
		e, err := st.EmployerContext(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		h, err := st.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var hist []string
		for _, r := range h {
			hist = append(hist, fmt.Sprint(r.ChainOK, " ", eventText(t, r.Event)))
		}
		out = append(out, string(b), fmt.Sprint(hist))
	}
	return out
}

// scribble overwrites every number and string reachable through the slices and maps of v.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			scribble(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scribble(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			scribble(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			v.SetMapIndex(k, reflect.Zero(v.Type().Elem()))
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString("scribbled")
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if v.CanSet() {
			v.SetInt(-7)
		}
	}
}

// firstDifference says where two lists of texts first differ.
func firstDifference(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d:\n got  %s\n want %s", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}
