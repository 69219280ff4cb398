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
	"github.com/qemgate/qemgate/internal/httpx"
	"github.com/qemgate/qemgate/store"
)

// Outcomes of a delivery, as counted in qemgate_webhook_deliveries_total.
// The first four are what intake records (TestOutcomesMatchIntake keeps
// them equal); the alert rules are checked against these literals.
const (
	outcomeAccepted     = "accepted"
	outcomeDuplicate    = "duplicate"
	outcomeIgnored      = "ignored"
	outcomeBadRequest   = "bad_request"
	outcomeBadSignature = "bad_signature"
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

// webhook is one sender's side of the shared receiver: how it proves who it
// is, how its request becomes an intake.Message and how a result is
// answered. Everything else (reading the body within the limits, storing
// the delivery with its work, metrics, logs) is the receiver's.
type webhook struct {
	source string
	// peek names the delivery and its event for logs and metrics before
	// anything is read or checked.
	peek func(r *http.Request) (delivery, label string)
	// admit refuses a stranger before the body is read; verify checks the
	// body when the proof covers it (Gitea's HMAC).
	admit  func(w http.ResponseWriter, r *http.Request) bool
	verify func(r *http.Request, body []byte) bool
	// refusal is the answer to a stranger.
	refusal string
	// message reads the request, or names what it lacks.
	message func(r *http.Request, body []byte) (intake.Message, string)
	// ack is the 202 answer to an accepted, ignored or duplicate delivery.
	ack func(res intake.Result) any
	// attrs are what the log line of a recorded delivery adds.
	attrs func(res intake.Result) []any
}

// receive is the one skeleton behind every webhook: admit → read the body →
// verify → decide and store with its work in one transaction → answer. It
// answers 202 only after that commit.
func receive(d Deps, wh webhook) http.HandlerFunc {
	rc := intake.Receiver{Config: &d.Config, Ingest: d.Ingest}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		markLogged(r)
		deliveryID, label := wh.peek(r)
		log := d.Logger.With("source", wh.source, "request_id", middleware.GetReqID(r.Context()), "client_request_id", clientRequestID(r.Context()))
		if deliveryID != "" {
			log = log.With("delivery", deliveryID)
		}
		finish := func(outcome string, status int, v any, level slog.Level, msg string, attrs ...any) {
			d.Metrics.deliveries.WithLabelValues(wh.source, label, outcome).Inc()
			d.Metrics.ingestDuration.WithLabelValues(wh.source).Observe(time.Since(start).Seconds())
			log.Log(r.Context(), level, msg, append([]any{"outcome", outcome, "status", status, "duration_ms", time.Since(start).Milliseconds()}, attrs...)...)
			httpx.WriteJSON(w, status, v)
		}
		fail := func(outcome string, status int, level slog.Level, msg string, attrs ...any) {
			finish(outcome, status, httpx.ErrorBody{Error: msg, Delivery: deliveryID}, level, "delivery rejected", append([]any{"error", msg}, attrs...)...)
		}

		if !wh.admit(w, r) {
			fail(outcomeBadSignature, http.StatusUnauthorized, slog.LevelWarn, wh.refusal)
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
		if wh.verify != nil && !wh.verify(r, body) {
			fail(outcomeBadSignature, http.StatusUnauthorized, slog.LevelWarn, wh.refusal)
			return
		}
		m, missing := wh.message(r, body)
		if missing != "" {
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, missing)
			return
		}
		m.Source, m.Headers, m.Body = wh.source, storableHeaders(r.Header), body

		ctx, cancel := context.WithTimeout(r.Context(), ingestTimeout)
		defer cancel()
		res, err := rc.Receive(ctx, m)
		label = res.Label
		if err != nil {
			// The database is down or slow: the sender records a failed
			// delivery and tries again (openQA's hook script exits 142), and
			// the pollers catch up on what it said.
			fail(outcomeError, http.StatusServiceUnavailable, slog.LevelError, "could not store the delivery; try again")
			log.Error("store delivery", "error", err)
			return
		}
		// Logs and answers show the id as stored: escaped, and renamed when
		// the sender reused it with another body.
		deliveryID = res.Row.DeliveryID
		log = log.With("delivery", deliveryID)
		if res.Row.IDReused {
			log.Warn("delivery id reused with another body: stored under a new id")
		}
		attrs := wh.attrs(res)
		switch res.Outcome {
		case store.OutcomeBadRequest:
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, res.Row.Reason, attrs...)
		case intake.OutcomeDuplicate:
			finish(res.Outcome, http.StatusAccepted, wh.ack(res), slog.LevelInfo, "delivery is a duplicate", attrs...)
		case store.OutcomeIgnored:
			finish(res.Outcome, http.StatusAccepted, wh.ack(res), slog.LevelInfo, "delivery ignored", append(attrs, "reason", res.Row.Reason)...)
		default:
			finish(res.Outcome, http.StatusAccepted, wh.ack(res), slog.LevelInfo, "delivery accepted", append(attrs, "queued", res.Queued)...)
		}
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
