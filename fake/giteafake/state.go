package giteafake

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Error is what every control method and REST handler fails with: the HTTP
// status Gitea would answer and its message text.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("gitea %d: %s", e.Status, e.Message) }

func errf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

func notFound() *Error {
	return &Error{Status: http.StatusNotFound, Message: "The target couldn't be found."}
}

type user struct {
	id       int64
	login    string
	fullName string
	email    string
	isAdmin  bool
	isOrg    bool
	created  time.Time
}

type team struct {
	id          int64
	org         *user
	name        string
	description string
	access      string // unit access: "write" or "read"
	members     []*user
}

func (t *team) has(u *user) bool {
	for _, m := range t.members {
		if m == u {
			return true
		}
	}
	return false
}

type label struct {
	id          int64
	name        string
	color       string
	description string
}

type commit struct {
	sha      string
	message  string
	author   *user
	parent   string
	tree     map[string]string
	modified []string
	added    []string
	when     time.Time
}

type repo struct {
	id            int64
	owner         *user
	name          string
	description   string
	objectFormat  string
	defaultBranch string
	parent        *repo
	forks         int
	created       time.Time
	branches      map[string]string
	labels        []*label
	pulls         []*pull
	statuses      map[string][]*commitStatus
	writers       map[string]bool
	admins        map[string]bool
	hooks         []*hook
}

func (r *repo) fullName() string { return r.owner.login + "/" + r.name }

func (r *repo) openPulls() int {
	n := 0
	for _, p := range r.pulls {
		if !p.closed {
			n++
		}
	}
	return n
}

type pull struct {
	id          int64
	number      int64
	repo        *repo
	headRepo    *repo
	poster      *user
	title       string
	body        string
	baseRef     string
	headRef     string
	baseSHA     string
	headSHA     string
	mergeBase   string
	base        *commit
	head        *commit
	commits     []string
	labels      []*label
	closed      bool
	merged      bool
	closedAt    time.Time
	mergedAt    time.Time
	mergedBy    *user
	mergeCommit string
	created     time.Time
	updated     time.Time
	reviews     []*review
	timeline    []*comment
}

func (p *pull) state() string {
	if p.closed {
		return "closed"
	}
	return "open"
}

// isDraft follows Gitea's default WORK_IN_PROGRESS_PREFIXES.
func (p *pull) isDraft() bool {
	t := strings.ToUpper(p.title)
	return strings.HasPrefix(t, "WIP:") || strings.HasPrefix(t, "[WIP]")
}

func (p *pull) countComments() int { return p.countTimeline("comment") }

func (p *pull) countReviewComments() int { return p.countTimeline("review") }

func (p *pull) countTimeline(typ string) int {
	n := 0
	for _, c := range p.timeline {
		if c.typ == typ {
			n++
		}
	}
	return n
}

type changedFile struct {
	name      string
	status    string
	additions int
	deletions int
}

func (p *pull) changedFiles() []changedFile {
	var out []changedFile
	names := map[string]bool{}
	for n := range p.head.tree {
		names[n] = true
	}
	for n := range p.base.tree {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		old, inBase := p.base.tree[n]
		cur, inHead := p.head.tree[n]
		switch {
		case inBase && inHead && old == cur:
			continue
		case !inBase:
			out = append(out, changedFile{name: n, status: "added", additions: lineCount(cur)})
		case !inHead:
			out = append(out, changedFile{name: n, status: "deleted", deletions: lineCount(old)})
		default:
			a, d := lineDiff(old, cur)
			out = append(out, changedFile{name: n, status: "changed", additions: a, deletions: d})
		}
	}
	return out
}

func (p *pull) diffStat() (adds, dels int) {
	for _, f := range p.changedFiles() {
		adds += f.additions
		dels += f.deletions
	}
	return adds, dels
}

func lineCount(s string) int {
	if s == "" {
		return 0
	}
	return len(strings.Split(strings.TrimSuffix(s, "\n"), "\n"))
}

// lineDiff is a multiset line diff: good enough for additions/deletions counts.
func lineDiff(old, cur string) (adds, dels int) {
	count := map[string]int{}
	if old != "" {
		for _, l := range strings.Split(strings.TrimSuffix(old, "\n"), "\n") {
			count[l]++
		}
	}
	if cur != "" {
		for _, l := range strings.Split(strings.TrimSuffix(cur, "\n"), "\n") {
			if count[l] > 0 {
				count[l]--
				continue
			}
			adds++
		}
	}
	for _, n := range count {
		dels += n
	}
	return adds, dels
}

type review struct {
	id           int64
	pull         *pull
	reviewer     *user
	team         *team
	state        string
	body         string
	commitID     string
	stale        bool
	official     bool
	dismissed    bool
	submitted    time.Time
	updated      time.Time
	commentID    int64
	codeComments int
}

// comment is any issue timeline entry; typ "comment" is a plain issue comment.
type comment struct {
	id           int64
	typ          string
	pull         *pull
	poster       *user
	body         string
	created      time.Time
	updated      time.Time
	reviewID     int64
	label        *label
	assignee     *user
	assigneeTeam *team
	removed      bool
}

type commitStatus struct {
	id          int64
	index       int64
	sha         string
	state       string
	targetURL   string
	description string
	context     string
	creator     *user
	created     time.Time
}

// User configures an account.
type User struct {
	Login    string
	FullName string
	Email    string
	Admin    bool
}

// Team configures an organisation team. Access is the unit access mode
// ("write" by default), which makes members official reviewers.
type Team struct {
	Name        string
	Description string
	Access      string
	Members     []string
}

// Repo configures a repository. ObjectFormat is "sha1" (default) or "sha256";
// Files is the tree of the first commit on DefaultBranch ("main" by default).
// Writers get write access (official reviews, statuses); Admins may dismiss.
type Repo struct {
	Owner         string
	Name          string
	Description   string
	ObjectFormat  string
	DefaultBranch string
	Files         map[string]string
	Writers       []string
	Admins        []string
}

// Label configures a repository label.
type Label struct {
	Name        string
	Color       string
	Description string
}

// AddUser creates a user account; the login must be new.
func (s *Server) AddUser(u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[u.Login] != nil {
		return errf(http.StatusUnprocessableEntity, "user already exists [name: %s]", u.Login)
	}
	s.seq.user++
	email := u.Email
	if email == "" {
		email = u.Login + "@example.test"
	}
	s.users[u.Login] = &user{id: s.seq.user, login: u.Login, fullName: u.FullName, email: email, isAdmin: u.Admin, created: s.now()}
	return nil
}

// AddToken lets requests carrying token act as login.
func (s *Server) AddToken(token, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = login
}

// AddOrg creates an organisation (orgs share the user id space, as in Gitea).
func (s *Server) AddOrg(name, fullName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[name] != nil {
		return errf(http.StatusUnprocessableEntity, "user already exists [name: %s]", name)
	}
	s.seq.user++
	s.users[name] = &user{id: s.seq.user, login: name, fullName: fullName, isOrg: true, created: s.now()}
	return nil
}

// AddTeam creates a team in org with the given members.
func (s *Server) AddTeam(org string, t Team) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.users[org]
	if o == nil || !o.isOrg {
		return errf(http.StatusNotFound, "org %s does not exist", org)
	}
	if s.findTeam(o, t.Name) != nil {
		return errf(http.StatusUnprocessableEntity, "team %s already exists in %s", t.Name, org)
	}
	access := t.Access
	if access == "" {
		access = "write"
	}
	s.seq.team++
	nt := &team{id: s.seq.team, org: o, name: t.Name, description: t.Description, access: access}
	for _, m := range t.Members {
		u := s.users[m]
		if u == nil {
			return errf(http.StatusNotFound, "user %s does not exist", m)
		}
		nt.members = append(nt.members, u)
	}
	s.teams = append(s.teams, nt)
	return nil
}

// AddTeamMember adds login to org's team.
func (s *Server) AddTeamMember(org, teamName, login string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, u := s.users[org], s.users[login]
	if o == nil || u == nil {
		return notFound()
	}
	t := s.findTeam(o, teamName)
	if t == nil {
		return notFound()
	}
	if !t.has(u) {
		t.members = append(t.members, u)
	}
	return nil
}

func (s *Server) findTeam(org *user, name string) *team {
	for _, t := range s.teams {
		if t.org == org && strings.EqualFold(t.name, name) {
			return t
		}
	}
	return nil
}

// AddRepo creates a repository with one initial commit on its default branch
// and returns that commit's SHA.
func (s *Server) AddRepo(r Repo) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nr, err := s.addRepoLocked(r, nil)
	if err != nil {
		return "", err
	}
	return nr.branches[nr.defaultBranch], nil
}

func (s *Server) addRepoLocked(r Repo, parent *repo) (*repo, error) {
	owner := s.users[r.Owner]
	if owner == nil {
		return nil, errf(http.StatusNotFound, "owner %s does not exist", r.Owner)
	}
	if s.repos[r.Owner+"/"+r.Name] != nil {
		return nil, errf(http.StatusConflict, "The repository with the same name already exists.")
	}
	format := r.ObjectFormat
	if format == "" {
		format = "sha1"
	}
	if format != "sha1" && format != "sha256" {
		return nil, errf(http.StatusUnprocessableEntity, "unknown object format %q", format)
	}
	branch := r.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	s.seq.repo++
	nr := &repo{
		id: s.seq.repo, owner: owner, name: r.Name, description: r.Description, objectFormat: format,
		defaultBranch: branch, parent: parent, created: s.now(), branches: map[string]string{},
		statuses: map[string][]*commitStatus{}, writers: map[string]bool{}, admins: map[string]bool{},
	}
	for _, w := range r.Writers {
		nr.writers[w] = true
	}
	for _, a := range r.Admins {
		nr.admins[a] = true
	}
	if parent != nil {
		for b, sha := range parent.branches {
			nr.branches[b] = sha
		}
	} else {
		files := r.Files
		if files == nil {
			files = map[string]string{"README.md": "# " + r.Name + "\n"}
		}
		c := s.newCommit(nr, "", copyTree(files, nil), "Initial commit", owner)
		nr.branches[branch] = c.sha
	}
	s.repos[nr.fullName()] = nr
	return nr, nil
}

// AddLabel creates a repository label and returns its id.
func (s *Server) AddLabel(owner, name string, l Label) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[owner+"/"+name]
	if r == nil {
		return 0, notFound()
	}
	s.seq.label++
	color := l.Color
	if color == "" {
		color = "1d76db"
	}
	r.labels = append(r.labels, &label{id: s.seq.label, name: l.Name, color: color, description: l.Description})
	return s.seq.label, nil
}

func copyTree(base, changes map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(changes))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

// newCommit invents a commit whose SHA has the repository's object format.
func (s *Server) newCommit(r *repo, parent string, tree map[string]string, msg string, author *user) *commit {
	s.seq.commit++
	seed := fmt.Sprintf("%s\x00%d\x00%s\x00%s", r.fullName(), s.seq.commit, parent, msg)
	var sha string
	if r.objectFormat == "sha256" {
		sum := sha256.Sum256([]byte(seed))
		sha = hex.EncodeToString(sum[:])
	} else {
		sum := sha1.Sum([]byte(seed))
		sha = hex.EncodeToString(sum[:])
	}
	c := &commit{sha: sha, message: msg, author: author, parent: parent, tree: tree, when: s.now()}
	if p := s.commits[parent]; p != nil {
		for n, v := range tree {
			old, ok := p.tree[n]
			switch {
			case !ok:
				c.added = append(c.added, n)
			case old != v:
				c.modified = append(c.modified, n)
			}
		}
		sort.Strings(c.added)
		sort.Strings(c.modified)
	} else {
		for n := range tree {
			c.added = append(c.added, n)
		}
		sort.Strings(c.added)
	}
	s.commits[sha] = c
	return c
}

// resolveRef maps a branch name, full SHA or unique SHA prefix (>= 7 chars)
// to a commit, as Gitea does for status and raw-file refs.
func (s *Server) resolveRef(r *repo, ref string) *commit {
	if sha, ok := r.branches[ref]; ok {
		return s.commits[sha]
	}
	if c := s.commits[ref]; c != nil {
		return c
	}
	if len(ref) < 7 {
		return nil
	}
	var found *commit
	for sha, c := range s.commits {
		if strings.HasPrefix(sha, ref) {
			if found != nil {
				return nil
			}
			found = c
		}
	}
	return found
}

func (s *Server) repoLocked(owner, name string) (*repo, error) {
	r := s.repos[owner+"/"+name]
	if r == nil {
		return nil, notFound()
	}
	return r, nil
}

func (s *Server) pullLocked(owner, name string, number int64) (*pull, error) {
	r, err := s.repoLocked(owner, name)
	if err != nil {
		return nil, err
	}
	for _, p := range r.pulls {
		if p.number == number {
			return p, nil
		}
	}
	return nil, notFound()
}

func (s *Server) userLocked(login string) (*user, error) {
	u := s.users[login]
	if u == nil || u.isOrg {
		return nil, errf(http.StatusNotFound, "user %s does not exist", login)
	}
	return u, nil
}

// repoAndUser resolves a repository, then the acting user.
func (s *Server) repoAndUser(owner, name, login string) (*repo, *user, error) {
	r, err := s.repoLocked(owner, name)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.userLocked(login)
	if err != nil {
		return nil, nil, err
	}
	return r, u, nil
}

// pullAndUser resolves a pull request, then the acting user.
func (s *Server) pullAndUser(owner, name string, number int64, login string) (*pull, *user, error) {
	p, err := s.pullLocked(owner, name, number)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.userLocked(login)
	if err != nil {
		return nil, nil, err
	}
	return p, u, nil
}

// repoAndCommitLocked resolves a repository, then ref (branch, full or
// abbreviated SHA) in it; an unknown ref is 404.
func (s *Server) repoAndCommitLocked(owner, name, ref string) (*repo, *commit, error) {
	r, err := s.repoLocked(owner, name)
	if err != nil {
		return nil, nil, err
	}
	c := s.resolveRef(r, ref)
	if c == nil {
		return nil, nil, notFound()
	}
	return r, c, nil
}

// canWrite is Gitea's "write access to the code unit": owner, collaborator
// with write, admin, or member of a write team of the owning org.
func (s *Server) canWrite(r *repo, u *user) bool {
	if u == nil {
		return false
	}
	if u.isAdmin || r.owner == u || r.writers[u.login] || r.admins[u.login] {
		return true
	}
	for _, t := range s.teams {
		if t.org == r.owner && t.access == "write" && t.has(u) {
			return true
		}
	}
	return false
}

func (s *Server) isRepoAdmin(r *repo, u *user) bool {
	return u != nil && (u.isAdmin || r.owner == u || r.admins[u.login])
}

func (s *Server) addTimeline(p *pull, c *comment) *comment {
	s.seq.comment++
	c.id = s.seq.comment
	c.pull = p
	if c.created.IsZero() {
		c.created = s.now()
	}
	c.updated = c.created
	p.timeline = append(p.timeline, c)
	p.updated = c.created
	return c
}
