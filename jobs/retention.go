package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/store"
)

// retentionBatch keeps each DELETE short, so ingest never waits on it.
const retentionBatch = 1000

// RetentionArgs asks to delete stored deliveries past retention.deliveries.
type RetentionArgs struct{}

// Kind names the job.
func (RetentionArgs) Kind() string { return "retention" }

// RetentionWorker deletes old deliveries in batches.
type RetentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	deps Deps
}

// Work deletes until nothing older than the retention period is left, and
// forgets rerun marks that were consumed long ago.
func (w *RetentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	if _, err := DeleteOldDeliveries(ctx, w.deps); err != nil {
		return err
	}
	if _, err := store.DeleteRerunMarksBefore(ctx, w.deps.Store.Pool, w.deps.now().Add(-24*time.Hour)); err != nil {
		return fmt.Errorf("retention: delete rerun marks: %w", err)
	}
	return nil
}

// DeleteOldDeliveries deletes the deliveries received before now minus
// retention.deliveries, retentionBatch at a time, and returns how many.
func DeleteOldDeliveries(ctx context.Context, deps Deps) (int64, error) {
	cutoff := deps.now().Add(-deps.Config.Retention.Deliveries.D())
	var total int64
	for {
		n, err := store.DeleteDeliveriesBefore(ctx, deps.Store.Pool, cutoff, retentionBatch)
		total += n
		deps.Metrics.DeliveriesDeleted.Add(float64(n))
		if err != nil {
			return total, fmt.Errorf("retention: delete deliveries before %s: %w", cutoff.Format("2006-01-02T15:04:05Z07:00"), err)
		}
		if n < retentionBatch || ctx.Err() != nil {
			break
		}
	}
	if total > 0 {
		deps.Logger.InfoContext(ctx, "old deliveries deleted", "deleted", total, "before", cutoff)
	}
	return total, ctx.Err()
}
