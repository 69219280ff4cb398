package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/demo"
	"github.com/qemgate/qemgate/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func post(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "%s: %s", url, b)
}

// The story the sandbox prints, driven through the fakes' HTTP control
// endpoints exactly as a newcomer would with curl: build, jobs pass,
// approval.
func TestSandboxStory(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	o := options{Listen: freeAddr(t), GiteaAddr: freeAddr(t), OpenQAAddr: freeAddr(t), DatabaseURL: pgtest.URL(t), LogLevel: "error"}
	sb, err := start(ctx, o, io.Discard)
	require.NoError(t, err)
	defer sb.Close()
	sb.PrintStory(&out)
	story := out.String()
	require.Contains(t, story, sb.base+"/blocked")
	require.Contains(t, story, "/_fake/pulls/products/SLFO/1/reviews")
	require.Contains(t, story, sb.pr.HeadSHA)

	// The admin token is made up at start, printed, and the only one taken.
	require.Contains(t, story, "Bearer "+sb.adminToken)
	require.NotEqual(t, demo.AdminToken, sb.adminToken)
	for token, want := range map[string]int{sb.adminToken: http.StatusOK, demo.AdminToken: http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodGet, sb.base+"/admin/deliveries", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode)
	}

	g, q := sb.gitea.URL(), sb.openqa.URL()
	post(t, fmt.Sprintf("%s/_fake/pulls/%s/%d/reviews", g, demo.Repo, sb.pr.Number),
		`{"user":"autogits_obs_staging_bot","state":"APPROVED","body":"Build successful"}`)
	var ids []int64
	require.Eventually(t, func() bool {
		ids = nil
		for _, j := range sb.openqa.Jobs() {
			ids = append(ids, j.ID)
		}
		return len(ids) == 3
	}, 30*time.Second, 50*time.Millisecond, "three jobs scheduled")
	for _, id := range ids {
		post(t, fmt.Sprintf("%s/_fake/jobs/%d/finish?result=passed", q, id), "")
	}
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/repos/%s/pulls/%d/reviews", g, demo.Repo, sb.pr.Number), nil)
		req.Header.Set("Authorization", "token "+demo.BotToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var reviews []struct {
			User     struct{ Login string } `json:"user"`
			State    string                 `json:"state"`
			CommitID string                 `json:"commit_id"`
		}
		if json.NewDecoder(resp.Body).Decode(&reviews) != nil {
			return false
		}
		for _, r := range reviews {
			if r.User.Login == demo.BotLogin && r.State == "APPROVED" && r.CommitID == sb.pr.HeadSHA {
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "qemgate approves the tested head")
}

func TestSandboxNeedsADatabase(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	code := run(context.Background(), nil, func(string) string { return "" }, io.Discard, &stderr)
	require.Equal(t, 2, code)
	require.Contains(t, stderr.String(), "make sandbox")
}

// With -obs the PR waits for its staging project; publishing it through the
// fake OBS's HTTP controls and a staging bot comment schedules its tests.
func TestSandboxWithOBS(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := options{Listen: freeAddr(t), GiteaAddr: freeAddr(t), OpenQAAddr: freeAddr(t), OBSAddr: freeAddr(t),
		DatabaseURL: pgtest.URL(t), LogLevel: "error"}
	sb, err := start(ctx, o, io.Discard)
	require.NoError(t, err)
	defer sb.Close()
	g, b := sb.gitea.URL(), sb.obs.URL()
	project := demo.StagingProject(sb.pr.Number)
	post(t, fmt.Sprintf("%s/_fake/pulls/%s/%d/reviews", g, demo.Repo, sb.pr.Number),
		`{"user":"autogits_obs_staging_bot","state":"APPROVED","body":"Build successful"}`)
	time.Sleep(500 * time.Millisecond) // nothing may be scheduled while OBS builds
	require.Empty(t, sb.openqa.Jobs())

	post(t, b+"/_fake/projects/"+project+"/state?repository=product&state=published", "")
	for _, arch := range []string{"x86_64", "aarch64"} {
		post(t, fmt.Sprintf("%s/_fake/projects/%s/package?repository=product&arch=%s&package=000productcompose:sles_%s&code=succeeded", b, project, arch, arch), "")
	}
	post(t, fmt.Sprintf("%s/_fake/pulls/%s/%d/comments", g, demo.Repo, sb.pr.Number),
		`{"user":"autogits_obs_staging_bot","body":"Build successful"}`)
	require.Eventually(t, func() bool { return len(sb.openqa.Jobs()) == 3 }, 30*time.Second, 50*time.Millisecond, "three jobs scheduled")
}

// With -rabbitmq the story runs over a broker of its own: Gitea's events
// and openQA's arrive as messages, and the PR is approved.
func TestSandboxWithRabbitMQ(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := options{Listen: freeAddr(t), GiteaAddr: freeAddr(t), OpenQAAddr: freeAddr(t), RabbitMQ: true,
		DatabaseURL: pgtest.URL(t), LogLevel: "error"}
	sb, err := start(ctx, o, io.Discard)
	require.NoError(t, err)
	defer sb.Close()
	var out bytes.Buffer
	sb.PrintStory(&out)
	require.Contains(t, out.String(), "RabbitMQ (-rabbitmq)  "+sb.broker.URL)

	post(t, fmt.Sprintf("%s/_fake/pulls/%s/%d/reviews", sb.gitea.URL(), demo.Repo, sb.pr.Number),
		`{"user":"autogits_obs_staging_bot","state":"APPROVED","body":"Build successful"}`)
	require.Eventually(t, func() bool { return len(sb.openqa.Jobs()) == 3 }, time.Minute, 50*time.Millisecond, "three jobs scheduled")
	for _, j := range sb.openqa.Jobs() {
		post(t, fmt.Sprintf("%s/_fake/jobs/%d/finish?result=passed", sb.openqa.URL(), j.ID), "")
	}
	count := func(sql string) int {
		var n int
		require.NoError(t, sb.pool.QueryRow(ctx, sql).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool {
		return count(`SELECT count(*) FROM reports WHERE kind = 'approval'`) == 1
	}, time.Minute, 100*time.Millisecond, "qemgate approves")
	require.Positive(t, count(`SELECT count(*) FROM deliveries WHERE source = 'gitea-amqp' AND outcome = 'accepted'`))
	require.Equal(t, 3, count(`SELECT count(*) FROM deliveries WHERE source = 'openqa-amqp' AND event_type = 'job_done'`))
	require.Zero(t, count(`SELECT count(*) FROM deliveries WHERE source IN ('gitea', 'openqa')`))
}
