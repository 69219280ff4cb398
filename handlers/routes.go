package handlers

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/qemgate/qemgate/dashboard"
	"github.com/qemgate/qemgate/internal/httpx"
)

// routes is the whole HTTP surface of qemgate, in one place.
func routes(r chi.Router, d Deps) {
	r.Get("/livez", handleLivez())
	r.Get("/healthz", handleLivez())
	r.Get("/readyz", handleReadyz(d.Ready, d.Logger))
	r.Method(http.MethodGet, "/metrics", d.Metrics.Handler())

	r.Post("/webhooks/gitea", switchedOff(d.Config.Webhooks.GiteaDisabled, "webhooks.gitea_disabled", handleGiteaWebhook(d)))
	r.Post("/webhooks/openqa", switchedOff(d.Config.Webhooks.OpenQADisabled, "webhooks.openqa_disabled", handleOpenQAWebhook(d)))

	// Dashboard (package dashboard): JSON API and the pages rendered from
	// the same views.
	dash := dashboard.Deps{Config: d.Config, Logger: d.Logger, Store: d.Store}
	r.Get("/api/v1/pulls", dashboard.HandleAPIPulls(dash))
	r.Get("/api/v1/pulls/{owner}/{repo}/{number}", dashboard.HandleAPIPull(dash))
	r.Get("/api/v1/blocked", dashboard.HandleAPIBlocked(dash))
	r.Get("/api/v1/aggregates", dashboard.HandleAPIAggregates(dash))
	r.Get("/", dashboard.HandleActivePage(dash))
	r.Get("/blocked", dashboard.HandleBlockedPage(dash))
	r.Get("/pulls/{owner}/{repo}/{number}", dashboard.HandlePullPage(dash))
	r.Get("/aggregates", dashboard.HandleAggregatesPage(dash))
	r.Method(http.MethodGet, "/static/*", dashboard.HandleStatic())

	r.Route("/admin", func(r chi.Router) {
		if d.Config.AdminDisabled {
			r.Use(func(http.Handler) http.Handler { return switchedOff(true, "admin_disabled", nil) })
		}
		// A browser signs in here with the admin token and gets a session
		// cookie; scripts keep sending Authorization: Bearer.
		auth := newAdminAuth(d.Config, d.Logger, func(result string) { d.Metrics.adminLogins.WithLabelValues(result).Inc() })
		// Everything under /admin, unknown paths too, needs credentials, but
		// the door itself.
		r.Use(auth.requireExcept("/admin/login", "/admin/logout"))
		r.Get("/login", auth.handleLoginForm())
		r.Post("/login", auth.handleLogin())
		r.Post("/logout", auth.handleLogout())
		r.Get("/deliveries", handleListDeliveries(d))
		r.Get("/deliveries/{id}", handleGetDelivery(d))
		r.Post("/deliveries/{id}/replay", handleReplayDelivery(d))
		r.Post("/pulls/{owner}/{repo}/{number}/resync", handleResyncPull(d))
		if d.RiverUI != nil {
			r.Handle("/river", http.RedirectHandler("/admin/river/", http.StatusMovedPermanently))
			r.Handle("/river/*", d.RiverUI)
		}
	})
}

// switchedOff answers 404 in place of h when the configuration switched
// the route off on purpose, naming the key.
func switchedOff(off bool, key string, h http.HandlerFunc) http.HandlerFunc {
	if !off {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, http.StatusNotFound, "switched off by the configuration ("+key+")", "")
	}
}
