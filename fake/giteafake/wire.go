package giteafake

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"time"
)

// The api* structs mirror Gitea 1.26's modules/structs field for field (names,
// order, omitempty) so that decoded fixture and fake output have equal key sets.

type apiUser struct {
	ID                int64     `json:"id"`
	Login             string    `json:"login"`
	LoginName         string    `json:"login_name"`
	SourceID          int64     `json:"source_id"`
	FullName          string    `json:"full_name"`
	Email             string    `json:"email"`
	AvatarURL         string    `json:"avatar_url"`
	HTMLURL           string    `json:"html_url"`
	Language          string    `json:"language"`
	IsAdmin           bool      `json:"is_admin"`
	LastLogin         time.Time `json:"last_login"`
	Created           time.Time `json:"created"`
	Restricted        bool      `json:"restricted"`
	Active            bool      `json:"active"`
	ProhibitLogin     bool      `json:"prohibit_login"`
	Location          string    `json:"location"`
	Website           string    `json:"website"`
	Description       string    `json:"description"`
	Visibility        string    `json:"visibility"`
	FollowersCount    int       `json:"followers_count"`
	FollowingCount    int       `json:"following_count"`
	StarredReposCount int       `json:"starred_repos_count"`
	UserName          string    `json:"username"`
}

type apiPermission struct {
	Admin bool `json:"admin"`
	Push  bool `json:"push"`
	Pull  bool `json:"pull"`
}

type apiTracker struct {
	EnableTimeTracker                bool `json:"enable_time_tracker"`
	AllowOnlyContributorsToTrackTime bool `json:"allow_only_contributors_to_track_time"`
	EnableIssueDependencies          bool `json:"enable_issue_dependencies"`
}

type apiRepo struct {
	ID                            int64          `json:"id"`
	Owner                         *apiUser       `json:"owner"`
	Name                          string         `json:"name"`
	FullName                      string         `json:"full_name"`
	Description                   string         `json:"description"`
	Empty                         bool           `json:"empty"`
	Private                       bool           `json:"private"`
	Fork                          bool           `json:"fork"`
	Template                      bool           `json:"template"`
	Parent                        *apiRepo       `json:"parent,omitempty"`
	Mirror                        bool           `json:"mirror"`
	Size                          int            `json:"size"`
	Language                      string         `json:"language"`
	LanguagesURL                  string         `json:"languages_url"`
	HTMLURL                       string         `json:"html_url"`
	URL                           string         `json:"url"`
	Link                          string         `json:"link"`
	SSHURL                        string         `json:"ssh_url"`
	CloneURL                      string         `json:"clone_url"`
	OriginalURL                   string         `json:"original_url"`
	Website                       string         `json:"website"`
	StarsCount                    int            `json:"stars_count"`
	ForksCount                    int            `json:"forks_count"`
	WatchersCount                 int            `json:"watchers_count"`
	BranchCount                   int            `json:"branch_count"`
	OpenIssuesCount               int            `json:"open_issues_count"`
	OpenPRCounter                 int            `json:"open_pr_counter"`
	ReleaseCounter                int            `json:"release_counter"`
	DefaultBranch                 string         `json:"default_branch"`
	Archived                      bool           `json:"archived"`
	CreatedAt                     time.Time      `json:"created_at"`
	UpdatedAt                     time.Time      `json:"updated_at"`
	ArchivedAt                    time.Time      `json:"archived_at"`
	Permissions                   *apiPermission `json:"permissions,omitempty"`
	HasCode                       bool           `json:"has_code"`
	HasIssues                     bool           `json:"has_issues"`
	InternalTracker               *apiTracker    `json:"internal_tracker,omitempty"`
	HasWiki                       bool           `json:"has_wiki"`
	HasPullRequests               bool           `json:"has_pull_requests"`
	HasProjects                   bool           `json:"has_projects"`
	ProjectsMode                  string         `json:"projects_mode"`
	HasReleases                   bool           `json:"has_releases"`
	HasPackages                   bool           `json:"has_packages"`
	HasActions                    bool           `json:"has_actions"`
	IgnoreWhitespaceConflicts     bool           `json:"ignore_whitespace_conflicts"`
	AllowMerge                    bool           `json:"allow_merge_commits"`
	AllowRebase                   bool           `json:"allow_rebase"`
	AllowRebaseMerge              bool           `json:"allow_rebase_explicit"`
	AllowSquash                   bool           `json:"allow_squash_merge"`
	AllowFastForwardOnly          bool           `json:"allow_fast_forward_only_merge"`
	AllowRebaseUpdate             bool           `json:"allow_rebase_update"`
	AllowManualMerge              bool           `json:"allow_manual_merge"`
	AutodetectManualMerge         bool           `json:"autodetect_manual_merge"`
	DefaultDeleteBranchAfterMerge bool           `json:"default_delete_branch_after_merge"`
	DefaultMergeStyle             string         `json:"default_merge_style"`
	DefaultAllowMaintainerEdit    bool           `json:"default_allow_maintainer_edit"`
	AvatarURL                     string         `json:"avatar_url"`
	Internal                      bool           `json:"internal"`
	MirrorInterval                string         `json:"mirror_interval"`
	ObjectFormatName              string         `json:"object_format_name"`
	MirrorUpdated                 time.Time      `json:"mirror_updated"`
	Topics                        []string       `json:"topics"`
	Licenses                      []string       `json:"licenses"`
}

type apiOrg struct {
	ID                        int64  `json:"id"`
	Name                      string `json:"name"`
	FullName                  string `json:"full_name"`
	Email                     string `json:"email"`
	AvatarURL                 string `json:"avatar_url"`
	Description               string `json:"description"`
	Website                   string `json:"website"`
	Location                  string `json:"location"`
	Visibility                string `json:"visibility"`
	RepoAdminChangeTeamAccess bool   `json:"repo_admin_change_team_access"`
	UserName                  string `json:"username"`
}

type apiTeam struct {
	ID                      int64             `json:"id"`
	Name                    string            `json:"name"`
	Description             string            `json:"description"`
	Organization            *apiOrg           `json:"organization"`
	IncludesAllRepositories bool              `json:"includes_all_repositories"`
	Permission              string            `json:"permission"`
	Units                   []string          `json:"units"`
	UnitsMap                map[string]string `json:"units_map"`
	CanCreateOrgRepo        bool              `json:"can_create_org_repo"`
}

type apiLabel struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Exclusive   bool   `json:"exclusive"`
	IsArchived  bool   `json:"is_archived"`
	Color       string `json:"color"`
	Description string `json:"description"`
	URL         string `json:"url"`
}

type apiBranchInfo struct {
	Label  string   `json:"label"`
	Ref    string   `json:"ref"`
	Sha    string   `json:"sha"`
	RepoID int64    `json:"repo_id"`
	Repo   *apiRepo `json:"repo"`
}

type apiPull struct {
	ID                      int64          `json:"id"`
	URL                     string         `json:"url"`
	Number                  int64          `json:"number"`
	User                    *apiUser       `json:"user"`
	Title                   string         `json:"title"`
	Body                    string         `json:"body"`
	Labels                  []*apiLabel    `json:"labels"`
	Milestone               any            `json:"milestone"`
	Assignee                *apiUser       `json:"assignee"`
	Assignees               []*apiUser     `json:"assignees"`
	RequestedReviewers      []*apiUser     `json:"requested_reviewers"`
	RequestedReviewersTeams []*apiTeam     `json:"requested_reviewers_teams"`
	State                   string         `json:"state"`
	Draft                   bool           `json:"draft"`
	IsLocked                bool           `json:"is_locked"`
	Comments                int            `json:"comments"`
	ReviewComments          int            `json:"review_comments,omitempty"`
	Additions               int            `json:"additions"`
	Deletions               int            `json:"deletions"`
	ChangedFiles            int            `json:"changed_files"`
	HTMLURL                 string         `json:"html_url"`
	DiffURL                 string         `json:"diff_url"`
	PatchURL                string         `json:"patch_url"`
	Mergeable               bool           `json:"mergeable"`
	HasMerged               bool           `json:"merged"`
	Merged                  *time.Time     `json:"merged_at"`
	MergedCommitID          *string        `json:"merge_commit_sha"`
	MergedBy                *apiUser       `json:"merged_by"`
	AllowMaintainerEdit     bool           `json:"allow_maintainer_edit"`
	Base                    *apiBranchInfo `json:"base"`
	Head                    *apiBranchInfo `json:"head"`
	MergeBase               string         `json:"merge_base"`
	Deadline                *time.Time     `json:"due_date"`
	Created                 *time.Time     `json:"created_at"`
	Updated                 *time.Time     `json:"updated_at"`
	Closed                  *time.Time     `json:"closed_at"`
	PinOrder                int            `json:"pin_order"`
	ContentVersion          int            `json:"content_version"`
}

type apiPullMeta struct {
	HasMerged        bool       `json:"merged"`
	Merged           *time.Time `json:"merged_at"`
	IsWorkInProgress bool       `json:"draft"`
	HTMLURL          string     `json:"html_url"`
}

type apiRepoMeta struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Owner    string `json:"owner"`
	FullName string `json:"full_name"`
}

type apiIssue struct {
	ID               int64        `json:"id"`
	URL              string       `json:"url"`
	HTMLURL          string       `json:"html_url"`
	Index            int64        `json:"number"`
	Poster           *apiUser     `json:"user"`
	OriginalAuthor   string       `json:"original_author"`
	OriginalAuthorID int64        `json:"original_author_id"`
	Title            string       `json:"title"`
	Body             string       `json:"body"`
	Ref              string       `json:"ref"`
	Attachments      []any        `json:"assets"`
	Labels           []*apiLabel  `json:"labels"`
	Milestone        any          `json:"milestone"`
	Assignee         *apiUser     `json:"assignee"`
	Assignees        []*apiUser   `json:"assignees"`
	State            string       `json:"state"`
	IsLocked         bool         `json:"is_locked"`
	Comments         int          `json:"comments"`
	Created          time.Time    `json:"created_at"`
	Updated          time.Time    `json:"updated_at"`
	Closed           *time.Time   `json:"closed_at"`
	Deadline         *time.Time   `json:"due_date"`
	TimeEstimate     int64        `json:"time_estimate"`
	PullRequest      *apiPullMeta `json:"pull_request"`
	Repo             *apiRepoMeta `json:"repository"`
	PinOrder         int          `json:"pin_order"`
	ContentVersion   int          `json:"content_version"`
}

type apiComment struct {
	ID               int64     `json:"id"`
	HTMLURL          string    `json:"html_url"`
	PRURL            string    `json:"pull_request_url"`
	IssueURL         string    `json:"issue_url"`
	Poster           *apiUser  `json:"user"`
	OriginalAuthor   string    `json:"original_author"`
	OriginalAuthorID int64     `json:"original_author_id"`
	Body             string    `json:"body"`
	Attachments      []any     `json:"assets"`
	Created          time.Time `json:"created_at"`
	Updated          time.Time `json:"updated_at"`
}

type apiReview struct {
	ID                int64     `json:"id"`
	Reviewer          *apiUser  `json:"user"`
	ReviewerTeam      *apiTeam  `json:"team"`
	State             string    `json:"state"`
	Body              string    `json:"body"`
	CommitID          string    `json:"commit_id"`
	Stale             bool      `json:"stale"`
	Official          bool      `json:"official"`
	Dismissed         bool      `json:"dismissed"`
	CodeCommentsCount int       `json:"comments_count"`
	Submitted         time.Time `json:"submitted_at"`
	Updated           time.Time `json:"updated_at"`
	HTMLURL           string    `json:"html_url"`
	HTMLPullURL       string    `json:"pull_request_url"`
}

type apiStatus struct {
	ID          int64     `json:"id"`
	State       string    `json:"status"`
	TargetURL   string    `json:"target_url"`
	Description string    `json:"description"`
	URL         string    `json:"url"`
	Context     string    `json:"context"`
	Creator     *apiUser  `json:"creator"`
	Created     time.Time `json:"created_at"`
	Updated     time.Time `json:"updated_at"`
}

type apiCombinedStatus struct {
	State      string       `json:"state"`
	SHA        string       `json:"sha"`
	TotalCount int          `json:"total_count"`
	Statuses   []*apiStatus `json:"statuses"`
	Repository *apiRepo     `json:"repository"`
	CommitURL  string       `json:"commit_url"`
	URL        string       `json:"url"`
}

type apiChangedFile struct {
	Filename         string `json:"filename"`
	PreviousFilename string `json:"previous_filename"`
	Status           string `json:"status"`
	Additions        int    `json:"additions"`
	Deletions        int    `json:"deletions"`
	Changes          int    `json:"changes"`
	HTMLURL          string `json:"html_url"`
	ContentsURL      string `json:"contents_url"`
	RawURL           string `json:"raw_url"`
}

type apiTimelineComment struct {
	ID              int64     `json:"id"`
	Type            string    `json:"type"`
	HTMLURL         string    `json:"html_url"`
	PRURL           string    `json:"pull_request_url"`
	IssueURL        string    `json:"issue_url"`
	Poster          *apiUser  `json:"user"`
	Body            string    `json:"body"`
	Created         time.Time `json:"created_at"`
	Updated         time.Time `json:"updated_at"`
	OldProjectID    int64     `json:"old_project_id"`
	ProjectID       int64     `json:"project_id"`
	OldMilestone    any       `json:"old_milestone"`
	Milestone       any       `json:"milestone"`
	TrackedTime     any       `json:"tracked_time"`
	OldTitle        string    `json:"old_title"`
	NewTitle        string    `json:"new_title"`
	OldRef          string    `json:"old_ref"`
	NewRef          string    `json:"new_ref"`
	RefIssue        any       `json:"ref_issue"`
	RefComment      any       `json:"ref_comment"`
	RefAction       string    `json:"ref_action"`
	RefCommitSHA    string    `json:"ref_commit_sha"`
	ReviewID        int64     `json:"review_id"`
	Label           *apiLabel `json:"label"`
	Assignee        *apiUser  `json:"assignee"`
	AssigneeTeam    *apiTeam  `json:"assignee_team"`
	RemovedAssignee bool      `json:"removed_assignee"`
	ResolveDoer     *apiUser  `json:"resolve_doer"`
	DependentIssue  any       `json:"dependent_issue"`
}

type apiContents struct {
	Name            string            `json:"name"`
	Path            string            `json:"path"`
	SHA             string            `json:"sha"`
	LastCommitSha   string            `json:"last_commit_sha"`
	Type            string            `json:"type"`
	Size            int64             `json:"size"`
	Encoding        *string           `json:"encoding"`
	Content         *string           `json:"content"`
	Target          *string           `json:"target"`
	URL             *string           `json:"url"`
	HTMLURL         *string           `json:"html_url"`
	GitURL          *string           `json:"git_url"`
	DownloadURL     *string           `json:"download_url"`
	SubmoduleGitURL *string           `json:"submodule_git_url"`
	Links           map[string]string `json:"_links"`
}

// epoch is what Gitea renders for a never-set "last login"/"archived at" unix 0.
var epoch = time.Unix(0, 0).UTC()

func avatarURL(root, login string) string {
	sum := md5.Sum([]byte(login))
	return root + "avatars/" + hex.EncodeToString(sum[:])
}

// toUser renders a user; noreply picks the anonymised e-mail Gitea puts into
// payloads built for other viewers (key on login/id, never on e-mail).
func (s *Server) toUser(u *user, noreply bool) *apiUser {
	if u == nil {
		return nil
	}
	email := u.email
	if noreply && !u.isOrg {
		email = fmt.Sprintf("%d+%s@noreply.%s", u.id, u.login, s.host())
	}
	return &apiUser{
		ID: u.id, Login: u.login, FullName: u.fullName, Email: email,
		AvatarURL: avatarURL(s.root, u.login), HTMLURL: s.root + u.login,
		IsAdmin: u.isAdmin, LastLogin: epoch, Created: u.created,
		Active: !u.isOrg, Visibility: "public", UserName: u.login,
	}
}

func (s *Server) toOrg(u *user) *apiOrg {
	return &apiOrg{
		ID: u.id, Name: u.login, FullName: u.fullName, AvatarURL: avatarURL(s.root, u.login),
		Visibility: "public", UserName: u.login,
	}
}

func (s *Server) toTeam(t *team) *apiTeam {
	if t == nil {
		return nil
	}
	units := []string{"repo.code", "repo.issues", "repo.pulls"}
	m := map[string]string{}
	for _, u := range units {
		m[u] = t.access
	}
	return &apiTeam{
		ID: t.id, Name: t.name, Description: t.description, Organization: s.toOrg(t.org),
		IncludesAllRepositories: true, Permission: "none", Units: units, UnitsMap: m,
	}
}

func (s *Server) toRepo(r *repo, viewer *user) *apiRepo {
	if r == nil {
		return nil
	}
	full := r.fullName()
	out := &apiRepo{
		ID: r.id, Owner: s.toUser(r.owner, false), Name: r.name, FullName: full,
		Description: r.description, Fork: r.parent != nil, Size: 25,
		LanguagesURL: s.root + "api/v1/repos/" + full + "/languages",
		HTMLURL:      s.root + full, URL: s.root + "api/v1/repos/" + full,
		SSHURL:     "git@" + s.host() + ":" + full + ".git",
		CloneURL:   s.root + full + ".git",
		ForksCount: r.forks, WatchersCount: 1, BranchCount: len(r.branches),
		OpenPRCounter: r.openPulls(), DefaultBranch: r.defaultBranch,
		CreatedAt: r.created, UpdatedAt: r.created, ArchivedAt: epoch,
		Permissions: &apiPermission{Admin: s.isRepoAdmin(r, viewer), Push: s.canWrite(r, viewer), Pull: true},
		HasCode:     true, HasIssues: r.parent == nil, HasWiki: r.parent == nil, HasPullRequests: true,
		HasProjects: r.parent == nil, ProjectsMode: "all", HasReleases: r.parent == nil, HasPackages: r.parent == nil,
		AllowMerge: true, AllowRebase: true, AllowRebaseMerge: true, AllowSquash: true,
		AllowFastForwardOnly: true, AllowRebaseUpdate: true, DefaultMergeStyle: "merge",
		DefaultAllowMaintainerEdit: true, ObjectFormatName: r.objectFormat,
		Topics: []string{}, Licenses: []string{},
	}
	if out.HasIssues {
		out.InternalTracker = &apiTracker{EnableTimeTracker: true, AllowOnlyContributorsToTrackTime: true, EnableIssueDependencies: true}
	}
	if r.parent != nil {
		out.Parent = s.toRepo(r.parent, viewer)
	}
	return out
}

func (s *Server) toLabel(r *repo, l *label) *apiLabel {
	return &apiLabel{
		ID: l.id, Name: l.name, Color: l.color, Description: l.description,
		URL: fmt.Sprintf("%sapi/v1/repos/%s/labels/%d", s.root, r.fullName(), l.id),
	}
}

func (s *Server) toLabels(p *pull) []*apiLabel {
	out := []*apiLabel{}
	for _, l := range p.labels {
		out = append(out, s.toLabel(p.repo, l))
	}
	return out
}

func (s *Server) pullHTMLURL(p *pull) string {
	return fmt.Sprintf("%s%s/pulls/%d", s.root, p.repo.fullName(), p.number)
}

func (s *Server) commentHTMLURL(p *pull, id int64) string {
	return fmt.Sprintf("%s#issuecomment-%d", s.pullHTMLURL(p), id)
}

func (s *Server) toPull(p *pull, viewer *user) *apiPull {
	created, updated := p.created, p.updated
	html := s.pullHTMLURL(p)
	adds, dels := p.diffStat()
	out := &apiPull{
		ID: p.id, URL: html, Number: p.number, User: s.toUser(p.poster, false),
		Title: p.title, Body: p.body, Labels: s.toLabels(p), Assignees: []*apiUser{},
		RequestedReviewers: []*apiUser{}, RequestedReviewersTeams: []*apiTeam{},
		State: p.state(), Draft: p.isDraft(), Comments: p.countComments(), ReviewComments: p.countReviewComments(),
		Additions: adds, Deletions: dels, ChangedFiles: len(p.changedFiles()),
		HTMLURL: html, DiffURL: html + ".diff", PatchURL: html + ".patch",
		Mergeable: !p.closed, HasMerged: p.merged, AllowMaintainerEdit: true,
		Base:      &apiBranchInfo{Label: p.baseRef, Ref: p.baseRef, Sha: p.baseSHA, RepoID: p.repo.id, Repo: s.toRepo(p.repo, viewer)},
		Head:      &apiBranchInfo{Label: p.headRef, Ref: p.headRef, Sha: p.headSHA, RepoID: p.headRepo.id, Repo: s.toRepo(p.headRepo, viewer)},
		MergeBase: p.mergeBase, Created: &created, Updated: &updated,
	}
	for _, u := range p.requestedUsers() {
		out.RequestedReviewers = append(out.RequestedReviewers, s.toUser(u, true))
	}
	for _, t := range p.requestedTeams() {
		out.RequestedReviewersTeams = append(out.RequestedReviewersTeams, s.toTeam(t))
	}
	if p.merged {
		at, sha := p.mergedAt, p.mergeCommit
		out.Merged, out.MergedCommitID, out.MergedBy = &at, &sha, s.toUser(p.mergedBy, true)
	}
	if p.closed {
		at := p.closedAt
		out.Closed = &at
	}
	return out
}

func (s *Server) toIssue(p *pull) *apiIssue {
	out := &apiIssue{
		ID: p.id, URL: fmt.Sprintf("%sapi/v1/repos/%s/issues/%d", s.root, p.repo.fullName(), p.number),
		HTMLURL: s.pullHTMLURL(p), Index: p.number, Poster: s.toUser(p.poster, false),
		Title: p.title, Body: p.body, Attachments: []any{}, Labels: s.toLabels(p),
		State: p.state(), Comments: p.countComments(), Created: p.created, Updated: p.updated,
		PullRequest: &apiPullMeta{HasMerged: p.merged, IsWorkInProgress: p.isDraft(), HTMLURL: s.pullHTMLURL(p)},
		Repo:        &apiRepoMeta{ID: p.repo.id, Name: p.repo.name, Owner: p.repo.owner.login, FullName: p.repo.fullName()},
	}
	if p.merged {
		at := p.mergedAt
		out.PullRequest.Merged = &at
	}
	if p.closed {
		at := p.closedAt
		out.Closed = &at
	}
	return out
}

func (s *Server) toComment(c *comment) *apiComment {
	return &apiComment{
		ID: c.id, HTMLURL: s.commentHTMLURL(c.pull, c.id),
		PRURL: s.pullHTMLURL(c.pull), Poster: s.toUser(c.poster, true), Body: c.body,
		Attachments: []any{}, Created: c.created, Updated: c.updated,
	}
}

func (s *Server) toReview(rv *review) *apiReview {
	out := &apiReview{
		ID: rv.id, Reviewer: s.toUser(rv.reviewer, false), ReviewerTeam: s.toTeam(rv.team),
		State: rv.state, Body: rv.body, CommitID: rv.commitID, Stale: rv.stale,
		Official: rv.official, Dismissed: rv.dismissed, CodeCommentsCount: rv.codeComments,
		Submitted: rv.submitted, Updated: rv.updated, HTMLPullURL: s.pullHTMLURL(rv.pull),
	}
	if rv.commentID != 0 {
		out.HTMLURL = s.commentHTMLURL(rv.pull, rv.commentID)
	}
	return out
}

func (s *Server) toStatus(r *repo, st *commitStatus) *apiStatus {
	return &apiStatus{
		ID: st.index, State: st.state, TargetURL: st.targetURL, Description: st.description,
		URL:     fmt.Sprintf("%sapi/v1/repos/%s/statuses/%s", s.root, r.fullName(), st.sha),
		Context: st.context, Creator: s.toUser(st.creator, true), Created: st.created, Updated: st.created,
	}
}
