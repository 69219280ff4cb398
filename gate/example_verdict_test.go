package gate_test

import (
	"fmt"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/openqa"
)

// Decide a PR from its openQA jobs: a restarted failure whose clone passed,
// a failure accepted by an openQA comment for this PR, a development-group
// failure that does not count, and one real failure with its group's owner.
func ExampleVerdictFor() {
	const run = "sle/16.0/Online-Incidents/x86_64/:git:42:openssl"
	pull := gate.Pull{Repo: "products/SLFO", Number: 42, HeadSHA: "0123456789abcdef0123456789abcdef01234567"}
	maint := "Maintenance: SLE 16.0 Incidents"
	contact := gate.ContactFromDescription("Incident tests for SLE 16.0.\n\n**Responsible:** @qe-core")
	done := func(id int64, scenario, group, result string) gate.JobInput {
		return gate.JobInput{ID: id, RunKey: run, Scenario: scenario, GroupName: group, GroupContact: contact,
			State: openqa.StateDone, Result: result, URL: fmt.Sprintf("https://openqa.example.test/tests/%d", id)}
	}
	restarted := done(100, "mau-webserver@64bit", maint, openqa.ResultFailed)
	restarted.CloneID = 104
	accepted := done(101, "mau-extratests@64bit", maint, openqa.ResultFailed)
	// The sync matched the comment to PR 42 when it read the job.
	a, _ := gate.AcceptanceFor([]openqa.Comment{{ID: 9, UserName: "alice", Text: "bsc#1234567 @review:acceptable_for:submission_42:known_issue"}}, "42")
	accepted.Accepted = &a

	v := gate.VerdictFor(gate.VerdictInput{
		Pull: pull,
		Runs: []gate.RunInput{{Key: run, Scheduled: true, JobCount: 4}},
		Jobs: []gate.JobInput{
			restarted,
			done(104, "mau-webserver@64bit", maint, openqa.ResultPassed),
			accepted,
			done(102, "ltp_syscalls@64bit", "Development: SLE 16.0", openqa.ResultFailed),
			done(103, "fips_ker_mode@64bit", maint, openqa.ResultIncomplete),
		},
	})
	state, desc := gate.StatusFor(v)
	fmt.Println(v.State, "|", state, "|", desc)
	for _, r := range v.Reasons {
		fmt.Println("reason:", r.Message, "->", r.URL, r.Contact)
	}
	for _, a := range v.Acceptances {
		fmt.Println("accepted:", a.JobID, a.Reason, "by", a.By, "in comment", a.CommentID)
	}
	// Output:
	// failed | failure | 1 passed, 1 accepted, 0 failed, 1 stopped, 0 running
	// reason: job 103 (fips_ker_mode@64bit, group Maintenance: SLE 16.0 Incidents) ended incomplete -> https://openqa.example.test/tests/103 @qe-core
	// accepted: 101 known_issue by alice in comment 9
}
