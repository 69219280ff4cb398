package gate_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/gate"
)

const dashboard = "https://qemgate.example.test/pulls/products/SLFO/42"

func TestStatusFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    gate.VerdictInput
		state string
		desc  string
	}{
		{
			name:  "passed",
			in:    gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a", "passed"), job(2, "b", "softfailed")}},
			state: gate.StatusSuccess, desc: "2 passed, 0 failed, 0 running",
		},
		{
			name: "failed with accepted and stopped",
			in: gate.VerdictInput{Runs: oneRun, Pull: pull42, Jobs: []gate.JobInput{
				job(1, "a", "passed"), job(2, "b", "failed"), job(3, "c", "incomplete"),
				job(4, "d", "failed", comment(1, "alice", "@review:acceptable_for:submission_42:flaky")),
			}},
			state: gate.StatusFailure, desc: "1 passed, 1 accepted, 1 failed, 1 stopped, 0 running",
		},
		{
			name:  "running",
			in:    gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a", "passed"), job(2, "b", "failed"), job(3, "c", "", running)}},
			state: gate.StatusPending, desc: "1 passed, 1 failed, 1 running",
		},
		{
			name: "a run openQA refused says why although the jobs passed",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobCount: 1}, {Key: runB, Error: "no templates found"}},
				Jobs: []gate.JobInput{job(1, "a", "passed")}},
			state: gate.StatusFailure, desc: "1 passed, 0 failed, 0 running; test run " + runB + " could not be scheduled: no templates found",
		},
		{
			name: "an unknown job is named",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobIDs: []int64{1, 2}}},
				Jobs: []gate.JobInput{job(1, "a", "passed")}},
			state: gate.StatusPending, desc: "1 passed, 0 failed, 0 running; job 2 of " + runA + " not read yet (1 of 2 jobs known)",
		},
		{
			name:  "pending on aggregates says so",
			in:    gate.VerdictInput{Runs: aggRun, Jobs: []gate.JobInput{job(1, "a", "passed")}},
			state: gate.StatusPending, desc: "1 passed, 0 failed, 0 running; required aggregate test results are missing (no aggregate including this PR has jobs yet)",
		},
		{
			name:  "nothing scheduled yet",
			in:    gate.VerdictInput{Runs: []gate.RunInput{{Key: "sle/16.0/Online-Incidents/x86_64/:git:42:openssl"}}},
			state: gate.StatusPending, desc: "test run sle/16.0/Online-Incidents/x86_64/:git:42:openssl is not scheduled yet",
		},
		{
			name:  "no jobs",
			in:    gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true}}},
			state: gate.StatusFailure, desc: "no openQA jobs were created",
		},
		{
			name:  "scheduling error alone",
			in:    gate.VerdictInput{Runs: []gate.RunInput{{Key: "sle/16.0/X/x86_64/B", Error: "no templates found"}}},
			state: gate.StatusFailure, desc: "test run sle/16.0/X/x86_64/B could not be scheduled: no templates found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			state, desc := gate.StatusFor(gate.VerdictFor(tt.in))
			require.Equal(t, tt.state, state)
			require.Equal(t, tt.desc, desc)
		})
	}
}

func TestStatusForTruncatesOnRunes(t *testing.T) {
	t.Parallel()
	v := gate.VerdictFor(gate.VerdictInput{Runs: []gate.RunInput{{Key: "k", Error: strings.Repeat("é", 300)}}})
	state, desc := gate.StatusFor(v)
	require.Equal(t, gate.StatusFailure, state)
	require.True(t, utf8.ValidString(desc))
	require.Equal(t, gate.MaxStatusDescription, utf8.RuneCountInString(desc))
	require.True(t, strings.HasSuffix(desc, "é…"), desc)
}

func TestApprovalBody(t *testing.T) {
	t.Parallel()
	v := gate.VerdictFor(gate.VerdictInput{Runs: oneRun, Pull: pull42, Jobs: []gate.JobInput{
		job(1, "a@64bit", "passed"),
		job(2, "b@64bit", "failed", comment(77, "alice", "@review:acceptable_for:submission_42:bsc1234")),
	}})
	require.Equal(t, gate.VerdictPassed, v.State)

	t.Run("group-comment", func(t *testing.T) {
		t.Parallel()
		body := gate.ApprovalBody(pull42, v, gate.ApprovalModeGroupComment, "qam-openqa-review", dashboard)
		require.Equal(t, "@qam-openqa-review: approved\n"+
			"openQA tests passed for products/SLFO#42@0123456789ab: 1 passed, 1 accepted, 0 failed, 0 running.\n"+
			"Accepted despite a not-ok result:\n"+
			"- [b@64bit](https://openqa.example.test/tests/2) failed: bsc1234 by alice\n"+
			"Details: "+dashboard+"\n"+
			"Tested commit: 0123456789abcdef0123456789abcdef01234567", body)
	})
	t.Run("review", func(t *testing.T) {
		t.Parallel()
		body := gate.ApprovalBody(pull42, v, gate.ApprovalModeReview, "qam-openqa-review", "")
		require.Equal(t, "openQA tests passed for products/SLFO#42@0123456789ab: 1 passed, 1 accepted, 0 failed, 0 running.\n"+
			"Accepted despite a not-ok result:\n"+
			"- [b@64bit](https://openqa.example.test/tests/2) failed: bsc1234 by alice\n"+
			"Tested commit: 0123456789abcdef0123456789abcdef01234567", body)
	})
	t.Run("a leading @ on the bot name is not doubled", func(t *testing.T) {
		t.Parallel()
		body := gate.ApprovalBody(pull42, v, gate.ApprovalModeGroupComment, "@qam-openqa-review", "")
		require.True(t, strings.HasPrefix(body, "@qam-openqa-review: approved\n"), body)
	})
}

func TestDeclineBody(t *testing.T) {
	t.Parallel()
	v := gate.VerdictFor(gate.VerdictInput{Runs: aggRun, Pull: pull42,
		Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "failed")},
		AggregateJobs: []gate.JobInput{job(900, "mau@64bit", "incomplete", aggregate, group("Maintenance: Aggregated"),
			func(j *gate.JobInput) { j.GroupContact = "" })},
	})
	require.Equal(t, gate.VerdictFailed, v.State)

	t.Run("group-comment", func(t *testing.T) {
		t.Parallel()
		body := gate.DeclineBody(pull42, v, gate.ApprovalModeGroupComment, "qam-openqa-review", dashboard)
		require.Equal(t, "@qam-openqa-review: decline\n"+
			"openQA tests failed for products/SLFO#42@0123456789ab: 1 passed, 1 failed, 1 stopped, 0 running.\n"+
			"- [b@64bit](https://openqa.example.test/tests/2) failed (group Maintenance: SLE 16.0 Incidents, contact @qe-core)\n"+
			"- [mau@64bit](https://openqa.example.test/tests/900) ended incomplete (aggregate, group Maintenance: Aggregated)\n"+
			"Details: "+dashboard+"\n"+
			"Tested commit: 0123456789abcdef0123456789abcdef01234567", body)
	})
	t.Run("review", func(t *testing.T) {
		t.Parallel()
		body := gate.DeclineBody(pull42, v, gate.ApprovalModeReview, "qam-openqa-review", dashboard)
		require.False(t, strings.Contains(body, "decline"), body)
		require.True(t, strings.HasPrefix(body, "openQA tests failed for products/SLFO#42@0123456789ab"), body)
		require.True(t, strings.HasSuffix(body, "\nTested commit: "+pull42.HeadSHA), body)
	})
	t.Run("no jobs", func(t *testing.T) {
		t.Parallel()
		nv := gate.VerdictFor(gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true}}})
		body := gate.DeclineBody(pull42, nv, gate.ApprovalModeGroupComment, "qam-openqa-review", "")
		require.Equal(t, "@qam-openqa-review: decline\n"+
			"openQA tests cannot approve products/SLFO#42@0123456789ab: no openQA jobs were created.\n"+
			"- openQA created no jobs for the scheduled test runs (job template mismatch?)\n"+
			"Tested commit: 0123456789abcdef0123456789abcdef01234567", body)
	})
	t.Run("long lists are capped", func(t *testing.T) {
		t.Parallel()
		var jobs []gate.JobInput
		for i := int64(1); i <= 45; i++ {
			jobs = append(jobs, job(i, "s"+itoa(i), "failed"))
		}
		lv := gate.VerdictFor(gate.VerdictInput{Runs: oneRun, Jobs: jobs})
		body := gate.DeclineBody(pull42, lv, gate.ApprovalModeGroupComment, "bot", "")
		require.Equal(t, 30, strings.Count(body, "\n- ["))
		require.Contains(t, body, "\n- … and 15 more\n")
	})
}

func TestSummaryBody(t *testing.T) {
	t.Parallel()
	v := gate.VerdictFor(gate.VerdictInput{Runs: twoRuns, Pull: pull42, Jobs: []gate.JobInput{
		job(1, "a@64bit", "failed"), job(2, "b@64bit", "", running), job(3, "c@64bit", "passed"),
	}})
	require.Equal(t, gate.VerdictPending, v.State)
	body := gate.SummaryBody(pull42, v, dashboard)
	require.Equal(t, gate.SummaryMarker+"\n"+
		"### openQA: running\n\n"+
		"Commit `0123456789abcdef0123456789abcdef01234567`: 1 passed, 1 failed, 1 running.\n\n"+
		"Blocking:\n"+
		"- [a@64bit](https://openqa.example.test/tests/1) failed (group Maintenance: SLE 16.0 Incidents, contact @qe-core)\n\n"+
		"Waiting for:\n"+
		"- 1 of 3 openQA jobs still running\n"+
		"- the jobs of "+runB+" are not known yet (openQA created 1)\n\n"+
		"Details: "+dashboard, body)
	require.True(t, gate.IsSummaryComment(body))
	require.True(t, gate.IsSummaryComment("\n"+body))
	require.False(t, gate.IsSummaryComment("@qam-openqa-review: approved\n"+gate.SummaryMarker))

	passed := gate.SummaryBody(pull42, gate.VerdictFor(gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a", "passed")}}), "")
	require.Equal(t, gate.SummaryMarker+"\n### openQA: passed\n\nCommit `"+pull42.HeadSHA+"`: 1 passed, 0 failed, 0 running.", passed)
}

func TestReasonSetKey(t *testing.T) {
	t.Parallel()
	base := []gate.JobInput{job(1, "a", "failed"), job(2, "b", "incomplete"), job(3, "c", "passed")}
	key := func(jobs ...gate.JobInput) string {
		return gate.ReasonSetKey(gate.VerdictFor(gate.VerdictInput{Runs: oneRun, Jobs: jobs}))
	}
	k := key(base...)
	require.Len(t, k, 32)
	require.Equal(t, k, key(base[2], base[1], base[0]), "order does not matter")
	require.Equal(t, k, key(append(base, job(4, "d", "passed"))...), "passing jobs do not matter")
	require.NotEqual(t, k, key(job(1, "a", "failed"), job(2, "b", "timeout_exceeded"), base[2]), "results matter")
	require.NotEqual(t, k, key(job(1, "a", "failed"), base[2]), "the set matters")
	require.NotEqual(t, k, key(append(base, job(5, "e", "", running))...), "the state matters")

	// Running jobs coming and going do not change a pending verdict's key.
	require.Equal(t,
		key(append(base, job(5, "e", "", running))...),
		key(append(base, job(5, "e", "", running), job(6, "f", "", scheduled))...))

	runErr := func(msg string) string {
		return gate.ReasonSetKey(gate.VerdictFor(gate.VerdictInput{Runs: []gate.RunInput{{Key: "k", Error: msg}}}))
	}
	require.Equal(t, runErr("x"), runErr("x"))
	require.NotEqual(t, runErr("x"), runErr("y"))
}

func TestWaitingVerdictStatus(t *testing.T) {
	t.Parallel()
	sha := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name string
		in   gate.Waiting
		desc string
	}{
		{"draft", gate.Waiting{HeadSHA: sha, Draft: true, BuildReady: true}, "draft: 0123456789ab is tested once the PR is marked ready for review"},
		{"build", gate.Waiting{HeadSHA: sha}, "waiting for the build of 0123456789ab"},
		{"planning", gate.Waiting{HeadSHA: sha, BuildReady: true}, "waiting for test runs of 0123456789ab to be planned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := gate.WaitingVerdict(tt.in)
			require.Equal(t, gate.VerdictPending, v.State)
			state, desc := gate.StatusFor(v)
			require.Equal(t, gate.StatusPending, state)
			require.Equal(t, tt.desc, desc)
		})
	}
}
