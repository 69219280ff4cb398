package giteafake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Hook configures a webhook: set Repo ("owner/name") for a repository hook or
// Org for an organisation hook. Events are Gitea subscribe names
// ("pull_request", "pull_request_review", "issue_comment", "status", ...);
// "pull_request" expands to every pull_request_* event as Gitea's API does,
// and an empty list subscribes to everything.
type Hook struct {
	Repo                string   `json:"repo,omitempty"`
	Org                 string   `json:"org,omitempty"`
	URL                 string   `json:"url"`
	Secret              string   `json:"secret,omitempty"`
	Events              []string `json:"events,omitempty"`
	AuthorizationHeader string   `json:"authorization_header,omitempty"`
}

type hook struct {
	id int64
	Hook
	target string // X-Gitea-Hook-Installation-Target-Type
}

func (h *hook) wants(eventType string) bool {
	if len(h.Events) == 0 {
		return true
	}
	for _, e := range h.Events {
		switch {
		case e == eventType:
			return true
		case e == "pull_request" && strings.HasPrefix(eventType, "pull_request"):
			return true
		case e == "pull_request_review" && strings.HasPrefix(eventType, "pull_request_review_") && eventType != "pull_request_review_request":
			return true
		}
	}
	return false
}

// coarseEvent is HookEventType.Event(): the X-Gitea-Event value.
func coarseEvent(eventType string) string {
	switch eventType {
	case "pull_request_comment":
		return "issue_comment"
	case "pull_request_review_approved":
		return "pull_request_approved"
	case "pull_request_review_rejected":
		return "pull_request_rejected"
	case "pull_request_review_comment":
		return "pull_request_comment"
	}
	if strings.HasPrefix(eventType, "pull_request") {
		return "pull_request"
	}
	return eventType
}

// AddHook registers a webhook and returns its id.
func (s *Server) AddHook(h Hook) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.URL == "" {
		return 0, errf(http.StatusUnprocessableEntity, "hook url is required")
	}
	s.seq.hook++
	nh := &hook{id: s.seq.hook, Hook: h}
	switch {
	case h.Repo != "":
		r := s.repos[h.Repo]
		if r == nil {
			return 0, notFound()
		}
		nh.target = "repository"
		r.hooks = append(r.hooks, nh)
	case h.Org != "":
		if o := s.users[h.Org]; o == nil || !o.isOrg {
			return 0, notFound()
		}
		nh.target = "organization"
		s.orgHooks[h.Org] = append(s.orgHooks[h.Org], nh)
	default:
		return 0, errf(http.StatusUnprocessableEntity, "hook needs Repo or Org")
	}
	return nh.id, nil
}

// emit queues one delivery per subscribed hook of r (repo and org hooks).
// The body is json.MarshalIndent(payload, "", "  ") without trailing newline,
// exactly as Gitea sends it. Caller holds s.mu.
func (s *Server) emit(r *repo, eventType string, payload any) {
	body, err := json.MarshalIndent(payload, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("giteafake: marshal %s payload: %v", eventType, err))
	}
	var hooks []*hook
	hooks = append(hooks, r.hooks...)
	hooks = append(hooks, s.orgHooks[r.owner.login]...)
	for _, h := range hooks {
		if h.wants(eventType) {
			s.hooks.enqueue(h, coarseEvent(eventType), eventType, body, "")
		}
	}
}

// Delivery is the record of one webhook task, as Gitea's hook_task table keeps it.
type Delivery struct {
	ID           string      `json:"id"`
	HookID       int64       `json:"hook_id"`
	URL          string      `json:"url"`
	Event        string      `json:"event"`
	EventType    string      `json:"event_type"`
	Body         []byte      `json:"-"`
	Headers      http.Header `json:"headers"`
	RedeliveryOf string      `json:"redelivery_of,omitempty"`
	Created      time.Time   `json:"created"`
	// Dropped deliveries were recorded but never sent (Switches.Drop).
	Dropped bool `json:"dropped"`
	// Held deliveries wait for Flush (Switches.Reorder).
	Held bool `json:"held"`
	// Sends counts HTTP attempts (2 with Switches.Duplicate).
	Sends      int    `json:"sends"`
	StatusCode int    `json:"status_code"`
	Err        string `json:"error,omitempty"`
	Delivered  bool   `json:"delivered"`
}

// Succeeded reports a 2xx answer, Gitea's definition of success.
func (d Delivery) Succeeded() bool { return d.StatusCode >= 200 && d.StatusCode < 300 }

// Reorder modes for Switches.Reorder.
const (
	ReorderNone    = ""
	ReorderReverse = "reverse"
	ReorderShuffle = "shuffle"
)

// Switches change how deliveries are sent, to rehearse Gitea's best-effort
// delivery (no retry, no ordering guarantee).
type Switches struct {
	// Disabled suppresses all webhooks: nothing is recorded or sent.
	Disabled bool `json:"disabled"`
	// Drop records deliveries but never sends them.
	Drop bool `json:"drop"`
	// Duplicate sends every delivery twice with the same delivery id.
	Duplicate bool `json:"duplicate"`
	// Delay waits this long before each send.
	Delay time.Duration `json:"delay"`
	// Reorder holds deliveries until Flush, which releases them in reverse
	// or shuffled order.
	Reorder string `json:"reorder"`
	// Seed makes ReorderShuffle reproducible (0 picks 1).
	Seed uint64 `json:"seed"`
}

type deliverer struct {
	client *http.Client

	mu       sync.Mutex
	wake     chan struct{}
	done     chan struct{}
	sw       Switches
	all      []*Delivery
	byID     map[string]*Delivery
	hooks    map[*Delivery]*hook
	queue    []*Delivery
	held     []*Delivery
	inflight int
	stopped  sync.WaitGroup
}

func newDeliverer(timeout time.Duration) *deliverer {
	d := &deliverer{
		client: &http.Client{Timeout: timeout},
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		byID:   map[string]*Delivery{},
		hooks:  map[*Delivery]*hook{},
	}
	d.stopped.Add(1)
	go d.run()
	return d
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (d *deliverer) enqueue(h *hook, event, eventType string, body []byte, redeliveryOf string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sw.Disabled {
		return ""
	}
	dl := &Delivery{
		ID: newUUID(), HookID: h.id, URL: h.URL, Event: event, EventType: eventType,
		Body: body, RedeliveryOf: redeliveryOf, Created: time.Now(),
	}
	dl.Headers = deliveryHeaders(h, dl)
	d.all = append(d.all, dl)
	d.byID[dl.ID] = dl
	d.hooks[dl] = h
	switch {
	case d.sw.Drop:
		dl.Dropped = true
	case d.sw.Reorder != ReorderNone:
		dl.Held = true
		d.held = append(d.held, dl)
	default:
		d.queue = append(d.queue, dl)
		d.signal()
	}
	return dl.ID
}

func (d *deliverer) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// deliveryHeaders reproduces addDefaultHeaders: one UUID and event name under
// the Gitea, Gogs and GitHub prefixes, and the three signatures (present but
// empty when the hook has no secret).
func deliveryHeaders(h *hook, dl *Delivery) http.Header {
	var sig256, sig1 string
	if h.Secret != "" {
		m := hmac.New(sha256.New, []byte(h.Secret))
		m.Write(dl.Body)
		sig256 = hex.EncodeToString(m.Sum(nil))
		m1 := hmac.New(sha1.New, []byte(h.Secret))
		m1.Write(dl.Body)
		sig1 = hex.EncodeToString(m1.Sum(nil))
	}
	hd := http.Header{}
	hd["Content-Type"] = []string{"application/json"}
	for _, p := range []string{"X-Gitea-", "X-Gogs-", "X-GitHub-"} {
		hd[p+"Delivery"] = []string{dl.ID}
		hd[p+"Event"] = []string{dl.Event}
		hd[p+"Event-Type"] = []string{dl.EventType}
	}
	hd["X-Gitea-Signature"] = []string{sig256}
	hd["X-Gogs-Signature"] = []string{sig256}
	hd["X-Hub-Signature-256"] = []string{"sha256=" + sig256}
	hd["X-Hub-Signature"] = []string{"sha1=" + sig1}
	hd["X-Gitea-Hook-Installation-Target-Type"] = []string{h.target}
	hd["X-GitHub-Hook-Installation-Target-Type"] = []string{h.target}
	if h.AuthorizationHeader != "" {
		hd["Authorization"] = []string{h.AuthorizationHeader}
	}
	return hd
}

func (d *deliverer) run() {
	defer d.stopped.Done()
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			d.mu.Unlock()
			select {
			case <-d.wake:
				continue
			case <-d.done:
				return
			}
		}
		dl := d.queue[0]
		d.queue = d.queue[1:]
		d.inflight++
		sw := d.sw
		d.mu.Unlock()

		if sw.Delay > 0 {
			t := time.NewTimer(sw.Delay)
			select {
			case <-t.C:
			case <-d.done:
				t.Stop()
				d.finish(dl, 0, "server closed")
				return
			}
		}
		sends := 1
		if sw.Duplicate {
			sends = 2
		}
		for i := 0; i < sends; i++ {
			code, errText := d.send(dl)
			d.finish(dl, code, errText)
		}
		d.mu.Lock()
		d.inflight--
		d.mu.Unlock()
	}
}

func (d *deliverer) send(dl *Delivery) (int, string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-d.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.URL, bytes.NewReader(dl.Body))
	if err != nil {
		return 0, err.Error()
	}
	for k, v := range dl.Headers {
		req.Header[k] = v
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Sprintf("unexpected status %d", resp.StatusCode)
	}
	return resp.StatusCode, ""
}

func (d *deliverer) finish(dl *Delivery, code int, errText string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dl.Sends++
	dl.StatusCode = code
	dl.Err = errText
	dl.Delivered = true
}

func (d *deliverer) close() {
	select {
	case <-d.done:
	default:
		close(d.done)
	}
	d.stopped.Wait()
}

// SetSwitches replaces the delivery switches. Turning Reorder off does not
// release held deliveries; call Flush.
func (s *Server) SetSwitches(sw Switches) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.sw = sw
}

// CurrentSwitches returns the delivery switches in effect.
func (s *Server) CurrentSwitches() Switches {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return s.hooks.sw
}

// Flush releases held deliveries (Switches.Reorder) into the send queue,
// reversed or shuffled, and returns how many were released.
func (s *Server) Flush() int {
	d := s.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	held := d.held
	d.held = nil
	switch d.sw.Reorder {
	case ReorderShuffle:
		seed := d.sw.Seed
		if seed == 0 {
			seed = 1
		}
		rng := mrand.New(mrand.NewPCG(seed, seed))
		rng.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
	default:
		for i, j := 0, len(held)-1; i < j; i, j = i+1, j-1 {
			held[i], held[j] = held[j], held[i]
		}
	}
	for _, dl := range held {
		dl.Held = false
	}
	d.queue = append(d.queue, held...)
	d.signal()
	return len(held)
}

// WaitIdle blocks until every queued delivery has been sent (held ones do not
// count) or ctx ends.
func (s *Server) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		s.hooks.mu.Lock()
		idle := len(s.hooks.queue) == 0 && s.hooks.inflight == 0
		s.hooks.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for webhook deliveries: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Deliveries returns a snapshot of every recorded delivery, oldest first.
func (s *Server) Deliveries() []Delivery {
	d := s.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Delivery, len(d.all))
	for i, dl := range d.all {
		out[i] = *dl
		out[i].Headers = dl.Headers.Clone()
	}
	return out
}

// Redeliver replays a recorded delivery like Gitea's "Replay" button: a new
// task with a new UUID and the same body. It returns the new delivery id.
func (s *Server) Redeliver(id string) (string, error) {
	d := s.hooks
	d.mu.Lock()
	dl := d.byID[id]
	var h *hook
	if dl != nil {
		h = d.hooks[dl]
	}
	d.mu.Unlock()
	if dl == nil {
		return "", errf(http.StatusNotFound, "delivery %s not found", id)
	}
	newID := d.enqueue(h, dl.Event, dl.EventType, dl.Body, id)
	if newID == "" {
		return "", errf(http.StatusConflict, "webhooks are disabled")
	}
	return newID, nil
}
