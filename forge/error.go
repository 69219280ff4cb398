package forge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Error is a failed Gitea call.
type Error struct {
	// Op is the endpoint name, as reported to Config.Observe ("create_status").
	Op string
	// Target names what the call was about: "products/SLFO#12",
	// "products/SLFO@0123456789ab".
	Target string
	// Status is the HTTP status code; 0 when no response arrived.
	Status int
	// Message is Gitea's error message, or the transport failure.
	Message string
	// Err is the underlying cause, if any (for errors.Is).
	Err error

	retryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("gitea %s %s: %s", e.Op, e.Target, e.Message)
	}
	return fmt.Sprintf("gitea %s %s: %d %s: %s", e.Op, e.Target, e.Status, http.StatusText(e.Status), e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying the same call again later can succeed:
// 5xx, 429, timeouts and connection failures are; 4xx and a caller's
// cancellation are not.
func (e *Error) Retryable() bool {
	switch {
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return true
	case e.Status >= 400:
		return false
	case errors.Is(e.Err, context.Canceled):
		return false
	case errors.Is(e.Err, context.DeadlineExceeded), errors.Is(e.Err, io.ErrUnexpectedEOF):
		return true
	}
	var ne net.Error
	if errors.As(e.Err, &ne) {
		return true
	}
	// No response and no recognisable cause: the request never completed.
	return e.Status == 0 && e.Err != nil
}

// IsRetryable reports whether err is a Gitea failure worth retrying later.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// IsNotFound reports whether Gitea answered 404 (repo, PR, file, review or
// comment does not exist, or the token may not see it).
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// ErrInvalid marks input refused before any request was sent; retrying the
// same input cannot help.
var ErrInvalid = errors.New("invalid input")
