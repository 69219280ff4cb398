package giteafake_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	base := tb.srv.URL() + "/_fake"

	code, out := postJSON(t, base+"/pulls", "", map[string]any{
		"owner": "products", "repo": "SLFO", "author": "carol", "head": "second", "title": "Second",
		"files": map[string]string{"_patchinfo": "<patchinfo/>"},
	})
	require.Equal(t, http.StatusOK, code, out)
	require.EqualValues(t, 2, out["number"])

	code, out = postJSON(t, base+"/pulls/products/SLFO/2/push", "", map[string]any{"files": map[string]string{"x": "y"}})
	require.Equal(t, http.StatusOK, code, out)
	head := out["head_sha"].(string)

	code, out = postJSON(t, base+"/pulls/products/SLFO/2/labels", "", map[string]any{"actor": "alice", "labels": []string{"needs-openqa"}})
	require.Equal(t, http.StatusOK, code, out)
	code, out = postJSON(t, base+"/pulls/products/SLFO/2/reviews", "", map[string]any{"user": "qam-bot", "state": "APPROVED", "body": "ok"})
	require.Equal(t, http.StatusOK, code, out)
	code, out = postJSON(t, base+"/pulls/products/SLFO/2/reviews", "", map[string]any{"user": "carol", "state": "APPROVED"})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, "approve your own pull is not allowed", out["message"])
	code, out = postJSON(t, base+"/statuses/products/SLFO/"+head, "", map[string]any{"creator": "ci-bot", "state": "success", "context": "openqa"})
	require.Equal(t, http.StatusOK, code, out)
	code, out = postJSON(t, base+"/pulls/products/SLFO/2/merge", "", map[string]any{"actor": "alice"})
	require.Equal(t, http.StatusOK, code, out)
	require.Len(t, out["merge_commit_sha"], 40)

	code, out = postJSON(t, base+"/flush", "", nil)
	require.Equal(t, http.StatusOK, code, out)
	tb.waitIdle(t)
	resp, err := http.Get(base + "/deliveries")
	require.NoError(t, err)
	defer resp.Body.Close()
	var deliveries []struct {
		ID        string          `json:"id"`
		EventType string          `json:"event_type"`
		Body      json.RawMessage `json:"body"`
		Delivered bool            `json:"delivered"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&deliveries))
	var types []string
	for _, d := range deliveries {
		types = append(types, d.EventType)
		require.True(t, d.Delivered)
		require.True(t, json.Valid(d.Body))
	}
	require.Equal(t, []string{"pull_request", "pull_request", "pull_request_sync", "pull_request_label", "pull_request_review_approved", "status", "pull_request"}, types)

	code, out = postJSON(t, base+"/deliveries/"+deliveries[0].ID+"/redeliver", "", nil)
	require.Equal(t, http.StatusOK, code, out)
	require.NotEqual(t, deliveries[0].ID, out["id"])
}
