package domain_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// TestTheFastDecoderReadsEveryEventAsTheStandardLibraryDoes decodes every event the demo
// generator makes (every kind it makes, a few hundred payers' worth) with Decode's one-pass
// fast path and with the standard library: the two must agree on every field.
func TestTheFastDecoderReadsEveryEventAsTheStandardLibraryDoes(t *testing.T) {
	events, order := demoEvents(t, 200)
	for i, p := range append(domain.DefaultReferenceEvents(),
		domain.CountyRedefined{Code: "360703", Name: "南康区", NameEN: "Nankang District", Predecessor: "360782", EffectiveFrom: domain.MustDate("2013-01-01"), Group: 3},
		domain.FreezeMade{ID: "f1", ThroughSeq: 99, ValidThrough: domain.MustDate("2006-12-31"), ChainHead: "ab", CodeVersion: "views-8", Digest: "cd",
			CreatedAt: "2007-01-05T08:00:00Z", Figures: []byte(`{"city":{"employers":3}}`)},
		domain.YearClosed{Year: 2006, FreezeID: "f1", Digest: "cd"},
		domain.YearReopened{Year: 2006, Reason: "补录"},
	) {
		events[""] = append(events[""], domain.Event{Envelope: domain.Envelope{Seq: uint64(i + 1), OccurredOn: domain.MustDate("2006-01-01")}, Body: p})
	}
	order = append(order, "")
	kinds := map[string]int{}
	for _, id := range order {
		for _, ev := range events[id] {
			ev.ID, ev.County, ev.Actor, ev.IdemKey, ev.BodyHash = "0b6c2a36-8f6e-4a57-b3f4-0d5b3b1a9c12", "360702", "clerk:甲", "导入-1", "ab12"
			ev.CorrelationID, ev.CausationID, ev.PrevSeq, ev.PrevHash, ev.Seq = "req-1", "cause-1", ev.Seq-1, "cd34", 0
			data, err := domain.Encode(ev.Envelope, ev.Body)
			if err != nil {
				t.Fatal(err)
			}
			buf := slices.Clone(data)
			fast, err := domain.Decode(buf)
			if err != nil {
				t.Fatal(err)
			}
			clear(buf) // what was decoded must not share the bytes it was decoded from

			std, err := domain.DecodeStandard(data)
			if err != nil {
				t.Fatal(err)
			}
			std.Payload = nil // the raw payload is the standard path's first pass; the fast path has none
			if !reflect.DeepEqual(fast, std) {
				t.Fatalf("%s decodes differently:\n fast     %+v\n standard %+v", data, fast, std)
			}
			if !reflect.DeepEqual(fast.Body, ev.Body) {
				t.Fatalf("%s decodes to %+v, was %+v", data, fast.Body, ev.Body)
			}
			kinds[fast.Type]++
		}
	}
	if len(kinds) < 27 {
		t.Fatalf("only %d kinds of event exercised: %v", len(kinds), kinds)
	}
	t.Logf("%d kinds: %v", len(kinds), kinds)
}

// BenchmarkDecode decodes a stored declaration of five lines (782 bytes) as a start, a history
// and a replay do: the one-pass path Decode takes, beside the standard library's two passes.
func BenchmarkDecode(b *testing.B) {
	env := domain.Envelope{ID: "0b6c2a36-8f6e-4a57-b3f4-0d5b3b1a9c12", EmployerID: "4492481b-0e45-5670-8934-2c4f4e6adb01", County: "360702",
		OccurredOn: domain.MustDate("2006-05-05"), Actor: "clerk:a", N: 17}
	var lines []domain.DeclaredLine
	for _, ins := range domain.Insurances {
		lines = append(lines, domain.DeclaredLine{Insurance: ins, Headcount: 13, WageBaseFen: 1234500, RateBP: 2000, DueFen: 246900})
	}
	data, err := domain.Encode(env, domain.DeclarationFiled{DeclaredOn: domain.MustDate("2006-05-05"), Period: domain.MustPeriod("2006-04"),
		DueOn: domain.MustDate("2006-05-15"), Lines: lines})
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range []struct {
		name   string
		decode func([]byte) (domain.Event, error)
	}{{"one-pass", domain.Decode}, {"standard", domain.DecodeStandard}} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
