package giteafake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// PullOptions opens a pull request in Owner/Repo.
type PullOptions struct {
	Owner  string `json:"owner"`
	Repo   string `json:"repo"`
	Author string `json:"author"`
	Title  string `json:"title"`
	Body   string `json:"body"`
	// Base defaults to the repository's default branch.
	Base string `json:"base"`
	// Head is the head branch; created from Base with Files applied.
	Head string `json:"head"`
	// HeadOwner, when set and different from Owner, puts Head in a fork
	// HeadOwner/Repo (created on first use), as contributors usually do.
	HeadOwner string `json:"head_owner,omitempty"`
	// Files are the changed files (path -> full content, e.g. "_patchinfo" XML).
	Files   map[string]string `json:"files"`
	Labels  []string          `json:"labels,omitempty"`
	Message string            `json:"message,omitempty"`
}

// PullInfo identifies a pull request and its current SHAs.
type PullInfo struct {
	Owner   string `json:"owner"`
	Repo    string `json:"repo"`
	Number  int64  `json:"number"`
	HeadSHA string `json:"head_sha"`
	BaseSHA string `json:"base_sha"`
}

func pullInfo(p *pull) PullInfo {
	return PullInfo{Owner: p.repo.owner.login, Repo: p.repo.name, Number: p.number, HeadSHA: p.headSHA, BaseSHA: p.baseSHA}
}

// OpenPull opens a pull request and emits pull_request "opened".
func (s *Server) OpenPull(o PullOptions) (PullInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, author, err := s.repoAndUser(o.Owner, o.Repo, o.Author)
	if err != nil {
		return PullInfo{}, err
	}
	if o.Head == "" {
		return PullInfo{}, errf(http.StatusUnprocessableEntity, "head branch is required")
	}
	baseRef := o.Base
	if baseRef == "" {
		baseRef = r.defaultBranch
	}
	baseSHA, ok := r.branches[baseRef]
	if !ok {
		return PullInfo{}, errf(http.StatusNotFound, "base branch %s does not exist", baseRef)
	}
	headRepo := r
	if o.HeadOwner != "" && o.HeadOwner != o.Owner {
		headRepo = s.repos[o.HeadOwner+"/"+o.Repo]
		if headRepo == nil {
			headRepo, err = s.addRepoLocked(Repo{Owner: o.HeadOwner, Name: o.Repo, Description: r.description, ObjectFormat: r.objectFormat, DefaultBranch: r.defaultBranch}, r)
			if err != nil {
				return PullInfo{}, err
			}
			r.forks++
		}
	}
	base := s.commits[baseSHA]
	msg := o.Message
	if msg == "" {
		msg = o.Title
	}
	head := s.newCommit(headRepo, baseSHA, copyTree(base.tree, o.Files), msg, author)
	headRepo.branches[o.Head] = head.sha

	s.seq.pull++
	now := s.now()
	p := &pull{
		id: s.seq.pull, number: int64(len(r.pulls) + 1), repo: r, headRepo: headRepo, poster: author,
		title: o.Title, body: o.Body, baseRef: baseRef, headRef: o.Head, baseSHA: baseSHA, headSHA: head.sha,
		mergeBase: baseSHA, base: base, head: head, commits: []string{head.sha}, created: now, updated: now,
	}
	for _, name := range o.Labels {
		l := findLabel(r, name)
		if l == nil {
			return PullInfo{}, errf(http.StatusUnprocessableEntity, "label %s does not exist", name)
		}
		p.labels = append(p.labels, l)
	}
	r.pulls = append(r.pulls, p)
	s.addTimeline(p, &comment{typ: "pull_push", poster: author, body: pushBody(head.sha), created: now})
	s.emitPull(p, "pull_request", "opened", author, nil, nil)
	return pullInfo(p), nil
}

func pushBody(shas ...string) string {
	b, _ := json.Marshal(map[string]any{"is_force_push": false, "commit_ids": shas})
	return string(b)
}

// PushOptions adds a commit to a pull request's head branch.
type PushOptions struct {
	// Pusher defaults to the PR author.
	Pusher  string            `json:"pusher,omitempty"`
	Files   map[string]string `json:"files"`
	Message string            `json:"message,omitempty"`
}

// Push adds a commit to the PR head, marks existing reviews stale when the
// diff changed (as Gitea does), and emits pull_request_sync "synchronized".
func (s *Server) Push(owner, name string, number int64, o PushOptions) (PullInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.pullLocked(owner, name, number)
	if err != nil {
		return PullInfo{}, err
	}
	if p.closed {
		return PullInfo{}, errf(http.StatusUnprocessableEntity, "pull request is closed")
	}
	pusher := p.poster
	if o.Pusher != "" {
		if pusher, err = s.userLocked(o.Pusher); err != nil {
			return PullInfo{}, err
		}
	}
	msg := o.Message
	if msg == "" {
		msg = "Update " + p.headRef
	}
	before := p.headSHA
	c := s.newCommit(p.headRepo, before, copyTree(p.head.tree, o.Files), msg, pusher)
	p.head, p.headSHA = c, c.sha
	p.headRepo.branches[p.headRef] = c.sha
	p.commits = append(p.commits, c.sha)
	// Gitea's MarkReviewsAsStale + MarkReviewsAsNotStale(new head): every
	// review row (requests included) turns stale unless it names the new head.
	if !sameTree(s.commits[before].tree, c.tree) {
		for _, rv := range p.reviews {
			rv.stale = rv.commitID != c.sha
		}
	}
	s.addTimeline(p, &comment{typ: "pull_push", poster: pusher, body: pushBody(c.sha)})
	s.emitPull(p, "pull_request_sync", "synchronized", pusher, nil, func(pl *pullRequestPayload) {
		if s.syncBA {
			pl.Before, pl.After = before, c.sha
		}
	})
	return pullInfo(p), nil
}

func sameTree(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// ClosePull closes an open PR and emits "closed".
func (s *Server) ClosePull(owner, name string, number int64, actor string) error {
	return s.setClosed(owner, name, number, actor, true)
}

// ReopenPull reopens a closed, unmerged PR and emits "reopened".
func (s *Server) ReopenPull(owner, name string, number int64, actor string) error {
	return s.setClosed(owner, name, number, actor, false)
}

func (s *Server) setClosed(owner, name string, number int64, actor string, closed bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, doer, err := s.pullAndUser(owner, name, number, actor)
	if err != nil {
		return err
	}
	if p.merged || p.closed == closed {
		return errf(http.StatusConflict, "pull request is already %s", p.state())
	}
	p.closed = closed
	action, typ := "reopened", "reopen"
	if closed {
		p.closedAt = s.now()
		action, typ = "closed", "close"
	}
	s.addTimeline(p, &comment{typ: typ, poster: doer})
	s.emitPull(p, "pull_request", action, doer, nil, nil)
	return nil
}

// MergePull merges an open PR into its base branch and emits "closed" with
// pull_request.merged=true. It returns the merge commit SHA.
func (s *Server) MergePull(owner, name string, number int64, actor string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mergeLocked(owner, name, number, actor)
}

func (s *Server) mergeLocked(owner, name string, number int64, actor string) (string, error) {
	p, doer, err := s.pullAndUser(owner, name, number, actor)
	if err != nil {
		return "", err
	}
	if p.closed {
		return "", errf(http.StatusMethodNotAllowed, "The PR is closed or merged")
	}
	r := p.repo
	cur := s.commits[r.branches[p.baseRef]]
	tree := copyTree(cur.tree, nil)
	for _, f := range p.changedFiles() {
		if f.status == "deleted" {
			delete(tree, f.name)
		} else {
			tree[f.name] = p.head.tree[f.name]
		}
	}
	mc := s.newCommit(r, cur.sha, tree, fmt.Sprintf("Merge pull request '%s' (#%d) from %s into %s", p.title, p.number, p.headRef, p.baseRef), doer)
	r.branches[p.baseRef] = mc.sha
	now := s.now()
	p.closed, p.merged, p.closedAt, p.mergedAt, p.mergedBy, p.mergeCommit = true, true, now, now, doer, mc.sha
	s.addTimeline(p, &comment{typ: "merge_pull", poster: doer})
	s.emitPull(p, "pull_request", "closed", doer, nil, nil)
	return mc.sha, nil
}

func findLabel(r *repo, nameOrID string) *label {
	for _, l := range r.labels {
		if l.name == nameOrID || strconv.FormatInt(l.id, 10) == nameOrID {
			return l
		}
	}
	return nil
}

// AddLabels adds labels (by name or id) to a PR and emits pull_request_label
// "label_updated".
func (s *Server) AddLabels(owner, name string, number int64, actor string, labels ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.addLabelsLocked(owner, name, number, actor, labels)
	return err
}

func (s *Server) addLabelsLocked(owner, name string, number int64, actor string, labels []string) (*pull, error) {
	p, doer, err := s.pullAndUser(owner, name, number, actor)
	if err != nil {
		return nil, err
	}
	var added []*apiLabel
	for _, n := range labels {
		l := findLabel(p.repo, n)
		if l == nil {
			return nil, errf(http.StatusUnprocessableEntity, "label %s does not exist", n)
		}
		if hasLabel(p, l) {
			continue
		}
		p.labels = append(p.labels, l)
		added = append(added, s.toLabel(p.repo, l))
		s.addTimeline(p, &comment{typ: "label", poster: doer, body: "1", label: l})
	}
	if len(added) > 0 {
		s.emitPull(p, "pull_request_label", "label_updated", doer, nil, func(pl *pullRequestPayload) {
			pl.Changes = &payloadChanges{AddedLabels: added, RemovedLabels: []*apiLabel{}}
		})
	}
	return p, nil
}

func hasLabel(p *pull, l *label) bool {
	for _, x := range p.labels {
		if x == l {
			return true
		}
	}
	return false
}

// RemoveLabel removes a label (by name or id) and emits "label_updated".
func (s *Server) RemoveLabel(owner, name string, number int64, actor, labelName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeLabelLocked(owner, name, number, actor, labelName)
}

func (s *Server) removeLabelLocked(owner, name string, number int64, actor, labelName string) error {
	p, doer, err := s.pullAndUser(owner, name, number, actor)
	if err != nil {
		return err
	}
	l := findLabel(p.repo, labelName)
	if l == nil || !hasLabel(p, l) {
		return notFound()
	}
	p.labels = slices.DeleteFunc(p.labels, func(x *label) bool { return x == l })
	s.addTimeline(p, &comment{typ: "label", poster: doer, label: l})
	s.emitPull(p, "pull_request_label", "label_updated", doer, nil, func(pl *pullRequestPayload) {
		pl.Changes = &payloadChanges{AddedLabels: []*apiLabel{}, RemovedLabels: []*apiLabel{s.toLabel(p.repo, l)}}
	})
	return nil
}

func handleListPulls(rc *reqCtx) error {
	s := rc.s
	r, err := s.repoFromRequest(rc)
	if err != nil {
		return err
	}
	q := rc.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var sel []*pull
	for _, p := range r.pulls {
		if (state == "open" && p.closed) || (state == "closed" && !p.closed) {
			continue
		}
		if poster := q.Get("poster"); poster != "" && p.poster.login != poster {
			continue
		}
		if b := q.Get("base_branch"); b != "" && p.baseRef != b {
			continue
		}
		if !pullHasLabelIDs(p, q["labels"]) {
			continue
		}
		sel = append(sel, p)
	}
	sortPulls(sel, q.Get("sort"))
	start, end := rc.paginate(len(sel), true)
	out := []*apiPull{}
	for _, p := range sel[start:end] {
		out = append(out, s.toPull(p, rc.doer))
	}
	rc.json(http.StatusOK, out)
	return nil
}

func pullHasLabelIDs(p *pull, ids []string) bool {
	for _, id := range ids {
		if id == "" {
			continue
		}
		l := findLabel(p.repo, id)
		if l == nil || !hasLabel(p, l) {
			return false
		}
	}
	return true
}

// sortPulls applies Gitea's issue sort types; the default is newest first.
func sortPulls(ps []*pull, by string) {
	less := func(i, j int) bool {
		return ps[i].created.After(ps[j].created) || (ps[i].created.Equal(ps[j].created) && ps[i].id > ps[j].id)
	}
	switch by {
	case "oldest":
		less = func(i, j int) bool {
			return ps[i].created.Before(ps[j].created) || (ps[i].created.Equal(ps[j].created) && ps[i].id < ps[j].id)
		}
	case "recentupdate":
		less = func(i, j int) bool {
			return ps[i].updated.After(ps[j].updated) || (ps[i].updated.Equal(ps[j].updated) && ps[i].id > ps[j].id)
		}
	case "leastupdate":
		less = func(i, j int) bool {
			return ps[i].updated.Before(ps[j].updated) || (ps[i].updated.Equal(ps[j].updated) && ps[i].id < ps[j].id)
		}
	case "mostcomment":
		less = func(i, j int) bool { return ps[i].countComments() > ps[j].countComments() }
	case "leastcomment":
		less = func(i, j int) bool { return ps[i].countComments() < ps[j].countComments() }
	case "recentclose":
		less = func(i, j int) bool { return ps[i].closedAt.After(ps[j].closedAt) }
	}
	sort.SliceStable(ps, less)
}

func handleGetPull(rc *reqCtx) error {
	s := rc.s
	idx := rc.param("index")
	kind := ""
	if i := strings.LastIndexByte(idx, '.'); i > 0 {
		idx, kind = idx[:i], idx[i+1:]
	}
	n, perr := strconv.ParseInt(idx, 10, 64)
	if perr != nil || (kind != "" && kind != "diff" && kind != "patch") {
		return notFound()
	}
	p, err := s.pullLocked(rc.param("owner"), rc.param("repo"), n)
	if err != nil {
		return err
	}
	if kind != "" {
		rc.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rc.w.WriteHeader(http.StatusOK)
		_, _ = rc.w.Write([]byte(unifiedDiff(p)))
		return nil
	}
	rc.json(http.StatusOK, s.toPull(p, rc.doer))
	return nil
}

// unifiedDiff renders whole-file hunks: enough for tools that read the diff.
func unifiedDiff(p *pull) string {
	var b strings.Builder
	for _, f := range p.changedFiles() {
		old, cur := p.base.tree[f.name], p.head.tree[f.name]
		fmt.Fprintf(&b, "diff --git a/%s b/%s\n", f.name, f.name)
		from, to := "a/"+f.name, "b/"+f.name
		switch f.status {
		case "added":
			b.WriteString("new file mode 100644\n")
			from = "/dev/null"
		case "deleted":
			b.WriteString("deleted file mode 100644\n")
			to = "/dev/null"
		}
		fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
		ol, nl := splitLines(old), splitLines(cur)
		fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", min(1, len(ol)), len(ol), min(1, len(nl)), len(nl))
		for _, l := range ol {
			b.WriteString("-" + l + "\n")
		}
		for _, l := range nl {
			b.WriteString("+" + l + "\n")
		}
	}
	return b.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func handlePullFiles(rc *reqCtx) error {
	s := rc.s
	p, err := s.pullFromRequest(rc)
	if err != nil {
		return err
	}
	files := p.changedFiles()
	start, end := rc.paginate(len(files), true)
	full := p.repo.fullName()
	out := []*apiChangedFile{}
	for _, f := range files[start:end] {
		out = append(out, &apiChangedFile{
			Filename: f.name, Status: f.status, Additions: f.additions, Deletions: f.deletions,
			Changes:     f.additions + f.deletions,
			HTMLURL:     fmt.Sprintf("%s%s/src/commit/%s/%s", s.root, full, p.headSHA, f.name),
			ContentsURL: fmt.Sprintf("%sapi/v1/repos/%s/contents/%s?ref=%s", s.root, full, f.name, p.headSHA),
			RawURL:      fmt.Sprintf("%s%s/raw/commit/%s/%s", s.root, full, p.headSHA, f.name),
		})
	}
	rc.json(http.StatusOK, out)
	return nil
}

func handleMergePull(rc *reqCtx) error {
	s := rc.s
	n, perr := rc.paramInt("index")
	if perr != nil {
		return perr
	}
	if _, err := s.writableRepo(rc, "User does not have permission to merge"); err != nil {
		return err
	}
	if _, err := s.mergeLocked(rc.param("owner"), rc.param("repo"), n, rc.doer.login); err != nil {
		return err
	}
	rc.w.WriteHeader(http.StatusOK)
	return nil
}

func handleCommitPull(rc *reqCtx) error {
	s := rc.s
	r, err := s.repoFromRequest(rc)
	if err != nil {
		return err
	}
	sha := rc.param("sha")
	var found *pull
	for _, p := range r.pulls {
		hit := p.mergeCommit == sha
		for _, c := range p.commits {
			hit = hit || c == sha
		}
		if hit && (found == nil || !p.closed) {
			found = p
		}
	}
	if found == nil {
		return notFound()
	}
	rc.json(http.StatusOK, s.toPull(found, rc.doer))
	return nil
}

func handleIssueLabels(rc *reqCtx) error {
	s := rc.s
	p, err := s.pullFromRequest(rc)
	if err != nil {
		return err
	}
	rc.json(http.StatusOK, s.toLabels(p))
	return nil
}

func handleAddLabels(rc *reqCtx) error {
	s := rc.s
	n, perr := rc.paramInt("index")
	if perr != nil {
		return perr
	}
	var body struct {
		Labels []any `json:"labels"`
	}
	if err := rc.decode(&body); err != nil {
		return err
	}
	names := make([]string, 0, len(body.Labels))
	for _, l := range body.Labels {
		switch v := l.(type) {
		case float64:
			names = append(names, strconv.FormatInt(int64(v), 10))
		case string:
			names = append(names, v)
		}
	}
	p, err := s.addLabelsLocked(rc.param("owner"), rc.param("repo"), n, rc.doer.login, names)
	if err != nil {
		return err
	}
	rc.json(http.StatusOK, s.toLabels(p))
	return nil
}

func handleRemoveLabel(rc *reqCtx) error {
	s := rc.s
	n, perr := rc.paramInt("index")
	if perr != nil {
		return perr
	}
	if err := s.removeLabelLocked(rc.param("owner"), rc.param("repo"), n, rc.doer.login, rc.param("id")); err != nil {
		return err
	}
	rc.w.WriteHeader(http.StatusNoContent)
	return nil
}

func handleRepoLabels(rc *reqCtx) error {
	s := rc.s
	r, err := s.repoFromRequest(rc)
	if err != nil {
		return err
	}
	out := []*apiLabel{}
	for _, l := range r.labels {
		out = append(out, s.toLabel(r, l))
	}
	start, end := rc.paginate(len(out), true)
	rc.json(http.StatusOK, out[start:end])
	return nil
}
