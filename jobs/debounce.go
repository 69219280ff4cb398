package jobs

// This file is the one mechanism for "news that arrives while a job runs".
//
// Event-driven jobs are unique per business key while they wait or run
// (pendingStates), so a burst of events for one PR leaves one job. An event
// that finds the job for its key already running cannot queue another, and
// the running job may have read the old state before the news was written.
// InsertDebounced then writes a rerun mark for the key in the event's
// transaction. The job ends through finishDebounced, which completes it in
// a transaction of its own that also takes the key's marks: when one was
// written after the attempt began, the same job is queued again in that
// transaction.
//
// Why nothing can be lost between the two: InsertDebounced's insert takes
// the running job's row lock (River's unique insert is ON CONFLICT DO
// UPDATE), and the completion updates the same row before it reads the
// marks. Either the event's transaction holds the row first, and then the
// completion waits for it and reads its mark; or the completion holds it
// first, and then the event's insert waits, finds the job completed, and
// inserts a new one. River's own asynchronous completion, which lagged the
// job's return by 100-200 ms, no longer decides anything.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/qemgate/qemgate/store"
)

// pendingStates is the uniqueness window of debounced jobs: while one is
// waiting or running, more events for the same key do not add another.
// Completed jobs are left out so that a later event always causes new work.
var pendingStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRunning,
	rivertype.JobStateRetryable,
	rivertype.JobStateScheduled,
}

// debouncedArgs are the arguments of a job that is unique per business key
// while pending and ends through finishDebounced.
type debouncedArgs interface {
	river.JobArgs
	// debounceKey names the business key, as rerun marks store it.
	debounceKey() string
}

// Inserter is what enqueuing needs from River.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// InsertDebounced inserts args inside tx so that a burst of events for one
// key leaves one pending job. When the job for the key is running, the key
// is marked and the running job runs once more when it ends. It returns the
// id of the job that will do the work.
func InsertDebounced(ctx context.Context, ins Inserter, tx pgx.Tx, args debouncedArgs) (int64, error) {
	ids, err := InsertDebouncedMany(ctx, ins, tx, []debouncedArgs{args})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// InsertDebouncedMany is InsertDebounced for many keys in one round trip
// (the dispatcher's batch): it returns the id of the job that will do the
// work of each, in order. Keys whose job is running are marked one by one.
func InsertDebouncedMany(ctx context.Context, ins Inserter, tx pgx.Tx, args []debouncedArgs) ([]int64, error) {
	if len(args) == 0 {
		return nil, nil
	}
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a}
	}
	res, err := ins.InsertManyTx(ctx, tx, params)
	if err != nil {
		return nil, fmt.Errorf("enqueue %d jobs, the first %s %s: %w", len(args), args[0].Kind(), args[0].debounceKey(), err)
	}
	if len(res) != len(args) {
		return nil, fmt.Errorf("enqueue %d jobs: River answered %d", len(args), len(res))
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		if r.UniqueSkippedAsDuplicate && r.Job.State == rivertype.JobStateRunning {
			if err := store.MarkRerun(ctx, tx, args[i].Kind(), args[i].debounceKey()); err != nil {
				return nil, err
			}
		}
		ids[i] = r.Job.ID
	}
	return ids, nil
}

// completeTimeout bounds the completion transaction; it runs even when the
// job's own context is done, so a finished attempt is not thrown away.
const completeTimeout = 15 * time.Second

// finishDebounced ends an attempt of a debounced job. A failed attempt is
// returned as it is: River retries it, and the retry reads the news. A
// successful one is completed here, in one transaction with taking the
// key's rerun marks, and queued once more when news arrived during it. When
// that transaction fails, the attempt fails too and River retries the job,
// which is idempotent: completing without reading the marks could lose one.
func finishDebounced[T debouncedArgs](ctx context.Context, deps Deps, job *river.Job[T], workErr error) error {
	if workErr != nil || job.AttemptedAt == nil {
		return workErr
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), completeTimeout)
	defer cancel()
	kind, key := job.Args.Kind(), job.Args.debounceKey()
	var again bool
	err := deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("complete %s %s: %w", kind, key, err)
		}
		marked, err := store.TakeRerunMarks(ctx, tx, kind, key, *job.AttemptedAt)
		if err != nil || !marked {
			return err
		}
		if _, err := client.InsertTx(ctx, tx, job.Args, nil); err != nil {
			return fmt.Errorf("enqueue %s %s again: %w", kind, key, err)
		}
		again = true
		return nil
	})
	if err != nil {
		return err
	}
	if again {
		deps.Metrics.Reruns.WithLabelValues(kind).Inc()
		deps.Logger.InfoContext(ctx, "news arrived while running: queued again", "kind", kind, "key", key)
	}
	return nil
}
