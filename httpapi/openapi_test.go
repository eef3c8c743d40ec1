package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/httpapi"
)

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

func router() (routers.Router, error) {
	specOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI())
		if err != nil {
			specErr = err
			return
		}
		if specErr = doc.Validate(context.Background()); specErr != nil {
			return
		}
		doc.Servers = nil // match any host: tests listen on ephemeral ports
		specRouter, specErr = legacy.NewRouter(doc)
	})
	return specRouter, specErr
}

// checkOpenAPI validates one real response against the OpenAPI document:
// status, headers and body. Every response of the end-to-end tests goes
// through it.
func checkOpenAPI(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	r, err := router()
	require.NoError(t, err, "openapi.json is not a valid OpenAPI 3 document")
	route, params, err := r.FindRoute(req)
	if err != nil {
		// Unknown routes are documented only by their error envelope.
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s: %v", req.Method, req.URL.Path, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), in), "%s %s → %d does not match openapi.json:\n%s",
		req.Method, req.URL, resp.StatusCode, body)
}

func TestOpenAPIServedWithoutKey(t *testing.T) {
	st := newStack(t, neverTrips)
	resp, err := http.Get(st.api.URL + "/v1/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc, err := openapi3.NewLoader().LoadFromIoReader(resp.Body)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	for _, path := range []string{"/v1/vehicles", "/v1/vehicles/{id}", "/v1/vehicles/facets"} {
		require.NotNil(t, doc.Paths.Find(path), path)
	}
}
