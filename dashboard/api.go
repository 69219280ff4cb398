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
// by stage, priority (highest first), repo and number.
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
			cmp.Compare(b.Priority, a.Priority), strings.Compare(a.Repo, b.Repo), cmp.Compare(a.Number, b.Number))
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
}

// blocked reports whether an open PR waits on tests: ours to gate (or judged
// at its head) and not approved at its head.
func blocked(p store.Pull) bool {
	if stageOf(p) == stageApproved {
		return false
	}
	return p.Gated || (p.Verdict != "" && p.VerdictSHA == p.HeadSHA)
}

// blockedPulls is the blocked view, by priority (highest first), repo and
// number; buttons whose state f does not ask for are hidden, rows never are.
func blockedPulls(ctx context.Context, d Deps, f dashFilter) ([]blockedRow, error) {
	list, err := loadPullResults(ctx, d, f)
	if err != nil {
		return nil, err
	}
	out := []blockedRow{}
	for _, pr := range list {
		if !blocked(pr.pull) {
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
		out = append(out, row)
	}
	slices.SortStableFunc(out, func(a, b blockedRow) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), strings.Compare(a.Repo, b.Repo), cmp.Compare(a.Number, b.Number))
	})
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
	Pull             pullView              `json:"pull"`
	Verdict          verdictView           `json:"verdict"`
	Runs             []store.TestRun       `json:"runs"`
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
	if out.Runs, err = store.RunsOfPull(ctx, db, repo, number, ""); err != nil {
		return nil, err
	}
	slices.Reverse(out.Runs) // newest first
	var headRuns []int64
	for _, r := range out.Runs {
		if r.SHA == p.HeadSHA && r.State != store.RunSuperseded {
			headRuns = append(headRuns, r.ID)
		}
	}
	jobs, err := store.JobsOfRuns(ctx, db, headRuns)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	if out.Acceptances, err = store.AcceptancesOfPull(ctx, db, repo, number, ids); err != nil {
		return nil, err
	}
	accepted := map[int64]bool{}
	for _, a := range out.Acceptances {
		accepted[a.JobID] = true
	}
	out.Jobs = make([]jobView, 0, len(jobs))
	for _, j := range jobs {
		v := jobView{OpenQAJob: j, Status: string(gate.ClassifyJob(j.State, j.Result)), Counted: j.CloneID == 0 && !j.Obsolete,
			Accepted: accepted[j.ID], URL: strings.TrimSuffix(d.Config.OpenQA.URL, "/") + "/tests/" + strconv.FormatInt(j.ID, 10)}
		out.Jobs = append(out.Jobs, v)
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
	if out.Deliveries, err = store.ListDeliveries(ctx, db, store.DeliveryFilter{Repo: repo, Number: number, Limit: 20}); err != nil {
		return nil, err
	}
	out.Acceptances, out.Reports = nonnil.Slice(out.Acceptances), nonnil.Slice(out.Reports)
	out.Deliveries, out.Runs = nonnil.Slice(out.Deliveries), nonnil.Slice(out.Runs)
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
	noun              string
}

var (
	activeList = dashList[pullView]{states: stageOrder, defStates: stageOrder, perPage: 50, load: activePulls,
		legend: "Stages", label: stageLabel, noun: "pull requests"}
	blockedList = dashList[blockedRow]{states: resultStates, defStates: defaultResultStates, perPage: 100, load: blockedPulls,
		legend: "Show results", label: plainLabel, noun: "pull requests"}
	aggregatesList = dashList[aggregateView]{states: resultStates, defStates: resultStates, perPage: 50, load: aggregateList,
		legend: "Show results", label: plainLabel, noun: "aggregates"}
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
