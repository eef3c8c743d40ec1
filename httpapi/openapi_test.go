package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
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

var (
	pbOnce      sync.Once
	pbValidator validator.Validator
	pbErr       error
)

// independent is a second validator that shares no code with kin-openapi
// (pb33f's libopenapi and its JSON Schema engine): a document one of them
// reads more leniently than it is written still has to satisfy the other.
func independent() (validator.Validator, error) {
	pbOnce.Do(func() {
		doc, err := libopenapi.NewDocument(httpapi.OpenAPI())
		if err != nil {
			pbErr = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			pbErr = errors.Join(errs...)
			return
		}
		if ok, errs := v.ValidateDocument(); !ok {
			for _, e := range errs {
				pbErr = errors.Join(pbErr, e)
			}
			return
		}
		pbValidator = v
	})
	return pbValidator, pbErr
}

// validateResponse runs both validators over one response and returns what
// each found wrong (nil: valid).
func validateResponse(t *testing.T, req *http.Request, status int, header http.Header, body []byte) (kin, pb error) {
	t.Helper()
	r, err := router()
	require.NoError(t, err, "openapi.json is not a valid OpenAPI 3 document")
	route, params, err := r.FindRoute(req)
	require.NoError(t, err, "%s %s", req.Method, req.URL.Path)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	kin = openapi3filter.ValidateResponse(context.Background(), in)
	return kin, independentCheck(t, req, status, header, body)
}

// independentCheck validates one response with the independent validator.
func independentCheck(t *testing.T, req *http.Request, status int, header http.Header, body []byte) error {
	t.Helper()
	v, err := independent()
	require.NoError(t, err, "libopenapi-validator refuses openapi.json")
	resp := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	ok, errs := v.ValidateHttpResponse(req, resp)
	if ok {
		return nil
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, fmt.Sprintf("%s: %s %v", e.Message, e.Reason, e.SchemaValidationErrors))
	}
	return fmt.Errorf("libopenapi-validator: %s", strings.Join(msgs, "; "))
}

// checkOpenAPI validates one real response against the OpenAPI document:
// status, headers and body, with kin-openapi and with an independent
// validator. Every response of the end-to-end tests goes through it.
func checkOpenAPI(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	checkIndependently(t, req, resp, body)
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

// checkIndependently is the independent validator's half of checkOpenAPI.
func checkIndependently(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	r, err := router()
	require.NoError(t, err)
	if _, _, err := r.FindRoute(req); err != nil {
		return // unknown routes: see checkOpenAPI
	}
	require.NoError(t, independentCheck(t, req, resp.StatusCode, resp.Header, body), "%s %s → %d does not match openapi.json:\n%s",
		req.Method, req.URL, resp.StatusCode, body)
}
