package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/store"
)

// The safety net's query: a job that changed after the last evaluation began
// (and settled) makes the verdict stale; an evaluation after it does not.
func TestStaleVerdicts(t *testing.T) {
	t.Parallel()
	ctx, pool, run := setupRun(t, 100)
	stale := func() []store.StaleVerdict {
		t.Helper()
		out, err := store.StaleVerdicts(ctx, pool, 0, 100)
		require.NoError(t, err)
		return out
	}
	require.Equal(t, []store.StaleVerdict{{Repo: testRepo, Number: 7, Reason: "head_unevaluated"}}, stale(),
		"runs at the head and no verdict of it")

	_, err := store.SetVerdict(ctx, pool, testRepo, 7, shaA, "pending", "", []byte(`{}`))
	require.NoError(t, err)
	require.Equal(t, []store.StaleVerdict{{Repo: testRepo, Number: 7, Reason: "jobs_newer"}}, stale(), "never marked evaluated")

	began := time.Now().Add(-10 * time.Second)
	require.NoError(t, store.MarkEvaluated(ctx, pool, testRepo, 7, shaA, began))
	require.Empty(t, stale())

	_, err = store.UpsertOpenQAJob(ctx, pool, store.OpenQAJob{ID: 100, TestRunID: run.ID, State: "done", Result: "passed"})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE openqa_jobs SET changed_at = $1`, began.Add(time.Second))
	require.NoError(t, err)
	require.Equal(t, []store.StaleVerdict{{Repo: testRepo, Number: 7, Reason: "jobs_newer"}}, stale(), "the job changed after the evaluation began")
	settled, err := store.StaleVerdicts(ctx, pool, time.Hour, 100)
	require.NoError(t, err)
	require.Empty(t, settled, "a change younger than the settle time is left to the evaluation running for it")

	require.NoError(t, store.MarkEvaluated(ctx, pool, testRepo, 7, shaA, began.Add(2*time.Second)))
	require.Empty(t, stale())
	require.NoError(t, store.MarkEvaluated(ctx, pool, testRepo, 7, shaA, began), "an older evaluation does not move it back")
	require.Empty(t, stale())

	_, err = pool.Exec(ctx, `UPDATE pulls SET state = 'closed'`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE openqa_jobs SET changed_at = now()`)
	require.NoError(t, err)
	require.Empty(t, stale(), "closed PRs are not evaluated")
}

func TestRunningJobsOlderThan(t *testing.T) {
	t.Parallel()
	ctx, pool, _ := setupRun(t)
	_, err := pool.Exec(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, attempt, attempted_at, attempted_by)
		VALUES ('{}', 'sync_pull', 25, 'gitea', 'running', 1, now() - interval '10 minutes', '{dead-host}'),
		       ('{}', 'report', 25, 'gitea', 'running', 1, now(), '{live-host}')`)
	require.NoError(t, err)
	jobs, err := store.RunningJobsOlderThan(ctx, pool, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, "sync_pull", jobs[0].Kind)
	require.InDelta(t, (10 * time.Minute).Seconds(), jobs[0].For.Seconds(), 60)
}
