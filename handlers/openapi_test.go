package handlers

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
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
	h := NewServer(Deps{Config: testConfig(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: NewMetrics(),
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

// requireShape checks v against a schema's required properties, following
// $ref, allOf, properties and array items: a light check that keeps the
// document's promises about what is always there.
func requireShape(t *testing.T, doc map[string]any, schema map[string]any, v any, at string) {
	t.Helper()
	if ref, ok := schema["$ref"].(string); ok {
		var s any = doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			s = s.(map[string]any)[part]
		}
		require.NotNil(t, s, "%s: %s does not resolve", at, ref)
		requireShape(t, doc, s.(map[string]any), v, at)
		return
	}
	for _, sub := range asList(schema["allOf"]) {
		requireShape(t, doc, sub.(map[string]any), v, at)
	}
	if v == nil {
		return
	}
	if obj, ok := v.(map[string]any); ok {
		for _, key := range asList(schema["required"]) {
			require.Contains(t, obj, key, "%s: required property %q is missing", at, key)
		}
		props, _ := schema["properties"].(map[string]any)
		for key, sub := range props {
			if val, ok := obj[key]; ok {
				requireShape(t, doc, sub.(map[string]any), val, at+"."+key)
			}
		}
	}
	if list, ok := v.([]any); ok {
		items, _ := schema["items"].(map[string]any)
		for i, item := range list {
			if items != nil && i < 3 {
				requireShape(t, doc, items, item, at+"[]")
			}
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func TestOpenAPIDashboardAnswers(t *testing.T) {
	t.Parallel()
	doc := openAPI(t)
	h := dashSetup(t)
	for _, tc := range []struct{ spec, path string }{
		{"/api/v1/pulls", "/api/v1/pulls"},
		{"/api/v1/blocked", "/api/v1/blocked?states=failed,stopped,waiting,passed"},
		{"/api/v1/aggregates", "/api/v1/aggregates"},
		{"/api/v1/pulls/{owner}/{repo}/{number}", "/api/v1/pulls/products/SLFO/1"},
		{"/api/v1/pulls/{owner}/{repo}/{number}", "/api/v1/pulls/products/SLFO/4"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			rec := get(t, h, tc.path)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			var v any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
			op := doc["paths"].(map[string]any)[tc.spec].(map[string]any)["get"].(map[string]any)
			schema := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
			requireShape(t, doc, schema, v, tc.path)
		})
	}
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		rec := get(t, h, "/api/v1/blocked?group_names=(")
		require.Equal(t, http.StatusBadRequest, rec.Code)
		var v any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
		requireShape(t, doc, map[string]any{"$ref": "#/components/schemas/Error"}, v, "error")
	})
}
