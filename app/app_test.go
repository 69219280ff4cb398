package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const goodMetadata = `product: SLES-16.0
settings: {DISTRI: sle, VERSION: "16.0"}
incidents:
  FLAVOR:
    Online-Incidents:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`

func newApp(t *testing.T, dir string) *App {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = "unused"
	cfg.Gitea.URL = "http://127.0.0.1:1"
	cfg.OpenQA.URL = "http://127.0.0.1:1"
	cfg.Metadata.Dir = dir
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), pgtest.New(t), Options{TestOnly: true})
	require.NoError(t, err)
	return a
}

// One registry holds every metric: the Go and process collectors, the HTTP
// side's and the workers', and /metrics serves it.
func TestMetricsShareOneRegistry(t *testing.T) {
	t.Parallel()
	a := newApp(t, "")
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	for _, name := range []string{"go_goroutines", "process_", "qemgate_reports_head_moved_total", "qemgate_metadata_last_reload_ok"} {
		require.Contains(t, rec.Body.String(), name)
	}
	a.Handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/livez", nil))
	n, err := testutil.GatherAndCount(a.Registry, "qemgate_http_requests_total")
	require.NoError(t, err)
	require.Equal(t, 2, n, "/metrics and /livez, counted on the same registry")
}

// A broken metadata reload keeps the last good set, and says so in the
// metric and in the readiness detail; a fixed one recovers.
func TestMetadataReloadKeepsLastGoodSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "sles.yml")
	a := newApp(t, dir)
	require.NoError(t, a.StartWorkers(ctx))
	t.Cleanup(func() { a.StopWorkers(ctx) })

	_, err := a.Ready(ctx)
	require.ErrorContains(t, err, "metadata", "not ready before any metadata is loaded")

	require.NoError(t, os.WriteFile(file, []byte(goodMetadata), 0o644))
	require.NoError(t, a.ReloadMetadata())
	detail, err := a.Ready(ctx)
	require.NoError(t, err)
	require.Contains(t, detail["metadata"], "1 products")
	require.Equal(t, 1.0, testutil.ToFloat64(a.Jobs.MetadataOK))

	require.NoError(t, os.WriteFile(file, []byte("product: [unclosed\n"), 0o644))
	require.Error(t, a.ReloadMetadata())
	require.NotNil(t, a.Metadata.Current(), "the last good set stays in use")
	require.Equal(t, "SLES-16.0", a.Metadata.Current().Products()[0].Name)
	detail, err = a.Ready(ctx)
	require.NoError(t, err, "a kept set still serves")
	require.Contains(t, detail["metadata"], "failed")
	require.Equal(t, 0.0, testutil.ToFloat64(a.Jobs.MetadataOK))
	require.Equal(t, 1.0, testutil.ToFloat64(a.Jobs.MetadataReload.WithLabelValues("error")))

	require.NoError(t, os.WriteFile(file, []byte(goodMetadata), 0o644))
	require.NoError(t, a.ReloadMetadata())
	detail, err = a.Ready(ctx)
	require.NoError(t, err)
	require.NotContains(t, detail["metadata"], "failed")
	require.Equal(t, 1.0, testutil.ToFloat64(a.Jobs.MetadataOK))
}

func TestReadyWithoutWorkers(t *testing.T) {
	t.Parallel()
	a := newApp(t, "")
	detail, err := a.Ready(context.Background())
	require.ErrorContains(t, err, "River")
	require.Contains(t, detail["metadata"], "not configured", "an unset metadata.dir is visible")
}

// Without metadata.dir nothing can be gated: not ready, saying why, once
// everything else is fine.
func TestNotReadyWithoutMetadataDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newApp(t, "")
	require.NoError(t, a.StartWorkers(ctx))
	t.Cleanup(func() { a.StopWorkers(ctx) })
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	var got struct{ Status, Reason string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, "unavailable", got.Status)
	require.Equal(t, "metadata.dir is not configured: nothing can be scheduled or gated (set QEMGATE_METADATA_DIR)", got.Reason)
}
