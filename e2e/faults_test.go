package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
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
