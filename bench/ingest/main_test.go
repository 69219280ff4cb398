package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
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
			return o.adminURL == "postgres://from-env/postgres" && slices.Equal(o.clients, []int{16, 4, 1}) && o.rounds == 3 &&
				o.duration == 5*time.Second && o.distinctPRs == 200 && o.path == pathOutbox && o.prClients == 16 && o.rate == 200
		}, ""},
		{"clients list", []string{"-clients", "1, 8", "-path", "now"}, env, func(o options) bool {
			return slices.Equal(o.clients, []int{1, 8}) && o.path == pathNow
		}, ""},
		{"flag beats environment", []string{"-db", "postgres://flag/x"}, env, func(o options) bool {
			return o.adminURL == "postgres://flag/x"
		}, ""},
		{"no database", nil, func(string) string { return "" }, nil, "no database"},
		{"zero clients", []string{"-clients", "4,0"}, env, nil, "-clients"},
		{"zero rounds", []string{"-rounds", "0"}, env, nil, "-rounds 0"},
		{"zero PRs", []string{"-distinct-prs", "0"}, env, nil, "-distinct-prs 0"},
		{"unbounded", []string{"-duration", "0"}, env, nil, "-duration must be positive"},
		{"unknown path", []string{"-path", "fast"}, env, nil, "-path"},
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
// delivery acknowledged, stored and dispatched, one job per PR, the baseline
// measured, the ratios printed, and its scratch database gone afterwards.
// The test cluster runs with fsync off, which the command refuses unless
// told otherwise.
func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	admin := pgtest.AdminURL(t)
	getenv := func(k string) string {
		if k == envDatabase {
			return admin
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"-clients", "2", "-rounds", "1", "-duration", "200ms"}, getenv, &out, &errOut)
	require.ErrorContains(t, err, "fsync=off")

	for _, path := range []string{pathOutbox, pathNow} {
		out.Reset()
		err = run(ctx, []string{"-allow-nondurable", "-path", path, "-clients", "3,1", "-rounds", "2", "-duration", "200ms", "-warmup", "50ms",
			"-distinct-prs", "5", "-pr-clients", "2", "-rate", "50", "-rate-duration", "300ms"}, getenv, &out, &errOut)
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		require.Empty(t, errOut.String())

		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var rep report
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &rep))
		require.Equal(t, path, rep.Path)
		require.Len(t, rep.Ratios, 2)
		for _, c := range rep.Ratios {
			require.Len(t, c.Ratios, 2)
			require.LessOrEqual(t, c.Min, c.Median)
			require.LessOrEqual(t, c.Median, c.Max)
		}
		require.Len(t, rep.OnePR, 2)
		require.Positive(t, rep.PRRatio)
		// 2 rounds × 2 client counts × (ingest + baseline), 2 × 2 PR phases, 1 rate phase.
		require.Len(t, rep.Phases, 13)
		for _, p := range rep.Phases {
			require.Positive(t, p.Result.Ops, "%+v", p)
			require.Zero(t, p.Result.Failures, "%+v", p)
		}
		require.Contains(t, out.String(), "ingest/baseline min")

		name := strings.Fields(lines[0])[1]
		require.True(t, strings.HasPrefix(name, "qemgate_bench_"), lines[0])
		conn, err := pgx.Connect(ctx, admin)
		require.NoError(t, err)
		var exists bool
		require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists))
		conn.Close(ctx)
		require.False(t, exists, "database %s is dropped", name)
	}
}
