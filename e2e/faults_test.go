package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
)

// requireNoRepeatedStatus fails when one of our statuses at sha was posted
// twice in a row with the same state, description and target.
func (w *world) requireNoRepeatedStatus(sha string) {
	w.t.Helper()
	ours := w.ourStatuses(sha)
	for i := 1; i < len(ours); i++ {
		a, b := ours[i-1], ours[i]
		require.False(w.t, a.State == b.State && a.Description == b.Description && a.TargetURL == b.TargetURL,
			"status %q %q posted again", b.State, b.Description)
	}
}

// A status POST whose answer is lost did reach Gitea. The retry reads the
// statuses at the SHA, finds it there, and does not post it again.
func TestStatusIsNotPostedAgainAfterALostAnswer(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr, ids := w.scheduled()
	w.finish("passed", ids[1:]...)
	w.settle()
	// The last job decides: the success status is the next one posted.
	w.gitea.AddFault(giteafake.Fault{Method: http.MethodPost, Path: "/api/v1/repos/*/*/statuses/*", Drop: true, AfterHandling: true, Times: 1})
	w.finish("passed", ids[0])
	w.settle()
	ours := w.ourStatuses(pr.HeadSHA)
	require.Equal(t, 1, countState(ours, "success"), "the final status is written once")
	w.requireNoRepeatedStatus(pr.HeadSHA)
	require.Len(t, w.ourReviews(pr.Number, "APPROVED"), 1)
	recorded := w.reports(pr.Number, "status")
	require.Len(t, recorded, 1)
	require.Equal(t, "success", recorded[0].State, "the adopted status is recorded")
}

// faultRate is the share of upstream calls that fail in the bad-day test.
const faultRate = 0.3

// badDay makes faultRate of every call to Gitea's API and to openQA fail,
// in equal parts: a 5xx, a hang until the client's timeout, and an answer
// lost after the call took effect.
func (w *world) badDay() {
	third := faultRate / 3
	// Each fault hits its share of the calls the ones before it spared.
	rates := []float64{third, third / (1 - third), third / (1 - 2*third)}
	w.gitea.AddFault(giteafake.Fault{Path: "/api/v1/**", Status: http.StatusBadGateway, Rate: rates[0]})
	w.gitea.AddFault(giteafake.Fault{Path: "/api/v1/**", Hang: true, Rate: rates[1]})
	w.gitea.AddFault(giteafake.Fault{Path: "/api/v1/**", Drop: true, AfterHandling: true, Rate: rates[2]})
	for _, ep := range []string{"isos", "jobs", "job", "comments", "job_groups", "job_group", "parent_groups", "parent_group"} {
		w.openqa.AddFault(ep, openqafake.Fault{Status: http.StatusServiceUnavailable, Rate: rates[0]})
		w.openqa.AddFault(ep, openqafake.Fault{Hang: true, Rate: rates[1]})
		w.openqa.AddFault(ep, openqafake.Fault{Drop: true, AfterHandling: true, Rate: rates[2]})
	}
}

// convergeWithin bounds the bad-day test: the issue asks for five minutes in
// production (30 s timeouts); with 1 s timeouts the test expects far less.
const convergeWithin = 100 * time.Second

// On a bad day, when 30 % of every Gitea and openQA call fails (5xx,
// timeouts, lost answers), a PR still converges to the right outcome within
// a bound: its runs posted once each, one approval (or one request for
// changes) at the tested SHA, and no status posted twice in a row.
func TestConvergesOnABadDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		result   string // of one of the three jobs; the others pass
		review   string // our review at the tested SHA
		status   string // our final commit status
		verdict  string
		opposite string // the review that must not be there
	}{
		{"passed", "APPROVED", "success", "passed", "REQUEST_CHANGES"},
		{"failed", "REQUEST_CHANGES", "failure", "failed", "APPROVED"},
	}
	for _, tc := range tests {
		t.Run(tc.result, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, func(c *config.Config) {
				c.Gitea.Timeout = config.Duration(time.Second)
				c.OpenQA.Timeout = config.Duration(time.Second)
			})
			w.badDay()
			start := time.Now()
			pr := w.openPull("Update openssl-3")
			w.buildSucceeds(pr.Number, pr.HeadSHA)
			var ids []int64
			require.Eventually(t, func() bool {
				ids = w.jobsOf(pr.Number, pr.HeadSHA)
				return len(ids) == 3
			}, convergeWithin, 100*time.Millisecond, "both runs scheduled")
			scheduled := time.Since(start)
			w.finish("passed", ids[1:]...)
			w.finish(tc.result, ids[0])
			require.Eventually(t, func() bool {
				reviews, err := w.gitea.Reviews(owner, repoName, pr.Number)
				require.NoError(t, err)
				for _, r := range reviews {
					if r.User == botLogin && r.State == tc.review && r.CommitID == pr.HeadSHA {
						return true
					}
				}
				return false
			}, convergeWithin-scheduled, 100*time.Millisecond, "%s at the tested SHA", tc.review)
			t.Logf("scheduled after %s, %s after %s under %.0f %% faults", scheduled.Round(time.Millisecond),
				tc.review, time.Since(start).Round(time.Millisecond), faultRate*100)

			w.gitea.ClearFaults()
			w.openqa.ClearFaults()
			w.settle()
			require.Len(t, w.ourReviews(pr.Number, tc.review), 1, "one %s", tc.review)
			require.Empty(t, w.ourReviews(pr.Number, tc.opposite))
			require.Len(t, w.isoPosts(), 2, "one isos POST per run that took effect")
			ours := w.ourStatuses(pr.HeadSHA)
			require.Equal(t, 1, countState(ours, tc.status), "%+v", ours)
			w.requireNoRepeatedStatus(pr.HeadSHA)
			require.Equal(t, tc.verdict, w.pull(pr.Number).Verdict)
		})
	}
}
