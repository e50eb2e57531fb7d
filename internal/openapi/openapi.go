// Package openapi serves Billkey's OpenAPI 3.1 documents — the i'mport V1
// subset it implements and the Subscriptions API v3 — and a reference page
// that renders them with an embedded copy of Swagger UI (no CDN).
package openapi

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
)

//go:embed iamport.json v3.json
var docs embed.FS

//go:embed assets
var assets embed.FS

// Document names.
const (
	IAmport = "iamport.json"
	V3      = "v3.json"
)

// Document returns one of the documents (IAmport or V3).
func Document(name string) ([]byte, error) { return docs.ReadFile(name) }

// Route is one pattern for the top-level ServeMux.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Routes serve /openapi/iamport.json, /openapi/v3.json, the reference page
// at /openapi/ and its assets.
func Routes() []Route {
	doc := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := docs.ReadFile(name)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Access-Control-Allow-Origin", "*") // public documents, for editors and codegen
			w.Header().Set("Cache-Control", "no-cache")
			w.Write(b)
		})
	}
	sub, _ := fs.Sub(assets, "assets")
	return []Route{
		{"GET /openapi/iamport.json", doc(IAmport)},
		{"GET /openapi/v3.json", doc(V3)},
		{"GET /openapi/{$}", http.HandlerFunc(page)},
		{"GET /openapi/assets/", http.StripPrefix("/openapi/assets/", assetServer(sub))},
	}
}

// page is the reference page. Swagger UI needs inline styles and data:
// images, nothing else from outside Billkey.
func page(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("assets/reference.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

func assetServer(fsys fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean(r.URL.Path)
		b, err := fs.ReadFile(fsys, name)
		if err != nil || name == "reference.html" {
			http.NotFound(w, r)
			return
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(b)
	})
}
