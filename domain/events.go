package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Payload is the typed body of an event.
type Payload interface {
	// EventType names the event in the stream, e.g. "payment.received".
	EventType() string
}

// Envelope is what every event carries besides its payload. It is stored as JSON in the message
// body; the stream sequence, the recorded time and the hash come from the stream and its headers.
type Envelope struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	Schema        int    `json:"schema"`
	EmployerID    string `json:"employer_id,omitempty"`
	County        string `json:"county,omitempty"`
	OccurredOn    Date   `json:"occurred_on"`
	Actor         string `json:"actor"`
	IdemKey       string `json:"idem_key,omitempty"`
	BodyHash      string `json:"body_hash,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	// N numbers the employer's events from 1, so a missing one shows as a gap.
	N uint64 `json:"n,omitempty"`
	// PrevSeq is the stream sequence of the employer's previous event. It is 0 when that event
	// is the message just before this one (seq − 1): events appended together go in one
	// contiguous atomic batch, so their sequences are not known before they commit.
	PrevSeq  uint64          `json:"prev_seq,omitempty"`
	PrevHash string          `json:"prev_hash,omitempty"`
	Payload  json.RawMessage `json:"payload"`

	Seq        uint64 `json:"-"`
	RecordedAt int64  `json:"-"` // Unix nanoseconds, from the stream
	Hash       string `json:"-"`
}

// Event is a decoded event: its envelope and its typed payload.
type Event struct {
	Envelope
	Body Payload
}

// ChainHash is the hash of an event: SHA-256 over the previous event's hash (hex-decoded, empty
// for an employer's first event) followed by the event's stored bytes.
func ChainHash(prevHash string, data []byte) string {
	h := sha256.New()
	if prev, err := hex.DecodeString(prevHash); err == nil {
		h.Write(prev)
	} else {
		h.Write([]byte(prevHash))
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// ChainHashIs reports whether hash is ChainHash(prevHash, data). It builds no string: every
// event read is checked, and the strings were most of a check's garbage.
func ChainHashIs(hash, prevHash string, data []byte) bool {
	if len(hash) != 2*sha256.Size || (prevHash != "" && len(prevHash) != 2*sha256.Size) {
		return ChainHash(prevHash, data) == hash
	}
	// The previous hash's bytes and the data, hashed in one piece from a buffer on the stack
	// (a larger event's on the heap): a hash.Hash's Write and Sum would move them to the heap.
	var buf [2048]byte
	b := buf[:len(prevHash)/2] // prevHash is empty or 64 digits here
	if !DecodeHex(b, prevHash) {
		b = append(b[:0], prevHash...)
	}
	b = append(b, data...)
	sum := sha256.Sum256(b)
	var text [2 * sha256.Size]byte
	hex.Encode(text[:], sum[:])
	return string(text[:]) == hash
}

// DecodeHex decodes s, hexadecimal in either case, into dst and reports whether s is exactly
// dst in hexadecimal. Unlike hex.Decode it takes a string without copying it: keys and hashes
// are decoded for every event read.
func DecodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := fromHex(s[2*i]), fromHex(s[2*i+1])
		if hi > 0xf || lo > 0xf {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// fromHex is the value of a hexadecimal digit, or 0xff.
func fromHex(c byte) byte { return hexValues[c] }

// hexValues is every byte's value as a hexadecimal digit, 0xff for those that are none: a
// lookup, where comparisons branched unpredictably between digits and letters (the store
// decodes hashes three times an event).
var hexValues = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			t[c] = byte(c - 'A' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()
