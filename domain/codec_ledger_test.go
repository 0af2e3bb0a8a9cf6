package domain_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/cmd/kuozheng/demo"
	"github.com/kuozheng/kuozheng/domain"
)

// demoLedger returns the stored bytes of a demo ledger of the given payers, in stream order: the
// default reference data, then every step of the demo generator decided against its employer's
// state and encoded as the store encodes it (a UUIDv7 id, the county, the business date, the
// actor, an idempotency key and body hash per step, the employer's count, previous sequence and
// previous hash).
func demoLedger(tb testing.TB, payers int) [][]byte {
	tb.Helper()
	var out [][]byte
	var seq uint64
	encode := func(env domain.Envelope, p domain.Payload) []byte {
		id, err := uuid.NewV7()
		if err != nil {
			tb.Fatal(err)
		}
		env.ID = id.String()
		data, err := domain.Encode(env, p)
		if err != nil {
			tb.Fatal(err)
		}
		seq++
		out = append(out, data)
		return data
	}
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
		encode(domain.Envelope{OccurredOn: demo.Today, Actor: "system"}, p)
	}
	states := map[string]*domain.Employer{}
	events := map[string][]domain.Event{}
	for i, st := range demo.Generate(demo.Config{Employers: payers, Seed: 2006}) {
		e := states[st.EmployerID]
		if e == nil {
			e = &domain.Employer{}
			states[st.EmployerID] = e
		}
		ctx := domain.Context{Ref: ref, Today: demo.Today, Actor: "demo", Events: events[st.EmployerID]}
		if err := st.Command.Check(ctx); err != nil {
			tb.Fatalf("step %d: %v", i, err)
		}
		payloads, err := st.Command.Decide(e, ctx)
		if err != nil {
			tb.Fatalf("step %d: %v", i, err)
		}
		prevSeq := e.Version
		for j, p := range payloads {
			county := e.County
			switch r := p.(type) {
			case domain.EmployerRegistered:
				county = r.County
			case domain.EmployerFound:
				county = r.County
			}
			env := domain.Envelope{EmployerID: st.EmployerID, County: county, OccurredOn: st.Command.Date(), Actor: "demo",
				IdemKey: fmt.Sprintf("demo-%d", i), BodyHash: fmt.Sprint(i), N: e.N + 1, PrevHash: e.Head}
			if j == 0 {
				env.PrevSeq = prevSeq
			}
			data := encode(env, p)
			env.Seq, env.Hash = seq, domain.ChainHash(e.Head, data)
			ev := domain.Event{Envelope: env, Body: p}
			e.Apply(ev)
			events[st.EmployerID] = append(events[st.EmployerID], ev)
		}
	}
	return out
}

// TestADemoLedgerDecodesAsTheFallbackDecodesIt decodes every event of a demo ledger with Decode and
// with the fallback, and requires the same events; and requires the generated decoder to have
// read them all, as it reads whatever Encode writes of the demo's values.
func TestADemoLedgerDecodesAsTheFallbackDecodesIt(t *testing.T) {
	types := map[string]int{}
	for i, data := range demoLedger(t, 300) {
		got, err := domain.Decode(data)
		if err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, data)
		}
		want, err := domain.DecodeFallback(data)
		if err != nil {
			t.Fatalf("event %d: the fallback: %v\n%s", i, err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d:\n%s\nDecode reads\n%#v\nthe fallback\n%#v", i, data, got, want)
		}
		if !domain.DecodeGenerated(data, new(domain.Event)) {
			t.Fatalf("event %d was left to the fallback:\n%s", i, data)
		}
		types[got.Type]++
	}
	if len(types) < 15 {
		t.Fatalf("the demo ledger has only %d event types: %v", len(types), types)
	}
	t.Logf("event types decoded: %v", types)
}

// BenchmarkDecodeDemoLedger decodes every event of a demo ledger of 500 payers (about 12,000
// events: reference data, registrations, surveys, enrollments, declarations, payments,
// assessments, audits, enforcement) with Decode and with the fallback alone, and reports events
// decoded per second.
func BenchmarkDecodeDemoLedger(b *testing.B) {
	ledger := demoLedger(b, 500)
	size := 0
	for _, data := range ledger {
		size += len(data)
	}
	for _, dec := range []struct {
		name   string
		decode func([]byte) (domain.Event, error)
	}{{"Decode", domain.Decode}, {"fallback", domain.DecodeFallback}} {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, data := range ledger {
					if _, err := dec.decode(data); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*len(ledger))/b.Elapsed().Seconds(), "events/s")
		})
	}
}
