package openqafake

import (
	"encoding/json"
	"time"
)

// Publisher puts an event on the message bus, as openQA's AMQP plugin
// does. routingKey is the whole key, prefix included.
type Publisher interface {
	Publish(routingKey string, body []byte) error
}

// EventCall records one event the fake published (or tried to).
type EventCall struct {
	RoutingKey string
	Body       json.RawMessage
	Err        string
}

// SetPublisher makes the fake publish job and comment events under prefix
// (openQA's [amqp] topic_prefix, "suse" by default; may be empty), the way
// Plugin/AMQP.pm shapes them. nil stops publishing.
func (s *Server) SetPublisher(p Publisher, prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publisher, s.topicPrefix = p, prefix
}

// Events returns every event published so far, in order.
func (s *Server) Events() []EventCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]EventCall(nil), s.events...)
}

// jobEvent is the body of a job event: the base fields, plus the outcome
// of a finished job (openQA has no DISTRI or VERSION here). Callers hold
// s.mu.
func (s *Server) jobEvent(j *job) map[string]any {
	ev := map[string]any{
		"id": j.ID, "BUILD": j.Settings["BUILD"], "TEST": j.Settings["TEST"], "ARCH": j.Settings["ARCH"],
		"MACHINE": j.Settings["MACHINE"], "FLAVOR": j.Settings["FLAVOR"],
	}
	if j.GroupID != 0 {
		ev["group_id"] = j.GroupID
	} else {
		ev["group_id"] = nil
	}
	for _, k := range []string{"ISO", "HDD_1"} {
		if v := j.Settings[k]; v != "" {
			ev[k] = v
		}
	}
	remaining := 0
	for _, o := range s.jobs {
		if o.pending() && o.Settings["BUILD"] == j.Settings["BUILD"] {
			remaining++
		}
	}
	ev["remaining"] = remaining
	if !j.pending() {
		ev["failedmodules"] = []string{}
		ev["bugref"] = nil
	}
	return ev
}

// emit publishes an event outside the lock; callers prepare it under s.mu.
type pendingEvent struct {
	key  string
	body map[string]any
}

// event prepares an event named like openQA's (openqa_job_done →
// <prefix>.openqa.job.done); callers hold s.mu.
func (s *Server) event(name string, body map[string]any) *pendingEvent {
	if s.publisher == nil {
		return nil
	}
	key := "openqa." + name
	if s.topicPrefix != "" {
		key = s.topicPrefix + "." + key
	}
	return &pendingEvent{key: key, body: body}
}

// publish sends a prepared event, synchronously so that a test sees it on
// the broker when the control returns. openQA gives up after a few
// attempts; so does the fake.
func (s *Server) publish(ev *pendingEvent) {
	if ev == nil {
		return
	}
	s.mu.Lock()
	p := s.publisher
	s.mu.Unlock()
	if p == nil {
		return
	}
	b, _ := json.Marshal(ev.body)
	call := EventCall{RoutingKey: ev.key, Body: b}
	var err error
	for attempt := range 3 {
		if err = p.Publish(ev.key, b); err == nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	if err != nil {
		call.Err = err.Error()
	}
	s.mu.Lock()
	s.events = append(s.events, call)
	s.mu.Unlock()
}

func commentEvent(jobID, groupID int64, c *comment) map[string]any {
	return map[string]any{
		"id": c.ID, "job_id": jobID, "group_id": nullable(groupID), "parent_group_id": nil,
		"user": c.User, "text": c.Text,
		"created": c.Created.UTC().Format("2006-01-02T15:04:05Z"), "updated": c.Updated.UTC().Format("2006-01-02T15:04:05Z"),
	}
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
