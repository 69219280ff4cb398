package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

// seedDashboard gives a database with open PR #7 at shaB (an older run at
// shaA), closed PR #8, and two aggregates of one product/arch plus one
// of another.
func seedDashboard(t *testing.T) (context.Context, *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	exec(`INSERT INTO pulls (repo, number, state, head_sha, title, packages) VALUES
		($1, 7, 'open', $2, 'openssl fix', '{openssl}'), ($1, 8, 'closed', $2, 'old', '{curl}')`, testRepo, shaB)
	exec(`INSERT INTO test_runs (id, repo, number, sha, distri, version, flavor, arch, build, state) VALUES
		(1, $1, 7, $2, 'sle', '16.0', 'Online', 'x86_64', ':7:old', 'superseded'),
		(2, $1, 7, $3, 'sle', '16.0', 'Online', 'x86_64', ':7:new', 'scheduled'),
		(3, $1, 8, $3, 'sle', '16.0', 'Online', 'x86_64', ':8:new', 'scheduled')`, testRepo, shaA, shaB)
	exec(`INSERT INTO aggregates (id, product, arch, build, repohash) VALUES
		(10, 'SLES', 'x86_64', '20260101-1', 'h'), (11, 'SLES', 'x86_64', '20260102-1', 'h'),
		(12, 'SLES', 'aarch64', '20260102-1', 'h'), (13, 'SLES', 'aarch64', '20260103-1', 'h')`)
	exec(`INSERT INTO aggregate_members (aggregate_id, repo, number, sha) VALUES
		(10, $1, 7, $3), (11, $1, 7, $3), (12, $1, 7, $3), (13, $1, 7, $2)`, testRepo, shaA, shaB)
	exec(`INSERT INTO test_runs (id, aggregate_id, distri, version, flavor, arch, build, state) VALUES
		(20, 10, 'sle', '16.0', 'Updates', 'x86_64', '20260101-1', 'scheduled'),
		(21, 11, 'sle', '16.0', 'Updates', 'x86_64', '20260102-1', 'scheduled'),
		(22, 12, 'sle', '16.0', 'Updates', 'aarch64', '20260102-1', 'scheduled'),
		(23, 13, 'sle', '16.0', 'Updates', 'aarch64', '20260103-1', 'scheduled')`)
	exec(`INSERT INTO openqa_jobs (id, test_run_id, scenario, group_id, group_name, distri, version, build, state, result, clone_id, obsolete) VALUES
		(100, 1, 'a', 1, 'Core', 'sle', '16.0', ':7:old', 'done', 'failed', NULL, false),
		(101, 2, 'a', 1, 'Core', 'sle', '16.0', ':7:new', 'done', 'passed', NULL, false),
		(102, 2, 'b', 1, 'Core', 'sle', '16.0', ':7:new', 'done', 'failed', 103, false),
		(103, 2, 'b', 1, 'Core', 'sle', '16.0', ':7:new', 'running', 'none', NULL, false),
		(104, 2, 'c', 2, 'Kernel', 'sle', '16.0', ':7:new', 'done', 'failed', NULL, false),
		(105, 2, 'd', 2, 'Kernel', 'sle', '16.0', ':7:new', 'done', 'failed', NULL, true),
		(106, 2, 'e', 2, 'Kernel', '', '', '', 'done', 'failed', NULL, false),
		(107, 3, 'a', 1, 'Core', 'sle', '16.0', ':8:new', 'done', 'failed', NULL, false),
		(200, 20, 'x', 3, 'Updates', 'sle', '16.0', '20260101-1', 'done', 'failed', NULL, false),
		(201, 21, 'x', 3, 'Updates', 'sle', '16.0', '20260102-1', 'done', 'passed', NULL, false),
		(202, 22, 'x', 3, 'Updates', 'sle', '16.0', '20260102-1', 'done', 'incomplete', NULL, false),
		(203, 23, 'x', 3, 'Updates', 'sle', '16.0', '20260103-1', 'done', 'passed', NULL, false)`)
	exec(`INSERT INTO job_acceptances (job_id, repo, number, reason) VALUES (104, $1, 7, 'known bug')`, testRepo)
	return ctx, pool
}

func TestDashResults(t *testing.T) {
	t.Parallel()
	ctx, pool := seedDashboard(t)
	want := []store.DashResult{
		{Repo: testRepo, Number: 7, GroupID: 1, GroupName: "Core", Distri: "sle", Version: "16.0", Build: ":7:new", State: "done", Result: "passed", Jobs: 1},
		{Repo: testRepo, Number: 7, GroupID: 1, GroupName: "Core", Distri: "sle", Version: "16.0", Build: ":7:new", State: "running", Result: "none", Jobs: 1},
		// job 106 has no product of its own yet: its run's product stands in
		{Repo: testRepo, Number: 7, GroupID: 2, GroupName: "Kernel", Distri: "sle", Version: "16.0", Build: ":7:new", State: "done", Result: "failed", Jobs: 1},
		{Repo: testRepo, Number: 7, GroupID: 2, GroupName: "Kernel", Distri: "sle", Version: "16.0", Build: ":7:new", State: "done", Result: "failed", Accepted: true, Jobs: 1},
		// aggregate 13 has the PR at an older SHA, so aggregate 12 is the latest for aarch64
		{Repo: testRepo, Number: 7, AggregateID: 11, Product: "SLES", Arch: "x86_64", AggregateBuild: "20260102-1", GroupID: 3, GroupName: "Updates", Distri: "sle", Version: "16.0", Build: "20260102-1", State: "done", Result: "passed", Jobs: 1},
		{Repo: testRepo, Number: 7, AggregateID: 12, Product: "SLES", Arch: "aarch64", AggregateBuild: "20260102-1", GroupID: 3, GroupName: "Updates", Distri: "sle", Version: "16.0", Build: "20260102-1", State: "done", Result: "incomplete", Jobs: 1},
	}

	t.Run("open pulls", func(t *testing.T) {
		t.Parallel()
		got, err := store.DashResults(ctx, pool, "", 0)
		require.NoError(t, err)
		require.Equal(t, want, got, "closed PR #8, superseded runs, cloned and obsolete jobs do not count")
	})
	t.Run("one pull, even closed", func(t *testing.T) {
		t.Parallel()
		got, err := store.DashResults(ctx, pool, testRepo, 8)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, int64(8), got[0].Number)
		require.Equal(t, "failed", got[0].Result)
	})
	t.Run("open pulls list", func(t *testing.T) {
		t.Parallel()
		got, err := store.DashOpenPulls(ctx, pool)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, int64(7), got[0].Number)
		require.Equal(t, []string{"openssl"}, got[0].Packages)
	})
}

func TestDashAggregates(t *testing.T) {
	t.Parallel()
	ctx, pool := seedDashboard(t)

	t.Run("latest per product and arch", func(t *testing.T) {
		t.Parallel()
		got, err := store.DashLatestAggregates(ctx, pool, 1)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, int64(13), got[0].ID, "aarch64 sorts first, newest build")
		require.Equal(t, int64(11), got[1].ID)
		require.Equal(t, []store.DashMember{{Repo: testRepo, Number: 7, SHA: shaA, Current: false, Title: "openssl fix", State: "open", Packages: []string{"openssl"}}}, got[0].Members)
		require.True(t, got[1].Members[0].Current)

		all, err := store.DashLatestAggregates(ctx, pool, 5)
		require.NoError(t, err)
		require.Len(t, all, 4)
	})
	t.Run("of one pull", func(t *testing.T) {
		t.Parallel()
		got, err := store.DashAggregatesOfPull(ctx, pool, testRepo, 7, 3)
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.Equal(t, []int64{13, 12, 11}, []int64{got[0].ID, got[1].ID, got[2].ID})
	})
	t.Run("results", func(t *testing.T) {
		t.Parallel()
		got, err := store.DashAggregateResults(ctx, pool, []int64{10, 13})
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, int64(10), got[0].AggregateID)
		require.Equal(t, "failed", got[0].Result)
		require.Empty(t, got[0].Repo)
		require.Equal(t, "20260103-1", got[1].Build)

		none, err := store.DashAggregateResults(ctx, pool, nil)
		require.NoError(t, err)
		require.Empty(t, none)
	})
	t.Run("last job change", func(t *testing.T) {
		t.Parallel()
		last, err := store.DashLastJobChange(ctx, pool)
		require.NoError(t, err)
		require.NotNil(t, last)
	})
}

func TestDashLastJobChangeEmpty(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	last, err := store.DashLastJobChange(context.Background(), pool)
	require.NoError(t, err)
	require.Nil(t, last)
}
