package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

// checkKeys refuses what encoding/json lets through silently: a name given twice in one object
// (the last one would win, so two bodies that differ could read the same) and a name that matches
// a field only when case is ignored. body is JSON the decoder already accepted (so it is valid and
// nests at most as deep as the decoder allows); t is the type it decoded into.
func checkKeys(body []byte, t reflect.Type) error {
	w := keyWalker{b: body}
	return w.value(t, nil)
}

// unknownField is the error for a field named name that the type t, which body was decoded
// into, has no place for, at its path in body ("lines[0].extra").
func unknownField(body []byte, t reflect.Type, name string) error {
	w := keyWalker{b: body, unknown: name}
	if err := w.value(t, nil); err != nil {
		return err
	}
	return domain.Invalid(name, "is not a field of this request")
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// objectName names the object at path for an error: the body, or the field that holds it.
func objectName(path *pathNode) string {
	if p := path.String(); p != "" {
		return p
	}
	return "the body"
}

// fieldList lists the names of fields, sorted.
func fieldList(fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// keyWalker scans valid JSON once, in linear time (json.Decoder.Token is quadratic in depth).
type keyWalker struct {
	b []byte
	i int
	// unknown, if set, is a name the decoder found in an object whose type has no such field:
	// the walk ends with its path there.
	unknown string
}

func (w *keyWalker) space() {
	for w.i < len(w.b) && (w.b[w.i] == ' ' || w.b[w.i] == '\t' || w.b[w.i] == '\n' || w.b[w.i] == '\r') {
		w.i++
	}
}

// str consumes a string and returns it unquoted.
func (w *keyWalker) str() string {
	start := w.i
	w.i++
	for w.i < len(w.b) && w.b[w.i] != '"' {
		if w.b[w.i] == '\\' {
			w.i++
		}
		w.i++
	}
	w.i++
	var s string
	_ = json.Unmarshal(w.b[start:min(w.i, len(w.b))], &s)
	return s
}

// pathNode is where a value sits, spelled out only for an error: building every path as it is
// walked would cost time quadratic in depth.
type pathNode struct {
	up    *pathNode
	name  string
	index int // for a list element (name == "")
}

func (p *pathNode) String() string {
	if p == nil {
		return ""
	}
	if p.name == "" {
		return fmt.Sprintf("%s[%d]", p.up, p.index)
	}
	return join(p.up.String(), p.name)
}

func (w *keyWalker) value(t reflect.Type, path *pathNode) error {
	w.space()
	if w.i >= len(w.b) {
		return nil
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && reflect.PointerTo(t).Implements(unmarshalerType) {
		t = nil // a type that reads its own JSON: only repeated names are looked for inside it
	}
	switch w.b[w.i] {
	case '{':
		w.i++
		var fields map[string]reflect.Type
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = jsonFields(t)
			case reflect.Map:
				elem = t.Elem()
			}
		}
		seen := map[string]bool{}
		for {
			w.space()
			if w.i >= len(w.b) || w.b[w.i] == '}' {
				w.i++
				return nil
			}
			if w.b[w.i] == ',' {
				w.i++
				continue
			}
			name := w.str()
			w.space()
			w.i++ // the colon
			field := &pathNode{up: path, name: name}
			if seen[name] {
				return domain.Invalid(field.String(), "appears twice in one object: give each field once")
			}
			seen[name] = true
			next := elem
			if fields != nil {
				ft, ok := fields[name]
				if !ok && name == w.unknown {
					return domain.Invalid(field.String(), "is not a field of this request: %s takes %s", objectName(path), fieldList(fields))
				}
				if !ok {
					for want := range fields {
						if strings.EqualFold(want, name) {
							return domain.Invalid(field.String(), "is not a field of this request: names are case-sensitive, did you mean %q?", join(path.String(), want))
						}
					}
				}
				next = ft
			}
			if err := w.value(next, field); err != nil {
				return err
			}
		}
	case '[':
		w.i++
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for n := 0; ; {
			w.space()
			if w.i >= len(w.b) || w.b[w.i] == ']' {
				w.i++
				return nil
			}
			if w.b[w.i] == ',' {
				w.i++
				n++
				continue
			}
			if err := w.value(elem, &pathNode{up: path, index: n}); err != nil {
				return err
			}
		}
	case '"':
		w.str()
	default: // a number, true, false or null
		for w.i < len(w.b) && !strings.ContainsRune(",]} \t\n\r", rune(w.b[w.i])) {
			w.i++
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonFields maps the JSON names of a struct's fields (with those of embedded structs) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = ft
	}
	return out
}
