package api

import (
	"strings"
	"testing"
)

// The query parameters of each route are read from the spec: keys of a path item that are no
// operation are left aside, and a spec that does not say what it means stops the start.
func TestQueryParametersAreReadFromTheSpec(t *testing.T) {
	spec := func(params string) []byte {
		return []byte(`paths:
  /v1/a:
    summary: a path-level summary
    x-note: an extension
    parameters:
      - name: shared
        in: query
    get:
      parameters:
` + params + `
components:
  parameters:
    AsOf:
      name: as_of
      in: query
`)
	}
	got := documentedQueryParams(spec(`        - $ref: "#/components/parameters/AsOf"
        - name: id
          in: header`))
	if want := map[string]bool{"as_of": true, "shared": true}; len(got) != 1 || len(got["GET /v1/a"]) != 2 || !got["GET /v1/a"]["as_of"] || !got["GET /v1/a"]["shared"] {
		t.Errorf("read %v, want only GET /v1/a taking %v", got, want)
	}
	for _, tc := range []struct{ name, params, panics string }{
		{"a reference to no parameter", `        - $ref: "#/components/parameters/Nope"`, "no parameter"},
		{"a parameter listed twice", `        - $ref: "#/components/parameters/AsOf"
        - name: as_of
          in: query`, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r, _ := recover().(string); !strings.Contains(r, tc.panics) {
					t.Errorf("panicked with %q, want it to say %q", r, tc.panics)
				}
			}()
			documentedQueryParams(spec(tc.params))
		})
	}
}
