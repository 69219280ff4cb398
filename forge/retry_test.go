package forge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
)

func TestReadRetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	b.srv.AddFault(giteafake.Fault{Method: "GET", Path: "/api/v1/repos/*/*/pulls/*", Status: 500, Times: 2})
	b.srv.ResetRequests()

	p, err := c.GetPull(context.Background(), repoSLFO, 1)
	require.NoError(t, err)
	require.Equal(t, int64(1), p.Number)
	require.Len(t, b.srv.RequestsMatching("GET", "/api/v1/repos/*/*/pulls/*"), 3)
	require.Equal(t, []observation{{"get_pull", 500}, {"get_pull", 500}, {"get_pull", 200}}, b.observations())
}

func TestReadRetriesAreBounded(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	b.srv.AddFault(giteafake.Fault{Method: "GET", Path: "/api/v1/repos/*/*/pulls/*/reviews", Status: 503, Body: `{"message":"maintenance","url":""}`})
	b.srv.ResetRequests()

	_, err := c.Reviews(context.Background(), repoSLFO, 1)
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, http.StatusServiceUnavailable, fe.Status)
	require.Equal(t, "maintenance", fe.Message)
	require.Equal(t, "reviews", fe.Op)
	require.Equal(t, "products/SLFO#1", fe.Target)
	require.True(t, fe.Retryable())
	require.Len(t, b.srv.RequestsMatching("GET", "/api/v1/repos/*/*/pulls/*/reviews"), 3, "1 try + Retries 2")
}

func TestReadRetryHonoursContext(t *testing.T) {
	t.Parallel()
	b, _ := setup(t, "sha1")
	c := b.client(t, "tok-ci", func(cfg *Config) { cfg.Retries, cfg.Backoff = 10, time.Hour })
	b.srv.AddFault(giteafake.Fault{Method: "GET", Path: "/api/v1/repos/*/*/pulls/*", Status: 502})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := c.GetPull(ctx, repoSLFO, 1)
	require.Less(t, time.Since(start), 5*time.Second, "no waiting out the backoff once ctx is done")
	require.True(t, IsRetryable(err), "%v", err)
	require.Len(t, b.srv.RequestsMatching("GET", "/api/v1/repos/*/*/pulls/*"), 1)
}

func TestWritesAreNotRetried(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()
	b.srv.AddFault(giteafake.Fault{Method: "POST", Path: "/api/v1/repos/**", Status: 500, Times: 1})
	b.srv.AddFault(giteafake.Fault{Method: "PATCH", Path: "/api/v1/repos/**", Status: 502, Times: 1})

	err := c.CreateStatus(ctx, repoSLFO, b.pr.HeadSHA, StatusInput{State: "success", Context: "qam-openqa"})
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, 500, fe.Status)
	require.Equal(t, "create_status", fe.Op)
	require.True(t, fe.Retryable(), "the caller may retry")
	require.Len(t, b.srv.RequestsMatching("POST", "/api/v1/repos/*/*/statuses/*"), 1, "a POST is sent once")
	rows, err := b.srv.Statuses("products", "SLFO", b.pr.HeadSHA)
	require.NoError(t, err)
	require.Empty(t, rows)

	cm, err := c.CreateComment(ctx, repoSLFO, 1, "summary")
	require.NoError(t, err, "the fault was used up by the status")
	err = c.EditComment(ctx, repoSLFO, cm.ID, "summary v2")
	require.True(t, IsRetryable(err), "%v", err)
	require.Len(t, b.srv.RequestsMatching("PATCH", "/api/v1/repos/*/*/issues/comments/*"), 1, "a PATCH is sent once")
}

func TestHangingEndpointTimesOut(t *testing.T) {
	t.Parallel()
	b, _ := setup(t, "sha1")
	c := b.client(t, "tok-ci", func(cfg *Config) { cfg.Timeout, cfg.Retries = 150*time.Millisecond, 1 })
	b.srv.AddFault(giteafake.Fault{Path: "/api/v1/repos/*/*/commits/*/status", Hang: true})
	b.srv.AddFault(giteafake.Fault{Method: "POST", Path: "/api/v1/repos/*/*/pulls/*/reviews", Hang: true})

	start := time.Now()
	_, err := c.CombinedStatus(context.Background(), repoSLFO, b.pr.HeadSHA)
	elapsed := time.Since(start)
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, 0, fe.Status)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.True(t, fe.Retryable())
	require.GreaterOrEqual(t, elapsed, 300*time.Millisecond, "two attempts of 150ms")
	require.Less(t, elapsed, 3*time.Second)

	start = time.Now()
	_, err = c.CreateReview(context.Background(), repoSLFO, 1, ReviewInput{Event: ReviewApproved, CommitID: b.pr.HeadSHA})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 300*time.Millisecond, "one attempt only")

	obs := b.observations()
	require.Equal(t, []observation{{"combined_status", 0}, {"combined_status", 0}, {"create_review", 0}}, obs)
}

func TestObserveEndpointNames(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()
	sha := b.pr.HeadSHA

	_, err := c.GetPull(ctx, repoSLFO, 1)
	require.NoError(t, err)
	_, err = c.ListOpenPulls(ctx, repoSLFO)
	require.NoError(t, err)
	_, err = c.PullFiles(ctx, repoSLFO, 1)
	require.NoError(t, err)
	_, err = c.RawFile(ctx, repoSLFO, sha, "_patchinfo")
	require.NoError(t, err)
	_, err = c.Reviews(ctx, repoSLFO, 1)
	require.NoError(t, err)
	_, err = c.CombinedStatus(ctx, repoSLFO, sha)
	require.NoError(t, err)
	require.NoError(t, c.CreateStatus(ctx, repoSLFO, sha, StatusInput{State: "pending", Context: "qam-openqa"}))
	rv, err := c.CreateReview(ctx, repoSLFO, 1, ReviewInput{Event: ReviewApproved, CommitID: sha})
	require.NoError(t, err)
	require.NoError(t, b.client(t, "tok-alice").DismissReview(ctx, repoSLFO, 1, rv.ID, "stale"))
	_, err = c.Comments(ctx, repoSLFO, 1)
	require.NoError(t, err)
	cm, err := c.CreateComment(ctx, repoSLFO, 1, "hi")
	require.NoError(t, err)
	require.NoError(t, c.EditComment(ctx, repoSLFO, cm.ID, "hello"))
	_, err = c.PullsForCommit(ctx, repoSLFO, sha)
	require.NoError(t, err)

	require.Equal(t, []observation{
		{"get_pull", 200}, {"list_pulls", 200}, {"pull_files", 200}, {"raw_file", 200}, {"reviews", 200},
		{"combined_status", 200}, {"create_status", 201}, {"create_review", 200}, {"dismiss_review", 200},
		{"comments", 200}, {"create_comment", 201}, {"edit_comment", 200}, {"pulls_for_commit", 200},
	}, b.observations())
}

func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id":1,"status":"success","context":"qam-openqa"}`))
		default:
			_, _ = w.Write([]byte(`{"state":"","sha":"","total_count":0,"statuses":null}`))
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL + "/", Token: "s3cret", Timeout: 2 * time.Second})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.CreateStatus(ctx, repoSLFO, "abc1234", StatusInput{State: "success", Context: "qam-openqa"}))
	_, err = c.CombinedStatus(ctx, repoSLFO, "abc1234")
	require.NoError(t, err)

	require.Equal(t, []string{
		"POST /api/v1/repos/products/SLFO/statuses/abc1234 token s3cret",
		"GET /api/v1/repos/products/SLFO/commits/abc1234/status token s3cret",
	}, got, "no /api/v1/version probe, the token on SDK and raw requests alike")
}

// TestConcurrentCallsKeepTheirOwnContext guards the per-attempt SDK client:
// a call whose context is cancelled must not cancel its neighbours (run
// with -race to also catch a shared SDK client's SetContext).
func TestConcurrentCallsKeepTheirOwnContext(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	b.srv.AddFault(giteafake.Fault{Path: "/api/v1/repos/*/*/pulls/*/files", Latency: 50 * time.Millisecond})
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if i%2 == 1 {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				ctx = cctx
			}
			_, errs[i] = c.PullFiles(ctx, repoSLFO, 1)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 1 {
			require.ErrorIs(t, err, context.Canceled, "call %d", i)
			require.False(t, IsRetryable(err))
		} else {
			require.NoError(t, err, "call %d", i)
		}
	}
}
