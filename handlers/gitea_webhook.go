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
	"github.com/qemgate/qemgate/store"
)

// Outcomes of a delivery, as counted in qemgate_webhook_deliveries_total.
const (
	outcomeAccepted     = "accepted"
	outcomeDuplicate    = "duplicate"
	outcomeIgnored      = "ignored"
	outcomeBadSignature = "bad_signature"
	outcomeBadRequest   = "bad_request"
	outcomeTooLarge     = "too_large"
	outcomeBusy         = "busy"
	outcomeError        = "error"
)

// ingestTimeout keeps the whole acknowledgement inside Gitea's 5 s deadline.
const ingestTimeout = 4 * time.Second

// secretHeaders are never stored: signatures and credentials.
var secretHeaders = map[string]bool{
	"X-Gitea-Signature":   true,
	"X-Gogs-Signature":    true,
	"X-Hub-Signature":     true,
	"X-Hub-Signature-256": true,
	"Authorization":       true,
	"Cookie":              true,
	"Proxy-Authorization": true,
}

func storableHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if secretHeaders[http.CanonicalHeaderKey(k)] || len(v) == 0 {
			continue
		}
		out[k] = strings.Join(v, ", ")
	}
	return out
}

// giteaAck is the answer to an accepted, duplicate or ignored delivery.
type giteaAck struct {
	Delivery  string  `json:"delivery"`
	Job       *int64  `json:"job,omitempty"`
	Jobs      []int64 `json:"jobs,omitempty"`
	Duplicate bool    `json:"duplicate,omitempty"`
	Ignored   string  `json:"ignored,omitempty"`
	// IDReused says that the id was stored already with another body; this
	// body is stored (and acted on) under Delivery, "<id>#<body hash>".
	IDReused bool `json:"id_reused,omitempty"`
}

// handleGiteaWebhook receives Gitea deliveries. It answers 202 only after the
// delivery and the job it implies are committed together.
func handleGiteaWebhook(d Deps) http.HandlerFunc {
	secrets := d.Config.Gitea.WebhookSecrets
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		markLogged(r)
		rawID := firstHeader(r.Header, "X-Gitea-Delivery", "X-Gogs-Delivery", "X-GitHub-Delivery")
		rawType := firstHeader(r.Header, "X-Gitea-Event-Type", "X-Gogs-Event-Type", "X-GitHub-Event-Type")
		event := firstHeader(r.Header, "X-Gitea-Event", "X-Gogs-Event", "X-GitHub-Event")
		if rawType == "" {
			rawType = intake.CoarseEventType(event)
		}
		// Logs and answers show the headers escaped and cut; the raw values
		// go to the row, which MakeStorable checks.
		deliveryID := store.ShownText(rawID, store.MaxDeliveryIDLen)
		eventType := store.ShownText(rawType, store.MaxFieldLen)
		log := d.Logger.With("source", "gitea", "delivery", deliveryID, "event_type", eventType,
			"request_id", middleware.GetReqID(r.Context()), "client_request_id", clientRequestID(r.Context()))
		finish := func(outcome string, status int, v any, level slog.Level, msg string, attrs ...any) {
			label := eventType
			if !intake.KnownGiteaEvent(eventType) {
				label = "other" // unknown event names must not grow the label set
			}
			d.Metrics.deliveries.WithLabelValues("gitea", label, outcome).Inc()
			d.Metrics.ingestDuration.WithLabelValues("gitea").Observe(time.Since(start).Seconds())
			log.Log(r.Context(), level, msg, append([]any{"outcome", outcome, "status", status, "duration_ms", time.Since(start).Milliseconds()}, attrs...)...)
			writeJSON(w, status, v)
		}
		fail := func(outcome string, status int, level slog.Level, msg string) {
			finish(outcome, status, errorBody{Error: msg, Delivery: deliveryID}, level, "delivery rejected", "error", msg)
		}

		// A stranger without a signature is refused before the body is read.
		sig, signed := giteaSignature(r.Header)
		if !signed || len(secrets) == 0 {
			fail(outcomeBadSignature, http.StatusUnauthorized, slog.LevelWarn, "missing or wrong signature")
			return
		}
		body, release, err := d.bodies.read(w, r)
		switch {
		case errors.Is(err, errTooLarge):
			fail(outcomeTooLarge, http.StatusRequestEntityTooLarge, slog.LevelWarn, "body larger than the configured limit")
			return
		case errors.Is(err, errBusy):
			w.Header().Set("Retry-After", "1")
			fail(outcomeBusy, http.StatusServiceUnavailable, slog.LevelWarn, "too many deliveries in flight; try again")
			return
		case err != nil:
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, "could not read the body: "+err.Error())
			return
		}
		defer release()
		if !verifyGiteaSignature(secrets, sig, body) {
			fail(outcomeBadSignature, http.StatusUnauthorized, slog.LevelWarn, "missing or wrong signature")
			return
		}
		if rawID == "" {
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, "missing header X-Gitea-Delivery")
			return
		}

		row := &store.Delivery{
			Source:     "gitea",
			DeliveryID: rawID,
			Event:      event,
			EventType:  rawType,
			Headers:    storableHeaders(r.Header),
			Body:       body,
			Outcome:    store.OutcomeAccepted,
		}
		ev, perr := intake.ParseGitea(&d.Config, rawType, body)
		fillDelivery(row, ev)
		var bad *intake.BadPayload
		if problems := row.MakeStorable(); len(problems) > 0 {
			// Input PostgreSQL cannot hold as it is: stored escaped, refused.
			bad = &intake.BadPayload{Msg: strings.Join(problems, "; ")}
		} else {
			errors.As(perr, &bad)
		}
		switch {
		case bad != nil:
			row.Outcome, row.Reason = store.OutcomeBadRequest, bad.Msg
		case ev.Ignored != "":
			row.Outcome, row.Reason = store.OutcomeIgnored, ev.Ignored
		}

		ctx, cancel := context.WithTimeout(r.Context(), ingestTimeout)
		defer cancel()
		res, err := d.Ingest.Accept(ctx, row, ev.Intent)
		if store.IsUnstorable(err) {
			// A class of input MakeStorable does not know yet: still the
			// sender's problem, and retrying cannot help.
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, "the delivery cannot be stored: "+store.ShownText(err.Error(), 500))
			return
		}
		if err != nil {
			// The database is down or slow: Gitea will record a failed
			// delivery, and the poller will catch up on what it said.
			fail(outcomeError, http.StatusServiceUnavailable, slog.LevelError, "could not store the delivery; try again")
			log.Error("store delivery", "error", err)
			return
		}
		attrs := []any{"repo", row.Repo, "number", row.Number, "action", row.Action}
		if row.IDReused {
			log.Warn("delivery id reused with another body: stored under a new id", "stored_as", row.DeliveryID)
			deliveryID = row.DeliveryID
		}
		switch {
		case bad != nil:
			// Refused again when it is a duplicate: the same input gets the same answer.
			finish(outcomeBadRequest, http.StatusBadRequest, errorBody{Error: bad.Msg, Delivery: deliveryID}, slog.LevelWarn, "delivery rejected", append(attrs, "error", bad.Msg, "duplicate", res.Duplicate)...)
		case res.Duplicate:
			finish(outcomeDuplicate, http.StatusAccepted, giteaAck{Delivery: deliveryID, Duplicate: true}, slog.LevelInfo, "delivery is a duplicate", attrs...)
		case ev.Ignored != "":
			finish(outcomeIgnored, http.StatusAccepted, giteaAck{Delivery: deliveryID, Ignored: ev.Ignored, IDReused: row.IDReused}, slog.LevelInfo, "delivery ignored", append(attrs, "reason", ev.Ignored)...)
		default:
			ack := giteaAck{Delivery: deliveryID, Jobs: res.JobIDs, IDReused: row.IDReused}
			if len(res.JobIDs) > 0 {
				ack.Job = &res.JobIDs[0]
			}
			finish(outcomeAccepted, http.StatusAccepted, ack, slog.LevelInfo, "delivery accepted", append(attrs, "jobs", res.JobIDs)...)
		}
	}
}

func fillDelivery(row *store.Delivery, ev intake.GiteaEvent) {
	row.Action = ev.Action
	row.Repo = ev.Repo
	row.SHA = ev.SHA
	row.Sender = ev.Sender
	if ev.Number > 0 {
		n := ev.Number
		row.Number = &n
	}
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			return v
		}
	}
	return ""
}
