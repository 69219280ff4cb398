package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/store"
)

// SyncPullArgs asks to re-read one PR from Gitea, the authority, and store it.
// Events only say "look at this PR again"; they are never taken as the truth.
type SyncPullArgs struct {
	Repo     string `json:"repo" river:"unique"`
	Number   int64  `json:"number" river:"unique"`
	Followup bool   `json:"followup,omitempty" river:"unique"`
}

// Kind names the job.
func (SyncPullArgs) Kind() string { return "sync_pull" }

// InsertOpts makes the job unique per PR while it is waiting or running.
func (SyncPullArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueGitea, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

func (a SyncPullArgs) withFollowup() river.JobArgs {
	a.Followup = !a.Followup
	return a
}

// SyncPullWorker re-reads a PR and upserts it.
type SyncPullWorker struct {
	river.WorkerDefaults[SyncPullArgs]
	deps Deps
}

// Work loads the PR from Gitea and records it.
func (w *SyncPullWorker) Work(ctx context.Context, job *river.Job[SyncPullArgs]) error {
	a := job.Args
	pr, err := w.deps.Forge.GetPull(ctx, a.Repo, a.Number)
	if err != nil {
		return forgeError(fmt.Sprintf("sync %s#%d", a.Repo, a.Number), err)
	}
	p := pullFromForge(a.Repo, pr)
	change, err := store.UpsertPull(ctx, w.deps.Store.Pool, p)
	if err != nil {
		return err
	}
	if change.New || change.PreviousSHA != p.HeadSHA {
		w.deps.Logger.InfoContext(ctx, "pull synced", "pull", p.Ref(), "state", p.State, "new", change.New, "previous_sha", change.PreviousSHA)
	}
	return nil
}

// pullFromForge keys the row by our configured repository name.
func pullFromForge(repo string, pr *forge.Pull) store.Pull {
	return store.Pull{
		Repo:               repo,
		Number:             pr.Number,
		State:              pr.State,
		Merged:             pr.Merged,
		Draft:              pr.Draft,
		Title:              pr.Title,
		Author:             pr.Author,
		BaseBranch:         pr.BaseBranch,
		HeadSHA:            strings.ToLower(pr.HeadSHA),
		HTMLURL:            pr.HTMLURL,
		Labels:             pr.Labels,
		RequestedReviewers: pr.RequestedReviewers,
		RequestedTeams:     pr.RequestedTeams,
		GiteaUpdatedAt:     timePtr(pr.UpdatedAt),
	}
}

// forgeError turns a permanent Gitea error into a cancelled job (retrying a
// 404 or 403 only makes noise) and lets River retry the rest with backoff.
func forgeError(op string, err error) error {
	if forge.IsRetryable(err) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return river.JobCancel(fmt.Errorf("%s: permanent: %w", op, err))
}
