package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/bench/delivery"
	"github.com/qemgate/qemgate/bench/load"
	"github.com/qemgate/qemgate/internal/fixture"
	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// ingestBenchConcurrency is how many deliveries are in flight at once, whatever
// the number of CPUs, so that runs on different machines compare; it is
// the default of go run ./bench/ingest.
const (
	ingestBenchConcurrency = 16
	ingestBenchPRs         = 200
)

// BenchmarkGiteaIngest measures POST /webhooks/gitea over loopback HTTP
// against a real PostgreSQL at a fixed concurrency ("ack": ns/op is the
// inverse of throughput, p50-ms and p99-ms the acknowledgement latency), and
// the INSERT of the same 17.7 kB body into a table with a primary key, one
// per transaction, at the same concurrency ("insert_baseline"). The
// dispatcher runs beside the receiver, as in production. It runs on the
// test cluster (fsync off); make bench-ingest measures with production
// durability, interleaved, and docs/benchmarks.md has those numbers.
func BenchmarkGiteaIngest(b *testing.B) {
	ctx := context.Background()
	pc, err := pgxpool.ParseConfig(pgtest.URL(b))
	require.NoError(b, err)
	// One connection per worker, in both cases: neither waits for the pool.
	pc.MaxConns = ingestBenchConcurrency
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	require.NoError(b, err)
	b.Cleanup(pool.Close) // before pgtest drops the database

	workers := river.NewWorkers()
	jobs.Register(workers, jobs.Deps{})
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers})
	require.NoError(b, err)
	st := store.New(pool)
	in := &jobs.Ingest{Store: st, River: rc}
	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); in.RunDispatcher(dctx, jobs.DispatchSweep) }()
	b.Cleanup(func() { stop(); <-done })
	srv := httptest.NewServer(NewServer(Deps{
		Config:  testConfig(),
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Store:   st,
		Ingest:  in,
		Metrics: NewMetrics(prometheus.NewRegistry()),
		Ready:   func(context.Context) (map[string]string, error) { return nil, nil },
	}))
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: ingestBenchConcurrency, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)

	d := fixture.GiteaDelivery(b, "pull_request_synchronized")
	src, err := delivery.NewSource(delivery.Template{Body: d.Body, Headers: d.Headers}, fixtureSecret, ingestBenchPRs)
	require.NoError(b, err)

	b.Run("ack", func(b *testing.B) {
		runIngestBench(b, func(ctx context.Context, seq int64) (string, error) {
			body, h := src.Next(seq)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/webhooks/gitea", bytes.NewReader(body))
			if err != nil {
				return "", err
			}
			req.Header = h
			resp, err := client.Do(req)
			if err != nil {
				return "", err
			}
			answer, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			code := strconv.Itoa(resp.StatusCode)
			if err == nil && resp.StatusCode != http.StatusAccepted {
				err = fmt.Errorf("HTTP %s: %s", code, answer)
			}
			return code, err
		})
	})

	_, err = pool.Exec(ctx, `CREATE TABLE bench_delivery (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body bytea NOT NULL)`)
	require.NoError(b, err)
	b.Run("insert_baseline", func(b *testing.B) {
		runIngestBench(b, func(ctx context.Context, seq int64) (string, error) {
			_, err := pool.Exec(ctx, `INSERT INTO bench_delivery (body) VALUES ($1)`, d.Body)
			return "", err
		})
	})
}

// runIngestBench runs b.N operations at ingestBenchConcurrency and reports their
// latency percentiles next to ns/op.
func runIngestBench(b *testing.B, op load.Op) {
	b.ResetTimer()
	res, err := load.Run(context.Background(), load.Options{Concurrency: ingestBenchConcurrency, Ops: int64(b.N)}, op)
	b.StopTimer()
	require.NoError(b, err)
	require.Zero(b, res.Failures, "first failure: %s", res.FirstError)
	require.EqualValues(b, b.N, res.Ops)
	b.ReportMetric(res.Latency.P50, "p50-ms")
	b.ReportMetric(res.Latency.P99, "p99-ms")
	b.ReportMetric(res.PerSecond, "ops/s")
}
