package e2e

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/bench/load"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/internal/demo"
)

// reactionIterations is how many PRs BenchmarkReaction drives through
// (QEMGATE_REACTION_ITERATIONS overrides it).
const reactionIterations = 60

// BenchmarkReaction measures how fast qemgate reacts, end to end through
// the fakes, with the configuration's River fetch settings: from the
// staging bot's "Build successful" review in Gitea to the first isos POST
// openQA receives (webhook → ingest → dispatcher → sync_pull → schedule →
// POST), and from an openQA job finishing to the commit status Gitea
// receives for it (job-done hook → ingest → dispatcher → sync_openqa_job →
// evaluate → report). Each PR is one build-ready sample and three job-done
// samples; everything settles between samples, so each is measured alone.
// One PR first goes through unmeasured (connections, prepared statements).
// It ignores b.N: run it with -benchtime 1x. QEMGATE_WORKERS_FETCH_COOLDOWN
// and QEMGATE_WORKERS_FETCH_POLL_INTERVAL override the configuration's
// River fetch settings, to compare them.
//
//	scripts/pg.sh QEMGATE_TEST_DATABASE_URL go test ./e2e/ -run '^$' -bench Reaction -benchtime 1x -v
func BenchmarkReaction(b *testing.B) {
	n := reactionIterations
	if v, err := strconv.Atoi(os.Getenv("QEMGATE_REACTION_ITERATIONS")); err == nil && v > 0 {
		n = v
	}
	w := newWorld(b, func(c *config.Config) {
		for env, d := range map[string]*config.Duration{
			"QEMGATE_WORKERS_FETCH_COOLDOWN":      &c.Workers.FetchCooldown,
			"QEMGATE_WORKERS_FETCH_POLL_INTERVAL": &c.Workers.FetchPollInterval,
		} {
			if v, err := time.ParseDuration(os.Getenv(env)); err == nil {
				*d = config.Duration(v)
			}
		}
	})
	var buildReady, jobDone []time.Duration
	until := func(what string, cond func() bool) time.Duration {
		start := time.Now()
		for !cond() {
			if time.Since(start) > time.Minute {
				b.Fatalf("%s: not within a minute", what)
			}
			time.Sleep(200 * time.Microsecond)
		}
		return time.Since(start)
	}
	for i := range n + 1 {
		pr, err := w.gitea.OpenPull(giteafake.PullOptions{Owner: owner, Repo: repoName, Author: demo.Author, HeadOwner: demo.Author,
			Head: fmt.Sprintf("reaction-%d", i), Title: fmt.Sprintf("Update openssl-3 (%d)", i), Files: map[string]string{demo.PatchinfoPath: demo.Patchinfo}})
		require.NoError(b, err)
		require.NoError(b, w.gitea.RequestReview(owner, repoName, pr.Number, demo.Requester, nil, []string{demo.ReviewTeam}))
		w.settle()

		posts := len(w.openqa.ISOPosts())
		start := time.Now()
		w.buildSucceeds(pr.Number, pr.HeadSHA)
		until("first isos POST", func() bool { return len(w.openqa.ISOPosts()) > posts })
		if i > 0 {
			buildReady = append(buildReady, time.Since(start))
		}
		w.settle()

		for _, id := range w.jobsOf(pr.Number, pr.HeadSHA) {
			statuses := len(w.ourStatuses(pr.HeadSHA))
			start := time.Now()
			w.finish("passed", id)
			until("commit status", func() bool { return len(w.ourStatuses(pr.HeadSHA)) > statuses })
			if i > 0 {
				jobDone = append(jobDone, time.Since(start))
			}
			w.settle()
		}
	}
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"build_ready_to_isos", buildReady}, {"job_done_to_status", jobDone}} {
		s := load.Summarize(slices.Clone(m.d))
		b.ReportMetric(s.P50, m.name+"_p50-ms")
		b.ReportMetric(s.P99, m.name+"_p99-ms")
		b.Logf("%s: %d samples, ms p50 %.1f p90 %.1f p99 %.1f max %.1f mean %.1f (workers.fetch_cooldown %s, fetch_poll_interval %s)",
			m.name, len(m.d), s.P50, s.P90, s.P99, s.Max, s.Mean, w.cfg.Workers.FetchCooldown.D(), w.cfg.Workers.FetchPollInterval.D())
	}
}
