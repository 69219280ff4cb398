package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Events for one key: the first waits, the next during a run queues one
// follow-up, and the next while both lanes run marks the key so the running
// job runs again when it ends. No event is absorbed by a job that already
// read the old state.
func TestInsertDebouncedNeverLosesAnEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	workers := river.NewWorkers()
	Register(workers, Deps{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers})
	require.NoError(t, err)
	st := store.New(pool)
	deps := Deps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	args := SyncPullArgs{Repo: "products/SLFO", Number: 7}
	insert := func() int64 {
		var id int64
		require.NoError(t, st.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			id, err = InsertDebounced(ctx, client, tx, args)
			return err
		}))
		return id
	}
	run := func(id int64) {
		_, err := pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() WHERE id = $1`, id)
		require.NoError(t, err)
	}
	count := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&n))
		return n
	}

	first := insert()
	require.Equal(t, first, insert(), "a burst leaves one waiting job")
	require.Equal(t, 1, count())

	started := time.Now().Add(-time.Second)
	run(first)
	followup := insert()
	require.NotEqual(t, first, followup, "news during a run queues a follow-up")
	require.Equal(t, followup, insert(), "one follow-up only")
	require.Equal(t, 2, count())

	job := &river.Job[SyncPullArgs]{JobRow: &rivertype.JobRow{ID: first, AttemptedAt: &started}, Args: args}
	require.NoError(t, rerunIfMarked(ctx, deps, job, nil), "nothing marked yet")

	run(followup)
	insert()
	require.Equal(t, 2, count(), "both lanes run: no third job ...")
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, rerunIfMarked(ctx, deps, job, nil), &snooze, "... but the running job runs again")

	later := time.Now().Add(time.Minute)
	job.AttemptedAt = &later
	require.NoError(t, rerunIfMarked(ctx, deps, job, nil), "a mark older than the attempt was seen already")
	boom := errors.New("gitea down")
	require.ErrorIs(t, rerunIfMarked(ctx, deps, job, boom), boom, "a failed attempt is retried as it is")
}
