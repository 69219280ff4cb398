package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	env := func(k string) string {
		if k == envDatabase {
			return "postgres://from-env/postgres"
		}
		return ""
	}
	tests := []struct {
		name    string
		args    []string
		getenv  func(string) string
		want    func(o options) bool
		wantErr string
	}{
		{"defaults", nil, env, func(o options) bool {
			return o.adminURL == "postgres://from-env/postgres" && o.concurrency == 16 && o.duration == 10*time.Second &&
				o.maxConns == 16 && o.distinctPRs == 200 && o.requests == 0
		}, ""},
		{"requests replace the duration", []string{"-requests", "500", "-concurrency", "4"}, env, func(o options) bool {
			return o.requests == 500 && o.duration == 0 && o.maxConns == 4
		}, ""},
		{"flag beats environment", []string{"-db", "postgres://flag/x", "-max-conns", "3"}, env, func(o options) bool {
			return o.adminURL == "postgres://flag/x" && o.maxConns == 3
		}, ""},
		{"no database", nil, func(string) string { return "" }, nil, "no database"},
		{"zero concurrency", []string{"-concurrency", "0"}, env, nil, "-concurrency 0"},
		{"zero PRs", []string{"-distinct-prs", "0"}, env, nil, "-distinct-prs 0"},
		{"unbounded", []string{"-duration", "0"}, env, nil, "-duration must be positive"},
		{"stray argument", []string{"extra"}, env, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(tt.args, tt.getenv, io.Discard)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.True(t, tt.want(o), "%+v", o)
		})
	}
}

// A short run against the real server does what the long one does: every
// delivery acknowledged and stored, one job per PR, the baseline measured,
// and its scratch database gone afterwards.
func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	admin := pgtest.AdminURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"-concurrency", "3", "-duration", "300ms", "-warmup", "100ms", "-distinct-prs", "5"},
		func(k string) string {
			if k == envDatabase {
				return admin
			}
			return ""
		}, &out, &errOut)
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	require.Empty(t, errOut.String())

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep report
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &rep))
	require.Equal(t, "webhook_ingest", rep.Benchmark)
	require.Equal(t, 3, rep.Concurrency)
	require.Positive(t, rep.Ingest.Ops)
	require.Equal(t, map[string]int64{"202": rep.Ingest.Ops}, rep.Ingest.Outcomes)
	require.Positive(t, rep.Ingest.Latency.P50)
	require.LessOrEqual(t, rep.Ingest.Latency.P50, rep.Ingest.Latency.P99)
	require.Equal(t, rep.Ingest.Ops+rep.Ingest.WarmupOps, rep.Deliveries)
	require.EqualValues(t, 5, rep.Jobs)
	require.Positive(t, rep.Baseline.Ops)
	require.Zero(t, rep.Baseline.Failures)
	require.InDelta(t, rep.Ingest.PerSecond/rep.Baseline.PerSecond, rep.Ratio, 1e-9)
	require.NotEmpty(t, rep.Environment.PostgreSQL)
	require.Contains(t, out.String(), "ingest/baseline = ")

	name := strings.Fields(lines[0])[1]
	require.True(t, strings.HasPrefix(name, "qemgate_bench_"), lines[0])
	conn, err := pgx.Connect(ctx, admin)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var exists bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists))
	require.False(t, exists, "database %s is dropped", name)
}
