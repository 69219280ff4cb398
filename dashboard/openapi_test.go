package dashboard

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

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
	raw, err := os.ReadFile("../api/openapi.yaml")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
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
