package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// Sources of deliveries, as stored in deliveries.source.
const (
	SourceGitea      = "gitea"       // a signed webhook from Gitea
	SourceOpenQA     = "openqa"      // openQA's job-done hook script
	SourceGiteaAMQP  = "gitea-amqp"  // a Gitea event from the message bus
	SourceOpenQAAMQP = "openqa-amqp" // an openQA job or comment event from the message bus
	SourceAdmin      = "admin"       // an operator's resync
)

// Sources lists every source, for filters and checks.
var Sources = []string{SourceGitea, SourceOpenQA, SourceGiteaAMQP, SourceOpenQAAMQP, SourceAdmin}

// OutcomeDuplicate is the outcome of a delivery stored before: it is
// answered as it was and implies no new work.
const OutcomeDuplicate = "duplicate"

// Message is one delivery as it arrived, before anything is decided.
type Message struct {
	Source string
	// ID is the sender's id for the delivery. Empty lets Decide derive one
	// from the body, so that an exact redelivery collapses into one row.
	ID string
	// Event is Gitea's coarse X-Gitea-Event, or the AMQP routing key.
	Event string
	// EventType is Gitea's X-Gitea-Event-Type. For AMQP it comes from the
	// routing key; for openQA from the body.
	EventType string
	Headers   map[string]string
	Body      []byte
	// Problem, when set, refuses the message whatever its body says (a
	// routing key of no known shape).
	Problem string
}

// Decision is what a message means: the row to store and the work it
// implies. It depends only on the message and the configuration.
type Decision struct {
	Row    store.Delivery
	Intent jobs.Intent
	// Label names the event in metrics: a known event type, else "other",
	// so that a sender cannot grow the label set.
	Label string
	// OpenQAJob is the openQA job an openQA event is about.
	OpenQAJob int64
}

// Bad says whether the message is stored as refused.
func (d *Decision) Bad() bool { return d.Row.Outcome == store.OutcomeBadRequest }

// Decide reads a message. It never fails: a body that cannot be used is a
// row with the outcome bad_request and the reason, which is stored like any
// other so that an operator can see it, and acknowledged so that it is not
// sent again for ever.
func Decide(cfg *config.Config, m Message) Decision {
	d := Decision{Label: "other"}
	d.Row = store.Delivery{
		Source: m.Source, DeliveryID: m.ID, Event: m.Event, EventType: m.EventType,
		Headers: m.Headers, Body: m.Body, Outcome: store.OutcomeAccepted,
	}
	var bad string
	switch m.Source {
	case SourceGitea, SourceGiteaAMQP:
		bad = decideGitea(cfg, m, &d)
	case SourceOpenQA, SourceOpenQAAMQP:
		bad = decideOpenQA(m, &d)
	default:
		bad = fmt.Sprintf("deliveries from %q are not read", m.Source)
	}
	if m.Problem != "" {
		bad = m.Problem
	}
	if d.Row.DeliveryID == "" {
		d.Row.DeliveryID = bodyID(m.Event, m.Body)
	}
	if problems := d.Row.MakeStorable(); len(problems) > 0 {
		// Input PostgreSQL cannot hold as it is: stored escaped, refused.
		bad = strings.Join(problems, "; ")
	}
	switch {
	case bad != "":
		d.Row.Outcome, d.Row.Reason, d.Intent = store.OutcomeBadRequest, bad, jobs.Intent{}
	case d.Row.Reason != "":
		d.Row.Outcome, d.Intent = store.OutcomeIgnored, jobs.Intent{}
	}
	return d
}

func decideGitea(cfg *config.Config, m Message, d *Decision) (bad string) {
	if KnownGiteaEvent(m.EventType) {
		d.Label = m.EventType
	}
	if m.Source == SourceGiteaAMQP {
		// The bus carries no signature: the broker's credentials are the
		// trust, and the routing key names the event.
		d.Row.DeliveryID = m.ID
	}
	ev, err := ParseGitea(cfg, m.EventType, m.Body)
	d.Row.Action, d.Row.Repo, d.Row.SHA, d.Row.Sender = ev.Action, ev.Repo, ev.SHA, ev.Sender
	if ev.Number > 0 {
		n := ev.Number
		d.Row.Number = &n
	}
	var bp *BadPayload
	if errors.As(err, &bp) {
		return bp.Msg
	}
	d.Row.Reason, d.Intent = ev.Ignored, ev.Intent
	return ""
}

func decideOpenQA(m Message, d *Decision) (bad string) {
	jobID, eventType, result, err := ParseOpenQA(m.Body)
	amqp := m.Source == SourceOpenQAAMQP
	if amqp && m.EventType != "" {
		// The routing key says what happened; the body only which job.
		eventType = m.EventType
	}
	d.Row.EventType, d.Row.Action = eventType, result
	if d.Row.Event == "" {
		d.Row.Event = eventType
	}
	if openqaEvents[eventType] {
		d.Label = eventType
	}
	id := "unreadable"
	if err == nil {
		id = OpenQADeliveryID(m.ID, jobID, m.Body)
	} else if m.ID == "" {
		id = bodyID(id, m.Body)
	} else {
		id += "/" + m.ID
	}
	if amqp {
		// Two events about one job may carry the same body (a cancel and
		// a delete): the routing key keeps them apart.
		id = m.Event + "/" + id
	}
	d.Row.DeliveryID = id
	if err != nil {
		return err.Error()
	}
	d.OpenQAJob = jobID
	// The bus carries every job of the instance: only jobs qemgate follows
	// are synced, decided against the store in the same transaction.
	d.Intent = jobs.Intent{OpenQAJob: jobID, KnownJobOnly: amqp}
	return ""
}

// bodyID names a delivery whose sender gave it no id: the event and a hash
// of the body, so that the same message sent twice is one delivery.
func bodyID(event string, body []byte) string {
	sum := sha256.Sum256(body)
	return event + "/" + hex.EncodeToString(sum[:])[:16]
}

// Ingester stores a delivery together with the work it implies; it is
// *jobs.Ingest in production. Accept commits the delivery with its work
// stored for the dispatcher (the webhooks and the bus); AcceptNow commits it
// with its River jobs, whose ids it returns (an operator's replay or resync).
type Ingester interface {
	Accept(ctx context.Context, d *store.Delivery, intent jobs.Intent) (jobs.Accepted, error)
	AcceptNow(ctx context.Context, d *store.Delivery, intent jobs.Intent) (jobs.Accepted, error)
}

// Result is what recording a message did.
type Result struct {
	Decision
	// Outcome is accepted, ignored, bad_request or duplicate.
	Outcome string
	// JobIDs are empty for Receive: the dispatcher inserts the jobs after
	// the acknowledgement; Queued says it will.
	JobIDs []int64
	Queued bool
}

// Receiver is the one skeleton behind every way a delivery arrives:
// decide what it means, store it in one transaction with the work it
// implies, and say what happened. The caller acknowledges to the sender
// only after Receive returns without an error.
type Receiver struct {
	Config *config.Config
	Ingest Ingester
}

// Receive decides and records one message. An error means nothing is
// stored (the database is down or slow): the sender should try again. A
// message that can never be stored is a bad_request result, not an error.
func (rc Receiver) Receive(ctx context.Context, m Message) (Result, error) {
	return rc.Record(ctx, Decide(rc.Config, m))
}

// Record stores a decided message with its work.
func (rc Receiver) Record(ctx context.Context, d Decision) (Result, error) {
	res := Result{Decision: d}
	acc, err := rc.Ingest.Accept(ctx, &res.Row, res.Intent)
	if store.IsUnstorable(err) {
		// A class of input MakeStorable does not know yet: still the
		// sender's problem, and retrying cannot help.
		res.Row.Outcome = store.OutcomeBadRequest
		res.Row.Reason = "the delivery cannot be stored: " + store.ShownText(err.Error(), 500)
		res.Outcome = store.OutcomeBadRequest
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.JobIDs, res.Queued = acc.JobIDs, acc.Queued
	switch {
	case res.Bad():
		// Refused again when it is a duplicate: the same input gets the same answer.
		res.Outcome = store.OutcomeBadRequest
	case acc.Duplicate:
		res.Outcome = OutcomeDuplicate
	default:
		res.Outcome = res.Row.Outcome
	}
	return res, nil
}
