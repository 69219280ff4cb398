package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// SyncCommitWorker finds the PRs of a commit and enqueues their sync.
type SyncCommitWorker struct {
	river.WorkerDefaults[SyncCommitArgs]
	deps Deps
}

// Work looks the commit's PRs up in Gitea and enqueues a sync for each.
func (w *SyncCommitWorker) Work(ctx context.Context, job *river.Job[SyncCommitArgs]) error {
	a := job.Args
	pulls, err := w.deps.Forge.PullsForCommit(ctx, a.Repo, a.SHA)
	if err != nil {
		return forgeError(fmt.Sprintf("pulls of %s@%.12s", a.Repo, a.SHA), err)
	}
	if len(pulls) == 0 {
		return nil
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	return w.deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		for _, p := range pulls {
			if _, err := InsertDebounced(ctx, client, tx, SyncPullArgs{Repo: a.Repo, Number: p.Number}); err != nil {
				return err
			}
		}
		return nil
	})
}
