package openqa

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Comment is a job comment as GET /api/v1/jobs/<id>/comments returns it.
type Comment struct {
	ID       int64     `json:"id"`
	Text     string    `json:"text"`
	UserName string    `json:"userName"`
	BugRefs  []string  `json:"bugrefs,omitempty"`
	Created  Timestamp `json:"created"`
	Updated  Timestamp `json:"updated"`
}

// UnmarshalJSON tolerates string ids and null lists.
func (c *Comment) UnmarshalJSON(b []byte) error {
	var w struct {
		ID       FlexInt      `json:"id"`
		Text     flexString   `json:"text"`
		UserName flexString   `json:"userName"`
		BugRefs  []flexString `json:"bugrefs"`
		Created  Timestamp    `json:"created"`
		Updated  Timestamp    `json:"updated"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode comment: %w", err)
	}
	*c = Comment{ID: int64(w.ID), Text: string(w.Text), UserName: string(w.UserName), Created: w.Created, Updated: w.Updated}
	for _, r := range w.BugRefs {
		c.BugRefs = append(c.BugRefs, string(r))
	}
	return nil
}

// JobComments lists a job's comments, oldest first. An unknown job is a 404
// (IsNotFound); qem-bot then treats the job as obsolete.
func (c *Client) JobComments(ctx context.Context, jobID int64) ([]Comment, error) {
	resp, err := c.get(ctx, call{method: http.MethodGet, endpoint: "comments", path: "jobs/" + strconv.FormatInt(jobID, 10) + "/comments"})
	if err != nil {
		return nil, fmt.Errorf("comments of job %d: %w", jobID, err)
	}
	var out []Comment
	if err := decode(resp, &out); err != nil {
		return nil, fmt.Errorf("comments of job %d: %w", jobID, err)
	}
	return out, nil
}
