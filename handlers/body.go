package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"
)

// bodyWait is how long a delivery waits for room among the bodies in flight
// before it is answered 503; well inside Gitea's 5 s deadline.
const bodyWait = time.Second

// errBusy says that the bodies in flight left no room within bodyWait.
var errBusy = errors.New("too many webhook bodies in flight")

// errTooLarge says that a body is above webhooks.max_body_bytes.
var errTooLarge = errors.New("body larger than the configured limit")

// bodyLimiter bounds the bytes of webhook bodies that all receivers hold
// at once. A body is read before its signature can be checked, so without
// it anyone who reaches the URL could make the process hold as many bodies
// of max_body_bytes as connections they open.
type bodyLimiter struct {
	inUse   *semaphore.Weighted
	maxBody int64
}

func newBodyLimiter(maxInflight, maxBody int64) *bodyLimiter {
	return &bodyLimiter{inUse: semaphore.NewWeighted(max(maxInflight, maxBody)), maxBody: maxBody}
}

// read reads the body of r, at most maxBody bytes, once there is room for
// it: its Content-Length, or maxBody when it is sent chunked. The room is
// given back when the request ends (release), because the handler keeps the
// body until it has answered.
func (l *bodyLimiter) read(w http.ResponseWriter, r *http.Request) (body []byte, release func(), err error) {
	if r.ContentLength > l.maxBody {
		return nil, nil, errTooLarge
	}
	charge := l.maxBody
	if r.ContentLength >= 0 {
		charge = r.ContentLength
	}
	ctx, cancel := context.WithTimeout(r.Context(), bodyWait)
	defer cancel()
	if err := l.inUse.Acquire(ctx, charge); err != nil {
		return nil, nil, errBusy
	}
	release = func() { l.inUse.Release(charge) }
	in := http.MaxBytesReader(w, r.Body, l.maxBody)
	if r.ContentLength >= 0 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(in, body)
	} else {
		body, err = io.ReadAll(in)
	}
	if err != nil {
		release()
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, nil, errTooLarge
		}
		return nil, nil, err
	}
	return body, release, nil
}
