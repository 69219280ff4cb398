package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/fixture"
)

// storedRow is what the tests read back of a stored delivery.
type storedRow struct {
	DeliveryID, EventType, Action, Repo, Sender, Outcome, Reason string
	Headers                                                      map[string]string
}

func lastDelivery(t *testing.T, b *testBundle) (storedRow, bool) {
	t.Helper()
	var s storedRow
	err := b.pool.QueryRow(context.Background(), `SELECT delivery_id, event_type, action, repo, sender, outcome, reason, headers
		FROM deliveries ORDER BY id DESC LIMIT 1`).Scan(&s.DeliveryID, &s.EventType, &s.Action, &s.Repo, &s.Sender, &s.Outcome, &s.Reason, &s.Headers)
	if err != nil {
		return s, false
	}
	return s, true
}

// Input PostgreSQL cannot store as it is gets a 400 and is stored escaped,
// never a 503 that asks the sender to try again.
func TestGiteaWebhookUnstorableInput(t *testing.T) {
	t.Parallel()
	opened := fixture.GiteaDelivery(t, "pull_request_opened")
	// body sets one string field of the payload, given as a path of keys.
	body := func(value string, path ...string) func(*http.Request) {
		return func(r *http.Request) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(opened.Body, &m))
			obj := m
			for _, k := range path[:len(path)-1] {
				obj = obj[k].(map[string]any)
			}
			obj[path[len(path)-1]] = value
			raw, err := json.Marshal(m)
			require.NoError(t, err)
			b := string(raw)
			r.Body = ioNopCloser(b)
			r.ContentLength = int64(len(b))
			r.Header.Set("X-Gitea-Signature", sign(fixtureSecret, []byte(b)))
			r.Header.Del("X-Hub-Signature-256")
		}
	}
	header := func(k, v string) func(*http.Request) { return func(r *http.Request) { r.Header[k] = []string{v} } }
	tests := []struct {
		name     string
		edit     func(*http.Request)
		status   int
		contains string
		check    func(t *testing.T, s storedRow)
	}{
		{"NUL in action", body("op\x00ened", "action"), 400, "action: contains a NUL",
			func(t *testing.T, s storedRow) { require.Equal(t, `op\x00ened`, s.Action) }},
		{"NUL in sender.login", body("\x00carol", "sender", "login"), 400, "sender", nil},
		{"NUL in repository.full_name", body("products/SLFO\x00", "repository", "full_name"), 400, "repository",
			func(t *testing.T, s storedRow) { require.Equal(t, `products/SLFO\x00`, s.Repo) }},
		{"invalid UTF-8 in X-Gitea-Delivery", header("X-Gitea-Delivery", "abc\xff"), 400, "delivery id",
			func(t *testing.T, s storedRow) { require.Equal(t, `abc\xff`, s.DeliveryID) }},
		{"invalid UTF-8 in X-Gitea-Event-Type", header("X-Gitea-Event-Type", "pull_request\xc3"), 400, "event type", nil},
		{"delivery id above the index limit", header("X-Gitea-Delivery", strings.Repeat("a", 3000)), 400, "delivery id: longer than 200 bytes",
			func(t *testing.T, s storedRow) { require.Len(t, s.DeliveryID, 200) }},
		{"a long repository name", body("products/"+strings.Repeat("x", 3000), "repository", "full_name"), 400, "repository: longer", nil},
		{"invalid UTF-8 in X-Request-Id is kept escaped", header("X-Request-Id", "r\x00\xfe"), 202, "",
			func(t *testing.T, s storedRow) {
				require.Equal(t, "accepted", s.Outcome)
				require.Equal(t, `r\x00\xfe`, s.Headers["X-Request-Id"])
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, b := setup(t)
			rec := replay(h, opened, tt.edit)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), tt.contains)
			s, ok := lastDelivery(t, b)
			require.True(t, ok, "stored for an operator to see")
			if tt.status == 400 {
				require.Equal(t, "bad_request", s.Outcome)
				require.Contains(t, s.Reason, tt.contains)
				require.Empty(t, riverJobs(t, b.pool), "no work from a refused delivery")
				again := replay(h, opened, tt.edit)
				require.Equal(t, tt.status, again.Code, "the same input, the same answer: %s", again.Body.String())
			}
			if tt.check != nil {
				tt.check(t, s)
			}
			require.NotContains(t, metricsText(t, h), `outcome="error"`)
		})
	}
}

func TestOpenQAWebhookUnstorableInput(t *testing.T) {
	t.Parallel()
	bearer := "Bearer " + callbackToken
	tests := []struct {
		name, body, header, value, contains string
	}{
		{"NUL in result", `{"id": 5, "result": "pass\u0000ed"}`, "", "", "action: contains a NUL"},
		{"invalid UTF-8 in X-Qemgate-Delivery", `{"id": 5}`, "X-Qemgate-Delivery", "d\xff", "delivery id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, b := setup(t, withCallbackToken)
			rec := postOpenQA(h, tt.body, bearer, func(r *http.Request) {
				if tt.header != "" {
					r.Header[tt.header] = []string{tt.value}
				}
			})
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), tt.contains)
			s, ok := lastDelivery(t, b)
			require.True(t, ok)
			require.Equal(t, "bad_request", s.Outcome)
			require.Empty(t, riverJobs(t, b.pool), "a poison callback syncs nothing")
		})
	}
}

// Query and path parameters that cannot match stored text are refused
// before the database sees them.
func TestQueryParametersAreCheckedBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	for _, path := range []string{
		"/admin/deliveries?outcome=%00",
		"/admin/deliveries?outcome=nope",
		"/admin/deliveries?source=%ff",
		"/admin/deliveries?repo=a%00b",
		"/admin/deliveries?event=%c3",
		"/admin/deliveries?repo=" + strings.Repeat("r", 300),
		"/api/v1/pulls/own%00er/repo/1",
		"/api/v1/pulls/owner/" + strings.Repeat("r", 300) + "/1",
	} {
		rec := adminRequest(h, http.MethodGet, path, adminToken)
		require.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", path, rec.Body.String())
	}
	rec := adminRequest(h, http.MethodGet, "/admin/deliveries?outcome=bad_request&repo=products/SLFO", adminToken)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

func metricsText(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// The decisions on odd signatures and credentials, one answer each.
func TestGiteaSignatureDecisions(t *testing.T) {
	t.Parallel()
	opened := fixture.GiteaDelivery(t, "pull_request_opened")
	good := sign(fixtureSecret, opened.Body)
	tests := []struct {
		name   string
		edit   func(*http.Request)
		status int
	}{
		{"upper-case hex is hex", func(r *http.Request) { r.Header.Set("X-Gitea-Signature", strings.ToUpper(good)) }, 202},
		{"X-Hub-Signature-256 alone", func(r *http.Request) {
			r.Header.Del("X-Gitea-Signature")
			r.Header.Set("X-Hub-Signature-256", "sha256="+good)
		}, 202},
		{"X-Hub-Signature-256 without its sha256= prefix", func(r *http.Request) {
			r.Header.Del("X-Gitea-Signature")
			r.Header.Set("X-Hub-Signature-256", good)
		}, 401},
		{"X-Gitea-Signature twice, the first right", func(r *http.Request) {
			r.Header["X-Gitea-Signature"] = []string{good, strings.Repeat("0", 64)}
		}, 401},
		{"X-Gitea-Signature twice, both right", func(r *http.Request) {
			r.Header["X-Gitea-Signature"] = []string{good, good}
		}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, _ := setup(t)
			rec := replay(h, opened, tt.edit)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
		})
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	h, _ := setup(t, withCallbackToken)
	for _, auth := range []string{"Bearer " + adminToken, "bearer " + adminToken, "BEARER  " + adminToken} {
		rec := adminRequest(h, http.MethodGet, "/admin/deliveries", "")
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		req := httptest.NewRequest(http.MethodGet, "/admin/deliveries", nil)
		req.Header.Set("Authorization", auth)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, auth)
	}
	require.Equal(t, http.StatusAccepted, postOpenQA(h, `{"id": 9}`, "bearer "+callbackToken).Code)
	require.Equal(t, http.StatusUnauthorized, postOpenQA(h, `{"id": 9}`, "Basic "+callbackToken).Code)
	req := httptest.NewRequest(http.MethodGet, "/admin/deliveries", nil)
	req.Header["Authorization"] = []string{"Bearer " + adminToken, "Bearer " + adminToken}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusUnauthorized, rec.Code, "Authorization given twice is refused")
}

// The request id in our logs and answers is ours; the client's is kept
// apart, escaped.
func TestRequestIDIsOurs(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var mu sync.Mutex
	cfg := testConfig()
	h := NewServer(Deps{
		Config:  cfg,
		Logger:  slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics: NewMetrics(prometheus.NewRegistry()),
		Ready:   func(context.Context) (map[string]string, error) { return nil, nil },
	})
	ids := map[string]bool{}
	for range 2 {
		req := httptest.NewRequest(http.MethodGet, "/livez", nil)
		req.Header.Set("X-Request-Id", "spoofed\x00")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		id := rec.Header().Get("X-Request-Id")
		require.NotEmpty(t, id)
		require.NotContains(t, id, "spoofed")
		ids[id] = true
	}
	require.Len(t, ids, 2, "every request has its own id")
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, logs.String(), `"client_request_id":"spoofed\\x00"`)
	require.NotContains(t, logs.String(), `"request_id":"spoofed`)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestStaticServesFilesOnly(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	for path, want := range map[string]int{
		"/static/dashboard.css":      200,
		"/static/":                   404,
		"/static/../static/":         404,
		"/static/nope.js":            404,
		"/static/dashboard.css/":     301, // to the file
		"/static/%2e%2e/handlers.go": 404,
	} {
		rec := adminRequest(h, http.MethodGet, path, "")
		require.Equal(t, want, rec.Code, path)
		require.NotContains(t, rec.Body.String(), "<pre>", "%s: no directory listing", path)
	}
}
