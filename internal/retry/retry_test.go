package retry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var errTransient = errors.New("503")

func TestDo(t *testing.T) {
	t.Parallel()
	p := Policy{Retries: 3, Backoff: time.Millisecond, Max: 5 * time.Millisecond}
	transient := func(err error) (bool, time.Duration) { return errors.Is(err, errTransient), 0 }
	for _, tc := range []struct {
		name     string
		failures []error
		calls    int
		wantErr  bool
	}{
		{"first try", nil, 1, false},
		{"two transient failures", []error{errTransient, errTransient}, 3, false},
		{"transient failures beyond the retries", []error{errTransient, errTransient, errTransient, errTransient, errTransient}, 4, true},
		{"a permanent failure is not retried", []error{errors.New("404")}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			v, err := Do(context.Background(), p, func(context.Context) (int, error) {
				calls++
				if calls <= len(tc.failures) {
					return 0, tc.failures[calls-1]
				}
				return 42, nil
			}, transient)
			require.Equal(t, tc.calls, calls)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, 42, v)
		})
	}
	t.Run("an ended context stops the retries", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		_, err := Do(ctx, Policy{Retries: 10, Backoff: time.Hour, Max: time.Hour}, func(context.Context) (int, error) {
			calls++
			cancel()
			return 0, errTransient
		}, transient)
		require.ErrorIs(t, err, errTransient)
		require.Equal(t, 1, calls)
	})
}

func TestWait(t *testing.T) {
	t.Parallel()
	p := Policy{Backoff: time.Second, Max: 30 * time.Second}
	for try := range 30 {
		d := p.Wait(try, 0)
		require.GreaterOrEqual(t, d, min(time.Second<<min(try, 20), p.Max), "try %d", try)
		require.LessOrEqual(t, d, p.Max+p.Max/4, "try %d", try)
	}
	require.Equal(t, 20*time.Second, p.Wait(0, 20*time.Second), "the server's Retry-After when longer")
	require.Equal(t, 30*time.Second, p.Wait(0, time.Hour), "capped")
}

func TestTransient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		err    error
		want   bool
	}{
		{http.StatusServiceUnavailable, nil, true},
		{http.StatusTooManyRequests, nil, true},
		{http.StatusNotFound, nil, false},
		{http.StatusUnauthorized, nil, false},
		{0, errors.New("connection refused"), true},
		{0, fmt.Errorf("get: %w", context.Canceled), false},
		{0, nil, false},
	} {
		require.Equal(t, tc.want, Transient(tc.status, tc.err), "%d %v", tc.status, tc.err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	timeout, retries, backoff := Defaults(0, 0, 0, time.Minute, 3, time.Second)
	require.Equal(t, []any{time.Minute, 3, time.Second}, []any{timeout, retries, backoff})
	timeout, retries, backoff = Defaults(time.Second, -1, time.Millisecond, time.Minute, 3, time.Second)
	require.Equal(t, []any{time.Second, 0, time.Millisecond}, []any{timeout, retries, backoff}, "set values kept; negative retries mean none")
	_, retries, _ = Defaults(0, 7, 0, time.Minute, 3, time.Second)
	require.Equal(t, 7, retries)
}
