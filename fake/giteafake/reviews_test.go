package giteafake_test

import (
	"encoding/json"
	"testing"

	"code.gitea.io/sdk/gitea"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
)

func TestTeamReviewRequestFansOut(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	// The PR author is in the team too and must not get a delivery.
	require.NoError(t, tb.srv.AddTeamMember("products", "qam-openqa", "bob"))
	require.NoError(t, tb.srv.AddTeamMember("products", "qam-openqa", "carol"))
	require.NoError(t, tb.srv.RequestReview("products", "SLFO", tb.pr.Number, "alice", nil, []string{"qam-openqa"}))
	// Asking again is a no-op, as in Gitea.
	require.NoError(t, tb.srv.RequestReview("products", "SLFO", tb.pr.Number, "alice", nil, []string{"qam-openqa"}))
	tb.waitIdle(t)

	var reviewers []string
	for _, d := range tb.sink.byType("pull_request_review_request") {
		var pl struct {
			Action            string
			RequestedReviewer struct{ Login string } `json:"requested_reviewer"`
			Sender            struct{ Login string }
		}
		require.NoError(t, json.Unmarshal(d.Body, &pl))
		require.Equal(t, "review_requested", pl.Action)
		require.Equal(t, "alice", pl.Sender.Login)
		reviewers = append(reviewers, pl.RequestedReviewer.Login)
	}
	require.Equal(t, []string{"qam-bot", "bob"}, reviewers)

	// Removing a team request sends nothing.
	require.NoError(t, tb.srv.RemoveReviewRequest("products", "SLFO", tb.pr.Number, "alice", nil, []string{"qam-openqa"}))
	tb.waitIdle(t)
	require.Len(t, tb.sink.byType("pull_request_review_request"), 2)
	rs, err := tb.srv.Reviews("products", "SLFO", tb.pr.Number)
	require.NoError(t, err)
	require.Empty(t, rs)
}

func TestTeamRequestClearedOnlyByApproveOrReject(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	n := tb.pr.Number
	require.NoError(t, tb.srv.RequestReview("products", "SLFO", n, "alice", nil, []string{"qam-openqa"}))
	_, err := tb.srv.SubmitReview("products", "SLFO", n, giteafake.ReviewOptions{User: "qam-bot", State: giteafake.ReviewComment, Body: "looking"})
	require.NoError(t, err)
	rs, err := tb.srv.Reviews("products", "SLFO", n)
	require.NoError(t, err)
	require.Equal(t, "qam-openqa", rs[0].Team, "a COMMENT keeps the team request")
	_, err = tb.srv.SubmitReview("products", "SLFO", n, giteafake.ReviewOptions{User: "qam-bot", State: giteafake.ReviewRequestChanges, Body: "openQA failed"})
	require.NoError(t, err)
	rs, err = tb.srv.Reviews("products", "SLFO", n)
	require.NoError(t, err)
	for _, r := range rs {
		require.Empty(t, r.Team, "team request must be gone: %v", rs)
	}
}

func TestPushMarksReviewsStale(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	n := tb.pr.Number
	old := tb.pr.HeadSHA
	_, err := tb.srv.SubmitReview("products", "SLFO", n, giteafake.ReviewOptions{User: "qam-bot", State: giteafake.ReviewApproved, Body: "Tested commit: " + old})
	require.NoError(t, err)
	pr, err := tb.srv.Push("products", "SLFO", n, giteafake.PushOptions{Files: map[string]string{"hello.spec": "Name: hello\nVersion: 2.12.3\n"}})
	require.NoError(t, err)
	require.NotEqual(t, old, pr.HeadSHA)

	c := tb.client(t, "tok-qam")
	reviews, _, err := c.ListPullReviews("products", "SLFO", n, gitea.ListPullReviewsOptions{})
	require.NoError(t, err)
	require.Len(t, reviews, 1)
	require.True(t, reviews[0].Stale)
	require.False(t, reviews[0].Dismissed)
	require.Equal(t, old, reviews[0].CommitID)

	// A review naming an old commit is stale from the start; one on the new
	// head is not.
	rv, _, err := c.CreatePullReview("products", "SLFO", n, gitea.CreatePullReviewOptions{State: gitea.ReviewStateApproved, CommitID: old})
	require.NoError(t, err)
	require.True(t, rv.Stale)
	rv, _, err = c.CreatePullReview("products", "SLFO", n, gitea.CreatePullReviewOptions{State: gitea.ReviewStateApproved})
	require.NoError(t, err)
	require.False(t, rv.Stale)
	require.Equal(t, pr.HeadSHA, rv.CommitID)

	tb.waitIdle(t)
	syncs := tb.sink.byType("pull_request_sync")
	require.Len(t, syncs, 1)
	var pl struct {
		Action      string
		Before      string
		PullRequest struct {
			Head struct{ Sha string }
		} `json:"pull_request"`
	}
	require.NoError(t, json.Unmarshal(syncs[0].Body, &pl))
	require.Equal(t, "synchronized", pl.Action)
	require.Equal(t, pr.HeadSHA, pl.PullRequest.Head.Sha)
	require.Empty(t, pl.Before, "1.26 has no before/after")
}

func TestReviewValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, token, event, body, msg string
		closed                        bool
	}{
		{name: "author approves own PR", token: "tok-carol", event: "APPROVED", msg: "approve your own pull is not allowed"},
		{name: "author rejects own PR", token: "tok-carol", event: "REQUEST_CHANGES", body: "x", msg: "reject your own pull is not allowed"},
		{name: "request changes without body", token: "tok-bob", event: "REQUEST_CHANGES", msg: "review event REQUEST_CHANGES requires a body"},
		{name: "approve a closed PR", token: "tok-bob", event: "APPROVED", closed: true, msg: "can't submit review for a closed or merged PR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t)
			if tc.closed {
				require.NoError(t, tb.srv.ClosePull("products", "SLFO", tb.pr.Number, "alice"))
			}
			// Raw HTTP: the SDK validates some of these client-side.
			code, body := postJSON(t, tb.srv.URL()+"/api/v1/repos/products/SLFO/pulls/1/reviews", tc.token, map[string]string{"event": tc.event, "body": tc.body})
			require.Equal(t, 422, code)
			require.Equal(t, tc.msg, body["message"])
		})
	}
}

func TestSHA256Repository(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	head, err := tb.srv.AddRepo(giteafake.Repo{Owner: "products", Name: "SLFO2", ObjectFormat: "sha256", Writers: []string{"ci-bot"}})
	require.NoError(t, err)
	require.Len(t, head, 64)
	pr, err := tb.srv.OpenPull(giteafake.PullOptions{Owner: "products", Repo: "SLFO2", Author: "carol", Head: "wip", Title: "WIP: try", Files: map[string]string{"a": "b\n"}})
	require.NoError(t, err)
	require.Len(t, pr.HeadSHA, 64)
	c := tb.client(t, "tok-ci")
	got, _, err := c.GetPullRequest("products", "SLFO2", pr.Number)
	require.NoError(t, err)
	require.True(t, got.Draft)
	require.Equal(t, "sha256", got.Base.Repository.ObjectFormatName)
	st, _, err := c.CreateStatus("products", "SLFO2", pr.HeadSHA[:10], gitea.CreateStatusOption{State: gitea.StatusSuccess, Context: "openqa"})
	require.NoError(t, err)
	require.Contains(t, st.URL, pr.HeadSHA)
}
