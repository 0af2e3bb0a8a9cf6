package domain

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"reflect"
	"testing"
	"unsafe"
)

func TestEventsDecodeTheSameAfterTheirKeysAreReorderedAndSpaced(t *testing.T) {
	env := Envelope{ID: "0b6c2a36-8f6e-4a57-b3f4-0d5b3b1a9c11", EmployerID: "e", County: "360702", OccurredOn: MustDate("2006-06-12"), Actor: "clerk:a", N: 3}
	data, err := Encode(env, PaymentReceived{PaidOn: MustDate("2006-06-12"), AmountFen: 1555200, ReceiptNo: "R1"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	// As PostgreSQL's jsonb prints it: keys reordered, a space after each colon.
	spaced := bytes.ReplaceAll(must(json.Marshal(m)), []byte(`":`), []byte(`": `))
	for name, in := range map[string][]byte{"spaced": spaced, "indented": must(json.MarshalIndent(m, "", "  "))} {
		got, err := Decode(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Type != want.Type || got.N != want.N || !reflect.DeepEqual(got.Body, want.Body) {
			t.Fatalf("%s: decoded %+v, want %+v", name, got, want)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestInsurancesSurviveASnapshotAndShareTheirNames(t *testing.T) {
	type holder struct{ Lines []DeclaredLine }
	in := holder{Lines: []DeclaredLine{{Insurance: Pension, Headcount: 1}, {Insurance: Maternity}, {Insurance: ""}, {Insurance: "pension "}}}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(in); err != nil {
		t.Fatal(err)
	}
	var out holder
	if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	if unsafe.StringData(string(out.Lines[0].Insurance)) != unsafe.StringData(string(Pension)) {
		t.Fatal("a decoded pension is a string of its own, not the name every other pension shares")
	}
	var i Insurance
	if err := i.GobDecode([]byte{9}); err == nil {
		t.Fatal("an unknown encoding decoded without error")
	}
}

func TestAnAccountSnapshotWithLinesThisBuildNeverWritesIsRefused(t *testing.T) {
	for name, snap := range map[string]accountSnap{
		"an insurance past the five":         {Carry: &carrySnap{Lines: []carriedLine{{Rank: 5}}}},
		"reductions the carry does not have": {Carry: &carrySnap{Lines: []carriedLine{{Reductions: 2}}, Reductions: []reductionSnap{{}}}},
	} {
		var a Account
		if err := a.restore(snap); err == nil {
			t.Errorf("%s: restored without error", name)
		}
	}
}

func TestAFoldedEventsInsurancesShareTheirNames(t *testing.T) {
	env := Envelope{ID: "0b6c2a36-8f6e-4a57-b3f4-0d5b3b1a9c12", EmployerID: "e", County: "360702", OccurredOn: MustDate("2006-05-05"), Actor: "clerk:a", N: 1}
	data, err := Encode(env, DeclarationFiled{DeclaredOn: MustDate("2006-05-05"), Period: MustPeriod("2006-04"), DueOn: MustDate("2006-05-15"),
		Lines: []DeclaredLine{{Insurance: Pension, Headcount: 3, WageBaseFen: 300000, DueFen: 60000}}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var e Employer
	e.Apply(ev)
	shared := func(i Insurance) bool { return unsafe.StringData(string(i)) == unsafe.StringData(string(Pension)) }
	if !shared(e.Account.entries[0].lines[0].key.Insurance) || !shared(e.History.Declarations[0].Lines[0].Insurance) {
		t.Fatal("the folded state holds the insurance decoded from the event, a string of its own")
	}
}
