package openqafake

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// HookCall records one job-done hook delivery.
type HookCall struct {
	JobID int64
	// Status is the receiver's HTTP status, 0 when the request failed.
	Status int
	// Err is the transport error, if any.
	Err string
}

// SetHookEnabled switches the job-done hook on or off.
func (s *Server) SetHookEnabled(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookOn = on
}

// HookCalls returns every hook delivery so far, in order.
func (s *Server) HookCalls() []HookCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hookCalls)
}

// DeliverHook runs the hook for a job again, as openQA does when the hook
// script exits 142 ("retry later").
func (s *Server) DeliverHook(jobID int64) HookCall {
	return s.deliver(jobID)
}

// runHook applies openQA's rules for whether the hook runs at all.
func (s *Server) runHook(jobID int64) {
	s.mu.Lock()
	on := s.hookOn && s.opts.HookURL != ""
	j := s.jobs[jobID]
	trigger := j.Settings["_TRIGGER_JOB_DONE_HOOK"]
	s.mu.Unlock()
	if !on || trigger == "0" || (s.opts.HookOnlyTriggered && trigger != "1") {
		return
	}
	s.deliver(jobID)
}

func (s *Server) deliver(jobID int64) HookCall {
	call := HookCall{JobID: jobID}
	body, _ := json.Marshal(map[string]int64{"id": jobID})
	client := s.opts.HookClient
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.HookURL, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.opts.HookToken)
		var resp *http.Response
		resp, err = client.Do(req)
		if err == nil {
			call.Status = resp.StatusCode
			resp.Body.Close()
		}
	}
	if err != nil {
		call.Err = err.Error()
	}
	s.mu.Lock()
	s.hookCalls = append(s.hookCalls, call)
	s.mu.Unlock()
	return call
}
