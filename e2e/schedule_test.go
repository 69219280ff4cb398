package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// isoPosts returns the form of every accepted POST /api/v1/isos.
func (w *world) isoPosts() []map[string]string {
	w.t.Helper()
	var out []map[string]string
	for _, p := range w.openqa.ISOPosts() {
		if p.Status != 0 && p.Status != http.StatusOK {
			continue
		}
		form := map[string]string{}
		for k, v := range p.Form {
			form[k] = v[0]
		}
		out = append(out, form)
	}
	return out
}

func (w *world) runs(number int64) []store.TestRun {
	w.t.Helper()
	runs, err := store.RunsOfPull(w.ctx, w.app.Pool, repo, number, "")
	require.NoError(w.t, err)
	return runs
}

// The build-ready review triggers exactly one isos POST per planned run,
// whatever is repeated or replayed.
func TestScheduleOnBuildReadyReview(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr := w.openPull("Update openssl-3")
	w.settle()
	require.Empty(t, w.isoPosts(), "nothing is scheduled before the build is ready")
	p, err := store.GetPull(w.ctx, w.app.Pool, repo, pr.Number)
	require.NoError(t, err)
	require.True(t, p.Gated, "a review is requested from our team")
	require.Equal(t, []string{"openssl-3"}, p.Packages, "packages come from the _patchinfo")
	require.Equal(t, 550, p.Priority)
	require.Len(t, pr.HeadSHA, 64, "a SHA-256 repository")

	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()

	posts := w.isoPosts()
	require.Len(t, posts, 2, "one POST per planned run (x86_64, aarch64)")
	archs := map[string]bool{}
	for _, f := range posts {
		archs[f["ARCH"]] = true
		require.Equal(t, "sle", f["DISTRI"])
		require.Equal(t, "16.0", f["VERSION"])
		require.Equal(t, "Online-Incidents", f["FLAVOR"])
		require.Equal(t, ":git:1:openssl-3", f["BUILD"])
		require.Equal(t, fmt.Sprint(pr.Number), f["OS_TEST_ISSUES"])
		require.Equal(t, "git:1", f["SUBMISSION_ID"])
		require.Equal(t, pr.HeadSHA, f["GITEA_SHA"])
		require.Equal(t, repo, f["GITEA_REPO"])
		require.Equal(t, "1", f["_OBSOLETE"])
		require.Equal(t, "1", f["_ONLY_OBSOLETE_SAME_BUILD"])
		require.Equal(t, w.srv.URL+"/pulls/products/SLFO/1", f["__DASHBOARD_URL"])
		require.Contains(t, f["INCIDENT_REPO"], "SUSE:/SLFO:/1.1.99:/PullRequest:/1/")
		require.NotEmpty(t, f["_PRIORITY"])
	}
	require.Equal(t, map[string]bool{"x86_64": true, "aarch64": true}, archs)
	for _, r := range w.runs(pr.Number) {
		require.Equal(t, store.RunScheduled, r.State)
		require.NotEmpty(t, r.JobIDs)
		require.NotZero(t, r.ScheduledProductID)
	}

	// The same signal three more times and an admin replay: nothing new.
	for i := 0; i < 2; i++ {
		w.buildSucceeds(pr.Number, pr.HeadSHA)
	}
	for _, d := range w.gitea.Deliveries() {
		if d.EventType == "pull_request_review_approved" {
			_, err := w.gitea.Redeliver(d.ID)
			require.NoError(t, err)
			break
		}
	}
	w.settle()
	var deliveryID int64
	require.NoError(t, w.app.Pool.QueryRow(w.ctx, `SELECT id FROM deliveries WHERE event_type = 'pull_request_review_approved' ORDER BY id LIMIT 1`).Scan(&deliveryID))
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/admin/deliveries/%d/replay", w.srv.URL, deliveryID), nil)
	req.Header.Set("Authorization", "Bearer "+w.cfg.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	w.settle()
	require.Len(t, w.isoPosts(), 2, "still one POST per run")
	require.Equal(t, 2, w.count(`SELECT count(*) FROM test_runs WHERE number = $1 AND state = 'scheduled'`, pr.Number))
}

// A commit status in the configured context is a build signal too.
func TestScheduleOnBuildStatus(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr := w.openPull("Update openssl-3")
	_, err := w.gitea.CreateStatus(owner, repoName, pr.HeadSHA, stagingBot, giteafake.StatusOptions{State: "pending", Context: "obs/staging-build"})
	require.NoError(t, err)
	w.settle()
	require.Empty(t, w.isoPosts(), "a pending build is not ready")
	_, err = w.gitea.CreateStatus(owner, repoName, pr.HeadSHA, stagingBot, giteafake.StatusOptions{State: "success", Context: "ci/unrelated"})
	require.NoError(t, err)
	w.settle()
	require.Empty(t, w.isoPosts(), "another context is not the build")
	_, err = w.gitea.CreateStatus(owner, repoName, pr.HeadSHA, stagingBot, giteafake.StatusOptions{State: "success", Context: "obs/staging-build"})
	require.NoError(t, err)
	w.settle()
	require.Len(t, w.isoPosts(), 2)
	p, err := store.GetPull(w.ctx, w.app.Pool, repo, pr.Number)
	require.NoError(t, err)
	require.Equal(t, "status:obs/staging-build", p.BuildSignal)
}

// A push supersedes the old SHA's runs; the new SHA waits for its own build.
func TestScheduleNewPushWaitsForItsOwnBuild(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr := w.openPull("Update openssl-3")
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	require.Len(t, w.isoPosts(), 2)

	pushed, err := w.gitea.Push(owner, repoName, pr.Number, giteafake.PushOptions{Files: map[string]string{"openssl-3/openssl-3.spec": "Version: 3.1.2"}})
	require.NoError(t, err)
	require.NotEqual(t, pr.HeadSHA, pushed.HeadSHA)
	w.settle()
	require.Len(t, w.isoPosts(), 2, "the new SHA waits for its build")
	for _, r := range w.runs(pr.Number) {
		require.Equal(t, store.RunSuperseded, r.State, "old runs are superseded")
	}

	w.buildSucceeds(pr.Number, pushed.HeadSHA)
	w.settle()
	posts := w.isoPosts()
	require.Len(t, posts, 4)
	for _, f := range posts[2:] {
		require.Equal(t, pushed.HeadSHA, f["GITEA_SHA"])
	}
	var superseded, scheduled int
	for _, r := range w.runs(pr.Number) {
		switch {
		case r.SHA == pr.HeadSHA && r.State == store.RunSuperseded:
			superseded++
		case r.SHA == pushed.HeadSHA && r.State == store.RunScheduled:
			scheduled++
		}
	}
	require.Equal(t, 2, superseded)
	require.Equal(t, 2, scheduled)
}

// openQA down: the POST is retried, and the run is scheduled once it is back.
func TestScheduleRetriesWhileOpenQAIsDown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr := w.openPull("Update openssl-3")
	w.settle()
	w.openqa.InjectFault("isos", openqafake.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	require.Eventually(t, func() bool { return len(w.isoPosts()) == 2 }, 40*time.Second, 50*time.Millisecond)
	w.settle()
	require.Len(t, w.isoPosts(), 2, "scheduled exactly once per run")
	for _, r := range w.runs(pr.Number) {
		require.Equal(t, store.RunScheduled, r.State)
	}
	var attempts int
	require.NoError(t, w.app.Pool.QueryRow(context.Background(), `SELECT max(attempts) FROM test_runs`).Scan(&attempts))
	require.Equal(t, 2, attempts, "one refused try, one that worked")
}

// A permanent refusal is kept on the run, never silently dropped.
func TestSchedulePermanentErrorIsShown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr := w.openPull("Update openssl-3")
	w.openqa.InjectFault("isos", openqafake.Fault{Status: http.StatusBadRequest, Body: `{"error":"refused"}`})
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	runs := w.runs(pr.Number)
	require.Len(t, runs, 2)
	for _, r := range runs {
		require.Equal(t, store.RunFailed, r.State)
		require.True(t, strings.Contains(r.Error, "400"), r.Error)
	}
}

// Dry-run plans and records but posts nothing.
func TestScheduleDryRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *config.Config) { c.DryRun = true })
	pr := w.openPull("Update openssl-3")
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	require.Empty(t, w.openqa.ISOPosts())
	for _, r := range w.runs(pr.Number) {
		require.Equal(t, store.RunDryRun, r.State)
	}
}

// An answer lost on the way back: openQA created the jobs but qemgate never
// heard. The next try finds and adopts them instead of posting again.
func TestScheduleAdoptsJobsOfALostAnswer(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr := w.openPull("Update openssl-3")
	w.settle()
	w.openqa.InjectFault("isos", openqafake.Fault{Drop: true, AfterHandling: true, Times: 1})
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	require.Eventually(t, func() bool {
		for _, r := range w.runs(pr.Number) {
			if r.State != store.RunScheduled {
				return false
			}
		}
		return len(w.runs(pr.Number)) == 2
	}, 40*time.Second, 50*time.Millisecond)
	w.settle()
	require.Len(t, w.openqa.ISOPosts(), 2, "the run whose answer was lost is not posted again")
	jobs := 0
	for _, r := range w.runs(pr.Number) {
		jobs += len(r.JobIDs)
	}
	require.Equal(t, 3, jobs, "every created job is known, the adopted ones too")
}

// Without metadata nothing can be planned: the schedule job stops with a
// clear reason instead of retrying, nothing is posted, and the PR waits.
func TestScheduleWithoutMetadata(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *config.Config) { c.Metadata.Dir = "" })
	pr := w.openPull("Update openssl-3")
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	require.Empty(t, w.openqa.ISOPosts())
	// Each sync that sees the build may enqueue a schedule job once the
	// previous one ended; how many depends on scheduling. Every one of them
	// must stop at once, for the same reason.
	cancelled := w.count(`SELECT count(*) FROM river_job WHERE kind = 'schedule' AND state = 'cancelled'`)
	require.GreaterOrEqual(t, cancelled, 1)
	require.Equal(t, cancelled, w.count(`SELECT count(*) FROM river_job WHERE kind = 'schedule' AND errors::text LIKE '%metadata.dir is not configured%'`))
	require.Zero(t, w.count(`SELECT count(*) FROM river_job WHERE kind = 'schedule' AND (state <> 'cancelled' OR attempt > 1)`),
		"no schedule job is retried or left waiting")
	p := w.pull(pr.Number)
	require.Equal(t, "pending", p.Verdict)
	require.Contains(t, p.VerdictReason, "to be planned")

	// An aggregate pass (the periodic one at start, and this one) has
	// nothing to build from either: cancelled at its first attempt, not
	// retried.
	_, err := w.app.River.Insert(w.ctx, jobs.AggregateArgs{}, nil)
	require.NoError(t, err)
	w.settle()
	aggregates := w.count(`SELECT count(*) FROM river_job WHERE kind = 'aggregate'`)
	require.GreaterOrEqual(t, aggregates, 1)
	require.Equal(t, aggregates, w.count(`SELECT count(*) FROM river_job WHERE kind = 'aggregate' AND state = 'cancelled' AND attempt = 1
		AND errors::text LIKE '%metadata.dir is not configured%'`))
}
