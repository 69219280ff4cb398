package openqa

import (
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"net/http"
	"net/url"
)

// ScheduleResult is openQA's answer to POST /api/v1/isos.
type ScheduleResult struct {
	ScheduledProductID int64 `json:"scheduled_product_id"`
	// IDs are the created jobs; Count is their number as openQA reports it.
	IDs   []int64 `json:"ids"`
	Count int     `json:"count"`
	// Failed lists jobs openQA could not create or wire up. It may be non-empty
	// on success; PostISOs leaves that judgement to the caller.
	Failed []FailedJob `json:"failed,omitempty"`
	// GruTaskID and MinionJobID are set instead of IDs for async=1.
	GruTaskID   int64 `json:"gru_task_id,omitempty"`
	MinionJobID int64 `json:"minion_job_id,omitempty"`
	// Error is openQA's scheduling error, also returned as an *APIError.
	Error string `json:"error,omitempty"`
}

// FailedJob is one entry of "failed": either {job_name, error_message}
// (creation failed) or {job_id, error_messages} (dependency problem).
type FailedJob struct {
	JobName       string   `json:"job_name,omitempty"`
	ErrorMessage  string   `json:"error_message,omitempty"`
	JobID         int64    `json:"job_id,omitempty"`
	ErrorMessages []string `json:"error_messages,omitempty"`
}

// UnmarshalJSON copes with "failed" being {} on error and an array on
// success, and with ids as strings.
func (r *ScheduleResult) UnmarshalJSON(b []byte) error {
	var w struct {
		ScheduledProductID FlexInt         `json:"scheduled_product_id"`
		IDs                []FlexInt       `json:"ids"`
		Count              FlexInt         `json:"count"`
		Failed             json.RawMessage `json:"failed"`
		GruTaskID          FlexInt         `json:"gru_task_id"`
		MinionJobID        FlexInt         `json:"minion_job_id"`
		Error              json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode schedule result: %w", err)
	}
	*r = ScheduleResult{
		ScheduledProductID: int64(w.ScheduledProductID), Count: int(w.Count),
		GruTaskID: int64(w.GruTaskID), MinionJobID: int64(w.MinionJobID),
	}
	for _, id := range w.IDs {
		r.IDs = append(r.IDs, int64(id))
	}
	if f := bytes.TrimSpace(w.Failed); len(f) > 0 && f[0] == '[' {
		var failed []struct {
			JobName       flexString   `json:"job_name"`
			ErrorMessage  flexString   `json:"error_message"`
			JobID         FlexInt      `json:"job_id"`
			ErrorMessages []flexString `json:"error_messages"`
		}
		if err := json.Unmarshal(f, &failed); err != nil {
			return fmt.Errorf("decode schedule result failed list: %w", err)
		}
		for _, x := range failed {
			fj := FailedJob{JobName: string(x.JobName), ErrorMessage: string(x.ErrorMessage), JobID: int64(x.JobID)}
			for _, m := range x.ErrorMessages {
				fj.ErrorMessages = append(fj.ErrorMessages, string(m))
			}
			r.Failed = append(r.Failed, fj)
		}
	}
	if e := bytes.TrimSpace(w.Error); len(e) > 0 && string(e) != "null" {
		var s string
		if json.Unmarshal(e, &s) == nil {
			r.Error = s
		} else {
			r.Error = string(e)
		}
	}
	return nil
}

// PostISOs schedules a product from job templates: POST /api/v1/isos with
// params as a form body (operator level). params are sent as given; keys
// are DISTRI, VERSION, FLAVOR, ARCH, BUILD, switches like _OBSOLETE, and any
// setting for the jobs.
//
// It never retries. Scheduling is not idempotent: a retried POST after a
// lost answer would create a second set of jobs. The caller retries, after
// checking what exists, when IsRetryable(err) says it may help.
//
// openQA's quirks are folded into the error, which is always an *APIError:
//   - an "error" inside HTTP 200 (e.g. "no products found for ...", or
//     TEST combined with _OBSOLETE) gives Status 200, not retryable;
//   - "no templates found for ..." is a 404 (IsNoTemplates);
//   - missing DISTRI/VERSION/FLAVOR/ARCH is a text/plain 400.
//
// When openQA's body could be read, the result is returned alongside the
// error so the caller can log the scheduled product id.
func (c *Client) PostISOs(ctx context.Context, params url.Values) (*ScheduleResult, error) {
	form := url.Values{}
	for k, vs := range params {
		form[k] = append([]string(nil), vs...)
	}
	resp, err := c.once(ctx, call{method: http.MethodPost, endpoint: "isos", path: "isos", form: form})
	what := fmt.Sprintf("schedule %s-%s-%s-%s build %q", params.Get("DISTRI"), params.Get("VERSION"), params.Get("FLAVOR"), params.Get("ARCH"), params.Get("BUILD"))
	if err != nil {
		var res *ScheduleResult
		if resp != nil {
			var r ScheduleResult
			if json.Unmarshal(resp.body, &r) == nil {
				res = &r
			}
		}
		return res, fmt.Errorf("%s: %w", what, err)
	}
	var res ScheduleResult
	if err := decode(resp, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if res.Error != "" {
		return &res, fmt.Errorf("%s: %w", what, &APIError{Status: resp.status, Endpoint: resp.endpoint, Message: res.Error})
	}
	if res.Count == 0 && len(res.IDs) > 0 {
		res.Count = len(res.IDs)
	}
	return &res, nil
}
