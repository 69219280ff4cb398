package handlers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/fixture"
	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

const (
	fixtureSecret = "fixture-secret"
	adminToken    = "admin-test-token"
)

type testBundle struct {
	pool    *pgxpool.Pool
	river   *river.Client[pgx.Tx]
	metrics *Metrics
	cfg     config.Config
}

func testConfig() config.Config {
	cfg := config.Default()
	cfg.DatabaseURL = "postgres://unused"
	cfg.AdminToken = adminToken
	cfg.Gitea.WebhookSecrets = []string{"previous-secret", fixtureSecret}
	cfg.Gitea.BotLogin = "qam-openqa-review"
	cfg.Gitea.Repos = []config.Repo{{Name: "products/SLFO"}}
	return cfg
}

// setup returns the whole HTTP surface on a fresh database, with an
// insert-only River client: jobs are enqueued, never worked.
func setup(t testing.TB, mutate ...func(*config.Config)) (http.Handler, *testBundle) {
	t.Helper()
	cfg := testConfig()
	for _, m := range mutate {
		m(&cfg)
	}
	pool := pgtest.New(t)
	workers := river.NewWorkers()
	jobs.Register(workers, jobs.Deps{})
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers})
	require.NoError(t, err)
	metrics := NewMetrics(prometheus.NewRegistry())
	st := store.New(pool)
	in := &jobs.Ingest{Store: st, River: rc}
	dctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); in.RunDispatcher(dctx, 50*time.Millisecond) }()
	t.Cleanup(func() { stop(); <-done })
	h := NewServer(Deps{
		Config:  cfg,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:   st,
		Ingest:  in,
		Metrics: metrics,
		Ready:   func(context.Context) (map[string]string, error) { return nil, nil },
	})
	return h, &testBundle{pool: pool, river: rc, metrics: metrics, cfg: cfg}
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// replay sends a captured delivery exactly as Gitea did: same bytes, same headers.
func replay(h http.Handler, d fixture.Delivery, edit ...func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/gitea", bytes.NewReader(d.Body))
	for k, v := range d.Headers {
		req.Header.Set(k, v)
	}
	for _, e := range edit {
		e(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), "body: %s", rec.Body.String())
	return m
}

// riverJob is a job row as the tests look at it.
type riverJob struct {
	ID    int64
	Kind  string
	State string
	Args  map[string]any
}

func riverJobs(t *testing.T, pool *pgxpool.Pool) []riverJob {
	t.Helper()
	waitDispatched(t, pool)
	rows, err := pool.Query(context.Background(), `SELECT id, kind, state::text, args FROM river_job ORDER BY id`)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (riverJob, error) {
		var j riverJob
		var args []byte
		if err := r.Scan(&j.ID, &j.Kind, &j.State, &args); err != nil {
			return j, err
		}
		return j, json.Unmarshal(args, &j.Args)
	})
	require.NoError(t, err)
	return out
}

func countRows(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

// waitDispatched waits until the dispatcher has inserted the jobs of every
// acknowledged delivery: a 202 promises the work, not that its job exists.
func waitDispatched(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	require.Eventually(t, func() bool {
		n, err := store.PendingWork(context.Background(), pool)
		return err == nil && n == 0
	}, 30*time.Second, 10*time.Millisecond, "delivery work still pending")
}
