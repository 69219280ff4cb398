package e2e

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/app"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/store"
)

// pollInterval is the poll interval of the reconciliation tests: short, so
// that "within two intervals" stays a bounded test.
const pollInterval = 2 * time.Second

// fastPolls makes the pollers run every pollInterval and treats openQA jobs
// as stale after one second.
func fastPolls(c *config.Config) {
	c.Poll.Gitea = config.Duration(pollInterval)
	c.Poll.OpenQA = config.Duration(pollInterval)
	c.Poll.OpenQAStaleAfter = config.Duration(time.Second)
}

// drift reads qemgate_poller_drift_total{kind}.
func (w *world) drift(kind string) float64 {
	return testutil.ToFloat64(w.app.Jobs.PollerDrift.WithLabelValues(kind))
}

// withinTwoPolls waits for cond at most two poll intervals plus the time the
// jobs a poll enqueues need to run.
func (w *world) withinTwoPolls(cond func() bool, what string) {
	w.t.Helper()
	require.Eventually(w.t, cond, 2*pollInterval+3*time.Second, 50*time.Millisecond, what)
}

func (w *world) storedPull(number int64) *store.Pull {
	w.t.Helper()
	p, err := store.GetPull(w.ctx, w.app.Pool, repo, number)
	if err != nil {
		return nil
	}
	return p
}

// Without a single webhook or job-done callback, the pollers alone take a PR
// from opened to approved, each step within two poll intervals, and the
// drift counter names what they caught.
func TestPollerAloneTakesAPullToApproval(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fastPolls)
	w.gitea.SetSwitches(giteafake.Switches{Disabled: true})
	w.openqa.SetHookEnabled(false)

	pr := w.openPull("Update openssl-3")
	w.withinTwoPolls(func() bool { p := w.storedPull(pr.Number); return p != nil && p.Gated }, "the poller finds the new PR")
	require.GreaterOrEqual(t, w.drift("new_pull"), 1.0)
	require.Zero(t, w.count(`SELECT count(*) FROM deliveries`), "no webhook came")

	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.withinTwoPolls(func() bool {
		runs := w.runs(pr.Number)
		return len(runs) == 2 && runs[0].State == store.RunScheduled && runs[1].State == store.RunScheduled
	}, "the build-ready check finds the staging bot's review and the runs are scheduled")
	require.GreaterOrEqual(t, w.drift("build_ready_missed"), 1.0, "a missed build review is build_ready_missed, not updated")

	var ids []int64
	for _, r := range w.runs(pr.Number) {
		ids = append(ids, r.JobIDs...)
	}
	require.Len(t, ids, 3)
	w.withinTwoPolls(func() bool {
		return w.count(`SELECT count(*) FROM openqa_jobs WHERE id = ANY($1)`, ids) == len(ids)
	}, "the scheduled jobs are synced")
	for _, id := range ids {
		require.NoError(t, w.openqa.FinishJob(id, "passed"))
	}
	require.Empty(t, w.openqa.HookCalls(), "the job-done hook is off")
	w.withinTwoPolls(func() bool {
		return w.count(`SELECT count(*) FROM openqa_jobs WHERE id = ANY($1) AND state = 'done' AND result = 'passed'`, ids) == len(ids)
	}, "the openQA poller finds the finished jobs")
	require.GreaterOrEqual(t, w.drift("openqa_job_changed"), float64(len(ids)))

	w.withinTwoPolls(func() bool {
		reviews, err := w.gitea.Reviews(owner, repoName, pr.Number)
		require.NoError(t, err)
		for _, r := range reviews {
			if r.User == botLogin && r.State == "APPROVED" && strings.EqualFold(r.CommitID, pr.HeadSHA) {
				return true
			}
		}
		return false
	}, "qemgate approves the tested SHA")
	require.Zero(t, w.drift("head_changed"))
	require.Zero(t, w.drift("closed"))
}

// A PR closed while no webhook came is noticed: we stop holding it as open.
func TestPollerNoticesAClosedPull(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fastPolls)
	pr := w.openPull("Update openssl-3")
	w.settle()
	require.Equal(t, "open", w.storedPull(pr.Number).State)
	w.gitea.SetSwitches(giteafake.Switches{Disabled: true})
	require.NoError(t, w.gitea.ClosePull(owner, repoName, pr.Number, requester))
	w.withinTwoPolls(func() bool { return w.storedPull(pr.Number).State == "closed" }, "the poller syncs the closed PR")
	require.Equal(t, 1.0, w.drift("closed"))
}

// leader is the id of the River client that holds the leadership, "" if none.
func (w *world) leader() string {
	var id string
	err := w.app.Pool.QueryRow(w.ctx, `SELECT leader_id FROM river_leader WHERE expires_at > now()`).Scan(&id)
	if err != nil {
		return ""
	}
	return id
}

// Two replicas on one database: one leader enqueues the periodic jobs, once
// per period; stopping it hands the leadership and the jobs to the other.
func TestReplicasShareThePeriodicJobs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fastPolls)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	second, err := app.New(w.cfg, logger, w.app.Pool, app.Options{TestOnly: true})
	require.NoError(t, err)
	require.NoError(t, second.ReloadMetadata())
	require.NoError(t, second.StartWorkers(w.ctx))
	t.Cleanup(func() { second.StopWorkers(context.Background()) })
	require.NotEqual(t, w.app.River.ID(), second.River.ID())

	require.Eventually(t, func() bool { return w.leader() != "" }, 15*time.Second, 50*time.Millisecond)
	first := w.leader()
	require.Contains(t, []string{w.app.River.ID(), second.River.ID()}, first)

	// Over a few periods every period has one poll_gitea job, not one per
	// replica. How many periods pass depends on how busy the machine is, so
	// the bound comes from the time the jobs span.
	require.Eventually(t, func() bool {
		return w.count(`SELECT count(*) FROM river_job WHERE kind = 'poll_gitea'`) >= 3
	}, 3*pollInterval+10*time.Second, 50*time.Millisecond, "the leader runs the poller every period")
	var jobs, periods int
	var span float64
	require.NoError(t, w.app.Pool.QueryRow(w.ctx, `SELECT count(*), count(DISTINCT date_trunc('second', scheduled_at)),
			extract(epoch FROM max(scheduled_at) - min(scheduled_at))::float8
		FROM river_job WHERE kind = 'poll_gitea'`).Scan(&jobs, &periods, &span))
	require.Equal(t, periods, jobs, "one job per period")
	require.LessOrEqual(t, float64(jobs), span/pollInterval.Seconds()+2, "about one per %s over %.1fs", pollInterval, span)

	leaderApp, other := w.app, second
	if first == second.River.ID() {
		leaderApp, other = second, w.app
	}
	stopped := time.Now()
	leaderApp.StopWorkers(context.Background())
	require.Eventually(t, func() bool { return w.leader() == other.River.ID() }, 20*time.Second, 100*time.Millisecond,
		"the remaining replica takes over")
	require.Eventually(t, func() bool {
		return w.count(`SELECT count(*) FROM river_job WHERE kind = 'poll_gitea' AND created_at > $1 AND state = 'completed'`, stopped) > 0
	}, 2*pollInterval+5*time.Second, 100*time.Millisecond, "and runs the periodic jobs")
}

// A job deleted in openQA before qemgate first read it is recorded once as
// obsolete, like a known job that answers 404, and is not polled again:
// before, every poll counted it as openqa_job_unsynced and asked openQA.
func TestPollerRecordsAJobGoneBeforeItsFirstRead(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fastPolls, func(c *config.Config) { c.OpenQA.Timeout = config.Duration(time.Second) })
	w.openqa.SetHookEnabled(false)
	pr := w.openPull("Update openssl-3")
	w.settle()
	// Every read of a job waits until the client gives up, so the jobs can
	// be deleted before the first read gets an answer.
	w.openqa.InjectFault("job", openqafake.Fault{Latency: time.Hour})
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	var ids []int64
	require.Eventually(t, func() bool {
		ids = w.jobsOf(pr.Number, pr.HeadSHA)
		return len(ids) == 3
	}, 30*time.Second, 20*time.Millisecond, "the runs are scheduled")
	for _, id := range ids {
		require.NoError(t, w.openqa.DeleteJob(id))
	}
	w.openqa.ClearFaults()

	w.withinTwoPolls(func() bool {
		return w.count(`SELECT count(*) FROM openqa_jobs WHERE id = ANY($1) AND obsolete`, ids) == len(ids)
	}, "each deleted job is recorded as obsolete")
	// Three more completed poll cycles see nothing left to read.
	polled := w.count(`SELECT count(*) FROM river_job WHERE kind = 'poll_openqa' AND state = 'completed'`)
	require.Eventually(t, func() bool {
		return w.count(`SELECT count(*) FROM river_job WHERE kind = 'poll_openqa' AND state = 'completed'`) >= polled+3
	}, 3*pollInterval+10*time.Second, 50*time.Millisecond, "the poller keeps running")
	require.LessOrEqual(t, w.drift("openqa_job_unsynced"), float64(len(ids)), "each gone job is drift at most once")
	require.Zero(t, w.count(`SELECT count(*) FROM river_job WHERE kind = 'sync_openqa_job' AND state IN ('available', 'retryable', 'scheduled')
		AND (args->>'id')::bigint = ANY($1)`, ids), "no sync of a gone job is waiting")
}
