package handlers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/internal/httpx"
	"github.com/qemgate/qemgate/internal/nonnil"
	"github.com/qemgate/qemgate/store"
)

// handleReplayDelivery enqueues the work of a stored delivery again, decided
// afresh from the stored body. The replay is stored as a new delivery linked
// to the original, so the record shows who asked for what.
func handleReplayDelivery(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		orig, ok := loadDelivery(w, r, d)
		if !ok {
			return
		}
		if !slices.Contains([]string{intake.SourceGitea, intake.SourceOpenQA, intake.SourceGiteaAMQP, intake.SourceOpenQAAMQP}, orig.Source) {
			httpx.WriteError(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("deliveries from %s cannot be replayed", orig.Source), orig.DeliveryID)
			return
		}
		// Decided afresh from the stored body and the current configuration,
		// by the receiver's own reader.
		dec := intake.Decide(&d.Config, intake.Message{
			Source: orig.Source, ID: orig.DeliveryID, Event: orig.Event, EventType: orig.EventType,
			Headers: orig.Headers, Body: orig.Body,
		})
		if dec.Bad() {
			httpx.WriteError(w, r, http.StatusUnprocessableEntity, "the stored delivery is not usable: "+dec.Row.Reason, orig.DeliveryID)
			return
		}
		row := &dec.Row
		row.DeliveryID = fmt.Sprintf("%s/replay/%d", orig.DeliveryID, time.Now().UnixNano())
		row.ReplayOf = &orig.ID
		if problems := row.MakeStorable(); len(problems) > 0 {
			httpx.WriteError(w, r, http.StatusUnprocessableEntity, "the stored delivery is not usable: "+strings.Join(problems, "; "), orig.DeliveryID)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), ingestTimeout)
		defer cancel()
		res, err := d.Ingest.AcceptNow(ctx, row, dec.Intent)
		if err != nil {
			d.Logger.ErrorContext(r.Context(), "replay delivery", "delivery", orig.DeliveryID, "error", err)
			httpx.WriteError(w, r, http.StatusServiceUnavailable, "could not store the replay; try again", orig.DeliveryID)
			return
		}
		d.Metrics.replays.WithLabelValues("delivery").Inc()
		d.Logger.InfoContext(r.Context(), "delivery replayed", "delivery", orig.DeliveryID, "replay", row.DeliveryID, "jobs", res.JobIDs, "reason", row.Reason)
		answer := map[string]any{
			"delivery":  row.DeliveryID,
			"id":        res.Delivery,
			"replay_of": orig.ID,
			"jobs":      nonnil.Slice(res.JobIDs),
		}
		if dec.OpenQAJob != 0 {
			answer["openqa_job"] = dec.OpenQAJob
		}
		if row.Outcome == store.OutcomeIgnored {
			answer["ignored"] = row.Reason
		}
		httpx.WriteJSON(w, http.StatusAccepted, answer)
	}
}
