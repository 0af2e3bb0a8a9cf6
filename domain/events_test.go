package domain

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
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

// Stored events are read by a faster decoder than encoding/json. It must read every event type,
// with every field set, exactly as the standard library does, and keep no byte of its input: the
// folded state outlives the message it was decoded from.
func TestEveryEventDecodesAsTheStandardLibraryReadsItAndKeepsNoByteOfItsInput(t *testing.T) {
	for _, typ := range EventTypes() {
		reg := registry[typ]
		zero, err := reg.decode(reg.schema, json.RawMessage(`{}`))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		body := reflect.New(reflect.TypeOf(zero)).Elem()
		n := 0
		fillForTest(body, &n)
		env := Envelope{ID: "0b6c2a36-8f6e-4a57-b3f4-0d5b3b1a9c13", EmployerID: "e-1", County: "360702", OccurredOn: MustDate("2006-05-05"),
			Actor: "clerk:a", IdemKey: "k-1", BodyHash: "bh", CorrelationID: "c", CausationID: "d", N: 9, PrevSeq: 4, PrevHash: "ph"}
		data, err := Encode(env, body.Interface().(Payload))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		got, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var wantEnv Envelope
		if err := json.Unmarshal(data, &wantEnv); err != nil {
			t.Fatal(err)
		}
		wantBody := reflect.New(body.Type())
		if err := json.Unmarshal(wantEnv.Payload, wantBody.Interface()); err != nil {
			t.Fatal(err)
		}
		got.Payload, wantEnv.Payload = nil, nil
		if !reflect.DeepEqual(got.Envelope, wantEnv) || !reflect.DeepEqual(got.Body, wantBody.Elem().Interface()) {
			t.Fatalf("%s: decoded\n%+v %+v\nencoding/json reads\n%+v %+v", typ, got.Envelope, got.Body, wantEnv, wantBody.Elem().Interface())
		}
		for i := range data {
			data[i] = 'X'
		}
		if !reflect.DeepEqual(got.Body, wantBody.Elem().Interface()) || got.ID != env.ID {
			t.Fatalf("%s: the decoded event changed with the bytes it was decoded from", typ)
		}
	}
}

// fillForTest sets every field of v to a value that is not its zero and that JSON carries.
func fillForTest(v reflect.Value, n *int) {
	*n++
	switch v.Interface().(type) {
	case Date:
		v.Set(reflect.ValueOf(MustDate("2006-05-05") + Date(*n)))
		return
	case Period:
		v.Set(reflect.ValueOf(MustPeriod("2006-04")))
		return
	case Insurance:
		v.Set(reflect.ValueOf(Insurance("medical")))
		return
	case json.RawMessage:
		v.Set(reflect.ValueOf(json.RawMessage(`{"a":[1,"b"]}`)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("文字-%d", *n))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillForTest(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillForTest(v.Index(i), n)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillForTest(k, n)
		fillForTest(e, n)
		v.SetMapIndex(k, e)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillForTest(v.Field(i), n)
			}
		}
	}
}

// BenchmarkDecode reads the two events a payer has most of, a declaration of five insurances and
// a payment allocated to three, as stored.
func BenchmarkDecode(b *testing.B) {
	env, bodies := payerEvents()
	data := [][]byte{must(Encode(env, bodies[0])), must(Encode(env, bodies[1]))}
	b.SetBytes(int64(len(data[0])+len(data[1])) / 2)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Decode(data[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode writes the events BenchmarkDecode reads, with Encode (the generated encoder)
// and with encoding/json.
func BenchmarkEncode(b *testing.B) {
	env, bodies := payerEvents()
	for _, enc := range []struct {
		name   string
		encode func(Envelope, Payload) ([]byte, error)
	}{{"Encode", Encode}, {"encoding-json", encodeFallback}} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := enc.encode(env, bodies[i%2]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// payerEvents is an envelope and the two payloads a payer has most of.
func payerEvents() (Envelope, [2]Payload) {
	env := Envelope{ID: "0b2d1c7e-8f3a-4c61-9a7d-2f1e5b6c7d8e", EmployerID: "4492481b-0e45-5670-8934-2c4f4e6adb01", County: "360702",
		OccurredOn: MustDate("2010-05-10"), Actor: "demo", IdemKey: "demo-2010-05-decl-12345", N: 57,
		BodyHash: "8f3a4c619a7d2f1e5b6c7d8e0b2d1c7e8f3a4c619a7d2f1e5b6c7d8e0b2d1c7e", PrevHash: "0b2d1c7e8f3a4c619a7d2f1e5b6c7d8e0b2d1c7e8f3a4c619a7d2f1e5b6c7d8e"}
	var decl DeclarationFiled
	var pay PaymentReceived
	for _, ins := range []Insurance{Pension, Unemployment, "medical", "work_injury", Maternity} {
		decl.Lines = append(decl.Lines, DeclaredLine{Insurance: ins, Headcount: 12, WageBaseFen: 1234567, RateBP: 200, DueFen: 24691})
		pay.Allocations = append(pay.Allocations, Allocation{Insurance: ins, Period: MustPeriod("2010-04"), AmountFen: 24691})
	}
	decl.DeclaredOn, decl.Period, decl.DueOn = MustDate("2010-05-10"), MustPeriod("2010-04"), MustDate("2010-05-15")
	pay.PaidOn, pay.AmountFen, pay.ReceiptNo, pay.Allocations = MustDate("2010-05-20"), 74073, "GZ-2010-012345", pay.Allocations[:3]
	return env, [2]Payload{decl, pay}
}

func TestChainHashIsAgreesWithChainHash(t *testing.T) {
	data := []byte(`{"id":"x","type":"payment.received"}`)
	first := ChainHash("", data)
	second := ChainHash(first, data)
	tests := []struct {
		name           string
		hash, prevHash string
		want           bool
	}{
		{"a first event's hash holds", first, "", true},
		{"a later event's hash holds over its prev_hash", second, first, true},
		{"the hash of other bytes does not hold", first, first, false},
		{"an upper-case copy of the hash is not the hash", strings.ToUpper(second), first, false},
		{"a prev_hash that is not hex is hashed as text", ChainHash(strings.Repeat("z", 64), data), strings.Repeat("z", 64), true},
		{"a short prev_hash is hashed as ChainHash hashes it", ChainHash("abcd", data), "abcd", true},
		{"a hash of the wrong length never holds", second[:10], first, false},
		{"no hash never holds", "", first, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChainHashIs(tc.hash, tc.prevHash, data); got != tc.want || got != (ChainHash(tc.prevHash, data) == tc.hash) {
				t.Errorf("ChainHashIs = %v, want %v (and what ChainHash says)", got, tc.want)
			}
		})
	}
	t.Run("an event larger than the check's stack buffer is checked the same", func(t *testing.T) {
		big := bytes.Repeat(data, 200)
		if !ChainHashIs(ChainHash(first, big), first, big) || ChainHashIs(ChainHash(first, big), second, big) {
			t.Error("ChainHashIs disagrees with ChainHash on a large event")
		}
	})
}

func TestDecodeHexTakesExactlyItsLengthInEitherCase(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want []byte // nil: refused
	}{
		{"lower case", "00ff7a", []byte{0x00, 0xff, 0x7a}},
		{"upper case", "00FF7A", []byte{0x00, 0xff, 0x7a}},
		{"mixed case", "0aBc9F", []byte{0x0a, 0xbc, 0x9f}},
		{"one digit short", "00ff7", nil},
		{"one digit long", "00ff7a0", nil},
		{"a letter past f", "00fg7a", nil},
		{"a space", "00f 7a", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, 3)
			ok := DecodeHex(dst, tc.s)
			if ok != (tc.want != nil) || (ok && !bytes.Equal(dst, tc.want)) {
				t.Errorf("DecodeHex(%q) = %v, %x; want %x", tc.s, ok, dst, tc.want)
			}
		})
	}
	if !DecodeHex(nil, "") {
		t.Error("the empty string is not zero bytes in hex")
	}
}

// Every event read is checked against its hash: the check allocates nothing.
func TestCheckingAChainHashAllocatesNothing(t *testing.T) {
	data := []byte(`{"id":"x","type":"payment.received","payload":{"amount_fen":100}}`)
	first := ChainHash("", data)
	second := ChainHash(first, data)
	if n := testing.AllocsPerRun(100, func() {
		if !ChainHashIs(second, first, data) {
			t.Fatal("the hash does not hold")
		}
	}); n >= 1 {
		t.Errorf("a check allocates %.1f times", n)
	}
}

// BenchmarkDecodeHex decodes a hash as the store does three times for each event it folds.
func BenchmarkDecodeHex(b *testing.B) {
	sum := sha256.Sum256([]byte("an event"))
	s := hex.EncodeToString(sum[:])
	var dst [32]byte
	for b.Loop() {
		if !DecodeHex(dst[:], s) {
			b.Fatal("not decoded")
		}
	}
}
