package api

import (
	_ "embed"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// OpenAPI is the OpenAPI 3.1 description (openapi.yaml) of the routes this server implements;
// openapi_test.go keeps the two in step.
//
//go:embed openapi.yaml
var OpenAPI []byte

// queryParams holds, per route as the mux names it ("GET /v1/counties"), the query parameters
// openapi.yaml documents for it: what routed refuses any other parameter against.
var queryParams = documentedQueryParams(OpenAPI)

// documentedQueryParams reads the query parameters of every operation of spec, its own and its
// path's, with those it refers to among components.parameters resolved.
func documentedQueryParams(spec []byte) map[string]map[string]bool {
	type param struct {
		Ref  string `yaml:"$ref"`
		Name string `yaml:"name"`
		In   string `yaml:"in"`
	}
	var doc struct {
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components struct {
			Parameters map[string]param `yaml:"parameters"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		panic("openapi.yaml: " + err.Error())
	}
	// A spec that does not say what it means stops the server at start (and every test).
	names := func(where string, n yaml.Node) []string {
		var ps struct {
			Parameters []param `yaml:"parameters"`
		}
		if err := n.Decode(&ps); err != nil {
			panic("openapi.yaml: " + where + ": " + err.Error())
		}
		var out []string
		for _, p := range ps.Parameters {
			if p.Ref != "" {
				c, ok := doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				if !ok {
					panic("openapi.yaml: " + where + ": no parameter " + p.Ref)
				}
				p = c
			}
			if p.In == "query" {
				if slices.Contains(out, p.Name) {
					panic("openapi.yaml: " + where + ": query parameter " + p.Name + " listed twice")
				}
				out = append(out, p.Name)
			}
		}
		return out
	}
	routes := map[string]map[string]bool{}
	for path, item := range doc.Paths {
		var shared []string
		if n, ok := item["parameters"]; ok {
			var wrap yaml.Node
			if err := wrap.Encode(map[string]yaml.Node{"parameters": n}); err != nil {
				panic("openapi.yaml: " + err.Error())
			}
			shared = names(path, wrap)
		}
		for method, op := range item {
			if !slices.Contains(httpMethods, method) {
				continue // summary, description, servers, x-…: no operation
			}
			set := map[string]bool{}
			for _, name := range append(names(strings.ToUpper(method)+" "+path, op), shared...) {
				set[name] = true
			}
			routes[strings.ToUpper(method)+" "+path] = set
		}
	}
	return routes
}

// httpMethods are the keys of an OpenAPI path item that name operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
