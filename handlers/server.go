// Package handlers is qemgate's HTTP surface: webhook receivers, health,
// metrics and admin, and routes.go mounting the dashboard (package
// dashboard). Handlers never call Gitea or openQA; they enqueue.
package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/internal/httpx"
	"github.com/qemgate/qemgate/store"
)

// Deps are everything the handlers use, passed in explicitly.
type Deps struct {
	Config  config.Config
	Logger  *slog.Logger
	Store   *store.Store
	Ingest  intake.Ingester
	Metrics *Metrics
	// Ready reports why the service cannot take traffic, or nil, with
	// details that /readyz shows either way.
	Ready func(ctx context.Context) (map[string]string, error)
	// RiverUI is mounted at /admin/river/ when set.
	RiverUI http.Handler

	bodies *bodyLimiter // shared by the receivers; made by NewServer
}

// NewServer returns the root handler.
func NewServer(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(requestID)
	r.Use(recoverer(d.Logger))
	r.Use(instrument(d.Metrics, d.Logger))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path, "")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on "+r.URL.Path, "")
	})
	d.bodies = newBodyLimiter(d.Config.Webhooks.MaxInflightBytes, d.Config.Webhooks.MaxBodyBytes)
	routes(r, d)
	return r
}
