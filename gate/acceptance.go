package gate

import "github.com/qemgate/qemgate/openqa"

// CommentAcceptance is an openQA comment whose
// "@review:acceptable_for:(incident|submission)_<N>:<reason>" marker names a
// PR: a reviewer's statement that the not-ok job must not block it.
type CommentAcceptance struct {
	CommentID int64  `json:"comment_id"`
	Reason    string `json:"reason"`
	By        string `json:"by,omitempty"`
}

// AcceptanceFor returns the first comment, in order, with a marker for the
// number id (as written: "incident_007" does not cover 7, as in qem-bot).
// It decides once, when a job's comments are read; the verdict then takes
// the result as it is (JobInput.Accepted).
func AcceptanceFor(comments []openqa.Comment, id string) (CommentAcceptance, bool) {
	for _, c := range comments {
		for _, m := range openqa.ParseAcceptableFor(c.Text) {
			if m.ID == id {
				return CommentAcceptance{CommentID: c.ID, Reason: m.Reason, By: c.UserName}, true
			}
		}
	}
	return CommentAcceptance{}, false
}
