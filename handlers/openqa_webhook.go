package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

// openqaEvent is what the openQA receiver reads from a body: the job-done
// hook's {"id": N}, an AMQP job event (id, result, BUILD, ...), or an AMQP
// comment event, whose id is the comment's and job_id the job's.
type openqaEvent struct {
	ID     openqa.FlexInt  `json:"id"`
	JobID  openqa.FlexInt  `json:"job_id"`
	Result json.RawMessage `json:"result"`
}

// parseOpenQAEvent returns the job to sync and the event name stored with
// the delivery ("job_done", "job_event" or "comment").
func parseOpenQAEvent(body []byte) (jobID int64, eventType, result string, err error) {
	var ev openqaEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return 0, "", "", fmt.Errorf("body is not a JSON object with a job id: %v", err)
	}
	switch {
	case ev.JobID > 0:
		return int64(ev.JobID), "comment", "", nil
	case ev.ID > 0:
		eventType = "job_done"
		if len(ev.Result) > 0 && ev.Result[0] == '"' {
			_ = json.Unmarshal(ev.Result, &result)
		} else if len(ev.Result) > 0 && !bytes.Equal(ev.Result, []byte("null")) {
			// job.restart carries a map old→new: a job event, not a result.
			eventType = "job_event"
		}
		return int64(ev.ID), eventType, result, nil
	}
	return 0, "", "", errors.New(`body has no positive "id" (or "job_id")`)
}

// openqaDeliveryID names a callback: the job and the sender's
// X-Qemgate-Delivery when it sends one, else the job and a hash of the body,
// so that an exact duplicate (an answer lost on the way, a retried hook)
// collapses into one delivery. A proxy's X-Request-Id is only stored: it
// is not the sender's and may repeat across jobs.
func openqaDeliveryID(h http.Header, jobID int64, body []byte) string {
	if id := firstHeader(h, "X-Qemgate-Delivery"); id != "" {
		return fmt.Sprintf("job-%d/%s", jobID, id)
	}
	sum := sha256.Sum256(body)
	return fmt.Sprintf("job-%d-%s", jobID, hex.EncodeToString(sum[:])[:16])
}

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
		jobID, eventType, result, perr := parseOpenQAEvent(body)
		if perr != nil {
			fail(outcomeBadRequest, http.StatusBadRequest, slog.LevelWarn, perr.Error(), "")
			return
		}
		event = eventType
		deliveryID := openqaDeliveryID(r.Header, jobID, body)
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
