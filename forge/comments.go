package forge

import (
	"context"
	"fmt"

	"code.gitea.io/sdk/gitea"

	"github.com/qemgate/qemgate/internal/pullref"
)

// Comments reads every issue comment of a PR, oldest first. (Gitea answers
// this endpoint unpaged; the pager copes with both.)
func (c *Client) Comments(ctx context.Context, repo string, number int64) ([]Comment, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	rows, err := readAll(ctx, c, "comments", pullref.Format(repo, number, ""), func(_ context.Context, g *gitea.Client, page, limit int) ([]*gitea.Comment, *gitea.Response, error) {
		return g.ListIssueComments(owner, name, number, gitea.ListIssueCommentOptions{ListOptions: gitea.ListOptions{Page: page, PageSize: limit}})
	})
	if err != nil {
		return nil, err
	}
	out := make([]Comment, 0, len(rows))
	seen := map[int64]bool{}
	for _, cm := range rows {
		if cm == nil || seen[cm.ID] {
			continue
		}
		seen[cm.ID] = true
		out = append(out, toComment(cm))
	}
	return out, nil
}

// CreateComment posts an issue comment on a PR.
func (c *Client) CreateComment(ctx context.Context, repo string, number int64, body string) (*Comment, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	target := pullref.Format(repo, number, "")
	if body == "" {
		return nil, fmt.Errorf("create comment %s: empty body: %w", target, ErrInvalid)
	}
	var cm *gitea.Comment
	err = c.write(ctx, "create_comment", target, func(_ context.Context, g *gitea.Client) (*gitea.Response, error) {
		var (
			resp *gitea.Response
			err  error
		)
		cm, resp, err = g.CreateIssueComment(owner, name, number, gitea.CreateIssueCommentOption{Body: body})
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	out := toComment(cm)
	return &out, nil
}

// EditComment replaces a comment's body (e.g. the summary we keep updating
// in place to avoid a notification per change).
func (c *Client) EditComment(ctx context.Context, repo string, commentID int64, body string) error {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return err
	}
	target := fmt.Sprintf("%s comment %d", repo, commentID)
	if body == "" {
		return fmt.Errorf("edit comment %s: empty body: %w", target, ErrInvalid)
	}
	return c.write(ctx, "edit_comment", target, func(_ context.Context, g *gitea.Client) (*gitea.Response, error) {
		_, resp, err := g.EditIssueComment(owner, name, commentID, gitea.EditIssueCommentOption{Body: body})
		return resp, err
	})
}
