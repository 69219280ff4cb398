package forge

import (
	"context"
	"fmt"

	"code.gitea.io/sdk/gitea"

	"github.com/qemgate/qemgate/internal/pullref"
)

// Reviews reads every review row of a PR, oldest first, including the
// REQUEST_REVIEW rows of pending user and team requests.
func (c *Client) Reviews(ctx context.Context, repo string, number int64) ([]Review, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	rows, err := readAll(ctx, c, "reviews", pullref.Format(repo, number, ""), func(_ context.Context, g *gitea.Client, page, limit int) ([]*gitea.PullReview, *gitea.Response, error) {
		return g.ListPullReviews(owner, name, number, gitea.ListPullReviewsOptions{ListOptions: gitea.ListOptions{Page: page, PageSize: limit}})
	})
	if err != nil {
		return nil, err
	}
	out := make([]Review, 0, len(rows))
	for _, r := range rows {
		if r != nil {
			out = append(out, toReview(r))
		}
	}
	return out, nil
}

// CreateReview submits a review. APPROVED and REQUEST_CHANGES must name the
// tested CommitID; REQUEST_CHANGES and COMMENT need a body.
func (c *Client) CreateReview(ctx context.Context, repo string, number int64, r ReviewInput) (*Review, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	target := pullref.Format(repo, number, r.CommitID)
	if err := validateReview(r); err != nil {
		return nil, fmt.Errorf("create review %s: %w", target, err)
	}
	var rv *gitea.PullReview
	err = c.write(ctx, "create_review", target, func(_ context.Context, g *gitea.Client) (*gitea.Response, error) {
		var (
			resp *gitea.Response
			err  error
		)
		rv, resp, err = g.CreatePullReview(owner, name, number, gitea.CreatePullReviewOptions{
			State: gitea.ReviewStateType(r.Event), Body: r.Body, CommitID: r.CommitID,
		})
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	out := toReview(rv)
	return &out, nil
}

// DismissReview dismisses an APPROVED or REQUEST_CHANGES review (needs repo
// admin rights), e.g. our approval of a SHA that is no longer the head.
func (c *Client) DismissReview(ctx context.Context, repo string, number, reviewID int64, message string) error {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return err
	}
	return c.write(ctx, "dismiss_review", fmt.Sprintf("%s review %d", pullref.Format(repo, number, ""), reviewID), func(_ context.Context, g *gitea.Client) (*gitea.Response, error) {
		return g.DismissPullReview(owner, name, number, reviewID, gitea.DismissPullReviewOptions{Message: message})
	})
}
