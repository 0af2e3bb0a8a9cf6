package gencodec

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// encoder writes encodeGenerated and encodeBody, and a function per struct, pointer, slice and
// map type the payloads hold.
func (g *generator) encoder(fs []field, payloads []Payload) error {
	spec := g.spec
	var w strings.Builder
	fmt.Fprintf(&w, `// encodeGenerated appends the JSON of env with body as its %[1]s, byte for byte as encoding/json
// writes the envelope when its %[1]s is json.Marshal(body). It returns false when body is not a
// value of a registered payload type, or holds a value encoding/json fails on; Encode then uses
// encoding/json.
func encodeGenerated(b []byte, env *%[2]s, body any) ([]byte, bool) {
	b = append(b, '{')
`, spec.BodyField, spec.Envelope.Name())
	fields, err := g.writeFields(fs, "env.", func(f field) (string, error) {
		if f.path == spec.BodyField {
			return "if b, ok = encodeBody(b, body); !ok {\nreturn b, false\n}\n", nil
		}
		return g.write(f.typ, "env."+f.path)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", spec.Envelope, err)
	}
	w.WriteString(declareOK(fields))
	fmt.Fprintf(&w, "%sreturn append(b, '}'), true\n}\n\n", fields)

	var cases strings.Builder
	for _, p := range payloads {
		expr, err := g.typeExpr(p.Type)
		if err != nil {
			return err
		}
		write, err := g.write(p.Type, "v")
		if err != nil {
			return fmt.Errorf("%s: %w", p.Type, err)
		}
		fmt.Fprintf(&cases, "case %s:\n%sreturn b, true\n", expr, write)
	}
	fmt.Fprintf(&w, `// encodeBody appends the JSON of a payload of a registered type; false for anything else.
func encodeBody(b []byte, body any) ([]byte, bool) {
	var ok bool
	switch v := body.(type) {
%s}
	return b, false
}

`, cases.String())
	g.funcs["encodeGenerated"] = w.String()
	return nil
}

// declareOK declares the variable ok where the statements of code assign it.
func declareOK(code string) string {
	if strings.Contains(code, "ok = ") {
		return "var ok bool\n"
	}
	return ""
}

// writeFields returns statements appending the members of a struct after its '{', as
// encoding/json writes them: in field order, a comma between two, omitempty fields left out when
// empty. value gives the statements appending a field's value.
func (g *generator) writeFields(fs []field, recv string, value func(field) (string, error)) (string, error) {
	const (
		none  = iota // no member is written before this one
		maybe        // one may be
		some         // one is
	)
	var w strings.Builder
	before := none
	for _, f := range fs {
		val, err := value(f)
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.path, err)
		}
		var key string
		switch before {
		case none:
			key = fmt.Sprintf("b = append(b, `%q:`...)\n", f.key)
		case maybe:
			key = fmt.Sprintf("if b[len(b)-1] != '{' {\nb = append(b, ',')\n}\nb = append(b, `%q:`...)\n", f.key)
		case some:
			key = fmt.Sprintf("b = append(b, `,%q:`...)\n", f.key)
		}
		if !f.omitEmpty {
			w.WriteString(key + val)
			before = some
			continue
		}
		cond, err := nonEmpty(f.typ, recv+f.path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.path, err)
		}
		if cond == "" {
			w.WriteString(key + val) // omitempty leaves no struct out
			before = some
			continue
		}
		fmt.Fprintf(&w, "if %s {\n%s%s}\n", cond, key, val)
		before = max(before, maybe)
	}
	return w.String(), nil
}

// nonEmpty is the condition under which encoding/json writes a field of type t tagged omitempty;
// "" when it always does.
func nonEmpty(t reflect.Type, val string) (string, error) {
	switch t.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return "len(" + val + ") != 0", nil
	case reflect.Bool:
		return val, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return val + " != 0", nil
	case reflect.Pointer:
		return val + " != nil", nil
	case reflect.Struct:
		return "", nil
	}
	return "", fmt.Errorf("omitempty on the kind of %s is not supported", t)
}

// write returns statements appending the JSON of val, an addressable expression of type t, to b;
// where encoding/json would fail on the value they return b, false.
func (g *generator) write(t reflect.Type, val string) (string, error) {
	fail := "; !ok {\nreturn b, false\n}\n"
	if m, ok := g.spec.Writers[t]; ok {
		return fmt.Sprintf("if b, ok = %s(b, %s)%s", m, val, fail), nil
	}
	if t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return "", fmt.Errorf("%s encodes its own way and no writer is named for it", t)
	}
	conv := func(basic string) string {
		if t.Name() == basic && t.PkgPath() == "" {
			return val
		}
		return basic + "(" + val + ")"
	}
	switch t.Kind() {
	case reflect.String:
		return fmt.Sprintf("b = appendJSONString(b, %s)\n", conv("string")), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		g.imports["strconv"] = true
		return fmt.Sprintf("b = strconv.AppendInt(b, %s, 10)\n", conv("int64")), nil
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		g.imports["strconv"] = true
		return fmt.Sprintf("b = strconv.AppendUint(b, %s, 10)\n", conv("uint64")), nil
	case reflect.Bool:
		g.imports["strconv"] = true
		return fmt.Sprintf("b = strconv.AppendBool(b, %s)\n", conv("bool")), nil
	case reflect.Struct:
		if t.Name() == "" || t.PkgPath() != g.spec.Envelope.PkgPath() {
			return "", fmt.Errorf("the struct %s is not a named type of the package", t)
		}
		return fmt.Sprintf("if b, ok = encode%s(b, &%s)%s", spell(t), val, fail), g.encodeStruct(t)
	case reflect.Pointer, reflect.Slice, reflect.Map:
		name, err := g.encodeHelper(t)
		return fmt.Sprintf("if b, ok = %s(b, %s)%s", name, val, fail), err
	}
	return "", fmt.Errorf("the kind of %s is not supported", t)
}

// encodeStruct writes the function encoding struct t, once.
func (g *generator) encodeStruct(t reflect.Type) error {
	name := "encode" + spell(t)
	if g.done[name] {
		return nil
	}
	g.done[name] = true
	fs, err := fields(t)
	if err != nil {
		return err
	}
	body, err := g.writeFields(fs, "v.", func(f field) (string, error) { return g.write(f.typ, "v."+f.path) })
	if err != nil {
		return fmt.Errorf("%s.%w", t, err)
	}
	g.funcs[name] = fmt.Sprintf(`// %s appends a %s as encoding/json writes it.
func %s(b []byte, v *%s) ([]byte, bool) {
	%sb = append(b, '{')
%sreturn append(b, '}'), true
}

`, name, t.Name(), name, t.Name(), declareOK(body), body)
	return nil
}

// encodeHelper writes the function encoding pointer, slice or map type t, once, and returns its
// name.
func (g *generator) encodeHelper(t reflect.Type) (string, error) {
	name := "encode" + spell(t)
	if g.done[name] {
		return name, nil
	}
	g.done[name] = true
	expr, err := g.typeExpr(t)
	if err != nil {
		return "", err
	}
	var w strings.Builder
	switch t.Kind() {
	case reflect.Pointer:
		elem, err := g.write(t.Elem(), "(*p)")
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&w, `// %s appends nil as null, and anything else as what it points to.
func %s(b []byte, p %s) ([]byte, bool) {
	if p == nil {
		return append(b, "null"...), true
	}
	%s%sreturn b, true
}

`, name, name, expr, declareOK(elem), elem)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "", fmt.Errorf("the slice of bytes %s is not supported", t)
		}
		elem, err := g.write(t.Elem(), "s[i]")
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&w, `// %s appends nil as null, and anything else as an array.
func %s(b []byte, s %s) ([]byte, bool) {
	if s == nil {
		return append(b, "null"...), true
	}
	%sb = append(b, '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		%s}
	return append(b, ']'), true
}

`, name, name, expr, declareOK(elem), elem)
	case reflect.Map:
		kt := t.Key()
		if kt.Kind() != reflect.String {
			return "", fmt.Errorf("the map key %s is not supported", kt)
		}
		key, err := g.typeExpr(kt)
		if err != nil {
			return "", err
		}
		elem, err := g.write(t.Elem(), "e")
		if err != nil {
			return "", err
		}
		g.imports["slices"] = true
		keyString := "k"
		if kt.Name() != "string" || kt.PkgPath() != "" {
			keyString = "string(k)"
		}
		fmt.Fprintf(&w, `// %s appends nil as null, and anything else as an object, its keys sorted.
func %s(b []byte, m %s) ([]byte, bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	keys := make([]%s, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	%sb = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, %s), ':')
		e := m[k]
		%s}
	return append(b, '}'), true
}

`, name, name, expr, key, declareOK(elem), keyString, elem)
	}
	g.funcs[name] = w.String()
	return name, nil
}
