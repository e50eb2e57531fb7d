package checkout

import (
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// The SDK, the page's script and styles and the demo are plain files with no
// build step: what is in the repository is what browsers run, so the
// integrity hashes below can be checked by anyone with sha384sum.
//
//go:embed assets/*
var assetFS embed.FS

//go:embed templates/*.html
var templateFS embed.FS

// asset is one embedded file with its integrity metadata.
type asset struct {
	name      string
	body      []byte
	ctype     string
	integrity string // "sha384-…" for integrity= attributes
	version   string // short content hash, appended as ?v= to bust caches
}

var assets = func() map[string]*asset {
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	m := map[string]*asset{}
	for _, e := range entries {
		b, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		ct := "application/javascript; charset=utf-8"
		if path.Ext(e.Name()) == ".css" {
			ct = "text/css; charset=utf-8"
		}
		h := sha512.Sum384(b)
		v := sha256.Sum256(b)
		m[e.Name()] = &asset{name: e.Name(), body: b, ctype: ct,
			integrity: "sha384-" + base64.StdEncoding.EncodeToString(h[:]), version: hex.EncodeToString(v[:6])}
	}
	return m
}()

// SDKPath is where the IMP browser SDK is served.
const SDKPath = "/v1/iamport.js"

// SDKIntegrity is the Subresource Integrity value of the served SDK, for
// <script src=".../v1/iamport.js" integrity="…" crossorigin="anonymous">.
func SDKIntegrity() string { return assets["iamport.js"].integrity }

// SDK returns the SDK's source (tests and documentation).
func SDK() []byte { return append([]byte(nil), assets["iamport.js"].body...) }

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"asset": assetURL,
	"sri":   func(name string) string { return assets[name].integrity },
}).ParseFS(templateFS, "templates/*.html"))

// assetURL is the versioned URL of a page asset.
func assetURL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic(fmt.Sprintf("checkout: no asset %q", name))
	}
	return "/v1/checkout/assets/" + a.name + "?v=" + a.version
}

// serveAsset serves the page's own scripts and styles (not the SDK).
func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a, ok := assets[name]
	if !ok || strings.HasPrefix(name, ".") || name == "iamport.js" {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	// The URL carries the content hash, so caching it is safe.
	h.Set("Cache-Control", "public, max-age=86400")
	w.Write(a.body)
}

// serveSDK serves /v1/iamport.js. Merchants load it from their own origin,
// so CORS is open (required for integrity= with crossorigin="anonymous").
func serveSDK(w http.ResponseWriter, r *http.Request) {
	a := assets["iamport.js"]
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", `"`+a.version+`"`)
	h.Set("X-Billkey-Integrity", a.integrity)
	if r.Header.Get("If-None-Match") == `"`+a.version+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(a.body)
}

// serveSDKInfo publishes the SDK's integrity hash as JSON.
func serveSDKInfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprintf(w, `{"url":%q,"integrity":%q}`+"\n", SDKPath, SDKIntegrity())
}
