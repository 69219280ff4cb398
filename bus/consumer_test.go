package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/internal/fixture"
	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/internal/rabbittest"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// TestMain stops the shared broker and drops the template database.
func TestMain(m *testing.M) { os.Exit(rabbittest.Run(pgRun{m})) }

type pgRun struct{ m *testing.M }

func (p pgRun) Run() int { return pgtest.Run(p.m) }

// jobDone is openQA's job.done body (Plugin/AMQP.pm), as published.
const jobDone = `{"ARCH":"x86_64","BUILD":":git:1:openssl-3","FLAVOR":"Online-Incidents","ISO":"SLES-16.0-Online-x86_64.iso","MACHINE":"64bit","TEST":"mau-extratests","bugref":null,"failedmodules":[],"group_id":414,"id":%d,"newbuild":null,"reason":null,"remaining":0,"result":"%s"}`

type rig struct {
	t        *testing.T
	broker   *rabbittest.Broker
	pool     *pgxpool.Pool
	cfg      *config.Config
	consumer *Consumer
	metrics  *Metrics
	exchange string
	ingest   intake.Ingester
	stop     func()
}

type rigOption func(*rig)

// withIngest wraps the real ingest, to inject failures of the database.
func withIngest(wrap func(intake.Ingester) intake.Ingester) rigOption {
	return func(r *rig) { r.ingest = wrap(r.ingest) }
}

// newRig starts a consumer of its own queue on broker, storing into a fresh
// database through the real ingest (River jobs inserted, never worked).
func newRig(t *testing.T, broker *rabbittest.Broker, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, broker: broker, pool: pgtest.New(t)}
	name := strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-")
	r.exchange = "pubsub-" + name
	broker.DeclareTopicExchange(t, r.exchange)

	cfg := config.Default()
	cfg.Gitea.BotLogin = "qam-openqa-review"
	cfg.Gitea.Repos = []config.Repo{{Name: "products/SLFO"}}
	cfg.AMQP.URL = broker.URL
	cfg.AMQP.Exchange = r.exchange
	cfg.AMQP.Queue = "qemgate-" + name
	cfg.AMQP.Workers = 2
	cfg.AMQP.Prefetch = 8
	require.NoError(t, cfg.Resolve())
	r.cfg = &cfg

	workers := river.NewWorkers()
	jobs.Register(workers, jobs.Deps{})
	rc, err := river.NewClient(riverpgxv5.New(r.pool), &river.Config{Workers: workers})
	require.NoError(t, err)
	in := &jobs.Ingest{Store: store.New(r.pool), River: rc}
	dctx, stopDispatch := context.WithCancel(context.Background())
	dispatched := make(chan struct{})
	go func() { defer close(dispatched); in.RunDispatcher(dctx, 50*time.Millisecond) }()
	t.Cleanup(func() { stopDispatch(); <-dispatched })
	r.ingest = in
	for _, o := range opts {
		o(r)
	}
	r.metrics = NewMetrics(prometheus.NewRegistry())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r.consumer = New(r.cfg, intake.Receiver{Config: r.cfg, Ingest: r.ingest}, logger, r.metrics)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.consumer.Run(ctx) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Error("the consumer did not stop within a minute")
			}
		})
	}
	t.Cleanup(r.stop)
	r.waitConnected()
	return r
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (r *rig) waitConnected() {
	r.t.Helper()
	// A reconnect after a long outage waits up to 30 s of backoff.
	require.Eventually(r.t, func() bool { return r.consumer.State() == "connected" }, 2*time.Minute, 20*time.Millisecond,
		"the consumer never connected: %s", r.consumer.State())
}

func (r *rig) publish(key, body string, opts ...rabbittest.PublishOption) {
	r.t.Helper()
	r.broker.Publish(r.t, r.exchange, key, []byte(body), opts...)
}

// waitDeliveries waits until n deliveries are stored and the queue is
// drained: nothing ready, nothing unacknowledged.
func (r *rig) waitDeliveries(n int) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		return r.count(`SELECT count(*) FROM deliveries`) == n && r.broker.QueueReady(r.t, r.cfg.AMQP.Queue) == 0 && r.consumer.holding() == 0
	}, time.Minute, 25*time.Millisecond, "want %d deliveries, an empty queue and nothing held", n)
}

func (r *rig) count(sql string, args ...any) int {
	r.t.Helper()
	var n int
	require.NoError(r.t, r.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

type row struct {
	source, event, eventType, outcome, reason, repo string
	jobs                                            int
}

func (r *rig) delivery(idLike string) row {
	r.t.Helper()
	// An acknowledged message's jobs are inserted by the dispatcher.
	require.Eventually(r.t, func() bool {
		n, err := store.PendingWork(context.Background(), r.pool)
		return err == nil && n == 0
	}, 30*time.Second, 10*time.Millisecond, "delivery work still pending")
	var d row
	require.NoError(r.t, r.pool.QueryRow(context.Background(), `SELECT d.source, d.event, d.event_type, d.outcome, d.reason, d.repo, cardinality(coalesce(w.job_ids, d.job_ids))
		FROM deliveries d LEFT JOIN delivery_work w ON w.delivery = d.id WHERE d.delivery_id LIKE $1`, idLike).Scan(&d.source, &d.event, &d.eventType, &d.outcome, &d.reason, &d.repo, &d.jobs))
	return d
}

// TestConsumerStoresEachMessageLikeAWebhook publishes the real shapes and
// checks what is stored, what work follows, and that every message is
// acknowledged.
func TestConsumerStoresEachMessageLikeAWebhook(t *testing.T) {
	t.Parallel()
	r := newRig(t, rabbittest.Shared(t))
	_, err := r.pool.Exec(context.Background(), `INSERT INTO test_runs (repo, number, sha, distri, version, flavor, arch, build, job_ids)
		VALUES ('products/SLFO', 1, 'abc', 'sle', '16.0', 'Online-Incidents', 'x86_64', ':git:1:openssl-3', '{7001}')`)
	require.NoError(t, err)

	pr := fixture.GiteaDelivery(t, "pull_request_opened")
	r.publish("suse.openqa.job.done", fmt.Sprintf(jobDone, 7001, "failed"))
	r.publish("suse.openqa.job.done", fmt.Sprintf(jobDone, 9999, "passed")) // another team's job
	r.publish("suse.openqa.comment.create", `{"id":3,"job_id":7001,"group_id":414,"parent_group_id":null,"user":"squad","text":"@review:acceptable_for:submission_1:bsc#1","created":"2026-12-01T10:00:00Z","updated":"2026-12-01T10:00:00Z"}`)
	r.publish("suse.src.products.pull_request.opened", string(pr.Body))
	r.publish("suse.openqa.job.done", `this is not JSON`) // poison
	r.waitDeliveries(5)

	mine := r.delivery("suse.openqa.job.done/job-7001-%")
	require.Equal(t, row{source: "openqa-amqp", event: "suse.openqa.job.done", eventType: "job_done", outcome: "accepted", jobs: 1}, mine)
	foreign := r.delivery("suse.openqa.job.done/job-9999-%")
	require.Equal(t, "ignored", foreign.outcome)
	require.Contains(t, foreign.reason, "not one qemgate follows")
	require.Zero(t, foreign.jobs)
	comment := r.delivery("suse.openqa.comment.create/job-7001-%")
	require.Equal(t, "accepted", comment.outcome)
	require.Equal(t, "comment_create", comment.eventType)
	gitea := r.delivery("suse.src.products.pull_request.opened/%")
	require.Equal(t, row{source: "gitea-amqp", event: "suse.src.products.pull_request.opened", eventType: "pull_request", outcome: "accepted", repo: "products/SLFO", jobs: 1}, gitea)
	poison := r.delivery("suse.openqa.job.done/unreadable/%")
	require.Equal(t, "bad_request", poison.outcome)

	require.Equal(t, 1, r.count(`SELECT count(*) FROM river_job WHERE kind = 'sync_openqa_job' AND args->>'id' = '7001'`),
		"the job and its comment are one pending sync")
	require.Equal(t, 1, r.count(`SELECT count(*) FROM river_job WHERE kind = 'sync_pull'`))
	require.Zero(t, r.count(`SELECT count(*) FROM river_job WHERE args->>'id' = '9999'`))

	require.Equal(t, 1.0, testutil.ToFloat64(r.metrics.messages.WithLabelValues("openqa-amqp", "job_done", "accepted")))
	require.Equal(t, 1.0, testutil.ToFloat64(r.metrics.messages.WithLabelValues("openqa-amqp", "job_done", "ignored")))
	require.Equal(t, 1.0, testutil.ToFloat64(r.metrics.messages.WithLabelValues("openqa-amqp", "job_done", "bad_request")))
	require.Equal(t, 1.0, testutil.ToFloat64(r.metrics.messages.WithLabelValues("gitea-amqp", "pull_request", "accepted")))
	require.Equal(t, 1.0, testutil.ToFloat64(r.metrics.connected))
}

// TestConsumerRedeliveryIsOneDelivery: a message delivered again (qemgate
// died before its acknowledgement) collapses into the stored row.
func TestConsumerRedeliveryIsOneDelivery(t *testing.T) {
	t.Parallel()
	r := newRig(t, rabbittest.Shared(t))
	body := fmt.Sprintf(jobDone, 42, "passed")
	r.publish("suse.openqa.job.done", body)
	r.waitDeliveries(1)
	r.publish("suse.openqa.job.done", body)
	require.Eventually(t, func() bool {
		return testutil.ToFloat64(r.metrics.messages.WithLabelValues("openqa-amqp", "job_done", "duplicate")) == 1
	}, time.Minute, 20*time.Millisecond)
	r.waitDeliveries(1)

	// With a message id, the id names the delivery, whatever the body.
	r.publish("suse.openqa.job.done", body, rabbittest.MessageID("m-1"))
	r.publish("suse.openqa.job.done", body, rabbittest.MessageID("m-1"))
	r.waitDeliveries(2)
}

// TestConsumerHoldsMessagesWhileTheDatabaseIsAway: a message that cannot
// be stored is neither acknowledged nor lost; it is stored once the
// database answers again.
func TestConsumerHoldsMessagesWhileTheDatabaseIsAway(t *testing.T) {
	t.Parallel()
	flaky := &flakyIngest{fail: 3}
	r := newRig(t, rabbittest.Shared(t), withIngest(func(in intake.Ingester) intake.Ingester { flaky.Ingester = in; return flaky }))
	r.publish("suse.src.products.pull_request.opened", string(fixture.GiteaDelivery(t, "pull_request_opened").Body))
	require.Eventually(t, func() bool {
		return flaky.calls.Load() >= 2 && r.consumer.holding() == 1 && r.metrics.oldest() > 0
	}, time.Minute, 10*time.Millisecond, "held, unacknowledged, while the store fails")
	r.waitDeliveries(1)
	require.GreaterOrEqual(t, testutil.ToFloat64(r.metrics.messages.WithLabelValues("gitea-amqp", "other", "error")), 3.0)
	require.Equal(t, 1.0, testutil.ToFloat64(r.metrics.messages.WithLabelValues("gitea-amqp", "pull_request", "accepted")))
	require.Zero(t, r.metrics.oldest())
}

type flakyIngest struct {
	intake.Ingester
	fail  int64
	calls atomic.Int64
}

func (f *flakyIngest) Accept(ctx context.Context, d *store.Delivery, intent jobs.Intent) (jobs.Accepted, error) {
	if f.calls.Add(1) <= f.fail {
		return jobs.Accepted{}, errors.New("connection refused (injected)")
	}
	return f.Ingester.Accept(ctx, d, intent)
}

// TestConsumerSurvivesABrokerRestart: the consumer reconnects by itself,
// and what was published while it was away is in the durable queue.
func TestConsumerSurvivesABrokerRestart(t *testing.T) {
	t.Parallel()
	broker := rabbittest.New(t)
	r := newRig(t, broker)
	r.publish("suse.openqa.job.done", fmt.Sprintf(jobDone, 1, "passed"))
	r.waitDeliveries(1)

	broker.Stop(t)
	require.Eventually(t, func() bool { return strings.HasPrefix(r.consumer.State(), "disconnected") }, time.Minute, 20*time.Millisecond)
	require.Equal(t, 0.0, testutil.ToFloat64(r.metrics.connected))
	broker.Start(t)
	r.waitConnected()
	require.GreaterOrEqual(t, testutil.ToFloat64(r.metrics.reconnects), 1.0)
	r.publish("suse.openqa.job.done", fmt.Sprintf(jobDone, 2, "passed"))
	r.waitDeliveries(2)

	// Stopped: messages wait in the durable queue for the next start.
	r.stop()
	r.publish("suse.openqa.job.done", fmt.Sprintf(jobDone, 3, "passed"))
	require.Equal(t, 1, broker.QueueReady(t, r.cfg.AMQP.Queue))
	require.Equal(t, 2, r.count(`SELECT count(*) FROM deliveries`))
}
