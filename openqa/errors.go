package openqa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qemgate/qemgate/internal/retry"
)

// APIError is every failure the client reports: an HTTP status openQA (or a
// proxy in front of it) answered with, or, with Status 0, a request that got
// no answer. openQA also reports some scheduling errors inside HTTP 200; those
// carry Status 200.
type APIError struct {
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Message is openQA's "error" text, the plain-text body, or the
	// transport error.
	Message string
	// Endpoint is "METHOD /path" of the request.
	Endpoint string

	err        error
	retryAfter time.Duration
}

func (e *APIError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("openqa %s: %s", e.Endpoint, e.Message)
	}
	return fmt.Sprintf("openqa %s: HTTP %d: %s", e.Endpoint, e.Status, e.Message)
}

// Unwrap exposes the transport error, so errors.Is(err, context.DeadlineExceeded) works.
func (e *APIError) Unwrap() error { return e.err }

// Retryable says whether the same request may succeed later: server errors,
// 429, timeouts and connection failures are; 4xx answers, errors reported
// inside a 200, undecodable bodies and our own cancellation are not.
//
// For a POST with Status 0 the outcome is unknown: openQA may have acted on
// it before the connection broke.
func (e *APIError) Retryable() bool { return retry.Transient(e.Status, e.err) }

// IsRetryable reports whether err is an *APIError worth retrying.
func IsRetryable(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Retryable()
}

// IsNotFound reports whether openQA answered 404 (unknown job, group, or
// "no templates found" when scheduling).
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// IsNoTemplates reports whether a schedule call found no job templates for
// the product; qem-bot treats this as "nothing to test", not as a failure.
func IsNoTemplates(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound && strings.Contains(e.Message, "no templates found")
}

// IsAuth reports whether openQA refused our credentials (403 with one of its
// authentication messages or missing operator level).
func IsAuth(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusForbidden
}

func transportError(ctx context.Context, endpoint string, err error) *APIError {
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return &APIError{Endpoint: endpoint, Message: err.Error(), err: err}
}

// statusError reads the reason from an error response: openQA's JSON
// {"error": ...}, else the text body (400 "Error: missing parameters: ..."
// is text/plain), else the status line's reason phrase, where older openQA
// versions put that same message.
func statusError(endpoint string, resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, Endpoint: endpoint}
	var j struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &j) == nil && len(j.Error) > 0 {
		var s string
		if json.Unmarshal(j.Error, &s) == nil {
			e.Message = s
		} else {
			e.Message = string(j.Error)
		}
	}
	if e.Message == "" {
		text := strings.TrimSpace(string(body))
		if strings.HasPrefix(text, "<") {
			text = "" // an HTML error page from a proxy says nothing useful
		}
		if len(text) > 512 {
			text = text[:512]
		}
		e.Message = text
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs > 0 {
			e.retryAfter = time.Duration(secs) * time.Second
		}
	}
	return e
}
