package load

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"median of odd count", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p100 is the maximum", hundred, 100, 100 * time.Millisecond},
		{"p99 of ten values is the maximum", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"tiny p is the minimum", ms(4, 5, 6), 0.1, 4 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Percentile(tt.sorted, tt.p))
		})
	}
}

func TestSummarizeSortsAndRounds(t *testing.T) {
	t.Parallel()
	in := []time.Duration{3 * time.Millisecond, 1500 * time.Microsecond, 10 * time.Millisecond, 2 * time.Millisecond}
	s := Summarize(in)
	require.Equal(t, Summary{P50: 2, P90: 10, P99: 10, Max: 10, Mean: 4.125}, s)
	require.Equal(t, Summary{}, Summarize(nil))
}

func TestRunCountsEveryOperationOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[int64]int{}
	var inFlight, peak atomic.Int64
	res, err := Run(context.Background(), Options{Concurrency: 4, Ops: 200}, func(ctx context.Context, seq int64) (string, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(100 * time.Microsecond)
		mu.Lock()
		seen[seq]++
		mu.Unlock()
		if seq%10 == 0 {
			return "500", errors.New("every tenth fails")
		}
		return "202", nil
	})
	require.NoError(t, err)
	require.EqualValues(t, 200, res.Ops)
	require.Len(t, seen, 200, "each sequence number is used once")
	for seq := range int64(200) {
		require.Equal(t, 1, seen[seq], "seq %d", seq)
	}
	require.Equal(t, map[string]int64{"202": 180, "500": 20}, res.Outcomes)
	require.EqualValues(t, 20, res.Failures)
	require.Equal(t, "every tenth fails", res.FirstError)
	require.LessOrEqual(t, peak.Load(), int64(4), "never more than the concurrency")
	require.Positive(t, res.PerSecond)
	require.Positive(t, res.Latency.P50)
}

func TestRunStopsAtDurationAndLetsInFlightFinish(t *testing.T) {
	t.Parallel()
	var started, finished atomic.Int64
	res, err := Run(context.Background(), Options{Concurrency: 3, Duration: 50 * time.Millisecond, Warmup: 20 * time.Millisecond},
		func(ctx context.Context, seq int64) (string, error) {
			started.Add(1)
			time.Sleep(5 * time.Millisecond)
			finished.Add(1)
			return "", nil
		})
	require.NoError(t, err)
	require.Equal(t, started.Load(), finished.Load())
	require.Equal(t, started.Load(), res.Ops+res.WarmupOps, "every started operation is counted once, warm-up or measured")
	require.Positive(t, res.WarmupOps)
	require.Equal(t, map[string]int64{"ok": res.Ops}, res.Outcomes)
	require.GreaterOrEqual(t, res.Elapsed, 50*time.Millisecond)
	require.Less(t, res.Elapsed, 2*time.Second)
}

func TestRunReportsCancellation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, Options{Concurrency: 2, Duration: time.Minute}, func(ctx context.Context, seq int64) (string, error) {
		if seq == 5 {
			cancel()
		}
		<-time.After(time.Millisecond)
		return "", ctx.Err()
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, res.Ops, int64(10))
}

func TestRunRejectsUnboundedOptions(t *testing.T) {
	t.Parallel()
	op := func(context.Context, int64) (string, error) { return "", nil }
	_, err := Run(context.Background(), Options{Concurrency: 1}, op)
	require.ErrorContains(t, err, "neither a duration nor a number")
	_, err = Run(context.Background(), Options{Concurrency: 0, Ops: 1}, op)
	require.ErrorContains(t, err, "concurrency 0")
}
