package jobs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

func TestAcceptancesFor(t *testing.T) {
	t.Parallel()
	pulls := []store.PullKey{{Repo: "products/SLFO", Number: 12}, {Repo: "products/SLFO", Number: 13}}
	tests := []struct {
		name     string
		comments []openqa.Comment
		want     []store.JobAcceptance
	}{
		{name: "no comments"},
		{name: "submission marker for a PR", comments: []openqa.Comment{{ID: 5, UserName: "alice", Text: "@review:acceptable_for:submission_12:bsc#1 flaky"}},
			want: []store.JobAcceptance{{JobID: 9, Repo: "products/SLFO", Number: 12, CommentID: 5, Rule: store.AcceptableFor, Reason: "bsc#1", Author: "alice"}}},
		{name: "incident spelling", comments: []openqa.Comment{{ID: 6, UserName: "bob", Text: "ok\r\n@review:acceptable_for:incident_13:poo#2"}},
			want: []store.JobAcceptance{{JobID: 9, Repo: "products/SLFO", Number: 13, CommentID: 6, Rule: store.AcceptableFor, Reason: "poo#2", Author: "bob"}}},
		{name: "another PR's number", comments: []openqa.Comment{{ID: 7, Text: "@review:acceptable_for:submission_99:x"}}},
		{name: "no reason", comments: []openqa.Comment{{ID: 8, Text: "@review:acceptable_for:submission_12:"}}},
		{name: "plain comment", comments: []openqa.Comment{{ID: 9, Text: "bsc#1 label:linked"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, acceptancesFor(9, tt.comments, pulls))
		})
	}
}

// A recorded acceptance, turned back into a comment, is accepted by the
// verdict for that PR only.
func TestAcceptanceCommentsRoundTrip(t *testing.T) {
	t.Parallel()
	accepts := []store.JobAcceptance{{JobID: 2, Repo: "r/p", Number: 12, CommentID: 5, Rule: store.AcceptableFor, Reason: "bsc#1", Author: "alice"}}
	in := gate.VerdictInput{
		Pull: gate.Pull{Repo: "r/p", Number: 12, HeadSHA: "abc"},
		Runs: []gate.RunInput{{Key: "k", Scheduled: true, JobCount: 2}},
		Jobs: []gate.JobInput{
			{ID: 1, RunKey: "k", Scenario: "a@64bit", State: "done", Result: "passed"},
			{ID: 2, RunKey: "k", Scenario: "b@64bit", State: "done", Result: "failed", Comments: acceptanceComments(12, accepts)[2]},
		},
	}
	v := gate.VerdictFor(in)
	require.Equal(t, gate.VerdictPassed, v.State)
	require.Len(t, v.Acceptances, 1)
	require.Equal(t, "bsc#1", v.Acceptances[0].Reason)
	require.Equal(t, "alice", v.Acceptances[0].By)
	require.Equal(t, int64(5), v.Acceptances[0].CommentID)

	in.Pull.Number = 13
	require.Equal(t, gate.VerdictFailed, gate.VerdictFor(in).State, "the comment names PR 12")
}

func TestRunInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		run  store.TestRun
		want gate.RunInput
	}{
		{run: store.TestRun{State: store.RunPlanned}, want: gate.RunInput{Key: "k"}},
		{run: store.TestRun{State: store.RunScheduled, JobIDs: []int64{1, 2}, WithAggregate: true},
			want: gate.RunInput{Key: "k", Scheduled: true, JobCount: 2, JobIDs: []int64{1, 2}, WithAggregate: true}},
		{run: store.TestRun{State: store.RunDryRun}, want: gate.RunInput{Key: "k", Scheduled: true}},
		{run: store.TestRun{State: store.RunFailed, Error: "HTTP 400"}, want: gate.RunInput{Key: "k", Scheduled: true, Error: "HTTP 400"}},
		{run: store.TestRun{State: store.RunFailed}, want: gate.RunInput{Key: "k", Scheduled: true, Error: "openQA refused the run"}},
	}
	for _, tt := range tests {
		t.Run(tt.run.State+tt.run.Error, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, runInput(tt.run, "k"))
		})
	}
}

func TestJobRow(t *testing.T) {
	t.Parallel()
	j := &openqa.Job{ID: 7, Name: "n", Test: "qam-minimal", State: "cancelled", Result: "obsoleted", CloneID: 8, GroupID: 414, Group: "G",
		Settings: map[string]string{"DISTRI": "sle", "VERSION": "16.0", "FLAVOR": "F", "ARCH": "x86_64", "BUILD": ":git:1:p", "MACHINE": "64bit"}}
	row := jobRow(j)
	require.Equal(t, "qam-minimal@64bit", row.Scenario)
	require.Equal(t, ":git:1:p", row.Build)
	require.True(t, row.Obsolete, "obsoleted by a newer schedule")
	require.Equal(t, int64(8), row.CloneID)
	require.Nil(t, row.TFinished)
	require.Equal(t, "https://openqa.example.test/tests/7", JobURL("https://openqa.example.test/", 7))
}

func TestVerdictReason(t *testing.T) {
	t.Parallel()
	require.Empty(t, verdictReason(gate.Verdict{State: gate.VerdictPassed, Reasons: []gate.Reason{{Message: "x"}}}))
	require.Equal(t, "job 2 failed", verdictReason(gate.Verdict{State: gate.VerdictFailed, Reasons: []gate.Reason{{Message: "job 2 failed"}, {Message: "later"}}}))
	require.Empty(t, verdictReason(gate.Verdict{State: gate.VerdictPending}))
}
