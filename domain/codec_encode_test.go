package domain

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// sameAsEncodingJSON fails the test unless the generated encoder writes env and body byte for
// byte as encoding/json does (encodeFallback), or leaves to it exactly what it refuses.
func sameAsEncodingJSON(t *testing.T, env Envelope, body Payload) {
	t.Helper()
	env.Type = body.EventType()
	env.Schema = schemaOf(env.Type)
	got, ok := encodeGenerated(nil, &env, body)
	want, err := encodeFallback(env, body)
	switch {
	case err != nil && ok:
		t.Fatalf("%s: the generated encoder wrote\n%s\nwhere encoding/json fails: %v", env.Type, got, err)
	case err == nil && !ok:
		t.Fatalf("%s: the generated encoder left\n%s\nto encoding/json", env.Type, want)
	case err == nil && !bytes.Equal(got, want):
		t.Fatalf("%s: the generated encoder wrote\n%s\nencoding/json writes\n%s", env.Type, got, want)
	}
}

// TestTheGeneratedEncoderWritesWhatEncodingJSONWrites encodes every registered event type with
// every field set, with none set, and with values drawn from the edges of what JSON carries
// (escapes, HTML characters, U+2028, broken UTF-8, int64 and uint64 limits, empty and nil slices
// and maps, raw JSON, the first and last dates): the bytes must be encoding/json's, since the
// chain hashes them and readers of the stream expect plain JSON.
func TestTheGeneratedEncoderWritesWhatEncodingJSONWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(2006, 13))
	types := payloadTypes(t)
	for _, typ := range slices.Sorted(maps.Keys(types)) {
		rt := types[typ]
		for _, body := range []Payload{filled(rt, 0), filled(rt, 1000), reflect.Zero(rt).Interface().(Payload)} {
			for _, env := range []Envelope{testEnvelope, {ID: testEnvelope.ID, OccurredOn: testEnvelope.OccurredOn}, {}} {
				sameAsEncodingJSON(t, env, body)
			}
		}
		for range 300 {
			env, body := randomEvent(r, rt)
			sameAsEncodingJSON(t, env, body)
		}
	}
}

// TestEncodeFallsBackWhereTheGeneratedEncoderCannotWrite: a date past 9999, raw figures that are
// not JSON and a payload given by pointer go to encoding/json, which fails on the first two as
// it always did and writes the third as the value it points to.
func TestEncodeFallsBackWhereTheGeneratedEncoderCannotWrite(t *testing.T) {
	late := testEnvelope
	late.OccurredOn = dateMax + 1
	decl := filled(reflect.TypeFor[DeclarationFiled](), 0).(DeclarationFiled)
	freeze := filled(reflect.TypeFor[FreezeMade](), 0).(FreezeMade)
	freeze.Figures = json.RawMessage(`{"a":`)
	for _, tc := range []struct {
		name    string
		env     Envelope
		body    Payload
		wantErr bool
	}{
		{"a date past 9999", late, decl, true},
		{"raw figures that are not JSON", testEnvelope, freeze, true},
		{"a payload by pointer", testEnvelope, &decl, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if _, ok := encodeGenerated(nil, &env, tc.body); ok {
				t.Fatal("the generated encoder wrote it")
			}
			got, err := Encode(tc.env, tc.body)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Encode: %s, %v", got, err)
			}
			if !tc.wantErr && !bytes.Equal(got, encodeTest(t, tc.env, decl)) {
				t.Fatalf("the payload by pointer encodes as\n%s\nnot as the value", got)
			}
		})
	}
}

// FuzzAppendJSONString: appendJSONString writes any string as json.Marshal does.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range edgeStrings {
		f.Add(s)
	}
	for c := range 256 {
		f.Add(string([]byte{'a', byte(c), 'z'}))
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("appendJSONString(%q) = %s, json.Marshal writes %s", s, got, want)
		}
	})
}
