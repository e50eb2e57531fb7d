package app

import (
	"net/http"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"
)

// Route is one method and path the HTTP surface serves. Path uses OpenAPI's
// template syntax ("/payments/{imp_uid}"); a path ending in "/" is a prefix
// served by a handler of its own (assets, the console).
type Route struct {
	Method string // "" when any method is routed to the handler
	Path   string
}

func (r Route) String() string { return strings.TrimSpace(r.Method + " " + r.Path) }

// Routes lists every route of Handler, so that tests can hold the OpenAPI
// documents to what is really served.
func (a *App) Routes() []Route {
	out := []Route{{"GET", "/healthz"}, {"GET", "/readyz"}}
	if a.Config.MetricsAddr == "" {
		out = append(out, Route{"GET", "/metrics"})
	}
	for _, m := range a.mounts {
		method, path, ok := strings.Cut(m.pattern, " ")
		if !ok {
			method, path = "", m.pattern
		}
		out = append(out, Route{method, strings.TrimSuffix(path, "{$}")})
	}
	if rs, ok := a.v1.(chi.Routes); ok {
		chi.Walk(rs, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			out = append(out, Route{method, strings.TrimSuffix(route, "/*")})
			return nil
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path+out[i].Method < out[j].Path+out[j].Method })
	return out
}
