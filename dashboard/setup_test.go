package dashboard

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// dashSetup returns the dashboard's routes, mounted as handlers/routes.go
// mounts them, on a fresh database seeded by seedDash.
func dashSetup(t *testing.T) http.Handler {
	t.Helper()
	cfg := config.Default()
	dashConfig(&cfg)
	pool := pgtest.New(t)
	seedDash(t, pool)
	d := Deps{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: store.New(pool)}
	r := chi.NewRouter()
	r.Get("/api/v1/pulls", HandleAPIPulls(d))
	r.Get("/api/v1/pulls/{owner}/{repo}/{number}", HandleAPIPull(d))
	r.Get("/api/v1/blocked", HandleAPIBlocked(d))
	r.Get("/api/v1/aggregates", HandleAPIAggregates(d))
	r.Get("/", HandleActivePage(d))
	r.Get("/blocked", HandleBlockedPage(d))
	r.Get("/pulls/{owner}/{repo}/{number}", HandlePullPage(d))
	r.Get("/aggregates", HandleAggregatesPage(d))
	r.Method(http.MethodGet, "/static/*", HandleStatic())
	return r
}
