package domain

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"

	"github.com/kuozheng/kuozheng/domain/internal/gencodec"
)

var writeGeneratedDecoder = flag.Bool("write-generated-decoder", false, "write codec_gen.go instead of checking it (go generate)")

// codecSpec is what codec_gen.go is generated from: the envelope, every registered payload type
// at its schema, and the scanner's readers of the types that decode their own way.
func codecSpec(t testing.TB) gencodec.Spec {
	spec := gencodec.Spec{
		Package:  "domain",
		Envelope: reflect.TypeFor[Envelope](), TypeField: "Type", SchemaField: "Schema", BodyField: "Payload",
		Readers: map[reflect.Type]string{
			reflect.TypeFor[Date]():            "readDate",
			reflect.TypeFor[Period]():          "readPeriod",
			reflect.TypeFor[Fen]():             "readFen",
			reflect.TypeFor[Insurance]():       "readInsurance",
			reflect.TypeFor[json.RawMessage](): "readRaw",
		},
		Writers: map[reflect.Type]string{
			reflect.TypeFor[Date]():            "appendDateJSON",
			reflect.TypeFor[Period]():          "appendPeriodJSON",
			reflect.TypeFor[json.RawMessage](): "appendRawJSON",
		},
	}
	for typ, reg := range registry {
		zero, err := reg.decode(reg.schema, json.RawMessage(`{}`))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		spec.Payloads = append(spec.Payloads, gencodec.Payload{EventType: typ, Schema: reg.schema, Type: reflect.TypeOf(zero)})
	}
	return spec
}

// TestGeneratedDecoderIsCurrent fails when codec_gen.go is not what the generator writes for the
// registered types today; go generate ./domain runs it to write the file (in a build that leaves
// the file out, so that a stale one that no longer compiles can be replaced).
func TestGeneratedDecoderIsCurrent(t *testing.T) {
	src, err := gencodec.Generate(codecSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	if *writeGeneratedDecoder {
		if err := os.WriteFile("codec_gen.go", src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile("codec_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, src) {
		t.Fatal("codec_gen.go is not what the generator writes for the registered event types: run go generate ./domain")
	}
}
