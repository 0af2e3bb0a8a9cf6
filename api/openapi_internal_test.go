package api

import (
	"slices"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"go.yaml.in/yaml/v3"
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

// The Error schema's codes are every code an error answer can carry: each domain.Kind's and the
// API's own, so that a client generated from the description reads each one.
func TestTheErrorSchemaListsEveryErrorCode(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Enum []string `yaml:"enum"`
						} `yaml:"error"`
					} `yaml:"properties"`
				} `yaml:"Error"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	codes := []string{errOutcomeUnknown, errMethodNotAllowed, errInternal}
	for k := domain.Kind(1); !strings.HasPrefix(k.String(), "kind("); k++ {
		codes = append(codes, k.String())
	}
	listed := doc.Components.Schemas.Error.Properties.Error.Enum
	slices.Sort(codes)
	slices.Sort(listed)
	if !slices.Equal(codes, listed) {
		t.Fatalf("openapi.yaml's Error lists the codes %v; the server answers %v", listed, codes)
	}
}
