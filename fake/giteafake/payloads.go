package giteafake

import (
	"fmt"
	"time"
)

// Payload structs follow modules/structs/hook.go of Gitea 1.26 (field order
// and omitempty included), so their key sets equal the captured fixtures'.

type changesFrom struct {
	From string `json:"from"`
}

type payloadChanges struct {
	Title         *changesFrom `json:"title,omitempty"`
	Body          *changesFrom `json:"body,omitempty"`
	Ref           *changesFrom `json:"ref,omitempty"`
	AddedLabels   []*apiLabel  `json:"added_labels"`
	RemovedLabels []*apiLabel  `json:"removed_labels"`
}

type reviewPayload struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

type pullRequestPayload struct {
	Action            string          `json:"action"`
	Before            string          `json:"before,omitempty"`
	After             string          `json:"after,omitempty"`
	Number            int64           `json:"number"`
	Changes           *payloadChanges `json:"changes,omitempty"`
	PullRequest       *apiPull        `json:"pull_request"`
	RequestedReviewer *apiUser        `json:"requested_reviewer"`
	Repository        *apiRepo        `json:"repository"`
	Sender            *apiUser        `json:"sender"`
	CommitID          string          `json:"commit_id"`
	Review            *reviewPayload  `json:"review"`
}

type issueCommentPayload struct {
	Action      string          `json:"action"`
	Issue       *apiIssue       `json:"issue"`
	PullRequest *apiPull        `json:"pull_request,omitempty"`
	Comment     *apiComment     `json:"comment"`
	Changes     *payloadChanges `json:"changes,omitempty"`
	Repository  *apiRepo        `json:"repository"`
	Sender      *apiUser        `json:"sender"`
	IsPull      bool            `json:"is_pull"`
}

type payloadUser struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	UserName string `json:"username"`
}

type payloadCommit struct {
	ID           string       `json:"id"`
	Message      string       `json:"message"`
	URL          string       `json:"url"`
	Author       *payloadUser `json:"author"`
	Committer    *payloadUser `json:"committer"`
	Verification any          `json:"verification"`
	Timestamp    time.Time    `json:"timestamp"`
	Added        []string     `json:"added"`
	Removed      []string     `json:"removed"`
	Modified     []string     `json:"modified"`
}

type commitStatusPayload struct {
	Commit      *payloadCommit `json:"commit"`
	Context     string         `json:"context"`
	CreatedAt   time.Time      `json:"created_at"`
	Description string         `json:"description"`
	ID          int64          `json:"id"`
	Repo        *apiRepo       `json:"repository"`
	Sender      *apiUser       `json:"sender"`
	SHA         string         `json:"sha"`
	State       string         `json:"state"`
	TargetURL   string         `json:"target_url"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// emitPull sends a PullRequestPayload. Caller holds s.mu.
func (s *Server) emitPull(p *pull, eventType, action string, sender, requested *user, fill func(*pullRequestPayload)) {
	pl := &pullRequestPayload{
		Action: action, Number: p.number, PullRequest: s.toPull(p, sender),
		RequestedReviewer: s.toUser(requested, true), Repository: s.toRepo(p.repo, sender),
		Sender: s.toUser(sender, true),
	}
	if fill != nil {
		fill(pl)
	}
	s.emit(p.repo, eventType, pl)
}

// emitComment sends an IssueCommentPayload for a PR (event type
// pull_request_comment, X-Gitea-Event issue_comment). Caller holds s.mu.
func (s *Server) emitComment(c *comment, action string, sender *user, oldBody *string) {
	pl := &issueCommentPayload{
		Action: action, Issue: s.toIssue(c.pull), PullRequest: s.toPull(c.pull, sender),
		Comment: s.toComment(c), Repository: s.toRepo(c.pull.repo, sender),
		Sender: s.toUser(sender, true), IsPull: true,
	}
	if oldBody != nil {
		pl.Changes = &payloadChanges{Body: &changesFrom{From: *oldBody}}
	}
	s.emit(c.pull.repo, "pull_request_comment", pl)
}

// emitStatus sends a CommitStatusPayload. Caller holds s.mu.
func (s *Server) emitStatus(r *repo, st *commitStatus, c *commit) {
	author := &payloadUser{}
	if c.author != nil {
		author = &payloadUser{Name: c.author.fullName, Email: c.author.email, UserName: c.author.login}
	}
	modified := c.modified
	if modified == nil {
		modified = []string{}
	}
	added := c.added
	if added == nil {
		added = []string{}
	}
	pl := &commitStatusPayload{
		Commit: &payloadCommit{
			ID: c.sha, Message: c.message + "\n", URL: fmt.Sprintf("%s%s/commit/%s", s.root, r.fullName(), c.sha),
			Author: author, Committer: author, Timestamp: c.when,
			Added: added, Removed: []string{}, Modified: modified,
		},
		Context: st.context, CreatedAt: st.created, Description: st.description, ID: st.id,
		Repo: s.toRepo(r, st.creator), Sender: s.toUser(st.creator, true), SHA: st.sha,
		State: st.state, TargetURL: st.targetURL, UpdatedAt: st.created,
	}
	s.emit(r, "status", pl)
}
