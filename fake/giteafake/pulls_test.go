package giteafake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"code.gitea.io/sdk/gitea"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
)

func postJSON(t *testing.T, url, token string, v any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	auth := ""
	if token != "" {
		auth = "token " + token
	}
	return callJSON(t, http.MethodPost, url, auth, bytes.NewReader(b))
}

// callJSON sends a JSON request with an optional raw Authorization header
// and decodes the JSON object answered, if any.
func callJSON(t *testing.T, method, url, auth string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestListPullsPaging(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	for i := 2; i <= 55; i++ {
		_, err := tb.srv.OpenPull(giteafake.PullOptions{Owner: "products", Repo: "SLFO", Author: "carol", Head: fmt.Sprintf("b%d", i), Title: fmt.Sprintf("PR %d", i), Files: map[string]string{"f": fmt.Sprint(i)}})
		require.NoError(t, err)
	}
	c := tb.client(t, "tok-ci")

	prs, resp, err := c.ListRepoPullRequests("products", "SLFO", gitea.ListPullRequestsOptions{State: gitea.StateOpen})
	require.NoError(t, err)
	require.Len(t, prs, 30, "default page size")
	require.Equal(t, "55", resp.Header.Get("X-Total-Count"))
	require.Equal(t, 2, resp.NextPage)
	require.Equal(t, 2, resp.LastPage)
	require.Zero(t, resp.PrevPage)
	require.Equal(t, int64(55), prs[0].Index, "newest first by default")

	prs, _, err = c.ListRepoPullRequests("products", "SLFO", gitea.ListPullRequestsOptions{ListOptions: gitea.ListOptions{PageSize: 100}, Sort: "oldest"})
	require.NoError(t, err)
	require.Len(t, prs, 50, "limit is capped at 50")
	require.Equal(t, int64(1), prs[0].Index)

	prs, resp, err = c.ListRepoPullRequests("products", "SLFO", gitea.ListPullRequestsOptions{ListOptions: gitea.ListOptions{Page: 2, PageSize: 50}})
	require.NoError(t, err)
	require.Len(t, prs, 5)
	require.Zero(t, resp.NextPage)
	require.Equal(t, 1, resp.FirstPage)
	require.Equal(t, 1, resp.PrevPage)
	require.Contains(t, resp.Header.Get("Link"), "<"+tb.srv.URL()+"/api/v1/repos/products/SLFO/pulls?")

	_, err = tb.srv.MergePull("products", "SLFO", 1, "alice")
	require.NoError(t, err)
	require.NoError(t, tb.srv.ClosePull("products", "SLFO", 2, "alice"))
	closed, _, err := c.ListRepoPullRequests("products", "SLFO", gitea.ListPullRequestsOptions{State: gitea.StateClosed})
	require.NoError(t, err)
	require.Len(t, closed, 2)
	all, resp, err := c.ListRepoPullRequests("products", "SLFO", gitea.ListPullRequestsOptions{State: gitea.StateAll, ListOptions: gitea.ListOptions{PageSize: 1}})
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Equal(t, "55", resp.Header.Get("X-Total-Count"))
	require.Equal(t, 55, resp.LastPage)
}

func TestMergeCloseReopen(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	n := tb.pr.Number
	require.NoError(t, tb.srv.ClosePull("products", "SLFO", n, "alice"))
	require.NoError(t, tb.srv.ReopenPull("products", "SLFO", n, "alice"))

	merged, _, err := tb.client(t, "tok-alice").MergePullRequest("products", "SLFO", n, gitea.MergePullRequestOption{Style: gitea.MergeStyleMerge})
	require.NoError(t, err)
	require.True(t, merged)
	pr, _, err := tb.client(t, "tok-alice").GetPullRequest("products", "SLFO", n)
	require.NoError(t, err)
	require.True(t, pr.HasMerged)
	require.Equal(t, gitea.StateClosed, pr.State)
	require.NotNil(t, pr.MergedCommitID)
	require.Equal(t, "alice", pr.MergedBy.UserName)
	raw, _, err := tb.client(t, "tok-alice").GetFile("products", "SLFO", "main", "_patchinfo")
	require.NoError(t, err)
	require.Contains(t, string(raw), "patchinfo")

	tb.waitIdle(t)
	var actions []string
	for _, d := range tb.sink.byType("pull_request") {
		var pl struct {
			Action      string
			PullRequest struct{ Merged bool } `json:"pull_request"`
		}
		require.NoError(t, json.Unmarshal(d.Body, &pl))
		actions = append(actions, fmt.Sprintf("%s merged=%v", pl.Action, pl.PullRequest.Merged))
	}
	require.Equal(t, []string{"opened merged=false", "closed merged=false", "reopened merged=false", "closed merged=true"}, actions)
}
