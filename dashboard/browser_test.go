package dashboard

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/browsertest"
)

// screenshotEnv, set to 1, rewrites docs/dashboard-blocked.png.
const screenshotEnv = "QEMGATE_UPDATE_SCREENSHOT"

// TestBrowserBlocked drives /blocked in headless Chromium against the real
// server on seeded data: rows, order, highlighting and the filter form.
func TestBrowserBlocked(t *testing.T) {
	t.Parallel()
	bin := browsertest.Chromium(t)
	srv := httptest.NewServer(dashSetup(t))
	t.Cleanup(srv.Close)

	ctx, run := browsertest.New(t, bin, 60*time.Second)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/blocked?group_names=kernel,core,containers,aggregate"),
		chromedp.WaitVisible(chromedp.CSS("table.blocked")),
	))
	var rows, highlighted, failing1 []string
	var reason2, reason4, buttons1, note string
	run(`[...document.querySelectorAll("table.blocked tbody tr")].map(r => r.id)`, &rows)
	run(`[...document.querySelectorAll("tr.high-priority")].map(r => r.id)`, &highlighted)
	run(`document.querySelector("#pr-2 .prio-reason").textContent`, &reason2)
	run(`document.querySelector("#pr-4 .prio-reason").textContent`, &reason4)
	run(`[...document.querySelectorAll("#pr-1 td.failing li")].map(li => li.innerText.trim().replace(/\s+/g, " "))`, &failing1)
	run(`[...document.querySelectorAll("#pr-1 td.failing a")].map(a => a.href).join(" ")`, &note)
	require.Equal(t, "https://openqa.example.test/tests/101 https://openqa.example.test/tests/901", note, "each failing test links to its openQA job")
	run(`document.querySelector(".filter-note").textContent`, &note)
	run(`[...document.querySelectorAll("#pr-1 a.result")].map(a => a.className + " " + a.textContent.trim().replace(/\s+/g, " ")).join("|")`, &buttons1)
	// Quality 100 makes it a PNG; anything less is a JPEG.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.Equal(t, []string{"pr-4", "pr-2", "pr-1"}, rows, "the emergency first, then priority 700; #3 has no matching group")
	require.Equal(t, []string{
		"ltp x86_64 failed SLE 16 Kernel · contact kernel-qa@suse.de",
		"upd x86_64 failed aggregate SLES x86_64 SLE 16 Aggregate",
	}, failing1, "the row names the failing tests, their arch, group and contact")
	require.Contains(t, note, "Only pull requests blocked by the job groups matching")
	require.Equal(t, []string{"pr-4", "pr-2"}, highlighted)
	require.Contains(t, reason2, "priority 700 (label priority/high)")
	require.Contains(t, reason4, "emergency (label emergency)")
	require.Equal(t, "result result-failed SLE 16 Kernel 1/3 failed|result result-failed SLE 16 Aggregate x86_64 1/2 failed", buttons1)

	out := filepath.Join(t.TempDir(), "dashboard-blocked.png")
	if os.Getenv(screenshotEnv) == "1" {
		out = filepath.Join("..", "docs", "dashboard-blocked.png")
	}
	require.Equal(t, "\x89PNG", string(png[:4]))
	require.NoError(t, os.WriteFile(out, png, 0o644))
	t.Logf("screenshot: %s", out)

	// Submitting the form is a plain GET: the filter lands in the URL.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#f-groups"), "containers"),
		chromedp.Click(chromedp.CSS(`input[name=states][value=passed]`)),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
	))
	// The form is a plain GET: the new filter shows up in the URL once the
	// browser has navigated.
	var loc string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if loc, err = chromedp.Run(ctx, chromedp.Location()); err == nil && strings.Contains(loc, "group_names=containers") {
			break
		}
	}
	require.Contains(t, loc, "group_names=containers", "submitting the form puts the filter into the URL")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("table.blocked"))))
	var search string
	run(`location.search`, &search)
	run(`[...document.querySelectorAll("table.blocked tbody tr")].map(r => r.id)`, &rows)
	require.Equal(t, []string{"pr-4"}, rows)
	require.True(t, strings.Contains(search, "states=passed"), search)
	require.Contains(t, search, "states=failed")
}
