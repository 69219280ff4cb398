package bus

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/intake"
)

// TestConsumerStateNamesWhyWithoutSecrets: an unreachable broker or a bad
// CA file shows in the state (and /readyz), without the broker's password,
// and the consumer keeps trying until it is stopped.
func TestConsumerStateNamesWhyWithoutSecrets(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	ln.Close()
	badCA := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(badCA, []byte("not a certificate"), 0o600))

	for _, tc := range []struct {
		name, url, ca, want string
	}{
		{"nobody listens", "amqp://qemgate:hunter2@" + closed + "/", "", "connect to the broker"},
		{"a CA file without a certificate", "amqps://qemgate:hunter2@" + closed + "/", badCA, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Default()
			cfg.AMQP.URL, cfg.AMQP.CAFile = tc.url, tc.ca
			metrics := NewMetrics(prometheus.NewRegistry())
			c := New(&cfg, intake.Receiver{Config: &cfg}, slog.New(slog.NewTextHandler(io.Discard, nil)), metrics)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); c.Run(ctx) }()
			require.Eventually(t, func() bool { return strings.Contains(c.State(), tc.want) }, 30*time.Second, 10*time.Millisecond, c.State())
			require.True(t, strings.HasPrefix(c.State(), "disconnected: "), c.State())
			require.NotContains(t, c.State(), "hunter2")
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after its context ended")
			}
			require.Equal(t, "stopped", c.State())
		})
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	t.Parallel()
	for n := range 40 {
		d := backoff(n)
		require.GreaterOrEqual(t, d, minBackoff/2)
		require.LessOrEqual(t, d, maxBackoff)
	}
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[backoff(5)] = true
	}
	require.Greater(t, len(seen), 1, "jittered")
}
