package forge

import (
	"context"
	"time"
)

// Forge is what qemgate's jobs need from Gitea. repo is always "owner/name".
// *Client implements it against a real Gitea; tests use Client against
// fake/giteafake.
type Forge interface {
	GetPull(ctx context.Context, repo string, number int64) (*Pull, error)
	// ListOpenPulls returns every open PR of repo, oldest first.
	ListOpenPulls(ctx context.Context, repo string) ([]Pull, error)
	PullFiles(ctx context.Context, repo string, number int64) ([]ChangedFile, error)
	// RawFile returns the content of path at ref (branch, tag or commit SHA).
	RawFile(ctx context.Context, repo, ref, path string) ([]byte, error)
	// Reviews returns every review row, including REQUEST_REVIEW rows for
	// pending user or team review requests.
	Reviews(ctx context.Context, repo string, number int64) ([]Review, error)
	// CombinedStatus is the latest status per context over all pages, with
	// State combined by Gitea's rule across all of them.
	CombinedStatus(ctx context.Context, repo, sha string) (*CombinedStatus, error)
	CreateStatus(ctx context.Context, repo, sha string, s StatusInput) error
	CreateReview(ctx context.Context, repo string, number int64, r ReviewInput) (*Review, error)
	DismissReview(ctx context.Context, repo string, number, reviewID int64, message string) error
	Comments(ctx context.Context, repo string, number int64) ([]Comment, error)
	CreateComment(ctx context.Context, repo string, number int64, body string) (*Comment, error)
	EditComment(ctx context.Context, repo string, commentID int64, body string) error
	// PullsForCommit returns the open PRs whose head is sha; none is not an error.
	PullsForCommit(ctx context.Context, repo, sha string) ([]Pull, error)
}

var _ Forge = (*Client)(nil)

// Pull is a pull request as the jobs see it.
type Pull struct {
	Repo       string `json:"repo"`
	Number     int64  `json:"number"`
	State      string `json:"state"` // "open" or "closed"
	Merged     bool   `json:"merged"`
	Draft      bool   `json:"draft"`
	Title      string `json:"title"`
	Author     string `json:"author"`
	BaseBranch string `json:"base_branch"`
	// HeadSHA is 40 hex digits in SHA-1 repositories and 64 in SHA-256 ones.
	HeadSHA string   `json:"head_sha"`
	HTMLURL string   `json:"html_url"`
	Labels  []string `json:"labels"`
	// RequestedReviewers and RequestedTeams mirror the PR's fields, which can
	// be stale (approvers stay listed); Reviews is the source of truth.
	RequestedReviewers []string  `json:"requested_reviewers"`
	RequestedTeams     []string  `json:"requested_teams"`
	UpdatedAt          time.Time `json:"updated_at"`
	CreatedAt          time.Time `json:"created_at"`
}

// ChangedFile is one file a PR touches. Status is Gitea's: added, changed,
// deleted, renamed, copied, unchanged.
type ChangedFile struct {
	Filename         string `json:"filename"`
	Status           string `json:"status"`
	PreviousFilename string `json:"previous_filename,omitempty"`
}

// Review states as Gitea names them.
const (
	ReviewApproved       = "APPROVED"
	ReviewRequestChanges = "REQUEST_CHANGES"
	ReviewComment        = "COMMENT"
	ReviewRequestReview  = "REQUEST_REVIEW"
	ReviewPending        = "PENDING"
)

// Review is one row of a PR's review list: a submitted review or, with State
// REQUEST_REVIEW, a pending request for User or Team.
type Review struct {
	ID       int64  `json:"id"`
	User     string `json:"user,omitempty"`
	Team     string `json:"team,omitempty"`
	State    string `json:"state"`
	Body     string `json:"body"`
	CommitID string `json:"commit_id"`
	// Stale means the PR's diff changed after this review (a push).
	Stale     bool `json:"stale"`
	Dismissed bool `json:"dismissed"`
	// Official means it counts for branch protection; only a reviewer's
	// latest approve/reject is official.
	Official    bool      `json:"official"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// CombinedStatus is the latest status per context of one commit.
type CombinedStatus struct {
	State    string   `json:"state"`
	SHA      string   `json:"sha"`
	Statuses []Status `json:"statuses"`
}

// Status is the latest status of one context.
type Status struct {
	Context     string    `json:"context"`
	State       string    `json:"state"`
	Description string    `json:"description"`
	TargetURL   string    `json:"target_url"`
	Creator     string    `json:"creator"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// StatusInput is a commit status to post.
type StatusInput struct {
	State       string `json:"state"`
	Context     string `json:"context"`
	Description string `json:"description"`
	TargetURL   string `json:"target_url"`
}

// ReviewInput is a review to submit. Event is APPROVED, REQUEST_CHANGES or
// COMMENT; CommitID pins the review to the SHA that was tested.
type ReviewInput struct {
	Event    string `json:"event"`
	Body     string `json:"body"`
	CommitID string `json:"commit_id"`
}

// Comment is an issue comment on a PR.
type Comment struct {
	ID        int64     `json:"id"`
	User      string    `json:"user"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}
