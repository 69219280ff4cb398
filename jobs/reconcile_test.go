package jobs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

func TestPullDrift(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	later := at.Add(time.Minute)
	ours := &store.PullSnapshot{Number: 7, HeadSHA: "abc", GiteaUpdatedAt: &at}
	tests := []struct {
		name   string
		ours   *store.PullSnapshot
		theirs forge.Pull
		want   string
	}{
		{"unknown PR", nil, forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: at}, DriftNewPull},
		{"same", ours, forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: at}, ""},
		{"SHA case does not matter", ours, forge.Pull{Number: 7, HeadSHA: "ABC", UpdatedAt: at}, ""},
		{"pushed", ours, forge.Pull{Number: 7, HeadSHA: "def", UpdatedAt: later}, DriftHeadChanged},
		{"updated", ours, forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later}, DriftUpdated},
		{"older answer differs too", ours, forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: at.Add(-time.Minute)}, DriftUpdated},
		{"never had a time", &store.PullSnapshot{Number: 7, HeadSHA: "abc"}, forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: at}, DriftUpdated},
		{"Gitea gave no time", ours, forge.Pull{Number: 7, HeadSHA: "abc"}, ""},
		// Our own review or comment moved updated_at: not drift.
		{"our write explains it", withOwnWrite(later), forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later}, ownWriteSync},
		{"Gitea's clock a little ahead", withOwnWrite(later.Add(-ownWriteSkew)), forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later}, ownWriteSync},
		{"changed after our write", withOwnWrite(later.Add(-ownWriteSkew - time.Second)), forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later}, DriftUpdated},
		{"our write was already read", withOwnWrite(at.Add(-time.Minute)), forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later}, DriftUpdated},
		{"labels changed besides our write", withOwnWrite(later), forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later, Labels: []string{"emergency"}}, DriftUpdated},
		{"title changed besides our write", withOwnWrite(later), forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later, Title: "WIP: x"}, DriftUpdated},
		{"draft changed besides our write", withOwnWrite(later), forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later, Draft: true}, DriftUpdated},
		{"base changed besides our write", withOwnWrite(later), forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later, BaseBranch: "next"}, DriftUpdated},
		{"label added in the second of our read", ours, forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: at, Labels: []string{"emergency"}}, DriftUpdated},
		{"labels in another order", &store.PullSnapshot{Number: 7, HeadSHA: "abc", GiteaUpdatedAt: &at, Labels: []string{"a", "b"}, OwnWriteAt: &later},
			forge.Pull{Number: 7, HeadSHA: "abc", UpdatedAt: later, Labels: []string{"b", "a"}}, ownWriteSync},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, pullDrift(tc.ours, tc.theirs))
		})
	}
}

// withOwnWrite is PR #7 at abc, read at 10:00, with our last write at w.
func withOwnWrite(w time.Time) *store.PullSnapshot {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return &store.PullSnapshot{Number: 7, HeadSHA: "abc", GiteaUpdatedAt: &at, OwnWriteAt: &w}
}

func TestWaitsForBuild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		ours       *store.PullSnapshot
		skipDrafts bool
		want       bool
	}{
		{"unknown", nil, true, false},
		{"gated, head not built", &store.PullSnapshot{Gated: true, HeadSHA: "b", BuildSHA: "a"}, true, true},
		{"gated, head built", &store.PullSnapshot{Gated: true, HeadSHA: "b", BuildSHA: "b"}, true, false},
		{"not ours", &store.PullSnapshot{HeadSHA: "b"}, true, false},
		{"draft skipped", &store.PullSnapshot{Gated: true, Draft: true, HeadSHA: "b"}, true, false},
		{"draft tested", &store.PullSnapshot{Gated: true, Draft: true, HeadSHA: "b"}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, waitsForBuild(tc.ours, tc.skipDrafts))
		})
	}
}

func TestJobDrift(t *testing.T) {
	t.Parallel()
	listed := map[int64]openqa.Job{
		1: {ID: 1, State: "running", Result: "none"},
		2: {ID: 2, State: "done", Result: "passed"},
		3: {ID: 3, State: "done", Result: "failed", CloneID: 9},
	}
	tests := []struct {
		ours store.JobSnapshot
		want string
	}{
		{store.JobSnapshot{ID: 1, State: "running", Result: "none"}, ""},
		{store.JobSnapshot{ID: 2, State: "running", Result: "none"}, DriftOpenQAChanged},
		{store.JobSnapshot{ID: 3, State: "done", Result: "failed"}, DriftOpenQAChanged},
		{store.JobSnapshot{ID: 4, State: "scheduled", Result: "none"}, DriftOpenQAGone},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, jobDrift(tc.ours, listed), "job %d", tc.ours.ID)
	}
}

func TestPeriodicJobs(t *testing.T) {
	t.Parallel()
	kinds := func(c config.Config) []string {
		specs, err := periodicSpecs(&c)
		require.NoError(t, err)
		jobs, err := PeriodicJobs(&c)
		require.NoError(t, err)
		require.Len(t, jobs, len(specs))
		out := make([]string, 0, len(specs))
		for _, s := range specs {
			opts := s.insertOpts()
			require.GreaterOrEqual(t, opts.UniqueOpts.ByPeriod, time.Second, s.args.Kind())
			require.Equal(t, s.queue, opts.Queue)
			out = append(out, s.args.Kind())
		}
		return out
	}
	c := config.Default()
	c.Poll.Gitea = config.Duration(time.Minute)
	specs, err := periodicSpecs(&c)
	require.NoError(t, err)
	require.Equal(t, time.Minute, specs[0].insertOpts().UniqueOpts.ByPeriod, "unique per poll interval")
	require.Equal(t, cronPeriod, specs[4].insertOpts().UniqueOpts.ByPeriod, "a cron schedule is unique per minute")
	require.Equal(t, []string{"poll_gitea", "poll_openqa", "retention", "reevaluate", "aggregate"}, kinds(c))
	c.Aggregates.Schedule = "off"
	require.Equal(t, []string{"poll_gitea", "poll_openqa", "retention", "reevaluate"}, kinds(c))
	c.Aggregates.Schedule = "6h"
	require.Equal(t, []string{"poll_gitea", "poll_openqa", "retention", "reevaluate", "aggregate"}, kinds(c))
	c.Aggregates.Schedule = "every day"
	_, err = PeriodicJobs(&c)
	require.ErrorContains(t, err, "aggregates.schedule")
}

func TestUTCSchedule(t *testing.T) {
	t.Parallel()
	c := config.Default()
	sched, err := c.Aggregates.Cron()
	require.NoError(t, err)
	zone := time.FixedZone("UTC+5", 5*3600)
	now := time.Date(2026, 3, 1, 1, 0, 0, 0, zone) // 20:00 UTC the day before
	require.Equal(t, time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC), utcSchedule{sched}.Next(now).UTC(), "02:00 UTC, not local")
}
