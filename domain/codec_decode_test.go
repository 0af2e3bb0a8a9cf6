package domain

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// sameAsFallback decodes data with the generated decoder, with Decode and with decodeFallback, and
// fails unless Decode gives exactly what the fallback gives (the same event, or an error with the
// same message) and the generated decoder, where it reads data at all, the same event. It decodes
// a copy that it then overwrites, so an event that kept bytes of its input would differ. It
// reports whether the generated decoder read data.
func sameAsFallback(t testing.TB, data []byte) bool {
	t.Helper()
	want, wantErr := decodeFallback(data)
	in := bytes.Clone(data)
	var got Event
	ok := decodeGenerated(in, &got)
	ev, err := Decode(in)
	for i := range in {
		in[i] = 'X'
	}
	if ok && (wantErr != nil || !reflect.DeepEqual(got, want)) {
		t.Fatalf("%s\nthe generated decoder reads\n%#v\nthe fallback\n%#v, %v", data, got, want, wantErr)
	}
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%s\nDecode fails with %v, the fallback with %v", data, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(ev, want) {
		t.Fatalf("%s\nDecode reads\n%#v\nthe fallback\n%#v", data, ev, want)
	}
	return ok
}

// payloadTypes are the registered payload types by event type.
func payloadTypes(t testing.TB) map[string]reflect.Type {
	types := map[string]reflect.Type{}
	for typ, reg := range registry {
		zero, err := reg.decode(reg.schema, json.RawMessage(`{}`))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		types[typ] = reflect.TypeOf(zero)
	}
	return types
}

// testEnvelope is an envelope with every field set, as a store writes it.
var testEnvelope = Envelope{ID: "0b6c2a36-8f6e-4a57-b3f4-0d5b3b1a9c14", EmployerID: "4492481b-0e45-5670-8934-2c4f4e6adb01", County: "360702",
	OccurredOn: MustDate("2006-05-05"), Actor: "clerk:a", IdemKey: "k-1", BodyHash: "bh", CorrelationID: "c", CausationID: "d", N: 9, PrevSeq: 4,
	PrevHash: "0b2d1c7e8f3a4c619a7d2f1e5b6c7d8e0b2d1c7e8f3a4c619a7d2f1e5b6c7d8e"}

// encodeTest is Encode, failing the test on error.
func encodeTest(t testing.TB, env Envelope, body Payload) []byte {
	t.Helper()
	data, err := Encode(env, body)
	if err != nil {
		t.Fatalf("%T: %v", body, err)
	}
	return data
}

// filled is a payload of type typ with every field set by fillForTest, counting from n.
func filled(typ reflect.Type, n int) Payload {
	v := reflect.New(typ).Elem()
	fillForTest(v, &n)
	return v.Interface().(Payload)
}

// TestTheGeneratedDecoderReadsEveryEventEncodeWrites encodes every registered event type with every
// field set, with none set, and with values drawn from the edges of what JSON carries (escapes,
// unicode, broken UTF-8, int64 and uint64 limits, empty and nil slices and maps, raw JSON), and
// requires the generated decoder to read each exactly as the fallback does: all of them but the
// few it leaves to the fallback on purpose.
func TestTheGeneratedDecoderReadsEveryEventEncodeWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(2006, 12))
	read, left := 0, 0
	types := payloadTypes(t)
	for _, typ := range slices.Sorted(maps.Keys(types)) {
		rt := types[typ]
		for _, body := range []Payload{filled(rt, 0), filled(rt, 1000), reflect.Zero(rt).Interface().(Payload)} {
			for _, env := range []Envelope{testEnvelope, {ID: testEnvelope.ID, OccurredOn: testEnvelope.OccurredOn}, {}} {
				if !sameAsFallback(t, encodeTest(t, env, body)) {
					t.Fatalf("%s: the generated decoder left\n%s\nto the fallback", typ, encodeTest(t, env, body))
				}
			}
		}
		for range 300 {
			env, body := randomEvent(r, rt)
			if sameAsFallback(t, encodeTest(t, env, body)) {
				read++
			} else {
				left++
			}
		}
	}
	t.Logf("values drawn at random: the generated decoder read %d, left %d to the fallback", read, left)
	if left > read/10 {
		t.Fatalf("the generated decoder left %d of %d events Encode wrote to the fallback", left, read+left)
	}
}

// randomEvent is an envelope and a payload of type rt, every field drawn by fillRandom.
func randomEvent(r *rand.Rand, rt reflect.Type) (Envelope, Payload) {
	env := testEnvelope
	fillRandom(reflect.ValueOf(&env).Elem(), r)
	env.Payload = nil
	body := reflect.New(rt).Elem()
	fillRandom(body, r)
	return env, body.Interface().(Payload)
}

// Edge values fillRandom draws from.
var (
	edgeStrings = []string{"", "a", "文字", "赣州市章贡区", "😀𝄞", `"quoted" \ back/slash`, "tab\tnew\nline\r\b\f", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "\u2028\u2029", "\xff\xfe broken", "é\xc3", "\xed\xa0\x80", "\ufffd", strings.Repeat("长", 120),
		"pension", "medical", "work_injury", "pension ", "PENSION"}
	edgeInts  = []int64{0, 1, -1, 9, 10, -10, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 1 << 53, 1_000_000_000_000}
	edgeUints = []uint64{0, 1, 9, 10, math.MaxInt64, 1 << 63, 9_999_999_999_999_999_999, 10_000_000_000_000_000_000, math.MaxUint64}
	edgeRaw   = []string{"", "null", "{}", "[]", `"s"`, "0", "-0", "12", "-1.5e+10", "1E-3", "true", "false",
		`{"a":[1,"b",true,false,null,-0.5e+10,{"c":{}}],"":"é\u00e9","<&>":"\u2028"}`, `{"a":"\ud83d\ude00"}`, `[[[[[[[[[[[[1]]]]]]]]]]]]`,
		strings.Repeat("[", 70) + strings.Repeat("]", 70)}
)

// fillRandom sets every exported field of v to a value drawn from the edges or at random.
func fillRandom(v reflect.Value, r *rand.Rand) {
	switch v.Interface().(type) {
	case Date:
		dates := []Date{0, dateMin, dateMax, MustDate("2006-05-05"), dateMin + Date(r.IntN(int(dateMax)))}
		v.Set(reflect.ValueOf(dates[r.IntN(len(dates))]))
		return
	case Period:
		periods := []Period{0, MustPeriod("0001-01"), MustPeriod("9999-12"), MustPeriod("2006-04"), MustPeriod("0001-01") + Period(r.IntN(9999*12))}
		v.Set(reflect.ValueOf(periods[r.IntN(len(periods))]))
		return
	case json.RawMessage:
		if raw := edgeRaw[r.IntN(len(edgeRaw))]; raw != "" {
			v.Set(reflect.ValueOf(json.RawMessage(raw)))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		s := edgeStrings[r.IntN(len(edgeStrings))]
		if r.IntN(4) == 0 {
			s = fmt.Sprintf("s-%d", r.Int64())
		}
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		n := edgeInts[r.IntN(len(edgeInts))]
		if r.IntN(3) == 0 {
			n = r.Int64() >> r.IntN(64)
			if r.IntN(2) == 0 {
				n = -n
			}
		}
		v.SetInt(n)
	case reflect.Uint64:
		u := edgeUints[r.IntN(len(edgeUints))]
		if r.IntN(3) == 0 {
			u = r.Uint64() >> r.IntN(64)
		}
		v.SetUint(u)
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Pointer:
		if r.IntN(3) > 0 {
			v.Set(reflect.New(v.Type().Elem()))
			fillRandom(v.Elem(), r)
		} else {
			v.SetZero()
		}
	case reflect.Slice:
		switch n := r.IntN(14) - 2; {
		case n == -2:
			v.SetZero()
		case n < 0:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				fillRandom(v.Index(i), r)
			}
		}
	case reflect.Map:
		switch n := r.IntN(7) - 2; {
		case n == -2:
			v.SetZero()
		case n < 0:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			v.Set(reflect.MakeMap(v.Type()))
			for range n {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				fillRandom(k, r)
				fillRandom(e, r)
				v.SetMapIndex(k, e)
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillRandom(v.Field(i), r)
			}
		}
	default:
		panic(fmt.Sprintf("fillRandom: %s", v.Type()))
	}
}

// TestTheGeneratedDecoderLeavesTheTypeOutOfPeekTypesReachToTheFallback: the fallback reads an event
// whose type's key ends past peekWindow without its one-pass decoder (the envelope then keeps
// the payload's bytes); the generated decoder leaves such an event to it, and reads one whose key
// ends at peekWindow.
func TestTheGeneratedDecoderLeavesTheTypeOutOfPeekTypesReachToTheFallback(t *testing.T) {
	body := PaymentReceived{PaidOn: MustDate("2006-06-12"), AmountFen: 1555200, ReceiptNo: "R1"}
	for n, wantRead := range map[int]bool{peekWindow - 16: true, peekWindow - 15: false, 1000: false} {
		env := testEnvelope
		env.ID = strings.Repeat("x", n)
		data := encodeTest(t, env, body)
		if end := bytes.Index(data, typeKey) + len(typeKey); (end <= peekWindow) != wantRead {
			t.Fatalf("an id of %d bytes puts the type's key's end at %d", n, end)
		}
		if read := sameAsFallback(t, data); read != wantRead {
			t.Errorf("an id of %d bytes: the generated decoder read the event: %v, want %v", n, read, wantRead)
		}
	}
}

// variants returns data as encoded events never are, each named: reordered, spaced, with keys
// unknown, duplicated or escaped, values of the wrong type, numbers out of range, broken strings,
// truncated.
func variants(t testing.TB, data []byte) map[string][]byte {
	out := map[string][]byte{}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err == nil {
		sorted := must(json.Marshal(m))
		out["keys sorted"] = sorted
		out["keys sorted, spaced"] = bytes.ReplaceAll(sorted, []byte(`":`), []byte(`": `))
		var indented bytes.Buffer
		if err := json.Indent(&indented, data, "", "  "); err != nil {
			t.Fatal(err)
		}
		out["indented"] = indented.Bytes()
	}
	out["space before"] = append([]byte(" "), data...)
	out["newline after"] = append(bytes.Clone(data), '\n')
	out["garbage after"] = append(bytes.Clone(data), 'x')
	out["two events"] = append(bytes.Clone(data), data...)
	out["spaces after commas"] = bytes.ReplaceAll(data, []byte(`,"`), []byte(`, "`))
	replace := func(name, old, new string) {
		if bytes.Contains(data, []byte(old)) {
			out[name] = bytes.Replace(data, []byte(old), []byte(new), 1)
		}
	}
	replace("unknown key first", `{"id":`, `{"zz":1,"id":`)
	replace("unknown key in the payload", `"payload":{`, `"payload":{"zz":[1,{"a":"b"}],`)
	replace("unknown key after the payload", `}}`, `},"zz":null}`)
	replace("id twice", `{"id":`, `{"id":"x","id":`)
	replace("key in capitals", `"id":`, `"ID":`)
	replace("escaped key", `"id":`, `"\u0069d":`)
	replace("escaped type", `"type":"`, `"type":"\u0070`)
	replace("unknown type", `"type":"`, `"type":"x`)
	replace("schema 2", `"schema":1`, `"schema":2`)
	replace("schema 0", `"schema":1`, `"schema":0`)
	replace("schema 1.0", `"schema":1`, `"schema":1.0`)
	replace("schema as a string", `"schema":1`, `"schema":"1"`)
	replace("schema null", `"schema":1`, `"schema":null`)
	replace("no schema", `"schema":1,`, ``)
	replace("n minus zero", `"n":9`, `"n":-0`)
	replace("n with a leading zero", `"n":9`, `"n":09`)
	replace("n past uint64", `"n":9`, `"n":18446744073709551616`)
	replace("n at uint64's limit", `"n":9`, `"n":18446744073709551615`)
	replace("n negative", `"n":9`, `"n":-9`)
	replace("n with an exponent", `"n":9`, `"n":9e0`)
	replace("n as a string", `"n":9`, `"n":"9"`)
	replace("n null", `"n":9`, `"n":null`)
	replace("id as a number", `"id":"`+testEnvelope.ID+`"`, `"id":12`)
	replace("id null", `"id":"`+testEnvelope.ID+`"`, `"id":null`)
	replace("id with broken UTF-8", `"id":"`, "\"id\":\"\xff")
	replace("id with a control character", `"id":"`, "\"id\":\"\n")
	replace("id with a lone surrogate", `"id":"`, `"id":"\ud800`)
	replace("id with a surrogate pair", `"id":"`, `"id":"\ud83d\ude00`)
	replace("id with a bad escape", `"id":"`, `"id":"\x`)
	replace("id with a short escape", `"id":"`, `"id":"\u12`)
	replace("date with an escape", `"occurred_on":"2006`, `"occurred_on":"\u0032006`)
	replace("date not a day", `"occurred_on":"2006-05-05"`, `"occurred_on":"2006-02-30"`)
	replace("date empty", `"occurred_on":"2006-05-05"`, `"occurred_on":""`)
	replace("date null", `"occurred_on":"2006-05-05"`, `"occurred_on":null`)
	replace("date a number", `"occurred_on":"2006-05-05"`, `"occurred_on":20060505`)
	replace("payload null", `"payload":{`, `"payload":null,"x":{`)
	replace("payload an array", `"payload":{`, `"payload":[{`)
	replace("payload missing", `,"payload":{`, `,"x":{`)
	replace("payload empty", `"payload":{`, `"payload":{},"x":{`)
	replace("trailing comma", `}}`, `,}}`)
	replace("fen past int64", `_fen":`, `_fen":9223372036854775808`)
	replace("fen at int64's limit", `_fen":`, `_fen":-9223372036854775808,"x":`)
	replace("fen with a fraction", `_fen":`, `_fen":1.5,"x":`)
	replace("fen minus zero", `_fen":`, `_fen":-0,"x":`)
	replace("insurance unknown", `"insurance":"`, `"insurance":"x`)
	replace("insurance null", `"insurance":"`, `"insurance":null,"x":"`)
	replace("lines null", `"lines":[`, `"lines":null,"x":[`)
	replace("lines empty", `"lines":[`, `"lines":[],"x":[`)
	replace("lines an object", `"lines":[`, `"lines":{"a":[`)
	replace("lines trailing comma", `}]`, `},]`)
	replace("bool as a number", `":true`, `":1`)
	replace("raw with a space", `"figures":{`, `"figures":{ `)
	for _, cut := range []int{1, 2, len(data) / 3, len(data) / 2, len(data) - 2, len(data) - 1} {
		if cut > 0 && cut < len(data) {
			out[fmt.Sprintf("cut at %d", cut)] = data[:cut]
		}
	}
	return out
}

// TestInputsEncodeNeverWritesDecodeAsTheFallbackDecodesThem changes every event type's encoding in
// the ways variants lists, and requires Decode to give what the fallback gives: the same event,
// or an error with the same message.
func TestInputsEncodeNeverWritesDecodeAsTheFallbackDecodesThem(t *testing.T) {
	for typ, rt := range payloadTypes(t) {
		data := encodeTest(t, testEnvelope, filled(rt, 0))
		for name, in := range variants(t, data) {
			t.Run(typ+"/"+name, func(t *testing.T) { sameAsFallback(t, in) })
		}
		for i := range data {
			sameAsFallback(t, data[:i])
		}
	}
}

// FuzzDecode: Decode reads any bytes exactly as the fallback reads them (the same event, or an
// error with the same message), and what the generated decoder reads it reads as the fallback
// does, keeping no byte of its input. The seeds are every event type as Encode writes it, and
// some of the ways variants changes them.
func FuzzDecode(f *testing.F) {
	types := payloadTypes(f)
	for _, typ := range EventTypes() {
		data := encodeTest(f, testEnvelope, filled(types[typ], 0))
		f.Add(data)
		f.Add(encodeTest(f, Envelope{}, reflect.Zero(types[typ]).Interface().(Payload)))
		for _, name := range []string{"keys sorted, spaced", "unknown key in the payload", "schema 2", "n past uint64", "id with a surrogate pair"} {
			if in, ok := variants(f, data)[name]; ok {
				f.Add(in)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsFallback(t, data)
	})
}

// TestPlainASCIINeverAcceptsABytePlainByteRefuses checks runs of 0 to 20 bytes of no quote, at
// every offset of a buffer, mostly drawn from the bytes near the edges of plainByte: plainASCII
// refuses a run holding a byte that is not plain, and accepts a run of plain bytes whose eight
// bytes before its end (those it tests last) are plain too.
func TestPlainASCIINeverAcceptsABytePlainByteRefuses(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	edges := []byte{0, 0x01, 0x1f, 0x20, 0x21, '\\', 0x5b, 0x5d, 0x7f, 0x80, 0x81, 0xc3, 0xff, 'a', 'A', '0', '-'}
	for range 200000 {
		d := make([]byte, 24)
		for i := range d {
			if c := byte(r.IntN(256)); r.IntN(3) == 0 && c != '"' {
				d[i] = c
			} else {
				d[i] = edges[r.IntN(len(edges))]
			}
		}
		i := r.IntN(len(d) + 1)
		j := i + r.IntN(len(d)-i+1)
		plain := func(b []byte) bool {
			for _, c := range b {
				if !plainByte[c] {
					return false
				}
			}
			return true
		}
		got, want := plainASCII(d, i, j), plain(d[i:j])
		if got && !want {
			t.Fatalf("plainASCII(%q, %d, %d) accepts %q", d, i, j, d[i:j])
		}
		if !got && want && plain(d[max(0, min(i, j-8)):j]) {
			t.Fatalf("plainASCII(%q, %d, %d) refuses %q", d, i, j, d[i:j])
		}
	}
}

// TestDateAndPeriodTextReadAsUnmarshalTextDoes: dateText and periodText accept exactly the text
// Date.UnmarshalText and Period.UnmarshalText accept, to the same value.
func TestDateAndPeriodTextReadAsUnmarshalTextDoes(t *testing.T) {
	texts := []string{"", "2006-04-30", "2006-04-31", "2006-02-29", "2004-02-29", "2006-13-01", "06-04-01", "2006-4-1",
		"0000-01-01", "0001-01-01", "9999-12-31", "2006-00-10", "2006-01-00", "+006-01-01", "２００６-01-01", "2006-05", "2006-00",
		"2006-13", "0000-12", "9999-12", "2006/05", "2006-05-01 "}
	r := rand.New(rand.NewPCG(10, 7))
	for range 20000 {
		b := []byte("2006-05-05")[:7+3*r.IntN(2)]
		b[r.IntN(len(b))] = "0123456789-x"[r.IntN(12)]
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		var d Date
		derr := d.UnmarshalText([]byte(text))
		if got, ok := dateText([]byte(text)); ok != (derr == nil) || got != d {
			t.Fatalf("dateText(%q) = %d, %v; UnmarshalText: %d, %v", text, got, ok, d, derr)
		}
		var p Period
		perr := p.UnmarshalText([]byte(text))
		if got, ok := periodText([]byte(text)); ok != (perr == nil) || got != p {
			t.Fatalf("periodText(%q) = %d, %v; UnmarshalText: %d, %v", text, got, ok, p, perr)
		}
	}
}

// TestDigits8ReadsTheDigitsEightBytesStartWith: digits8 counts the digits eight bytes start with
// and reads their value, for every count and bytes around the digits' edges after them.
func TestDigits8ReadsTheDigitsEightBytesStartWith(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	after := []byte{',', '}', ']', '.', 'e', '/', ':', '-', ' ', 0, 0x2f, 0x3a, 0x40, 0xf9, 0xfa, 0xff, '0', '9'}
	for range 200000 {
		var b [8]byte
		n := r.IntN(9)
		for i := range b {
			switch {
			case i < n:
				b[i] = '0' + byte(r.IntN(10))
			case i == n || r.IntN(2) == 0:
				b[i] = after[r.IntN(len(after))]
			default:
				b[i] = byte(r.IntN(256))
			}
		}
		want := 0
		for want < 8 && b[want] >= '0' && b[want] <= '9' {
			want++
		}
		wantValue, _ := strconv.ParseUint(string(b[:want]), 10, 64)
		if got, value := digits8(binary.LittleEndian.Uint64(b[:])); got != want || (want > 0 && value != wantValue) {
			t.Fatalf("digits8(%q) = %d, %d; want %d, %d", b, got, value, want, wantValue)
		}
	}
}

func TestDecodeForSharesTheSubjectsEmployerIDAndOtherwiseDecodesAsDecode(t *testing.T) {
	body := PaymentReceived{PaidOn: MustDate("2006-06-10"), AmountFen: 1200, ReceiptNo: "R-1"}
	named := testEnvelope
	named.EmployerID = "E-1"
	unnamed := testEnvelope
	unnamed.EmployerID = ""
	hint := strings.Clone("E-1")
	for _, c := range []struct {
		name   string
		data   []byte
		want   string
		shared bool
	}{
		{"the employer the subject names shares the subject's string", encodeTest(t, named, body), "E-1", true},
		{"an employer the bytes name otherwise is their own", encodeTest(t, Envelope{ID: "x", EmployerID: "E-2"}, body), "E-2", false},
		{"an event naming no employer is the subject's", encodeTest(t, unnamed, body), "E-1", true},
		{"an event the fallback reads names the subject's employer", []byte(`{"type":"payment.received","schema":1,"employer_id":"E-1","payload":{"paid_on":"2006-06-10","amount_fen":1200,"receipt_no":"R-1"},"id":"x"}`), "E-1", false},
		{"an event the fallback reads naming no employer is the subject's", []byte(`{"type":"payment.received","schema":1,"payload":{"paid_on":"2006-06-10","amount_fen":1200,"receipt_no":"R-1"},"id":"x"}`), "E-1", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev, err := DecodeFor(c.data, hint)
			if err != nil {
				t.Fatal(err)
			}
			if ev.EmployerID != c.want {
				t.Fatalf("employer %q, want %q", ev.EmployerID, c.want)
			}
			if shared := unsafe.StringData(ev.EmployerID) == unsafe.StringData(hint); shared != c.shared {
				t.Fatalf("the employer id shares the subject's string: %v, want %v", shared, c.shared)
			}
			want, err := Decode(c.data)
			if err != nil {
				t.Fatal(err)
			}
			want.EmployerID = c.want
			if !reflect.DeepEqual(ev, want) {
				t.Fatalf("DecodeFor reads\n%#v\nDecode\n%#v", ev, want)
			}
		})
	}
}
