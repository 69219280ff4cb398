package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// Attempt bounds of the jobs that may take longer than the client's
// JobTimeout (workers.job_timeout). River's rescuer leaves a running job
// alone until its own timeout has passed, so these are also how long a
// crash can hold each of them.
const (
	// periodicTimeout bounds one pass of a poller, aggregates or retention:
	// a poll over thousands of PRs against a slow Gitea takes minutes.
	periodicTimeout = 10 * time.Minute
	// scheduleTimeout bounds posting a PR's runs: openQA can take many
	// seconds to answer one isos request that creates hundreds of jobs.
	scheduleTimeout = 5 * time.Minute
)

// Timeout bounds one poll pass.
func (*PollGiteaWorker) Timeout(*river.Job[PollGiteaArgs]) time.Duration { return periodicTimeout }

// Timeout bounds one poll pass.
func (*PollOpenQAWorker) Timeout(*river.Job[PollOpenQAArgs]) time.Duration { return periodicTimeout }

// Timeout bounds one retention pass.
func (*RetentionWorker) Timeout(*river.Job[RetentionArgs]) time.Duration { return periodicTimeout }

// Timeout bounds one aggregate pass.
func (*AggregateWorker) Timeout(*river.Job[AggregateArgs]) time.Duration { return periodicTimeout }

// Timeout bounds one pass of the verdict safety net.
func (*ReevaluateWorker) Timeout(*river.Job[ReevaluateArgs]) time.Duration { return periodicTimeout }

// Timeout bounds posting one PR's runs.
func (*ScheduleWorker) Timeout(*river.Job[ScheduleArgs]) time.Duration { return scheduleTimeout }
