// Package apiclient is a Go client generated from httpapi/openapi.json by
// oapi-codegen, as a partner would generate one. It is not used by the
// service: httpapi's TestGeneratedClientWalksPages compiles it and walks
// every page of searches with it, so the document stays one that code
// generators read as the service behaves. After changing openapi.json, run
// go generate ./examples/apiclient and commit the result.
package apiclient

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config config.yaml ../../httpapi/openapi.json
