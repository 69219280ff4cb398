// Package hook_test runs openQA's job-done hook script for qemgate against a
// stand-in receiver, the way openQA's Minion task runs it.
package hook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const token = `s3cret-"tok\en`

type call struct {
	path, auth, contentType, body string
}

// receiver answers with status and records what the hook sent.
func receiver(t *testing.T, status int) (*httptest.Server, func() []call) {
	t.Helper()
	var mu sync.Mutex
	var calls []call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, call{path: r.URL.Path, auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"), body: string(b)})
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []call {
		mu.Lock()
		defer mu.Unlock()
		return append([]call(nil), calls...)
	}
}

// runHook runs the script as openQA does: the job id is its only argument.
func runHook(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"qemgate-job-done-hook"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "QEMGATE_HOOK_TIMEOUT=5"}, env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err, string(out))
	return 0, string(out)
}

func TestHookScript(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))

	tests := []struct {
		name   string
		status int
		env    func(url string) []string
		args   []string
		want   int
		calls  int
	}{
		{name: "accepted", status: http.StatusAccepted, env: func(u string) []string {
			return []string{"QEMGATE_URL=" + u, "QEMGATE_OPENQA_CALLBACK_TOKEN=" + token}
		}, args: []string{"4711"}, want: 0, calls: 1},
		{name: "token from a file, URL with a slash", status: http.StatusAccepted, env: func(u string) []string {
			return []string{"QEMGATE_URL=" + u + "/", "QEMGATE_OPENQA_CALLBACK_TOKEN_FILE=" + tokenFile}
		}, args: []string{"4711"}, want: 0, calls: 1},
		{name: "unauthorized", status: http.StatusUnauthorized, env: func(u string) []string {
			return []string{"QEMGATE_URL=" + u, "QEMGATE_OPENQA_CALLBACK_TOKEN=" + token}
		}, args: []string{"4711"}, want: 142, calls: 1},
		{name: "server error", status: http.StatusServiceUnavailable, env: func(u string) []string {
			return []string{"QEMGATE_URL=" + u, "QEMGATE_OPENQA_CALLBACK_TOKEN=" + token}
		}, args: []string{"4711"}, want: 142, calls: 1},
		{name: "poison callback", status: http.StatusBadRequest, env: func(u string) []string {
			return []string{"QEMGATE_URL=" + u, "QEMGATE_OPENQA_CALLBACK_TOKEN=" + token}
		}, args: []string{"4711"}, want: 1, calls: 1},
		{name: "unreachable", status: http.StatusAccepted, env: func(string) []string {
			return []string{"QEMGATE_URL=http://127.0.0.1:1", "QEMGATE_OPENQA_CALLBACK_TOKEN=" + token}
		}, args: []string{"4711"}, want: 142},
		{name: "no URL", status: http.StatusAccepted, env: func(string) []string {
			return []string{"QEMGATE_OPENQA_CALLBACK_TOKEN=" + token}
		}, args: []string{"4711"}, want: 142},
		{name: "no token", status: http.StatusAccepted, env: func(u string) []string {
			return []string{"QEMGATE_URL=" + u, "QEMGATE_OPENQA_CALLBACK_TOKEN_FILE=/nonexistent"}
		}, args: []string{"4711"}, want: 142},
		{name: "no job id", status: http.StatusAccepted, env: func(u string) []string {
			return []string{"QEMGATE_URL=" + u, "QEMGATE_OPENQA_CALLBACK_TOKEN=" + token}
		}, want: 2},
		{name: "job id not a number", status: http.StatusAccepted, env: func(u string) []string {
			return []string{"QEMGATE_URL=" + u, "QEMGATE_OPENQA_CALLBACK_TOKEN=" + token}
		}, args: []string{"1;rm"}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, calls := receiver(t, tt.status)
			start := time.Now()
			code, out := runHook(t, tt.env(srv.URL), tt.args...)
			require.Equal(t, tt.want, code, out)
			require.Less(t, time.Since(start), 10*time.Second)
			got := calls()
			require.Len(t, got, tt.calls, out)
			for _, c := range got {
				require.Equal(t, "/webhooks/openqa", c.path)
				require.Equal(t, "Bearer "+token, c.auth)
				require.Equal(t, "application/json", c.contentType)
				require.JSONEq(t, `{"id": 4711}`, c.body)
			}
		})
	}
}

func TestHookKeepsTokenOffTheCommandLine(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("qemgate-job-done-hook")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "curl ") {
			require.NotContains(t, line, "$token", "the token must reach curl on stdin")
		}
	}
}
