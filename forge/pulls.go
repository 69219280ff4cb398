package forge

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"code.gitea.io/sdk/gitea"

	"github.com/qemgate/qemgate/internal/pullref"
)

// GetPull reads one PR.
func (c *Client) GetPull(ctx context.Context, repo string, number int64) (*Pull, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	var pr *gitea.PullRequest
	_, err = c.read(ctx, "get_pull", pullref.Format(repo, number, ""), func(_ context.Context, g *gitea.Client) (*gitea.Response, error) {
		var (
			resp *gitea.Response
			err  error
		)
		pr, resp, err = g.GetPullRequest(owner, name, number)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	p := toPull(repo, pr)
	return &p, nil
}

// ListOpenPulls reads every open PR, oldest first: ordering by creation keeps
// pages stable while PRs are being updated, and a PR seen twice (the list
// shifted while paging) is kept once.
func (c *Client) ListOpenPulls(ctx context.Context, repo string) ([]Pull, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	prs, err := readAll(ctx, c, "list_pulls", repo, func(_ context.Context, g *gitea.Client, page, limit int) ([]*gitea.PullRequest, *gitea.Response, error) {
		return g.ListRepoPullRequests(owner, name, gitea.ListPullRequestsOptions{
			ListOptions: gitea.ListOptions{Page: page, PageSize: limit}, State: gitea.StateOpen, Sort: "oldest",
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([]Pull, 0, len(prs))
	seen := map[int64]bool{}
	for _, pr := range prs {
		if pr == nil || seen[pr.Index] {
			continue
		}
		seen[pr.Index] = true
		out = append(out, toPull(repo, pr))
	}
	return out, nil
}

// PullFiles reads every file the PR changes.
func (c *Client) PullFiles(ctx context.Context, repo string, number int64) ([]ChangedFile, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	files, err := readAll(ctx, c, "pull_files", pullref.Format(repo, number, ""), func(_ context.Context, g *gitea.Client, page, limit int) ([]*gitea.ChangedFile, *gitea.Response, error) {
		return g.ListPullRequestFiles(owner, name, number, gitea.ListPullRequestFilesOptions{ListOptions: gitea.ListOptions{Page: page, PageSize: limit}})
	})
	if err != nil {
		return nil, err
	}
	out := make([]ChangedFile, 0, len(files))
	for _, f := range files {
		if f != nil {
			out = append(out, toChangedFile(f))
		}
	}
	return out, nil
}

// RawFile reads path at ref through GET /raw/{path}?ref=, where a branch name
// containing "/" cannot be confused with the file path.
func (c *Client) RawFile(ctx context.Context, repo, ref, path string) ([]byte, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	path = strings.TrimPrefix(path, "/")
	if path == "" || ref == "" {
		return nil, fmt.Errorf("raw file %s@%s:%s: ref and path are required: %w", repo, ref, path, ErrInvalid)
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	var data []byte
	_, err = c.read(ctx, "raw_file", commitTarget(repo, ref)+":"+path, func(_ context.Context, g *gitea.Client) (*gitea.Response, error) {
		var (
			resp *gitea.Response
			err  error
		)
		data, resp, err = g.GetRawFile(owner, name, strings.Join(segs, "/"), ref)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// PullsForCommit returns the open PRs whose head is sha. It asks GET
// /commits/{sha}/pull first; when that knows no open PR headed at sha (404,
// or it names a merged PR or one where sha is an older commit) it scans the
// open PRs, which is authoritative. No PR is an empty result, not an error.
// The endpoint names one PR, so when it answers, a second open PR with the
// same head (the same branch proposed to two bases) is not reported.
func (c *Client) PullsForCommit(ctx context.Context, repo, sha string) ([]Pull, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	if sha == "" {
		return nil, fmt.Errorf("pulls for commit %s: empty sha: %w", repo, ErrInvalid)
	}
	var pr *gitea.PullRequest
	_, err = c.read(ctx, "pulls_for_commit", commitTarget(repo, sha), func(_ context.Context, g *gitea.Client) (*gitea.Response, error) {
		var (
			resp *gitea.Response
			err  error
		)
		pr, resp, err = g.GetCommitPullRequest(owner, name, sha)
		return resp, err
	})
	switch {
	case err == nil:
		if p := toPull(repo, pr); p.State == "open" && sameSHA(p.HeadSHA, sha) {
			return []Pull{p}, nil
		}
	case !IsNotFound(err):
		return nil, err
	}
	open, err := c.ListOpenPulls(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("pulls for commit %s: %w", commitTarget(repo, sha), err)
	}
	out := []Pull{}
	for _, p := range open {
		if sameSHA(p.HeadSHA, sha) {
			out = append(out, p)
		}
	}
	return out, nil
}

// sameSHA compares a full head SHA with a full or abbreviated one.
func sameSHA(head, sha string) bool {
	head, sha = strings.ToLower(head), strings.ToLower(sha)
	return head != "" && len(sha) >= 7 && strings.HasPrefix(head, sha)
}
