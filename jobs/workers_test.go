package jobs

// Worker-level tests: each worker runs once, directly, against the test
// database and the fakes (which speak Gitea's and openQA's wire formats),
// and the test checks what it recorded, wrote and enqueued. The whole chain
// with River running it is in e2e/.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/demo"
	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/metadata"
	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

// workerRig is one database, a fake Gitea and a fake openQA with the demo
// story, and a River client that is never started: the test runs workers.
type workerRig struct {
	t      *testing.T
	ctx    context.Context
	deps   Deps
	client *river.Client[pgx.Tx]
	gitea  *giteafake.Server
	openqa *openqafake.Server
}

func newWorkerRig(t *testing.T) *workerRig {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	g, err := demo.NewGitea("")
	require.NoError(t, err)
	t.Cleanup(g.Close)
	g.SetSwitches(giteafake.Switches{Disabled: true}) // the test runs the workers itself
	oq := demo.NewOpenQA("", "")
	t.Cleanup(oq.Close)
	oq.SetHookEnabled(false)

	metaDir := t.TempDir()
	require.NoError(t, demo.WriteMetadata(metaDir))
	cfg := demo.Config("http://qemgate.test", g.URL(), oq.URL(), metaDir)
	require.NoError(t, cfg.Resolve())
	holder := metadata.NewHolder(metaDir, metadata.Options{}, nil)
	require.NoError(t, holder.Reload())
	fg, err := forge.New(forge.Config{URL: g.URL(), Token: demo.BotToken, Timeout: 5 * time.Second})
	require.NoError(t, err)
	deps := Deps{
		Config:   &cfg,
		Store:    store.New(pool),
		Forge:    fg,
		OpenQA:   openqa.New(openqa.Config{URL: oq.URL(), Key: demo.OpenQAKey, Secret: demo.OpenQASecret, Timeout: 5 * time.Second}),
		Metadata: holder,
		Metrics:  NewMetrics(prometheus.NewRegistry()),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	workers := river.NewWorkers()
	Register(workers, deps)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers})
	require.NoError(t, err)
	return &workerRig{t: t, ctx: ctx, deps: deps, client: client, gitea: g, openqa: oq}
}

// work inserts args as a job, marks it running as River's fetch would, and
// runs worker on it once.
func work[T river.JobArgs](r *workerRig, worker river.Worker[T], args T) error {
	r.t.Helper()
	res, err := r.client.Insert(r.ctx, args, nil)
	require.NoError(r.t, err)
	row := res.Job
	require.NoError(r.t, r.deps.Store.Pool.QueryRow(r.ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now()
		WHERE id = $1 RETURNING attempted_at`, row.ID).Scan(&row.AttemptedAt))
	row.State, row.Attempt = "running", 1
	return worker.Work(rivertest.WorkContext(r.ctx, r.client), &river.Job[T]{JobRow: row, Args: args})
}

// queued asserts that a job with exactly these args waits in River.
func queued[T river.JobArgs](r *workerRig, args T) {
	r.t.Helper()
	encoded, err := json.Marshal(args)
	require.NoError(r.t, err)
	var n int
	require.NoError(r.t, r.deps.Store.Pool.QueryRow(r.ctx, `SELECT count(*) FROM river_job
		WHERE kind = $1 AND args = $2::jsonb AND state = 'available'`, args.Kind(), encoded).Scan(&n))
	require.Equal(r.t, 1, n, "%s %s is queued", args.Kind(), encoded)
}

// builtPull opens the story's PR, asked of our team, with the staging bot's
// "Build successful" review at its head.
func (r *workerRig) builtPull() giteafake.PullInfo {
	r.t.Helper()
	pr, err := demo.OpenPull(r.gitea, "Update openssl-3")
	require.NoError(r.t, err)
	_, err = r.gitea.SubmitReview(demo.Owner, demo.RepoName, pr.Number, giteafake.ReviewOptions{User: demo.StagingBot, State: "APPROVED",
		Body: "Build successful", CommitID: pr.HeadSHA})
	require.NoError(r.t, err)
	return pr
}

func (r *workerRig) pull(number int64) *store.Pull {
	r.t.Helper()
	p, err := store.GetPull(r.ctx, r.deps.Store.Pool, demo.Repo, number)
	require.NoError(r.t, err)
	return p
}

// sync_pull reads the PR, decides it is ours and built, and queues the
// scheduling of its head and an evaluation.
func TestSyncPullWorker(t *testing.T) {
	t.Parallel()
	r := newWorkerRig(t)
	pr := r.builtPull()
	require.NoError(t, work(r, &SyncPullWorker{deps: r.deps}, SyncPullArgs{Repo: demo.Repo, Number: pr.Number}))
	p := r.pull(pr.Number)
	require.Equal(t, pr.HeadSHA, p.HeadSHA)
	require.True(t, p.Gated, "a review is requested from our team")
	require.Equal(t, pr.HeadSHA, p.BuildSHA)
	require.Equal(t, []string{"openssl-3"}, p.Packages)
	queued(r, &ScheduleArgs{Repo: demo.Repo, Number: pr.Number, SHA: pr.HeadSHA})
	queued(r, &EvaluateArgs{Repo: demo.Repo, Number: pr.Number})
}

// schedule posts each planned run once and queues the sync of every job
// openQA created; running it again posts nothing.
func TestScheduleWorker(t *testing.T) {
	t.Parallel()
	r := newWorkerRig(t)
	pr := r.builtPull()
	require.NoError(t, work(r, &SyncPullWorker{deps: r.deps}, SyncPullArgs{Repo: demo.Repo, Number: pr.Number}))
	args := ScheduleArgs{Repo: demo.Repo, Number: pr.Number, SHA: pr.HeadSHA}
	require.NoError(t, work(r, &ScheduleWorker{deps: r.deps}, args))
	require.Len(t, r.openqa.ISOPosts(), 2, "x86_64 and aarch64")
	runs, err := store.RunsOfPull(r.ctx, r.deps.Store.Pool, demo.Repo, pr.Number, pr.HeadSHA)
	require.NoError(t, err)
	var ids []int64
	for _, run := range runs {
		require.Equal(t, store.RunScheduled, run.State)
		ids = append(ids, run.JobIDs...)
	}
	require.Len(t, ids, 3)
	for _, id := range ids {
		queued(r, &SyncOpenQAJobArgs{ID: id})
	}
	require.NoError(t, work(r, &ScheduleWorker{deps: r.deps}, args))
	require.Len(t, r.openqa.ISOPosts(), 2, "a second run posts nothing")
}

// evaluate waits while a planned job is unread, passes when every job is
// read and passed, and queues the report.
func TestEvaluateWorker(t *testing.T) {
	t.Parallel()
	r := newWorkerRig(t)
	pr := r.builtPull()
	require.NoError(t, work(r, &SyncPullWorker{deps: r.deps}, SyncPullArgs{Repo: demo.Repo, Number: pr.Number}))
	require.NoError(t, work(r, &ScheduleWorker{deps: r.deps}, ScheduleArgs{Repo: demo.Repo, Number: pr.Number, SHA: pr.HeadSHA}))
	var ids []int64
	for _, j := range r.openqa.Jobs() {
		require.NoError(t, r.openqa.FinishJob(j.ID, openqa.ResultPassed))
		ids = append(ids, j.ID)
	}
	for _, id := range ids[:2] {
		require.NoError(t, work(r, &SyncOpenQAJobWorker{deps: r.deps}, SyncOpenQAJobArgs{ID: id}))
	}
	evaluate := EvaluateArgs{Repo: demo.Repo, Number: pr.Number}
	require.NoError(t, work(r, &EvaluateWorker{deps: r.deps}, evaluate))
	p := r.pull(pr.Number)
	require.Equal(t, gate.VerdictPending, p.Verdict, "the third job was not read")
	require.Contains(t, p.VerdictReason, "not read yet")

	require.NoError(t, work(r, &SyncOpenQAJobWorker{deps: r.deps}, SyncOpenQAJobArgs{ID: ids[2]}))
	require.NoError(t, work(r, &EvaluateWorker{deps: r.deps}, evaluate))
	p = r.pull(pr.Number)
	require.Equal(t, gate.VerdictPassed, p.Verdict)
	require.NotNil(t, p.VerdictAt)
	queued(r, &ReportArgs{Repo: demo.Repo, Number: pr.Number, SHA: pr.HeadSHA})
}

// passedPull takes a new PR through sync, schedule, job syncs and
// evaluation, every job passing.
func (r *workerRig) passedPull() giteafake.PullInfo {
	r.t.Helper()
	pr := r.builtPull()
	require.NoError(r.t, work(r, &SyncPullWorker{deps: r.deps}, SyncPullArgs{Repo: demo.Repo, Number: pr.Number}))
	require.NoError(r.t, work(r, &ScheduleWorker{deps: r.deps}, ScheduleArgs{Repo: demo.Repo, Number: pr.Number, SHA: pr.HeadSHA}))
	runs, err := store.RunsOfPull(r.ctx, r.deps.Store.Pool, demo.Repo, pr.Number, pr.HeadSHA)
	require.NoError(r.t, err)
	for _, run := range runs {
		for _, id := range run.JobIDs {
			require.NoError(r.t, r.openqa.FinishJob(id, openqa.ResultPassed))
			require.NoError(r.t, work(r, &SyncOpenQAJobWorker{deps: r.deps}, SyncOpenQAJobArgs{ID: id}))
		}
	}
	require.NoError(r.t, work(r, &EvaluateWorker{deps: r.deps}, EvaluateArgs{Repo: demo.Repo, Number: pr.Number}))
	require.Equal(r.t, gate.VerdictPassed, r.pull(pr.Number).Verdict)
	return pr
}

func (r *workerRig) ourReviews(number int64) []giteafake.ReviewState {
	r.t.Helper()
	all, err := r.gitea.Reviews(demo.Owner, demo.RepoName, number)
	require.NoError(r.t, err)
	var out []giteafake.ReviewState
	for _, rv := range all {
		if rv.User == demo.BotLogin {
			out = append(out, rv)
		}
	}
	return out
}

// report approves the passed head once, with a success status; when Gitea
// shows a newer head it writes nothing and queues a sync instead.
func TestReportWorker(t *testing.T) {
	t.Parallel()
	r := newWorkerRig(t)

	pr := r.passedPull()
	args := ReportArgs{Repo: demo.Repo, Number: pr.Number, SHA: pr.HeadSHA}
	require.NoError(t, work(r, &ReportWorker{deps: r.deps}, args))
	approved := r.ourReviews(pr.Number)
	require.Len(t, approved, 1)
	require.Equal(t, forge.ReviewApproved, approved[0].State)
	require.Equal(t, pr.HeadSHA, approved[0].CommitID)
	require.NoError(t, work(r, &ReportWorker{deps: r.deps}, args))
	require.Len(t, r.ourReviews(pr.Number), 1, "a second report approves nothing more")

	moved := r.passedPull()
	_, err := r.gitea.Push(demo.Owner, demo.RepoName, moved.Number, giteafake.PushOptions{Files: map[string]string{"openssl-3/openssl-3.spec": "Version: 3.1.2"}})
	require.NoError(t, err)
	require.NoError(t, work(r, &ReportWorker{deps: r.deps}, ReportArgs{Repo: demo.Repo, Number: moved.Number, SHA: moved.HeadSHA}))
	require.Empty(t, r.ourReviews(moved.Number), "the tested SHA is no longer the head: no approval")
	queued(r, &SyncPullArgs{Repo: demo.Repo, Number: moved.Number})
}

// config.Resolve is what the workers rely on for compiled patterns: an
// unresolved configuration has no build signal rather than a wrong one.
func TestReviewSignalNeedsAResolvedConfig(t *testing.T) {
	t.Parallel()
	reviews := []forge.Review{{User: demo.StagingBot, State: forge.ReviewApproved, Body: "Build successful", CommitID: "abc"}}
	sig := &config.ReviewSignal{User: demo.StagingBot, Body: "^Build successful"}
	require.Empty(t, reviewSignal(sig, reviews, "abc"))
	c := config.Config{Gitea: config.Gitea{Repos: []config.Repo{{Name: "o/r", BuildReady: config.BuildReady{Review: sig}}}}}
	require.NoError(t, c.Resolve())
	require.Equal(t, "review:"+demo.StagingBot, reviewSignal(sig, reviews, "abc"))
}

// The <embargo_date> of a PR's _patchinfo is kept on the PR; while it holds,
// the plan keeps the update off public-cloud flavors (gate/plan_test.go).
func TestSyncPullWorkerReadsTheEmbargo(t *testing.T) {
	t.Parallel()
	r := newWorkerRig(t)
	pr, err := r.gitea.OpenPull(giteafake.PullOptions{Owner: demo.Owner, Repo: demo.RepoName, Author: demo.Author, HeadOwner: demo.Author,
		Head: "embargoed", Title: "Update openssl-3 (embargoed)", Files: map[string]string{demo.PatchinfoPath: `<patchinfo incident="9">` +
			`<package>openssl-3</package><embargo_date>2099-01-01</embargo_date><category>security</category></patchinfo>`}})
	require.NoError(t, err)
	require.NoError(t, work(r, &SyncPullWorker{deps: r.deps}, SyncPullArgs{Repo: demo.Repo, Number: pr.Number}))
	p := r.pull(pr.Number)
	require.NotNil(t, p.EmbargoedUntil)
	require.Equal(t, time.Date(2099, 1, 2, 0, 0, 0, 0, time.UTC), p.EmbargoedUntil.UTC())
	require.True(t, gate.Embargoed(p.EmbargoedUntil, time.Now()))

	plain := r.builtPull()
	require.NoError(t, work(r, &SyncPullWorker{deps: r.deps}, SyncPullArgs{Repo: demo.Repo, Number: plain.Number}))
	require.Nil(t, r.pull(plain.Number).EmbargoedUntil)
}

// The verdict safety net finds what no event brought to an evaluation: a
// head with runs but no verdict of its own, and a job that changed after
// the last evaluation began. An evaluation it queues puts the PR right.
func TestReevaluateFindsStaleVerdicts(t *testing.T) {
	t.Parallel()
	r := newWorkerRig(t)
	pr := r.builtPull()
	require.NoError(t, work(r, &SyncPullWorker{deps: r.deps}, SyncPullArgs{Repo: demo.Repo, Number: pr.Number}))
	require.NoError(t, work(r, &ScheduleWorker{deps: r.deps}, ScheduleArgs{Repo: demo.Repo, Number: pr.Number, SHA: pr.HeadSHA}))
	for _, j := range r.openqa.Jobs() {
		require.NoError(t, r.openqa.FinishJob(j.ID, openqa.ResultPassed))
		require.NoError(t, work(r, &SyncOpenQAJobWorker{deps: r.deps}, SyncOpenQAJobArgs{ID: j.ID}))
	}
	// Every evaluation those syncs queued is lost.
	_, err := r.deps.Store.Pool.Exec(r.ctx, `DELETE FROM river_job WHERE kind = 'evaluate'`)
	require.NoError(t, err)

	n, err := Reevaluate(r.ctx, r.deps, r.client)
	require.NoError(t, err)
	require.Equal(t, 1, n, "runs at the head, no verdict of it")
	queued(r, &EvaluateArgs{Repo: demo.Repo, Number: pr.Number})
	require.NoError(t, work(r, &EvaluateWorker{deps: r.deps}, EvaluateArgs{Repo: demo.Repo, Number: pr.Number}))
	require.Equal(t, gate.VerdictPassed, r.pull(pr.Number).Verdict)
	n, err = Reevaluate(r.ctx, r.deps, r.client)
	require.NoError(t, err)
	require.Zero(t, n, "the verdict is current")

	// A job changed after the evaluation began, and its news was lost.
	_, err = r.deps.Store.Pool.Exec(r.ctx, `UPDATE pulls SET evaluated_at = now() - interval '5 minutes'`)
	require.NoError(t, err)
	_, err = r.deps.Store.Pool.Exec(r.ctx, `UPDATE openqa_jobs SET changed_at = now() - interval '2 minutes'`)
	require.NoError(t, err)
	n, err = Reevaluate(r.ctx, r.deps, r.client)
	require.NoError(t, err)
	require.Equal(t, 1, n, "a job newer than the evaluation")
}

// A push that is stored but not synced yet holds back the approval of the
// old head even when Gitea's answer is not consulted yet: the stored event
// names another head, so the PR is synced first.
func TestReportHoldsBackForAStoredPush(t *testing.T) {
	t.Parallel()
	r := newWorkerRig(t)
	pr := r.passedPull()
	number := pr.Number
	_, err := store.InsertDelivery(r.ctx, r.deps.Store.Pool, &store.Delivery{Source: "gitea", DeliveryID: "push-not-synced",
		Event: "pull_request", EventType: "pull_request_sync", Action: "synchronized", Repo: demo.Repo, Number: &number,
		SHA: strings.Repeat("f", len(pr.HeadSHA)), Body: []byte(`{}`), Outcome: store.OutcomeAccepted})
	require.NoError(t, err)
	require.NoError(t, work(r, &ReportWorker{deps: r.deps}, ReportArgs{Repo: demo.Repo, Number: pr.Number, SHA: pr.HeadSHA}))
	require.Empty(t, r.ourReviews(pr.Number), "no approval while a stored event names a newer head")
	queued(r, &SyncPullArgs{Repo: demo.Repo, Number: pr.Number})

	// The sync reads the PR again: the head did not move (the event was
	// older news), and the next report approves.
	require.NoError(t, work(r, &SyncPullWorker{deps: r.deps}, SyncPullArgs{Repo: demo.Repo, Number: pr.Number}))
	require.NoError(t, work(r, &ReportWorker{deps: r.deps}, ReportArgs{Repo: demo.Repo, Number: pr.Number, SHA: pr.HeadSHA}))
	require.Len(t, r.ourReviews(pr.Number), 1)
}
