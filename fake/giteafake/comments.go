package giteafake

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// CreateComment posts an issue comment on a PR as login, emits
// pull_request_comment "created", and returns the comment id.
func (s *Server) CreateComment(owner, name string, number int64, login, body string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, u, err := s.pullAndUser(owner, name, number, login)
	if err != nil {
		return 0, err
	}
	return s.createCommentLocked(p, u, body).id, nil
}

func (s *Server) createCommentLocked(p *pull, u *user, body string) *comment {
	c := s.addTimeline(p, &comment{typ: "comment", poster: u, body: body})
	s.emitComment(c, "created", u, nil)
	return c
}

// EditComment replaces a comment's body and emits "edited" with changes.body.from.
func (s *Server) EditComment(owner, name string, id int64, login, body string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, u, err := s.repoAndUser(owner, name, login)
	if err != nil {
		return err
	}
	_, err = s.editCommentLocked(r, id, u, body)
	return err
}

func (s *Server) findComment(r *repo, id int64) *comment {
	for _, p := range r.pulls {
		for _, c := range p.timeline {
			if c.id == id && c.typ == "comment" {
				return c
			}
		}
	}
	return nil
}

// ownComment finds comment id for a change by u: only its poster or a repo
// admin may edit or delete it.
func (s *Server) ownComment(r *repo, id int64, u *user) (*comment, error) {
	c := s.findComment(r, id)
	if c == nil {
		return nil, notFound()
	}
	if c.poster != u && !s.isRepoAdmin(r, u) {
		return nil, errf(http.StatusForbidden, "user is not the comment poster")
	}
	return c, nil
}

func (s *Server) editCommentLocked(r *repo, id int64, u *user, body string) (*comment, error) {
	c, err := s.ownComment(r, id, u)
	if err != nil {
		return nil, err
	}
	old := c.body
	c.body = body
	c.updated = s.now()
	s.emitComment(c, "edited", u, &old)
	return c, nil
}

// DeleteComment removes a comment and emits "deleted".
func (s *Server) DeleteComment(owner, name string, id int64, login string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, u, err := s.repoAndUser(owner, name, login)
	if err != nil {
		return err
	}
	return s.deleteCommentLocked(r, id, u)
}

func (s *Server) deleteCommentLocked(r *repo, id int64, u *user) error {
	c, err := s.ownComment(r, id, u)
	if err != nil {
		return err
	}
	p := c.pull
	p.timeline = slices.DeleteFunc(p.timeline, func(x *comment) bool { return x == c })
	s.emitComment(c, "deleted", u, nil)
	return nil
}

// handleListComments returns all comments (Gitea ignores paging here) with
// optional since/before (RFC 3339) filters.
func handleListComments(rc *reqCtx) error {
	s := rc.s
	q := rc.r.URL.Query()
	var since, before time.Time
	for name, dst := range map[string]*time.Time{"since": &since, "before": &before} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return errf(http.StatusUnprocessableEntity, "invalid %s: %v", name, err)
			}
			*dst = t
		}
	}
	p, err := s.pullFromRequest(rc)
	if err != nil {
		return err
	}
	out := []*apiComment{}
	for _, c := range p.timeline {
		if c.typ != "comment" || (!since.IsZero() && c.updated.Before(since)) || (!before.IsZero() && !c.updated.Before(before)) {
			continue
		}
		out = append(out, s.toComment(c))
	}
	rc.w.Header().Set("X-Total-Count", fmt.Sprint(len(out)))
	rc.json(http.StatusOK, out)
	return nil
}

// commentBody is the request body of comment create and edit.
type commentBody struct {
	Body string `json:"body"`
}

func handleCreateComment(rc *reqCtx) error {
	s := rc.s
	var body commentBody
	if err := rc.decode(&body); err != nil {
		return err
	}
	p, err := s.pullFromRequest(rc)
	if err != nil {
		return err
	}
	c := s.createCommentLocked(p, rc.doer, body.Body)
	rc.json(http.StatusCreated, s.toComment(c))
	return nil
}

// commentFromRequest resolves {owner}/{repo} and the comment {id} (which
// need not exist yet). Caller holds s.mu.
func (s *Server) commentFromRequest(rc *reqCtx) (*repo, int64, error) {
	r, err := s.repoFromRequest(rc)
	if err != nil {
		return nil, 0, err
	}
	id, perr := rc.paramInt("id")
	if perr != nil {
		return nil, 0, perr
	}
	return r, id, nil
}

func handleGetComment(rc *reqCtx) error {
	s := rc.s
	r, id, err := s.commentFromRequest(rc)
	if err != nil {
		return err
	}
	c := s.findComment(r, id)
	if c == nil {
		return notFound()
	}
	rc.json(http.StatusOK, s.toComment(c))
	return nil
}

func handleEditComment(rc *reqCtx) error {
	s := rc.s
	var body commentBody
	if err := rc.decode(&body); err != nil {
		return err
	}
	r, id, err := s.commentFromRequest(rc)
	if err != nil {
		return err
	}
	c, err := s.editCommentLocked(r, id, rc.doer, body.Body)
	if err != nil {
		return err
	}
	rc.json(http.StatusOK, s.toComment(c))
	return nil
}

func handleDeleteComment(rc *reqCtx) error {
	s := rc.s
	r, id, err := s.commentFromRequest(rc)
	if err != nil {
		return err
	}
	if err := s.deleteCommentLocked(r, id, rc.doer); err != nil {
		return err
	}
	rc.w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleTimeline lists the PR's timeline entries (pull_push, review_request,
// label, comment, review, close, reopen, merge_pull), paged.
func handleTimeline(rc *reqCtx) error {
	s := rc.s
	p, err := s.pullFromRequest(rc)
	if err != nil {
		return err
	}
	start, end := rc.paginate(len(p.timeline), true)
	out := []*apiTimelineComment{}
	for _, c := range p.timeline[start:end] {
		tc := &apiTimelineComment{
			ID: c.id, Type: c.typ, HTMLURL: s.commentHTMLURL(p, c.id),
			PRURL: s.pullHTMLURL(p), Poster: s.toUser(c.poster, true), Body: c.body,
			Created: c.created, Updated: c.updated, RefAction: "none", ReviewID: c.reviewID,
			Assignee: s.toUser(c.assignee, true), AssigneeTeam: s.toTeam(c.assigneeTeam), RemovedAssignee: c.removed,
		}
		if c.label != nil {
			tc.Label = s.toLabel(p.repo, c.label)
		}
		out = append(out, tc)
	}
	rc.json(http.StatusOK, out)
	return nil
}
