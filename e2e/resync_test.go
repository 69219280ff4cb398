package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// openQA sends nothing when a reviewer accepts a failure with a comment; an
// operator's resync re-reads the PR and every job at its head, comments
// included, and the approval follows at once.
func TestResyncReadsNewComments(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pr, ids := w.scheduled()
	w.finish("passed", ids[0], ids[1])
	w.finish("failed", ids[2])
	w.settle()
	require.Equal(t, "failed", w.pull(pr.Number).Verdict)
	require.Len(t, w.ourReviews(pr.Number, "REQUEST_CHANGES"), 1)

	_, err := w.openqa.AddComment(ids[2], "reviewer", fmt.Sprintf("@review:acceptable_for:submission_%d:bsc1234567", pr.Number))
	require.NoError(t, err)
	w.settle()
	require.Equal(t, "failed", w.pull(pr.Number).Verdict, "nothing told qemgate about the comment")

	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/admin/pulls/%s/%d/resync", w.srv.URL, repo, pr.Number), nil)
	req.Header.Set("Authorization", "Bearer "+w.cfg.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	w.settle()
	require.Equal(t, "passed", w.pull(pr.Number).Verdict)
	require.Len(t, w.ourReviews(pr.Number, "APPROVED"), 1)
}
