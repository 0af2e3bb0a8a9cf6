package gencodec

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type envelope struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Schema  int             `json:"schema"`
	Payload json.RawMessage `json:"payload"`
	Seq     uint64          `json:"-"`
}

type inner struct {
	A string `json:"a"`
}

type good struct {
	inner
	B []inner            `json:"b,omitempty"`
	C map[string]*int64  `json:"c"`
	D *bool              `json:"d,omitempty"`
	E json.RawMessage    `json:"e"`
	F map[string][]inner `json:"f"`
}

type (
	twoKeys struct {
		inner
		A string `json:"a"`
	}
	stringOption struct {
		N int64 `json:"n,string"`
	}
	float struct {
		X float64 `json:"x"`
	}
	ownDecoding struct {
		T time.Duration `json:"t"`
		U unmarshaler   `json:"u"`
	}
	intKeys struct {
		M map[int]string `json:"m"`
	}
	foreignStruct struct {
		T time.Time `json:"t"`
	}
	embeddedPointer struct {
		*inner
	}
	escapedKey struct {
		K string `json:"<k>"`
	}
	unmarshaler struct{}
	ownEncoding struct {
		M marshaler `json:"m"`
	}
	marshaler struct{}
)

func (*unmarshaler) UnmarshalJSON([]byte) error { return nil }

func (marshaler) MarshalJSON() ([]byte, error) { return []byte("{}"), nil }

func spec(payload any) Spec {
	return Spec{Package: "p", Envelope: reflect.TypeFor[envelope](), TypeField: "Type", SchemaField: "Schema", BodyField: "Payload",
		Payloads: []Payload{{EventType: "x", Schema: 1, Type: reflect.TypeOf(payload)}},
		Readers:  map[reflect.Type]string{reflect.TypeFor[json.RawMessage](): "readRaw"},
		Writers:  map[reflect.Type]string{reflect.TypeFor[json.RawMessage](): "appendRaw"}}
}

// TestGenerateWritesADecoderPerType: the generated code has the envelope's decoder and encoder,
// one function of each per struct, slice, map and pointer type met, and the fields in
// encoding/json's order.
func TestGenerateWritesADecoderPerType(t *testing.T) {
	src, err := Generate(spec(good{}))
	if err != nil {
		t.Fatal(err)
	}
	code := string(src)
	for _, want := range []string{"func decodeGenerated(data []byte, ev *Event) bool", "func decodeGood(s *scanner, v *good) bool",
		"func decodeInner(", "func decodeSliceOfInner(", "func decodeMapOfStringToPointerToInt64(", "func decodePointerToBool(",
		"func decodeMapOfStringToSliceOfInner(", "s.readRaw(&v.E)", "s.readString(&v.inner.A)", `case "x":`,
		"func encodeGenerated(b []byte, env *envelope, body any) ([]byte, bool)", "func encodeGood(b []byte, v *good) ([]byte, bool)",
		"func encodeInner(", "func encodeSliceOfInner(", "func encodeMapOfStringToPointerToInt64(", "func encodePointerToBool(",
		"func encodeMapOfStringToSliceOfInner(", "appendRaw(b, v.E)", "appendJSONString(b, v.inner.A)", "case good:",
		"if len(v.B) != 0 {", "if v.D != nil {"} {
		if !strings.Contains(code, want) {
			t.Errorf("the generated code has no %q", want)
		}
	}
	order := []string{"`\"a\":`", "`\"b\":`", "`\"c\":`", "`\"d\":`", "`\"e\":`", "`\"f\":`"}
	at := strings.Index(code, "func decodeGood(")
	for _, key := range order {
		i := strings.Index(code[at:], key)
		if i < 0 {
			t.Fatalf("decodeGood reads no key %s after the one before", key)
		}
		at += i
	}
	at = strings.Index(code, "func encodeGood(")
	for _, key := range []string{"`\"a\":`", "`,\"b\":`", "`,\"c\":`", "`,\"d\":`", "`,\"e\":`", "`,\"f\":`"} {
		i := strings.Index(code[at:], key)
		if i < 0 {
			t.Fatalf("encodeGood writes no key %s after the one before", key)
		}
		at += i
	}
	if strings.Contains(code, "Seq") {
		t.Error(`the generated code reads or writes a field tagged json:"-"`)
	}
}

// TestGenerateRefusesWhatItCannotReadAsEncodingJSONDoes names the type or field it cannot decode
// or encode as encoding/json does.
func TestGenerateRefusesWhatItCannotReadAsEncodingJSONDoes(t *testing.T) {
	for _, tc := range []struct {
		payload any
		want    string
	}{
		{twoKeys{}, `two fields have the key "a"`},
		{stringOption{}, `the json option "string" is not supported`},
		{float{}, "the kind of float64 is not supported"},
		{ownDecoding{}, "gencodec.unmarshaler decodes its own way"},
		{ownEncoding{}, "gencodec.marshaler encodes its own way and no writer is named for it"},
		{intKeys{}, "the map key int is not supported"},
		{foreignStruct{}, "time.Time decodes its own way"},
		{embeddedPointer{}, "an embedded pointer is not supported"},
		{escapedKey{}, `the key "<k>" is not supported`},
		{0, "is not a named struct"},
	} {
		_, err := Generate(spec(tc.payload))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%T: %v, want an error saying %q", tc.payload, err, tc.want)
		}
	}
}
