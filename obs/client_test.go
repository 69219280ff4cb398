package obs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/obsfake"
	"github.com/qemgate/qemgate/obs"
)

const project = "SUSE:SLFO:1.1.99:PullRequest:124:SLES"

// fixtureServer answers the recorded XML of testdata/ and counts requests.
func fixtureServer(t *testing.T, routes map[string]string, status int) (*httptest.Server, *int) {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		u, p, ok := r.BasicAuth()
		require.True(t, ok && u == "qam" && p == "pw", "basic auth")
		file, found := routes[r.URL.EscapedPath()]
		if !found {
			t.Errorf("unexpected request %s", r.URL.EscapedPath())
			w.WriteHeader(http.StatusTeapot)
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", file))
		require.NoError(t, err)
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestResultsFromARecordedAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := fixtureServer(t, map[string]string{
		"/build/" + project + "/_result":                        "build-results-SLES.xml",
		"/source/" + project + "/000productcompose/_multibuild": "multibuild-SLES.xml",
	}, http.StatusOK)
	c := obs.New(obs.Config{URL: srv.URL, User: "qam", Password: "pw"})
	rs, err := c.Results(context.Background(), project)
	require.NoError(t, err)
	require.Len(t, rs, 5)
	x86 := rs[1]
	require.Equal(t, []string{"product", "x86_64", "published", "published"}, []string{x86.Repository, x86.Arch, x86.Code, x86.State})
	require.Equal(t, "https://src.suse.de/products/SLFO#16.0", x86.SCMSync)
	require.True(t, strings.HasPrefix(x86.SCMInfo, "4c1e4d0e"))
	require.Equal(t, obs.Status{Package: "000productcompose:sles_x86_64", Code: "succeeded"}, x86.Statuses[2])
	require.True(t, rs[2].Dirty)
	require.Equal(t, "building on obs-arm-5", rs[2].Statuses[1].Details)

	flavors, err := c.Multibuild(context.Background(), project, "000productcompose")
	require.NoError(t, err)
	require.Equal(t, []string{"sles_x86_64", "sles_aarch64", "sles_x86_64_offline"}, flavors)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	t.Run("404 is not retried and says what OBS said", func(t *testing.T) {
		t.Parallel()
		srv, n := fixtureServer(t, map[string]string{"/build/" + project + "/_result": "unknown-project.xml"}, http.StatusNotFound)
		_, err := obs.New(obs.Config{URL: srv.URL, User: "qam", Password: "pw", Backoff: time.Millisecond}).Results(context.Background(), project)
		require.True(t, obs.IsNotFound(err))
		require.False(t, obs.IsRetryable(err))
		require.ErrorContains(t, err, "unknown_project: SUSE:SLFO:1.1.99:PullRequest:999:SLES")
		require.Equal(t, 1, *n)
	})
	t.Run("5xx is retried, then reported", func(t *testing.T) {
		t.Parallel()
		srv, n := fixtureServer(t, map[string]string{"/build/" + project + "/_result": "unknown-project.xml"}, http.StatusBadGateway)
		_, err := obs.New(obs.Config{URL: srv.URL, User: "qam", Password: "pw", Retries: 2, Backoff: time.Millisecond}).Results(context.Background(), project)
		require.True(t, obs.IsRetryable(err))
		require.Equal(t, 3, *n)
	})
}

func TestAgainstTheFake(t *testing.T) {
	t.Parallel()
	f := obsfake.New(obsfake.Options{User: "qam", Password: "s3cret-pw"})
	t.Cleanup(f.Close)
	f.SetProject(project, obsfake.Project{
		SCMSync: "https://src.suse.de/products/SLFO#16.0", SCMInfo: "abc1234",
		Flavors: []string{"sles_x86_64"},
		Results: []obsfake.Result{{Repository: "product", Arch: "x86_64", State: "building",
			Packages: []obsfake.Package{{Name: "000productcompose:sles_x86_64", Code: "building"}}}},
		Listing: map[string][]string{"product": {"SLES-16.0-x86_64-Build2.1.iso"}},
	})
	ctx := context.Background()
	c := obs.New(obs.Config{URL: f.URL(), User: "qam", Password: "s3cret-pw", DownloadURL: f.DownloadURL(), Backoff: time.Millisecond})

	rs, err := c.Results(ctx, project)
	require.NoError(t, err)
	require.Equal(t, "building", rs[0].State)
	require.NoError(t, f.SetState(project, "product", "x86_64", "published"))
	require.NoError(t, f.SetPackage(project, "product", "x86_64", "000productcompose:sles_x86_64", "succeeded"))
	rs, err = c.Results(ctx, project)
	require.NoError(t, err)
	require.Equal(t, "published", rs[0].State)
	require.Equal(t, "succeeded", rs[0].Statuses[0].Code)

	names, err := c.Listing(ctx, project, "product")
	require.NoError(t, err)
	require.Equal(t, []string{"SLES-16.0-x86_64-Build2.1.iso"}, names)

	_, err = obs.New(obs.Config{URL: f.URL(), User: "qam", Password: "wrong"}).Results(ctx, project)
	require.ErrorContains(t, err, "HTTP 401")
	require.NotContains(t, err.Error(), "wrong", "no credentials in errors")
	require.NotContains(t, err.Error(), "s3cret")

	_, err = c.Multibuild(ctx, "SUSE:SLFO:Nope", "000productcompose")
	require.True(t, obs.IsNotFound(err))

	f.InjectFault(obsfake.EndpointResult, obsfake.Fault{Project: project, Status: 500, Times: 2})
	rs, err = c.Results(ctx, project)
	require.NoError(t, err, "two 500s are retried away")
	require.Len(t, rs, 1)

	f.InjectFault(obsfake.EndpointResult, obsfake.Fault{Latency: 2 * time.Second, Times: 1})
	slow := obs.New(obs.Config{URL: f.URL(), User: "qam", Password: "s3cret-pw", Timeout: 50 * time.Millisecond, Retries: -1})
	_, err = slow.Results(ctx, project)
	require.True(t, obs.IsRetryable(err), "a timeout is retryable: %v", err)
	require.ErrorContains(t, err, "no answer within 50ms")
}
