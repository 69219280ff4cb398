// Package retry is the one retry policy of the outbound clients (Gitea,
// openQA, OBS, SMELT): a bounded number of attempts, a backoff doubling up to
// a cap with some jitter, a longer wait when the server asks for one, and no
// retry after a permanent failure or once the caller's context has ended.
// Only reads are retried; each client decides which of its errors are
// transient.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// Policy bounds the retries of one call.
type Policy struct {
	// Retries is how many times a failed attempt is tried again.
	Retries int
	// Backoff is the first wait, doubled after each attempt, up to Max.
	Backoff, Max time.Duration
}

// Wait is the pause before retry number try (0 for the first retry):
// Backoff·2^try capped at Max, plus up to a quarter of it as jitter, or
// the server's Retry-After when that is longer (capped at Max too).
func (p Policy) Wait(try int, retryAfter time.Duration) time.Duration {
	d := p.Backoff << min(try, 20)
	if d <= 0 || d > p.Max {
		d = p.Max
	}
	d += rand.N(d/4 + 1)
	if retryAfter > d {
		d = min(retryAfter, p.Max)
	}
	return d
}

// Do runs attempt until it succeeds, its error is not transient, the
// retries are spent or ctx ends; it returns the last result. transient
// reports whether an error may pass on a later try, and the wait the
// server asked for (Retry-After), if any.
func Do[T any](ctx context.Context, p Policy, attempt func(context.Context) (T, error), transient func(error) (bool, time.Duration)) (T, error) {
	for try := 0; ; try++ {
		v, err := attempt(ctx)
		if err == nil || try >= p.Retries || ctx.Err() != nil {
			return v, err
		}
		again, retryAfter := transient(err)
		if !again {
			return v, err
		}
		t := time.NewTimer(p.Wait(try, retryAfter))
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
	}
}

// Transient is the common rule for an HTTP answer: a 5xx or a 429, or no
// answer at all (status 0) for another reason than the caller's own
// cancellation, may succeed later; any other answer will not.
func Transient(status int, transportErr error) bool {
	switch {
	case status == 0:
		return transportErr != nil && !errors.Is(transportErr, context.Canceled)
	case status == http.StatusTooManyRequests, status >= 500:
		return true
	}
	return false
}

// Defaults fills what a client's configuration leaves zero: the timeout of
// one attempt, the retries (negative means none) and the first backoff.
func Defaults(timeout time.Duration, retries int, backoff time.Duration,
	defTimeout time.Duration, defRetries int, defBackoff time.Duration) (time.Duration, int, time.Duration) {
	if timeout <= 0 {
		timeout = defTimeout
	}
	switch {
	case retries == 0:
		retries = defRetries
	case retries < 0:
		retries = 0
	}
	if backoff <= 0 {
		backoff = defBackoff
	}
	return timeout, retries, backoff
}
