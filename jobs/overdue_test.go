package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

// Jobs running past their own timeout are overdue: a killed process's. A
// poller has a longer bound than an event-driven job.
func TestOverdueCountsJobsPastTheirOwnTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := &Overdue{Store: store.New(pool), JobTimeout: 2 * time.Minute}
	msg, err := o.Describe(ctx)
	require.NoError(t, err)
	require.Empty(t, msg, "nothing runs")

	_, err = pool.Exec(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, attempt, attempted_at, attempted_by)
		VALUES ('{}', 'sync_pull', 25, 'gitea', 'running', 1, now() - interval '3 minutes', '{dead}'),
		       ('{}', 'evaluate', 25, 'default', 'running', 1, now() - interval '4 minutes', '{dead}'),
		       ('{}', 'poll_gitea', 3, 'gitea', 'running', 1, now() - interval '3 minutes', '{live}'),
		       ('{}', 'report', 25, 'gitea', 'running', 1, now() - interval '30 seconds', '{live}')`)
	require.NoError(t, err)
	byKind, longest, err := o.Count(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"sync_pull": 1, "evaluate": 1}, byKind)
	require.InDelta(t, (4 * time.Minute).Seconds(), longest.Seconds(), 30)
	msg, err = o.Describe(ctx)
	require.NoError(t, err)
	require.Contains(t, msg, "2 jobs running past their timeout")
}

// A scrape while the database is unreachable still answers: the overdue
// gauge is left out instead of failing every other metric.
func TestOverdueCollectorWithoutDatabase(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	o := &Overdue{Store: store.New(pool), JobTimeout: time.Minute}
	reg := prometheus.NewRegistry()
	reg.MustRegister(o.Collector())
	families, err := reg.Gather()
	require.NoError(t, err)
	require.Len(t, families, 1)
	pool.Close()
	families, err = reg.Gather()
	require.NoError(t, err, "a closed pool does not fail the scrape")
	require.Empty(t, families)
}
