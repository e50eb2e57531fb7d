// Package openapitest checks live HTTP responses against Billkey's OpenAPI
// documents: wrap a handler with Validate in a test, and every response to
// a documented operation is validated against its schema.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/billkey/billkey/internal/openapi"
)

// Docs are the loaded documents with their routers.
type Docs struct {
	IAmport, V3             *openapi3.T
	iamportRouter, v3Router routers.Router
}

var (
	loadOnce sync.Once
	loaded   *Docs
	loadErr  error
)

// Load parses and validates both documents (once per test binary).
func Load() (*Docs, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

func load() (*Docs, error) {
	// The OneShot page and its script are documented as text.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/javascript", openapi3filter.PlainBodyDecoder)
	d := &Docs{}
	for _, x := range []struct {
		name string
		doc  **openapi3.T
		r    *routers.Router
	}{{openapi.IAmport, &d.IAmport, &d.iamportRouter}, {openapi.V3, &d.V3, &d.v3Router}} {
		raw, err := openapi.Document(x.name)
		if err != nil {
			return nil, err
		}
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x.name, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", x.name, err)
		}
		*x.doc = doc
		// The documents name the server relatively ("/"); route on paths alone.
		routing := *doc
		routing.Servers = nil
		if *x.r, err = legacy.NewRouter(&routing); err != nil {
			return nil, fmt.Errorf("%s: %w", x.name, err)
		}
	}
	return d, nil
}

// Dialect returns the document and router that describe path.
func (d *Docs) Dialect(path string) (*openapi3.T, routers.Router) {
	if strings.HasPrefix(path, "/v3/") {
		return d.V3, d.v3Router
	}
	return d.IAmport, d.iamportRouter
}

// Validate wraps next so that every response to an operation the documents
// describe is checked against them; a mismatch fails t. Requests to routes
// the documents do not describe pass unchecked (the route-walk test catches
// those). It returns how many responses were validated so far.
func Validate(t testing.TB, next http.Handler) (http.Handler, func() int) {
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n, done := 0, false
	t.Cleanup(func() { mu.Lock(); done = true; mu.Unlock() })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqBody, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Header().Get("Content-Type") == "" && rec.Body.Len() > 0 {
			// What net/http would send (the recorder does not sniff).
			rec.Header().Set("Content-Type", http.DetectContentType(rec.Body.Bytes()))
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())

		_, router := d.Dialect(r.URL.Path)
		probe := r.Clone(context.Background())
		probe.URL.Path = strings.TrimSuffix(probe.URL.Path, "/")
		route, params, err := router.FindRoute(probe)
		if err != nil {
			return
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
			Status: rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		err = openapi3filter.ValidateResponse(context.Background(), in)
		mu.Lock()
		defer mu.Unlock()
		if done {
			return // a request that outlived its test
		}
		n++
		if err != nil {
			t.Errorf("%s %s → %d does not match the OpenAPI document: %v\nbody: %s", r.Method, r.URL.Path, rec.Code, err, truncate(rec.Body.String(), 600))
		}
	})
	return h, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
