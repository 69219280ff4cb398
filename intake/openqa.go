package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/qemgate/qemgate/openqa"
)

// openqaEvent is what the openQA receiver reads from a body: the job-done
// hook's {"id": N}, an AMQP job event (id, result, BUILD, ...), or an AMQP
// comment event, whose id is the comment's and job_id the job's.
type openqaEvent struct {
	ID     openqa.FlexInt  `json:"id"`
	JobID  openqa.FlexInt  `json:"job_id"`
	Result json.RawMessage `json:"result"`
}

// ParseOpenQA returns the job to sync and the event name stored with
// the delivery ("job_done", "job_event" or "comment").
func ParseOpenQA(body []byte) (jobID int64, eventType, result string, err error) {
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

// OpenQADeliveryID names a callback: the job and the sender's
// X-Qemgate-Delivery when it sends one, else the job and a hash of the body,
// so that an exact duplicate (an answer lost on the way, a retried hook)
// collapses into one delivery. A proxy's X-Request-Id is only stored: it
// is not the sender's and may repeat across jobs.
func OpenQADeliveryID(senderID string, jobID int64, body []byte) string {
	if id := senderID; id != "" {
		return fmt.Sprintf("job-%d/%s", jobID, id)
	}
	sum := sha256.Sum256(body)
	return fmt.Sprintf("job-%d-%s", jobID, hex.EncodeToString(sum[:])[:16])
}
