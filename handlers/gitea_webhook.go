package handlers

import (
	"net/http"

	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/store"
)

// giteaAck is the answer to an accepted, duplicate or ignored delivery.
type giteaAck struct {
	Delivery  string  `json:"delivery"`
	Job       *int64  `json:"job,omitempty"`
	Jobs      []int64 `json:"jobs,omitempty"`
	Duplicate bool    `json:"duplicate,omitempty"`
	Ignored   string  `json:"ignored,omitempty"`
	// Queued says that the work is stored with the delivery; the
	// dispatcher inserts its job (Job and Jobs are then empty).
	Queued bool `json:"queued,omitempty"`
	// IDReused says that the id was stored already with another body; this
	// body is stored (and acted on) under Delivery, "<id>#<body hash>".
	IDReused bool `json:"id_reused,omitempty"`
}

// giteaEventType is the fine-grained event type of a delivery; older Gitea
// versions send only the coarse X-Gitea-Event.
func giteaEventType(h http.Header) (eventType, event string) {
	eventType = firstHeader(h, "X-Gitea-Event-Type", "X-Gogs-Event-Type", "X-GitHub-Event-Type")
	event = firstHeader(h, "X-Gitea-Event", "X-Gogs-Event", "X-GitHub-Event")
	if eventType == "" {
		eventType = intake.CoarseEventType(event)
	}
	return eventType, event
}

// handleGiteaWebhook receives Gitea deliveries, signed with one of the
// configured secrets (HMAC-SHA256 of the body).
func handleGiteaWebhook(d Deps) http.HandlerFunc {
	secrets := d.Config.Gitea.WebhookSecrets
	return receive(d, webhook{
		source: intake.SourceGitea,
		peek: func(r *http.Request) (string, string) {
			// Logs show the headers escaped and cut; the raw values go to
			// the row, which MakeStorable checks.
			eventType, _ := giteaEventType(r.Header)
			label := "other" // unknown event names must not grow the label set
			if intake.KnownGiteaEvent(eventType) {
				label = eventType
			}
			id := firstHeader(r.Header, "X-Gitea-Delivery", "X-Gogs-Delivery", "X-GitHub-Delivery")
			return store.ShownText(id, store.MaxDeliveryIDLen), label
		},
		// A stranger without a signature is refused before the body is read.
		admit: func(_ http.ResponseWriter, r *http.Request) bool {
			_, signed := giteaSignature(r.Header)
			return signed && len(secrets) > 0
		},
		verify: func(r *http.Request, body []byte) bool {
			sig, _ := giteaSignature(r.Header)
			return verifyGiteaSignature(secrets, sig, body)
		},
		refusal: "missing or wrong signature",
		message: func(r *http.Request, _ []byte) (intake.Message, string) {
			id := firstHeader(r.Header, "X-Gitea-Delivery", "X-Gogs-Delivery", "X-GitHub-Delivery")
			if id == "" {
				return intake.Message{}, "missing header X-Gitea-Delivery"
			}
			eventType, event := giteaEventType(r.Header)
			return intake.Message{ID: id, Event: event, EventType: eventType}, ""
		},
		ack: func(res intake.Result) any {
			if res.Outcome == intake.OutcomeDuplicate {
				return giteaAck{Delivery: res.Row.DeliveryID, Duplicate: true}
			}
			ack := giteaAck{Delivery: res.Row.DeliveryID, Jobs: res.JobIDs, Queued: res.Queued, IDReused: res.Row.IDReused}
			if res.Outcome == store.OutcomeIgnored {
				ack.Ignored = res.Row.Reason
			}
			if len(res.JobIDs) > 0 {
				ack.Job = &res.JobIDs[0]
			}
			return ack
		},
		attrs: func(res intake.Result) []any {
			return []any{"event_type", store.ShownText(res.Row.EventType, store.MaxFieldLen), "repo", res.Row.Repo, "number", res.Row.Number, "action", res.Row.Action}
		},
	})
}
