// Command ingest measures the Gitea webhook receiver against a real
// PostgreSQL: acknowledgement throughput and latency at a fixed concurrency,
// next to the plain single-row INSERT rate of the same server as a baseline.
//
//	scripts/pg.sh QEMGATE_TEST_DATABASE_URL go run ./bench/ingest -concurrency 16 -duration 10s
//
// It creates a scratch database, runs the real handler on a loopback port,
// and drops the database when it ends. docs/benchmarks.md has the numbers.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qemgate/qemgate/bench/delivery"
	"github.com/qemgate/qemgate/bench/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench/ingest:", err)
		}
		os.Exit(1)
	}
}

// envDatabase is where the admin URL comes from unless -db says otherwise;
// scripts/pg.sh sets it to a throwaway cluster.
const envDatabase = "QEMGATE_TEST_DATABASE_URL"

// options are the command-line flags.
type options struct {
	adminURL    string
	concurrency int
	duration    time.Duration
	requests    int64
	warmup      time.Duration
	distinctPRs int
	maxConns    int
	fixture     string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.adminURL, "db", getenv(envDatabase), "URL of a PostgreSQL role that may CREATE DATABASE (default $"+envDatabase+")")
	fs.IntVar(&o.concurrency, "concurrency", 16, "requests (and, for the baseline, INSERTs) in flight at once")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each of the two phases is measured")
	fs.Int64Var(&o.requests, "requests", 0, "measure this many operations per phase instead of -duration")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured run before each phase, at the same concurrency")
	fs.IntVar(&o.distinctPRs, "distinct-prs", 200, "deliveries are spread round-robin over this many PRs")
	fs.IntVar(&o.maxConns, "max-conns", 0, "database connections in the pool (default: -concurrency, so no phase waits for one)")
	fs.StringVar(&o.fixture, "fixture", delivery.DefaultFixture(), "captured delivery body to send; <name>.headers.json must be beside it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench/ingest [flags]\n\nMeasures POST /webhooks/gitea against a real PostgreSQL, then that server's plain INSERT rate.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.adminURL == "":
		return o, fmt.Errorf("no database: pass -db or set %s (scripts/pg.sh %s go run ./bench/ingest starts a throwaway one)", envDatabase, envDatabase)
	case o.concurrency < 1:
		return o, fmt.Errorf("-concurrency %d: must be at least 1", o.concurrency)
	case o.distinctPRs < 1:
		return o, fmt.Errorf("-distinct-prs %d: must be at least 1", o.distinctPRs)
	case o.requests < 0 || o.warmup < 0 || o.maxConns < 0:
		return o, errors.New("-requests, -warmup and -max-conns cannot be negative")
	case o.requests == 0 && o.duration <= 0:
		return o, errors.New("-duration must be positive when -requests is not set")
	}
	if o.requests > 0 {
		o.duration = 0
	}
	if o.maxConns == 0 {
		o.maxConns = o.concurrency
	}
	return o, nil
}

func (o options) load() load.Options {
	return load.Options{Concurrency: o.concurrency, Duration: o.duration, Ops: o.requests, Warmup: o.warmup}
}

// report is the whole result, printed as the last line in JSON.
type report struct {
	Benchmark   string      `json:"benchmark"`
	Concurrency int         `json:"concurrency"`
	DistinctPRs int         `json:"distinct_prs"`
	MaxConns    int         `json:"max_conns"`
	BodyBytes   int         `json:"body_bytes"`
	Ingest      load.Result `json:"ingest"`
	Baseline    load.Result `json:"baseline"`
	// Ratio is ingest acknowledgements per second over baseline INSERTs per
	// second.
	Ratio       float64     `json:"ratio"`
	Deliveries  int64       `json:"deliveries_stored"`
	Jobs        int64       `json:"jobs_stored"`
	Environment environment `json:"environment"`
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	tpl, err := delivery.Load(o.fixture)
	if err != nil {
		return err
	}
	src, err := delivery.NewSource(tpl, webhookSecret, o.distinctPRs)
	if err != nil {
		return fmt.Errorf("%s: %w", o.fixture, err)
	}

	db, err := createDatabase(ctx, o.adminURL)
	if err != nil {
		return err
	}
	defer func() {
		// A fresh context: the database must go even after an interrupt.
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.drop(dctx); err != nil {
			fmt.Fprintln(stderr, "bench/ingest:", err)
		}
	}()
	pool, err := db.open(ctx, o.maxConns)
	if err != nil {
		return err
	}
	defer pool.Close()

	rep := report{Benchmark: "webhook_ingest", Concurrency: o.concurrency, DistinctPRs: o.distinctPRs, MaxConns: o.maxConns, BodyBytes: src.BodyBytes()}
	if rep.Environment, err = describe(ctx, pool); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s on PostgreSQL %s (fsync=%s, synchronous_commit=%s), %d CPUs, GOMAXPROCS %d\n",
		db.name, rep.Environment.PostgreSQL, rep.Environment.Fsync, rep.Environment.SynchronousCommit, rep.Environment.CPUs, rep.Environment.GOMAXPROCS)
	fmt.Fprintf(stdout, "concurrency %d, %s per phase after %s warm-up, %d PRs, %d-byte pull_request_sync bodies, %d pooled connections\n\n",
		o.concurrency, phaseLength(o), o.warmup, o.distinctPRs, rep.BodyBytes, o.maxConns)

	checkpoint(ctx, pool)
	ing, err := startIngest(ctx, pool, src, o.concurrency)
	if err != nil {
		return err
	}
	rep.Ingest, err = load.Run(ctx, o.load(), ing.deliver)
	ing.close()
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	printPhase(stdout, "ingest   (POST /webhooks/gitea → 202)", rep.Ingest)
	if rep.Deliveries, rep.Jobs, err = ingested(ctx, pool); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "           stored %d deliveries, %d sync_pull jobs\n\n", rep.Deliveries, rep.Jobs)

	checkpoint(ctx, pool)
	bl, err := newBaseline(ctx, pool)
	if err != nil {
		return err
	}
	rep.Baseline, err = load.Run(ctx, o.load(), bl.insert)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	printPhase(stdout, "baseline (single-row INSERT, autocommit)", rep.Baseline)
	if rep.Baseline.PerSecond > 0 {
		rep.Ratio = rep.Ingest.PerSecond / rep.Baseline.PerSecond
	}
	fmt.Fprintf(stdout, "\ningest/baseline = %.3f (%.0f acks/s over %.0f INSERTs/s)\n", rep.Ratio, rep.Ingest.PerSecond, rep.Baseline.PerSecond)

	line, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", line)
	return verify(ctx, pool, rep, bl)
}

// verify fails the run when the numbers do not mean what they say: every
// request acknowledged, every acknowledged delivery stored, every INSERT
// stored.
func verify(ctx context.Context, pool *pgxpool.Pool, rep report, bl *baseline) error {
	if rep.Ingest.Failures > 0 || rep.Baseline.Failures > 0 {
		return fmt.Errorf("%d of %d requests and %d of %d INSERTs failed; first: %s%s",
			rep.Ingest.Failures, rep.Ingest.Ops, rep.Baseline.Failures, rep.Baseline.Ops, rep.Ingest.FirstError, rep.Baseline.FirstError)
	}
	if acked := rep.Ingest.Ops + rep.Ingest.WarmupOps; rep.Deliveries != acked {
		return fmt.Errorf("%d deliveries acknowledged but %d stored", acked, rep.Deliveries)
	}
	if want := min(int64(rep.DistinctPRs), rep.Deliveries); rep.Jobs != want {
		return fmt.Errorf("%d sync_pull jobs stored, want one per PR: %d", rep.Jobs, want)
	}
	rows, err := bl.rows(ctx, pool)
	if err != nil {
		return err
	}
	if want := rep.Baseline.Ops + rep.Baseline.WarmupOps; rows != want {
		return fmt.Errorf("%d INSERTs succeeded but %d rows stored", want, rows)
	}
	return nil
}

func phaseLength(o options) string {
	if o.requests > 0 {
		return fmt.Sprintf("%d operations", o.requests)
	}
	return o.duration.String()
}

func printPhase(w io.Writer, name string, r load.Result) {
	fmt.Fprintf(w, "%s\n  %8d ops in %.2fs = %8.1f /s   latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f   outcomes %v\n",
		name, r.Ops, r.Seconds, r.PerSecond, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Latency.Mean, r.Outcomes)
}
