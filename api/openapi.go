package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 description (openapi.yaml) of the routes this server implements;
// openapi_test.go keeps the two in step.
//
//go:embed openapi.yaml
var OpenAPI []byte
