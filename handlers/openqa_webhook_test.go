package handlers

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/internal/fixture"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

const callbackToken = "callback-test-token"

func withCallbackToken(c *config.Config) {
	c.OpenQA.CallbackToken = callbackToken
	c.Webhooks.MaxBodyBytes = 1024
}

func postOpenQA(h http.Handler, body, auth string, edit ...func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/openqa", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for _, e := range edit {
		e(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestOpenQAWebhook(t *testing.T) {
	t.Parallel()
	bearer := "Bearer " + callbackToken
	amqp := `{"ARCH":"x86_64","BUILD":":git:12:openssl","FLAVOR":"Online-Incidents","MACHINE":"64bit","TEST":"qam-minimal",` +
		`"bugref":null,"failedmodules":[],"group_id":414,"id":5735489,"newbuild":null,"reason":null,"remaining":13,"result":"passed"}`
	tests := []struct {
		name      string
		body      string
		auth      string
		edit      func(*http.Request)
		status    int
		outcome   string
		event     string
		openqaJob int64
	}{
		{name: "hook body", body: `{"id": 42}`, auth: bearer, status: 202, outcome: "accepted", event: "job_done", openqaJob: 42},
		{name: "id as a Perl string", body: `{"id": "43"}`, auth: bearer, status: 202, outcome: "accepted", event: "job_done", openqaJob: 43},
		{name: "AMQP job.done", body: amqp, auth: bearer, status: 202, outcome: "accepted", event: "job_done", openqaJob: 5735489},
		{name: "AMQP job.restart", body: `{"id": 44, "result": {"44": 45}, "auto": 0}`, auth: bearer, status: 202, outcome: "accepted", event: "job_event", openqaJob: 44},
		{name: "AMQP comment", body: `{"id": 9, "job_id": 46, "text": "@review:acceptable_for:submission_12:bsc#1"}`, auth: bearer, status: 202, outcome: "accepted", event: "comment", openqaJob: 46},
		{name: "no token", body: `{"id": 1}`, status: 401, outcome: "bad_signature", event: "other"},
		{name: "wrong token", body: `{"id": 1}`, auth: "Bearer nope", status: 401, outcome: "bad_signature", event: "other"},
		{name: "token without Bearer", body: `{"id": 1}`, auth: callbackToken, status: 401, outcome: "bad_signature", event: "other"},
		{name: "not JSON", body: `id=1`, auth: bearer, status: 400, outcome: "bad_request", event: "other"},
		{name: "no id", body: `{"result": "passed"}`, auth: bearer, status: 400, outcome: "bad_request", event: "other"},
		{name: "negative id", body: `{"id": -3}`, auth: bearer, status: 400, outcome: "bad_request", event: "other"},
		{name: "too large", body: `{"id": 1, "pad": "` + strings.Repeat("x", 2000) + `"}`, auth: bearer, status: 413, outcome: "too_large", event: "other"},
		{name: "too large without length", body: `{"id": 1, "pad": "` + strings.Repeat("x", 2000) + `"}`, auth: bearer,
			edit: func(r *http.Request) { r.ContentLength = -1 }, status: 413, outcome: "too_large", event: "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, b := setup(t, withCallbackToken)
			var edits []func(*http.Request)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			rec := postOpenQA(h, tt.body, tt.auth, edits...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			m := decode(t, rec)
			require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.deliveries.WithLabelValues("openqa", tt.event, tt.outcome)))
			if tt.status != 202 {
				require.NotEmpty(t, m["error"])
				// An authenticated body that cannot be used is stored as
				// refused, for an operator to see, as Gitea's are; a stranger's
				// or an oversized one is not.
				stored := 0
				if tt.status == 400 {
					stored = 1
					var outcome string
					require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT outcome FROM deliveries`).Scan(&outcome))
					require.Equal(t, "bad_request", outcome)
				}
				require.Equal(t, stored, countRows(t, b.pool, "deliveries"))
				require.Empty(t, riverJobs(t, b.pool))
				return
			}
			require.Equal(t, float64(tt.openqaJob), m["openqa_job"])
			require.Equal(t, 1, countRows(t, b.pool, "deliveries"))
			jobs := riverJobs(t, b.pool)
			require.Len(t, jobs, 1)
			require.Equal(t, "sync_openqa_job", jobs[0].Kind)
			require.Equal(t, float64(tt.openqaJob), jobs[0].Args["id"])
			var source, auth string
			require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT source, coalesce(headers->>'Authorization', '') FROM deliveries`).Scan(&source, &auth))
			require.Equal(t, "openqa", source)
			require.Empty(t, auth, "the token is never stored")
		})
	}
}

func TestOpenQAWebhookDisabledWithoutToken(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	rec := postOpenQA(h, `{"id": 1}`, "Bearer ")
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestOpenQAWebhookDuplicates(t *testing.T) {
	t.Parallel()
	h, b := setup(t, withCallbackToken)
	bearer := "Bearer " + callbackToken

	first := decode(t, postOpenQA(h, `{"id": 42}`, bearer))
	again := postOpenQA(h, `{"id": 42}`, bearer)
	require.Equal(t, http.StatusAccepted, again.Code)
	dup := decode(t, again)
	require.Equal(t, true, dup["duplicate"])
	require.Equal(t, first["delivery"], dup["delivery"])
	require.Equal(t, 1, countRows(t, b.pool, "deliveries"))
	require.Len(t, riverJobs(t, b.pool), 1)

	// A hook that names its delivery is told apart even with the same body;
	// the pending sync of job 42 absorbs it.
	named := decode(t, postOpenQA(h, `{"id": 42}`, bearer, func(r *http.Request) { r.Header.Set("X-Qemgate-Delivery", "hook-42-b") }))
	require.Equal(t, "job-42/hook-42-b", named["delivery"])
	require.Nil(t, named["duplicate"])
	require.Equal(t, 2, countRows(t, b.pool, "deliveries"))
	require.Len(t, riverJobs(t, b.pool), 1, "one pending sync per openQA job")

	// Another job is another sync.
	decode(t, postOpenQA(h, `{"id": 43}`, bearer))
	require.Len(t, riverJobs(t, b.pool), 2)
}

// A proxy's request id, or a delivery name reused across jobs, never makes
// one job's callback a duplicate of another's.
func TestOpenQAWebhookSameRequestIDForDifferentJobs(t *testing.T) {
	t.Parallel()
	h, b := setup(t, withCallbackToken)
	bearer := "Bearer " + callbackToken
	for _, header := range []string{"X-Request-Id", "X-Qemgate-Delivery"} {
		for _, job := range []string{"50", "51"} {
			rec := postOpenQA(h, `{"id": `+job+`}`, bearer, func(r *http.Request) { r.Header.Set(header, "same-"+header) })
			require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
			require.Nil(t, decode(t, rec)["duplicate"], "%s for job %s", header, job)
		}
	}
	require.Equal(t, 4, countRows(t, b.pool, "deliveries"))
	synced := map[float64]bool{}
	for _, j := range riverJobs(t, b.pool) {
		synced[j.Args["id"].(float64)] = true
	}
	require.Equal(t, map[float64]bool{50: true, 51: true}, synced, "both jobs are synced")

	// The same delivery name with another body for the same job: stored, not dropped.
	rec := postOpenQA(h, `{"id": 50, "result": "failed"}`, bearer, func(r *http.Request) { r.Header.Set("X-Qemgate-Delivery", "same-X-Qemgate-Delivery") })
	require.Equal(t, http.StatusAccepted, rec.Code)
	ack := decode(t, rec)
	require.Equal(t, true, ack["id_reused"])
	require.Contains(t, ack["delivery"], "job-50/same-X-Qemgate-Delivery#")
	require.Equal(t, 5, countRows(t, b.pool, "deliveries"))
}

func TestAdminReplayOpenQA(t *testing.T) {
	t.Parallel()
	h, b := setup(t, withCallbackToken)
	decode(t, postOpenQA(h, `{"id": 42}`, "Bearer "+callbackToken))
	var id int64
	require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT id FROM deliveries`).Scan(&id))
	// The first sync is done: a replay must cause another.
	waitDispatched(t, b.pool)
	_, err := b.pool.Exec(t.Context(), `UPDATE river_job SET state = 'completed', finalized_at = now()`)
	require.NoError(t, err)

	req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/admin/deliveries/%d/replay", id), bytes.NewReader(nil))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	m := decode(t, rec)
	require.Equal(t, float64(id), m["replay_of"])
	require.Equal(t, 42.0, m["openqa_job"])
	require.Len(t, m["jobs"], 1)
	require.Equal(t, 2, countRows(t, b.pool, "deliveries"))
	require.Len(t, riverJobs(t, b.pool), 2)
}

// Deliveries from the bus are replayed like webhooks, decided again from
// the stored routing key and body: a job qemgate follows is synced, a
// foreign one stays ignored, a Gitea event syncs its PR.
func TestAdminReplayFromTheBus(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	ctx := t.Context()
	_, err := b.pool.Exec(ctx, `INSERT INTO test_runs (repo, number, sha, distri, version, flavor, arch, build, job_ids)
		VALUES ('products/SLFO', 1, 'abc', 'sle', '16.0', 'Online', 'x86_64', ':git:1:openssl', '{77}')`)
	require.NoError(t, err)
	rc := intake.Receiver{Config: &b.cfg, Ingest: &jobs.Ingest{Store: store.New(b.pool), River: b.river}}
	pr := fixture.GiteaDelivery(t, "pull_request_opened")
	for _, m := range []intake.Message{
		intake.FromAMQP("suse", "suse.openqa.job.done", "", nil, []byte(`{"id":77,"result":"failed","BUILD":":git:1:openssl"}`)),
		intake.FromAMQP("suse", "suse.openqa.job.done", "", nil, []byte(`{"id":78,"result":"passed","BUILD":"other"}`)),
		intake.FromAMQP("suse", "suse.src.products.pull_request.opened", "", nil, pr.Body),
	} {
		_, err := rc.Receive(ctx, m)
		require.NoError(t, err)
	}
	_, err = b.pool.Exec(ctx, `UPDATE river_job SET state = 'completed', finalized_at = now()`)
	require.NoError(t, err)

	replay := func(idLike string) map[string]any {
		var id int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM deliveries WHERE delivery_id LIKE $1 AND replay_of IS NULL`, idLike).Scan(&id))
		req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/admin/deliveries/%d/replay", id), nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		return decode(t, rec)
	}
	followed := replay("suse.openqa.job.done/job-77-%")
	require.Equal(t, 77.0, followed["openqa_job"])
	require.Len(t, followed["jobs"], 1)
	foreign := replay("suse.openqa.job.done/job-78-%")
	require.Empty(t, foreign["jobs"])
	var outcome string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT outcome FROM deliveries WHERE replay_of IS NOT NULL AND delivery_id LIKE 'suse.openqa.job.done/job-78-%'`).Scan(&outcome))
	require.Equal(t, "ignored", outcome)
	gitea := replay("suse.src.products.pull_request.opened/%")
	require.Len(t, gitea["jobs"], 1)
	var source string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT source FROM deliveries WHERE replay_of IS NOT NULL AND delivery_id LIKE 'suse.src.%'`).Scan(&source))
	require.Equal(t, "gitea-amqp", source)
}
