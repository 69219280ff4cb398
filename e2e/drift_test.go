package e2e

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/jobs"
)

// pollGiteaOnce runs one Gitea poll cycle now, as the periodic job would,
// and returns the drift it found. The sync jobs it enqueues are worked by
// the app.
func (w *world) pollGiteaOnce() map[string]int {
	w.t.Helper()
	return w.pollGitea().Drift
}

// pollGitea runs one Gitea poll cycle now and returns what it saw and did.
func (w *world) pollGitea() jobs.PollResult {
	w.t.Helper()
	fg, err := forge.New(forge.Config{URL: w.gitea.URL(), Token: botToken})
	require.NoError(w.t, err)
	deps := jobs.Deps{Config: &w.cfg, Store: w.app.Store, Forge: fg, Metadata: w.app.Metadata,
		Metrics: jobs.NewMetrics(prometheus.NewRegistry()), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	res, err := jobs.PollGitea(w.ctx, deps, w.app.River)
	require.NoError(w.t, err)
	return res
}

// afterOwnWrites waits until Gitea's clock, which counts whole seconds, is
// past our last write to the PR (with the skew the poller allows), so that
// what the test does next is not mistaken for one of our writes.
func (w *world) afterOwnWrites(number int64) {
	w.t.Helper()
	var last *time.Time
	require.NoError(w.t, w.app.Pool.QueryRow(w.ctx, `SELECT max(posted_at) FROM reports WHERE repo = $1 AND number = $2`,
		repo, number).Scan(&last))
	if last == nil {
		return
	}
	require.Eventually(w.t, func() bool { return time.Now().After(last.Add(2*time.Second + time.Second)) },
		10*time.Second, 50*time.Millisecond)
}

// Drift is what a webhook should have told us and did not. qemgate's own
// status, approval and summary comment move the PR's updated_at in Gitea,
// and their webhooks are ignored, yet they are no drift; each missed event
// shows up as the kind docs/reconciliation.md names for it.
func TestDriftIsOnlyWhatNoWebhookSaid(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr, ids := w.scheduled()
	w.finish("passed", ids...)
	w.settle()
	require.Len(t, w.ourReviews(pr.Number, "APPROVED"), 1)
	require.NotEmpty(t, w.ourComments(pr.Number), "the summary comment")
	res := w.pollGitea()
	require.Empty(t, res.Drift, "our own status, review and comment are not drift")
	// The PR is read again, quietly, in case someone else acted in the
	// second of our writes; when Gitea's clock (whole seconds) did not tick
	// between our last read and our writes, there is nothing to read.
	require.LessOrEqual(t, res.Synced, 1, "at most a quiet re-read")
	w.settle()
	require.Zero(t, w.pollGitea().Synced, "after which nothing is left to read")

	_, err := w.gitea.AddLabel(owner, repoName, giteafake.Label{Name: "emergency"})
	require.NoError(t, err)
	w.afterOwnWrites(pr.Number)
	w.gitea.SetSwitches(giteafake.Switches{Disabled: true})

	_, err = w.gitea.CreateStatus(owner, repoName, pr.HeadSHA, stagingBot, giteafake.StatusOptions{State: "success", Context: "ci/unrelated"})
	require.NoError(t, err)
	require.Empty(t, w.pollGiteaOnce(), "a commit status does not touch the PR; one that is not the build signal is nothing to us")

	_, err = w.gitea.CreateComment(owner, repoName, pr.Number, teamMember, "looks fine to me")
	require.NoError(t, err)
	require.Equal(t, map[string]int{jobs.DriftUpdated: 1}, w.pollGiteaOnce(), "a missed comment")
	w.settle()
	require.Empty(t, w.pollGiteaOnce(), "synced: no drift left")

	require.NoError(t, w.gitea.AddLabels(owner, repoName, pr.Number, requester, "emergency"))
	require.Equal(t, map[string]int{jobs.DriftUpdated: 1}, w.pollGiteaOnce(), "a missed label")
	w.settle()
	require.True(t, w.pull(pr.Number).Emergency)
	w.afterOwnWrites(pr.Number)

	pushed, err := w.gitea.Push(owner, repoName, pr.Number, giteafake.PushOptions{Files: map[string]string{"openssl-3/openssl-3.spec": "Version: 3.1.2"}})
	require.NoError(t, err)
	require.Equal(t, map[string]int{jobs.DriftHeadChanged: 1}, w.pollGiteaOnce(), "a missed push")
	w.settle()
	require.Empty(t, w.pollGiteaOnce(), "the new head waits for its build; our writes after the push are not drift")

	// The staging bot's review moves updated_at like any review; for a PR
	// waiting for its build it is the build signal, and that is the drift.
	w.buildSucceeds(pr.Number, pushed.HeadSHA)
	require.Equal(t, map[string]int{jobs.DriftBuildReadyMissed: 1}, w.pollGiteaOnce(), "a missed build-ready review")
	w.settle()
	require.Len(t, w.jobsOf(pr.Number, pushed.HeadSHA), 3, "the new head is scheduled")
	require.Empty(t, w.pollGiteaOnce())
}
