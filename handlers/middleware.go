package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/qemgate/qemgate/internal/httpx"
	"github.com/qemgate/qemgate/store"
)

type ctxKey int

const loggedKey ctxKey = 1

// logged lets a handler say that it already logged the request (a webhook
// logs once, with its delivery id; /readyz logs when its answer changes), so
// the access log does not log it again.
type logged struct{ done bool }

func markLogged(r *http.Request) {
	if l, ok := r.Context().Value(loggedKey).(*logged); ok {
		l.done = true
	}
}

const clientRequestIDKey ctxKey = 2

// requestID gives every request an id of ours, in the log as request_id
// and in the answer's X-Request-Id. A client's X-Request-Id is not trusted
// to correlate our logs (anyone can send one, and repeat it): it is logged
// as client_request_id, escaped and cut.
func requestID(next http.Handler) http.Handler {
	var n atomic.Uint64
	prefix := make([]byte, 6)
	_, _ = rand.Read(prefix)
	base := hex.EncodeToString(prefix)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := fmt.Sprintf("%s-%06d", base, n.Add(1))
		ctx := context.WithValue(r.Context(), middleware.RequestIDKey, id)
		if c := r.Header.Get("X-Request-Id"); c != "" {
			ctx = context.WithValue(ctx, clientRequestIDKey, store.ShownText(c, 200))
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientRequestID is the X-Request-Id the client sent, escaped, or "".
func clientRequestID(ctx context.Context) string {
	s, _ := ctx.Value(clientRequestIDKey).(string)
	return s
}

// instrument counts and times every request by its route pattern, never by
// its raw path, and logs it with the request id.
func instrument(m *Metrics, logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			l := &logged{}
			r = r.WithContext(context.WithValue(r.Context(), loggedKey, l))
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			m.requestDuration.WithLabelValues(route).Observe(d.Seconds())
			level := slog.LevelDebug
			if status >= 500 {
				level = slog.LevelError
			}
			// A handler that logged the request itself (a webhook, /readyz)
			// chose the level: a 503 it answered on purpose is not an error.
			if !l.done {
				logger.Log(r.Context(), level, "http request", "request_id", middleware.GetReqID(r.Context()),
					"client_request_id", clientRequestID(r.Context()),
					"method", r.Method, "route", route, "status", status, "duration_ms", d.Milliseconds())
			}
		})
	}
}

// recoverer turns a panic into a logged 500 instead of a dropped connection.
func recoverer(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.ErrorContext(r.Context(), "handler panicked", "request_id", middleware.GetReqID(r.Context()),
						"panic", v, "stack", string(debug.Stack()))
					httpx.WriteError(w, r, http.StatusInternalServerError, "internal error", "")
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
