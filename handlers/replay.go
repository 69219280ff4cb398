package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// replayed is what a stored delivery implies when it is replayed, decided
// afresh from its body by the receiver's own parser.
type replayed struct {
	row    store.Delivery // the event fields of the new row
	intent jobs.Intent
	// answer holds the source's own keys of the 202 answer.
	answer map[string]any
}

// giteaReplay decides a stored Gitea delivery again, from the stored body
// and the current configuration, as the receiver does.
func giteaReplay(d Deps, orig *store.Delivery) (replayed, error) {
	ev, err := intake.ParseGitea(&d.Config, orig.EventType, orig.Body)
	if err != nil {
		return replayed{}, err
	}
	re := replayed{intent: ev.Intent, answer: map[string]any{"ignored": ev.Ignored}}
	re.row = store.Delivery{Event: orig.Event, EventType: orig.EventType, Outcome: store.OutcomeAccepted}
	fillDelivery(&re.row, ev)
	if ev.Ignored != "" {
		re.row.Outcome, re.row.Reason = store.OutcomeIgnored, ev.Ignored
	}
	return re, nil
}

// openqaReplay syncs the job of a stored openQA callback again.
func openqaReplay(orig *store.Delivery) (replayed, error) {
	jobID, eventType, result, err := intake.ParseOpenQA(orig.Body)
	if err != nil {
		return replayed{}, err
	}
	return replayed{
		row:    store.Delivery{Event: eventType, EventType: eventType, Action: result, Outcome: store.OutcomeAccepted},
		intent: jobs.Intent{OpenQAJob: jobID},
		answer: map[string]any{"openqa_job": jobID},
	}, nil
}

// handleReplayDelivery enqueues the work of a stored delivery again, decided
// afresh from the stored body. The replay is stored as a new delivery linked
// to the original, so the record shows who asked for what.
func handleReplayDelivery(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		orig, ok := loadDelivery(w, r, d)
		if !ok {
			return
		}
		var re replayed
		var err error
		switch orig.Source {
		case "gitea":
			re, err = giteaReplay(d, orig)
		case "openqa":
			re, err = openqaReplay(orig)
		default:
			writeError(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("deliveries from %s cannot be replayed", orig.Source), orig.DeliveryID)
			return
		}
		if err != nil {
			writeError(w, r, http.StatusUnprocessableEntity, "the stored delivery is not usable: "+err.Error(), orig.DeliveryID)
			return
		}
		row := &re.row
		row.Source = orig.Source
		row.DeliveryID = fmt.Sprintf("%s/replay/%d", orig.DeliveryID, time.Now().UnixNano())
		row.Headers, row.Body, row.ReplayOf = orig.Headers, orig.Body, &orig.ID
		if problems := row.MakeStorable(); len(problems) > 0 {
			writeError(w, r, http.StatusUnprocessableEntity, "the stored delivery is not usable: "+strings.Join(problems, "; "), orig.DeliveryID)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), ingestTimeout)
		defer cancel()
		res, err := d.Ingest.Accept(ctx, row, re.intent)
		if err != nil {
			d.Logger.ErrorContext(r.Context(), "replay delivery", "delivery", orig.DeliveryID, "error", err)
			writeError(w, r, http.StatusServiceUnavailable, "could not store the replay; try again", orig.DeliveryID)
			return
		}
		d.Metrics.replays.WithLabelValues("delivery").Inc()
		d.Logger.InfoContext(r.Context(), "delivery replayed", "delivery", orig.DeliveryID, "replay", row.DeliveryID, "jobs", res.JobIDs, "reason", row.Reason)
		answer := map[string]any{
			"delivery":  row.DeliveryID,
			"id":        res.Delivery,
			"replay_of": orig.ID,
			"jobs":      nonNilIDs(res.JobIDs),
		}
		for k, v := range re.answer {
			answer[k] = v
		}
		writeJSON(w, http.StatusAccepted, answer)
	}
}
