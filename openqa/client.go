package openqa

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
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
	DefaultBackoff = 500 * time.Millisecond

	// maxBackoff caps both the exponential backoff and a server's Retry-After.
	maxBackoff = 60 * time.Second
	// maxBody bounds how much of a response we read: a full jobs page of
	// 10000 jobs with settings stays far below it.
	maxBody = 64 << 20
)

// Config says where openQA is and how to talk to it.
type Config struct {
	// URL is the instance's base URL, e.g. https://openqa.example.test. A
	// path is kept as a prefix and signed like the rest of the request path.
	URL string
	// Key and Secret are an API key pair. Without Key requests go unsigned,
	// which is enough for the public GET routes.
	Key    string
	Secret string
	// Timeout bounds each attempt (default 30 s).
	Timeout time.Duration
	// HTTPClient carries the transport; redirects are never followed because
	// they would change the signed request target.
	HTTPClient *http.Client
	// Retries is how many times a GET is repeated after a retryable error
	// (default 3; negative means none).
	Retries int
	// Backoff is the first wait between GET attempts, doubled each time
	// (default 500 ms).
	Backoff time.Duration
	// Now is the clock used for X-API-Microtime (default time.Now).
	Now func() time.Time
	// Observe, when set, is called once per HTTP attempt with a
	// low-cardinality endpoint name ("isos", "jobs", "job", "comments",
	// "job_groups", "job_group", "parent_groups"), the HTTP status (0 when
	// no response arrived) and the attempt's duration.
	Observe func(endpoint string, code int, d time.Duration)
}

// Client talks to one openQA instance. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	key     string
	secret  string
	timeout time.Duration
	http    *http.Client
	retries int
	backoff time.Duration
	now     func() time.Time
	observe func(string, int, time.Duration)
}

// New returns a client for cfg. An unparsable URL surfaces on the first call
// as a permanent error, so construction never fails.
func New(cfg Config) *Client {
	c := &Client{
		key:     cfg.Key,
		secret:  cfg.Secret,
		timeout: cfg.Timeout,
		retries: cfg.Retries,
		backoff: cfg.Backoff,
		now:     cfg.Now,
		observe: cfg.Observe,
	}
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err == nil && base.Scheme != "" && base.Host != "" {
		c.base = base
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.retries == 0 {
		c.retries = DefaultRetries
	}
	if c.retries < 0 {
		c.retries = 0
	}
	if c.backoff <= 0 {
		c.backoff = DefaultBackoff
	}
	if c.now == nil {
		c.now = time.Now
	}
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	return c
}

// Sign returns the X-API-Hash openQA expects for a request target (path plus
// "?query" when the query is non-empty) sent at unix second ts.
func Sign(secret, requestURI string, ts int64) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(requestURI + strconv.FormatInt(ts, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

// call is one logical API request.
type call struct {
	method   string
	endpoint string // metric name
	path     string // below /api/v1, or a Link header target when link is set
	link     bool
	query    url.Values
	form     url.Values // POST body, form-encoded
}

// response is what a successful attempt produced.
type response struct {
	endpoint string // "METHOD /path" for errors
	status   int
	header   http.Header
	body     []byte
}

// get runs c with the retry policy for idempotent requests.
func (c *Client) get(ctx context.Context, cl call) (*response, error) {
	return retry.Do(ctx, retry.Policy{Retries: c.retries, Backoff: c.backoff, Max: maxBackoff},
		func(ctx context.Context) (*response, error) { return c.once(ctx, cl) },
		func(err error) (bool, time.Duration) {
			var apiErr *APIError
			if !errors.As(err, &apiErr) || !apiErr.Retryable() {
				return false, 0
			}
			return true, apiErr.retryAfter
		})
}

// target builds the URL for cl, keeping the raw query of absolute next-page
// links exactly as openQA wrote it, because that is what gets signed.
func (c *Client) target(cl call) (*url.URL, error) {
	if c.base == nil {
		return nil, &APIError{Endpoint: cl.method + " " + cl.path, Message: "invalid openQA URL in configuration"}
	}
	u := *c.base
	if cl.link {
		next, err := url.Parse(cl.path)
		if err != nil {
			return nil, &APIError{Endpoint: cl.method + " " + cl.path, Message: "unparsable next link: " + err.Error()}
		}
		// The link's host is whatever openQA thinks it is called (often an
		// internal name behind a proxy); only its path and query matter.
		u.Path, u.RawPath, u.RawQuery = next.Path, next.RawPath, next.RawQuery
		return &u, nil
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/api/v1/" + strings.TrimLeft(cl.path, "/")
	u.RawPath = ""
	u.RawQuery = cl.query.Encode()
	return &u, nil
}

// once performs a single attempt and turns every non-2xx answer into an
// *APIError.
func (c *Client) once(ctx context.Context, cl call) (*response, error) {
	u, err := c.target(cl)
	if err != nil {
		return nil, err
	}
	endpoint := cl.method + " " + u.Path
	var body io.Reader
	if cl.form != nil {
		body = strings.NewReader(cl.form.Encode())
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, cl.method, u.String(), body)
	if err != nil {
		return nil, &APIError{Endpoint: endpoint, Message: err.Error(), err: err}
	}
	req.Header.Set("Accept", "application/json")
	if cl.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.key != "" {
		ts := c.now().Unix()
		req.Header.Set("X-API-Key", c.key)
		req.Header.Set("X-API-Microtime", strconv.FormatInt(ts, 10))
		req.Header.Set("X-API-Hash", Sign(c.secret, req.URL.RequestURI(), ts))
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observed(cl.endpoint, 0, start)
		return nil, transportError(ctx, endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	c.observed(cl.endpoint, resp.StatusCode, start)
	if err != nil {
		return nil, transportError(ctx, endpoint, fmt.Errorf("read body: %w", err))
	}
	if len(b) > maxBody {
		return nil, &APIError{Status: resp.StatusCode, Endpoint: endpoint, Message: fmt.Sprintf("response larger than %d bytes", maxBody)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &response{endpoint: endpoint, status: resp.StatusCode, header: resp.Header, body: b}, statusError(endpoint, resp, b)
	}
	return &response{endpoint: endpoint, status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func (c *Client) observed(endpoint string, code int, start time.Time) {
	if c.observe != nil {
		c.observe(endpoint, code, time.Since(start))
	}
}

// decode unmarshals a successful body, naming the endpoint on failure.
func decode(resp *response, v any) error {
	if err := json.Unmarshal(resp.body, v); err != nil {
		snippet := bytes.TrimSpace(resp.body)
		if len(snippet) > 120 {
			snippet = snippet[:120]
		}
		return &APIError{Status: resp.status, Endpoint: resp.endpoint, Message: fmt.Sprintf("decode response: %v (body starts %q)", err, snippet)}
	}
	return nil
}
