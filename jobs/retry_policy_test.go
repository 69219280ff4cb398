package jobs

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
)

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	p := retryPolicy{now: func() time.Time { return now }}
	after := func(failures int) time.Duration {
		job := &rivertype.JobRow{Attempt: failures, Errors: make([]rivertype.AttemptError, failures-1)}
		return p.NextRetry(job).Sub(now)
	}
	within := func(d, want time.Duration) bool { return d >= want-want/10 && d <= want+want/10 }

	var total time.Duration
	for n, want := range []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60, 60} {
		want *= time.Second
		d := after(n + 1)
		require.True(t, within(d, want), "failure %d: %s, want %s ±10%%", n+1, d, want)
		total += d
	}
	require.Less(t, total, 6*time.Minute, "the fast retries together take about five minutes")

	// Then River's attempt⁴, so a long outage does not use up the attempts.
	d := after(fastRetries + 1)
	want := time.Duration(11*11*11*11) * time.Second
	require.True(t, within(d, want), "failure 11: %s, want about %s", d, want)
	require.Positive(t, after(5000), "no overflow")
}
