package forge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"code.gitea.io/sdk/gitea"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/fixture"
)

const fixtureSHA = "2c8a268954a01e42748e9153707e65808dee20e4"

// fixtureServer answers the SDK's requests with the responses captured from
// Gitea 1.26.0 (testdata/fixtures/gitea/api).
func fixtureServer(t *testing.T) *Client {
	t.Helper()
	serve := func(status int, name string, header map[string]string) http.HandlerFunc {
		body := fixture.Read(t, "gitea/api/"+name)
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "token fixture-token" {
				http.Error(w, `{"message":"token is required"}`, http.StatusUnauthorized)
				return
			}
			for k, v := range header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}
	}
	const repo = "/api/v1/repos/products/SLFO"
	mux := http.NewServeMux()
	mux.Handle("GET "+repo+"/pulls/1/reviews", serve(http.StatusOK, "list_reviews.json", map[string]string{"X-Total-Count": "3"}))
	mux.Handle("POST "+repo+"/pulls/1/reviews", serve(http.StatusOK, "create_review_response.json", nil))
	mux.Handle("POST "+repo+"/statuses/"+fixtureSHA, serve(http.StatusCreated, "create_status_response.json", nil))
	mux.Handle("GET "+repo+"/commits/"+fixtureSHA+"/status", serve(http.StatusOK, "combined_status.json", map[string]string{"X-Total-Count": "2"}))
	// The same combined status from an instance whose MAX_RESPONSE_ITEMS is
	// 1: page 1 is the captured limit=1 answer, page 2 is the other context.
	fullStatus := fixture.Read(t, "gitea/api/combined_status.json")
	limit1 := serve(http.StatusOK, "combined_status_limit1.json", map[string]string{"X-Total-Count": "2"})
	mux.HandleFunc("GET "+repo+"/commits/clamped/status", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "1" {
			limit1(w, r)
			return
		}
		var full gitea.CombinedStatus
		if err := json.Unmarshal(fullStatus, &full); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		full.Statuses = full.Statuses[:1] // obs/staging-build, not on page 1
		full.TotalCount = 1
		w.Header().Set("X-Total-Count", "2")
		_ = json.NewEncoder(w).Encode(full)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL, Token: "fixture-token", Timeout: 2 * time.Second, Retries: -1})
	require.NoError(t, err)
	return c
}

func TestFixtureReviews(t *testing.T) {
	t.Parallel()
	c := fixtureServer(t)
	rows, err := c.Reviews(context.Background(), repoSLFO, 1)
	require.NoError(t, err)
	submitted := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return ts
	}
	require.Equal(t, []Review{
		{ID: 3, User: "qam-bot", State: ReviewApproved, Body: "openQA: All 12 openQA jobs have passed\nTested commit: " + fixtureSHA, CommitID: fixtureSHA, Official: true, SubmittedAt: submitted("2026-11-25T21:01:02Z")},
		{ID: 4, User: "bob", State: ReviewRequestChanges, Body: "Please add a %changelog entry.", CommitID: fixtureSHA, Dismissed: true, SubmittedAt: submitted("2026-11-25T21:01:05Z")},
		{ID: 5, User: "bob", State: ReviewApproved, CommitID: fixtureSHA, Official: true, SubmittedAt: submitted("2026-11-25T21:01:07Z")},
	}, rows)
}

func TestFixtureCreateReview(t *testing.T) {
	t.Parallel()
	c := fixtureServer(t)
	rv, err := c.CreateReview(context.Background(), repoSLFO, 1, ReviewInput{Event: ReviewApproved, Body: "openQA: All 12 openQA jobs have passed", CommitID: fixtureSHA})
	require.NoError(t, err)
	require.Equal(t, int64(3), rv.ID)
	require.Equal(t, "qam-bot", rv.User)
	require.Empty(t, rv.Team)
	require.Equal(t, ReviewApproved, rv.State)
	require.Equal(t, fixtureSHA, rv.CommitID)
	require.True(t, rv.Official)
	require.False(t, rv.Stale)
	require.False(t, rv.Dismissed)
	require.Equal(t, time.Date(2026, 11, 25, 21, 1, 2, 0, time.UTC), rv.SubmittedAt.UTC())
}

func TestFixtureCombinedStatus(t *testing.T) {
	t.Parallel()
	c := fixtureServer(t)
	want := &CombinedStatus{State: "success", SHA: fixtureSHA, Statuses: []Status{
		{Context: "obs/staging-build", State: "success", Description: "Build successful", TargetURL: "https://build.example.test/project/show/SUSE:SLFO:Main:PullRequest:1", Creator: "ci-bot", UpdatedAt: time.Date(2026, 11, 25, 21, 0, 56, 0, time.UTC)},
		{Context: "openqa", State: "success", Description: "All 12 openQA jobs have passed", TargetURL: "https://openqa.example.test/admin/productlog?id=4242", Creator: "ci-bot", UpdatedAt: time.Date(2026, 11, 25, 21, 0, 58, 0, time.UTC)},
	}}
	cs, err := c.CombinedStatus(context.Background(), repoSLFO, fixtureSHA)
	require.NoError(t, err)
	for i := range cs.Statuses {
		cs.Statuses[i].UpdatedAt = cs.Statuses[i].UpdatedAt.UTC()
	}
	require.Equal(t, want, cs)

	// A server that clamps pages below 50 is still read to X-Total-Count.
	cs, err = c.CombinedStatus(context.Background(), repoSLFO, "clamped")
	require.NoError(t, err)
	require.Len(t, cs.Statuses, 2)
	require.ElementsMatch(t, []string{"openqa", "obs/staging-build"}, []string{cs.Statuses[0].Context, cs.Statuses[1].Context})
}

func TestFixtureCreateStatus(t *testing.T) {
	t.Parallel()
	c := fixtureServer(t)
	require.NoError(t, c.CreateStatus(context.Background(), repoSLFO, fixtureSHA, StatusInput{State: "success", Context: "openqa", Description: "All 12 openQA jobs have passed", TargetURL: "https://openqa.example.test/admin/productlog?id=4242"}))

	// The response's state is in "status"; the SDK type and toStatus map it.
	var st gitea.Status
	require.NoError(t, json.Unmarshal(fixture.Read(t, "gitea/api/create_status_response.json"), &st))
	got := toStatus(&st)
	require.Equal(t, Status{
		Context: "openqa", State: "success", Description: "All 12 openQA jobs have passed",
		TargetURL: "https://openqa.example.test/admin/productlog?id=4242", Creator: "ci-bot",
		UpdatedAt: time.Date(2026, 11, 25, 21, 0, 58, 0, time.UTC),
	}, Status{Context: got.Context, State: got.State, Description: got.Description, TargetURL: got.TargetURL, Creator: got.Creator, UpdatedAt: got.UpdatedAt.UTC()})
}
