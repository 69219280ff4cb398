package jobs

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/obsfake"
	"github.com/qemgate/qemgate/fake/smeltfake"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/demo"
	"github.com/qemgate/qemgate/obs"
	"github.com/qemgate/qemgate/smelt"
	"github.com/qemgate/qemgate/store"
)

// obsRig is the worker rig with a fake OBS and a fake SMELT configured.
type obsRig struct {
	*workerRig
	obs   *obsfake.Server
	smelt *smeltfake.Server
}

func newOBSRig(t *testing.T) *obsRig {
	t.Helper()
	r := newWorkerRig(t)
	o := demo.NewOBS("")
	t.Cleanup(o.Close)
	s := demo.NewSMELT("")
	t.Cleanup(s.Close)
	cfg := *r.deps.Config
	demo.WithOBS(&cfg, o.URL(), s.URL())
	require.NoError(t, cfg.Resolve())
	r.deps.Config = &cfg
	r.deps.OBS = obs.New(obs.Config{URL: o.URL(), User: demo.OBSUser, Password: demo.OBSPassword,
		Timeout: 2 * time.Second, Backoff: time.Millisecond})
	r.deps.SMELT = smelt.New(smelt.Config{URL: s.URL(), Timeout: 2 * time.Second, Backoff: time.Millisecond})
	return &obsRig{workerRig: r, obs: o, smelt: s}
}

// stagedPull opens the story's PR with the staging bot's comment linking
// its SLES project and its "Build successful" review.
func (r *obsRig) stagedPull() (number int64, sha string) {
	r.t.Helper()
	pr := r.builtPull()
	_, err := r.gitea.CreateComment(demo.Owner, demo.RepoName, pr.Number, demo.StagingBot, demo.StagingComment(pr.Number))
	require.NoError(r.t, err)
	return pr.Number, pr.HeadSHA
}

func (r *obsRig) sync(number int64) {
	r.t.Helper()
	require.NoError(r.t, work(r.workerRig, &SyncPullWorker{deps: r.deps}, SyncPullArgs{Repo: demo.Repo, Number: number}))
}

func (r *obsRig) evaluate(number int64) *store.Pull {
	r.t.Helper()
	require.NoError(r.t, work(r.workerRig, &EvaluateWorker{deps: r.deps}, EvaluateArgs{Repo: demo.Repo, Number: number}))
	return r.pull(number)
}

// An unpublished build waits with its reason; once published the PR is
// built, and the plan takes its archs and channels from OBS.
func TestOBSUnpublishedThenPublished(t *testing.T) {
	t.Parallel()
	r := newOBSRig(t)
	n, sha := r.stagedPull()
	demo.BuildSLES(r.obs, n, sha, "building", "building")
	r.sync(n)
	p := r.pull(n)
	require.Empty(t, p.BuildSHA, "the staging bot's review alone is not enough")
	require.Equal(t, sha, p.OBSSHA)
	p = r.evaluate(n)
	require.Equal(t, gate.VerdictPending, p.Verdict)
	require.Equal(t, "build of SLES aarch64 not published yet (building)", p.VerdictReason)

	// x86_64 only: the plan must not schedule aarch64 although the branch lists it.
	r.obs.SetProject(demo.StagingProject(n), obsfake.Project{SCMSync: demo.SCMSync, SCMInfo: sha, Flavors: []string{"sles_x86_64"},
		Results: []obsfake.Result{{Repository: "product", Arch: "x86_64", State: "published",
			Packages: []obsfake.Package{{Name: "000productcompose:sles_x86_64", Code: "succeeded"}}},
			{Repository: "product", Arch: "aarch64", State: "building"}}})
	r.sync(n)
	p = r.pull(n)
	require.Equal(t, sha, p.BuildSHA)
	require.Contains(t, p.BuildSignal, "obs: published")
	var b gate.Build
	require.NoError(t, json.Unmarshal(p.OBSBuild, &b))
	require.Equal(t, []string{demo.StagingProject(n) + ":x86_64#16.0"}, b.Channels)
	queued(r.workerRig, &ScheduleArgs{Repo: demo.Repo, Number: n, SHA: sha})
	require.NoError(t, work(r.workerRig, &ScheduleWorker{deps: r.deps}, ScheduleArgs{Repo: demo.Repo, Number: n, SHA: sha}))
	posts := r.openqa.ISOPosts()
	require.Len(t, posts, 1, "x86_64 only")
	require.Equal(t, "x86_64", posts[0].Form.Get("ARCH"))
}

// A failed package fails the verdict naming product, arch and package, and
// nothing is scheduled; a rebuild that succeeds at the same SHA unblocks it.
func TestOBSFailedBuildBlocksUntilRebuilt(t *testing.T) {
	t.Parallel()
	r := newOBSRig(t)
	n, sha := r.stagedPull()
	demo.BuildSLES(r.obs, n, sha, "published", "succeeded")
	require.NoError(t, r.obs.SetPackage(demo.StagingProject(n), "product", "aarch64", "000productcompose:sles_aarch64", "failed"))
	r.sync(n)
	require.Empty(t, r.pull(n).BuildSHA)
	p := r.evaluate(n)
	require.Equal(t, gate.VerdictFailed, p.Verdict)
	require.Equal(t, "build of SLES aarch64 failed: 000productcompose:sles_aarch64 (failed)", p.VerdictReason)
	queued(r.workerRig, &ReportArgs{Repo: demo.Repo, Number: n, SHA: sha})
	require.Empty(t, r.openqa.ISOPosts())

	require.NoError(t, r.obs.SetPackage(demo.StagingProject(n), "product", "aarch64", "000productcompose:sles_aarch64", "succeeded"))
	r.sync(n)
	require.Equal(t, sha, r.pull(n).BuildSHA)
	require.NoError(t, work(r.workerRig, &ScheduleWorker{deps: r.deps}, ScheduleArgs{Repo: demo.Repo, Number: n, SHA: sha}))
	require.Len(t, r.openqa.ISOPosts(), 2)
	require.Equal(t, gate.VerdictPending, r.evaluate(n).Verdict)

	t.Run("allowed by the configuration", func(t *testing.T) {
		t.Parallel()
		r := newOBSRig(t)
		r.deps.Config.OBS.AllowBuildFailures = true
		n, sha := r.stagedPull()
		demo.BuildSLES(r.obs, n, sha, "published", "succeeded")
		require.NoError(t, r.obs.SetPackage(demo.StagingProject(n), "product", "aarch64", "000productcompose:sles_aarch64", "failed"))
		r.sync(n)
		require.Equal(t, sha, r.pull(n).BuildSHA)
	})
}

// A project OBS does not know, or cannot answer for, leaves the PR waiting
// with the reason; the sync itself does not fail.
func TestOBSUnreadable(t *testing.T) {
	t.Parallel()
	r := newOBSRig(t)
	n, _ := r.stagedPull()
	r.sync(n) // no such project: 404
	p := r.evaluate(n)
	require.Equal(t, gate.VerdictPending, p.Verdict)
	require.Equal(t, "build results of "+demo.StagingProject(n)+" cannot be read", p.VerdictReason)

	r.obs.InjectFault(obsfake.EndpointResult, obsfake.Fault{Status: 500})
	demo.BuildSLES(r.obs, n, r.pull(n).HeadSHA, "published", "succeeded")
	r.sync(n)
	require.Empty(t, r.pull(n).BuildSHA, "500 on every try")
	r.obs.ClearFaults()
	r.sync(n)
	require.NotEmpty(t, r.pull(n).BuildSHA)
}

// SMELT's priority and emergency win over the labels; 404 leaves the labels.
func TestSMELTPriority(t *testing.T) {
	t.Parallel()
	r := newOBSRig(t)
	n, _ := r.stagedPull()
	r.sync(n)
	p := r.pull(n)
	require.Equal(t, []any{gate.DefaultPullPriority, false, gate.PrioritySourceLabels}, []any{p.Priority, p.Emergency, p.PrioritySource})

	prio := 900
	r.smelt.SetUpdate(demo.SMELTKey(n), smeltfake.Update{Priority: &prio, Emergency: true})
	r.sync(n)
	p = r.pull(n)
	require.Equal(t, []any{900, true, gate.PrioritySourceSMELT}, []any{p.Priority, p.Emergency, p.PrioritySource})

	r.smelt.InjectFault(smeltfake.Fault{Status: 503})
	r.sync(n)
	require.Equal(t, gate.PrioritySourceLabels, r.pull(n).PrioritySource, "an outage falls back to labels")
}

// The poller reads waiting builds from OBS again, at most poll_limit per
// cycle, the longest unread first.
func TestPollerRechecksWaitingBuilds(t *testing.T) {
	t.Parallel()
	r := newOBSRig(t)
	r.deps.Config.OBS.PollLimit = 1
	var numbers []int64
	for range 2 {
		n, sha := r.stagedPull()
		demo.BuildSLES(r.obs, n, sha, "building", "building")
		r.sync(n)
		numbers = append(numbers, n)
	}
	_, err := r.deps.Store.Pool.Exec(r.ctx, `DELETE FROM river_job`)
	require.NoError(t, err)
	_, err = r.deps.Store.Pool.Exec(r.ctx, `UPDATE pulls SET obs_read_at = now() - interval '1 hour' WHERE number = $1`, numbers[1])
	require.NoError(t, err)
	res, err := PollGitea(r.ctx, r.deps, r.client)
	require.NoError(t, err)
	require.Equal(t, 1, res.Synced, "%+v", res)
	require.Empty(t, res.Drift, "a recheck is not drift")
	queued(r.workerRig, &SyncPullArgs{Repo: demo.Repo, Number: numbers[1]})
}
