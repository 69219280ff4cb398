package gate_test

import (
	"fmt"
	"testing"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/openqa"
)

// BenchmarkVerdictFor decides a large PR: 5,000 jobs over 50 runs, with
// restarts, development groups, failures carrying comments and aggregates.
func BenchmarkVerdictFor(b *testing.B) {
	const jobs, runs = 5000, 50
	in := gate.VerdictInput{Pull: gate.Pull{Number: 42}, AggregateRequired: true}
	for r := range runs {
		in.Runs = append(in.Runs, gate.RunInput{Key: fmt.Sprintf("sle/16.0/F%d/x86_64/:git:42:openssl", r), Scheduled: true, JobCount: jobs / runs})
	}
	for i := range jobs {
		j := gate.JobInput{
			ID: int64(1000 + i), RunKey: in.Runs[i%runs].Key, Scenario: fmt.Sprintf("test%d@64bit", i/runs%80),
			GroupName: "Maintenance: SLE 16.0 Incidents", GroupContact: "@qe-core",
			State: openqa.StateDone, Result: openqa.ResultPassed, URL: fmt.Sprintf("https://openqa.example.test/tests/%d", 1000+i),
		}
		switch {
		case i%97 == 0:
			j.Result = openqa.ResultFailed
			j.Accepted = &gate.CommentAcceptance{CommentID: int64(i), Reason: "known"}
		case i%89 == 0:
			j.Result = openqa.ResultIncomplete
		case i%53 == 0:
			j.GroupName = "Development: SLE 16.0"
			j.Result = openqa.ResultFailed
		}
		in.Jobs = append(in.Jobs, j)
	}
	for i := range 100 {
		in.AggregateJobs = append(in.AggregateJobs, gate.JobInput{ID: int64(90000 + i), RunKey: "sle/16.0/Online-Updates/x86_64/20260101-1",
			Scenario: fmt.Sprintf("agg%d@64bit", i), State: openqa.StateDone, Result: openqa.ResultPassed})
	}
	b.ReportAllocs()
	var v gate.Verdict
	for b.Loop() {
		v = gate.VerdictFor(in)
	}
	if v.State != gate.VerdictFailed || v.Counts.Total == 0 {
		b.Fatalf("unexpected verdict %s with counts %+v", v.State, v.Counts)
	}
}
