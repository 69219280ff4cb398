package forge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestErrorRetryable(t *testing.T) {
	t.Parallel()
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/api/v1/x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	tests := []struct {
		name string
		err  *Error
		want bool
	}{
		{"500", &Error{Status: 500}, true},
		{"502", &Error{Status: 502}, true},
		{"503", &Error{Status: 503}, true},
		{"429", &Error{Status: 429}, true},
		{"400", &Error{Status: 400}, false},
		{"401", &Error{Status: 401}, false},
		{"403", &Error{Status: 403}, false},
		{"404", &Error{Status: 404}, false},
		{"422", &Error{Status: 422}, false},
		{"200 with undecodable body", &Error{Status: 200, Err: errors.New("invalid character '<'")}, false},
		{"timeout", &Error{Err: fmt.Errorf("get: %w", context.DeadlineExceeded)}, true},
		{"caller cancelled", &Error{Err: fmt.Errorf("get: %w", context.Canceled)}, false},
		{"connection refused", &Error{Err: refused}, true},
		{"truncated body", &Error{Status: 200, Err: io.ErrUnexpectedEOF}, true},
		{"no response, unknown cause", &Error{Err: errors.New("boom")}, true},
		{"no response, no cause", &Error{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.err.Retryable())
			wrapped := fmt.Errorf("sync products/SLFO#1: %w", tt.err)
			require.Equal(t, tt.want, IsRetryable(wrapped))
		})
	}
}

func TestIsNotFound(t *testing.T) {
	t.Parallel()
	require.True(t, IsNotFound(fmt.Errorf("x: %w", &Error{Status: 404})))
	require.False(t, IsNotFound(&Error{Status: 410}))
	require.False(t, IsNotFound(errors.New("404")))
	require.False(t, IsRetryable(fmt.Errorf("bad: %w", ErrInvalid)))
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	e := &Error{Op: "create_review", Target: "products/SLFO#1@2c8a268954a0", Status: 422, Message: "approve your own pull is not allowed"}
	require.Equal(t, "gitea create_review products/SLFO#1@2c8a268954a0: 422 Unprocessable Entity: approve your own pull is not allowed", e.Error())
	e = &Error{Op: "get_pull", Target: "products/SLFO#1", Message: "context deadline exceeded", Err: context.DeadlineExceeded}
	require.Equal(t, "gitea get_pull products/SLFO#1: context deadline exceeded", e.Error())
	require.ErrorIs(t, e, context.DeadlineExceeded)
}
