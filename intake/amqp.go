package intake

import (
	"fmt"
	"strings"
)

// FromAMQP is a message from the bus, read from its routing key:
// <prefix>.openqa.<object>.<action> for openQA's AMQP plugin, and
// <prefix>.src.<org>.<event type>[.<action>] for the Gitea event publisher,
// whose body is the webhook payload itself. id is the message id the
// publisher set, if any. A key of neither shape is stored as refused, so
// that a wrong binding is seen and not retried for ever.
func FromAMQP(prefix, routingKey, id string, headers map[string]string, body []byte) Message {
	m := Message{ID: id, Event: routingKey, Headers: headers, Body: body}
	rest, ok := routingKey, true
	if prefix != "" {
		rest, ok = strings.CutPrefix(routingKey, prefix+".")
	}
	switch {
	case ok && strings.HasPrefix(rest, "openqa."):
		m.Source = SourceOpenQAAMQP
		object, action, _ := strings.Cut(strings.TrimPrefix(rest, "openqa."), ".")
		m.EventType = object + "_" + strings.ReplaceAll(action, ".", "_")
	case ok && strings.HasPrefix(rest, "src."):
		m.Source = SourceGiteaAMQP
		parts := strings.Split(strings.TrimPrefix(rest, "src."), ".")
		switch len(parts) {
		case 1:
			m.Problem = fmt.Sprintf("routing key %q names no Gitea event", routingKey)
		case 2:
			m.EventType = parts[1]
		default:
			m.EventType = strings.Join(parts[1:len(parts)-1], ".")
		}
		if !KnownGiteaEvent(m.EventType) && CoarseEventType(m.EventType) != "" {
			m.EventType = CoarseEventType(m.EventType)
		}
	default:
		m.Source = SourceGiteaAMQP
		if strings.Contains(routingKey, "openqa") {
			m.Source = SourceOpenQAAMQP
		}
		m.Problem = fmt.Sprintf("routing key %q is neither %s nor %s", routingKey, keyOf(prefix, "openqa.*"), keyOf(prefix, "src.*"))
	}
	return m
}

func keyOf(prefix, rest string) string {
	if prefix == "" {
		return rest
	}
	return prefix + "." + rest
}

// openqaEvents are the openQA event names counted under their own label.
var openqaEvents = map[string]bool{
	"job_done": true, "job_event": true, "comment": true, // the hook and its relays
	"job_create": true, "job_delete": true, "job_cancel": true, "job_restart": true, "job_update_result": true,
	"comment_create": true, "comment_update": true, "comment_delete": true,
}
