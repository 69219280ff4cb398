package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

const (
	testRepo = "products/SLFO"
	shaA     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB     = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// setupRun gives a fresh database with PR #7 at shaA and one scheduled run
// whose job_ids are jobIDs.
func setupRun(t *testing.T, jobIDs ...int64) (context.Context, *pgxpool.Pool, store.TestRun) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	_, err := store.UpsertPull(ctx, pool, store.Pull{Repo: testRepo, Number: 7, State: "open", HeadSHA: shaA})
	require.NoError(t, err)
	require.NoError(t, store.PlanRuns(ctx, pool, []store.TestRun{{Repo: testRepo, Number: 7, SHA: shaA,
		Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Build: ":git:7:openssl"}}))
	runs, err := store.RunsOfPull(ctx, pool, testRepo, 7, shaA)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.NoError(t, store.MarkRunScheduled(ctx, pool, runs[0].ID, 1, jobIDs, store.RunScheduled))
	return ctx, pool, runs[0]
}

// A job a run recorded but that openQA deleted before we read it gets one
// obsolete row, linked to the run; a job no run recorded gets none.
func TestRecordGoneRunJob(t *testing.T) {
	t.Parallel()
	ctx, pool, run := setupRun(t, 100, 101)
	before := time.Now().Add(time.Hour)
	unsynced, err := store.UnsyncedRunJobs(ctx, pool, before, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{100, 101}, unsynced)

	added, err := store.RecordGoneRunJob(ctx, pool, 100)
	require.NoError(t, err)
	require.True(t, added)
	added, err = store.RecordGoneRunJob(ctx, pool, 100)
	require.NoError(t, err)
	require.False(t, added, "recorded once")
	added, err = store.RecordGoneRunJob(ctx, pool, 999)
	require.NoError(t, err)
	require.False(t, added, "not a job of ours")

	got, err := store.GetOpenQAJob(ctx, pool, 100)
	require.NoError(t, err)
	require.True(t, got.Obsolete)
	require.Equal(t, run.ID, got.TestRunID)
	unsynced, err = store.UnsyncedRunJobs(ctx, pool, before, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{101}, unsynced, "the gone job is no longer unsynced")
	stale, err := store.StaleOpenQAJobs(ctx, pool, before, 10)
	require.NoError(t, err)
	require.Empty(t, stale, "nor stale")
	_, err = store.GetOpenQAJob(ctx, pool, 999)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestUpsertOpenQAJob(t *testing.T) {
	t.Parallel()
	ctx, pool, run := setupRun(t, 100)
	j := store.OpenQAJob{ID: 100, TestRunID: run.ID, Test: "qam-minimal", Scenario: "qam-minimal@64bit", Distri: "sle",
		Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Build: ":git:7:openssl", GroupID: 414,
		GroupName: "Maintenance", State: "running", Result: "none"}
	changed, err := store.UpsertOpenQAJob(ctx, pool, j)
	require.NoError(t, err)
	require.True(t, changed, "a new job is a change")

	changed, err = store.UpsertOpenQAJob(ctx, pool, j)
	require.NoError(t, err)
	require.False(t, changed, "the same answer again changes nothing")

	j.TestRunID = 0 // a later sync that could not link the job keeps the link
	j.State, j.Result = "done", "failed"
	changed, err = store.UpsertOpenQAJob(ctx, pool, j)
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, store.UpsertJobGroup(ctx, pool, store.JobGroup{ID: 414, Name: "Maintenance", Contact: "@qe-core"}))
	got, err := store.GetOpenQAJob(ctx, pool, 100)
	require.NoError(t, err)
	require.Equal(t, run.ID, got.TestRunID)
	require.Equal(t, "failed", got.Result)
	require.Equal(t, "@qe-core", got.GroupContact)

	obsolete, err := store.MarkOpenQAJobObsolete(ctx, pool, 100)
	require.NoError(t, err)
	require.True(t, obsolete)
	obsolete, err = store.MarkOpenQAJobObsolete(ctx, pool, 100)
	require.NoError(t, err)
	require.False(t, obsolete, "already obsolete")
	obsolete, err = store.MarkOpenQAJobObsolete(ctx, pool, 999)
	require.NoError(t, err)
	require.False(t, obsolete, "unknown job")

	jobs, err := store.JobsOfRuns(ctx, pool, []int64{run.ID})
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.True(t, jobs[0].Obsolete)
	_, err = store.GetOpenQAJob(ctx, pool, 999)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestRunOfJob(t *testing.T) {
	t.Parallel()
	ctx, pool, run := setupRun(t, 100, 101)
	key := store.RunKey{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Build: ":git:7:openssl"}
	_, err := store.UpsertOpenQAJob(ctx, pool, store.OpenQAJob{ID: 101, TestRunID: run.ID, State: "done", Result: "failed"})
	require.NoError(t, err)

	tests := []struct {
		name        string
		job, origin int64
		key         store.RunKey
		want        int64
	}{
		{name: "recorded on the run", job: 100, want: run.ID},
		{name: "clone of a linked job", job: 200, origin: 101, want: run.ID},
		{name: "same product and build", job: 300, key: key, want: run.ID},
		{name: "same product, build and SHA", job: 301, key: func() store.RunKey { k := key; k.SHA = shaA; return k }(), want: run.ID},
		{name: "another SHA", job: 302, key: func() store.RunKey { k := key; k.SHA = shaB; return k }(), want: 0},
		{name: "another build", job: 303, key: func() store.RunKey { k := key; k.Build = "x"; return k }(), want: 0},
		{name: "nothing known", job: 304, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := store.RunOfJob(ctx, pool, tt.job, tt.origin, tt.key)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	pulls, err := store.PullsOfRun(ctx, pool, run.ID)
	require.NoError(t, err)
	require.Equal(t, []store.PullKey{{Repo: testRepo, Number: 7}}, pulls)
	pulls, err = store.PullsOfRun(ctx, pool, 0)
	require.NoError(t, err)
	require.Empty(t, pulls)
}

func TestSetJobAcceptances(t *testing.T) {
	t.Parallel()
	ctx, pool, _ := setupRun(t)
	a7 := store.JobAcceptance{Repo: testRepo, Number: 7, CommentID: 1, Reason: "bsc#1", Author: "alice"}
	a8 := store.JobAcceptance{Repo: testRepo, Number: 8, CommentID: 2, Reason: "known", Author: "bob"}

	changed, err := store.SetJobAcceptances(ctx, pool, 100, "acceptable_for", []store.JobAcceptance{a7, a8})
	require.NoError(t, err)
	require.ElementsMatch(t, []store.PullKey{{testRepo, 7}, {testRepo, 8}}, changed)

	changed, err = store.SetJobAcceptances(ctx, pool, 100, "acceptable_for", []store.JobAcceptance{a7, a8})
	require.NoError(t, err)
	require.Empty(t, changed, "the same comments again change nothing")

	a7.Reason = "bsc#2"
	changed, err = store.SetJobAcceptances(ctx, pool, 100, "acceptable_for", []store.JobAcceptance{a7})
	require.NoError(t, err)
	require.ElementsMatch(t, []store.PullKey{{testRepo, 7}, {testRepo, 8}}, changed, "7 changed its reason, 8 lost its comment")

	got, err := store.AcceptancesOfPull(ctx, pool, testRepo, 7, []int64{100, 101})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "bsc#2", got[0].Reason)
	require.Equal(t, "acceptable_for", got[0].Rule)
	got, err = store.AcceptancesOfPull(ctx, pool, testRepo, 8, []int64{100})
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestReports(t *testing.T) {
	t.Parallel()
	ctx, pool, _ := setupRun(t)
	_, err := store.GetReport(ctx, pool, testRepo, 7, shaA, store.ReportStatus, "qa/openqa")
	require.ErrorIs(t, err, store.ErrNotFound)

	r := &store.Report{Repo: testRepo, Number: 7, SHA: shaA, Kind: store.ReportStatus, Key: "qa/openqa", State: "pending", Description: "0 passed"}
	require.NoError(t, store.SaveReport(ctx, pool, r))
	first := r.ID
	r.State, r.Description = "success", "3 passed"
	require.NoError(t, store.SaveReport(ctx, pool, r))
	require.Equal(t, first, r.ID, "one row per PR, SHA, kind and key")
	require.NoError(t, store.SaveReport(ctx, pool, &store.Report{Repo: testRepo, Number: 7, SHA: shaA, Kind: store.ReportApproval, GiteaID: 55, DryRun: true}))

	got, err := store.GetReport(ctx, pool, testRepo, 7, shaA, store.ReportStatus, "qa/openqa")
	require.NoError(t, err)
	require.Equal(t, "success", got.State)
	require.Equal(t, "3 passed", got.Description)
	all, err := store.ReportsOfPull(ctx, pool, testRepo, 7)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, store.ReportApproval, all[0].Kind, "newest first")
	require.Equal(t, int64(55), all[0].GiteaID)
	require.True(t, all[0].DryRun)
}

func TestSetVerdict(t *testing.T) {
	t.Parallel()
	ctx, pool, _ := setupRun(t)
	detail, err := json.Marshal(map[string]any{"state": "pending", "counts": map[string]int{"running": 2}})
	require.NoError(t, err)

	changed, err := store.SetVerdict(ctx, pool, testRepo, 7, shaA, "pending", "2 running", detail)
	require.NoError(t, err)
	require.True(t, changed)
	v, err := store.GetVerdict(ctx, pool, testRepo, 7)
	require.NoError(t, err)
	require.NotNil(t, v.At)
	at := *v.At

	changed, err = store.SetVerdict(ctx, pool, testRepo, 7, shaA, "pending", "2 running", detail)
	require.NoError(t, err)
	require.False(t, changed, "the same verdict again is no change")
	v, err = store.GetVerdict(ctx, pool, testRepo, 7)
	require.NoError(t, err)
	require.True(t, at.Equal(*v.At), "verdict_at versions the verdict")

	changed, err = store.SetVerdict(ctx, pool, testRepo, 7, shaB, "passed", "", detail)
	require.NoError(t, err)
	require.False(t, changed, "not the head SHA")

	changed, err = store.SetVerdict(ctx, pool, testRepo, 7, shaA, "passed", "", []byte(`{"state":"passed"}`))
	require.NoError(t, err)
	require.True(t, changed)
	v, err = store.GetVerdict(ctx, pool, testRepo, 7)
	require.NoError(t, err)
	require.Equal(t, "passed", v.Verdict)
	require.Equal(t, shaA, v.SHA)
	require.JSONEq(t, `{"state":"passed"}`, string(v.Detail))
}
