package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Publisher puts one message on the bus under a routing key.
type Publisher interface {
	Publish(routingKey string, body []byte) error
}

// AMQPPublisher publishes to a topic exchange on a RabbitMQ broker, as
// openQA's AMQP plugin and the Gitea event publisher do: persistent
// messages, confirmed by the broker, reconnecting when the connection was
// lost.
type AMQPPublisher struct {
	URL      string
	Exchange string

	mu   sync.Mutex
	conn *amqp.Connection
	ch   *amqp.Channel
}

// Publish sends one message and waits for the broker's confirm.
func (p *AMQPPublisher) Publish(routingKey string, body []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch == nil || p.ch.IsClosed() {
		if p.conn != nil {
			p.conn.Close()
		}
		conn, err := amqp.DialConfig(p.URL, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		ch, err := conn.Channel()
		if err == nil {
			err = ch.Confirm(false)
		}
		if err != nil {
			conn.Close()
			return fmt.Errorf("channel: %w", err)
		}
		p.conn, p.ch = conn, ch
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conf, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, p.Exchange, routingKey, false, false, amqp.Publishing{
		ContentType: "application/json", DeliveryMode: amqp.Persistent, Timestamp: time.Now(), Body: body,
	})
	if err != nil {
		p.ch.Close()
		return fmt.Errorf("publish %s: %w", routingKey, err)
	}
	if ok, err := conf.WaitContext(ctx); err != nil || !ok {
		p.ch.Close()
		return fmt.Errorf("publish %s: not confirmed by the broker (%v)", routingKey, err)
	}
	return nil
}

// Close ends the connection.
func (p *AMQPPublisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		return nil
	}
	return p.conn.Close()
}

// GiteaPublisher is the Gitea event publisher of SUSE's infrastructure in
// miniature: an organisation webhook whose deliveries are put on the bus
// under <prefix>.src.<org>.<event type>.<action>, with the payload as the
// body and no signature (the broker's credentials are the trust).
type GiteaPublisher struct {
	Bus    Publisher
	Prefix string
	// Published counts the deliveries put on the bus.
	Published atomic.Int64
}

// ServeHTTP publishes one webhook delivery; a failed publish is a 502, so
// Gitea records the delivery as failed.
func (g *GiteaPublisher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var p struct {
		Action     string `json:"action"`
		Repository struct {
			Owner struct {
				Login string `json:"login"`
			} `json:"owner"`
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	_ = json.Unmarshal(body, &p)
	org := p.Repository.Owner.Login
	if org == "" {
		org, _, _ = strings.Cut(p.Repository.FullName, "/")
	}
	eventType := r.Header.Get("X-Gitea-Event-Type")
	if eventType == "" {
		eventType = r.Header.Get("X-Gitea-Event")
	}
	key := "src." + org + "." + eventType
	if p.Action != "" {
		key += "." + p.Action
	}
	if g.Prefix != "" {
		key = g.Prefix + "." + key
	}
	if err := g.Bus.Publish(key, body); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	g.Published.Add(1)
	w.WriteHeader(http.StatusOK)
}
