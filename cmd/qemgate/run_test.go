package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// syncBuffer is a bytes.Buffer that the server goroutine and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// envOf answers from m, with the Gitea and openQA URLs every configuration
// needs (nothing is called in these tests).
func envOf(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		switch k {
		case "QEMGATE_GITEA_URL":
			return "http://127.0.0.1:1"
		case "QEMGATE_OPENQA_URL":
			return "http://127.0.0.1:1"
		}
		return ""
	}
}

// The whole program: start on a free port against a real PostgreSQL,
// become ready, serve metrics, and stop cleanly when cancelled.
func TestRunServe(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	// Without metadata nothing can be gated, and /readyz says so.
	metaDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(metaDir, "sles.yml"), []byte(`product: SLES-16.0
settings: {DISTRI: sle, VERSION: "16.0"}
incidents:
  FLAVOR:
    Online-Incidents:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`), 0o644))
	env := map[string]string{
		"QEMGATE_DATABASE_URL":          pgtest.Empty(t),
		"QEMGATE_METADATA_DIR":          metaDir,
		"QEMGATE_LISTEN":                addr,
		"QEMGATE_GITEA_WEBHOOK_SECRET":  "s3cret-value",
		"QEMGATE_OPENQA_CALLBACK_TOKEN": "callback-s3cret",
		"QEMGATE_ADMIN_TOKEN":           "admin-s3cret",
		"QEMGATE_SHUTDOWN_TIMEOUT":      "6s",
		// River's own lines are at debug (jobs.RiverLogger); its clean stop is checked below.
		"QEMGATE_LOG_LEVEL": "debug",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"qemgate", "serve"}, envOf(env), &stdout, &stderr) }()

	base := "http://" + addr
	ok := assert.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)
	if !ok {
		t.Fatalf("readyz never answered 200; logs:\n%s%s", stdout.String(), stderr.String())
	}

	for _, path := range []string{"/livez", "/metrics"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		if path == "/metrics" {
			require.Contains(t, string(body), `qemgate_http_requests_total{code="200",route="/readyz"}`)
			require.Contains(t, string(body), "go_goroutines")
		}
	}

	start := time.Now()
	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, "logs:\n%s%s", stdout.String(), stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15 s")
	}
	require.Less(t, time.Since(start), 15*time.Second)
	logs := stdout.String()
	require.Contains(t, logs, `"msg":"River client stopped"`)
	require.Contains(t, logs, `"msg":"stopped"`)
	for _, secret := range []string{"s3cret-value", "admin-s3cret"} {
		require.NotContains(t, logs, secret, "secrets never reach the logs")
	}
	_, err := http.Get(base + "/livez")
	require.Error(t, err, "nothing listens after the stop")
}

// Readiness fails with a reason while the schema is not current.
func TestRunServeNotReadyWithoutMigrations(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	env := map[string]string{
		"QEMGATE_DATABASE_URL": pgtest.Empty(t),
		"QEMGATE_LISTEN":       addr,
		"QEMGATE_AUTO_MIGRATE": "false",
		// Every receiver switched off on purpose: serve needs no secret then.
		"QEMGATE_WEBHOOKS_GITEA_DISABLED":  "true",
		"QEMGATE_WEBHOOKS_OPENQA_DISABLED": "true",
		"QEMGATE_ADMIN_DISABLED":           "true",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"qemgate", "serve"}, envOf(env), &out, &out) }()
	var body string
	ok := assert.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 30*time.Second, 50*time.Millisecond)
	if !ok {
		t.Fatalf("readyz never answered 503; logs:\n%s", out.String())
	}
	require.Contains(t, body, "migrations are not current")
	cancel()
	require.Equal(t, 0, <-done)
}

func TestRunMigrate(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{"QEMGATE_DATABASE_URL": pgtest.Empty(t)})
	first := fmt.Sprintf("applied %d of ours", len(migrations.All()))
	for i, want := range []string{first, "applied 0 of ours, 0 of River's"} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"qemgate", "migrate"}, env, &stdout, &stderr)
		require.Equal(t, 0, code, "run %d: %s", i, stderr.String())
		require.Contains(t, stdout.String(), want, "run %d", i)
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args   []string
		env    map[string]string
		code   int
		stdout string
		stderr string
	}{
		{args: []string{"qemgate"}, code: 2, stderr: "Usage:"},
		{args: []string{"qemgate", "frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{args: []string{"qemgate", "serve", "--nope"}, code: 2, stderr: "flag provided but not defined: -nope"},
		{args: []string{"qemgate", "serve", "extra"}, code: 2, stderr: `unexpected argument "extra"`},
		{args: []string{"qemgate", "serve"}, code: 2, stderr: "QEMGATE_DATABASE_URL: required"},
		{args: []string{"qemgate", "migrate", "--config", "/nonexistent.yaml"}, code: 2, stderr: "--config: open /nonexistent.yaml"},
		{args: []string{"qemgate", "serve"}, env: map[string]string{"QEMGATE_DATABASE_URL": "postgres://x/y", "QEMGATE_LISTEN": "nope", "QEMGATE_POLL_GITEA": "0s"}, code: 2,
			stderr: `QEMGATE_LISTEN: "nope" is not host:port`},
		{args: []string{"qemgate", "serve"}, env: map[string]string{"QEMGATE_DATABASE_URL": "postgres://x/y", "QEMGATE_ADMIN_TOKEN": "a", "QEMGATE_OPENQA_CALLBACK_TOKEN": "c"}, code: 2,
			stderr: "QEMGATE_GITEA_WEBHOOK_SECRET: required to receive Gitea webhooks"},
		{args: []string{"qemgate", "serve"}, env: map[string]string{"QEMGATE_DATABASE_URL": "postgres://x/y", "QEMGATE_GITEA_WEBHOOK_SECRET": "s", "QEMGATE_ADMIN_TOKEN": "a"}, code: 2,
			stderr: "QEMGATE_OPENQA_CALLBACK_TOKEN: required to receive openQA callbacks"},
		{args: []string{"qemgate", "serve"}, env: map[string]string{"QEMGATE_DATABASE_URL": "postgres://x/y", "QEMGATE_GITEA_WEBHOOK_SECRET": "s", "QEMGATE_OPENQA_CALLBACK_TOKEN": "c"}, code: 2,
			stderr: "QEMGATE_ADMIN_TOKEN: required for the admin API"},
		{args: []string{"qemgate", "serve", "--config", "../../deploy/qemgate.example.yaml"}, env: map[string]string{"QEMGATE_DATABASE_URL": "postgres://x/y", "QEMGATE_GITEA_WEBHOOK_SECRET": "change-me-webhook-secret", "QEMGATE_OPENQA_CALLBACK_TOKEN": "c", "QEMGATE_ADMIN_TOKEN": "a"}, code: 2,
			stderr: "QEMGATE_GITEA_WEBHOOK_SECRET (secret 1): is an example's placeholder"},
		{args: []string{"qemgate", "migrate", "--config", "/dev/null"}, env: map[string]string{"QEMGATE_DATABASE_URL": "postgres://127.0.0.1:1/y"}, code: 1,
			stderr: "database unreachable"},
		{args: []string{"qemgate", "version"}, code: 0, stdout: "qemgate dev (river v0."},
		{args: []string{"qemgate", "help"}, code: 0, stdout: "Usage:"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, envOf(tt.env), &stdout, &stderr)
			require.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			if tt.stdout != "" {
				require.Contains(t, stdout.String(), tt.stdout)
			}
			if tt.stderr != "" {
				require.Contains(t, stderr.String(), tt.stderr)
			}
		})
	}
}
