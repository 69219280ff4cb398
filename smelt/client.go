// Package smelt reads an update's priority and emergency flag from SMELT's
// v2 API: GET /api/experimental/v2/updates/<quoted "<host>:<owner>:<repo>:<number>">
// answers {"data": {"priority": 700, "is_emergency": false, …}}; 404 means
// SMELT does not know the update. Every call has a timeout; it is retried
// with backoff on 5xx, 429 and transport errors, never on another 4xx.
package smelt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qemgate/qemgate/internal/retry"
)

// Defaults used when Config leaves a field zero.
const (
	DefaultTimeout = 30 * time.Second
	DefaultRetries = 3
	DefaultBackoff = 250 * time.Millisecond
	// maxBackoff caps the wait between two attempts.
	maxBackoff = 30 * time.Second

	maxBody = 4 << 20
)

// Config says where SMELT is.
type Config struct {
	URL        string
	Timeout    time.Duration
	Retries    int // negative: none
	Backoff    time.Duration
	HTTPClient *http.Client
	// Observe, when set, is called once per attempt with the HTTP status
	// (0: no answer) and the duration.
	Observe func(code int, d time.Duration)
}

// Client talks to one SMELT instance. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	cfg.Timeout, cfg.Retries, cfg.Backoff = retry.Defaults(cfg.Timeout, cfg.Retries, cfg.Backoff, DefaultTimeout, DefaultRetries, DefaultBackoff)
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	return &Client{cfg: cfg, http: &hc}
}

// Update is what SMELT says about one update.
type Update struct {
	// Priority is data.priority; nil when SMELT has none.
	Priority  *int `json:"priority"`
	Emergency bool `json:"is_emergency"`
}

// Error is every failure the client reports. Status 0 means no answer.
type Error struct {
	Status  int
	Message string
	err     error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return "smelt: " + e.Message
	}
	return fmt.Sprintf("smelt: HTTP %d: %s", e.Status, e.Message)
}

// Unwrap exposes the transport error.
func (e *Error) Unwrap() error { return e.err }

// IsRetryable reports whether the same request may succeed later.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && retry.Transient(e.Status, e.err)
}

// Key is SMELT's name of a PR's update: "<host>:<owner>:<repo>:<number>".
func Key(giteaHost, repo string, number int64) string {
	return giteaHost + ":" + strings.Replace(repo, "/", ":", 1) + ":" + strconv.FormatInt(number, 10)
}

// UpdateURL is the API URL of an update.
func UpdateURL(base, key string) string {
	return strings.TrimRight(base, "/") + "/api/experimental/v2/updates/" + quote(key)
}

// PageURL is the update's page for people, for links on the dashboard.
func PageURL(base, key string) string {
	return strings.TrimRight(base, "/") + "/updates/" + quote(key)
}

// Update reads one update; nil, nil when SMELT answers 404.
func (c *Client) Update(ctx context.Context, key string) (*Update, error) {
	u := UpdateURL(c.cfg.URL, key)
	return retry.Do(ctx, retry.Policy{Retries: c.cfg.Retries, Backoff: c.cfg.Backoff, Max: maxBackoff},
		func(ctx context.Context) (*Update, error) { return c.once(ctx, u) },
		func(err error) (bool, time.Duration) { return IsRetryable(err), 0 })
}

func (c *Client) once(ctx context.Context, u string) (*Update, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &Error{Message: "invalid SMELT URL in configuration"}
	}
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observed(0, start)
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &Error{Message: "no answer: " + err.Error(), err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.observed(resp.StatusCode, start)
	switch {
	case err != nil:
		return nil, &Error{Message: "read body: " + err.Error(), err: err}
	case resp.StatusCode == http.StatusNotFound:
		return nil, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		msg := strings.TrimSpace(string(b))
		if len(msg) > 120 {
			msg = msg[:120]
		}
		return nil, &Error{Status: resp.StatusCode, Message: msg}
	}
	var body struct {
		Data *Update `json:"data"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, &Error{Status: resp.StatusCode, Message: "decode: " + err.Error()}
	}
	if body.Data == nil {
		return nil, &Error{Status: resp.StatusCode, Message: "the answer has no data"}
	}
	return body.Data, nil
}

func (c *Client) observed(code int, start time.Time) {
	if c.cfg.Observe != nil {
		c.cfg.Observe(code, time.Since(start))
	}
}

// quote escapes a key as Python's urllib.parse.quote does (qem-bot's
// spelling): ":" too.
func quote(key string) string { return strings.ReplaceAll(url.PathEscape(key), ":", "%3A") }
