package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/browsertest"
	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/jobs"
)

// statusLog remembers the answers to the requests it saw, for the test to
// wait on.
type statusLog struct {
	mu   sync.Mutex
	seen []string // "METHOD path status"
}

func (l *statusLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		l.mu.Lock()
		l.seen = append(l.seen, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.status))
		l.mu.Unlock()
	})
}

func (l *statusLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.seen {
		if x == s {
			return true
		}
	}
	return false
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// TestBrowserAdminLogin signs in to /admin in headless Chromium, opens a
// cancelled job in River UI and retries it with River UI's own button, then
// shows that a page of another origin on the same site (another port of
// 127.0.0.1, so the SameSite=Strict cookie is sent along) cannot retry it.
func TestBrowserAdminLogin(t *testing.T) {
	t.Parallel()
	bin := browsertest.Chromium(t)
	const token = "browser-admin-token"

	srv := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.DatabaseURL = "unused"
	cfg.Gitea.URL = "http://127.0.0.1:1"
	cfg.OpenQA.URL = "http://127.0.0.1:1"
	cfg.AdminToken = token
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), pgtest.New(t), Options{TestOnly: true})
	require.NoError(t, err)
	ctx, cancelUI := context.WithCancel(context.Background())
	t.Cleanup(cancelUI)
	// Only River UI runs: no worker takes the job, so its state is what the
	// buttons made it.
	require.NoError(t, a.riverUI.Start(ctx))
	var answers statusLog
	srv.Config.Handler = answers.wrap(a.Handler)
	srv.Start()
	t.Cleanup(srv.Close)

	res, err := a.River.Insert(ctx, jobs.EvaluateArgs{Repo: "products/SLFO", Number: 1}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	id := res.Job.ID
	_, err = a.River.JobCancel(ctx, id)
	require.NoError(t, err)
	state := func() string {
		var s string
		require.NoError(t, a.Pool.QueryRow(ctx, `SELECT state::text FROM river_job WHERE id = $1`, id).Scan(&s))
		return s
	}
	require.Equal(t, "cancelled", state())

	bctx, eval := browsertest.New(t, bin, 90*time.Second)
	// waitFor polls cond until it holds or the deadline passes: a busy
	// machine is only slower, never wrong.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(45 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "waited 45 s for %s", what)
		}
	}

	// The job's page without a session sends the browser to the form,
	// which brings it back after signing in.
	jobPage := fmt.Sprintf("%s/admin/river/jobs/%d", srv.URL, id)
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(jobPage),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	))
	var loc string
	loc, err = chromedp.Run(bctx, chromedp.Location())
	require.NoError(t, err)
	require.Contains(t, loc, "/admin/login?next=")
	require.NoError(t, chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#signin")),
	))
	waitFor("River UI's job page", func() bool {
		var n int
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[json.RawMessage](
			`[...document.querySelectorAll("button")].filter(b => b.textContent.trim() === "Retry" && !b.disabled).length`))
		return err == nil && json.Unmarshal(raw, &n) == nil && n > 0
	})
	loc, err = chromedp.Run(bctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, jobPage, loc)
	var cookieVisible bool
	eval(`document.cookie.includes("qemgate_admin")`, &cookieVisible)
	require.False(t, cookieVisible, "HttpOnly: the page's scripts cannot read the session")

	eval(`[...document.querySelectorAll("button")].find(b => b.textContent.trim() === "Retry").click(), true`, new(bool))
	waitFor("the job to be retried", func() bool { return state() == "available" })
	// The job's row changes before the handler returns: wait for the answer too.
	waitFor("River UI's fetch to pass the same-origin check", func() bool { return answers.has("POST /admin/river/api/jobs/retry 200") })

	// Another origin on the same site posts to River UI's API with the
	// browser's cookie: refused, and the job stays cancelled.
	_, err = a.River.JobCancel(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "cancelled", state())
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><p id="sent">sending</p><script>
fetch(%q, {method: "POST", mode: "no-cors", credentials: "include", headers: {"Content-Type": "text/plain"}, body: JSON.stringify({ids: ["%d"]})})
  .finally(() => { document.getElementById("sent").textContent = "sent"; });
</script>`, srv.URL+"/admin/river/api/jobs/retry", id)
	}))
	t.Cleanup(evil.Close)
	require.NotEqual(t, srv.URL, evil.URL)
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(evil.URL)))
	waitFor("the cross-site POST to be answered", func() bool { return answers.has("POST /admin/river/api/jobs/retry 403") })
	require.Equal(t, "cancelled", state(), "the cross-site retry changed nothing")

	// Signing out deletes the cookie: River UI asks for the form again.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS("#logout")),
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.Navigate(srv.URL+"/admin/river/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	))
	loc, err = chromedp.Run(bctx, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loc, srv.URL+"/admin/login"), loc)
}
