package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/httpx"
	"github.com/qemgate/qemgate/internal/nonnil"
	"github.com/qemgate/qemgate/store"
)

// listMeta is the paging of every dashboard list answer.
type listMeta struct {
	Total         int        `json:"total"`
	Page          int        `json:"page"`
	PerPage       int        `json:"per_page"`
	LastJobChange *time.Time `json:"last_job_change"`
}

func newListMeta(ctx context.Context, d Deps, f dashFilter, total int) listMeta {
	return listMeta{Total: total, Page: f.Page, PerPage: f.PerPage, LastJobChange: lastChange(ctx, d)}
}

// activePulls is the active view: every open PR in the stages f asks for,
// by stage, emergencies first, priority (highest first), repo and number.
func activePulls(ctx context.Context, d Deps, f dashFilter) ([]pullView, error) {
	list, err := loadPullResults(ctx, d, f)
	if err != nil {
		return nil, err
	}
	out := []pullView{}
	for _, pr := range list {
		v := newPullView(d.Config, pr.pull)
		if !slices.Contains(f.States, v.Stage) {
			continue
		}
		v.Counts, v.AggregateCounts = pr.ownN, pr.aggregateN
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(a, b pullView) int {
		return cmp.Or(cmp.Compare(slices.Index(stageOrder, a.Stage), slices.Index(stageOrder, b.Stage)),
			cmp.Compare(boolRank(b.Emergency), boolRank(a.Emergency)), cmp.Compare(b.Priority, a.Priority),
			strings.Compare(a.Repo, b.Repo), cmp.Compare(a.Number, b.Number))
	})
	return out, nil
}

// blockedRow is one PR on /blocked with the result buttons the filter keeps.
type blockedRow struct {
	pullView
	Results          []groupResult `json:"results"`
	AggregateResults []groupResult `json:"aggregate_results"`
	// HiddenResults counts buttons hidden by the states filter.
	HiddenResults int `json:"hidden_results"`
	// hiddenOwn and hiddenAggregate split HiddenResults by column.
	hiddenOwn, hiddenAggregate int
	// NoResults: the PR has no counted job in any (matching) group yet.
	NoResults bool `json:"no_results"`
	// FailingTests are the failed and stopped jobs (in the matching groups)
	// that no acceptance covers, at most maxFailingTests of them; their
	// number is FailingTotal.
	FailingTests []failingTest `json:"failing_tests"`
	FailingTotal int           `json:"failing_total"`
}

// maxFailingTests bounds the tests one row of /blocked names.
const maxFailingTests = 5

// MoreFailing is how many failing tests the row does not name.
func (r blockedRow) MoreFailing() int { return r.FailingTotal - len(r.FailingTests) }

// failingTest is one job that blocks a PR: what a squad needs to see
// without clicking.
type failingTest struct {
	JobID  int64  `json:"job_id"`
	Name   string `json:"name"`
	Arch   string `json:"arch"`
	Status string `json:"status"`
	Result string `json:"result"`
	Group  string `json:"group"`
	// Contact is who answers for the job group, when openQA's group
	// description names someone.
	Contact string `json:"contact,omitempty"`
	// Aggregate names the aggregate ("SLES x86_64") for a job of one.
	Aggregate string `json:"aggregate,omitempty"`
	URL       string `json:"url"`
}

// failingTests picks the jobs of one PR that block it: failed or stopped,
// in a group f matches, not accepted for the PR.
func failingTests(openqaURL string, jobs []store.DashJob, f dashFilter) []failingTest {
	out := []failingTest{}
	for _, j := range jobs {
		st := gate.ClassifyJob(j.State, j.Result)
		if j.Accepted || (st != gate.JobFailed && st != gate.JobStopped) || !f.groupMatch(j.GroupName) {
			continue
		}
		t := failingTest{JobID: j.ID, Name: j.Name, Arch: j.Arch, Status: string(st), Result: j.Result,
			Group: nick(j.GroupName), Contact: j.Contact, URL: jobURL(openqaURL, j.ID)}
		if j.AggregateID != 0 {
			t.Aggregate = strings.TrimSpace(j.Product + " " + j.AggregateArch)
		}
		out = append(out, t)
	}
	return out
}

func jobURL(openqaURL string, id int64) string {
	return strings.TrimSuffix(openqaURL, "/") + "/tests/" + strconv.FormatInt(id, 10)
}

// blocked reports whether an open PR waits on tests: ours to gate (or judged
// at its head) and not approved at its head.
func blocked(p store.Pull) bool {
	if stageOf(p) == stageApproved {
		return false
	}
	return p.Gated || (p.Verdict != "" && p.VerdictSHA == p.HeadSHA)
}

// blockedBy reports whether a PR is blocked by the groups a filter selects:
// one of their buttons is not all passed. Without a group filter every
// blocked PR is shown, with or without results.
func blockedBy(f dashFilter, pr pullResults) bool {
	if len(f.groups) == 0 {
		return true
	}
	return slices.ContainsFunc(append(slices.Clone(pr.own), pr.aggregate...), func(g groupResult) bool {
		return g.Status != string(gate.JobPassed)
	})
}

// urgency orders PRs as a squad works them: emergencies first, then the
// highest priority, then the oldest (first seen longest ago), then by repo
// and number.
func urgency(a, b store.Pull) int {
	return cmp.Or(cmp.Compare(boolRank(b.Emergency), boolRank(a.Emergency)), cmp.Compare(b.Priority, a.Priority),
		a.FirstSeenAt.Compare(b.FirstSeenAt), strings.Compare(a.Repo, b.Repo), cmp.Compare(a.Number, b.Number))
}

// blockedPulls is the blocked view: PRs waiting on tests (with a group
// filter, only those the selected groups block), in urgency order; buttons
// whose state f does not ask for are hidden, rows never are.
func blockedPulls(ctx context.Context, d Deps, f dashFilter) ([]blockedRow, error) {
	list, err := loadPullResults(ctx, d, f)
	if err != nil {
		return nil, err
	}
	jobs, err := store.DashJobsNotPassed(ctx, d.Store.Pool, "", 0)
	if err != nil {
		return nil, err
	}
	type pk struct {
		repo   string
		number int64
	}
	jobsOf := map[pk][]store.DashJob{}
	for _, j := range jobs {
		jobsOf[pk{j.Repo, j.Number}] = append(jobsOf[pk{j.Repo, j.Number}], j)
	}
	slices.SortStableFunc(list, func(a, b pullResults) int { return urgency(a.pull, b.pull) })
	out := []blockedRow{}
	for _, pr := range list {
		if !blocked(pr.pull) || !blockedBy(f, pr) {
			continue
		}
		row := blockedRow{pullView: newPullView(d.Config, pr.pull), Results: []groupResult{}, AggregateResults: []groupResult{},
			NoResults: len(pr.own)+len(pr.aggregate) == 0}
		row.Counts, row.AggregateCounts = pr.ownN, pr.aggregateN
		keep := func(dst *[]groupResult, hidden *int, src []groupResult) {
			for _, g := range src {
				if slices.Contains(f.States, g.Status) {
					*dst = append(*dst, g)
				} else {
					*hidden++
				}
			}
		}
		keep(&row.Results, &row.hiddenOwn, pr.own)
		keep(&row.AggregateResults, &row.hiddenAggregate, pr.aggregate)
		row.HiddenResults = row.hiddenOwn + row.hiddenAggregate
		failing := failingTests(d.Config.OpenQA.URL, jobsOf[pk{pr.pull.Repo, pr.pull.Number}], f)
		row.FailingTotal, row.FailingTests = len(failing), failing[:min(len(failing), maxFailingTests)]
		out = append(out, row)
	}
	return out, nil
}

// aggregateView is one aggregate build with its members and results.
type aggregateView struct {
	store.DashAggregate
	Counts  jobCounts     `json:"counts"`
	Results []groupResult `json:"results"`
}

// aggregateList is the newest f.Builds aggregates of every product and arch,
// narrowed to those with a member matching q and results in matching groups;
// Counts cover the matching groups, Results only the states f asks for.
func aggregateList(ctx context.Context, d Deps, f dashFilter) ([]aggregateView, error) {
	aggs, err := store.DashLatestAggregates(ctx, d.Store.Pool, f.Builds)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(aggs))
	for i, a := range aggs {
		ids[i] = a.ID
	}
	buckets, err := store.DashAggregateResults(ctx, d.Store.Pool, ids)
	if err != nil {
		return nil, err
	}
	byAgg := map[int64][]store.DashResult{}
	for _, b := range buckets {
		if f.groupMatch(b.GroupName) {
			byAgg[b.AggregateID] = append(byAgg[b.AggregateID], b)
		}
	}
	out := []aggregateView{}
	for _, a := range aggs {
		if f.Query != "" && !slices.ContainsFunc(a.Members, func(m store.DashMember) bool {
			return f.textMatch(store.Pull{Number: m.Number, Packages: m.Packages})
		}) {
			continue
		}
		mine := byAgg[a.ID]
		if len(f.groups) > 0 && len(mine) == 0 {
			continue
		}
		v := aggregateView{DashAggregate: a, Results: []groupResult{}}
		for _, g := range groupResults(d.Config.OpenQA.URL, mine) {
			v.Counts.merge(g.Counts)
			if slices.Contains(f.States, g.Status) {
				v.Results = append(v.Results, g)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// verdictView is the stored verdict of a PR with the gate's detail.
type verdictView struct {
	State  string          `json:"state"`
	SHA    string          `json:"sha"`
	Reason string          `json:"reason"`
	At     *time.Time      `json:"at"`
	Detail json.RawMessage `json:"detail"`
	// Current: the verdict is for the PR's head SHA.
	Current bool `json:"current"`
	// parsed is Detail decoded, for the page.
	parsed *gate.Verdict
}

// jobView is one openQA job of the PR's runs at its head.
type jobView struct {
	store.OpenQAJob
	Status string `json:"status"`
	// Counted: the newest of its clone chain and not obsolete.
	Counted  bool   `json:"counted"`
	Accepted bool   `json:"accepted"`
	URL      string `json:"url"`
}

// pullDetail is everything /pulls/{owner}/{repo}/{number} shows.
type pullDetail struct {
	Pull    pullView    `json:"pull"`
	Verdict verdictView `json:"verdict"`
	// Gating says whether the PR is ours to gate, and why not (gatingText).
	Gating string `json:"gating"`
	// OBS is what OBS showed about its staging projects (null: never read
	// or OBS not configured); SMELTURL its page on SMELT when configured.
	OBS              *obsView              `json:"obs"`
	SMELTURL         string                `json:"smelt_url,omitempty"`
	Runs             []runView             `json:"runs"`
	Jobs             []jobView             `json:"jobs"`
	Acceptances      []store.JobAcceptance `json:"acceptances"`
	Results          []groupResult         `json:"results"`
	AggregateResults []groupResult         `json:"aggregate_results"`
	Aggregates       []store.DashAggregate `json:"aggregates"`
	Reports          []store.Report        `json:"reports"`
	Deliveries       []store.Delivery      `json:"deliveries"`
	LastJobChange    *time.Time            `json:"last_job_change"`
}

var jobStatusOrder = []string{string(gate.JobFailed), string(gate.JobStopped), string(gate.JobWaiting), string(gate.JobPassed)}

// loadPullDetail reads one PR, open or not; store.ErrNotFound when unknown.
func loadPullDetail(ctx context.Context, d Deps, repo string, number int64) (*pullDetail, error) {
	db := d.Store.Pool
	p, err := store.GetPull(ctx, db, repo, number)
	if err != nil {
		return nil, err
	}
	out := &pullDetail{Pull: newPullView(d.Config, *p), LastJobChange: lastChange(ctx, d),
		Verdict: verdictView{State: p.Verdict, SHA: p.VerdictSHA, Reason: p.VerdictReason, At: p.VerdictAt,
			Detail: json.RawMessage(p.VerdictDetail), Current: p.VerdictSHA != "" && p.VerdictSHA == p.HeadSHA}}
	if len(p.VerdictDetail) > 0 {
		var v gate.Verdict
		if err := json.Unmarshal(p.VerdictDetail, &v); err == nil {
			out.Verdict.parsed = &v
		}
	} else {
		out.Verdict.Detail = json.RawMessage("null")
	}
	runs, err := store.RunsOfPull(ctx, db, repo, number, "")
	if err != nil {
		return nil, err
	}
	slices.Reverse(runs) // newest first
	runIDs := make([]int64, len(runs))
	headRun := map[int64]bool{}
	for i, r := range runs {
		runIDs[i] = r.ID
		headRun[r.ID] = r.SHA == p.HeadSHA && r.State != store.RunSuperseded
	}
	allJobs, err := store.JobsOfRuns(ctx, db, runIDs)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(allJobs))
	for i, j := range allJobs {
		ids[i] = j.ID
	}
	if out.Acceptances, err = store.AcceptancesOfPull(ctx, db, repo, number, ids); err != nil {
		return nil, err
	}
	accepted := map[int64]bool{}
	for _, a := range out.Acceptances {
		accepted[a.JobID] = true
	}
	jobsOfRun := map[int64][]store.OpenQAJob{}
	out.Jobs = []jobView{}
	for _, j := range allJobs {
		jobsOfRun[j.TestRunID] = append(jobsOfRun[j.TestRunID], j)
		if !headRun[j.TestRunID] {
			continue
		}
		v := jobView{OpenQAJob: j, Status: string(gate.ClassifyJob(j.State, j.Result)), Counted: j.CloneID == 0 && !j.Obsolete,
			Accepted: accepted[j.ID], URL: jobURL(d.Config.OpenQA.URL, j.ID)}
		out.Jobs = append(out.Jobs, v)
	}
	out.Runs = make([]runView, len(runs))
	for i, r := range runs {
		out.Runs[i] = runOutcome(r, jobsOfRun[r.ID], accepted)
	}
	// The jobs that need a look come first.
	slices.SortStableFunc(out.Jobs, func(a, b jobView) int {
		return cmp.Or(cmp.Compare(boolRank(!a.Counted), boolRank(!b.Counted)), cmp.Compare(slices.Index(jobStatusOrder, a.Status), slices.Index(jobStatusOrder, b.Status)),
			strings.Compare(a.GroupName, b.GroupName), strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	buckets, err := store.DashResults(ctx, db, repo, number)
	if err != nil {
		return nil, err
	}
	out.Results, out.AggregateResults = []groupResult{}, []groupResult{}
	for _, g := range groupResults(d.Config.OpenQA.URL, buckets) {
		if g.AggregateID == 0 {
			out.Results = append(out.Results, g)
			out.Pull.Counts.merge(g.Counts)
		} else {
			out.AggregateResults = append(out.AggregateResults, g)
			out.Pull.AggregateCounts.merge(g.Counts)
		}
	}
	if out.Aggregates, err = store.DashAggregatesOfPull(ctx, db, repo, number, 10); err != nil {
		return nil, err
	}
	if out.Reports, err = store.ReportsOfPull(ctx, db, repo, number); err != nil {
		return nil, err
	}
	out.Gating = gatingText(*p, out.Reports)
	out.OBS, out.SMELTURL = newOBSView(d.Config, *p), smeltURL(d.Config, *p)
	if out.Deliveries, err = store.ListDeliveries(ctx, db, store.DeliveryFilter{Repo: repo, Number: number, Limit: 20}); err != nil {
		return nil, err
	}
	out.Acceptances, out.Reports = nonnil.Slice(out.Acceptances), nonnil.Slice(out.Reports)
	out.Deliveries = nonnil.Slice(out.Deliveries)
	return out, nil
}

// pullParams reads {owner}/{repo}/{number}.
func pullParams(r *http.Request) (repo string, number int64, err error) {
	repo = chi.URLParam(r, "owner") + "/" + chi.URLParam(r, "repo")
	if msg := httpx.CheckText("repository", repo); msg != "" {
		return repo, 0, badRequest{msg}
	}
	number, err = strconv.ParseInt(chi.URLParam(r, "number"), 10, 64)
	if err != nil || number <= 0 {
		return repo, 0, badRequest{"number: must be a positive whole number"}
	}
	return repo, number, nil
}

// dashError answers a failed dashboard read: 400 for a bad filter, 404 for
// an unknown PR, 503 when the database could not answer.
func dashError(w http.ResponseWriter, r *http.Request, d Deps, err error) {
	var bad badRequest
	switch {
	case errors.As(err, &bad):
		httpx.WriteError(w, r, http.StatusBadRequest, bad.msg, "")
	case errors.Is(err, store.ErrNotFound):
		httpx.WriteError(w, r, http.StatusNotFound, "no such pull request", "")
	default:
		d.Logger.ErrorContext(r.Context(), "dashboard read", "path", r.URL.Path, "error", err)
		httpx.WriteError(w, r, http.StatusServiceUnavailable, "could not read the dashboard data", "")
	}
}

// dashList is one list of the dashboard, served as JSON and as a page: the
// states its filter takes and those it shows unless asked, its page size,
// how it loads, and how its page names the states and the items.
type dashList[T any] struct {
	states, defStates []string
	perPage           int
	load              func(context.Context, Deps, dashFilter) ([]T, error)
	legend            string
	label             func(string) string
	// noun names one item, nouns more than one.
	noun, nouns string
}

var (
	activeList = dashList[pullView]{states: stageOrder, defStates: stageOrder, perPage: 50, load: activePulls,
		legend: "Stages", label: stageLabel, noun: "pull request", nouns: "pull requests"}
	blockedList = dashList[blockedRow]{states: resultStates, defStates: defaultResultStates, perPage: 100, load: blockedPulls,
		legend: "Show results", label: plainLabel, noun: "pull request", nouns: "pull requests"}
	aggregatesList = dashList[aggregateView]{states: resultStates, defStates: resultStates, perPage: 50, load: aggregateList,
		legend: "Show results", label: plainLabel, noun: "aggregate", nouns: "aggregates"}
)

func plainLabel(s string) string { return s }

func (l dashList[T]) filter(r *http.Request) (dashFilter, error) {
	return parseDashFilter(r.URL.Query(), l.states, l.defStates, l.perPage)
}

// read is the list r asks for, with its filter; a bad filter or a failed
// read has been answered when ok is false.
func (l dashList[T]) read(w http.ResponseWriter, r *http.Request, d Deps) (items []T, f dashFilter, ok bool) {
	f, err := l.filter(r)
	if err == nil {
		items, err = l.load(r.Context(), d, f)
	}
	if err != nil {
		dashError(w, r, d, err)
		return nil, f, false
	}
	return items, f, true
}

// HandleAPIPulls answers GET /api/v1/pulls: the active view.
func HandleAPIPulls(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		list, f, ok := activeList.read(w, r, d)
		if !ok {
			return
		}
		httpx.WriteJSON(w, http.StatusOK, struct {
			Pulls []pullView `json:"pulls"`
			listMeta
		}{page(list, f), newListMeta(r.Context(), d, f, len(list))})
	}
}

// HandleAPIBlocked answers GET /api/v1/blocked: the PRs waiting on tests.
func HandleAPIBlocked(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		list, f, ok := blockedList.read(w, r, d)
		if !ok {
			return
		}
		httpx.WriteJSON(w, http.StatusOK, struct {
			Blocked []blockedRow `json:"blocked"`
			States  []string     `json:"states"`
			listMeta
		}{page(list, f), f.States, newListMeta(r.Context(), d, f, len(list))})
	}
}

// HandleAPIAggregates answers GET /api/v1/aggregates.
func HandleAPIAggregates(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		list, f, ok := aggregatesList.read(w, r, d)
		if !ok {
			return
		}
		httpx.WriteJSON(w, http.StatusOK, struct {
			Aggregates []aggregateView `json:"aggregates"`
			listMeta
		}{page(list, f), newListMeta(r.Context(), d, f, len(list))})
	}
}

// HandleAPIPull answers GET /api/v1/pulls/{owner}/{repo}/{number}.
func HandleAPIPull(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		repo, number, err := pullParams(r)
		if err != nil {
			dashError(w, r, d, err)
			return
		}
		detail, err := loadPullDetail(r.Context(), d, repo, number)
		if err != nil {
			dashError(w, r, d, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, detail)
	}
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// HiddenOwn is how many own-run buttons the states filter hides.
func (r blockedRow) HiddenOwn() int { return r.hiddenOwn }

// HiddenAggregate is how many aggregate buttons the states filter hides.
func (r blockedRow) HiddenAggregate() int { return r.hiddenAggregate }
