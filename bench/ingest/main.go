// Command ingest measures the Gitea webhook receiver against the physical
// limit of the same PostgreSQL: acknowledged deliveries per second next to
// what pgbench would get inserting one real delivery body per transaction
// into a table with a primary key, interleaved A/B/A/B/A/B at each number of
// clients, then one PR against many, then the ack latency at a fixed rate.
//
//	make bench-ingest    # a throwaway cluster with fsync, full_page_writes and synchronous_commit on
//
// It creates a scratch database, runs the real handler and its dispatcher
// on a loopback port, and drops the database when it ends. It refuses a
// server with fsync or synchronous_commit off unless -allow-nondurable is
// given. docs/benchmarks.md has the numbers.
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
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
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
// `make bench-ingest` sets it to a throwaway cluster with production
// durability.
const envDatabase = "QEMGATE_BENCH_DATABASE_URL"

// Receiver paths: the outbox (production) and one transaction per delivery
// with its job (as before the dispatcher), for before/after.
const (
	pathOutbox = "outbox"
	pathNow    = "now"
)

// options are the command-line flags.
type options struct {
	adminURL        string
	clients         []int
	rounds          int
	duration        time.Duration
	warmup          time.Duration
	distinctPRs     int
	path            string
	prClients       int
	rate            float64
	rateDuration    time.Duration
	fixture         string
	allowNondurable bool
	cpuProfile      string
	memProfile      string
	baselineLZ4     bool
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	var clients string
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.adminURL, "db", getenv(envDatabase), "URL of a PostgreSQL role that may CREATE DATABASE (default $"+envDatabase+")")
	fs.StringVar(&clients, "clients", "16,4,1", "comma-separated numbers of clients (requests, or baseline INSERTs, in flight at once)")
	fs.IntVar(&o.rounds, "rounds", 3, "A/B rounds (ingest, then baseline) at each number of clients")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured length of each phase")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured run before each phase, at the same concurrency")
	fs.IntVar(&o.distinctPRs, "distinct-prs", 200, "deliveries are spread round-robin over this many PRs")
	fs.StringVar(&o.path, "path", pathOutbox, "receiver: outbox (acknowledge after storing the work; the dispatcher inserts jobs) or now (delivery and job in one transaction, as before)")
	fs.IntVar(&o.prClients, "pr-clients", 16, "clients for the 1 PR against -distinct-prs comparison (0: skip it)")
	fs.Float64Var(&o.rate, "rate", 200, "deliveries per second of the open-loop latency phase (0: skip it)")
	fs.DurationVar(&o.rateDuration, "rate-duration", 10*time.Second, "length of the open-loop latency phase")
	fs.StringVar(&o.fixture, "fixture", delivery.DefaultFixture(), "captured delivery body to send; <name>.headers.json must be beside it")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (receiver, dispatcher and load generator) to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a profile of the allocations of this process (sampled, as Go does by default) to this file at the end")
	fs.BoolVar(&o.baselineLZ4, "baseline-lz4", false, "compress the baseline's bodies with lz4, as qemgate does, instead of the server's default")
	fs.BoolVar(&o.allowNondurable, "allow-nondurable", false, "measure even when fsync or synchronous_commit is off (the numbers then say nothing about production)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench/ingest [flags]\n\nPOST /webhooks/gitea against one real delivery body per transaction, interleaved, on one PostgreSQL.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for f := range strings.SplitSeq(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-clients %q: each must be a whole number of at least 1", clients)
		}
		o.clients = append(o.clients, n)
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.adminURL == "":
		return o, fmt.Errorf("no database: pass -db or set %s (make bench-ingest starts a throwaway one)", envDatabase)
	case o.rounds < 1:
		return o, fmt.Errorf("-rounds %d: must be at least 1", o.rounds)
	case o.distinctPRs < 1:
		return o, fmt.Errorf("-distinct-prs %d: must be at least 1", o.distinctPRs)
	case o.duration <= 0 || o.warmup < 0 || o.prClients < 0 || o.rate < 0:
		return o, errors.New("-duration must be positive; -warmup, -pr-clients and -rate cannot be negative")
	case o.path != pathOutbox && o.path != pathNow:
		return o, fmt.Errorf("-path %q: outbox or now", o.path)
	}
	return o, nil
}

// phase is one measured run.
type phase struct {
	Kind    string      `json:"kind"` // ingest, baseline or rate
	Clients int         `json:"clients"`
	PRs     int         `json:"prs,omitempty"`
	Round   int         `json:"round"`
	Load    float64     `json:"load_avg_1m"`
	Result  load.Result `json:"result"`
	// DrainMS is how long the dispatcher still needed after the last
	// acknowledgement until every delivery's job was inserted.
	DrainMS float64 `json:"drain_ms,omitempty"`
	// MeanGroup is the mean number of deliveries per group commit.
	MeanGroup float64 `json:"mean_group,omitempty"`
	Cost      cost    `json:"cost"`
}

// comparison is ingest against baseline at one number of clients.
type comparison struct {
	Clients  int       `json:"clients"`
	Ratios   []float64 `json:"ratios"`
	Min      float64   `json:"min"`
	Median   float64   `json:"median"`
	Max      float64   `json:"max"`
	Ingest   float64   `json:"ingest_median_per_s"`
	Baseline float64   `json:"baseline_median_per_s"`
}

// report is the whole result, printed as the last line in JSON.
type report struct {
	Benchmark   string       `json:"benchmark"`
	Path        string       `json:"path"`
	BodyBytes   int          `json:"body_bytes"`
	Phases      []phase      `json:"phases"`
	Ratios      []comparison `json:"ratios"`
	OnePR       []float64    `json:"one_pr_per_s,omitempty"`
	ManyPRs     []float64    `json:"many_prs_per_s,omitempty"`
	PRRatio     float64      `json:"one_pr_over_many_median,omitempty"`
	Environment environment  `json:"environment"`
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
	many, err := delivery.NewSource(tpl, webhookSecret, o.distinctPRs)
	if err != nil {
		return fmt.Errorf("%s: %w", o.fixture, err)
	}
	one, err := delivery.NewSource(tpl, webhookSecret, 1)
	if err != nil {
		return fmt.Errorf("%s: %w", o.fixture, err)
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if o.memProfile != "" {
		defer func() {
			if err := writeHeapProfile(o.memProfile); err != nil {
				fmt.Fprintln(stderr, "bench/ingest:", err)
			}
		}()
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
	maxConns := slices.Max(append(slices.Clone(o.clients), o.prClients, 4)) + 4 // + the dispatcher's
	pool, err := db.open(ctx, maxConns)
	if err != nil {
		return err
	}
	defer pool.Close()

	rep := report{Benchmark: "webhook_ingest", Path: o.path, BodyBytes: many.BodyBytes()}
	if rep.Environment, err = describe(ctx, pool); err != nil {
		return err
	}
	env := rep.Environment
	fmt.Fprintf(stdout, "database %s on PostgreSQL %s (fsync=%s, synchronous_commit=%s, full_page_writes=%s), %d CPUs, GOMAXPROCS %d\n",
		db.name, env.PostgreSQL, env.Fsync, env.SynchronousCommit, env.FullPageWrites, env.CPUs, env.GOMAXPROCS)
	if (env.Fsync != "on" || env.SynchronousCommit == "off") && !o.allowNondurable {
		return fmt.Errorf("fsync=%s, synchronous_commit=%s: these numbers would say nothing about production (make bench-ingest starts a durable cluster; -allow-nondurable to measure anyway)", env.Fsync, env.SynchronousCommit)
	}
	baselineBody := "the server's default compression"
	if o.baselineLZ4 {
		baselineBody = "lz4"
	}
	fmt.Fprintf(stdout, "path %s; %s per phase after %s warm-up; %d-byte pull_request_sync bodies (baseline: %s); load average %s\n\n",
		o.path, o.duration, o.warmup, rep.BodyBytes, baselineBody, loadAvg())
	bl, err := newBaseline(ctx, pool, many.First(), o.baselineLZ4)
	if err != nil {
		return err
	}
	m := &meter{pool: pool}

	ingestPhase := func(src *delivery.Source, clients, prs, round int) (phase, error) {
		p := phase{Kind: "ingest", Clients: clients, PRs: prs, Round: round}
		if err := resetIngest(ctx, pool); err != nil {
			return p, err
		}
		ing, err := startIngest(ctx, pool, src, clients, o.path)
		if err != nil {
			return p, err
		}
		defer ing.close()
		p.Load = load1()
		start := m.start(ctx)
		p.Result, err = load.Run(ctx, load.Options{Concurrency: clients, Duration: o.duration, Warmup: o.warmup}, ing.deliver)
		if err != nil {
			return p, fmt.Errorf("ingest: %w", err)
		}
		drain, err := ing.drain(ctx, pool)
		if err != nil {
			return p, err
		}
		p.DrainMS = float64(drain.Microseconds()) / 1000
		p.MeanGroup = ing.meanGroup()
		p.Cost = m.stop(ctx, start, p.Result.Ops+p.Result.WarmupOps)
		return p, verifyIngest(ctx, pool, p)
	}
	baselinePhase := func(clients, round int) (phase, error) {
		p := phase{Kind: "baseline", Clients: clients, Round: round}
		if err := bl.reset(ctx); err != nil {
			return p, err
		}
		checkpoint(ctx, pool)
		p.Load = load1()
		start := m.start(ctx)
		p.Result, err = load.Run(ctx, load.Options{Concurrency: clients, Duration: o.duration, Warmup: o.warmup}, bl.insert)
		if err != nil {
			return p, fmt.Errorf("baseline: %w", err)
		}
		p.Cost = m.stop(ctx, start, p.Result.Ops+p.Result.WarmupOps)
		rows, err := bl.rows(ctx)
		if err != nil {
			return p, err
		}
		if want := p.Result.Ops + p.Result.WarmupOps; p.Result.Failures > 0 || rows != want {
			return p, fmt.Errorf("baseline: %d failures, %d INSERTs succeeded but %d rows stored; first error: %s", p.Result.Failures, want, rows, p.Result.FirstError)
		}
		return p, nil
	}
	record := func(p phase) {
		rep.Phases = append(rep.Phases, p)
		printPhase(stdout, p)
	}

	for _, c := range o.clients {
		cmp := comparison{Clients: c}
		var ingests, baselines []float64
		for r := 1; r <= o.rounds; r++ {
			a, err := ingestPhase(many, c, o.distinctPRs, r)
			if err != nil {
				return err
			}
			record(a)
			b, err := baselinePhase(c, r)
			if err != nil {
				return err
			}
			record(b)
			ingests, baselines = append(ingests, a.Result.PerSecond), append(baselines, b.Result.PerSecond)
			cmp.Ratios = append(cmp.Ratios, a.Result.PerSecond/b.Result.PerSecond)
		}
		cmp.Min, cmp.Median, cmp.Max = slices.Min(cmp.Ratios), median(cmp.Ratios), slices.Max(cmp.Ratios)
		cmp.Ingest, cmp.Baseline = median(ingests), median(baselines)
		rep.Ratios = append(rep.Ratios, cmp)
		fmt.Fprintf(stdout, "  => %d clients: ingest/baseline min %.2f  median %.2f  max %.2f   (medians %.0f acks/s, %.0f INSERTs/s)\n\n",
			c, cmp.Min, cmp.Median, cmp.Max, cmp.Ingest, cmp.Baseline)
	}

	if o.prClients > 0 {
		for r := 1; r <= o.rounds; r++ {
			a, err := ingestPhase(one, o.prClients, 1, r)
			if err != nil {
				return err
			}
			record(a)
			b, err := ingestPhase(many, o.prClients, o.distinctPRs, r)
			if err != nil {
				return err
			}
			record(b)
			rep.OnePR, rep.ManyPRs = append(rep.OnePR, a.Result.PerSecond), append(rep.ManyPRs, b.Result.PerSecond)
		}
		rep.PRRatio = median(rep.OnePR) / median(rep.ManyPRs)
		fmt.Fprintf(stdout, "  => %d clients: 1 PR %.0f acks/s, %d PRs %.0f acks/s (medians): 1 PR / many = %.2f\n\n",
			o.prClients, median(rep.OnePR), o.distinctPRs, median(rep.ManyPRs), rep.PRRatio)
	}

	if o.rate > 0 {
		p := phase{Kind: "rate", PRs: o.distinctPRs, Round: 1}
		if err := resetIngest(ctx, pool); err != nil {
			return err
		}
		ing, err := startIngest(ctx, pool, many, rateInFlight, o.path)
		if err != nil {
			return err
		}
		p.Load = load1()
		start := m.start(ctx)
		p.Result, err = load.RunRate(ctx, o.rate, o.rateDuration, rateInFlight, ing.deliver)
		if err == nil {
			var drain time.Duration
			drain, err = ing.drain(ctx, pool)
			p.DrainMS = float64(drain.Microseconds()) / 1000
			p.MeanGroup = ing.meanGroup()
		}
		ing.close()
		if err != nil {
			return fmt.Errorf("rate: %w", err)
		}
		p.Cost = m.stop(ctx, start, p.Result.Ops)
		p.Result.WarmupOps = 0
		if err := verifyIngest(ctx, pool, p); err != nil {
			return err
		}
		record(p)
	}

	line, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", line)
	return nil
}

// rateInFlight bounds the requests of the open-loop phase: far more than
// the pool's connections, so that a receiver that cannot keep up shows it
// as latency.
const rateInFlight = 512

// verifyIngest fails the run when the numbers do not mean what they say:
// every request acknowledged, every acknowledged delivery stored, every
// delivery's work dispatched, one pending job per PR.
func verifyIngest(ctx context.Context, pool *pgxpool.Pool, p phase) error {
	if p.Result.Failures > 0 {
		return fmt.Errorf("%s: %d of %d requests failed; first: %s", p.Kind, p.Result.Failures, p.Result.Ops, p.Result.FirstError)
	}
	deliveries, jobs, err := ingested(ctx, pool)
	if err != nil {
		return err
	}
	if acked := p.Result.Ops + p.Result.WarmupOps; deliveries != acked {
		return fmt.Errorf("%s: %d deliveries acknowledged but %d stored", p.Kind, acked, deliveries)
	}
	if want := min(int64(p.PRs), deliveries); jobs != want {
		return fmt.Errorf("%s: %d sync_pull jobs stored, want one per PR: %d", p.Kind, jobs, want)
	}
	return nil
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func printPhase(w io.Writer, p phase) {
	name := fmt.Sprintf("%-8s %2d clients", p.Kind, p.Clients)
	if p.Kind == "rate" {
		name = fmt.Sprintf("rate     %.0f/s    ", p.Result.PerSecond)
	}
	if p.PRs > 0 {
		name += fmt.Sprintf(" %3d PRs", p.PRs)
	} else {
		name += "        "
	}
	r := p.Result
	fmt.Fprintf(w, "%s  round %d  load %4.1f  %8.1f/s  ms p50 %6.2f p99 %6.2f max %7.2f", name, p.Round, p.Load, r.PerSecond, r.Latency.P50, r.Latency.P99, r.Latency.Max)
	fmt.Fprintf(w, "  | per op: Go CPU %.2f ms, PG CPU %.2f ms, WAL %.1f kB, %.0f allocs, %.1f kB alloc", p.Cost.GoCPUms, p.Cost.PGCPUms, p.Cost.WALkB, p.Cost.Allocs, p.Cost.AllocKB)
	if p.Kind != "baseline" {
		if p.MeanGroup > 0 {
			fmt.Fprintf(w, "  | groups of %.1f", p.MeanGroup)
		}
		fmt.Fprintf(w, "  | dispatcher drained %.0f ms after", p.DrainMS)
	}
	fmt.Fprintln(w)
}

// writeHeapProfile writes the allocations made so far (pprof's
// alloc_space and alloc_objects) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
