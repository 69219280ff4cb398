package forge

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

	"code.gitea.io/sdk/gitea"

	"github.com/qemgate/qemgate/internal/retry"
)

// assumedGiteaVersion is handed to the SDK so that it never probes
// /api/v1/version: construction then does no I/O and cannot fail because
// Gitea is down. The SDK only uses it to pick paths for Gitea < 1.14.
const assumedGiteaVersion = "1.26.0"

// pageSize is Gitea's MAX_RESPONSE_ITEMS default; larger limits are clamped.
const pageSize = 50

// maxPages stops a runaway pager (a server that ignores page=) instead of
// looping forever: 1000 pages of 50 is far beyond any real PR list.
const maxPages = 1000

// maxBackoff caps one wait between retries.
const maxBackoff = 30 * time.Second

// Config configures a Client. Only URL is required.
type Config struct {
	// URL is Gitea's base URL, without /api/v1.
	URL string
	// Token is sent as "Authorization: token <Token>".
	Token string
	// Timeout bounds each HTTP request (each attempt, each page); default 30s.
	Timeout time.Duration
	// HTTPClient is shared by every call; default a plain http.Client (the
	// deadline comes from Timeout through the request context).
	HTTPClient *http.Client
	// Retries is how many times a read is retried after a retryable failure;
	// default 3, negative means none. Writes are never retried here.
	Retries int
	// Backoff is the first wait between retries, doubled each time (with
	// jitter, capped at 30s); default 250ms.
	Backoff time.Duration
	// Observe, if set, is told about every HTTP attempt: a low-cardinality
	// endpoint name, the status code (0 when no response arrived) and how
	// long it took.
	Observe func(endpoint string, code int, d time.Duration)
}

// Client implements Forge with the Gitea SDK. It is safe for concurrent use.
//
// Reads are paged to the end (limit 50) and retried with exponential backoff
// on retryable errors, honouring ctx. Writes (POST/PATCH) are sent once: a
// write that timed out may still have happened, so the caller, which records
// what it posted, decides whether to try again.
type Client struct {
	cfg  Config
	base string
	http *http.Client
}

// New validates cfg and returns a Client. It does no I/O.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("forge: gitea url %q: want http(s)://host[/path]: %w", cfg.URL, ErrInvalid)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 250 * time.Millisecond
	}
	c := &Client{cfg: cfg, base: strings.TrimSuffix(u.String(), "/"), http: cfg.HTTPClient}
	if c.http == nil {
		c.http = &http.Client{}
	}
	// Surface option errors now rather than on the first call.
	if _, err := c.sdk(context.Background()); err != nil {
		return nil, fmt.Errorf("forge: %w", err)
	}
	return c, nil
}

// sdk builds an SDK client bound to ctx. The SDK reads its context from a
// field that SetContext overwrites, so one shared client would let
// concurrent calls swap each other's deadlines and cancellations; guarding it
// with a mutex would have to span the whole round trip and serialise every
// Gitea call. A client per attempt is a small struct and a parsed version
// string, shares the http.Client (and its connection pool), and is never
// shared between goroutines.
func (c *Client) sdk(ctx context.Context) (*gitea.Client, error) {
	return gitea.NewClient(c.base,
		gitea.SetHTTPClient(c.http),
		gitea.SetToken(c.cfg.Token),
		gitea.SetGiteaVersion(assumedGiteaVersion),
		gitea.SetUserAgent("qemgate"),
		gitea.SetContext(ctx),
	)
}

// call is one HTTP request made through an SDK client bound to ctx.
type call func(ctx context.Context, g *gitea.Client) (*gitea.Response, error)

// attempt runs fn once under the per-request timeout and reports it.
func (c *Client) attempt(ctx context.Context, op, target string, fn call) (*gitea.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	g, err := c.sdk(ctx)
	if err != nil {
		return nil, &Error{Op: op, Target: target, Message: err.Error(), Err: err}
	}
	start := time.Now()
	resp, err := fn(ctx, g)
	code := 0
	if resp != nil && resp.Response != nil {
		code = resp.StatusCode
	}
	if c.cfg.Observe != nil {
		c.cfg.Observe(op, code, time.Since(start))
	}
	if err == nil {
		return resp, nil
	}
	e := &Error{Op: op, Target: target, Status: code, Message: err.Error(), Err: err}
	if code == 0 {
		// The SDK returns the transport's *url.Error, whose text repeats the
		// whole URL; keep the cause, drop the noise.
		var ue *url.Error
		if errors.As(err, &ue) {
			e.Message = ue.Err.Error()
		}
	} else if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, perr := strconv.Atoi(ra); perr == nil && s > 0 {
			e.retryAfter = time.Duration(s) * time.Second
		}
	}
	return resp, e
}

// write sends fn exactly once.
func (c *Client) write(ctx context.Context, op, target string, fn call) error {
	_, err := c.attempt(ctx, op, target, fn)
	return err
}

// read runs fn, retrying retryable failures with backoff while ctx allows.
func (c *Client) read(ctx context.Context, op, target string, fn call) (*gitea.Response, error) {
	return retry.Do(ctx, retry.Policy{Retries: c.cfg.Retries, Backoff: c.cfg.Backoff, Max: maxBackoff},
		func(ctx context.Context) (*gitea.Response, error) { return c.attempt(ctx, op, target, fn) },
		func(err error) (bool, time.Duration) {
			var e *Error
			if !errors.As(err, &e) || !e.Retryable() {
				return false, 0
			}
			return true, e.retryAfter
		})
}

// pageFunc fetches one page (1-based) of limit items.
type pageFunc[T any] func(ctx context.Context, g *gitea.Client, page, limit int) ([]T, *gitea.Response, error)

// readAll pages fetch to the end. With X-Total-Count (every list Gitea
// serves sets it) it reads until that many items are in or a page comes back
// empty, so an instance whose MAX_RESPONSE_ITEMS is below 50 is still read
// whole; without it a short page ends the list. It needs no Link header (the
// review list has none) and copes with an endpoint that ignores page= and
// sends everything at once (issue comments).
func readAll[T any](ctx context.Context, c *Client, op, target string, fetch pageFunc[T]) ([]T, error) {
	var all []T
	for page := 1; page <= maxPages; page++ {
		var items []T
		resp, err := c.read(ctx, op, target, func(ctx context.Context, g *gitea.Client) (*gitea.Response, error) {
			var (
				resp *gitea.Response
				err  error
			)
			items, resp, err = fetch(ctx, g, page, pageSize)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		total := -1
		if resp != nil && resp.Response != nil {
			if n, perr := strconv.Atoi(resp.Header.Get("X-Total-Count")); perr == nil {
				total = n
			}
		}
		switch {
		case len(items) == 0, len(items) > pageSize:
			return all, nil
		case total >= 0:
			if len(all) >= total {
				return all, nil
			}
		case len(items) < pageSize:
			return all, nil
		}
	}
	return nil, &Error{Op: op, Target: target, Message: fmt.Sprintf("more than %d pages; is the server ignoring page=?", maxPages)}
}

// getJSON is a GET the SDK cannot express (it has no paging for the
// combined status). It mimics the SDK: same auth header, same error text.
func (c *Client) getJSON(ctx context.Context, path string, query url.Values, v any) (*gitea.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1"+path+"?"+query.Encode(), nil)
	if err != nil {
		return nil, err
	}
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "token "+c.cfg.Token)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "qemgate")
	httpResp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer httpResp.Body.Close()
	resp := &gitea.Response{Response: httpResp}
	body, err := io.ReadAll(io.LimitReader(httpResp.Body, 32<<20))
	if err != nil {
		return resp, err
	}
	if httpResp.StatusCode/100 != 2 {
		var msg struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &msg) == nil && msg.Message != "" {
			return resp, errors.New(msg.Message)
		}
		return resp, fmt.Errorf("%s: %.200s", httpResp.Status, body)
	}
	// Gitea answers an empty body for a commit without statuses on some
	// versions; treat it as an empty object.
	if len(strings.TrimSpace(string(body))) == 0 {
		return resp, nil
	}
	return resp, json.Unmarshal(body, v)
}

func commitTarget(repo, sha string) string { return repo + "@" + shortSHA(sha) }
