package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// benchPulls is the number of open PRs one poll cycle reads.
const benchPulls = 2000

// benchGiteaLatency is added to every Gitea API call, as a remote Gitea has.
const benchGiteaLatency = 2 * time.Millisecond

// BenchmarkGiteaPollCycle measures one poll_gitea cycle over 2,000 open PRs
// against the fake Gitea with 2 ms per call: wall time per cycle and Gitea
// API calls per cycle. "steady" is the common case (nothing drifted: only
// the paged list is read); "waiting_for_build" has every PR gated and its
// build not seen, so each gets the build-ready check (reviews); "all_new"
// is the first cycle of an empty database (one sync_pull per PR enqueued).
func BenchmarkGiteaPollCycle(b *testing.B) {
	srv := giteafake.New(giteafake.Options{Tokens: map[string]string{botToken: botLogin}})
	b.Cleanup(srv.Close)
	require.NoError(b, srv.AddUser(giteafake.User{Login: author}))
	require.NoError(b, srv.AddUser(giteafake.User{Login: botLogin}))
	require.NoError(b, srv.AddOrg(owner, "Products"))
	_, err := srv.AddRepo(giteafake.Repo{Owner: owner, Name: repoName, Admins: []string{botLogin}})
	require.NoError(b, err)
	for i := 0; i < benchPulls; i++ {
		_, err := srv.OpenPull(giteafake.PullOptions{Owner: owner, Repo: repoName, Author: author, HeadOwner: author,
			Head: fmt.Sprintf("b%d", i), Title: fmt.Sprintf("Update pkg%d", i), Files: map[string]string{fmt.Sprintf("pkg%d/x", i): "x"}})
		require.NoError(b, err)
	}
	fg, err := forge.New(forge.Config{URL: srv.URL(), Token: botToken, Timeout: 10 * time.Second})
	require.NoError(b, err)
	ctx := context.Background()
	listed, err := fg.ListOpenPulls(ctx, repo)
	require.NoError(b, err)
	require.Len(b, listed, benchPulls)

	pool := pgtest.New(b)
	ins, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // insert-only
	require.NoError(b, err)
	cfg := config.Default()
	cfg.Gitea.Repos = []config.Repo{{Name: repo, BuildReady: config.BuildReady{Review: &config.ReviewSignal{User: stagingBot, Body: "^Build successful"}}}}
	deps := jobs.Deps{
		Config: &cfg, Store: store.New(pool), Forge: fg,
		Metrics: jobs.NewMetrics(prometheus.NewRegistry()),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv.AddFault(giteafake.Fault{Path: "/api/v1/**", Latency: benchGiteaLatency})

	reset := func(b *testing.B, known, gated bool) {
		b.Helper()
		_, err := pool.Exec(ctx, `TRUNCATE pulls, river_job`)
		require.NoError(b, err)
		if !known {
			return
		}
		require.NoError(b, deps.Store.InTx(ctx, func(tx pgx.Tx) error {
			for _, pr := range listed {
				p := store.Pull{Repo: repo, Number: pr.Number, State: pr.State, HeadSHA: pr.HeadSHA, Title: pr.Title,
					GiteaUpdatedAt: &pr.UpdatedAt, BaseBranch: pr.BaseBranch}
				if _, err := store.UpsertPull(ctx, tx, p); err != nil {
					return err
				}
				if err := store.SetGating(ctx, tx, repo, pr.Number, store.Gating{Priority: 550, Gated: gated}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	cycle := func(b *testing.B, known, gated bool, wantSynced int) {
		reset(b, known, gated)
		var calls int
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if !known {
				b.StopTimer()
				_, err := pool.Exec(ctx, `TRUNCATE river_job`)
				require.NoError(b, err)
				b.StartTimer()
			}
			srv.ResetRequests()
			res, err := jobs.PollGitea(ctx, deps, ins)
			require.NoError(b, err)
			calls += len(srv.Requests())
			require.Equal(b, benchPulls, res.Listed)
			require.Equal(b, wantSynced, res.Synced)
		}
		b.ReportMetric(float64(calls)/float64(b.N), "api_calls/op")
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/cycle")
	}
	b.Run("steady", func(b *testing.B) { cycle(b, true, false, 0) })
	b.Run("waiting_for_build", func(b *testing.B) { cycle(b, true, true, 0) })
	b.Run("all_new", func(b *testing.B) { cycle(b, false, false, benchPulls) })
}
