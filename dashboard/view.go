package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/nonnil"
	"github.com/qemgate/qemgate/internal/pullref"
	"github.com/qemgate/qemgate/store"
)

// The dashboard's model, shared by the JSON API and the pages: both render
// the same views, built here from the store's reads, so they cannot disagree.

// Stages of an open PR on the active view, in display order.
const (
	stageTesting         = "testing"
	stageWaitingForBuild = "waiting_for_build"
	stageApproved        = "approved"
	stageFailed          = "failed"
)

var stageOrder = []string{stageTesting, stageWaitingForBuild, stageApproved, stageFailed}

// highPriority is qem-dashboard's "very high priority" threshold.
const highPriority = 650

// defaultResultStates are the result buttons /blocked shows unless asked:
// passed groups are what nobody needs to look at.
var defaultResultStates = []string{string(gate.JobFailed), string(gate.JobStopped), string(gate.JobWaiting)}

var resultStates = []string{string(gate.JobFailed), string(gate.JobStopped), string(gate.JobWaiting), string(gate.JobPassed)}

// jobCounts counts jobs by how they count for the gate (gate.ClassifyJob);
// accepted jobs count as passed and are counted again in Accepted.
type jobCounts struct {
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Stopped  int `json:"stopped"`
	Waiting  int `json:"waiting"`
	Accepted int `json:"accepted"`
	Total    int `json:"total"`
}

func (c *jobCounts) add(r store.DashResult) {
	c.Total += r.Jobs
	status := gate.ClassifyJob(r.State, r.Result)
	if r.Accepted && (status == gate.JobFailed || status == gate.JobStopped) {
		c.Accepted += r.Jobs
		status = gate.JobPassed
	}
	switch status {
	case gate.JobPassed:
		c.Passed += r.Jobs
	case gate.JobFailed:
		c.Failed += r.Jobs
	case gate.JobStopped:
		c.Stopped += r.Jobs
	default:
		c.Waiting += r.Jobs
	}
}

func (c *jobCounts) merge(o jobCounts) {
	c.Passed += o.Passed
	c.Failed += o.Failed
	c.Stopped += o.Stopped
	c.Waiting += o.Waiting
	c.Accepted += o.Accepted
	c.Total += o.Total
}

// status is the summary state of a result button: the worst that happened.
func (c jobCounts) status() string {
	switch {
	case c.Failed > 0:
		return string(gate.JobFailed)
	case c.Stopped > 0:
		return string(gate.JobStopped)
	case c.Waiting > 0:
		return string(gate.JobWaiting)
	default:
		return string(gate.JobPassed)
	}
}

// label is what a result button shows: failed/total, stopped/total,
// waiting/total, or the total when all passed.
func (c jobCounts) label() string {
	switch c.status() {
	case string(gate.JobFailed):
		return fmt.Sprintf("%d/%d", c.Failed, c.Total)
	case string(gate.JobStopped):
		return fmt.Sprintf("%d/%d", c.Stopped, c.Total)
	case string(gate.JobWaiting):
		return fmt.Sprintf("%d/%d", c.Waiting, c.Total)
	}
	return strconv.Itoa(c.Total)
}

// groupResult is one result button: the counted jobs of one job group in one
// build, linking to openQA's overview of exactly that.
type groupResult struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	// Name is the group's short name (qem-dashboard's nick).
	Name        string    `json:"name"`
	Distri      string    `json:"distri"`
	Version     string    `json:"version"`
	Build       string    `json:"build"`
	AggregateID int64     `json:"aggregate_id,omitempty"`
	Product     string    `json:"product,omitempty"`
	Arch        string    `json:"arch,omitempty"`
	Status      string    `json:"status"`
	Label       string    `json:"label"`
	Counts      jobCounts `json:"counts"`
	URL         string    `json:"url"`
}

// Title says in words what the button's label abbreviates.
func (g groupResult) Title() string {
	c := g.Counts
	where := "build " + g.Build
	if g.AggregateID != 0 {
		where = fmt.Sprintf("aggregate %s %s %s", g.Product, g.Arch, g.Build)
	}
	s := fmt.Sprintf("%s, %s: %d failed, %d stopped, %d waiting, %d passed of %d jobs", g.GroupName, where,
		c.Failed, c.Stopped, c.Waiting, c.Passed, c.Total)
	if c.Accepted > 0 {
		s += fmt.Sprintf(" (%d accepted)", c.Accepted)
	}
	return s
}

// nick is qem-dashboard's short group name, so old bookmarks still match.
func nick(name string) string {
	name = strings.TrimPrefix(name, "Maintenance: ")
	name = strings.TrimSuffix(name, " Incidents")
	return strings.TrimSuffix(name, " Updates")
}

// overviewURL links to openQA's overview of one group and build.
func overviewURL(base string, g groupResult) string {
	q := url.Values{}
	q.Set("build", g.Build)
	q.Set("groupid", strconv.FormatInt(g.GroupID, 10))
	if g.Distri != "" {
		q.Set("distri", g.Distri)
	}
	if g.Version != "" {
		q.Set("version", g.Version)
	}
	return strings.TrimSuffix(base, "/") + "/tests/overview?" + q.Encode()
}

// groupResults folds result buckets into buttons by group and build, sorted
// by name, product, arch and build.
func groupResults(openqaURL string, buckets []store.DashResult) []groupResult {
	type key struct {
		aggregate, group       int64
		distri, version, build string
		product, arch, grpName string
	}
	at := map[key]int{}
	var out []groupResult
	for _, b := range buckets {
		k := key{b.AggregateID, b.GroupID, b.Distri, b.Version, b.Build, b.Product, b.Arch, b.GroupName}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, groupResult{GroupID: b.GroupID, GroupName: b.GroupName, Name: nick(b.GroupName),
				Distri: b.Distri, Version: b.Version, Build: b.Build, AggregateID: b.AggregateID,
				Product: b.Product, Arch: b.Arch})
		}
		out[i].Counts.add(b)
	}
	for i := range out {
		out[i].Status = out[i].Counts.status()
		out[i].Label = out[i].Counts.label()
		out[i].URL = overviewURL(openqaURL, out[i])
	}
	slices.SortFunc(out, func(a, b groupResult) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Product, b.Product),
			strings.Compare(a.Arch, b.Arch), strings.Compare(a.Build, b.Build), cmp.Compare(a.GroupID, b.GroupID))
	})
	return out
}

// pullView is one open PR as every dashboard list shows it.
type pullView struct {
	Repo      string   `json:"repo"`
	Number    int64    `json:"number"`
	Title     string   `json:"title"`
	Author    string   `json:"author"`
	HTMLURL   string   `json:"html_url"`
	HeadSHA   string   `json:"head_sha"`
	Draft     bool     `json:"draft"`
	Labels    []string `json:"labels"`
	Packages  []string `json:"packages"`
	Priority  int      `json:"priority"`
	Emergency bool     `json:"emergency"`
	// HighPriority: priority above 650 or an emergency; PriorityReason
	// spells out why, e.g. "priority 700 (label priority/high)".
	HighPriority   bool   `json:"high_priority"`
	PriorityReason string `json:"priority_reason"`
	// PrioritySource says where priority and emergency came from: "labels"
	// or "smelt".
	PrioritySource string `json:"priority_source"`
	Gated          bool   `json:"gated"`
	Stage          string `json:"stage"`
	// BuildSHA is the SHA whose build was last ready, at BuildReadyAt;
	// BuildCurrent says it is the head's (after a push it is not).
	BuildSHA      string     `json:"build_sha"`
	BuildReadyAt  *time.Time `json:"build_ready_at"`
	BuildCurrent  bool       `json:"build_current"`
	Verdict       string     `json:"verdict"`
	VerdictSHA    string     `json:"verdict_sha"`
	VerdictReason string     `json:"verdict_reason"`
	VerdictAt     *time.Time `json:"verdict_at"`
	// Counts are over the PR's own runs at its head; AggregateCounts over
	// the latest aggregates that include it (both narrowed by group_names).
	Counts          jobCounts `json:"counts"`
	AggregateCounts jobCounts `json:"aggregate_counts"`
	// Path is the PR's page on this dashboard.
	Path string `json:"path"`
}

// VerdictCurrent says whether the stored verdict is for the head SHA.
func (p pullView) VerdictCurrent() bool { return p.VerdictSHA != "" && p.VerdictSHA == p.HeadSHA }

// VerdictWords says the verdict in words, as the verdict cell shows it: a
// verdict of an older head is not this head's.
func (p pullView) VerdictWords() string {
	switch {
	case p.Verdict == "":
		return "not judged yet"
	case !p.VerdictCurrent():
		return "not judged at the head yet"
	case p.Verdict == gate.VerdictNoJobs:
		return "no jobs"
	}
	return p.Verdict
}

// VerdictClass is the verdict's colour: none unless it is the head's.
func (p pullView) VerdictClass() string {
	if p.Verdict == "" || !p.VerdictCurrent() {
		return "none"
	}
	return p.Verdict
}

// Ref is owner/repo#number (pullref.Format without a SHA).
func (p pullView) Ref() string { return pullref.Format(p.Repo, p.Number, "") }

// stageOf places an open PR on the active view: a verdict at the head SHA
// decides, else whether the head is built yet.
func stageOf(p store.Pull) string {
	if p.VerdictSHA != "" && p.VerdictSHA == p.HeadSHA {
		switch p.Verdict {
		case gate.VerdictPassed:
			return stageApproved
		case gate.VerdictFailed, gate.VerdictNoJobs:
			return stageFailed
		}
	}
	if p.BuildSHA == "" || p.BuildSHA != p.HeadSHA {
		return stageWaitingForBuild
	}
	return stageTesting
}

// priorityReason says why a PR is highlighted, naming the labels behind it.
func priorityReason(cfg config.Config, p store.Pull) (high bool, reason string) {
	var repo config.Repo
	for _, r := range cfg.Gitea.Repos {
		if strings.EqualFold(r.Name, p.Repo) {
			repo = r
		}
	}
	var parts []string
	if p.Emergency {
		s := "emergency"
		for _, l := range p.Labels {
			if slices.ContainsFunc(repo.EmergencyLabels, func(e string) bool { return strings.EqualFold(e, l) }) {
				s += " (label " + l + ")"
				break
			}
		}
		parts = append(parts, s)
	}
	if p.Priority > highPriority {
		s := fmt.Sprintf("priority %d", p.Priority)
		for _, l := range p.Labels {
			for name, v := range repo.PriorityLabels {
				if v == p.Priority && strings.EqualFold(name, l) {
					s += " (label " + l + ")"
				}
			}
		}
		parts = append(parts, s)
	}
	return len(parts) > 0, strings.Join(parts, "; ")
}

func newPullView(cfg config.Config, p store.Pull) pullView {
	v := pullView{Repo: p.Repo, Number: p.Number, Title: p.Title, Author: p.Author, HTMLURL: p.HTMLURL,
		HeadSHA: p.HeadSHA, Draft: p.Draft, Labels: nonnil.Slice(p.Labels), Packages: nonnil.Slice(p.Packages),
		Priority: p.Priority, Emergency: p.Emergency, PrioritySource: cmp.Or(p.PrioritySource, gate.PrioritySourceLabels),
		Gated: p.Gated, Stage: stageOf(p), BuildSHA: p.BuildSHA, BuildReadyAt: p.BuildReadyAt,
		BuildCurrent: p.BuildSHA != "" && p.BuildSHA == p.HeadSHA, Verdict: p.Verdict, VerdictSHA: p.VerdictSHA, VerdictReason: p.VerdictReason,
		VerdictAt: p.VerdictAt, Path: fmt.Sprintf("/pulls/%s/%d", p.Repo, p.Number)}
	v.HighPriority, v.PriorityReason = priorityReason(cfg, p)
	return v
}

// dashFilter is every filter a dashboard list takes, from its query string.
type dashFilter struct {
	// GroupNames are the comma-separated expressions as given; groups their
	// compiled, case-insensitive form.
	GroupNames string
	groups     []*regexp.Regexp
	// States are PR stages on the active list, result states on /blocked.
	States  []string
	Query   string
	Page    int
	PerPage int
	// Builds is how many aggregates per product and arch /aggregates shows.
	Builds int
}

// badRequest is a filter error; its message names the bad parameter.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

// parseDashFilter reads the filter of one list; allowed are the valid
// states and defStates the states when none are given.
func parseDashFilter(q url.Values, allowed, defStates []string, defPerPage int) (dashFilter, error) {
	f := dashFilter{GroupNames: strings.TrimSpace(q.Get("group_names")), Query: strings.TrimSpace(q.Get("q"))}
	for _, part := range strings.Split(f.GroupNames, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		re, err := regexp.Compile("(?i)" + part)
		if err != nil {
			return f, badRequest{fmt.Sprintf("group_names: %q is not a valid regular expression: %v", part, err)}
		}
		f.groups = append(f.groups, re)
	}
	// Forms send one states= per checkbox; links may join them with commas.
	for _, v := range q["states"] {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(strings.ToLower(s))
			if s == "" || slices.Contains(f.States, s) {
				continue
			}
			if !slices.Contains(allowed, s) {
				return f, badRequest{fmt.Sprintf("states: %q is not one of %s", s, strings.Join(allowed, ", "))}
			}
			f.States = append(f.States, s)
		}
	}
	if len(f.States) == 0 {
		f.States = slices.Clone(defStates)
	}
	var err error
	if f.Page, err = intParam(q, "page", 1, 1, 1_000_000); err != nil {
		return f, err
	}
	if f.PerPage, err = intParam(q, "per_page", defPerPage, 1, 500); err != nil {
		return f, err
	}
	if f.Builds, err = intParam(q, "builds", 3, 1, 30); err != nil {
		return f, err
	}
	return f, nil
}

func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest{fmt.Sprintf("%s: must be a whole number from %d to %d", name, lo, hi)}
	}
	return n, nil
}

// groupMatch reports whether a job group passes the group filter: its full
// name or its short name matches any expression.
func (f dashFilter) groupMatch(name string) bool {
	if len(f.groups) == 0 {
		return true
	}
	short := nick(name)
	for _, re := range f.groups {
		if re.MatchString(name) || re.MatchString(short) {
			return true
		}
	}
	return false
}

// textMatch is the search over number and packages.
func (f dashFilter) textMatch(p store.Pull) bool {
	if f.Query == "" {
		return true
	}
	q := strings.ToLower(strings.TrimPrefix(f.Query, "#"))
	if strings.Contains(strconv.FormatInt(p.Number, 10), q) {
		return true
	}
	return slices.ContainsFunc(p.Packages, func(pkg string) bool { return strings.Contains(strings.ToLower(pkg), q) })
}

// page cuts one page out of a sorted list.
func page[T any](list []T, f dashFilter) []T {
	start := (f.Page - 1) * f.PerPage
	if start >= len(list) {
		return []T{}
	}
	return list[start:min(start+f.PerPage, len(list))]
}

// pullResults is a PR with its result buttons.
type pullResults struct {
	pull             store.Pull
	own, aggregate   []groupResult
	ownN, aggregateN jobCounts
}

// loadPullResults reads every open PR and folds its result buckets into
// buttons, narrowed to the groups f matches. A PR with results of which
// none match the group filter is dropped; one without any results is kept
// unless a group filter is set.
func loadPullResults(ctx context.Context, d Deps, f dashFilter) ([]pullResults, error) {
	pulls, err := store.DashOpenPulls(ctx, d.Store.Pool)
	if err != nil {
		return nil, err
	}
	buckets, err := store.DashResults(ctx, d.Store.Pool, "", 0)
	if err != nil {
		return nil, err
	}
	type pk struct {
		repo   string
		number int64
	}
	byPull := map[pk][]store.DashResult{}
	for _, b := range buckets {
		if f.groupMatch(b.GroupName) {
			k := pk{b.Repo, b.Number}
			byPull[k] = append(byPull[k], b)
		}
	}
	var out []pullResults
	for _, p := range pulls {
		if !f.textMatch(p) {
			continue
		}
		mine := byPull[pk{p.Repo, p.Number}]
		if len(f.groups) > 0 && len(mine) == 0 {
			continue
		}
		pr := pullResults{pull: p}
		for _, g := range groupResults(d.Config.OpenQA.URL, mine) {
			if g.AggregateID == 0 {
				pr.own = append(pr.own, g)
				pr.ownN.merge(g.Counts)
			} else {
				pr.aggregate = append(pr.aggregate, g)
				pr.aggregateN.merge(g.Counts)
			}
		}
		out = append(out, pr)
	}
	return out, nil
}

// lastChange is the "last updated" every view shows.
func lastChange(ctx context.Context, d Deps) *time.Time {
	t, err := store.DashLastJobChange(ctx, d.Store.Pool)
	if err != nil {
		d.Logger.WarnContext(ctx, "dashboard: last job change", "error", err)
		return nil
	}
	return t
}
