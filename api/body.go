package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kuozheng/kuozheng/domain"
)

// errBodyUnread refuses a body that did not arrive whole.
var errBodyUnread = domain.Invalid("body", "could not be read whole: the client sent it too slowly or closed the connection")

// readBody reads a JSON body of at most MaxBody bytes into v, refusing unknown, repeated and
// wrongly cased fields and broken UTF-8, and returns the canonical form of the body for idempotency.
func readBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	ct, err := oneHeader(r, "Content-Type")
	if err != nil {
		return nil, err
	}
	ce, err := oneHeader(r, "Content-Encoding")
	if err != nil {
		return nil, err
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, &domain.Error{Kind: domain.KindUnsupportedMedia, Field: "Content-Type",
			Detail: fmt.Sprintf("%q is not JSON: send Content-Type: application/json", ct)}
	}
	if cs, ok := params["charset"]; ok && !slices.ContainsFunc([]string{"utf-8", "utf8", "us-ascii"}, func(u string) bool { return strings.EqualFold(cs, u) }) {
		return nil, &domain.Error{Kind: domain.KindUnsupportedMedia, Field: "Content-Type",
			Detail: fmt.Sprintf("charset %q: JSON is read as UTF-8 only (RFC 8259); send UTF-8", cs)}
	}
	if ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, &domain.Error{Kind: domain.KindUnsupportedMedia, Field: "Content-Encoding",
			Detail: fmt.Sprintf("%q: bodies are read as sent; send them without a Content-Encoding", ce)}
	}
	if r.ContentLength > MaxBody {
		// Refused on its header, before a byte of it is read.
		return nil, &domain.Error{Kind: domain.KindTooLarge, Field: "body", Detail: fmt.Sprintf("the body is over the limit of %d bytes", MaxBody)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &domain.Error{Kind: domain.KindTooLarge, Field: "body", Detail: fmt.Sprintf("the body is over the limit of %d bytes", MaxBody)}
		}
		// The error names the sockets; the client needs only to know the body did not arrive.
		return nil, errBodyUnread
	}
	if !utf8.Valid(body) {
		return nil, domain.Invalid("body", "is not valid UTF-8")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, domain.Invalid("body", "is empty: a JSON object is required")
	}
	if bytes.HasPrefix(body, []byte("\uFEFF")) {
		// An editor's byte order mark, which JSON texts must not carry (RFC 8259 §8.1); the
		// decoder would name its first byte as a Latin-1 character.
		return nil, domain.Invalid("body", "begins with a byte order mark (U+FEFF), which JSON sent over a network must not carry: send the JSON without it")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			// The decoder names the field but not where it is: "zz", not "allocations[0].zz".
			return nil, unknownField(body, reflect.TypeOf(v), strings.Trim(name, `"`))
		}
		je := jsonError(err, body)
		// Only an error that names no field is worth the search for the field that failed.
		var de *domain.Error
		if errors.As(je, &de) && de.Field == "body" {
			if field := failingField(body, v); field != "" {
				return nil, domain.Invalid(field, "%s", strings.TrimPrefix(de.Detail, "has "))
			}
		}
		return nil, je
	}
	if dec.More() {
		return nil, domain.Invalid("body", "holds more than one JSON value")
	}
	// After the decoder, which bounds how deep the body nests.
	if err := checkKeys(body, reflect.TypeOf(v)); err != nil {
		return nil, err
	}
	var canon any
	d2 := json.NewDecoder(bytes.NewReader(body))
	d2.UseNumber()
	if err := d2.Decode(&canon); err != nil {
		return nil, jsonError(err, body)
	}
	return json.Marshal(canon)
}

// failingField finds which top-level field of a JSON object fails to decode into a value of v's
// type, for errors (from a field's own decoder) that do not say where they are.
func failingField(body []byte, v any) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return ""
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for _, k := range names {
		one, _ := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		if json.Unmarshal(one, reflect.New(t).Interface()) != nil {
			return k
		}
	}
	return ""
}

func jsonError(err error, body []byte) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return domain.Invalid("body", "is not valid JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		} else {
			field = locate(body, strings.Split(field, "."), te.Value)
		}
		return domain.Invalid(field, "has %s where %s is expected", article(te.Value), jsonKind(te.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return domain.Invalid("body", "is truncated JSON")
	}
	return domain.Invalid("body", "%v", err)
}

// locate turns the decoder's dotted path (which drops list indexes) into a path such as
// "lines[2].wage_base_fen", by finding the first value of the wrong JSON kind along it.
func locate(body []byte, path []string, kind string) string {
	var tree any
	if json.Unmarshal(body, &tree) != nil {
		return strings.Join(path, ".")
	}
	if p, ok := find(tree, path, kind); ok {
		return p
	}
	return strings.Join(path, ".")
}

func find(node any, path []string, kind string) (string, bool) {
	if list, ok := node.([]any); ok {
		for i, el := range list {
			if p, ok := find(el, path, kind); ok {
				if p != "" && !strings.HasPrefix(p, "[") {
					p = "." + p
				}
				return fmt.Sprintf("[%d]", i) + p, true
			}
		}
		return "", false
	}
	if len(path) == 0 {
		return "", jsonKindOf(node) == kind
	}
	obj, ok := node.(map[string]any)
	if !ok {
		return "", false
	}
	child, ok := obj[path[0]]
	if !ok {
		return "", false
	}
	rest, ok := find(child, path[1:], kind)
	if !ok {
		return "", false
	}
	if strings.HasPrefix(rest, "[") || rest == "" {
		return path[0] + rest, true
	}
	return path[0] + "." + rest, true
}

// jsonKindOf names a decoded value's kind as json.UnmarshalTypeError.Value does.
func jsonKindOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	}
	return article(k)
}

// article is a JSON kind or a word with its indefinite article: "an object", "a number".
func article(w string) string {
	if w != "" && strings.ContainsRune("aeiou", rune(w[0])) {
		return "an " + w
	}
	return "a " + w
}

func bodyHash(r *http.Request, canon []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.Path)
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil))
}

// requireField refuses a JSON object body without the field, which its type would take as
// its zero value: detail says what is missing.
func requireField(body []byte, field, detail string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return domain.Invalid("body", "is not a JSON object")
	}
	if v, ok := obj[field]; !ok || string(v) == "null" {
		return domain.Invalid(field, "%s", detail)
	}
	return nil
}

// afresh answers a func that puts v, decoded by readBody from the body whose canonical form is
// canon, back as decoded: its checks normalise it in place (Store.Check checks it again).
func afresh(v any, canon []byte) func() error {
	return func() error {
		e := reflect.ValueOf(v).Elem()
		e.Set(reflect.Zero(e.Type()))
		return json.Unmarshal(canon, v)
	}
}
