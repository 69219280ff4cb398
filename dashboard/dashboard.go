// Package dashboard is qemgate's read model for people: the JSON API under
// /api/v1 and the server-rendered pages built from the same views, with
// their templates and static files. It only reads the store.
// handlers/routes.go mounts its handlers.
package dashboard

import (
	"log/slog"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/store"
)

// Deps are everything the dashboard reads, passed in explicitly.
type Deps struct {
	Config config.Config
	Logger *slog.Logger
	Store  *store.Store
}
