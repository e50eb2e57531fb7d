package app

import (
	"net/http"
	"sort"

	"github.com/go-chi/chi/v5"
)

// Routes lists every pattern the API serves — "METHOD /path/{param}" for
// the V1 routes and the mounts, or a bare "/prefix/" for a mounted subtree —
// so that tests which must cover every route can check they do.
func (a *App) Routes() []string {
	seen := map[string]bool{}
	for _, p := range []string{"GET /healthz", "GET /readyz", "GET /metrics"} {
		seen[p] = true
	}
	for _, m := range a.mounts {
		seen[m.pattern] = true
	}
	if cr, ok := a.v1.(chi.Routes); ok {
		chi.Walk(cr, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			seen[method+" "+route] = true
			return nil
		})
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
