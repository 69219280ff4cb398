package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/qemgate/qemgate/internal/httpx"
)

// handleLivez answers while the process can serve HTTP at all. It checks no
// dependency, so a database blip never restarts the pod.
func handleLivez() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

// handleReadyz answers 200 when the service can do its work: database
// reachable, migrations current, River running, metadata loaded. A probe
// every few seconds must not fill the log: it logs only when the answer
// changes (WARN when it becomes not ready, with the reason; INFO when ready
// again).
func handleReadyz(ready func(context.Context) (map[string]string, error), logger *slog.Logger) http.HandlerFunc {
	type answer struct {
		Status string            `json:"status"`
		Reason string            `json:"reason,omitempty"`
		Detail map[string]string `json:"detail,omitempty"`
	}
	var (
		mu   sync.Mutex
		last = "" // the last reason logged; "ok" when ready
	)
	changed := func(now string) bool {
		mu.Lock()
		defer mu.Unlock()
		c := now != last
		last = now
		return c
	}
	return func(w http.ResponseWriter, r *http.Request) {
		markLogged(r)
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		detail, err := ready(ctx)
		if err != nil {
			if changed(err.Error()) {
				logger.WarnContext(r.Context(), "not ready", "reason", err.Error())
			}
			httpx.WriteJSON(w, http.StatusServiceUnavailable, answer{Status: "unavailable", Reason: err.Error(), Detail: detail})
			return
		}
		if changed("ok") {
			logger.InfoContext(r.Context(), "ready")
		}
		httpx.WriteJSON(w, http.StatusOK, answer{Status: "ok", Detail: detail})
	}
}
