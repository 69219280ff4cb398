package handlers

import (
	"context"
	"net/http"
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
// reachable, migrations current, River running.
func handleReadyz(ready func(context.Context) (map[string]string, error)) http.HandlerFunc {
	type answer struct {
		Status string            `json:"status"`
		Reason string            `json:"reason,omitempty"`
		Detail map[string]string `json:"detail,omitempty"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		detail, err := ready(ctx)
		if err != nil {
			httpx.WriteJSON(w, http.StatusServiceUnavailable, answer{Status: "unavailable", Reason: err.Error(), Detail: detail})
			return
		}
		httpx.WriteJSON(w, http.StatusOK, answer{Status: "ok", Detail: detail})
	}
}
