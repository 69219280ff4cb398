package giteafake

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Review states as they appear in PullReview.state.
const (
	ReviewApproved       = "APPROVED"
	ReviewRequestChanges = "REQUEST_CHANGES"
	ReviewComment        = "COMMENT"
	ReviewPending        = "PENDING"
	ReviewRequested      = "REQUEST_REVIEW"
)

// ReviewOptions submits a review as User. An empty or unknown State makes a
// PENDING review, as Gitea's API does; CommitID defaults to the PR head.
type ReviewOptions struct {
	User     string `json:"user"`
	State    string `json:"state"`
	Body     string `json:"body"`
	CommitID string `json:"commit_id,omitempty"`
}

// SubmitReview applies Gitea's review rules (see submitLocked) and emits the
// pull_request_review_* delivery. It returns the review id.
func (s *Server) SubmitReview(owner, name string, number int64, o ReviewOptions) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, doer, err := s.pullAndUser(owner, name, number, o.User)
	if err != nil {
		return 0, err
	}
	rv, err := s.submitLocked(p, doer, o.State, o.Body, o.CommitID, false)
	if err != nil {
		return 0, err
	}
	return rv.id, nil
}

// submitLocked mirrors preparePullReviewType + models SubmitReview/CreateReview:
// no approving or rejecting one's own PR, REQUEST_CHANGES needs a body,
// COMMENT needs a body or comments; approve/reject clears "official" on the
// reviewer's earlier reviews and dismisses their earlier approve/reject; any
// submitted review deletes the reviewer's own pending request; approve/reject
// by a team member deletes that team's request.
func (s *Server) submitLocked(p *pull, doer *user, event, body, commitID string, hasComments bool) (*review, error) {
	hasBody := strings.TrimSpace(body) != ""
	state := ReviewPending
	switch event {
	case ReviewApproved:
		if p.poster == doer {
			return nil, errf(http.StatusUnprocessableEntity, "approve your own pull is not allowed")
		}
		state = event
	case ReviewRequestChanges:
		if p.poster == doer {
			return nil, errf(http.StatusUnprocessableEntity, "reject your own pull is not allowed")
		}
		if !hasBody {
			return nil, errf(http.StatusUnprocessableEntity, "review event %s requires a body", event)
		}
		state = event
	case ReviewComment:
		if !hasBody && !hasComments {
			return nil, errf(http.StatusUnprocessableEntity, "review event %s requires a body or a comment", event)
		}
		state = event
	}
	approveOrReject := state == ReviewApproved || state == ReviewRequestChanges
	if approveOrReject && p.closed {
		return nil, errf(http.StatusUnprocessableEntity, "can't submit review for a closed or merged PR")
	}
	if commitID == "" {
		commitID = p.headSHA
	}
	official := false
	if approveOrReject {
		for _, rv := range p.reviews {
			if rv.reviewer == doer {
				rv.official = false
			}
		}
		official = s.canWrite(p.repo, doer)
	}
	now := s.now()
	if state != ReviewPending {
		kept := p.reviews[:0]
		for _, rv := range p.reviews {
			if rv.reviewer == doer && rv.state == ReviewRequested {
				continue
			}
			if approveOrReject && rv.reviewer == doer && (rv.state == ReviewApproved || rv.state == ReviewRequestChanges) {
				rv.dismissed = true
			}
			kept = append(kept, rv)
		}
		p.reviews = kept
	}
	s.seq.review++
	rv := &review{
		id: s.seq.review, pull: p, reviewer: doer, state: state, body: body, commitID: commitID,
		stale: commitID != p.headSHA, official: official, submitted: now, updated: now,
	}
	p.reviews = append(p.reviews, rv)
	if state == ReviewPending {
		return rv, nil
	}
	c := s.addTimeline(p, &comment{typ: "review", poster: doer, body: body, reviewID: rv.id, created: now})
	rv.commentID = c.id
	if approveOrReject && p.repo.owner.isOrg {
		p.reviews = slices.DeleteFunc(p.reviews, func(x *review) bool {
			return x.team != nil && x.state == ReviewRequested && x.team.has(doer)
		})
	}
	eventType := map[string]string{
		ReviewApproved:       "pull_request_review_approved",
		ReviewRequestChanges: "pull_request_review_rejected",
		ReviewComment:        "pull_request_review_comment",
	}[state]
	s.emitPull(p, eventType, "reviewed", doer, doer, func(pl *pullRequestPayload) {
		pl.Review = &reviewPayload{Type: eventType, Content: body}
	})
	return rv, nil
}

// requestedUsers is Gitea's GetReviewsByIssueID: each user's latest
// non-dismissed approve/reject/request, oldest first. Approvers therefore stay
// in requested_reviewers, as the captured fixtures show.
func (p *pull) requestedUsers() []*user {
	latest := map[*user]*review{}
	for _, rv := range p.reviews {
		if rv.reviewer == nil || rv.dismissed {
			continue
		}
		switch rv.state {
		case ReviewApproved, ReviewRequestChanges, ReviewRequested:
			if cur := latest[rv.reviewer]; cur == nil || rv.id > cur.id {
				latest[rv.reviewer] = rv
			}
		}
	}
	rows := make([]*review, 0, len(latest))
	for _, rv := range latest {
		rows = append(rows, rv)
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].updated.Equal(rows[j].updated) {
			return rows[i].updated.Before(rows[j].updated)
		}
		return rows[i].id < rows[j].id
	})
	out := make([]*user, len(rows))
	for i, rv := range rows {
		out[i] = rv.reviewer
	}
	return out
}

func (p *pull) requestedTeams() []*team {
	var out []*team
	for _, rv := range p.reviews {
		if rv.team != nil && rv.state == ReviewRequested {
			out = append(out, rv.team)
		}
	}
	return out
}

// RequestReview asks users and teams (of the owning org) to review, as
// requester. Each new user request emits one review_requested delivery; a team
// request emits one per team member except the PR author.
func (s *Server) RequestReview(owner, name string, number int64, requester string, users, teams []string) error {
	return s.changeReviewRequests(owner, name, number, requester, users, teams, true)
}

// RemoveReviewRequest withdraws review requests. Removing a user request emits
// review_request_removed; removing a team request emits nothing.
func (s *Server) RemoveReviewRequest(owner, name string, number int64, requester string, users, teams []string) error {
	return s.changeReviewRequests(owner, name, number, requester, users, teams, false)
}

func (s *Server) changeReviewRequests(owner, name string, number int64, requester string, users, teams []string, add bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, doer, err := s.pullAndUser(owner, name, number, requester)
	if err != nil {
		return err
	}
	_, err = s.reviewRequestLocked(p, doer, users, teams, add)
	return err
}

func (s *Server) reviewRequestLocked(p *pull, doer *user, logins, teamNames []string, add bool) ([]*review, error) {
	var reviewers []*user
	for _, l := range logins {
		u := s.users[l]
		if u == nil || u.isOrg {
			return nil, errf(http.StatusNotFound, "User '%s' not exist", l)
		}
		reviewers = append(reviewers, u)
	}
	var teams []*team
	if p.repo.owner.isOrg {
		for _, n := range teamNames {
			t := s.findTeam(p.repo.owner, n)
			if t == nil {
				return nil, errf(http.StatusNotFound, "Team '%s' not exist", n)
			}
			teams = append(teams, t)
		}
	}
	var created []*review
	for _, u := range reviewers {
		if add {
			rv, err := s.addUserRequest(p, doer, u)
			if err != nil {
				return nil, err
			}
			if rv != nil {
				created = append(created, rv)
			}
		} else {
			s.removeUserRequest(p, doer, u)
		}
	}
	for _, t := range teams {
		if add {
			if rv := s.addTeamRequest(p, doer, t); rv != nil {
				created = append(created, rv)
			}
		} else {
			s.removeTeamRequest(p, doer, t)
		}
	}
	return created, nil
}

func (p *pull) latestUserReview(u *user) *review {
	var latest *review
	for _, rv := range p.reviews {
		if rv.reviewer == u && (rv.state == ReviewApproved || rv.state == ReviewRequestChanges || rv.state == ReviewRequested) {
			latest = rv
		}
	}
	return latest
}

func (s *Server) addUserRequest(p *pull, doer, u *user) (*review, error) {
	if u == p.poster {
		return nil, errf(http.StatusUnprocessableEntity, "poster of pr can't be reviewer")
	}
	latest := p.latestUserReview(u)
	if latest != nil && latest.state == ReviewRequested {
		return nil, nil
	}
	if p.closed {
		return nil, errf(http.StatusForbidden, "cannot add review request on closed PR")
	}
	official := s.canWrite(p.repo, u)
	if official {
		for _, rv := range p.reviews {
			if rv.reviewer == u {
				rv.official = false
			}
		}
	}
	now := s.now()
	s.seq.review++
	rv := &review{id: s.seq.review, pull: p, reviewer: u, state: ReviewRequested, official: official, submitted: now, updated: now}
	p.reviews = append(p.reviews, rv)
	s.addTimeline(p, &comment{typ: "review_request", poster: doer, assignee: u, reviewID: rv.id, created: now})
	s.emitPull(p, "pull_request_review_request", "review_requested", doer, u, nil)
	return rv, nil
}

func (s *Server) removeUserRequest(p *pull, doer, u *user) {
	latest := p.latestUserReview(u)
	if latest == nil || latest.state != ReviewRequested {
		return
	}
	s.deleteReview(p, latest)
	if s.canWrite(p.repo, u) {
		if again := p.latestUserReview(u); again != nil {
			again.official = true
		}
	}
	s.addTimeline(p, &comment{typ: "review_request", poster: doer, assignee: u, removed: true})
	s.emitPull(p, "pull_request_review_request", "review_request_removed", doer, u, nil)
}

func (s *Server) addTeamRequest(p *pull, doer *user, t *team) *review {
	for _, rv := range p.reviews {
		if rv.team == t {
			return nil
		}
	}
	now := s.now()
	s.seq.review++
	rv := &review{id: s.seq.review, pull: p, team: t, state: ReviewRequested, official: s.canWrite(p.repo, doer), submitted: now, updated: now}
	p.reviews = append(p.reviews, rv)
	s.addTimeline(p, &comment{typ: "review_request", poster: doer, assigneeTeam: t, reviewID: rv.id, created: now})
	for _, m := range t.members {
		if m == p.poster {
			continue
		}
		s.emitPull(p, "pull_request_review_request", "review_requested", doer, m, nil)
	}
	return rv
}

func (s *Server) removeTeamRequest(p *pull, doer *user, t *team) {
	for _, rv := range p.reviews {
		if rv.team == t {
			s.deleteReview(p, rv)
			s.addTimeline(p, &comment{typ: "review_request", poster: doer, assigneeTeam: t, removed: true})
			return
		}
	}
}

func (s *Server) deleteReview(p *pull, target *review) {
	p.reviews = slices.DeleteFunc(p.reviews, func(rv *review) bool { return rv == target })
}

// DismissReview dismisses (or, with dismiss=false, restores) an APPROVED or
// REQUEST_CHANGES review as a repository admin would.
func (s *Server) DismissReview(owner, name string, number, reviewID int64, dismiss bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.pullLocked(owner, name, number)
	if err != nil {
		return err
	}
	_, err = s.dismissLocked(p, reviewID, dismiss)
	return err
}

func (s *Server) dismissLocked(p *pull, reviewID int64, dismiss bool) (*review, error) {
	for _, rv := range p.reviews {
		if rv.id != reviewID {
			continue
		}
		if rv.state != ReviewApproved && rv.state != ReviewRequestChanges {
			return nil, errf(http.StatusUnprocessableEntity, "can not dismiss this review because it is not an approve or request changes review")
		}
		rv.dismissed = dismiss
		rv.updated = s.now()
		return rv, nil
	}
	return nil, notFound()
}

// visible hides other users' PENDING reviews, as ToPullReviewList does.
func visible(rv *review, viewer *user) bool {
	return rv.state != ReviewPending || (viewer != nil && (viewer == rv.reviewer || viewer.isAdmin))
}

func handleListReviews(rc *reqCtx) error {
	s := rc.s
	p, err := s.pullFromRequest(rc)
	if err != nil {
		return err
	}
	var all []*apiReview
	for _, rv := range p.reviews {
		if visible(rv, rc.doer) {
			all = append(all, s.toReview(rv))
		}
	}
	start, end := rc.paginate(len(all), false)
	out := append([]*apiReview{}, all[start:end]...)
	rc.json(http.StatusOK, out)
	return nil
}

func handleGetReview(rc *reqCtx) error {
	s := rc.s
	p, err := s.pullFromRequest(rc)
	if err != nil {
		return err
	}
	id, perr := rc.paramInt("id")
	if perr != nil {
		return perr
	}
	for _, rv := range p.reviews {
		if rv.id == id && visible(rv, rc.doer) {
			rc.json(http.StatusOK, s.toReview(rv))
			return nil
		}
	}
	return notFound()
}

func handleCreateReview(rc *reqCtx) error {
	s := rc.s
	var body struct {
		Event    string `json:"event"`
		Body     string `json:"body"`
		CommitID string `json:"commit_id"`
		Comments []struct {
			Path string `json:"path"`
			Body string `json:"body"`
		} `json:"comments"`
	}
	if err := rc.decode(&body); err != nil {
		return err
	}
	p, err := s.pullFromRequest(rc)
	if err != nil {
		return err
	}
	rv, err := s.submitLocked(p, rc.doer, body.Event, body.Body, body.CommitID, len(body.Comments) > 0)
	if err != nil {
		return err
	}
	rv.codeComments = len(body.Comments)
	rc.json(http.StatusOK, s.toReview(rv))
	return nil
}

func handleDismissReview(dismiss bool) func(*reqCtx) error {
	return func(rc *reqCtx) error {
		s := rc.s
		p, err := s.pullFromRequest(rc)
		if err != nil {
			return err
		}
		if !s.isRepoAdmin(p.repo, rc.doer) {
			return errf(http.StatusForbidden, "Must be repo admin")
		}
		id, perr := rc.paramInt("id")
		if perr != nil {
			return perr
		}
		rv, err := s.dismissLocked(p, id, dismiss)
		if err != nil {
			return err
		}
		rc.json(http.StatusOK, s.toReview(rv))
		return nil
	}
}

func handleReviewRequests(add bool) func(*reqCtx) error {
	return func(rc *reqCtx) error {
		s := rc.s
		var body struct {
			Reviewers     []string `json:"reviewers"`
			TeamReviewers []string `json:"team_reviewers"`
		}
		if err := rc.decode(&body); err != nil {
			return err
		}
		p, err := s.pullFromRequest(rc)
		if err != nil {
			return err
		}
		// Gitea also accepts e-mail addresses for reviewers.
		for i, r := range body.Reviewers {
			if strings.Contains(r, "@") {
				for _, u := range s.users {
					if strings.EqualFold(u.email, r) {
						body.Reviewers[i] = u.login
					}
				}
			}
		}
		created, err := s.reviewRequestLocked(p, rc.doer, body.Reviewers, body.TeamReviewers, add)
		if err != nil {
			return err
		}
		if !add {
			rc.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		out := []*apiReview{}
		for _, rv := range created {
			out = append(out, s.toReview(rv))
		}
		rc.json(http.StatusCreated, out)
		return nil
	}
}

// ReviewState is a test-facing snapshot of one review row.
type ReviewState struct {
	ID        int64  `json:"id"`
	User      string `json:"user,omitempty"`
	Team      string `json:"team,omitempty"`
	State     string `json:"state"`
	Body      string `json:"body"`
	CommitID  string `json:"commit_id"`
	Stale     bool   `json:"stale"`
	Official  bool   `json:"official"`
	Dismissed bool   `json:"dismissed"`
}

// Reviews returns every review row of a PR (requests and pending included).
func (s *Server) Reviews(owner, name string, number int64) ([]ReviewState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.pullLocked(owner, name, number)
	if err != nil {
		return nil, err
	}
	out := make([]ReviewState, 0, len(p.reviews))
	for _, rv := range p.reviews {
		st := ReviewState{ID: rv.id, State: rv.state, Body: rv.body, CommitID: rv.commitID, Stale: rv.stale, Official: rv.official, Dismissed: rv.dismissed}
		if rv.reviewer != nil {
			st.User = rv.reviewer.login
		}
		if rv.team != nil {
			st.Team = rv.team.name
		}
		out = append(out, st)
	}
	return out, nil
}

func (r ReviewState) String() string {
	who := r.User
	if r.Team != "" {
		who = "team:" + r.Team
	}
	return fmt.Sprintf("#%d %s %s@%s stale=%v dismissed=%v", r.ID, who, r.State, r.CommitID, r.Stale, r.Dismissed)
}
