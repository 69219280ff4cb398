package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/fixture"
	"github.com/qemgate/qemgate/store"
)

// Every captured delivery, replayed byte for byte, is stored with what it
// says and enqueues the job it implies.
func TestGiteaWebhookFixtures(t *testing.T) {
	t.Parallel()
	const headOpened = "a0227b0e"
	tests := []struct {
		fixture   string
		eventType string
		action    string
		number    int64
		sender    string
		shaPrefix string
		jobKind   string
		jobArgs   map[string]any
	}{
		{"pull_request_opened", "pull_request", "opened", 1, "carol", headOpened, "sync_pull", map[string]any{"repo": "products/SLFO", "number": float64(1)}},
		{"pull_request_synchronized", "pull_request_sync", "synchronized", 1, "carol", "2c8a2689", "sync_pull", map[string]any{"repo": "products/SLFO", "number": float64(1)}},
		{"pull_request_review_requested_team", "pull_request_review_request", "review_requested", 1, "alice", "", "sync_pull", map[string]any{"repo": "products/SLFO", "number": float64(1)}},
		{"pull_request_review_approved", "pull_request_review_approved", "reviewed", 1, "qam-bot", "", "sync_pull", map[string]any{"repo": "products/SLFO", "number": float64(1)}},
		{"pull_request_comment_created", "pull_request_comment", "created", 1, "bob", "", "sync_pull", map[string]any{"repo": "products/SLFO", "number": float64(1)}},
		// No PR with that head is known yet, so Gitea is asked which PRs it heads.
		{"status_success", "status", "", 0, "ci-bot", "2c8a2689", "sync_commit", map[string]any{"repo": "products/SLFO"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			h, b := setup(t)
			d := fixture.GiteaDelivery(t, tt.fixture)
			rec := replay(h, d)
			require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
			ack := decode(t, rec)
			require.Equal(t, d.Headers["X-Gitea-Delivery"], ack["delivery"])
			require.Equal(t, true, ack["queued"], "the answer says the work is stored")

			list, err := store.ListDeliveries(context.Background(), b.pool, store.DeliveryFilter{})
			require.NoError(t, err)
			require.Len(t, list, 1)
			row, err := store.GetDelivery(context.Background(), b.pool, list[0].ID)
			require.NoError(t, err)
			require.Equal(t, "gitea", row.Source)
			require.Equal(t, d.Headers["X-Gitea-Delivery"], row.DeliveryID)
			require.Equal(t, d.Headers["X-Gitea-Event"], row.Event)
			require.Equal(t, tt.eventType, row.EventType)
			require.Equal(t, tt.action, row.Action)
			require.Equal(t, "products/SLFO", row.Repo)
			if tt.number == 0 {
				require.Nil(t, row.Number)
			} else {
				require.Equal(t, tt.number, *row.Number)
			}
			require.Equal(t, tt.sender, row.Sender)
			require.True(t, strings.HasPrefix(row.SHA, tt.shaPrefix), "sha %q", row.SHA)
			require.Equal(t, store.OutcomeAccepted, row.Outcome)
			require.True(t, bytes.Equal(d.Body, row.Body), "the exact bytes are stored")
			for k := range row.Headers {
				require.NotContains(t, strings.ToLower(k), "signature", "signatures are never stored")
			}
			require.Equal(t, d.Headers["X-Gitea-Delivery"], row.Headers["X-Gitea-Delivery"])

			js := riverJobs(t, b.pool)
			require.Len(t, js, 1)
			require.Equal(t, tt.jobKind, js[0].Kind)
			row, err = store.GetDelivery(context.Background(), b.pool, list[0].ID)
			require.NoError(t, err)
			require.Equal(t, []int64{js[0].ID}, row.JobIDs, "the record names the job the dispatcher inserted")
			for k, v := range tt.jobArgs {
				require.Equal(t, v, js[0].Args[k], "job arg %s", k)
			}
			require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.deliveries.WithLabelValues("gitea", tt.eventType, "accepted")))
		})
	}
}

// A status event for a commit that heads a known open PR syncs that PR.
func TestGiteaWebhookStatusForKnownPull(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	_, err := store.UpsertPull(context.Background(), b.pool, store.Pull{
		Repo: "products/SLFO", Number: 1, State: "open", HeadSHA: "2c8a268954a01e42748e9153707e65808dee20e4"})
	require.NoError(t, err)
	d := fixture.GiteaDelivery(t, "status_success")
	require.Contains(t, string(d.Body), `"sha": "2c8a268954a01e42748e9153707e65808dee20e4"`, "fixture's head commit")
	rec := replay(h, d)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	js := riverJobs(t, b.pool)
	require.Len(t, js, 1)
	require.Equal(t, "sync_pull", js[0].Kind)
	require.Equal(t, float64(1), js[0].Args["number"])
}

func TestGiteaWebhookBadInput(t *testing.T) {
	t.Parallel()
	opened := fixture.GiteaDelivery(t, "pull_request_opened")
	validSig := func(body []byte) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("X-Gitea-Signature", sign(fixtureSecret, body))
			r.Header.Del("X-Hub-Signature-256")
		}
	}
	withBody := func(body string) func(*http.Request) {
		return func(r *http.Request) {
			r.Body = ioNopCloser(body)
			r.ContentLength = int64(len(body))
			validSig([]byte(body))(r)
		}
	}
	tests := []struct {
		name     string
		edit     []func(*http.Request)
		mutate   func(*config.Config)
		status   int
		outcome  string
		stored   string // outcome of the stored row, "" when nothing is stored
		contains string
	}{
		{name: "no signature", edit: []func(*http.Request){func(r *http.Request) {
			r.Header.Del("X-Gitea-Signature")
			r.Header.Del("X-Hub-Signature-256")
			r.Header.Del("X-Gogs-Signature")
		}}, status: 401, outcome: "bad_signature", contains: "signature"},
		{name: "empty signatures of a hook without secret", edit: []func(*http.Request){func(r *http.Request) {
			r.Header.Set("X-Gitea-Signature", "")
			r.Header.Set("X-Hub-Signature-256", "sha256=")
		}}, status: 401, outcome: "bad_signature"},
		{name: "wrong secret", edit: []func(*http.Request){func(r *http.Request) {
			r.Header.Set("X-Gitea-Signature", sign("guess", opened.Body))
		}}, status: 401, outcome: "bad_signature"},
		{name: "signature not hex", edit: []func(*http.Request){func(r *http.Request) {
			r.Header.Set("X-Gitea-Signature", "zz")
		}}, status: 401, outcome: "bad_signature"},
		{name: "body changed after signing", edit: []func(*http.Request){func(r *http.Request) {
			r.Body = ioNopCloser(strings.Replace(string(opened.Body), `"number": 1`, `"number": 2`, 1))
		}}, status: 401, outcome: "bad_signature"},
		{name: "only X-Hub-Signature-256", edit: []func(*http.Request){func(r *http.Request) {
			r.Header.Del("X-Gitea-Signature")
		}}, status: 202, outcome: "accepted", stored: "accepted"},
		{name: "rotated: signed with the previous secret", edit: []func(*http.Request){func(r *http.Request) {
			r.Header.Set("X-Gitea-Signature", sign("previous-secret", opened.Body))
		}}, status: 202, outcome: "accepted", stored: "accepted"},
		{name: "too large by Content-Length", mutate: func(c *config.Config) { c.Webhooks.MaxBodyBytes = 1000 },
			status: 413, outcome: "too_large"},
		{name: "too large while streaming", mutate: func(c *config.Config) { c.Webhooks.MaxBodyBytes = 1000 },
			edit: []func(*http.Request){func(r *http.Request) { r.ContentLength = -1 }}, status: 413, outcome: "too_large"},
		{name: "malformed JSON", edit: []func(*http.Request){withBody(`{"action": "opened", `)},
			status: 400, outcome: "bad_request", stored: "bad_request", contains: "not valid JSON"},
		{name: "missing repository", edit: []func(*http.Request){withBody(`{"action":"opened","number":3,"pull_request":{"number":3}}`)},
			status: 400, outcome: "bad_request", stored: "bad_request", contains: "repository.full_name"},
		{name: "missing pull_request", edit: []func(*http.Request){withBody(`{"action":"opened","repository":{"full_name":"products/SLFO"}}`)},
			status: 400, outcome: "bad_request", stored: "bad_request", contains: "missing field pull_request"},
		{name: "status without sha", edit: []func(*http.Request){withBody(`{"context":"ci","state":"success","repository":{"full_name":"products/SLFO"}}`),
			func(r *http.Request) {
				r.Header.Set("X-Gitea-Event-Type", "status")
				r.Header.Set("X-Gitea-Event", "status")
			}},
			status: 400, outcome: "bad_request", stored: "bad_request", contains: "missing field sha"},
		{name: "status with a bad sha", edit: []func(*http.Request){withBody(`{"sha":"xyz","context":"ci","repository":{"full_name":"products/SLFO"}}`),
			func(r *http.Request) { r.Header.Set("X-Gitea-Event-Type", "status") }},
			status: 400, outcome: "bad_request", stored: "bad_request", contains: "field sha"},
		{name: "missing delivery id", edit: []func(*http.Request){func(r *http.Request) {
			r.Header.Del("X-Gitea-Delivery")
			r.Header.Del("X-Gogs-Delivery")
			r.Header.Del("X-Github-Delivery")
		}}, status: 400, outcome: "bad_request", contains: "X-Gitea-Delivery"},
		{name: "unknown event type", edit: []func(*http.Request){func(r *http.Request) {
			r.Header.Set("X-Gitea-Event-Type", "push")
			r.Header.Set("X-Gitea-Event", "push")
		}}, status: 202, outcome: "ignored", stored: "ignored", contains: `is not one qemgate acts on`},
		{name: "repository not watched", mutate: func(c *config.Config) { c.Gitea.Repos = []config.Repo{{Name: "products/Other"}} },
			status: 202, outcome: "ignored", stored: "ignored", contains: "not watched"},
		{name: "our own status", mutate: func(c *config.Config) { c.Gitea.StatusContext = "openqa" },
			edit: []func(*http.Request){func(r *http.Request) {
				d := fixture.GiteaDelivery(t, "status_success")
				r.Body = ioNopCloser(string(d.Body))
				r.ContentLength = int64(len(d.Body))
				for k, v := range d.Headers {
					r.Header.Set(k, v)
				}
			}}, status: 202, outcome: "ignored", stored: "ignored", contains: "our own commit status"},
		{name: "our own review", mutate: func(c *config.Config) { c.Gitea.BotLogin = "QAM-BOT" },
			edit: []func(*http.Request){func(r *http.Request) {
				d := fixture.GiteaDelivery(t, "pull_request_review_approved")
				r.Body = ioNopCloser(string(d.Body))
				r.ContentLength = int64(len(d.Body))
				for k, v := range d.Headers {
					r.Header.Set(k, v)
				}
			}}, status: 202, outcome: "ignored", stored: "ignored", contains: "our own review"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mutate []func(*config.Config)
			if tt.mutate != nil {
				mutate = append(mutate, tt.mutate)
			}
			h, b := setup(t, mutate...)
			rec := replay(h, opened, tt.edit...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			if tt.contains != "" {
				require.Contains(t, rec.Body.String(), tt.contains)
			}
			body := decode(t, rec)
			if tt.status >= 400 {
				require.NotEmpty(t, body["error"], "errors have the one JSON shape")
			}
			var total float64
			for _, et := range []string{"pull_request", "status", "pull_request_review_approved", "other"} {
				total += testutil.ToFloat64(b.metrics.deliveries.WithLabelValues("gitea", et, tt.outcome))
			}
			require.Equal(t, 1.0, total, "counted once as %s", tt.outcome)

			list, err := store.ListDeliveries(context.Background(), b.pool, store.DeliveryFilter{})
			require.NoError(t, err)
			if tt.stored == "" {
				require.Empty(t, list, "nothing is stored")
				return
			}
			require.Len(t, list, 1)
			require.Equal(t, tt.stored, list[0].Outcome)
			if tt.stored != "accepted" {
				require.NotEmpty(t, list[0].Reason)
				require.Empty(t, riverJobs(t, b.pool), "no work for a delivery that is not accepted")
			}
		})
	}
}

func TestGiteaWebhookDuplicateDelivery(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	d := fixture.GiteaDelivery(t, "pull_request_opened")
	first := replay(h, d)
	require.Equal(t, http.StatusAccepted, first.Code)
	second := replay(h, d)
	require.Equal(t, http.StatusAccepted, second.Code)
	ack := decode(t, second)
	require.Equal(t, true, ack["duplicate"])
	require.Nil(t, ack["job"])
	require.Equal(t, 1, countRows(t, b.pool, "deliveries"))
	require.Len(t, riverJobs(t, b.pool), 1)
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.deliveries.WithLabelValues("gitea", "pull_request", "duplicate")))
}

// Fifty distinct deliveries about one PR, sent at once, leave one pending sync.
func TestGiteaWebhookBurstLeavesOnePendingSync(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	d := fixture.GiteaDelivery(t, "pull_request_synchronized")
	var wg sync.WaitGroup
	codes := make([]int, 50)
	// As many at once as the pool has connections: more would only queue
	// for a connection, and on a busy machine that wait alone can exceed
	// the ingest timeout, which is not what this test is about.
	slots := make(chan struct{}, b.pool.Config().MaxConns)
	for i := range codes {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			rec := replay(h, d, func(r *http.Request) { r.Header.Set("X-Gitea-Delivery", fmt.Sprintf("burst-%d", i)) })
			codes[i] = rec.Code
		})
	}
	wg.Wait()
	for i, c := range codes {
		require.Equal(t, http.StatusAccepted, c, "delivery %d", i)
	}
	require.Equal(t, 50, countRows(t, b.pool, "deliveries"))
	js := riverJobs(t, b.pool)
	require.Len(t, js, 1, "one pending sync for the PR")
	var linked int
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM delivery_work WHERE job_ids = ARRAY[$1]::bigint[]`, js[0].ID).Scan(&linked))
	require.Equal(t, 50, linked, "every delivery names the job that will do its work")
}

// An event that arrives while the PR's sync is running gets one follow-up
// sync, because the running one may have read Gitea too early.
func TestGiteaWebhookEventDuringRunningSync(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	d := fixture.GiteaDelivery(t, "pull_request_opened")
	require.Equal(t, http.StatusAccepted, replay(h, d).Code)
	waitDispatched(t, b.pool)
	_, err := b.pool.Exec(context.Background(), `UPDATE river_job SET state = 'running', attempted_at = now(), attempt = 1`)
	require.NoError(t, err)
	for i := range 3 {
		rec := replay(h, d, func(r *http.Request) { r.Header.Set("X-Gitea-Delivery", fmt.Sprintf("later-%d", i)) })
		require.Equal(t, http.StatusAccepted, rec.Code)
	}
	js := riverJobs(t, b.pool)
	require.Len(t, js, 1, "no second sync while one runs ...")
	require.Equal(t, "running", js[0].State)
	require.Equal(t, 1, countRows(t, b.pool, "rerun_marks"), "... but the running sync is marked to run again when it ends")
}

// After a 202 the delivery and the promise of its job (its delivery_work
// row) are committed: a new connection sees both, and the dispatcher makes
// the job. When the work cannot be stored, the delivery is not stored
// either and the answer is not a 2xx, so Gitea records the delivery as
// failed. When River cannot take the job, the delivery is still
// acknowledged, its work stays pending, and it is dispatched once River can.
func TestGiteaWebhookCommitBeforeAck(t *testing.T) {
	t.Parallel()
	t.Run("acknowledged means committed", func(t *testing.T) {
		t.Parallel()
		h, b := setup(t)
		d := fixture.GiteaDelivery(t, "pull_request_opened")
		require.Equal(t, http.StatusAccepted, replay(h, d).Code)
		other, err := pgx.Connect(context.Background(), b.pool.Config().ConnConfig.ConnString())
		require.NoError(t, err)
		defer other.Close(context.Background())
		var deliveries, work int
		require.NoError(t, other.QueryRow(context.Background(), `SELECT count(*) FROM deliveries WHERE delivery_id = $1`, d.Headers["X-Gitea-Delivery"]).Scan(&deliveries))
		require.NoError(t, other.QueryRow(context.Background(), `SELECT count(*) FROM delivery_work w JOIN deliveries d ON d.id = w.delivery
			WHERE d.delivery_id = $1 AND w.repo = 'products/SLFO' AND w.number = 1`, d.Headers["X-Gitea-Delivery"]).Scan(&work))
		require.Equal(t, 1, deliveries)
		require.Equal(t, 1, work)
		js := riverJobs(t, b.pool)
		require.Len(t, js, 1)
		require.Equal(t, "sync_pull", js[0].Kind)
	})
	t.Run("no work, no delivery, no ack", func(t *testing.T) {
		t.Parallel()
		h, b := setup(t)
		_, err := b.pool.Exec(context.Background(), `ALTER TABLE delivery_work RENAME TO delivery_work_gone`)
		require.NoError(t, err)
		d := fixture.GiteaDelivery(t, "pull_request_opened")
		rec := replay(h, d)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, d.Headers["X-Gitea-Delivery"], decode(t, rec)["delivery"])
		require.Equal(t, 0, countRows(t, b.pool, "deliveries"), "the delivery row was rolled back with its work")
		require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.deliveries.WithLabelValues("gitea", "pull_request", "error")))
	})
	t.Run("River away: acknowledged, dispatched later", func(t *testing.T) {
		t.Parallel()
		h, b := setup(t)
		breakJobTable(t, b.pool)
		d := fixture.GiteaDelivery(t, "pull_request_opened")
		require.Equal(t, http.StatusAccepted, replay(h, d).Code)
		// The dispatcher fails and rolls back its claim, again and again.
		time.Sleep(200 * time.Millisecond)
		n, err := store.PendingWork(context.Background(), b.pool)
		require.NoError(t, err)
		require.Equal(t, int64(1), n, "the work is still pending")
		_, err = b.pool.Exec(context.Background(), `ALTER TABLE river_job_gone RENAME TO river_job`)
		require.NoError(t, err)
		js := riverJobs(t, b.pool)
		require.Len(t, js, 1, "dispatched once River is back")
		require.Equal(t, "sync_pull", js[0].Kind)
	})
}

// breakJobTable makes every River insert fail.
func breakJobTable(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `ALTER TABLE river_job RENAME TO river_job_gone`)
	require.NoError(t, err)
}

func ioNopCloser(s string) *nopCloser { return &nopCloser{Reader: strings.NewReader(s)} }

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// The metrics page is labelled by route pattern, never by raw path.
func TestMetricsUseRoutePatterns(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	for _, p := range []string{"/admin/deliveries/123", "/admin/deliveries/456", "/no/such/page"} {
		req := httptest.NewRequest(http.MethodGet, p, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	text := rec.Body.String()
	require.Contains(t, text, `qemgate_http_requests_total{code="404",route="/admin/deliveries/{id}"} 2`)
	require.Contains(t, text, `route="unmatched"`)
	require.NotContains(t, text, "/admin/deliveries/123")
}

// The same delivery id with another body is another delivery: stored under
// "<id>#<body hash>" and acted on, never answered as a duplicate.
func TestGiteaWebhookDeliveryIDReusedWithAnotherBody(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	d := fixture.GiteaDelivery(t, "pull_request_opened")
	require.Equal(t, http.StatusAccepted, replay(h, d).Code)

	other := strings.ReplaceAll(string(d.Body), `"number": 1,`, `"number": 2,`)
	require.NotEqual(t, string(d.Body), other)
	resign := func(r *http.Request) {
		r.Body = ioNopCloser(other)
		r.ContentLength = int64(len(other))
		r.Header.Set("X-Gitea-Signature", sign(fixtureSecret, []byte(other)))
		r.Header.Del("X-Hub-Signature-256")
	}
	rec := replay(h, d, resign)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	ack := decode(t, rec)
	require.Nil(t, ack["duplicate"])
	require.Equal(t, true, ack["id_reused"])
	require.Equal(t, store.ReusedID(d.Headers["X-Gitea-Delivery"], []byte(other)), ack["delivery"])
	require.Equal(t, 2, countRows(t, b.pool, "deliveries"))
	require.Len(t, riverJobs(t, b.pool), 2, "PR 1 and PR 2 are both synced")

	// Both bodies again: exact duplicates now.
	require.Equal(t, true, decode(t, replay(h, d))["duplicate"])
	require.Equal(t, true, decode(t, replay(h, d, resign))["duplicate"])
	require.Equal(t, 2, countRows(t, b.pool, "deliveries"))
}
