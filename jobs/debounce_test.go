package jobs

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// debounceProbeArgs is a debounced job whose worker the test holds at the
// end of its work, to force the interleavings that used to lose news.
type debounceProbeArgs struct {
	Key string `json:"key" river:"unique"`
}

func (debounceProbeArgs) Kind() string { return "debounce_probe" }

func (debounceProbeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

func (a debounceProbeArgs) debounceKey() string { return a.Key }

type debounceProbeWorker struct {
	river.WorkerDefaults[debounceProbeArgs]
	deps    Deps
	started chan int64    // a job id, when its attempt began
	release chan struct{} // lets one attempt end
}

func (w *debounceProbeWorker) Work(ctx context.Context, job *river.Job[debounceProbeArgs]) error {
	w.started <- job.ID
	select {
	case <-w.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return finishDebounced(ctx, w.deps, job, nil)
}

type debounceRig struct {
	t      *testing.T
	pool   *pgxpool.Pool
	st     *store.Store
	client *river.Client[pgx.Tx]
	worker *debounceProbeWorker
	args   debounceProbeArgs
}

func newDebounceRig(t *testing.T) *debounceRig {
	t.Helper()
	pool := pgtest.New(t)
	st := store.New(pool)
	deps := Deps{Store: st, Metrics: NewMetrics(prometheus.NewRegistry()), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w := &debounceProbeWorker{deps: deps, started: make(chan int64, 8), release: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:           workers,
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		close(w.release) // let every held attempt end
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = client.Stop(stopCtx)
		cancel()
	})
	return &debounceRig{t: t, pool: pool, st: st, client: client, worker: w, args: debounceProbeArgs{Key: "products/SLFO#7"}}
}

// event enqueues the probe job as an event's transaction would; it returns
// the open transaction so the test decides when it commits.
func (r *debounceRig) event(ctx context.Context) pgx.Tx {
	r.t.Helper()
	tx, err := r.pool.Begin(ctx)
	require.NoError(r.t, err)
	_, err = InsertDebounced(ctx, r.client, tx, r.args)
	require.NoError(r.t, err)
	return tx
}

func (r *debounceRig) commitEvent(ctx context.Context) {
	r.t.Helper()
	require.NoError(r.t, r.event(ctx).Commit(ctx))
}

// nextStart waits for an attempt to begin.
func (r *debounceRig) nextStart() int64 {
	r.t.Helper()
	select {
	case id := <-r.worker.started:
		return id
	case <-time.After(30 * time.Second):
		r.t.Fatal("no attempt began within 30 s")
		return 0
	}
}

// waitBlocked waits until a statement matching like waits for a lock.
func (r *debounceRig) waitBlocked(ctx context.Context, like string) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		var n int
		err := r.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`, like).Scan(&n)
		return err == nil && n > 0
	}, 30*time.Second, 10*time.Millisecond, "no statement like %q waited for a lock", like)
}

func (r *debounceRig) noMoreStarts(within time.Duration) {
	r.t.Helper()
	select {
	case id := <-r.worker.started:
		r.t.Fatalf("job %d ran although no news arrived", id)
	case <-time.After(within):
	}
}

// A burst of events while no job runs leaves one job.
func TestInsertDebouncedBurstLeavesOneJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	workers := river.NewWorkers()
	river.AddWorker(workers, &debounceProbeWorker{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers})
	require.NoError(t, err)
	var ids []int64
	for range 5 {
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			id, err := InsertDebounced(ctx, client, tx, debounceProbeArgs{Key: "k"})
			ids = append(ids, id)
			return err
		}))
	}
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
	var marks int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM rerun_marks`).Scan(&marks))
	require.Zero(t, marks, "nothing ran, so nothing is marked")
}

// News committed while the job runs is never lost: the event marks the key,
// and the job, on completing, is queued again.
func TestDebouncedNewsDuringRunRunsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newDebounceRig(t)
	r.commitEvent(ctx)
	first := r.nextStart()
	r.commitEvent(ctx) // the job runs and may have read the old state
	r.worker.release <- struct{}{}
	second := r.nextStart()
	require.NotEqual(t, first, second)
	r.worker.release <- struct{}{}
	r.noMoreStarts(time.Second)
}

// The interleaving that used to lose news: the event's mark is written after
// the job has read everything it will read and before its completion
// commits. Here the event holds the job's row when the job completes: the
// completion waits for it, then reads its mark.
func TestDebouncedMarkBetweenLastReadAndCompletion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newDebounceRig(t)
	r.commitEvent(ctx)
	first := r.nextStart()
	tx := r.event(ctx) // marks the running job's key and holds its row
	r.worker.release <- struct{}{}
	r.waitBlocked(ctx, "%river_job%")
	require.NoError(t, tx.Commit(ctx))
	second := r.nextStart()
	require.NotEqual(t, first, second, "the news is read by a new attempt")
	r.worker.release <- struct{}{}
	r.noMoreStarts(time.Second)
}

// The other order: the completion holds the job's row (it is completed but
// not committed, and has not read the marks yet) when the event arrives.
// The event waits for it, finds the job completed, and queues a new one.
func TestDebouncedEventDuringCompletion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newDebounceRig(t)
	// An old, consumed mark whose row the test locks, to hold the completion
	// between completing the job and taking the marks.
	_, err := r.pool.Exec(ctx, `INSERT INTO rerun_marks (kind, key, marked_at) VALUES ($1, $2, now() - interval '1 hour')`,
		r.args.Kind(), r.args.Key)
	require.NoError(t, err)
	r.commitEvent(ctx)
	first := r.nextStart()
	hold, err := r.pool.Begin(ctx)
	require.NoError(t, err)
	_, err = hold.Exec(ctx, `SELECT 1 FROM rerun_marks WHERE kind = $1 AND key = $2 FOR UPDATE`, r.args.Kind(), r.args.Key)
	require.NoError(t, err)
	r.worker.release <- struct{}{}
	r.waitBlocked(ctx, "DELETE FROM rerun_marks%")

	done := make(chan error, 1)
	go func() {
		tx, err := r.pool.Begin(ctx)
		if err == nil {
			_, err = InsertDebounced(ctx, r.client, tx, r.args)
			if err == nil {
				err = tx.Commit(ctx)
			}
		}
		done <- err
	}()
	r.waitBlocked(ctx, "%river_job%") // the event waits for the completion
	require.NoError(t, hold.Rollback(ctx))
	require.NoError(t, <-done)
	second := r.nextStart()
	require.NotEqual(t, first, second)
	r.worker.release <- struct{}{}
	r.noMoreStarts(time.Second)
}
