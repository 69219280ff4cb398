package giteafake

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// StatusOptions is one commit status write.
type StatusOptions struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url"`
	Description string `json:"description"`
	Context     string `json:"context"`
}

// CreateStatus appends a status row for sha (full, abbreviated or a branch)
// as creator, emits the "status" event, and returns the per-commit index
// (the "id" the API shows).
func (s *Server) CreateStatus(owner, name, sha, creator string, o StatusOptions) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, u, err := s.repoAndUser(owner, name, creator)
	if err != nil {
		return 0, err
	}
	st, err := s.createStatusLocked(r, u, sha, o)
	if err != nil {
		return 0, err
	}
	return st.index, nil
}

// createStatusLocked stores the state unvalidated, as Gitea does.
func (s *Server) createStatusLocked(r *repo, u *user, ref string, o StatusOptions) (*commitStatus, error) {
	if ref == "" {
		return nil, errf(http.StatusBadRequest, "sha not given")
	}
	c := s.resolveRef(r, ref)
	if c == nil {
		return nil, errf(http.StatusInternalServerError, "GetCommit[%s]: object does not exist [id: %s, rel_path: ]", ref, ref)
	}
	rows := r.statuses[c.sha]
	s.seq.status++
	st := &commitStatus{
		id: s.seq.status, index: int64(len(rows) + 1), sha: c.sha, state: o.State, targetURL: o.TargetURL,
		description: o.Description, context: o.Context, creator: u, created: s.now(),
	}
	r.statuses[c.sha] = append(rows, st)
	s.emitStatus(r, st, c)
	return st, nil
}

// CombinedState is Gitea's combine rule (1.26): any error/failure/warning is
// failure; all success/skipped is success; anything else, or nothing, pending.
func CombinedState(states []string) string {
	if len(states) == 0 {
		return "pending"
	}
	allOK := true
	for _, st := range states {
		switch st {
		case "error", "failure", "warning":
			return "failure"
		case "success", "skipped":
		default:
			allOK = false
		}
	}
	if allOK {
		return "success"
	}
	return "pending"
}

// latestPerContext is GetLatestCommitStatus: contexts ordered by their latest
// index descending, paged, then the chosen rows returned in index order.
func latestPerContext(rows []*commitStatus, page, limit int) (sel []*commitStatus, total int) {
	latest := map[string]*commitStatus{}
	for _, st := range rows {
		key := strings.TrimSpace(st.context)
		if cur := latest[key]; cur == nil || st.index > cur.index {
			latest[key] = st
		}
	}
	all := make([]*commitStatus, 0, len(latest))
	for _, st := range latest {
		all = append(all, st)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].index > all[j].index })
	start, end := pageBounds(len(all), page, limit)
	sel = append(sel, all[start:end]...)
	sort.Slice(sel, func(i, j int) bool { return sel[i].index < sel[j].index })
	return sel, len(all)
}

func (s *Server) statusRepoAndCommit(rc *reqCtx, param string) (*repo, *commit, error) {
	return s.repoAndCommitLocked(rc.param("owner"), rc.param("repo"), rc.param(param))
}

func handleCreateStatus(rc *reqCtx) error {
	s := rc.s
	var o StatusOptions
	if err := rc.decode(&o); err != nil {
		return err
	}
	r, err := s.writableRepo(rc, "user should have a permission to write to a repo")
	if err != nil {
		return err
	}
	st, err := s.createStatusLocked(r, rc.doer, rc.param("sha"), o)
	if err != nil {
		return err
	}
	rc.json(http.StatusCreated, s.toStatus(r, st))
	return nil
}

// handleListStatuses serves both /statuses/{sha} and /commits/{ref}/statuses.
func handleListStatuses(rc *reqCtx) error {
	s := rc.s
	param := "sha"
	if _, ok := rc.params["ref"]; ok {
		param = "ref"
	}
	r, c, err := s.statusRepoAndCommit(rc, param)
	if err != nil {
		return err
	}
	rows := append([]*commitStatus(nil), r.statuses[c.sha]...)
	q := rc.r.URL.Query()
	if state := q.Get("state"); state != "" {
		kept := rows[:0]
		for _, st := range rows {
			if st.state == state {
				kept = append(kept, st)
			}
		}
		rows = kept
	}
	switch q.Get("sort") {
	case "oldest", "leastindex", "leastupdate":
		sort.Slice(rows, func(i, j int) bool { return rows[i].index < rows[j].index })
	default: // recentupdate, highestindex and Gitea's default: newest first
		sort.Slice(rows, func(i, j int) bool { return rows[i].index > rows[j].index })
	}
	start, end := rc.paginate(len(rows), true)
	out := []*apiStatus{}
	for _, st := range rows[start:end] {
		out = append(out, s.toStatus(r, st))
	}
	rc.json(http.StatusOK, out)
	return nil
}

// handleCombinedStatus computes state and total_count over the requested
// page only, exactly like Gitea (pass limit=50 and page for >50 contexts).
// A commit without statuses yields a zero CombinedStatus, as Gitea returns.
func handleCombinedStatus(rc *reqCtx) error {
	s := rc.s
	r, c, err := s.statusRepoAndCommit(rc, "ref")
	if err != nil {
		return err
	}
	if len(r.statuses[c.sha]) == 0 {
		rc.json(http.StatusOK, &apiCombinedStatus{})
		return nil
	}
	page, limit := rc.listOptions()
	sel, total := latestPerContext(r.statuses[c.sha], page, limit)
	states := make([]string, len(sel))
	out := make([]*apiStatus, len(sel))
	for i, st := range sel {
		states[i] = st.state
		out[i] = s.toStatus(r, st)
	}
	base := fmt.Sprintf("%sapi/v1/repos/%s/commits/%s", s.root, r.fullName(), c.sha)
	rc.setPaging(total, page, limit, true)
	rc.json(http.StatusOK, &apiCombinedStatus{
		State: CombinedState(states), SHA: c.sha, TotalCount: len(sel), Statuses: out,
		Repository: s.toRepo(r, rc.doer), CommitURL: base, URL: base + "/status",
	})
	return nil
}

// StatusState is a test-facing snapshot of one status row.
type StatusState struct {
	Index       int64  `json:"index"`
	State       string `json:"state"`
	Context     string `json:"context"`
	Description string `json:"description"`
	TargetURL   string `json:"target_url"`
	Creator     string `json:"creator"`
}

// Statuses returns every status row written for sha, oldest first.
func (s *Server) Statuses(owner, name, sha string) ([]StatusState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, c, err := s.repoAndCommitLocked(owner, name, sha)
	if err != nil {
		return nil, err
	}
	var out []StatusState
	for _, st := range r.statuses[c.sha] {
		out = append(out, StatusState{Index: st.index, State: st.state, Context: st.context, Description: st.description, TargetURL: st.targetURL, Creator: st.creator.login})
	}
	return out, nil
}
