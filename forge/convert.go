package forge

import (
	"strings"
	"time"

	"code.gitea.io/sdk/gitea"
)

// The SDK types stop here: everything below maps them onto our own.

func login(u *gitea.User) string {
	if u == nil {
		return ""
	}
	return u.UserName
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func toPull(repo string, p *gitea.PullRequest) Pull {
	out := Pull{
		Repo: repo, Number: p.Index, State: string(p.State), Merged: p.HasMerged, Draft: p.Draft,
		Title: p.Title, Author: login(p.Poster), HTMLURL: p.HTMLURL,
		Labels: []string{}, RequestedReviewers: []string{}, RequestedTeams: []string{},
		UpdatedAt: timeOf(p.Updated), CreatedAt: timeOf(p.Created),
	}
	if p.Base != nil {
		out.BaseBranch = p.Base.Ref
	}
	if p.Head != nil {
		out.HeadSHA = strings.ToLower(p.Head.Sha)
	}
	for _, l := range p.Labels {
		if l != nil {
			out.Labels = append(out.Labels, l.Name)
		}
	}
	for _, u := range p.RequestedReviewers {
		if u != nil {
			out.RequestedReviewers = append(out.RequestedReviewers, u.UserName)
		}
	}
	for _, t := range p.RequestedReviewersTeams {
		if t != nil {
			out.RequestedTeams = append(out.RequestedTeams, t.Name)
		}
	}
	return out
}

func toChangedFile(f *gitea.ChangedFile) ChangedFile {
	return ChangedFile{Filename: f.Filename, Status: f.Status, PreviousFilename: f.PreviousFilename}
}

func toReview(r *gitea.PullReview) Review {
	out := Review{
		ID: r.ID, User: login(r.Reviewer), State: string(r.State), Body: r.Body, CommitID: r.CommitID,
		Stale: r.Stale, Dismissed: r.Dismissed, Official: r.Official, SubmittedAt: r.Submitted,
	}
	if r.ReviewerTeam != nil {
		out.Team = r.ReviewerTeam.Name
	}
	return out
}

func toStatus(s *gitea.Status) Status {
	return Status{
		Context: s.Context, State: string(s.State), Description: s.Description, TargetURL: s.TargetURL,
		Creator: login(s.Creator), UpdatedAt: s.Updated,
	}
}

func toComment(c *gitea.Comment) Comment {
	return Comment{ID: c.ID, User: login(c.Poster), Body: c.Body, CreatedAt: c.Created, UpdatedAt: c.Updated}
}

// combine merges the pages of GET /commits/{ref}/status. Gitea computes
// state per page only, so the state is recomputed here over every context.
// A context seen twice (a status posted while paging moves it to the front)
// keeps its newest row, by per-commit index.
func combine(sha string, rows []*gitea.Status) *CombinedStatus {
	out := &CombinedStatus{SHA: strings.ToLower(sha), Statuses: []Status{}}
	type seen struct {
		pos int
		id  int64
	}
	byContext := map[string]seen{}
	for _, s := range rows {
		if s == nil {
			continue
		}
		key := strings.TrimSpace(s.Context)
		if prev, ok := byContext[key]; ok {
			if s.ID > prev.id {
				out.Statuses[prev.pos] = toStatus(s)
				byContext[key] = seen{prev.pos, s.ID}
			}
			continue
		}
		byContext[key] = seen{len(out.Statuses), s.ID}
		out.Statuses = append(out.Statuses, toStatus(s))
	}
	states := make([]string, len(out.Statuses))
	for i, s := range out.Statuses {
		states[i] = s.State
	}
	out.State = CombineStates(states)
	return out
}
