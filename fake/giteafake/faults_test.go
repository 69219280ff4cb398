package giteafake_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"code.gitea.io/sdk/gitea"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
)

func TestFaults(t *testing.T) {
	t.Parallel()

	t.Run("status for the next N calls", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		c := tb.client(t, "tok-ci")
		tb.srv.AddFault(giteafake.Fault{Method: "POST", Path: "/api/v1/repos/*/*/statuses/*", Status: 500, Times: 2})
		opt := gitea.CreateStatusOption{State: gitea.StatusSuccess, Context: "openqa"}
		for i := 0; i < 2; i++ {
			_, resp, err := c.CreateStatus("products", "SLFO", tb.pr.HeadSHA, opt)
			require.Error(t, err)
			require.Equal(t, 500, resp.StatusCode)
		}
		_, _, err := c.CreateStatus("products", "SLFO", tb.pr.HeadSHA, opt)
		require.NoError(t, err)
		rows, err := tb.srv.Statuses("products", "SLFO", tb.pr.HeadSHA)
		require.NoError(t, err)
		require.Len(t, rows, 1, "failed calls must not write")
		require.Len(t, tb.srv.RequestsMatching("POST", "/api/v1/repos/**"), 3)
	})

	t.Run("always with custom body", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.srv.AddFault(giteafake.Fault{Path: "/api/v1/repos/products/SLFO/pulls", Status: 502, Body: `{"message":"bad gateway"}`})
		c := tb.client(t, "tok-ci")
		for i := 0; i < 3; i++ {
			_, _, err := c.ListRepoPullRequests("products", "SLFO", gitea.ListPullRequestsOptions{})
			require.ErrorContains(t, err, "bad gateway")
		}
		tb.srv.ClearFaults()
		_, _, err := c.ListRepoPullRequests("products", "SLFO", gitea.ListPullRequestsOptions{})
		require.NoError(t, err)
	})

	t.Run("latency", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.srv.AddFault(giteafake.Fault{Method: "GET", Path: "/api/v1/repos/*/*/pulls/*", Latency: 80 * time.Millisecond, Times: 1})
		c := tb.client(t, "tok-ci")
		start := time.Now()
		_, _, err := c.GetPullRequest("products", "SLFO", 1)
		require.NoError(t, err)
		require.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond)
	})

	t.Run("lost answer after the write", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.srv.AddFault(giteafake.Fault{Method: "POST", Path: "/api/v1/repos/*/*/statuses/*", Drop: true, AfterHandling: true, Times: 1})
		c := tb.client(t, "tok-ci")
		_, _, err := c.CreateStatus("products", "SLFO", tb.pr.HeadSHA, gitea.CreateStatusOption{State: gitea.StatusSuccess, Context: "openqa"})
		require.Error(t, err, "no answer came")
		rows, err := tb.srv.Statuses("products", "SLFO", tb.pr.HeadSHA)
		require.NoError(t, err)
		require.Len(t, rows, 1, "but the status was written")
		reqs := tb.srv.RequestsMatching("POST", "/api/v1/repos/**")
		require.Len(t, reqs, 1)
		require.Equal(t, http.StatusCreated, reqs[0].Status, "the log shows what the handler answered")
	})

	t.Run("dropped before handling", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.srv.AddFault(giteafake.Fault{Method: "POST", Path: "/api/v1/repos/*/*/statuses/*", Drop: true, Times: 1})
		c := tb.client(t, "tok-ci")
		_, _, err := c.CreateStatus("products", "SLFO", tb.pr.HeadSHA, gitea.CreateStatusOption{State: gitea.StatusSuccess, Context: "openqa"})
		require.Error(t, err)
		rows, err := tb.srv.Statuses("products", "SLFO", tb.pr.HeadSHA)
		require.NoError(t, err)
		require.Empty(t, rows, "nothing was written")
	})

	t.Run("rate hits a fraction of the calls", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.srv.AddFault(giteafake.Fault{Method: "GET", Path: "/api/v1/repos/*/*/pulls/*", Status: 503, Rate: 0.5})
		c := tb.client(t, "tok-ci")
		failed := 0
		for range 200 {
			if _, _, err := c.GetPullRequest("products", "SLFO", 1); err != nil {
				failed++
			}
		}
		// Binomial(200, 0.5): outside 60..140 once in about 10^8 runs.
		require.Greater(t, failed, 60)
		require.Less(t, failed, 140)
	})

	t.Run("hang until client timeout", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.srv.AddFault(giteafake.Fault{Path: "/api/v1/repos/**", Hang: true})
		c, err := gitea.NewClient(tb.srv.URL(), gitea.SetToken("tok-ci"), gitea.SetHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
		require.NoError(t, err)
		_, _, err = c.GetPullRequest("products", "SLFO", 1)
		// The client's own timeout ended the call, not an answer; how long
		// that took on a busy machine is not the point.
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		require.True(t, ne.Timeout(), "%v", err)
	})
}
