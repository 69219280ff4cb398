package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/fixture"
)

func adminRequest(h http.Handler, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestAdminRequiresToken(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/admin/deliveries"},
		{http.MethodGet, "/admin/deliveries/1"},
		{http.MethodPost, "/admin/deliveries/1/replay"},
		{http.MethodPost, "/admin/pulls/products/SLFO/1/resync"},
		{http.MethodGet, "/admin/river/"},
	} {
		for _, token := range []string{"", "wrong", adminToken + "x"} {
			rec := adminRequest(h, tc.method, tc.path, token)
			require.Equal(t, http.StatusUnauthorized, rec.Code, "%s %s with %q", tc.method, tc.path, token)
			require.Contains(t, rec.Body.String(), `"error"`)
		}
	}
	t.Run("no token configured disables the admin API", func(t *testing.T) {
		t.Parallel()
		h, _ := setup(t, func(c *config.Config) { c.AdminToken = "" })
		rec := adminRequest(h, http.MethodGet, "/admin/deliveries", "")
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Contains(t, rec.Body.String(), "no token is configured")
	})
}

func TestAdminListAndGetDeliveries(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	for _, d := range fixture.GiteaDeliveries(t) {
		require.Equal(t, http.StatusAccepted, replay(h, d).Code)
	}
	// One ignored delivery, to filter on.
	ignored := fixture.GiteaDelivery(t, "pull_request_opened")
	rec := replay(h, ignored, func(r *http.Request) {
		r.Header.Set("X-Gitea-Delivery", "ignored-1")
		r.Header.Set("X-Gitea-Event-Type", "pull_request_assign")
	})
	require.Equal(t, http.StatusAccepted, rec.Code)

	type listResp struct {
		Deliveries []struct {
			ID         int64  `json:"id"`
			DeliveryID string `json:"delivery_id"`
			EventType  string `json:"event_type"`
			Outcome    string `json:"outcome"`
			Number     *int64 `json:"number"`
		} `json:"deliveries"`
		Next string `json:"next"`
	}
	get := func(path string) listResp {
		rec := adminRequest(h, http.MethodGet, path, adminToken)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var lr listResp
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &lr))
		return lr
	}

	all := get("/admin/deliveries")
	require.Len(t, all.Deliveries, 7)
	for i := 1; i < len(all.Deliveries); i++ {
		require.Greater(t, all.Deliveries[i-1].ID, all.Deliveries[i].ID, "newest first")
	}
	require.Empty(t, all.Next)

	require.Len(t, get("/admin/deliveries?outcome=ignored").Deliveries, 1)
	require.Len(t, get("/admin/deliveries?event=status").Deliveries, 1)
	require.Len(t, get("/admin/deliveries?repo=products/slfo&number=1").Deliveries, 5)
	require.Empty(t, get("/admin/deliveries?number=2").Deliveries)

	page1 := get("/admin/deliveries?limit=4")
	require.Len(t, page1.Deliveries, 4)
	require.NotEmpty(t, page1.Next)
	page2 := get(page1.Next)
	require.Len(t, page2.Deliveries, 3)
	require.Less(t, page2.Deliveries[0].ID, page1.Deliveries[3].ID)

	for _, bad := range []string{"?limit=x", "?limit=501", "?number=one", "?before=-"} {
		rec := adminRequest(h, http.MethodGet, "/admin/deliveries"+bad, adminToken)
		require.Equal(t, http.StatusBadRequest, rec.Code, bad)
	}

	id := all.Deliveries[len(all.Deliveries)-1].ID
	rec = adminRequest(h, http.MethodGet, fmt.Sprintf("/admin/deliveries/%d", id), adminToken)
	require.Equal(t, http.StatusOK, rec.Code)
	var one struct {
		DeliveryID string          `json:"delivery_id"`
		Payload    json.RawMessage `json:"payload"`
		Headers    map[string]string
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &one))
	require.NotEmpty(t, one.Payload)
	require.Contains(t, string(one.Payload), `"full_name"`)
	require.NotContains(t, rec.Body.String(), fixture.GiteaDeliveries(t)[0].Headers["X-Gitea-Signature"], "no signature in the admin view")

	require.Equal(t, http.StatusNotFound, adminRequest(h, http.MethodGet, "/admin/deliveries/999999", adminToken).Code)
	require.Equal(t, http.StatusBadRequest, adminRequest(h, http.MethodGet, "/admin/deliveries/abc", adminToken).Code)
}

func TestAdminReplay(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	d := fixture.GiteaDelivery(t, "pull_request_opened")
	require.Equal(t, http.StatusAccepted, replay(h, d).Code)
	var origID int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT id FROM deliveries`).Scan(&origID))

	// The first sync finished; a replay must enqueue the work again.
	waitDispatched(t, b.pool)
	_, err := b.pool.Exec(context.Background(), `UPDATE river_job SET state = 'completed', finalized_at = now()`)
	require.NoError(t, err)

	rec := adminRequest(h, http.MethodPost, fmt.Sprintf("/admin/deliveries/%d/replay", origID), adminToken)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	resp := decode(t, rec)
	require.Equal(t, float64(origID), resp["replay_of"])
	require.True(t, strings.HasPrefix(resp["delivery"].(string), d.Headers["X-Gitea-Delivery"]+"/replay/"))
	jobIDs := resp["jobs"].([]any)
	require.Len(t, jobIDs, 1)

	js := riverJobs(t, b.pool)
	require.Len(t, js, 2)
	require.Equal(t, "available", js[1].State)
	require.Equal(t, float64(js[1].ID), jobIDs[0])

	var replayOf int64
	var body []byte
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT replay_of, body FROM deliveries WHERE id = $1`, int64(resp["id"].(float64))).Scan(&replayOf, &body))
	require.Equal(t, origID, replayOf, "the replay is linked to the original")
	require.Equal(t, d.Body, body)

	// Replaying twice is allowed and links again.
	rec = adminRequest(h, http.MethodPost, fmt.Sprintf("/admin/deliveries/%d/replay", origID), adminToken)
	require.Equal(t, http.StatusAccepted, rec.Code)
	require.Len(t, riverJobs(t, b.pool), 2, "the pending job absorbs the second replay")
	require.Equal(t, http.StatusNotFound, adminRequest(h, http.MethodPost, "/admin/deliveries/424242/replay", adminToken).Code)
}

func TestAdminResync(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	rec := adminRequest(h, http.MethodPost, "/admin/pulls/products/slfo/7/resync", adminToken)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	js := riverJobs(t, b.pool)
	require.Len(t, js, 1)
	require.Equal(t, "sync_pull", js[0].Kind)
	require.Equal(t, "products/SLFO", js[0].Args["repo"], "the configured spelling")
	require.Equal(t, float64(7), js[0].Args["number"])
	var source, event string
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT source, event FROM deliveries`).Scan(&source, &event))
	require.Equal(t, "admin", source)
	require.Equal(t, "resync", event)

	require.Equal(t, http.StatusNotFound, adminRequest(h, http.MethodPost, "/admin/pulls/other/repo/7/resync", adminToken).Code)
	require.Equal(t, http.StatusBadRequest, adminRequest(h, http.MethodPost, "/admin/pulls/products/SLFO/x/resync", adminToken).Code)
}

// A route switched off in the configuration says so with 404, whatever the
// credentials.
func TestSwitchedOffRoutes(t *testing.T) {
	t.Parallel()
	h, _ := setup(t, func(c *config.Config) {
		c.Webhooks.GiteaDisabled, c.Webhooks.OpenQADisabled, c.AdminDisabled = true, true, true
	})
	for _, tt := range []struct{ method, path, key string }{
		{http.MethodPost, "/webhooks/gitea", "webhooks.gitea_disabled"},
		{http.MethodPost, "/webhooks/openqa", "webhooks.openqa_disabled"},
		{http.MethodGet, "/admin/deliveries", "admin_disabled"},
		{http.MethodGet, "/admin/river/", "admin_disabled"},
	} {
		rec := adminRequest(h, tt.method, tt.path, adminToken)
		require.Equal(t, http.StatusNotFound, rec.Code, tt.path)
		require.Contains(t, rec.Body.String(), tt.key, tt.path)
	}
}
