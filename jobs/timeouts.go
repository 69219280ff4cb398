package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// periodicTimeout bounds one pass of a poller, aggregates, retention or the
// verdict safety net, which may take longer than the client's JobTimeout
// (workers.job_timeout): a poll over thousands of PRs against a slow Gitea
// takes minutes. River's rescuer leaves a running job alone until its own
// timeout has passed; that is harmless here, since periodic jobs are unique
// per period, not while running, so a dead pass blocks no later one.
//
// Event-driven jobs keep the client's JobTimeout: they are unique while
// running, so a killed process's attempt holds their key until it is
// rescued, and a longer bound would hold the PR back longer. One that needs
// more (posting many runs) continues where it stopped on its next attempt.
const periodicTimeout = 10 * time.Minute

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
