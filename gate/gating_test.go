package gate_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/gate"
)

func TestIsGated(t *testing.T) {
	t.Parallel()
	const head, old = "bbbb", "aaaa"
	users, teams, bots := []string{"qam-openqa-review"}, []string{"qam-openqa"}, []string{"qam-openqa-review"}
	ours := func(state, sha string, opts ...func(*forge.Review)) forge.Review {
		r := forge.Review{ID: 10, User: "qam-openqa-review", State: state, CommitID: sha}
		for _, o := range opts {
			o(&r)
		}
		return r
	}
	stale := func(r *forge.Review) { r.Stale = true }
	dismissed := func(r *forge.Review) { r.Dismissed = true }
	tests := []struct {
		name    string
		reviews []forge.Review
		want    bool
	}{
		{"nothing asked", nil, false},
		{"team requested", []forge.Review{{State: forge.ReviewRequestReview, Team: "QAM-openqa"}}, true},
		{"user requested", []forge.Review{{State: forge.ReviewRequestReview, User: "qam-openqa-review"}}, true},
		{"someone else requested", []forge.Review{{State: forge.ReviewRequestReview, Team: "other"}}, false},
		{"we approved the head", []forge.Review{ours(forge.ReviewApproved, head)}, false},
		{"we approved an older head", []forge.Review{ours(forge.ReviewApproved, old)}, true},
		{"our approval went stale", []forge.Review{ours(forge.ReviewApproved, head, stale)}, true},
		{"our approval was dismissed", []forge.Review{ours(forge.ReviewApproved, head, dismissed)}, true},
		{"we asked for changes", []forge.Review{ours(forge.ReviewRequestChanges, head)}, true},
		{"the latest of ours counts", []forge.Review{ours(forge.ReviewRequestChanges, old), func() forge.Review {
			r := ours(forge.ReviewApproved, head)
			r.ID = 11
			return r
		}()}, false},
		{"another user's approval is not ours", []forge.Review{{ID: 3, User: "someone", State: forge.ReviewApproved, CommitID: old}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, gate.IsGated(users, teams, bots, tt.reviews, head))
		})
	}
}

func TestBuildSignals(t *testing.T) {
	t.Parallel()
	body := regexp.MustCompile("^Build successful")
	const head = "bbbb"
	review := func(user, state, sha, text string, dismissed bool) []forge.Review {
		return []forge.Review{{User: user, State: state, CommitID: sha, Body: text, Dismissed: dismissed}}
	}
	require.Equal(t, "review:OBS-bot", gate.BuildReviewSignal("obs-bot", body, review("OBS-bot", forge.ReviewApproved, "BBBB", "  Build successful\n", false), head))
	require.Empty(t, gate.BuildReviewSignal("obs-bot", body, review("obs-bot", forge.ReviewApproved, "aaaa", "Build successful", false), head), "another SHA")
	require.Empty(t, gate.BuildReviewSignal("obs-bot", body, review("obs-bot", forge.ReviewApproved, head, "Build failed", false), head), "another body")
	require.Empty(t, gate.BuildReviewSignal("obs-bot", body, review("obs-bot", forge.ReviewApproved, head, "Build successful", true), head), "dismissed")
	require.Empty(t, gate.BuildReviewSignal("obs-bot", body, review("obs-bot", forge.ReviewComment, head, "Build successful", false), head), "not an approval")
	require.Empty(t, gate.BuildReviewSignal("obs-bot", nil, review("obs-bot", forge.ReviewApproved, head, "Build successful", false), head), "no pattern")

	cs := &forge.CombinedStatus{Statuses: []forge.Status{{Context: "obs/pending-thing", State: "pending"}, {Context: "obs/build", State: "success"}}}
	require.Equal(t, "status:obs/build", gate.BuildStatusSignal("obs/*", cs))
	require.Empty(t, gate.BuildStatusSignal("ci/*", cs))
	require.Empty(t, gate.BuildStatusSignal("obs/*", nil))
}
