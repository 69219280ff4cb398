package handlers

import (
	"net/http"

	"github.com/qemgate/qemgate/intake"
)

// openqaAck is the answer to an accepted or duplicate callback.
type openqaAck struct {
	Delivery  string  `json:"delivery"`
	OpenQAJob int64   `json:"openqa_job"`
	Jobs      []int64 `json:"jobs,omitempty"`
	Duplicate bool    `json:"duplicate,omitempty"`
	// Queued: the work is stored; the dispatcher inserts its job.
	Queued   bool `json:"queued,omitempty"`
	IDReused bool `json:"id_reused,omitempty"`
}

// handleOpenQAWebhook receives job-done callbacks from openQA's hook script
// (or a bridge from AMQP), authenticated by the callback bearer token.
func handleOpenQAWebhook(d Deps) http.HandlerFunc {
	token := d.Config.OpenQA.CallbackToken
	return receive(d, webhook{
		source: intake.SourceOpenQA,
		peek:   func(*http.Request) (string, string) { return "", "other" },
		admit: func(w http.ResponseWriter, r *http.Request) bool {
			got, ok := bearerToken(r.Header)
			if !ok || !equalToken(got, token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="openqa"`)
				return false
			}
			return true
		},
		refusal: "missing or wrong bearer token",
		message: func(r *http.Request, _ []byte) (intake.Message, string) {
			// The sender's own id, when it sends one; a proxy's X-Request-Id
			// is only stored: it is not the sender's and may repeat.
			return intake.Message{ID: firstHeader(r.Header, "X-Qemgate-Delivery")}, ""
		},
		ack: func(res intake.Result) any {
			if res.Outcome == intake.OutcomeDuplicate {
				return openqaAck{Delivery: res.Row.DeliveryID, OpenQAJob: res.OpenQAJob, Duplicate: true}
			}
			return openqaAck{Delivery: res.Row.DeliveryID, OpenQAJob: res.OpenQAJob, Jobs: res.JobIDs, Queued: res.Queued, IDReused: res.Row.IDReused}
		},
		attrs: func(res intake.Result) []any {
			return []any{"openqa_job", res.OpenQAJob, "event_type", res.Row.EventType, "result", res.Row.Action}
		},
	})
}
