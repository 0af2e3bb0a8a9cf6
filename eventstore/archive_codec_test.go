package eventstore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestArchiveBlobsUnpackAsPackedAndOldZstdBlobsStillRead(t *testing.T) {
	raw := bytes.Repeat([]byte(`{"type":"declaration.filed","employer_id":"91360702100000040X"}`), 40)
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	packed := pack(nil, raw)
	for _, tc := range []struct {
		name   string
		packed []byte
		dst    []byte
	}{
		{"a blob packed now", packed, nil},
		{"a blob packed now, into a buffer too small", packed, make([]byte, 3)},
		{"a blob packed now, into a buffer large enough", packed, make([]byte, 0, 2*len(raw))},
		{"a zstd frame of an archive written before", zenc.EncodeAll(raw, nil), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := unpack(tc.dst, tc.packed)
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("unpack: %d bytes, %v; want the %d bytes packed", len(got), err, len(raw))
			}
		})
	}
	if len(packed) >= len(raw)/4 {
		t.Errorf("packed %d bytes into %d: not compressed", len(raw), len(packed))
	}
	t.Run("a damaged blob is an error, not a wrong answer", func(t *testing.T) {
		for _, cut := range []int{1, 2, len(packed) / 2, len(packed) - 1} {
			if got, err := unpack(nil, packed[:cut]); !errors.Is(err, errCorrupt) {
				t.Errorf("first %d bytes of %d: %d bytes, %v; want errCorrupt", cut, len(packed), len(got), err)
			}
		}
	})
}

func TestARecordKeepsAHashOnlyWhenItIsSHA256InHex(t *testing.T) {
	hash := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	for _, tc := range []struct {
		name, hash, want string
	}{
		{"a SHA-256 in lower-case hex", hash, hash},
		{"in upper case, read back in lower", "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", hash},
		{"none", "", ""},
		{"too short", hash[:62], ""},
		{"a character not hex at the end", hash[:63] + "g", ""},
		{"a character not hex at the start", "x" + hash[1:], ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := appendRecord([]byte("before"), record{seq: 7, ts: -3, hash: tc.hash, data: []byte("data")})
			r, rest, err := nextRecord(b[len("before"):])
			if err != nil || len(rest) != 0 || r.seq != 7 || r.ts != -3 || string(r.data) != "data" {
				t.Fatalf("read back %+v, rest %q, %v", r, rest, err)
			}
			if got := r.hash; got != tc.want && !(tc.want == "" && got == "") {
				t.Errorf("hash %q, want %q", got, tc.want)
			}
		})
	}
}
