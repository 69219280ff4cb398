package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/store"
)

// jobsOf returns the ids of the openQA jobs scheduled for a PR at sha.
func (w *world) jobsOf(number int64, sha string) []int64 {
	w.t.Helper()
	var ids []int64
	for _, r := range w.runs(number) {
		if r.SHA == sha {
			ids = append(ids, r.JobIDs...)
		}
	}
	return ids
}

// finish ends openQA jobs with result; the fake then calls the job-done hook.
func (w *world) finish(result string, ids ...int64) {
	w.t.Helper()
	for _, id := range ids {
		require.NoError(w.t, w.openqa.FinishJob(id, result))
	}
}

// scheduled opens a PR, lets its build succeed and waits for its openQA jobs.
func (w *world) scheduled() (giteafake.PullInfo, []int64) {
	w.t.Helper()
	pr := w.openPull("Update openssl-3")
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	ids := w.jobsOf(pr.Number, pr.HeadSHA)
	require.Len(w.t, ids, 3, "x86_64 has two tests, aarch64 one")
	return pr, ids
}

// ourReviews are the reviews qemgate's account submitted, in order.
func (w *world) ourReviews(number int64, state string) []giteafake.ReviewState {
	w.t.Helper()
	all, err := w.gitea.Reviews(owner, repoName, number)
	require.NoError(w.t, err)
	var out []giteafake.ReviewState
	for _, r := range all {
		if r.User == botLogin && (state == "" || r.State == state) {
			out = append(out, r)
		}
	}
	return out
}

// ourStatuses are qemgate's commit statuses at sha, oldest first.
func (w *world) ourStatuses(sha string) []giteafake.StatusState {
	w.t.Helper()
	all, err := w.gitea.Statuses(owner, repoName, sha)
	require.NoError(w.t, err)
	var out []giteafake.StatusState
	for _, s := range all {
		if s.Context == w.cfg.Gitea.StatusContext && s.Creator == botLogin {
			out = append(out, s)
		}
	}
	return out
}

func countState(list []giteafake.StatusState, state string) int {
	n := 0
	for _, s := range list {
		if s.State == state {
			n++
		}
	}
	return n
}

// ourComments are the PR comments written by qemgate's account.
func (w *world) ourComments(number int64) []forge.Comment {
	w.t.Helper()
	fg, err := forge.New(forge.Config{URL: w.gitea.URL(), Token: botToken})
	require.NoError(w.t, err)
	all, err := fg.Comments(w.ctx, repo, number)
	require.NoError(w.t, err)
	var out []forge.Comment
	for _, c := range all {
		if c.User == botLogin {
			out = append(out, c)
		}
	}
	return out
}

// giteaWrites counts the writes qemgate sent to the fake Gitea.
func (w *world) giteaWrites() int {
	w.t.Helper()
	n := 0
	for _, r := range w.gitea.Requests() {
		if r.User == botLogin && r.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// callback posts a body to /webhooks/openqa as openQA's hook or an AMQP
// bridge would, and returns the status code.
func (w *world) callback(body string) int {
	w.t.Helper()
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.srv.URL+"/webhooks/openqa", bytes.NewBufferString(body))
	require.NoError(w.t, err)
	req.Header.Set("Authorization", "Bearer "+callbackToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// replayDelivery replays a stored delivery through the admin API.
func (w *world) replayDelivery(id int64) {
	w.t.Helper()
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, fmt.Sprintf("%s/admin/deliveries/%d/replay", w.srv.URL, id), nil)
	require.NoError(w.t, err)
	req.Header.Set("Authorization", "Bearer "+w.cfg.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	resp.Body.Close()
	require.Equal(w.t, http.StatusAccepted, resp.StatusCode)
}

// pull reads the PR's stored row.
func (w *world) pull(number int64) *store.Pull {
	w.t.Helper()
	p, err := store.GetPull(w.ctx, w.app.Pool, repo, number)
	require.NoError(w.t, err)
	return p
}

// reports are what qemgate recorded as posted for the PR, newest first.
func (w *world) reports(number int64, kind string) []store.Report {
	w.t.Helper()
	all, err := store.ReportsOfPull(w.ctx, w.app.Pool, repo, number)
	require.NoError(w.t, err)
	var out []store.Report
	for _, r := range all {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func jobURL(base string, id int64) string {
	return strings.TrimRight(base, "/") + fmt.Sprintf("/tests/%d", id)
}
