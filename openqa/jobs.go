package openqa

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Job is the part of openQA's job object (Schema/Result/Jobs.pm::to_hash)
// that gating needs. Nullable ids are 0 when absent.
type Job struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	State    string `json:"state"`
	Result   string `json:"result"`
	Reason   string `json:"reason,omitempty"`
	Test     string `json:"test"`
	Priority int64  `json:"priority"`
	// CloneID is the newer job this one was restarted into, 0 if none.
	CloneID int64 `json:"clone_id,omitempty"`
	// OriginID is the job this one was cloned from, 0 if none.
	OriginID      int64             `json:"origin_id,omitempty"`
	GroupID       int64             `json:"group_id,omitempty"`
	Group         string            `json:"group,omitempty"`
	ParentGroupID int64             `json:"parent_group_id,omitempty"`
	ParentGroup   string            `json:"parent_group,omitempty"`
	BlockedByID   int64             `json:"blocked_by_id,omitempty"`
	TStarted      Timestamp         `json:"t_started"`
	TFinished     Timestamp         `json:"t_finished"`
	Settings      map[string]string `json:"settings"`
}

// UnmarshalJSON accepts numbers as strings and null ids, as Perl emits them.
func (j *Job) UnmarshalJSON(b []byte) error {
	var w struct {
		ID            FlexInt               `json:"id"`
		Name          flexString            `json:"name"`
		State         string                `json:"state"`
		Result        string                `json:"result"`
		Reason        flexString            `json:"reason"`
		Test          flexString            `json:"test"`
		Priority      FlexInt               `json:"priority"`
		CloneID       FlexInt               `json:"clone_id"`
		OriginID      FlexInt               `json:"origin_id"`
		GroupID       FlexInt               `json:"group_id"`
		Group         flexString            `json:"group"`
		ParentGroupID FlexInt               `json:"parent_group_id"`
		ParentGroup   flexString            `json:"parent_group"`
		BlockedByID   FlexInt               `json:"blocked_by_id"`
		TStarted      Timestamp             `json:"t_started"`
		TFinished     Timestamp             `json:"t_finished"`
		Settings      map[string]flexString `json:"settings"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode job: %w", err)
	}
	*j = Job{
		ID: int64(w.ID), Name: string(w.Name), State: w.State, Result: w.Result,
		Reason: string(w.Reason), Test: string(w.Test), Priority: int64(w.Priority),
		CloneID: int64(w.CloneID), OriginID: int64(w.OriginID),
		GroupID: int64(w.GroupID), Group: string(w.Group),
		ParentGroupID: int64(w.ParentGroupID), ParentGroup: string(w.ParentGroup),
		BlockedByID: int64(w.BlockedByID), TStarted: w.TStarted, TFinished: w.TFinished,
	}
	if w.Settings != nil {
		j.Settings = make(map[string]string, len(w.Settings))
		for k, v := range w.Settings {
			j.Settings[k] = string(v)
		}
	}
	if j.Test == "" {
		j.Test = j.Settings["TEST"]
	}
	return nil
}

// Setting returns one job setting ("" when unset).
func (j Job) Setting(key string) string { return j.Settings[key] }

// GetJob reads one job. An unknown id is a 404 (IsNotFound).
func (c *Client) GetJob(ctx context.Context, id int64) (*Job, error) {
	resp, err := c.get(ctx, call{method: http.MethodGet, endpoint: "job", path: "jobs/" + strconv.FormatInt(id, 10)})
	if err != nil {
		return nil, fmt.Errorf("get job %d: %w", id, err)
	}
	var out struct {
		Job *Job `json:"job"`
	}
	if err := decode(resp, &out); err != nil {
		return nil, fmt.Errorf("get job %d: %w", id, err)
	}
	if out.Job == nil {
		return nil, fmt.Errorf("get job %d: %w", id, &APIError{Status: resp.status, Endpoint: resp.endpoint, Message: `response has no "job"`})
	}
	return out.Job, nil
}

// JobFilter selects jobs for ListJobs; zero fields do not filter. Matching is
// exact, as openQA's /api/v1/jobs does it.
type JobFilter struct {
	IDs     []int64
	Build   string
	Distri  string
	Version string
	Flavor  string
	Arch    string
	Test    string
	Machine string
	// GroupID filters by job group; point it at 0 for "jobs without a group".
	GroupID *int64
	State   []string
	Result  []string
	// JobSettings are "KEY=VALUE" pairs, ANDed.
	JobSettings []string
	// Latest keeps only the newest job per scenario (openQA's latest=1).
	Latest bool
	// Scope is "current" (no cloned jobs) or "relevant" (also no obsoleted).
	Scope string
	// Limit is the page size (openQA default 1000, max 10000). ListJobs
	// always follows the Link header to the last page.
	Limit int
}

// idBatch keeps query strings short: qem-bot asks for 200 ids at a time.
const idBatch = 200

// maxPages stops a server whose next link never ends.
const maxPages = 10000

func (f JobFilter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("build", f.Build)
	set("distri", f.Distri)
	set("version", f.Version)
	set("flavor", f.Flavor)
	set("arch", f.Arch)
	set("test", f.Test)
	set("machine", f.Machine)
	if f.GroupID != nil {
		q.Set("groupid", strconv.FormatInt(*f.GroupID, 10))
	}
	set("state", strings.Join(f.State, ","))
	set("result", strings.Join(f.Result, ","))
	for _, s := range f.JobSettings {
		q.Add("job_setting", s)
	}
	if f.Latest {
		q.Set("latest", "1")
	}
	set("scope", f.Scope)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// ListJobs returns every job matching f, newest first within each request,
// following openQA's paging. Many IDs are fetched in batches of 200.
func (c *Client) ListJobs(ctx context.Context, f JobFilter) ([]Job, error) {
	if len(f.IDs) == 0 {
		return c.listPages(ctx, f.query())
	}
	var all []Job
	for start := 0; start < len(f.IDs); start += idBatch {
		batch := f.IDs[start:min(start+idBatch, len(f.IDs))]
		ids := make([]string, len(batch))
		for i, id := range batch {
			ids[i] = strconv.FormatInt(id, 10)
		}
		q := f.query()
		q.Set("ids", strings.Join(ids, ","))
		jobs, err := c.listPages(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, jobs...)
	}
	return all, nil
}

func (c *Client) listPages(ctx context.Context, q url.Values) ([]Job, error) {
	var all []Job
	cl := call{method: http.MethodGet, endpoint: "jobs", path: "jobs", query: q}
	seen := map[string]bool{}
	for page := 0; page < maxPages; page++ {
		resp, err := c.get(ctx, cl)
		if err != nil {
			return nil, fmt.Errorf("list jobs (%s) page %d: %w", q.Encode(), page+1, err)
		}
		var out struct {
			Jobs []Job `json:"jobs"`
		}
		if err := decode(resp, &out); err != nil {
			return nil, fmt.Errorf("list jobs (%s) page %d: %w", q.Encode(), page+1, err)
		}
		all = append(all, out.Jobs...)
		next := NextLink(resp.header)
		if next == "" || len(out.Jobs) == 0 || seen[next] {
			return all, nil
		}
		seen[next] = true
		cl = call{method: http.MethodGet, endpoint: "jobs", path: next, link: true}
	}
	return nil, fmt.Errorf("list jobs (%s): more than %d pages", q.Encode(), maxPages)
}

// NextLink returns the rel="next" target of RFC 8288 Link headers, or "".
func NextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, part := range splitLinks(v) {
			part = strings.TrimSpace(part)
			end := strings.Index(part, ">")
			if !strings.HasPrefix(part, "<") || end < 0 {
				continue
			}
			target := part[1:end]
			for _, param := range strings.Split(part[end+1:], ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(param), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"'`)) {
					if strings.EqualFold(rel, "next") {
						return target
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header on the commas between links, not those
// inside <...>.
func splitLinks(v string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range v {
		switch r {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, v[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, v[start:])
}
