package api

import (
	"reflect"
	"testing"
)

// TestTheAnswerCacheKeyHoldsNoReport: the encoded answers' cache names a report by value, so
// that it never keeps a report, nor the views a report holds, alive: keyed by the report, it
// kept every replay of closed books a read of an old date made (hundreds of MiB after a few
// dozen reads).
func TestTheAnswerCacheKeyHoldsNoReport(t *testing.T) {
	var holds func(reflect.Type) bool
	holds = func(typ reflect.Type) bool {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			return true
		case reflect.Struct:
			for i := range typ.NumField() {
				if holds(typ.Field(i).Type) {
					return true
				}
			}
		case reflect.Array:
			return holds(typ.Elem())
		}
		return false
	}
	if typ := reflect.TypeOf(encKey{}); holds(typ) {
		t.Errorf("%v holds a reference: a cached answer keeps what it points to alive", typ)
	}
}
