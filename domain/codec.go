package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	fastjson "github.com/segmentio/encoding/json"
)

// Encode returns the stored bytes of an envelope whose payload is body.
func Encode(env Envelope, body Payload) ([]byte, error) {
	env.Type = body.EventType()
	env.Schema = schemaOf(env.Type)
	scratch := encodeBufs.Get().(*[]byte)
	defer encodeBufs.Put(scratch)
	b, ok := encodeGenerated((*scratch)[:0], &env, body)
	if !ok {
		return encodeFallback(env, body)
	}
	if cap(b) <= encodeKeep {
		*scratch = b
	}
	// The bytes are kept (in the message, until the append is acknowledged): an event of 400
	// bytes costs 400, not the buffer it was written in.
	return bytes.Clone(b), nil
}

// encodeBufs are the buffers Encode writes in before it copies the bytes out.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// encodeKeep is the largest buffer Encode gives back to encodeBufs: a rare large event's buffer
// is not kept.
const encodeKeep = 64 << 10

// encodeFallback is what Encode means: the payload and then the envelope holding it as
// encoding/json writes them. The generated encoder writes the same bytes faster.
func encodeFallback(env Envelope, body Payload) ([]byte, error) {
	p, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	env.Payload = p
	return json.Marshal(env)
}

//go:generate go test -tags gencodec -run ^TestGeneratedDecoderIsCurrent$ -args -write-generated-decoder

// Decode parses stored bytes into an event, upcasting older payload schemas. Bytes as Encode
// writes them are read by the decoder generated for the registered types (codec_gen.go), which
// gives up on anything else: then decodeFallback reads them, and the result is the same.
func Decode(data []byte) (Event, error) {
	var ev Event
	if decodeGenerated(data, &ev) {
		return ev, nil
	}
	return decodeFallback(data)
}

// DecodeFor is Decode of an event stored under employerID's subject: an employer id in the
// bytes that equals it shares its string instead of being copied (a replay reads millions, each
// a copy to throw away), and one the bytes leave out is employerID.
func DecodeFor(data []byte, employerID string) (Event, error) {
	ev := Event{Envelope: Envelope{EmployerID: employerID}}
	if decodeGenerated(data, &ev) {
		return ev, nil
	}
	ev, err := decodeFallback(data)
	if ev.EmployerID == "" {
		ev.EmployerID = employerID
	}
	return ev, err
}

// ErrUnknownToThisBuild is wrapped by the error of an event whose type, or whose type's schema,
// this build does not know: a newer build's, if its bytes are whole.
var ErrUnknownToThisBuild = errors.New("not known to this build")

// decodeFallback decodes any JSON of an event: keys in any order, spaced, unknown keys, older
// schemas. It is what Decode means; the generated decoder reads the bytes Encode writes faster.
func decodeFallback(data []byte) (Event, error) {
	// Fast path: events at the current schema decode in one pass, envelope and payload together.
	if t := peekType(data); t != "" {
		if reg, ok := registry[t]; ok {
			if ev, err := reg.whole(data); err == nil && ev.Type == t && ev.Schema == reg.schema {
				return ev, nil
			}
		}
	}
	var ev Event
	if err := fastjson.Unmarshal(data, &ev.Envelope); err != nil {
		return ev, fmt.Errorf("decode envelope: %w", err)
	}
	reg, ok := registry[ev.Type]
	if !ok {
		return ev, fmt.Errorf("%w: unknown event type %q", ErrUnknownToThisBuild, ev.Type)
	}
	if ev.Schema > reg.schema {
		return ev, fmt.Errorf("%w: event type %q schema %d is newer than this build knows (%d)", ErrUnknownToThisBuild, ev.Type, ev.Schema, reg.schema)
	}
	body, err := reg.decode(ev.Schema, ev.Payload)
	if err != nil {
		return ev, fmt.Errorf("decode %s payload: %w", ev.Type, err)
	}
	ev.Body = body
	return ev, nil
}

var typeKey = []byte(`"type":`)

// peekWindow is how far into an event peekType looks for the type's key: the key must end
// within it.
const peekWindow = 320

// peekType finds the envelope's type without decoding. Encode writes it second, after the id;
// JSON that went through PostgreSQL's jsonb has its keys reordered and spaced, so the first few
// hundred bytes are searched and a space is allowed. The caller checks the decoded type anyway.
func peekType(data []byte) string {
	i := bytes.Index(data[:min(len(data), peekWindow)], typeKey)
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(data[i+len(typeKey):], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	rest = rest[1:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

type registration struct {
	schema int
	// decode reads a payload of any known schema (upcasting older ones).
	decode func(schema int, raw json.RawMessage) (Payload, error)
	// whole reads a whole event at the current schema in one pass.
	whole func(data []byte) (Event, error)
}

var registry = map[string]registration{}

func schemaOf(t string) int { return registry[t].schema }

// register adds a payload type at schema version 1; a later schema adds its upcaster here.
func register[T Payload]() {
	var zero T
	registry[zero.EventType()] = registration{
		schema: 1,
		decode: func(_ int, raw json.RawMessage) (Payload, error) {
			var v T
			err := fastjson.Unmarshal(raw, &v)
			return v, err
		},
		whole: func(data []byte) (Event, error) {
			// The outer Payload field is shallower than the envelope's, so it takes "payload".
			var w struct {
				Envelope
				Payload T `json:"payload"`
			}
			err := fastjson.Unmarshal(data, &w)
			return Event{Envelope: w.Envelope, Body: w.Payload}, err
		},
	}
}

func init() {
	register[EmployerRegistered]()
	register[EmployerFound]()
	register[RegistrationCompleted]()
	register[EmployerChanged]()
	register[SurveyCounted]()
	register[EnrollmentRecorded]()
	register[DeclarationFiled]()
	register[AssessmentMade]()
	register[OpeningBalanceRecorded]()
	register[PaymentReceived]()
	register[PaymentReversed]()
	register[AuditFindingRecorded]()
	register[InspectionRecorded]()
	register[WaiverGranted]()
	register[EnforcementStepRecorded]()
	register[ContractsSigned]()
	register[EmployerTransferred]()
	register[EmployerDeregistered]()
	register[EmployerReinstated]()
	register[OrgCodeCorrected]()
	register[OrgCodeClaimed]()
	register[EventVoided]()
	register[CreditRefunded]()
	register[CountiesDefined]()
	register[RatesSet]()
	register[LateFeeRatesSet]()
	register[SettingsSet]()
	register[TargetsSet]()
	register[AverageWageSet]()
	register[BaselineSet]()
	register[CountyRedefined]()
	register[FreezeMade]()
	register[ProvinceFreezeMade]()
	register[YearClosed]()
	register[YearReopened]()
}

// EventTypes lists every event type this build knows.
func EventTypes() []string {
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	return out
}
