package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/store"
)

// The verdict safety net: level-triggered, it re-evaluates any open PR whose
// verdict is older than the jobs and acceptances it is decided from, or whose
// head has runs but no verdict. Each change is meant to reach an evaluation
// through an event (a sync, a mark); this catches one that did not, so a PR
// never stays pending with every job done.
const (
	reevaluateInterval = time.Minute
	// reevaluateSettle leaves a change this young to the evaluation that is
	// likely running for it.
	reevaluateSettle = 30 * time.Second
	// reevaluateBatch bounds one pass.
	reevaluateBatch = 500
)

// ReevaluateArgs asks for one pass of the verdict safety net.
type ReevaluateArgs struct{}

// Kind names the job.
func (ReevaluateArgs) Kind() string { return "reevaluate" }

// ReevaluateWorker runs the verdict safety net.
type ReevaluateWorker struct {
	river.WorkerDefaults[ReevaluateArgs]
	deps Deps
}

// Work queues an evaluation of every PR whose verdict is stale.
func (w *ReevaluateWorker) Work(ctx context.Context, _ *river.Job[ReevaluateArgs]) error {
	_, err := Reevaluate(ctx, w.deps, river.ClientFromContext[pgx.Tx](ctx))
	return err
}

// Reevaluate queues an evaluation of every open PR whose verdict is stale
// and returns how many it queued.
func Reevaluate(ctx context.Context, deps Deps, ins Inserter) (int, error) {
	stale, err := store.StaleVerdicts(ctx, deps.Store.Pool, reevaluateSettle, reevaluateBatch)
	if err != nil || len(stale) == 0 {
		return 0, err
	}
	err = deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		for _, s := range stale {
			if _, err := InsertDebounced(ctx, ins, tx, EvaluateArgs{Repo: s.Repo, Number: s.Number}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reevaluate: %w", err)
	}
	for _, s := range stale {
		deps.Metrics.Reevaluations.WithLabelValues(s.Reason).Inc()
		deps.Logger.WarnContext(ctx, "verdict older than its inputs: evaluating again", "pull", fmt.Sprintf("%s#%d", s.Repo, s.Number), "reason", s.Reason)
	}
	return len(stale), nil
}
