package e2e

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

// aggregateMetadataYAML adds an aggregate section to the product; PRs of the
// product now need the aggregate's results too (aggregate_job defaults to true).
const aggregateMetadataYAML = `product: SLES-16.0
product_repo: SLES
product_version: "16.0"
settings:
  DISTRI: sle
  VERSION: "16.0"
incidents:
  FLAVOR:
    Online-Incidents:
      archs: [x86_64]
      issues:
        OS_TEST_ISSUES: SLFO:1.1.99#16.0
aggregate:
  FLAVOR: Online-Updates
  archs: [x86_64]
  test_issues:
    OS_TEST_ISSUES: SLFO:1.1.99#16.0
`

// aggregateDay is the clock of the aggregate tests, so BUILD is known.
var aggregateDay = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// withAggregates points the world at metadata with an aggregate section and
// leaves the aggregates to the test (schedule off), so each pass is explicit.
func withAggregates(t *testing.T) worldOption {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sles-16.0.yml"), []byte(aggregateMetadataYAML), 0o644))
	return func(c *config.Config) {
		c.Metadata.Dir = dir
		c.Aggregates.Schedule = "off"
		c.Gitea.Repos[0].Branches["main"] = withTestRepo(c.Gitea.Repos[0].Branches["main"])
	}
}

func withTestRepo(b config.Branch) config.Branch {
	b.TestRepo = "http://download.example.test/ibs/{staging_project_path}/standard/"
	return b
}

// aggregates runs one aggregate pass the way the periodic job does.
func (w *world) aggregates() []jobs.AggregateDecision {
	w.t.Helper()
	fg, err := forge.New(forge.Config{URL: w.cfg.Gitea.URL, Token: w.cfg.Gitea.Token, Timeout: 5 * time.Second})
	require.NoError(w.t, err)
	deps := jobs.Deps{
		Config: &w.cfg, Store: w.app.Store, Forge: fg, Metadata: w.app.Metadata, Metrics: w.app.Jobs,
		OpenQA: openqa.New(openqa.Config{URL: w.cfg.OpenQA.URL, Key: w.cfg.OpenQA.Key, Secret: w.cfg.OpenQA.Secret, Timeout: 5 * time.Second}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    func() time.Time { return aggregateDay },
	}
	d, err := jobs.RunAggregates(w.ctx, deps, w.app.River)
	require.NoError(w.t, err)
	w.settle()
	return d
}

func (w *world) aggregateRows() []store.Aggregate {
	w.t.Helper()
	list, err := store.ListAggregates(w.ctx, w.app.Pool, 100)
	require.NoError(w.t, err)
	return list
}

// aggregatePost returns the isos POSTs of the aggregate flavor.
func (w *world) aggregatePosts() []map[string]string {
	var out []map[string]string
	for _, f := range w.isoPosts() {
		if f["FLAVOR"] == "Online-Updates" {
			out = append(out, f)
		}
	}
	return out
}

func newAggregateWorld(t *testing.T, opts ...worldOption) *world {
	w := newWorld(t, append([]worldOption{withAggregates(t)}, opts...)...)
	w.openqa.AddTemplates(
		openqafake.Template{Distri: "sle", Version: "16.0", Flavor: "Online-Updates", Arch: "x86_64", Test: "qam-aggregate", GroupID: groupID},
	)
	return w
}

// openBuiltPull opens a PR whose build is ready, and waits for its runs.
func (w *world) openBuiltPull(head, pkg string) giteafake.PullInfo {
	w.t.Helper()
	pr, err := w.gitea.OpenPull(giteafake.PullOptions{Owner: owner, Repo: repoName, Author: author, HeadOwner: author,
		Head: head, Title: "Update " + pkg, Files: map[string]string{pkg + "/_patchinfo": strings.ReplaceAll(patchinfo, "openssl-3", pkg)}})
	require.NoError(w.t, err)
	require.NoError(w.t, w.gitea.RequestReview(owner, repoName, pr.Number, requester, nil, []string{reviewTeam}))
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	return pr
}

// The first pass creates the first aggregate of the product/arch; a pass
// with nothing changed posts nothing; a push makes the next build N+1.
func TestAggregateCreatedSkippedAndRebuilt(t *testing.T) {
	t.Parallel()
	w := newAggregateWorld(t)
	require.Equal(t, "empty", w.aggregates()[0].Outcome, "no PR is built yet")
	require.Empty(t, w.aggregateRows())

	one := w.openBuiltPull("update-openssl", "openssl-3")
	two := w.openBuiltPull("update-curl", "curl")
	d := w.aggregates()
	require.Len(t, d, 1)
	require.Equal(t, jobs.AggregateDecision{Product: "SLES-16.0", Arch: "x86_64", Outcome: "created", Build: "20260301-1", Members: 2}, d[0])
	posts := w.aggregatePosts()
	require.Len(t, posts, 1)
	f := posts[0]
	require.Equal(t, "20260301-1", f["BUILD"])
	require.Equal(t, "x86_64", f["ARCH"])
	require.Equal(t, "sle", f["DISTRI"])
	require.Equal(t, "16.0", f["VERSION"])
	require.Equal(t, fmt.Sprintf("%d,%d", one.Number, two.Number), f["OS_TEST_ISSUES"])
	require.Equal(t, fmt.Sprintf("%d,%d", one.Number, two.Number), f["TEST_ISSUES[]"])
	require.Equal(t, fmt.Sprintf("http://download.example.test/ibs/SUSE:/SLFO:/1.1.99:/PullRequest:/%d/standard/,http://download.example.test/ibs/SUSE:/SLFO:/1.1.99:/PullRequest:/%d/standard/", one.Number, two.Number), f["OS_TEST_REPOS"])
	require.Equal(t, "1", f["_DEPRIORITIZEBUILD"])
	require.Equal(t, "23", f["_PRIORITY"], "50 - 550/20")
	require.Len(t, f["REPOHASH"], 32)
	require.NotContains(t, f, "_OBSOLETE", "aggregates deprioritize older builds, they do not obsolete them")

	rows := w.aggregateRows()
	require.Len(t, rows, 1)
	members, err := store.AggregateMembers(w.ctx, w.app.Pool, rows[0].ID)
	require.NoError(t, err)
	require.Equal(t, []store.AggregateMember{
		{AggregateID: rows[0].ID, Repo: repo, Number: one.Number, SHA: one.HeadSHA},
		{AggregateID: rows[0].ID, Repo: repo, Number: two.Number, SHA: two.HeadSHA},
	}, members)
	runs, err := store.RunsOfAggregate(w.ctx, w.app.Pool, rows[0].ID)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, store.RunScheduled, runs[0].State)
	require.Len(t, runs[0].JobIDs, 1)
	require.Equal(t, 1, w.count(`SELECT count(*) FROM openqa_jobs WHERE id = $1`, runs[0].JobIDs[0]), "the aggregate job is synced")

	require.Equal(t, "unchanged", w.aggregates()[0].Outcome)
	require.Len(t, w.aggregatePosts(), 1, "nothing changed, nothing posted")

	pushed, err := w.gitea.Push(owner, repoName, two.Number, giteafake.PushOptions{Files: map[string]string{"curl/curl.spec": "Version: 8.1"}})
	require.NoError(t, err)
	w.buildSucceeds(two.Number, pushed.HeadSHA)
	w.settle()
	d = w.aggregates()
	require.Equal(t, "created", d[0].Outcome)
	require.Equal(t, "20260301-2", d[0].Build, "the second build of the day")
	posts = w.aggregatePosts()
	require.Len(t, posts, 2)
	require.NotEqual(t, posts[0]["REPOHASH"], posts[1]["REPOHASH"])
	require.Equal(t, "unchanged", w.aggregates()[0].Outcome)
}

// failedAggregate brings a PR to the point where its own jobs passed and
// the aggregate that includes it failed, and returns it with that job.
func (w *world) failedAggregate() (giteafake.PullInfo, int64) {
	w.t.Helper()
	pr := w.openBuiltPull("update-openssl", "openssl-3")
	runs := w.runs(pr.Number)
	require.Len(w.t, runs, 1)
	require.True(w.t, runs[0].WithAggregate, "the product has an aggregate that includes the PR")
	w.aggregates()
	rows := w.aggregateRows()
	require.Len(w.t, rows, 1)
	aggRuns, err := store.RunsOfAggregate(w.ctx, w.app.Pool, rows[0].ID)
	require.NoError(w.t, err)
	require.Len(w.t, aggRuns, 1)
	require.Len(w.t, aggRuns[0].JobIDs, 1)
	aggJob := aggRuns[0].JobIDs[0]

	for _, id := range runs[0].JobIDs {
		require.NoError(w.t, w.openqa.FinishJob(id, "passed"))
	}
	w.settle()
	require.Equal(w.t, "pending", w.storedPull(pr.Number).Verdict, "the aggregate still runs")
	require.NoError(w.t, w.openqa.FinishJob(aggJob, "failed"))
	w.settle()
	p := w.storedPull(pr.Number)
	require.Equal(w.t, "failed", p.Verdict, "a failed aggregate job blocks its member: %s", p.VerdictReason)
	require.False(w.t, w.approvedAt(pr.Number, pr.HeadSHA))
	return pr, aggJob
}

// approvedAt says whether our account approved the PR at sha.
func (w *world) approvedAt(number int64, sha string) bool {
	w.t.Helper()
	reviews, err := w.gitea.Reviews(owner, repoName, number)
	require.NoError(w.t, err)
	for _, r := range reviews {
		if r.User == botLogin && r.State == "APPROVED" && strings.EqualFold(r.CommitID, sha) && !r.Dismissed {
			return true
		}
	}
	return false
}

// A failed aggregate job blocks the PRs that need aggregates until it is
// fixed: a restarted clone that passes lifts the block.
func TestFailedAggregateBlocksUntilFixed(t *testing.T) {
	t.Parallel()
	w := newAggregateWorld(t)
	pr, aggJob := w.failedAggregate()
	clone, err := w.openqa.RestartJob(aggJob)
	require.NoError(t, err)
	w.settle()
	require.NoError(t, w.openqa.FinishJob(clone, "passed"))
	w.settle()
	require.Equal(t, "passed", w.storedPull(pr.Number).Verdict)
	require.True(t, w.approvedAt(pr.Number, pr.HeadSHA))
}

// ... or accepted for the PR with an acceptable_for comment on the job,
// which openQA signals to nobody: the openQA poller reads it.
func TestFailedAggregateBlocksUntilAccepted(t *testing.T) {
	t.Parallel()
	w := newAggregateWorld(t, fastPolls)
	pr, aggJob := w.failedAggregate()
	_, err := w.openqa.AddComment(aggJob, "reviewer", fmt.Sprintf("@review:acceptable_for:submission_%d:known_issue_bsc1234", pr.Number))
	require.NoError(t, err)
	w.withinTwoPolls(func() bool { return w.storedPull(pr.Number).Verdict == "passed" }, "the comment is read and accepts the failure")
	w.withinTwoPolls(func() bool { return w.approvedAt(pr.Number, pr.HeadSHA) }, "and the PR is approved")
}

// qem-bot's older-job rule: a failed aggregate job does not block a PR when
// an older aggregate job of the same scenario, within six days, passed with
// that PR in it; a PR that was not in the passing aggregate stays blocked.
func TestFailedAggregateOlderJobWasOK(t *testing.T) {
	t.Parallel()
	w := newAggregateWorld(t)
	finishOwn := func(number int64) {
		for _, r := range w.runs(number) {
			for _, id := range r.JobIDs {
				require.NoError(t, w.openqa.FinishJob(id, "passed"))
			}
		}
	}
	aggregateJob := func() int64 {
		rows := w.aggregateRows()
		runs, err := store.RunsOfAggregate(w.ctx, w.app.Pool, rows[0].ID) // newest first
		require.NoError(t, err)
		require.Len(t, runs[0].JobIDs, 1)
		return runs[0].JobIDs[0]
	}

	a := w.openBuiltPull("update-openssl", "openssl-3")
	finishOwn(a.Number)
	require.Equal(t, "created", w.aggregates()[0].Outcome)
	require.NoError(t, w.openqa.FinishJob(aggregateJob(), "passed"))
	w.settle()
	require.True(t, w.approvedAt(a.Number, a.HeadSHA))

	b := w.openBuiltPull("update-curl", "curl")
	finishOwn(b.Number)
	d := w.aggregates()
	require.Equal(t, "20260301-2", d[0].Build)
	require.NoError(t, w.openqa.FinishJob(aggregateJob(), "failed"))
	w.settle()

	pa := w.storedPull(a.Number)
	require.Equal(t, "passed", pa.Verdict, "the older aggregate passed with the PR in it: %s", pa.VerdictReason)
	require.Contains(t, string(pa.VerdictDetail), `"rule": "older_job_ok"`)
	pb := w.storedPull(b.Number)
	require.Equal(t, "failed", pb.Verdict, "the PR was not in the aggregate that passed")
	require.False(t, w.approvedAt(b.Number, b.HeadSHA))
}
