package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

// pollOpenQALimit bounds the jobs one cycle reads; the oldest go first and
// the next cycle takes the rest.
const pollOpenQALimit = 5000

// PollOpenQAArgs asks for one reconciliation pass over unfinished openQA jobs.
type PollOpenQAArgs struct{}

// Kind names the job.
func (PollOpenQAArgs) Kind() string { return "poll_openqa" }

// PollOpenQAWorker reads the jobs whose job-done signal may have been lost.
type PollOpenQAWorker struct {
	river.WorkerDefaults[PollOpenQAArgs]
	deps Deps
}

// Work runs one poll cycle.
func (w *PollOpenQAWorker) Work(ctx context.Context, _ *river.Job[PollOpenQAArgs]) error {
	_, err := PollOpenQA(ctx, w.deps, river.ClientFromContext[pgx.Tx](ctx))
	return err
}

// PollOpenQA reads, by id, the openQA jobs that are not final and were not
// synced for poll.openqa_stale_after, and the jobs of runs scheduled that
// long ago that were never stored; it enqueues sync_openqa_job for every
// one that changed, is missing, or that openQA no longer lists. Failed jobs
// that still block an open PR are synced again once per stale period, so
// that an acceptable_for comment added later is read.
func PollOpenQA(ctx context.Context, deps Deps, ins Inserter) (PollResult, error) {
	res := PollResult{Drift: map[string]int{}}
	before := deps.now().Add(-deps.Config.Poll.OpenQAStaleAfter.D())
	stale, err := store.StaleOpenQAJobs(ctx, deps.Store.Pool, before, pollOpenQALimit)
	if err != nil {
		return res, err
	}
	unsynced, err := store.UnsyncedRunJobs(ctx, deps.Store.Pool, before, pollOpenQALimit)
	if err != nil {
		return res, err
	}
	recheck, err := store.FailedJobsToRecheck(ctx, deps.Store.Pool, before, pollOpenQALimit)
	if err != nil {
		return res, err
	}
	if err := recheckFailed(ctx, deps, ins, recheck); err != nil {
		return res, err
	}
	res.Synced += len(recheck)
	if len(stale)+len(unsynced) == 0 {
		return res, nil
	}
	ids := make([]int64, 0, len(stale)+len(unsynced))
	for _, j := range stale {
		ids = append(ids, j.ID)
	}
	ids = append(ids, unsynced...)
	listed, err := deps.OpenQA.ListJobs(ctx, openqa.JobFilter{IDs: ids})
	if err != nil {
		return res, fmt.Errorf("poll openQA: list %d jobs: %w", len(ids), err)
	}
	res.Listed = len(listed)
	byID := make(map[int64]openqa.Job, len(listed))
	for _, j := range listed {
		byID[j.ID] = j
	}
	type item struct {
		id   int64
		kind string
	}
	var items []item
	for _, ours := range stale {
		if kind := jobDrift(ours, byID); kind != "" {
			items = append(items, item{ours.ID, kind})
		}
	}
	for _, id := range unsynced {
		items = append(items, item{id, DriftOpenQAUnsynced})
	}
	if len(items) == 0 {
		return res, nil
	}
	err = deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		for _, it := range items {
			if _, err := InsertDebounced(ctx, ins, tx, SyncOpenQAJobArgs{ID: it.id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("poll openQA: %w", err)
	}
	for _, it := range items {
		res.Synced++
		res.Drift[it.kind]++
		deps.Metrics.PollerDrift.WithLabelValues(it.kind).Inc()
		deps.Logger.InfoContext(ctx, "poller found drift", "kind", it.kind, "openqa_job", it.id)
	}
	return res, nil
}

// recheckFailed syncs failed jobs again so that their comments are read: a
// later acceptable_for comment is how a failure is accepted, and openQA
// signals nothing for it. Not drift: nothing says a comment was missed.
func recheckFailed(ctx context.Context, deps Deps, ins Inserter, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		for _, id := range ids {
			if _, err := InsertDebounced(ctx, ins, tx, SyncOpenQAJobArgs{ID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("poll openQA: recheck failed jobs: %w", err)
	}
	deps.Logger.DebugContext(ctx, "failed jobs read again for new comments", "openqa_jobs", ids)
	return nil
}

// jobDrift says how openQA's word on a job differs from ours ("" if not).
func jobDrift(ours store.JobSnapshot, listed map[int64]openqa.Job) string {
	theirs, ok := listed[ours.ID]
	switch {
	case !ok:
		return DriftOpenQAGone
	case theirs.State != ours.State || theirs.Result != ours.Result || theirs.CloneID != ours.CloneID:
		return DriftOpenQAChanged
	}
	return ""
}
