package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// openqaAck is the answer to an accepted or duplicate callback.
type openqaAck struct {
	Delivery  string  `json:"delivery"`
	OpenQAJob int64   `json:"openqa_job"`
	Jobs      []int64 `json:"jobs,omitempty"`
	Duplicate bool    `json:"duplicate,omitempty"`
	IDReused  bool    `json:"id_reused,omitempty"`
}

// handleOpenQAWebhook receives job-done callbacks from openQA's hook script
// (or a bridge from AMQP). Like the Gitea receiver it answers 202 only once
// the delivery and the sync job it implies are committed together.
func handleOpenQAWebhook(d Deps) http.HandlerFunc {
	token := d.Config.OpenQA.CallbackToken
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		markLogged(r)
		log := d.Logger.With("source", "openqa", "request_id", middleware.GetReqID(r.Context()), "client_request_id", clientRequestID(r.Context()))
		event := "other"
		finish := func(outcome string, status int, v any, level slog.Level, msg string, attrs ...any) {
			d.Metrics.deliveries.WithLabelValues("openqa", event, outcome).Inc()
			d.Metrics.ingestDuration.WithLabelValues("openqa").Observe(time.Since(start).Seconds())
			log.Log(r.Context(), level, msg, append([]any{"outcome", outcome, "status", status, "duration_ms", time.Since(start).Milliseconds()}, attrs...)...)
			writeJSON(w, status, v)
		}
		fail := func(outcome string, status int, level slog.Level, msg, delivery string) {
			finish(outcome, status, errorBody{Error: msg, Delivery: delivery}, level, "callback rejected", "error", msg)
		}

		got, ok := bearerToken(r.Header)
		if !ok || !equalToken(got, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="openqa"`)
			fail(outcomeBadSignature, http.StatusUnauthorized, slog.LevelWarn, "missing or wrong bearer token", "")
			return
		}
		body, release, err := d.bodies.read(w, r)
		switch {
		case errors.Is(err, errTooLarge):
			fail(outcomeTooLarge, http.StatusRequestEntityTooLarge, slog.LevelWarn, "body larger than the configured limit", "")
			return
		case errors.Is(err, errBusy):
			w.Header().Set("Retry-After", "1")
			fail(outcomeBusy, http.StatusServiceUnavailable, slog.LevelWarn, "too many deliveries in flight; try again", "")
			return
		case err != nil:
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, "could not read the body: "+err.Error(), "")
			return
		}
		defer release()
		jobID, eventType, result, perr := intake.ParseOpenQA(body)
		if perr != nil {
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, perr.Error(), "")
			return
		}
		event = eventType
		deliveryID := intake.OpenQADeliveryID(firstHeader(r.Header, "X-Qemgate-Delivery"), jobID, body)
		row := &store.Delivery{
			Source:     "openqa",
			DeliveryID: deliveryID,
			Event:      eventType,
			EventType:  eventType,
			Action:     result,
			Headers:    storableHeaders(r.Header),
			Body:       body,
			Outcome:    store.OutcomeAccepted,
		}
		problems := row.MakeStorable()
		if len(problems) > 0 {
			// Stored escaped for an operator to see, and refused: a poison
			// callback must not be retried for ever.
			row.Outcome, row.Reason = store.OutcomeBadRequest, strings.Join(problems, "; ")
		}
		deliveryID = row.DeliveryID
		log = log.With("delivery", deliveryID, "openqa_job", jobID, "event_type", eventType)
		ctx, cancel := context.WithTimeout(r.Context(), ingestTimeout)
		defer cancel()
		res, err := d.Ingest.Accept(ctx, row, jobs.Intent{OpenQAJob: jobID})
		if store.IsUnstorable(err) {
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, "the callback cannot be stored: "+store.ShownText(err.Error(), 500), deliveryID)
			return
		}
		if err != nil {
			// openQA's hook script turns this into exit 142: it tries again.
			fail(outcomeError, http.StatusServiceUnavailable, slog.LevelError, "could not store the callback; try again", deliveryID)
			log.Error("store callback", "error", err)
			return
		}
		if len(problems) > 0 {
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, row.Reason, deliveryID)
			return
		}
		if res.Duplicate {
			finish(outcomeDuplicate, http.StatusAccepted, openqaAck{Delivery: deliveryID, OpenQAJob: jobID, Duplicate: true},
				slog.LevelInfo, "callback is a duplicate")
			return
		}
		if row.IDReused {
			log.Warn("delivery id reused with another body: stored under a new id", "stored_as", row.DeliveryID)
		}
		finish(outcomeAccepted, http.StatusAccepted, openqaAck{Delivery: row.DeliveryID, OpenQAJob: jobID, Jobs: res.JobIDs, IDReused: row.IDReused},
			slog.LevelInfo, "callback accepted", "result", result, "jobs", res.JobIDs)
	}
}
