package gate

import (
	"path"
	"regexp"
	"strings"

	"github.com/qemgate/qemgate/forge"
)

// IsGated says whether a PR is ours to gate, from its review rows: a review
// is requested from one of users or teams (our reviewer), or the latest
// review by one of bots (our accounts) is anything but an approval of the
// head SHA (stale after a push, dismissed, or asking for changes we may now
// lift). Gitea deletes a team's request when a member reviews, so the
// request alone is not enough.
func IsGated(users, teams, bots []string, reviews []forge.Review, head string) bool {
	var latest *forge.Review
	for i := range reviews {
		rv := &reviews[i]
		if rv.State == forge.ReviewRequestReview {
			if containsFold(users, rv.User) || containsFold(teams, rv.Team) {
				return true
			}
			continue
		}
		if containsFold(bots, rv.User) && (latest == nil || rv.ID > latest.ID) {
			latest = rv
		}
	}
	if latest == nil {
		return false
	}
	return !(latest.State == forge.ReviewApproved && strings.EqualFold(latest.CommitID, head) && !latest.Stale && !latest.Dismissed)
}

// BuildReviewSignal finds the build service's "Build successful" review of
// head: an approval by user at head, not dismissed, whose trimmed body
// matches body. It names the signal ("review:<user>"), or "" when there is
// none (or no pattern).
func BuildReviewSignal(user string, body *regexp.Regexp, reviews []forge.Review, head string) string {
	if body == nil {
		return ""
	}
	for _, rv := range reviews {
		if strings.EqualFold(rv.User, user) && rv.State == forge.ReviewApproved && !rv.Dismissed &&
			strings.EqualFold(rv.CommitID, head) && body.MatchString(strings.TrimSpace(rv.Body)) {
			return "review:" + rv.User
		}
	}
	return ""
}

// BuildStatusSignal finds a successful commit status at the head whose
// context matches the glob contextGlob ("status:<context>"), or "".
func BuildStatusSignal(contextGlob string, cs *forge.CombinedStatus) string {
	if cs == nil {
		return ""
	}
	for _, s := range cs.Statuses {
		if ok, _ := path.Match(contextGlob, s.Context); ok && s.State == "success" {
			return "status:" + s.Context
		}
	}
	return ""
}

func containsFold(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
