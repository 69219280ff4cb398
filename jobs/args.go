package jobs

// This file holds the arguments of every event-driven job: the contracts
// between receivers, workers and the poller. Periodic jobs (poll_gitea,
// poll_openqa, retention, aggregate) keep theirs beside their workers.

import (
	"strconv"

	"github.com/riverqueue/river"
)

// SyncPullArgs asks to re-read one PR from Gitea, the authority, and store it.
// Events only say "look at this PR again"; they are never taken as the truth.
type SyncPullArgs struct {
	Repo   string `json:"repo" river:"unique"`
	Number int64  `json:"number" river:"unique"`
}

// Kind names the job.
func (SyncPullArgs) Kind() string { return "sync_pull" }

// InsertOpts makes the job unique per PR while it is waiting or running.
func (SyncPullArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueGitea, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

func (a SyncPullArgs) debounceKey() string { return a.Repo + "#" + strconv.FormatInt(a.Number, 10) }

// SyncCommitArgs asks which open PRs have sha as their head, for a status
// event on a commit we do not know yet, and syncs each of them.
type SyncCommitArgs struct {
	Repo string `json:"repo" river:"unique"`
	SHA  string `json:"sha" river:"unique"`
}

// Kind names the job.
func (SyncCommitArgs) Kind() string { return "sync_commit" }

// InsertOpts makes the job unique per commit while it is waiting.
func (SyncCommitArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueGitea, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

// ScheduleArgs asks to post the planned test runs of a PR at one head SHA.
// It is unique per (repo, number, sha) while pending; the test_runs table
// keeps each run unique for good, so a run is never posted twice.
type ScheduleArgs struct {
	Repo   string `json:"repo" river:"unique"`
	Number int64  `json:"number" river:"unique"`
	SHA    string `json:"sha" river:"unique"`
}

// Kind names the job.
func (ScheduleArgs) Kind() string { return "schedule" }

// InsertOpts puts scheduling on the openQA queue, unique while pending.
func (ScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueOpenQA, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

func (a ScheduleArgs) debounceKey() string { return pullSHAKey(a.Repo, a.Number, a.SHA) }

// SyncOpenQAJobArgs asks to re-read one openQA job, the authority on it.
type SyncOpenQAJobArgs struct {
	ID int64 `json:"id" river:"unique"`
}

// Kind names the job.
func (SyncOpenQAJobArgs) Kind() string { return "sync_openqa_job" }

// InsertOpts makes the job unique per openQA job while pending.
func (SyncOpenQAJobArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueOpenQA, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

func (a SyncOpenQAJobArgs) debounceKey() string { return strconv.FormatInt(a.ID, 10) }

// EvaluateArgs asks to compute a PR's verdict from what is stored. It is
// debounced: one pending evaluation per PR absorbs every change until it runs.
type EvaluateArgs struct {
	Repo   string `json:"repo" river:"unique"`
	Number int64  `json:"number" river:"unique"`
}

// Kind names the job.
func (EvaluateArgs) Kind() string { return "evaluate" }

// InsertOpts makes the job unique per PR while pending.
func (EvaluateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

func (a EvaluateArgs) debounceKey() string { return a.Repo + "#" + strconv.FormatInt(a.Number, 10) }

// ReportArgs asks to tell Gitea the PR's stored verdict at sha: commit
// status, approval or request for changes, summary comment. Every write is
// recorded in reports, so running it again writes nothing twice.
type ReportArgs struct {
	Repo   string `json:"repo" river:"unique"`
	Number int64  `json:"number" river:"unique"`
	SHA    string `json:"sha" river:"unique"`
}

// Kind names the job.
func (ReportArgs) Kind() string { return "report" }

// InsertOpts puts reporting on the Gitea queue, unique while pending.
func (ReportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueGitea, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

func (a ReportArgs) debounceKey() string { return pullSHAKey(a.Repo, a.Number, a.SHA) }

// pullSHAKey is the debounce key of a job about one PR at one head SHA.
func pullSHAKey(repo string, number int64, sha string) string {
	return repo + "#" + strconv.FormatInt(number, 10) + "@" + sha
}
