package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

// Older aggregate jobs of the same scenario, newest first, each saying
// whether its aggregate carried the PR.
func TestOlderAggregateJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	aggregate := func(build string, job int64, result string, members ...int64) {
		t.Helper()
		var ms []store.AggregateMember
		for _, n := range members {
			ms = append(ms, store.AggregateMember{Repo: testRepo, Number: n, SHA: shaA})
		}
		id, err := store.CreateAggregate(ctx, pool, store.Aggregate{Product: "SLES-16.0", Arch: "x86_64", Build: build, Repohash: build},
			ms, store.TestRun{Distri: "sle", Version: "16.0", Flavor: "Online-Updates", Arch: "x86_64", Build: build, Settings: map[string]string{}})
		require.NoError(t, err)
		runs, err := store.RunsOfAggregate(ctx, pool, id)
		require.NoError(t, err)
		require.Len(t, runs, 1)
		_, err = store.UpsertOpenQAJob(ctx, pool, store.OpenQAJob{ID: job, TestRunID: runs[0].ID, Test: "qam-minimal",
			Scenario: "qam-minimal@64bit", Distri: "sle", Version: "16.0", Flavor: "Online-Updates", Arch: "x86_64",
			Build: build, State: "done", Result: result})
		require.NoError(t, err)
	}
	aggregate("20261123-1", 100, "passed", 7)
	aggregate("20261124-1", 101, "passed", 8)
	aggregate("20261124-2", 102, "failed", 7, 8)
	aggregate("20261125-1", 103, "failed", 7)

	older, err := store.OlderAggregateJobs(ctx, pool, 103, testRepo, 7, 20)
	require.NoError(t, err)
	require.Equal(t, []store.OlderAggregateJob{
		{ID: 102, Build: "20261124-2", Result: "failed", IncludesPull: true},
		{ID: 101, Build: "20261124-1", Result: "passed", IncludesPull: false},
		{ID: 100, Build: "20261123-1", Result: "passed", IncludesPull: true},
	}, older)

	older, err = store.OlderAggregateJobs(ctx, pool, 103, testRepo, 7, 1)
	require.NoError(t, err)
	require.Len(t, older, 1, "limited")
	older, err = store.OlderAggregateJobs(ctx, pool, 100, testRepo, 7, 20)
	require.NoError(t, err)
	require.Empty(t, older, "nothing before the first")
}
