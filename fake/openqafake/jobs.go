package openqafake

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Job is a snapshot of a fake job.
type Job struct {
	ID                 int64
	Name               string
	State              string
	Result             string
	Reason             string
	Priority           int64
	GroupID            int64
	CloneID            int64
	OriginID           int64
	ScheduledProductID int64
	TStarted           time.Time
	TFinished          time.Time
	Settings           map[string]string
}

type job struct{ Job }

func (j *job) snapshot() Job {
	c := j.Job
	c.Settings = maps.Clone(j.Settings)
	return c
}

func (j *job) pending() bool {
	switch j.State {
	case "scheduled", "assigned", "setup", "running", "uploading":
		return true
	}
	return false
}

type comment struct {
	ID      int64
	Text    string
	User    string
	Created time.Time
	Updated time.Time
}

// jobName is openQA's DISTRI-VERSION-FLAVOR-ARCH-Build<BUILD>-TEST@MACHINE.
func jobName(st map[string]string) string {
	var parts []string
	for _, k := range []string{"DISTRI", "VERSION", "FLAVOR", "ARCH"} {
		if v := st[k]; v != "" {
			parts = append(parts, v)
		}
	}
	if b := st["BUILD"]; b != "" {
		parts = append(parts, "Build"+b)
	}
	name := strings.Join(append(parts, st["TEST"]), "-")
	if m := st["MACHINE"]; m != "" {
		name += "@" + m
	}
	return name
}

func (s *Server) num(n int64) any {
	if s.opts.PerlNumbers {
		return strconv.FormatInt(n, 10)
	}
	return n
}

func (s *Server) nullableNum(n int64) any {
	if n == 0 {
		return nil
	}
	return s.num(n)
}

func jobTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

// render is Jobs.pm::to_hash; callers hold s.mu.
func (s *Server) render(j *job) map[string]any {
	m := map[string]any{
		"id":            s.num(j.ID),
		"name":          j.Name,
		"priority":      s.num(j.Priority),
		"state":         j.State,
		"result":        j.Result,
		"test":          j.Settings["TEST"],
		"clone_id":      s.nullableNum(j.CloneID),
		"group_id":      s.nullableNum(j.GroupID),
		"blocked_by_id": nil,
		"t_started":     jobTime(j.TStarted),
		"t_finished":    jobTime(j.TFinished),
		"settings":      maps.Clone(j.Settings),
		"assets":        map[string]any{},
		"parents":       map[string]any{"Chained": []int64{}, "Directly chained": []int64{}, "Parallel": []int64{}},
		"children":      map[string]any{"Chained": []int64{}, "Directly chained": []int64{}, "Parallel": []int64{}},
		"has_parents":   0,
		"parents_ok":    1,
	}
	if j.OriginID != 0 {
		m["origin_id"] = s.num(j.OriginID)
	}
	if j.Reason != "" {
		m["reason"] = j.Reason
	}
	if g, ok := s.groups[j.GroupID]; ok {
		m["group"] = g.Name
	}
	return m
}

func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (s *Server) handleGetJob(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[id]
	if !ok || j == nil {
		writeError(w, r, http.StatusNotFound, "Job does not exist")
		return
	}
	m := s.render(j)
	if g, ok := s.groups[j.GroupID]; ok && g.ParentID != 0 {
		m["parent_group_id"] = s.num(g.ParentID)
		if p, ok := s.parents[g.ParentID]; ok {
			m["parent_group"] = p.Name
		}
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"job": m})
}

// listValues reads a comma list or a repeated parameter.
func listValues(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// matches applies /api/v1/jobs filters (Job.pm::list) to one job.
func (s *Server) matches(j *job, q url.Values) bool {
	for param, setting := range map[string]string{
		"build": "BUILD", "distri": "DISTRI", "version": "VERSION", "flavor": "FLAVOR",
		"arch": "ARCH", "test": "TEST", "machine": "MACHINE", "iso": "ISO", "hdd_1": "HDD_1",
		"worker_class": "WORKER_CLASS",
	} {
		if v := q.Get(param); v != "" && j.Settings[setting] != v {
			return false
		}
	}
	if ids := listValues(q, "ids"); len(ids) > 0 && !slices.Contains(ids, strconv.FormatInt(j.ID, 10)) {
		return false
	}
	if v := q.Get("groupid"); v != "" && strconv.FormatInt(j.GroupID, 10) != v {
		return false
	}
	if v := q.Get("not_groupid"); v != "" && strconv.FormatInt(j.GroupID, 10) == v {
		return false
	}
	if v := q.Get("group"); v != "" && s.groups[j.GroupID].Name != v {
		return false
	}
	if states := listValues(q, "state"); len(states) > 0 && !slices.Contains(states, j.State) {
		return false
	}
	if results := listValues(q, "result"); len(results) > 0 && !slices.Contains(results, j.Result) {
		return false
	}
	for _, kv := range q["job_setting"] {
		k, v, _ := strings.Cut(kv, "=")
		if j.Settings[k] != v {
			return false
		}
	}
	if v := q.Get("before"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && j.ID >= n {
			return false
		}
	}
	if v := q.Get("after"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && j.ID <= n {
			return false
		}
	}
	switch q.Get("scope") {
	case "current":
		if j.CloneID != 0 {
			return false
		}
	case "relevant":
		if j.Result == "obsoleted" {
			return false
		}
		if j.CloneID != 0 {
			if c := s.jobs[j.CloneID]; c == nil || !c.pending() {
				return false
			}
		}
	}
	return true
}

func scenarioKey(j *job) string {
	var b strings.Builder
	for _, k := range []string{"DISTRI", "VERSION", "BUILD", "TEST", "FLAVOR", "ARCH", "MACHINE"} {
		b.WriteString(j.Settings[k])
		b.WriteByte(0)
	}
	return b.String()
}

func (s *Server) handleListJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, offset := 1000, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, r, http.StatusBadRequest, "Erroneous parameters (limit invalid)")
			return
		}
		limit = min(n, 10000)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, r, http.StatusBadRequest, "Erroneous parameters (offset invalid)")
			return
		}
		offset = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []*job
	for _, j := range s.jobs {
		if s.matches(j, q) {
			hits = append(hits, j)
		}
	}
	slices.SortFunc(hits, func(a, b *job) int { return cmp.Compare(b.ID, a.ID) })
	latest := q.Get("latest") == "1"
	if latest {
		seen := map[string]bool{}
		kept := hits[:0]
		for _, j := range hits {
			if k := scenarioKey(j); !seen[k] {
				seen[k] = true
				kept = append(kept, j)
			}
		}
		hits = kept
	}
	page := hits[min(offset, len(hits)):min(offset+limit, len(hits))]
	out := make([]map[string]any, 0, len(page))
	for _, j := range page {
		out = append(out, s.render(j))
	}
	if !latest {
		var links []string
		link := func(rel string, off int) {
			lq := maps.Clone(q)
			lq.Set("limit", strconv.Itoa(limit))
			lq.Set("offset", strconv.Itoa(off))
			links = append(links, fmt.Sprintf("<%s%s?%s>; rel=\"%s\"", s.linkBase(r), r.URL.Path, lq.Encode(), rel))
		}
		link("first", 0)
		if offset+limit < len(hits) {
			link("next", offset+limit)
		}
		if offset > 0 {
			link("prev", max(0, offset-limit))
		}
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"jobs": out})
}

func (s *Server) linkBase(r *http.Request) string {
	if s.opts.LinkBase != "" {
		return strings.TrimRight(s.opts.LinkBase, "/")
	}
	return "http://" + r.Host
}

var bugrefRe = regexp.MustCompile(`\b(?:bsc|boo|bnc|poo|gh)#[\w/.#-]*\w`)

func (s *Server) renderComment(c *comment) map[string]any {
	refs := bugrefRe.FindAllString(c.Text, -1)
	if refs == nil {
		refs = []string{}
	}
	return map[string]any{
		"id":               s.num(c.ID),
		"text":             c.Text,
		"renderedMarkdown": nil,
		"bugrefs":          refs,
		"created":          c.Created.UTC().Format("2006-01-02 15:04:05 -0700"),
		"updated":          c.Updated.UTC().Format("2006-01-02 15:04:05 -0700"),
		"userName":         c.User,
	}
}

func (s *Server) handleListComments(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || s.jobs[id] == nil {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("Job %s does not exist", r.PathValue("id")))
		return
	}
	out := make([]map[string]any, 0, len(s.comments[id]))
	for _, c := range s.comments[id] {
		out = append(out, s.renderComment(c))
	}
	writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handlePostComment(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireAuth(w, r, LevelUser)
	if !ok {
		return
	}
	id, _ := pathID(r)
	text := r.FormValue("text")
	if strings.TrimSpace(text) == "" {
		writeError(w, r, http.StatusBadRequest, "Comment text must not be empty")
		return
	}
	cid, err := s.AddComment(id, u.Name, text)
	if err != nil {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("Job %d does not exist", id))
		return
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"id": s.num(cid)})
}

func (s *Server) renderGroup(g JobGroup, parent bool) map[string]any {
	m := map[string]any{
		"id":               s.num(g.ID),
		"name":             g.Name,
		"description":      g.Description,
		"default_priority": s.num(max(g.DefaultPriority, 50)),
		"sort_order":       nil,
	}
	if !parent {
		m["parent_id"] = s.nullableNum(g.ParentID)
		m["template"] = nil
	}
	return m
}

func (s *Server) handleListGroups(parent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		src := s.groups
		if parent {
			src = s.parents
		}
		out := make([]map[string]any, 0, len(src))
		for _, id := range slices.Sorted(maps.Keys(src)) {
			out = append(out, s.renderGroup(src[id], parent))
		}
		writeJSON(w, r, http.StatusOK, out)
	}
}

func (s *Server) handleGetGroup(parent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _ := pathID(r)
		s.mu.Lock()
		defer s.mu.Unlock()
		src := s.groups
		if parent {
			src = s.parents
		}
		g, ok := src[id]
		if !ok {
			writeError(w, r, http.StatusNotFound, fmt.Sprintf("Group %s does not exist", r.PathValue("id")))
			return
		}
		writeJSON(w, r, http.StatusOK, []map[string]any{s.renderGroup(g, parent)})
	}
}
