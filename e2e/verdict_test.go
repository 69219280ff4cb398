package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/store"
)

// Every job passes: one success status and one approval, at the tested SHA.
func TestVerdictAllPassApprovesOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr, ids := w.scheduled()
	require.Equal(t, gate.VerdictPending, w.pull(pr.Number).Verdict)
	statuses := w.ourStatuses(pr.HeadSHA)
	require.NotEmpty(t, statuses)
	require.Equal(t, "pending", statuses[len(statuses)-1].State)
	require.Equal(t, "0 passed, 0 failed, 3 running", statuses[len(statuses)-1].Description, "running jobs show as pending")

	w.finish("passed", ids[0])
	w.finish("softfailed", ids[1])
	w.settle()
	require.Empty(t, w.ourReviews(pr.Number, "APPROVED"), "never approved while a job runs")
	w.finish("passed", ids[2])
	w.settle()

	statuses = w.ourStatuses(pr.HeadSHA)
	require.Equal(t, 1, countState(statuses, "success"))
	last := statuses[len(statuses)-1]
	require.Equal(t, "success", last.State)
	require.Equal(t, "3 passed, 0 failed, 0 running", last.Description)
	require.Equal(t, w.srv.URL+"/pulls/products/SLFO/"+fmt.Sprint(pr.Number), last.TargetURL)

	approved := w.ourReviews(pr.Number, "APPROVED")
	require.Len(t, approved, 1)
	require.Equal(t, pr.HeadSHA, approved[0].CommitID)
	require.Contains(t, approved[0].Body, "Tested commit: "+pr.HeadSHA)
	require.Empty(t, w.ourReviews(pr.Number, "REQUEST_CHANGES"))

	p := w.pull(pr.Number)
	require.Equal(t, gate.VerdictPassed, p.Verdict)
	require.Equal(t, pr.HeadSHA, p.VerdictSHA)
	require.Len(t, w.reports(pr.Number, store.ReportApproval), 1)
	summaries := w.ourComments(pr.Number)
	require.Len(t, summaries, 1, "one summary comment")
	require.True(t, gate.IsSummaryComment(summaries[0].Body))
	require.Equal(t, 3, w.count(`SELECT count(*) FROM openqa_jobs WHERE test_run_id IS NOT NULL AND group_name <> ''`))
}

// A failure: a failure status and one request for changes naming the job
// and its owner; an acceptable_for comment on the job then approves.
func TestVerdictFailureThenAcceptableFor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr, ids := w.scheduled()
	w.finish("passed", ids[0], ids[2])
	w.finish("failed", ids[1])
	w.settle()

	require.Equal(t, 1, countState(w.ourStatuses(pr.HeadSHA), "failure"))
	require.Zero(t, countState(w.ourStatuses(pr.HeadSHA), "success"))
	declined := w.ourReviews(pr.Number, "REQUEST_CHANGES")
	require.Len(t, declined, 1)
	require.Equal(t, pr.HeadSHA, declined[0].CommitID)
	require.Contains(t, declined[0].Body, jobURL(w.cfg.OpenQA.URL, ids[1]))
	require.Contains(t, declined[0].Body, "@qe-core", "the group's contact")
	require.Empty(t, w.ourReviews(pr.Number, "APPROVED"))
	p := w.pull(pr.Number)
	require.Equal(t, gate.VerdictFailed, p.Verdict)
	require.Contains(t, p.VerdictReason, fmt.Sprint(ids[1]))

	// A late duplicate of the failure changes nothing.
	w.openqa.DeliverHook(ids[1])
	w.settle()
	require.Len(t, w.ourReviews(pr.Number, ""), 1)

	_, err := w.openqa.AddComment(ids[1], "qa-reviewer", fmt.Sprintf("@review:acceptable_for:submission_%d:bsc#1234567 known issue", pr.Number))
	require.NoError(t, err)
	// openQA sends no hook for comments; AMQP's comment.create does.
	require.Equal(t, 202, w.callback(fmt.Sprintf(`{"id": 77, "job_id": %d, "user": "qa-reviewer"}`, ids[1])))
	w.settle()

	approved := w.ourReviews(pr.Number, "APPROVED")
	require.Len(t, approved, 1)
	require.Equal(t, pr.HeadSHA, approved[0].CommitID)
	require.Contains(t, approved[0].Body, "bsc#1234567")
	require.Equal(t, 1, countState(w.ourStatuses(pr.HeadSHA), "success"))
	require.Equal(t, 1, w.count(`SELECT count(*) FROM job_acceptances WHERE job_id = $1 AND number = $2 AND reason = 'bsc#1234567'`, ids[1], pr.Number))
	require.Len(t, w.ourComments(pr.Number), 1, "the summary is edited in place, not stacked")
	require.Contains(t, w.ourComments(pr.Number)[0].Body, "passed")
}

// A failed job restarted in openQA: its clone decides.
func TestVerdictRestartedJobPasses(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr, ids := w.scheduled()
	w.finish("passed", ids[0], ids[2])
	w.finish("failed", ids[1])
	w.settle()
	require.Len(t, w.ourReviews(pr.Number, "REQUEST_CHANGES"), 1)

	clone, err := w.openqa.RestartJob(ids[1])
	require.NoError(t, err)
	// The restart as AMQP's job.restart tells it: result maps old to new.
	require.Equal(t, 202, w.callback(fmt.Sprintf(`{"id": %d, "result": {"%d": %d}, "auto": 0}`, ids[1], ids[1], clone)))
	w.settle()
	p := w.pull(pr.Number)
	require.Equal(t, gate.VerdictPending, p.Verdict, "the clone runs")
	require.Equal(t, 1, w.count(`SELECT count(*) FROM openqa_jobs WHERE id = $1 AND test_run_id IS NOT NULL`, clone), "the clone inherits the run")

	w.finish("passed", clone)
	w.settle()
	approved := w.ourReviews(pr.Number, "APPROVED")
	require.Len(t, approved, 1)
	require.Equal(t, pr.HeadSHA, approved[0].CommitID)
	require.Equal(t, 1, countState(w.ourStatuses(pr.HeadSHA), "success"))
}

// Callbacks out of order, duplicated and replayed: still one approval.
func TestVerdictCallbacksDuplicatedReorderedReplayed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr, ids := w.scheduled()

	w.openqa.SetHookEnabled(false)
	w.finish("passed", ids...)
	w.openqa.SetHookEnabled(true)
	for i := len(ids) - 1; i >= 0; i-- { // newest first
		require.Equal(t, 202, w.openqa.DeliverHook(ids[i]).Status)
		require.Equal(t, 202, w.openqa.DeliverHook(ids[i]).Status, "a duplicate is acknowledged")
	}
	w.settle()
	require.Len(t, w.ourReviews(pr.Number, "APPROVED"), 1)
	writes := w.giteaWrites()

	var delivery int64
	require.NoError(t, w.app.Pool.QueryRow(w.ctx, `SELECT min(id) FROM deliveries WHERE source = 'openqa'`).Scan(&delivery))
	w.replayDelivery(delivery)
	for _, id := range ids {
		w.openqa.DeliverHook(id)
	}
	w.settle()
	require.Len(t, w.ourReviews(pr.Number, "APPROVED"), 1)
	require.Equal(t, 1, countState(w.ourStatuses(pr.HeadSHA), "success"))
	require.Equal(t, writes, w.giteaWrites(), "nothing more was written to Gitea")
	require.Equal(t, 3, w.count(`SELECT count(*) FROM deliveries WHERE source = 'openqa' AND replay_of IS NULL`), "exact duplicates collapse")
}

// A push while tests run: the old SHA is never approved; an approval given
// before a push is withdrawn, and the new head is approved on its own.
func TestVerdictPushNeverApprovesTheOldSHA(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr, ids := w.scheduled()
	w.finish("passed", ids[0])
	w.settle()

	pushed, err := w.gitea.Push(owner, repoName, pr.Number, giteafake.PushOptions{Files: map[string]string{"openssl-3/openssl-3.spec": "Version: 3.1.2"}})
	require.NoError(t, err)
	w.settle()
	w.finish("passed", ids[1], ids[2])
	w.settle()
	require.Empty(t, w.ourReviews(pr.Number, "APPROVED"), "the old SHA is not approved")
	require.Zero(t, countState(w.ourStatuses(pr.HeadSHA), "success"))
	p := w.pull(pr.Number)
	require.Equal(t, gate.VerdictPending, p.Verdict)
	require.Equal(t, pushed.HeadSHA, p.VerdictSHA)
	require.Contains(t, p.VerdictReason, "waiting for the build")

	w.buildSucceeds(pr.Number, pushed.HeadSHA)
	w.settle()
	newIDs := w.jobsOf(pr.Number, pushed.HeadSHA)
	require.Len(t, newIDs, 3)
	w.finish("passed", newIDs...)
	w.settle()
	approved := w.ourReviews(pr.Number, "APPROVED")
	require.Len(t, approved, 1)
	require.Equal(t, pushed.HeadSHA, approved[0].CommitID)

	// Another push: the approval of the second SHA no longer holds.
	third, err := w.gitea.Push(owner, repoName, pr.Number, giteafake.PushOptions{Files: map[string]string{"openssl-3/openssl-3.spec": "Version: 3.1.3"}})
	require.NoError(t, err)
	w.settle()
	dismissals := w.reports(pr.Number, store.ReportDismissal)
	require.Len(t, dismissals, 1)
	require.Equal(t, pushed.HeadSHA, dismissals[0].SHA)
	require.Equal(t, "dismissed", dismissals[0].State)
	all, err := w.gitea.Reviews(owner, repoName, pr.Number)
	require.NoError(t, err)
	for _, r := range all {
		if r.ID == approved[0].ID {
			require.True(t, r.Dismissed, "our approval of the old head is dismissed")
		}
	}
	require.Equal(t, third.HeadSHA, w.pull(pr.Number).VerdictSHA)
	require.Len(t, w.ourReviews(pr.Number, "APPROVED"), 1, "nothing new is approved")
}

// group-comment mode: the group-review protocol, nothing else.
func TestVerdictGroupCommentMode(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *config.Config) { c.Gitea.Approval.Mode = gate.ApprovalModeGroupComment })
	pr, ids := w.scheduled()
	w.finish("passed", ids...)
	w.settle()

	require.Empty(t, w.ourReviews(pr.Number, ""), "no formal review in group-comment mode")
	var approvals, summaries int
	for _, c := range w.ourComments(pr.Number) {
		switch {
		case gate.IsSummaryComment(c.Body):
			summaries++
		default:
			approvals++
			lines := strings.Split(c.Body, "\n")
			require.Equal(t, "@"+botLogin+": approved", lines[0])
			require.Equal(t, "Tested commit: "+pr.HeadSHA, lines[len(lines)-1])
		}
	}
	require.Equal(t, 1, approvals)
	require.Equal(t, 1, summaries)
	require.Equal(t, 1, countState(w.ourStatuses(pr.HeadSHA), "success"))
}

// Dry-run: everything is decided and recorded, nothing is written.
func TestVerdictDryRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *config.Config) { c.DryRun = true })
	pr := w.openPull("Update openssl-3")
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	// Nothing was posted to openQA; jobs that exist for the run (scheduled
	// by hand) are found by product, build and SHA.
	for _, r := range w.runs(pr.Number) {
		require.Equal(t, store.RunDryRun, r.State)
		settings := map[string]string{}
		for k, v := range r.Settings {
			if !strings.HasPrefix(k, "__") {
				settings[k] = v
			}
		}
		settings["TEST"], settings["MACHINE"] = "qam-minimal", "64bit"
		id := w.openqa.AddJob(settings, groupID)
		w.finish("passed", id)
	}
	w.settle()

	require.Equal(t, gate.VerdictPassed, w.pull(pr.Number).Verdict)
	require.Zero(t, w.giteaWrites(), "dry-run writes nothing to Gitea")
	require.Empty(t, w.openqa.ISOPosts())
	for _, kind := range []string{store.ReportStatus, store.ReportApproval, store.ReportSummary} {
		recs := w.reports(pr.Number, kind)
		require.NotEmpty(t, recs, kind)
		for _, r := range recs {
			require.True(t, r.DryRun, kind)
		}
	}
	require.Contains(t, w.reports(pr.Number, store.ReportApproval)[0].Body, "Tested commit: "+pr.HeadSHA)
}

// A push whose webhook is lost lands while the last job of the old head
// passes: qemgate reads the head from Gitea right before it approves, so
// neither an approval nor a success status is posted at the old SHA, and the
// PR is synced to its new head.
func TestVerdictLivePushBeforeApprovalNeverApprovesTheOldSHA(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr, ids := w.scheduled()
	w.finish("passed", ids[0], ids[1])
	w.settle()

	w.gitea.SetSwitches(giteafake.Switches{Drop: true}) // Gitea says nothing of the push
	pushed, err := w.gitea.Push(owner, repoName, pr.Number, giteafake.PushOptions{Files: map[string]string{"openssl-3/openssl-3.spec": "Version: 3.1.2"}})
	require.NoError(t, err)
	w.finish("passed", ids[2])
	w.settle()

	require.Empty(t, w.ourReviews(pr.Number, "APPROVED"), "the old SHA is not approved")
	require.Zero(t, countState(w.ourStatuses(pr.HeadSHA), "success"), "no success status at the old SHA")
	require.Empty(t, w.reports(pr.Number, store.ReportApproval))
	require.Eventually(t, func() bool { return w.pull(pr.Number).HeadSHA == pushed.HeadSHA }, 30*time.Second, 50*time.Millisecond,
		"the report's live check syncs the PR to its new head")
	w.settle()
	p := w.pull(pr.Number)
	require.Equal(t, pushed.HeadSHA, p.VerdictSHA)
	require.Equal(t, gate.VerdictPending, p.Verdict)
}
