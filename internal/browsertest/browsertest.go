// Package browsertest runs a headless Chromium for the tests that drive
// qemgate's pages as a user would (the dashboard, the admin sign-in).
package browsertest

import (
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Chromium returns the browser's path, or skips t when none is installed.
// Call it first, before a test builds what the browser would look at.
func Chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium or chromium-browser on PATH: install it (apt-get install -y chromium) to run the browser test")
	return ""
}

// New starts the browser at bin with a profile of its own, for at most
// timeout, and stops it when t ends. eval runs a JavaScript expression in
// the page and decodes its value into v.
func New(t *testing.T, bin string, timeout time.Duration) (ctx context.Context, eval func(js string, v any)) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	eval = func(js string, v any) {
		t.Helper()
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](js))
		require.NoError(t, err, js)
		require.NoError(t, json.Unmarshal(raw, v), js)
	}
	return ctx, eval
}
