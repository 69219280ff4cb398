package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/internal/httpx"
	"github.com/qemgate/qemgate/internal/nonnil"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// deliveryView is a stored delivery as the admin API shows it.
type deliveryView struct {
	store.Delivery
	Payload json.RawMessage `json:"payload,omitempty"`
	Body    string          `json:"body,omitempty"` // when the stored bytes are not JSON
}

func handleListDeliveries(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := store.DeliveryFilter{
			Source:  q.Get("source"),
			Outcome: q.Get("outcome"),
			Event:   q.Get("event"),
			Repo:    q.Get("repo"),
		}
		if msg := checkDeliveryFilter(f); msg != "" {
			httpx.WriteError(w, r, http.StatusBadRequest, msg, "")
			return
		}
		var err error
		if f.Number, err = optionalInt(q.Get("number")); err != nil {
			httpx.WriteError(w, r, http.StatusBadRequest, "number: "+err.Error(), "")
			return
		}
		if f.Before, err = optionalInt(q.Get("before")); err != nil {
			httpx.WriteError(w, r, http.StatusBadRequest, "before: "+err.Error(), "")
			return
		}
		limit, err := optionalInt(q.Get("limit"))
		if err != nil || limit < 0 || limit > 500 {
			httpx.WriteError(w, r, http.StatusBadRequest, "limit: must be a whole number from 1 to 500", "")
			return
		}
		f.Limit = int(limit)
		if f.Limit == 0 {
			f.Limit = 50
		}
		list, err := store.ListDeliveries(r.Context(), d.Store.Pool, f)
		if err != nil {
			d.Logger.ErrorContext(r.Context(), "list deliveries", "error", err)
			httpx.WriteError(w, r, http.StatusServiceUnavailable, "could not read deliveries", "")
			return
		}
		resp := struct {
			Deliveries []store.Delivery `json:"deliveries"`
			Next       string           `json:"next,omitempty"`
		}{Deliveries: list}
		if resp.Deliveries == nil {
			resp.Deliveries = []store.Delivery{}
		}
		if len(list) == f.Limit {
			next := r.URL.Query()
			next.Set("before", strconv.FormatInt(list[len(list)-1].ID, 10))
			resp.Next = r.URL.Path + "?" + next.Encode()
		}
		httpx.WriteJSON(w, http.StatusOK, resp)
	}
}

func handleGetDelivery(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		del, ok := loadDelivery(w, r, d)
		if !ok {
			return
		}
		v := deliveryView{Delivery: *del}
		if json.Valid(del.Body) {
			v.Payload = del.Body
		} else {
			v.Body = string(del.Body)
		}
		httpx.WriteJSON(w, http.StatusOK, v)
	}
}

// handleResyncPull enqueues a sync of one PR, recorded as an admin delivery.
func handleResyncPull(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "owner") + "/" + chi.URLParam(r, "repo")
		number, err := strconv.ParseInt(chi.URLParam(r, "number"), 10, 64)
		if err != nil || number <= 0 {
			httpx.WriteError(w, r, http.StatusBadRequest, "number: must be a positive whole number", "")
			return
		}
		repo, ok := d.Config.Repo(name)
		if !ok {
			httpx.WriteError(w, r, http.StatusNotFound, fmt.Sprintf("repository %s is not watched", name), "")
			return
		}
		row := &store.Delivery{
			Source:     "admin",
			DeliveryID: fmt.Sprintf("resync/%s/%d/%d", repo.Name, number, time.Now().UnixNano()),
			Event:      "resync",
			EventType:  "resync",
			Repo:       repo.Name,
			Number:     &number,
			Body:       []byte("{}"),
			Outcome:    store.OutcomeAccepted,
		}
		ctx, cancel := context.WithTimeout(r.Context(), ingestTimeout)
		defer cancel()
		res, err := d.Ingest.AcceptNow(ctx, row, jobs.Intent{Repo: repo.Name, Number: number, Deep: true})
		if err != nil {
			d.Logger.ErrorContext(r.Context(), "resync", "pull", fmt.Sprintf("%s#%d", repo.Name, number), "error", err)
			httpx.WriteError(w, r, http.StatusServiceUnavailable, "could not enqueue the resync; try again", "")
			return
		}
		d.Metrics.replays.WithLabelValues("resync").Inc()
		httpx.WriteJSON(w, http.StatusAccepted, map[string]any{"delivery": row.DeliveryID, "jobs": nonnil.Slice(res.JobIDs)})
	}
}

// checkDeliveryFilter refuses filters no stored delivery can match, before
// the database sees them: a source or outcome that does not exist, text that
// is not storable.
func checkDeliveryFilter(f store.DeliveryFilter) string {
	if f.Source != "" && !slices.Contains(intake.Sources, f.Source) {
		return fmt.Sprintf("source: %q is not one of %s", store.ShownText(f.Source, 50), strings.Join(intake.Sources, ", "))
	}
	if f.Outcome != "" && !slices.Contains([]string{store.OutcomeAccepted, store.OutcomeIgnored, store.OutcomeBadRequest}, f.Outcome) {
		return fmt.Sprintf("outcome: %q is not one of %s, %s, %s", store.ShownText(f.Outcome, 50), store.OutcomeAccepted, store.OutcomeIgnored, store.OutcomeBadRequest)
	}
	for name, v := range map[string]string{"event": f.Event, "repo": f.Repo} {
		if msg := httpx.CheckText(name, v); msg != "" {
			return msg
		}
	}
	return ""
}

func loadDelivery(w http.ResponseWriter, r *http.Request, d Deps) (*store.Delivery, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		httpx.WriteError(w, r, http.StatusBadRequest, "id: must be a positive whole number", "")
		return nil, false
	}
	del, err := store.GetDelivery(r.Context(), d.Store.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		httpx.WriteError(w, r, http.StatusNotFound, fmt.Sprintf("no delivery %d", id), "")
		return nil, false
	}
	if err != nil {
		d.Logger.ErrorContext(r.Context(), "read delivery", "id", id, "error", err)
		httpx.WriteError(w, r, http.StatusServiceUnavailable, "could not read the delivery", "")
		return nil, false
	}
	return del, true
}

func optionalInt(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}
