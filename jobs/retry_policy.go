package jobs

import (
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// River's default backoff is attempt⁴ seconds: 1 s, 16 s, 81 s, 256 s,
// 625 s... A job that meets a few faults in a row therefore waits many
// minutes, though Gitea and openQA were back within seconds. Our jobs are
// idempotent and cheap to repeat, so the first fastRetries retries follow a
// short schedule instead: 1 s, 2 s, 4 s, ... doubling, capped at
// maxFastRetryDelay, about five minutes for all of them together. Later
// ones fall back to attempt⁴, so a long outage still spreads the remaining
// attempts over River's usual weeks instead of discarding jobs within the
// hour.
const (
	fastRetries       = 10
	maxFastRetryDelay = time.Minute
)

// retryPolicy is qemgate's River retry policy; see fastRetries.
type retryPolicy struct {
	now func() time.Time // time.Now when nil; never a test's fixed clock
}

var _ river.ClientRetryPolicy = retryPolicy{}

// NextRetry schedules the next attempt of a failed job. As River's own
// policy, it counts errors, not attempts, so that snoozes do not count.
func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	return now.Add(retryDelay(len(job.Errors) + 1))
}

// retryDelay is the wait after the nth failure (n ≥ 1), with ±10 % jitter
// (as River's) so that jobs that failed together do not retry together.
func retryDelay(n int) time.Duration {
	var d time.Duration
	if n <= fastRetries {
		d = min(time.Second<<(n-1), maxFastRetryDelay)
	} else {
		n = min(n, 300) // 300⁴ s is 256 years; much more overflows a Duration
		d = time.Duration(n*n*n*n) * time.Second
	}
	jitter := d / 10
	return d - jitter + rand.N(2*jitter+1)
}
