package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

func newDispatchIngest(t *testing.T, pool *pgxpool.Pool) *Ingest {
	t.Helper()
	workers := river.NewWorkers()
	Register(workers, Deps{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers})
	require.NoError(t, err)
	return &Ingest{Store: store.New(pool), River: client}
}

// acceptMany stores n deliveries round-robin over prs PRs.
func acceptMany(t *testing.T, in *Ingest, n, prs int) {
	t.Helper()
	for i := range n {
		d := &store.Delivery{Source: "gitea", DeliveryID: fmt.Sprintf("d-%d", i), EventType: "pull_request_sync", Body: []byte(`{}`), Outcome: store.OutcomeAccepted}
		res, err := in.Accept(context.Background(), d, Intent{Repo: "products/SLFO", Number: int64(i%prs + 1)})
		require.NoError(t, err)
		require.True(t, res.Queued)
	}
}

// checkDispatched: every delivery's work is dispatched exactly once: one
// pending sync_pull per PR, and every work row names its PR's job.
func checkDispatched(t *testing.T, pool *pgxpool.Pool, n, prs int) {
	t.Helper()
	ctx := context.Background()
	var jobs, distinctJobs, done, wrong int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT args->>'number') FROM river_job WHERE kind = 'sync_pull'`).Scan(&jobs, &distinctJobs))
	require.Equal(t, prs, jobs, "one job per PR, none doubled")
	require.Equal(t, prs, distinctJobs)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM delivery_work WHERE job_ids IS NOT NULL`).Scan(&done))
	require.Equal(t, n, done, "every delivery's work dispatched")
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM delivery_work w
		WHERE NOT EXISTS (SELECT 1 FROM river_job j WHERE j.id = ANY (w.job_ids) AND (j.args->>'number')::bigint = w.number)`).Scan(&wrong))
	require.Zero(t, wrong, "every work row names its own PR's job")
}

// A dispatch transaction that fails after it claimed rows and inserted
// their jobs (here: an error just before the commit, as a crash there would
// be) leaves nothing behind: no job, every row pending. The next dispatch
// does all of it once, and one after that finds nothing.
func TestDispatchAbortedMidBatchLosesAndDoublesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	in := newDispatchIngest(t, pool)
	const n, prs = 30, 7
	acceptMany(t, in, n, prs)

	crash := errors.New("crash after claiming and inserting")
	var inserted int
	_, err := in.dispatch(ctx, dispatchBatch, func(tx pgx.Tx) error {
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&inserted))
		return crash
	})
	require.ErrorIs(t, err, crash)
	require.Equal(t, prs, inserted, "the batch had inserted its jobs before it failed")
	var jobs int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&jobs))
	require.Zero(t, jobs, "rolled back with the claim")
	pending, err := store.PendingWork(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, int64(n), pending)

	got, err := in.DispatchAll(ctx)
	require.NoError(t, err)
	require.Equal(t, n, got)
	checkDispatched(t, pool, n, prs)
	got, err = in.DispatchAll(ctx)
	require.NoError(t, err)
	require.Zero(t, got, "nothing twice")
	checkDispatched(t, pool, n, prs)
}

// A dispatcher whose connection dies while it holds a claim (its process
// was killed) holds nothing any more: another dispatcher skipped its rows
// while it lived and takes them once it is gone.
func TestDispatcherKilledWhileHoldingAClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	in := newDispatchIngest(t, pool)
	const n, prs = 40, 5
	acceptMany(t, in, n, prs)

	victim, err := pgx.Connect(ctx, pool.Config().ConnConfig.ConnString())
	require.NoError(t, err)
	defer victim.Close(context.Background())
	tx, err := victim.Begin(ctx)
	require.NoError(t, err)
	claimed, err := store.ClaimWork(ctx, tx, 15)
	require.NoError(t, err)
	require.Len(t, claimed, 15)

	got, err := in.DispatchAll(ctx)
	require.NoError(t, err)
	require.Equal(t, n-15, got, "the claimed rows are skipped, not waited for")

	_, err = pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, victim.PgConn().PID())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		p, err := store.PendingWork(ctx, pool)
		if err != nil || p != 15 {
			return false
		}
		got, err := in.DispatchAll(ctx)
		return err == nil && got == 15
	}, waitFor, pollEvery, "the killed dispatcher's rows are dispatched by another")
	checkDispatched(t, pool, n, prs)
}

// Dispatchers on several replicas at once, woken while deliveries arrive:
// every delivery's work is dispatched once.
func TestDispatchersRunConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	const n, prs = 300, 13
	replicas := []*Ingest{newDispatchIngest(t, pool), newDispatchIngest(t, pool), newDispatchIngest(t, pool)}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, in := range replicas {
		wg.Go(func() { in.RunDispatcher(runCtx, pollEvery) })
	}
	var accept sync.WaitGroup
	for r, in := range replicas {
		accept.Go(func() {
			for i := r; i < n; i += len(replicas) {
				d := &store.Delivery{Source: "gitea", DeliveryID: fmt.Sprintf("d-%d", i), EventType: "pull_request_sync", Body: []byte(`{}`), Outcome: store.OutcomeAccepted}
				_, err := in.Accept(ctx, d, Intent{Repo: "products/SLFO", Number: int64(i%prs + 1)})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	accept.Wait()
	require.Eventually(t, func() bool {
		p, err := store.PendingWork(ctx, pool)
		return err == nil && p == 0
	}, waitFor, pollEvery)
	stop()
	wg.Wait()
	checkDispatched(t, pool, n, prs)
}

// Deadlines of the waits above: generous for a busy 2-core machine.
const (
	waitFor   = 30 * time.Second
	pollEvery = 20 * time.Millisecond
)
