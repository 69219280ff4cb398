package forge

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"code.gitea.io/sdk/gitea"

	"github.com/qemgate/qemgate/internal/text"
)

// CombinedStatus reads the latest status of every context of sha. Gitea
// pages this endpoint and computes state per page only, so every page is
// read (limit 50) and the state recomputed with CombineStates. A commit
// without statuses is pending with no statuses.
func (c *Client) CombinedStatus(ctx context.Context, repo, sha string) (*CombinedStatus, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	if sha == "" {
		return nil, fmt.Errorf("combined status %s: empty sha: %w", repo, ErrInvalid)
	}
	path := fmt.Sprintf("/repos/%s/%s/commits/%s/status", url.PathEscape(owner), url.PathEscape(name), url.PathEscape(sha))
	resolved := ""
	rows, err := readAll(ctx, c, "combined_status", commitTarget(repo, sha), func(ctx context.Context, _ *gitea.Client, page, limit int) ([]*gitea.Status, *gitea.Response, error) {
		cs := &gitea.CombinedStatus{}
		resp, err := c.getJSON(ctx, path, url.Values{"page": {strconv.Itoa(page)}, "limit": {strconv.Itoa(limit)}}, cs)
		if err != nil {
			return nil, resp, err
		}
		if cs.SHA != "" {
			resolved = cs.SHA
		}
		return cs.Statuses, resp, nil
	})
	if err != nil {
		return nil, err
	}
	if resolved == "" {
		resolved = sha
	}
	return combine(resolved, rows), nil
}

// CreateStatus posts a commit status. State must be pending, success,
// error, failure or warning; Description is cut to MaxDescriptionRunes.
func (c *Client) CreateStatus(ctx context.Context, repo, sha string, s StatusInput) error {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return err
	}
	target := commitTarget(repo, sha)
	if sha == "" {
		return fmt.Errorf("create status %s: empty sha: %w", repo, ErrInvalid)
	}
	s, err = normalizeStatus(s)
	if err != nil {
		return fmt.Errorf("create status %s %s: %w", target, s.Context, err)
	}
	return c.write(ctx, "create_status", target, func(_ context.Context, g *gitea.Client) (*gitea.Response, error) {
		_, resp, err := g.CreateStatus(owner, name, sha, gitea.CreateStatusOption{
			State: gitea.StatusState(s.State), TargetURL: s.TargetURL, Description: s.Description, Context: s.Context,
		})
		return resp, err
	})
}

// Shows reports whether s, the latest status of its context, is what
// posting in would leave there: Gitea trims every text it stores, and
// CreateStatus cuts the description.
func (s Status) Shows(in StatusInput) bool {
	desc := strings.TrimSpace(text.Runes(in.Description, MaxDescriptionRunes))
	return s.Context == strings.TrimSpace(in.Context) && s.State == in.State &&
		s.Description == desc && s.TargetURL == strings.TrimSpace(in.TargetURL)
}
