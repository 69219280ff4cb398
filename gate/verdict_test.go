package gate_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/openqa"
)

const (
	runA = "sle/16.0/Online-Incidents/x86_64/:git:42:openssl"
	runB = "sle/16.0/Online-Incidents/aarch64/:git:42:openssl"
	aggA = "sle/16.0/Online-Updates/x86_64/20260101-1"
)

// job builds a final job of run A; opts adjust it.
func job(id int64, scenario, result string, opts ...func(*gate.JobInput)) gate.JobInput {
	j := gate.JobInput{
		ID: id, RunKey: runA, Scenario: scenario, GroupID: 7, GroupName: "Maintenance: SLE 16.0 Incidents",
		GroupContact: "@qe-core", State: openqa.StateDone, Result: result,
		URL: "https://openqa.example.test/tests/" + itoa(id),
	}
	for _, o := range opts {
		o(&j)
	}
	return j
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func running(j *gate.JobInput)   { j.State, j.Result = openqa.StateRunning, openqa.ResultNone }
func scheduled(j *gate.JobInput) { j.State, j.Result = openqa.StateScheduled, openqa.ResultNone }
func onRun(key string) func(*gate.JobInput) {
	return func(j *gate.JobInput) { j.RunKey = key }
}
func clonedAs(id int64) func(*gate.JobInput) { return func(j *gate.JobInput) { j.CloneID = id } }
func obsolete(j *gate.JobInput)              { j.Obsolete = true }
func aggregate(j *gate.JobInput)             { j.Aggregate, j.RunKey = true, aggA }
func olderOK(j *gate.JobInput)               { j.OlderOK = true }
func group(name string) func(*gate.JobInput) {
	return func(j *gate.JobInput) { j.GroupName = name }
}
func parent(id int64, name string) func(*gate.JobInput) {
	return func(j *gate.JobInput) { j.ParentGroupID, j.ParentGroupName = id, name }
}
func comment(id int64, user, text string) func(*gate.JobInput) {
	return func(j *gate.JobInput) {
		j.Comments = append(j.Comments, openqa.Comment{ID: id, UserName: user, Text: text})
	}
}

var (
	oneRun  = []gate.RunInput{{Key: runA, Scheduled: true, JobCount: 3}}
	twoRuns = []gate.RunInput{{Key: runA, Scheduled: true, JobCount: 3}, {Key: runB, Scheduled: true, JobCount: 1}}
	aggRun  = []gate.RunInput{{Key: runA, Scheduled: true, JobCount: 3, WithAggregate: true}}
	pull42  = gate.Pull{Repo: "products/SLFO", Number: 42, HeadSHA: "0123456789abcdef0123456789abcdef01234567"}
)

// codes lists the reason codes in order, the short form the table compares.
func codes(v gate.Verdict) []gate.ReasonCode {
	out := []gate.ReasonCode{}
	for _, r := range v.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func TestVerdictFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          gate.VerdictInput
		state       string
		codes       []gate.ReasonCode
		counts      gate.Counts
		accepted    []int64 // job ids with an acceptance
		failingJobs []int64 // job ids of blocking reasons, in order
	}{
		{
			name:   "all passed or softfailed",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "softfailed")}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 2, Total: 2},
		},
		{
			name:        "a failed job fails the PR",
			in:          gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "failed")}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Passed: 1, Failed: 1, Total: 2},
			failingJobs: []int64{2},
		},
		{
			name:        "an unknown result counts as failed",
			in:          gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "exploded")}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Failed: 1, Total: 1},
			failingJobs: []int64{1},
		},
		{
			name: "stopped jobs block like failed ones",
			in: gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{
				job(1, "a@64bit", "incomplete"), job(2, "b@64bit", "timeout_exceeded"), job(3, "c@64bit", "skipped"),
				job(4, "d@64bit", "parallel_failed"), job(5, "e@64bit", "user_cancelled", func(j *gate.JobInput) { j.State = openqa.StateCancelled }),
				job(6, "f@64bit", "obsoleted"),
			}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobStopped, gate.ReasonJobStopped, gate.ReasonJobStopped, gate.ReasonJobStopped, gate.ReasonJobStopped, gate.ReasonJobStopped},
			counts:      gate.Counts{Stopped: 6, Total: 6},
			failingJobs: []int64{1, 2, 3, 4, 5, 6},
		},
		{
			name:   "running job keeps it pending",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "", running), job(3, "c@64bit", "", scheduled)}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonJobsRunning},
			counts: gate.Counts{Passed: 1, Running: 2, Total: 3},
		},
		{
			name: "a provisional result of an unfinished job does not count",
			in: gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "failed", func(j *gate.JobInput) {
				j.State = openqa.StateUploading
			})}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonJobsRunning},
			counts: gate.Counts{Running: 1, Total: 1},
		},
		{
			name:        "pending wins over failed and keeps the failure",
			in:          gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "failed"), job(2, "b@64bit", "", running)}},
			state:       gate.VerdictPending,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed, gate.ReasonJobsRunning},
			counts:      gate.Counts{Failed: 1, Running: 1, Total: 2},
			failingJobs: []int64{1},
		},
		{
			name:   "an unscheduled run keeps it pending",
			in:     gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobCount: 1}, {Key: runB}}, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonRunUnscheduled},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "a scheduled run whose jobs are not synced yet keeps it pending",
			in:     gate.VerdictInput{Runs: twoRuns, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonRunUnsynced},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "a scheduled run that created no job does not block the others",
			in:     gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobCount: 1}, {Key: runB, Scheduled: true}}, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "no jobs at all",
			in:     gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true}, {Key: runB, Scheduled: true}}},
			state:  gate.VerdictNoJobs,
			codes:  []gate.ReasonCode{gate.ReasonNoJobs},
			counts: gate.Counts{},
		},
		{
			name:   "no planned runs is no-jobs, never passed",
			in:     gate.VerdictInput{},
			state:  gate.VerdictNoJobs,
			codes:  []gate.ReasonCode{gate.ReasonNoJobs},
			counts: gate.Counts{},
		},
		{
			name:   "only development-group jobs is no-jobs",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed", group("Development: SLE 16")), job(2, "b@64bit", "failed", group("Test group"))}},
			state:  gate.VerdictNoJobs,
			codes:  []gate.ReasonCode{gate.ReasonNoJobs},
			counts: gate.Counts{},
		},
		{
			name: "scheduling error fails the PR",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobCount: 1}, {Key: runB, Error: "no templates found for sle-16.0-Online-Incidents-aarch64"}},
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}},
			state:  gate.VerdictFailed,
			codes:  []gate.ReasonCode{gate.ReasonRunError},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "scheduling error with nothing else",
			in:     gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Error: "400 invalid DISTRI"}}},
			state:  gate.VerdictFailed,
			codes:  []gate.ReasonCode{gate.ReasonRunError},
			counts: gate.Counts{},
		},
		{
			name: "scheduling error waits for running jobs",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobCount: 1}, {Key: runB, Error: "boom"}},
				Jobs: []gate.JobInput{job(1, "a@64bit", "", running)}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonRunError, gate.ReasonJobsRunning},
			counts: gate.Counts{Running: 1, Total: 1},
		},
		{
			name: "a planned job that was never read keeps it pending (one of three answers 500 on every read)",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobIDs: []int64{1, 2, 3}}},
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "passed")}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonJobUnknown},
			counts: gate.Counts{Passed: 2, Total: 2},
		},
		{
			name: "a failed job not synced yet is unknown, not passed",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobIDs: []int64{1, 2}}, {Key: runB, Scheduled: true, JobIDs: []int64{3}}},
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(3, "a@64bit", "passed", onRun(runB))}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonJobUnknown},
			counts: gate.Counts{Passed: 2, Total: 2},
		},
		{
			name: "a known development-group job does not count, and the run is complete",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobIDs: []int64{1, 2}}},
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "passed", group("Development: SLE 16"))},
			},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name: "only a development-group job of two known: pending for the other",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobIDs: []int64{1, 2}}},
				Jobs: []gate.JobInput{job(2, "b@64bit", "passed", group("Development: SLE 16"))}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonJobUnknown},
			counts: gate.Counts{},
		},
		{
			name:   "no job of a run read yet is unsynced",
			in:     gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobIDs: []int64{1, 2}}}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonRunUnsynced},
			counts: gate.Counts{},
		},
		{
			name: "a planned job that was restarted counts through its clone once both are read",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobIDs: []int64{10}}},
				Jobs: []gate.JobInput{job(10, "a@64bit", "failed", clonedAs(11)), job(11, "a@64bit", "passed")}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name: "a planned job gone from openQA (obsolete) is known and does not count",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobIDs: []int64{1, 2}}},
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "", obsolete)}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name: "an unknown aggregate job keeps it pending",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobIDs: []int64{1}, WithAggregate: true},
				{Key: aggA, Scheduled: true, Aggregate: true, JobIDs: []int64{100, 101}}},
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}, AggregateJobs: []gate.JobInput{job(100, "x@64bit", "passed", aggregate)}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonJobUnknown},
			counts: gate.Counts{Passed: 2, Total: 2},
		},
		{
			name:   "restarted failure replaced by a passed clone",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(10, "a@64bit", "failed", clonedAs(11)), job(11, "a@64bit", "passed")}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:        "a failed clone still fails, the original does not count twice",
			in:          gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(10, "a@64bit", "passed", clonedAs(11)), job(11, "a@64bit", "failed")}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Failed: 1, Total: 1},
			failingJobs: []int64{11},
		},
		{
			name:   "chain of clones: only the newest counts",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(12, "a@64bit", "passed"), job(10, "a@64bit", "failed", clonedAs(11)), job(11, "a@64bit", "incomplete", clonedAs(12))}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "scenario dedupe keeps the highest id without clone links",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(21, "a@64bit", "passed"), job(20, "a@64bit", "failed")}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name: "same scenario in another run is another job",
			in: gate.VerdictInput{Runs: twoRuns, Jobs: []gate.JobInput{
				job(21, "a@64bit", "passed"), job(20, "a@64bit", "failed", onRun(runB)),
			}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Passed: 1, Failed: 1, Total: 2},
			failingJobs: []int64{20},
		},
		{
			name:   "a clone we have not seen yet keeps it pending",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(10, "a@64bit", "failed", clonedAs(99))}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonCloneUnsynced, gate.ReasonJobsRunning},
			counts: gate.Counts{Running: 1, Total: 1},
		},
		{
			name:   "obsolete jobs are ignored",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "failed", obsolete), job(3, "c@64bit", "", running, obsolete)}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "an obsolete newest job hides its older failure, as qem-bot dedupes first",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "failed"), job(3, "b@64bit", "", running, obsolete)}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "only obsolete jobs is no-jobs",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(2, "b@64bit", "failed", obsolete)}},
			state:  gate.VerdictNoJobs,
			codes:  []gate.ReasonCode{gate.ReasonNoJobs},
			counts: gate.Counts{},
		},
		{
			name: "development groups do not count, by name",
			in: gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{
				job(1, "a@64bit", "passed"), job(2, "b@64bit", "failed", group("Development: Maintenance")),
				job(3, "c@64bit", "", running, group("Maintenance Test")),
			}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name: "configured pattern replaces the default",
			in: gate.VerdictInput{Runs: oneRun, DevGroupPattern: regexp.MustCompile(`(?i)^sandbox`),
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "failed", group("Sandbox: qe-core")), job(3, "c@64bit", "failed", group("Maintenance Test"))}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Passed: 1, Failed: 1, Total: 2},
			failingJobs: []int64{3},
		},
		{
			name: "development parent groups by id or name",
			in: gate.VerdictInput{Runs: oneRun, DevParentGroups: []string{"9", "Experimental"},
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "failed", parent(9, "Development")), job(3, "c@64bit", "failed", parent(12, "Experimental")), job(4, "d@64bit", "passed", parent(3, "Maintenance"))}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 2, Total: 2},
		},
		{
			name: "acceptable_for this PR accepts a failure",
			in: gate.VerdictInput{Runs: oneRun, Pull: pull42,
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(2, "b@64bit", "failed", comment(501, "alice", "bsc#1\r\n@review:acceptable_for:submission_42:known_flaky"))}},
			state:    gate.VerdictPassed,
			codes:    []gate.ReasonCode{},
			counts:   gate.Counts{Passed: 1, Accepted: 1, Total: 2},
			accepted: []int64{2},
		},
		{
			name: "incident_ spelling is accepted too",
			in: gate.VerdictInput{Runs: oneRun, Pull: pull42,
				Jobs: []gate.JobInput{job(2, "b@64bit", "incomplete", comment(502, "bob", "@review:acceptable_for:incident_42:infra"))}},
			state:    gate.VerdictPassed,
			codes:    []gate.ReasonCode{},
			counts:   gate.Counts{Accepted: 1, Total: 1},
			accepted: []int64{2},
		},
		{
			name: "acceptable_for another PR does not apply",
			in: gate.VerdictInput{Runs: oneRun, Pull: pull42,
				Jobs: []gate.JobInput{job(2, "b@64bit", "failed", comment(503, "bob", "@review:acceptable_for:submission_420:other @review:acceptable_for:incident_4:x"))}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Failed: 1, Total: 1},
			failingJobs: []int64{2},
		},
		{
			name: "acceptable_for without a reason does not apply",
			in: gate.VerdictInput{Runs: oneRun, Pull: pull42,
				Jobs: []gate.JobInput{job(2, "b@64bit", "failed", comment(504, "bob", "@review:acceptable_for:submission_42:"))}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Failed: 1, Total: 1},
			failingJobs: []int64{2},
		},
		{
			name: "explicit submission ids replace the PR number",
			in: gate.VerdictInput{Runs: oneRun, Pull: pull42, SubmissionIDs: []string{"38190"},
				Jobs: []gate.JobInput{job(2, "b@64bit", "failed", comment(505, "carol", "@review:acceptable_for:incident_38190:ok")), job(3, "c@64bit", "failed", comment(506, "carol", "@review:acceptable_for:submission_42:ok"))}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Failed: 1, Accepted: 1, Total: 2},
			accepted:    []int64{2},
			failingJobs: []int64{3},
		},
		{
			name: "an acceptance on the superseded original does not carry to the clone",
			in: gate.VerdictInput{Runs: oneRun, Pull: pull42,
				Jobs: []gate.JobInput{job(10, "a@64bit", "failed", clonedAs(11), comment(507, "dave", "@review:acceptable_for:submission_42:ok")), job(11, "a@64bit", "failed")}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Failed: 1, Total: 1},
			failingJobs: []int64{11},
		},
		{
			name:   "required aggregate results missing keep it pending",
			in:     gate.VerdictInput{Runs: aggRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonAggregateMissing},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "AggregateRequired without a run flag",
			in:     gate.VerdictInput{Runs: oneRun, AggregateRequired: true, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonAggregateMissing},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "optional aggregates are not waited for",
			in:     gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name:   "passed aggregate satisfies the requirement",
			in:     gate.VerdictInput{Runs: aggRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}, AggregateJobs: []gate.JobInput{job(900, "mau@64bit", "passed", aggregate)}},
			state:  gate.VerdictPassed,
			codes:  []gate.ReasonCode{},
			counts: gate.Counts{Passed: 2, Total: 2},
		},
		{
			name:   "running aggregate keeps it pending",
			in:     gate.VerdictInput{Runs: aggRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}, AggregateJobs: []gate.JobInput{job(900, "mau@64bit", "", aggregate, running)}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonJobsRunning},
			counts: gate.Counts{Passed: 1, Running: 1, Total: 2},
		},
		{
			name:        "failed aggregate blocks",
			in:          gate.VerdictInput{Runs: aggRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}, AggregateJobs: []gate.JobInput{job(900, "mau@64bit", "failed", aggregate)}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Passed: 1, Failed: 1, Total: 2},
			failingJobs: []int64{900},
		},
		{
			name:        "aggregate jobs passed in Jobs count as aggregates",
			in:          gate.VerdictInput{Runs: aggRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed"), job(900, "mau@64bit", "failed", aggregate)}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Passed: 1, Failed: 1, Total: 2},
			failingJobs: []int64{900},
		},
		{
			name: "failed aggregate accepted by comment",
			in: gate.VerdictInput{Runs: aggRun, Pull: pull42, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")},
				AggregateJobs: []gate.JobInput{job(900, "mau@64bit", "failed", aggregate, comment(600, "erin", "@review:acceptable_for:submission_42:unrelated"))}},
			state:    gate.VerdictPassed,
			codes:    []gate.ReasonCode{},
			counts:   gate.Counts{Passed: 1, Accepted: 1, Total: 2},
			accepted: []int64{900},
		},
		{
			name: "failed aggregate accepted by the older-job rule",
			in: gate.VerdictInput{Runs: aggRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")},
				AggregateJobs: []gate.JobInput{job(900, "mau@64bit", "failed", olderOK)}},
			state:    gate.VerdictPassed,
			codes:    []gate.ReasonCode{},
			counts:   gate.Counts{Passed: 1, Accepted: 1, Total: 2},
			accepted: []int64{900},
		},
		{
			name:        "the older-job rule does not apply to the PR's own jobs",
			in:          gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "failed", olderOK)}},
			state:       gate.VerdictFailed,
			codes:       []gate.ReasonCode{gate.ReasonJobFailed},
			counts:      gate.Counts{Failed: 1, Total: 1},
			failingJobs: []int64{1},
		},
		{
			name:   "aggregates alone are not the PR's jobs",
			in:     gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, WithAggregate: true}}, AggregateJobs: []gate.JobInput{job(900, "mau@64bit", "passed", aggregate)}},
			state:  gate.VerdictNoJobs,
			codes:  []gate.ReasonCode{gate.ReasonNoJobs},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
		{
			name: "an unscheduled aggregate run keeps it pending",
			in: gate.VerdictInput{Runs: []gate.RunInput{{Key: runA, Scheduled: true, JobCount: 1, WithAggregate: true}, {Key: aggA, Aggregate: true}},
				Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}},
			state:  gate.VerdictPending,
			codes:  []gate.ReasonCode{gate.ReasonAggregateMissing, gate.ReasonRunUnscheduled},
			counts: gate.Counts{Passed: 1, Total: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := gate.VerdictFor(tt.in)
			require.Equal(t, tt.state, v.State, "reasons: %+v", v.Reasons)
			require.Equal(t, tt.codes, codes(v))
			require.Equal(t, tt.counts, v.Counts)
			require.Equal(t, v.Counts.Total, v.Counts.Passed+v.Counts.Failed+v.Counts.Running+v.Counts.Stopped+v.Counts.Accepted)
			var accepted []int64
			for _, a := range v.Acceptances {
				accepted = append(accepted, a.JobID)
			}
			require.Equal(t, tt.accepted, accepted)
			var failing []int64
			for _, r := range v.Reasons {
				if r.JobID != 0 && r.Blocking {
					failing = append(failing, r.JobID)
				}
			}
			require.Equal(t, tt.failingJobs, failing)
		})
	}
}

func TestVerdictForReasonDetails(t *testing.T) {
	t.Parallel()
	v := gate.VerdictFor(gate.VerdictInput{Runs: oneRun, Pull: pull42, Jobs: []gate.JobInput{
		job(3, "z@64bit", "failed", group("Maintenance: Containers")),
		job(2, "b@64bit", "incomplete", func(j *gate.JobInput) { j.GroupContact = "" }),
		job(1, "a@64bit", "failed"),
		job(4, "c@64bit", "failed", comment(700, "alice", "@review:acceptable_for:submission_42:bsc1234_known")),
	}})
	require.Equal(t, gate.VerdictFailed, v.State)
	require.Equal(t, []gate.Reason{
		{Code: gate.ReasonJobFailed, Blocking: true, JobID: 3, Scenario: "z@64bit", RunKey: runA, Group: "Maintenance: Containers", Contact: "@qe-core",
			URL: "https://openqa.example.test/tests/3", Result: "failed", Message: "job 3 (z@64bit, group Maintenance: Containers) failed"},
		{Code: gate.ReasonJobFailed, Blocking: true, JobID: 1, Scenario: "a@64bit", RunKey: runA, Group: "Maintenance: SLE 16.0 Incidents", Contact: "@qe-core",
			URL: "https://openqa.example.test/tests/1", Result: "failed", Message: "job 1 (a@64bit, group Maintenance: SLE 16.0 Incidents) failed"},
		{Code: gate.ReasonJobStopped, Blocking: true, JobID: 2, Scenario: "b@64bit", RunKey: runA, Group: "Maintenance: SLE 16.0 Incidents",
			URL: "https://openqa.example.test/tests/2", Result: "incomplete", Message: "job 2 (b@64bit, group Maintenance: SLE 16.0 Incidents) ended incomplete"},
	}, v.Reasons)
	require.Equal(t, []gate.Acceptance{{JobID: 4, Rule: gate.AcceptedByComment, CommentID: 700, Reason: "bsc1234_known", By: "alice",
		Group: "Maintenance: SLE 16.0 Incidents", URL: "https://openqa.example.test/tests/4", Result: "failed", Scenario: "c@64bit"}}, v.Acceptances)
}

func TestVerdictForOlderJobAcceptance(t *testing.T) {
	t.Parallel()
	v := gate.VerdictFor(gate.VerdictInput{Runs: aggRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")},
		AggregateJobs: []gate.JobInput{job(900, "mau@64bit", "failed", olderOK, onRun(aggA))}})
	require.Equal(t, gate.VerdictPassed, v.State)
	require.Len(t, v.Acceptances, 1)
	require.Equal(t, gate.AcceptedByOlderJob, v.Acceptances[0].Rule)
	require.Zero(t, v.Acceptances[0].CommentID)
	require.NotEmpty(t, v.Acceptances[0].Reason)
}

func TestVerdictForIsDeterministic(t *testing.T) {
	t.Parallel()
	var jobs []gate.JobInput
	for i := int64(1); i <= 60; i++ {
		result := "passed"
		if i%7 == 0 {
			result = "failed"
		}
		jobs = append(jobs, job(i, "s"+itoa(i%20)+"@64bit", result, group("G"+itoa(i%3))))
	}
	in := gate.VerdictInput{Runs: oneRun, Jobs: jobs}
	first := gate.VerdictFor(in)
	for range 20 {
		require.Equal(t, first, gate.VerdictFor(in))
	}
	// The input is not modified (dedupe and the aggregate flag work on copies).
	require.Equal(t, jobs, in.Jobs)
}

func TestVerdictForEmptySlicesEncodeAsLists(t *testing.T) {
	t.Parallel()
	v := gate.VerdictFor(gate.VerdictInput{Runs: oneRun, Jobs: []gate.JobInput{job(1, "a@64bit", "passed")}})
	require.NotNil(t, v.Reasons)
	require.NotNil(t, v.Acceptances)
}

func TestVerdictJSON(t *testing.T) {
	t.Parallel()
	v := gate.VerdictFor(gate.VerdictInput{Runs: oneRun, Pull: pull42, Jobs: []gate.JobInput{
		job(1, "a@64bit", "failed"), job(2, "b@64bit", "failed", comment(5, "alice", "@review:acceptable_for:submission_42:ok")),
	}})
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{
		"state": "failed",
		"reasons": [{"code": "job_failed", "blocking": true, "job_id": 1, "scenario": "a@64bit", "run_key": "`+runA+`",
			"group": "Maintenance: SLE 16.0 Incidents", "contact": "@qe-core", "url": "https://openqa.example.test/tests/1",
			"result": "failed", "message": "job 1 (a@64bit, group Maintenance: SLE 16.0 Incidents) failed"}],
		"counts": {"passed": 0, "failed": 1, "running": 0, "stopped": 0, "accepted": 1, "total": 2},
		"acceptances": [{"job_id": 2, "rule": "acceptable_for", "comment_id": 5, "reason": "ok", "by": "alice",
			"group": "Maintenance: SLE 16.0 Incidents", "url": "https://openqa.example.test/tests/2", "result": "failed", "scenario": "b@64bit"}]
	}`, string(b))
}

func TestClassifyJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state, result string
		want          gate.JobStatus
	}{
		{"done", "passed", gate.JobPassed},
		{"done", "softfailed", gate.JobPassed},
		{"done", "failed", gate.JobFailed},
		{"done", "none", gate.JobFailed},
		{"done", "something_new", gate.JobFailed},
		{"done", "incomplete", gate.JobStopped},
		{"done", "timeout_exceeded", gate.JobStopped},
		{"cancelled", "skipped", gate.JobStopped},
		{"cancelled", "obsoleted", gate.JobStopped},
		{"done", "parallel_failed", gate.JobStopped},
		{"done", "parallel_restarted", gate.JobStopped},
		{"cancelled", "user_cancelled", gate.JobStopped},
		{"done", "user_restarted", gate.JobStopped},
		{"scheduled", "none", gate.JobWaiting},
		{"assigned", "none", gate.JobWaiting},
		{"setup", "none", gate.JobWaiting},
		{"running", "failed", gate.JobWaiting},
		{"uploading", "passed", gate.JobWaiting},
		{"some_future_state", "passed", gate.JobWaiting},
	}
	for _, tt := range tests {
		t.Run(tt.state+"/"+tt.result, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, gate.ClassifyJob(tt.state, tt.result))
		})
	}
}

func TestRunKey(t *testing.T) {
	t.Parallel()
	r := gate.TestRun{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Build: ":git:42:openssl"}
	require.Equal(t, runA, r.Key())
	require.Equal(t, runA, gate.RunKey("sle", "16.0", "Online-Incidents", "x86_64", ":git:42:openssl"))
}

func TestContactFromDescription(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, desc, want string
	}{
		{"empty", "", ""},
		{"nobody named", "Maintenance tests for SLE 16.\n\nSee the wiki.", ""},
		{"responsible line", "Tests for containers.\nResponsible: QE-C (qe-c@example.test)\n", "QE-C (qe-c@example.test)"},
		{"case and list marker", "* responsible: @qe-core", "@qe-core"},
		{"bold label", "**Responsible squad:** QE-Kernel", "QE-Kernel"},
		{"heading label", "## Maintainer: qa-sap", "qa-sap"},
		{"maintained by", "Maintained by: Jane Doe", "Jane Doe"},
		{"contact", "> Contact: #team-qa-tools on Slack.", "#team-qa-tools on Slack"},
		{"team", "Team: QE Security", "QE Security"},
		{"responsible beats team", "Team: QE Yast\nResponsible: @alice", "@alice"},
		{"first of the same label wins", "Maintainer: a\nMaintainer: b", "a"},
		{"value on the next line", "Responsible:\n\n- @qe-sap-squad\n- @bob", "@qe-sap-squad"},
		{"empty label followed by another label is skipped", "Responsible:\nTeam: QE-C", "QE-C"},
		{"markdown link keeps its text", "Responsible: [QE Core](https://confluence.example.test/qe-core)", "QE Core"},
		{"mailto link keeps the address", "Contact: [write us](mailto:qe-core@example.test)", "qe-core@example.test"},
		{"CRLF line ends", "Intro\r\nOwner: squad-x\r\n", "squad-x"},
		{"email fallback", "Problems? Mail qa-maintenance@example.test or ask in the channel.", "qa-maintenance@example.test"},
		{"mention fallback", "Ping @qe-core-squad for failures.", "@qe-core-squad"},
		{"mention after punctuation", "Failures go to (@qe-kernel).", "@qe-kernel"},
		{"markers are not mentions", "Use @review:acceptable_for:incident_1:x markers", ""},
		{"a url is not a mention", "see https://example.test/@alice/page", ""},
		{"teammates is not a label", "Teammates: nobody\nContact: @qe-c", "@qe-c"},
		{"long values are cut", "Responsible: " + longText(200), longText(119) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, gate.ContactFromDescription(tt.desc))
		})
	}
}

func longText(n int) string {
	b := make([]rune, n)
	for i := range b {
		b[i] = 'ä'
	}
	return string(b)
}
