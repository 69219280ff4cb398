// Package load drives one operation at a fixed concurrency, for a bounded
// time or number of operations, and summarises throughput and latencies.
package load

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options bound a run. Exactly one of Duration and Ops ends it; with both
// set, whichever comes first does.
type Options struct {
	Concurrency int
	Duration    time.Duration // measured time, after Warmup
	Ops         int64         // measured operations, after Warmup
	// Warmup runs the operation at the same concurrency before measuring, so
	// that connection set-up and cold caches do not count.
	Warmup time.Duration
}

// Op does one unit of work. seq numbers the calls of a run from 0, warm-up
// included; outcome names how it ended ("202", "ok"), and a non-nil error
// counts as a failure under outcome (or "error" when outcome is empty).
type Op func(ctx context.Context, seq int64) (outcome string, err error)

// Result is what a run measured. Warm-up operations are not in it.
type Result struct {
	Ops       int64            `json:"ops"`
	Failures  int64            `json:"failures"`
	Elapsed   time.Duration    `json:"-"`
	Seconds   float64          `json:"seconds"`
	PerSecond float64          `json:"per_second"`
	Outcomes  map[string]int64 `json:"outcomes"`
	Latency   Summary          `json:"latency"`
	// WarmupOps is how many operations ran before measuring started.
	WarmupOps int64 `json:"warmup_ops"`
	// FirstError is the first failure seen, to say why a run went wrong.
	FirstError string `json:"first_error,omitempty"`
}

// Summary are latency percentiles in milliseconds.
type Summary struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// Run calls op from opts.Concurrency goroutines, back to back, until the
// measured duration or number of operations is reached. A failing operation
// does not stop the run: it is counted. When ctx ends first, Run returns
// what it measured so far with an error.
func Run(ctx context.Context, opts Options, op Op) (Result, error) {
	if opts.Concurrency < 1 {
		return Result{}, fmt.Errorf("load: concurrency %d: must be at least 1", opts.Concurrency)
	}
	if opts.Duration <= 0 && opts.Ops <= 0 {
		return Result{}, fmt.Errorf("load: neither a duration nor a number of operations bounds the run")
	}
	var seq atomic.Int64
	if opts.Warmup > 0 {
		drive(ctx, time.Now().Add(opts.Warmup), -1, opts.Concurrency, &seq, op)
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("load: warm-up: %w", err)
		}
	}
	warm := seq.Load()

	var deadline time.Time
	if opts.Duration > 0 {
		deadline = time.Now().Add(opts.Duration)
	}
	limit := int64(-1)
	if opts.Ops > 0 {
		limit = warm + opts.Ops
	}
	start := time.Now()
	samples := drive(ctx, deadline, limit, opts.Concurrency, &seq, op)
	elapsed := time.Since(start)

	res := Result{Elapsed: elapsed, Seconds: elapsed.Seconds(), Outcomes: map[string]int64{}, WarmupOps: warm}
	latencies := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		res.Ops++
		res.Outcomes[s.outcome]++
		if s.err != nil {
			res.Failures++
			if res.FirstError == "" {
				res.FirstError = s.err.Error()
			}
		}
		latencies = append(latencies, s.latency)
	}
	if elapsed > 0 {
		res.PerSecond = float64(res.Ops) / elapsed.Seconds()
	}
	res.Latency = Summarize(latencies)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("load: stopped after %d operations: %w", res.Ops, err)
	}
	return res, nil
}

type sample struct {
	latency time.Duration
	outcome string
	err     error
}

// drive starts operations until the deadline passes (zero: none), seq
// reaches limit (-1: none) or ctx ends. Operations in flight at the deadline
// finish and count, so that each one the system under test completed is
// measured; only one cut short by ctx ending is dropped.
func drive(ctx context.Context, deadline time.Time, limit int64, concurrency int, seq *atomic.Int64, op Op) []sample {
	perWorker := make([][]sample, concurrency)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil && (deadline.IsZero() || time.Now().Before(deadline)) {
				n := seq.Add(1) - 1
				if limit >= 0 && n >= limit {
					return
				}
				t0 := time.Now()
				outcome, err := op(ctx, n)
				d := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					return
				}
				if outcome == "" {
					outcome = "ok"
					if err != nil {
						outcome = "error"
					}
				}
				perWorker[w] = append(perWorker[w], sample{latency: d, outcome: outcome, err: err})
			}
		})
	}
	wg.Wait()
	return slices.Concat(perWorker...)
}

// Summarize returns the percentiles of latencies, which it sorts.
func Summarize(latencies []time.Duration) Summary {
	if len(latencies) == 0 {
		return Summary{}
	}
	slices.Sort(latencies)
	var sum time.Duration
	for _, d := range latencies {
		sum += d
	}
	return Summary{
		P50:  ms(Percentile(latencies, 50)),
		P90:  ms(Percentile(latencies, 90)),
		P99:  ms(Percentile(latencies, 99)),
		Max:  ms(latencies[len(latencies)-1]),
		Mean: ms(sum / time.Duration(len(latencies))),
	}
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value that at least p% of the values do
// not exceed. It is always one of the measured values, never interpolated.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// RunRate starts op rate times a second for duration, each in its own
// goroutine (at most maxInFlight at once; a start that finds no room is
// counted as an "overload" failure), whatever the earlier ones are doing: an
// open loop, as webhooks arrive. Latency runs from the moment an operation
// was due, so a stall delays the operations behind it and they show it
// (no coordinated omission).
func RunRate(ctx context.Context, rate float64, duration time.Duration, maxInFlight int, op Op) (Result, error) {
	if rate <= 0 || duration <= 0 || maxInFlight < 1 {
		return Result{}, fmt.Errorf("load: rate %g/s for %s with %d in flight: all must be positive", rate, duration, maxInFlight)
	}
	interval := time.Duration(float64(time.Second) / rate)
	n := int64(float64(duration) / float64(interval))
	slots := make(chan struct{}, maxInFlight)
	samples := make([]sample, n)
	var wg sync.WaitGroup
	start := time.Now()
	var started int64
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		started++
		select {
		case slots <- struct{}{}:
		default:
			samples[i] = sample{latency: time.Since(due), outcome: "overload", err: fmt.Errorf("more than %d operations in flight", maxInFlight)}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			outcome, err := op(ctx, i)
			if outcome == "" {
				outcome = "ok"
				if err != nil {
					outcome = "error"
				}
			}
			samples[i] = sample{latency: time.Since(due), outcome: outcome, err: err}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := Result{Elapsed: elapsed, Seconds: elapsed.Seconds(), Outcomes: map[string]int64{}}
	latencies := make([]time.Duration, 0, started)
	for _, s := range samples[:started] {
		res.Ops++
		res.Outcomes[s.outcome]++
		if s.err != nil {
			res.Failures++
			if res.FirstError == "" {
				res.FirstError = s.err.Error()
			}
		}
		latencies = append(latencies, s.latency)
	}
	res.PerSecond = float64(res.Ops) / elapsed.Seconds()
	res.Latency = Summarize(latencies)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("load: stopped after %d operations: %w", res.Ops, err)
	}
	return res, nil
}
