package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// openAPI is api/openapi.yaml, read as plain data.
func openAPI(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../api/openapi.yaml")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	require.Equal(t, "3.1.0", doc["openapi"])
	return doc
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// routeKey spells a route the same way for chi and OpenAPI: parameters and a
// trailing wildcard become {}.
func routeKey(method, path string) string {
	path = pathParam.ReplaceAllString(path, "{}")
	if strings.HasSuffix(path, "/*") {
		path = strings.TrimSuffix(path, "*") + "{}"
	}
	return strings.ToUpper(method) + " " + path
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	h := NewServer(Deps{Config: testConfig(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: NewMetrics(prometheus.NewRegistry()),
		RiverUI: http.NotFoundHandler()})
	mux, ok := h.(chi.Routes)
	require.True(t, ok, "NewServer returns a chi router")

	methods := map[string][]string{}
	require.NoError(t, chi.Walk(mux, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		methods[route] = append(methods[route], method)
		return nil
	}))
	var routed []string
	for route, ms := range methods {
		if len(ms) >= 9 {
			// r.Handle answers every method; the document describes its GET.
			ms = []string{http.MethodGet}
		}
		for _, m := range ms {
			routed = append(routed, routeKey(m, route))
		}
	}

	var described []string
	for path, item := range openAPI(t)["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			if slices.Contains([]string{"get", "post", "put", "patch", "delete"}, m) {
				described = append(described, routeKey(m, path))
			}
		}
	}
	slices.Sort(routed)
	slices.Sort(described)
	require.Equal(t, routed, described, "api/openapi.yaml and routes.go must list the same routes")
}
