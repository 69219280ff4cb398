// Package bus consumes events from the message bus (RabbitMQ): openQA's job
// and comment events and the Gitea events an organisation's publisher puts
// there. Each message is handled exactly like a webhook delivery, through
// intake.Receiver, and acknowledged to the broker only after the commit
// that stores it with its work.
package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/store"
)

// Reconnecting waits between minBackoff and maxBackoff, doubling, with
// jitter; storing one message is retried the same way while the database
// is away.
const (
	minBackoff    = 500 * time.Millisecond
	maxBackoff    = 30 * time.Second
	storeTimeout  = 10 * time.Second
	dialTimeout   = 10 * time.Second
	heartbeat     = 10 * time.Second
	consumerTag   = "qemgate"
	connectionApp = "qemgate"
)

// Consumer is one process's competing consumer of the configured durable
// queue. Every replica runs one: the broker hands each message to one of
// them, and a message that is not acknowledged (a crash, a lost
// connection) goes to another.
type Consumer struct {
	cfg      config.AMQP
	maxBody  int64
	receiver intake.Receiver
	log      *slog.Logger
	metrics  *Metrics

	mu       sync.Mutex
	state    string // "connecting", "connected", "disconnected: <why>"
	inflight map[uint64]time.Time
}

// New returns a consumer; Run starts it.
func New(cfg *config.Config, receiver intake.Receiver, log *slog.Logger, metrics *Metrics) *Consumer {
	c := &Consumer{
		cfg:      cfg.AMQP,
		maxBody:  cfg.Webhooks.MaxBodyBytes,
		receiver: receiver,
		log:      log.With("component", "amqp"),
		metrics:  metrics,
		state:    "connecting",
		inflight: map[uint64]time.Time{},
	}
	metrics.oldest = c.oldestUnacked
	return c
}

// State is what /readyz shows: the broker is not a reason to be unready,
// since webhooks and the pollers still work without it.
func (c *Consumer) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Consumer) setState(s string) {
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
}

// Run consumes until ctx ends, reconnecting with a bounded, jittered
// backoff whenever the broker goes away. Messages being stored when ctx
// ends are finished and acknowledged; those not started yet go back to the
// broker when the channel closes.
func (c *Consumer) Run(ctx context.Context) {
	for attempt := 0; ; attempt++ {
		started := time.Now()
		err := c.session(ctx)
		c.metrics.connected.Set(0)
		if ctx.Err() != nil {
			c.setState("stopped")
			return
		}
		if time.Since(started) > maxBackoff {
			attempt = 0 // it ran for a while: start the backoff again
		}
		wait := backoff(attempt)
		c.setState("disconnected: " + err.Error())
		c.metrics.reconnects.Inc()
		c.log.Warn("broker connection lost; reconnecting", "error", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			c.setState("stopped")
			return
		case <-time.After(wait):
		}
	}
}

// backoff is the pause before attempt n+1: minBackoff doubling up to
// maxBackoff, each between half and all of it.
func backoff(n int) time.Duration {
	d := maxBackoff
	if n < 16 {
		d = min(minBackoff<<n, maxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// session is one connection: set up the queue, consume until the
// connection or channel closes or ctx ends.
func (c *Consumer) session(ctx context.Context) error {
	conn, err := c.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer ch.Close()
	if err := c.declare(ch); err != nil {
		return err
	}
	deliveries, err := ch.Consume(c.cfg.Queue, consumerTag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume from queue %s: %w", c.cfg.Queue, err)
	}
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	chClosed := ch.NotifyClose(make(chan *amqp.Error, 1))
	c.setState("connected")
	c.metrics.connected.Set(1)
	c.log.Info("consuming from the broker", "exchange", c.cfg.Exchange, "queue", c.cfg.Queue, "bindings", len(c.cfg.Bindings))

	// stop tells the workers to take no new message; one being stored is
	// finished and acknowledged.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range c.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case d, ok := <-deliveries:
					if !ok {
						return
					}
					c.handle(stop, d)
				}
			}
		}()
	}
	var why error
	select {
	case <-ctx.Done():
	case e := <-connClosed:
		why = closeError("connection", e)
	case e := <-chClosed:
		why = closeError("channel", e)
	}
	close(stop)
	wg.Wait()
	if why == nil {
		c.log.Info("stopped consuming; unstarted messages go back to the broker")
	}
	return why
}

func closeError(what string, e *amqp.Error) error {
	if e == nil {
		return fmt.Errorf("%s closed", what)
	}
	return fmt.Errorf("%s closed: %w", what, e)
}

func (c *Consumer) dial() (*amqp.Connection, error) {
	cfg := amqp.Config{
		Heartbeat:  heartbeat,
		Dial:       amqp.DefaultDial(dialTimeout),
		Properties: amqp.Table{"connection_name": connectionApp},
	}
	if c.cfg.CAFile != "" {
		pem, err := os.ReadFile(c.cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("amqp.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("amqp.ca_file: %s holds no PEM certificate", c.cfg.CAFile)
		}
		cfg.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	conn, err := amqp.DialConfig(c.cfg.URL, cfg)
	if err != nil {
		// The URL holds the broker's password: never in an error.
		var aerr *amqp.Error
		if errors.As(err, &aerr) {
			return nil, fmt.Errorf("connect to the broker: %s", aerr.Reason)
		}
		return nil, fmt.Errorf("connect to the broker: %s", redactedError(err, c.cfg.URL))
	}
	return conn, nil
}

// declare checks the exchange (the publishers own it) and declares our
// durable queue with its bindings. Both are idempotent, so every replica
// and every reconnect does it.
func (c *Consumer) declare(ch *amqp.Channel) error {
	if err := ch.Qos(c.cfg.Prefetch, 0, false); err != nil {
		return fmt.Errorf("set prefetch: %w", err)
	}
	if err := ch.ExchangeDeclarePassive(c.cfg.Exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		return fmt.Errorf("exchange %s (declared passively: it must exist): %w", c.cfg.Exchange, err)
	}
	if _, err := ch.QueueDeclare(c.cfg.Queue, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare queue %s: %w", c.cfg.Queue, err)
	}
	for _, key := range c.cfg.Bindings {
		if err := ch.QueueBind(c.cfg.Queue, key, c.cfg.Exchange, false, nil); err != nil {
			return fmt.Errorf("bind %s to %s: %w", key, c.cfg.Queue, err)
		}
	}
	return nil
}

// handle stores one message and acknowledges it after the commit. While
// the database is away it tries again with backoff, holding the message;
// when the session stops first, the message stays unacknowledged and the
// broker delivers it again (to this or another replica), where it is
// stored once: its delivery id is stable.
func (c *Consumer) handle(stop <-chan struct{}, d amqp.Delivery) {
	start := time.Now()
	c.track(d.DeliveryTag, start)
	defer c.untrack(d.DeliveryTag)
	m := c.message(d)
	log := c.log.With("routing_key", store.ShownText(d.RoutingKey, 200), "redelivered", d.Redelivered)
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		res, err := c.receiver.Receive(ctx, m)
		cancel()
		if err == nil {
			if err := d.Ack(false); err != nil {
				// Delivered again after the reconnect, and then a duplicate.
				log.Warn("acknowledge message", "delivery", res.Row.DeliveryID, "error", err)
			}
			c.metrics.messages.WithLabelValues(m.Source, res.Label, res.Outcome).Inc()
			c.metrics.duration.Observe(time.Since(start).Seconds())
			level := slog.LevelInfo
			switch res.Outcome {
			case store.OutcomeBadRequest:
				level = slog.LevelWarn
			case store.OutcomeIgnored, intake.OutcomeDuplicate:
				level = slog.LevelDebug
			}
			log.Log(context.Background(), level, "message stored", "source", m.Source, "delivery", res.Row.DeliveryID,
				"outcome", res.Outcome, "reason", res.Row.Reason, "openqa_job", res.OpenQAJob, "repo", res.Row.Repo, "jobs", res.JobIDs,
				"duration_ms", time.Since(start).Milliseconds())
			return
		}
		c.metrics.messages.WithLabelValues(m.Source, "other", "error").Inc()
		wait := backoff(attempt)
		if attempt == 0 || attempt%10 == 0 {
			log.Error("could not store the message; holding it and trying again", "error", err, "attempt", attempt+1, "in", wait.Round(time.Millisecond))
		}
		select {
		case <-stop:
			return
		case <-time.After(wait):
		}
	}
}

// message turns a delivery into what intake reads. The broker's own
// properties are kept as headers; a body beyond webhooks.max_body_bytes is
// refused, and only its first bytes are stored.
func (c *Consumer) message(d amqp.Delivery) intake.Message {
	headers := map[string]string{
		"Routing-Key": d.RoutingKey,
		"Exchange":    d.Exchange,
		"Redelivered": strconv.FormatBool(d.Redelivered),
	}
	for k, v := range map[string]string{"Message-Id": d.MessageId, "Content-Type": d.ContentType, "App-Id": d.AppId, "Correlation-Id": d.CorrelationId} {
		if v != "" {
			headers[k] = v
		}
	}
	if !d.Timestamp.IsZero() {
		headers["Timestamp"] = d.Timestamp.UTC().Format(time.RFC3339)
	}
	for k, v := range d.Headers {
		headers["Amqp-"+k] = fmt.Sprint(v)
	}
	body := d.Body
	m := intake.FromAMQP(c.cfg.TopicPrefix, d.RoutingKey, d.MessageId, headers, body)
	if int64(len(body)) > c.maxBody {
		m.Body = body[:c.maxBody]
		m.Problem = fmt.Sprintf("body of %d bytes is larger than webhooks.max_body_bytes (%d); its first bytes are stored", len(body), c.maxBody)
	}
	return m
}

func (c *Consumer) track(tag uint64, t time.Time) {
	c.mu.Lock()
	c.inflight[tag] = t
	c.mu.Unlock()
}

func (c *Consumer) untrack(tag uint64) {
	c.mu.Lock()
	delete(c.inflight, tag)
	c.mu.Unlock()
}

// holding is how many messages this process holds unacknowledged.
func (c *Consumer) holding() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.inflight)
}

// oldestUnacked is how long the oldest message handed to this process has
// waited for its acknowledgement: it grows while the database is away.
func (c *Consumer) oldestUnacked() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var oldest time.Duration
	for _, t := range c.inflight {
		oldest = max(oldest, time.Since(t))
	}
	return oldest.Seconds()
}
