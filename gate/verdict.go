package gate

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/qemgate/qemgate/internal/text"
	"github.com/qemgate/qemgate/openqa"
)

// Verdict states.
const (
	VerdictPending = "pending"
	VerdictPassed  = "passed"
	VerdictFailed  = "failed"
	VerdictNoJobs  = "no-jobs"
)

// DefaultDevGroupPattern is qem-bot's development-group rule: a job group
// whose name contains Devel or Test does not gate anything.
const DefaultDevGroupPattern = "Devel|Test"

var defaultDevGroup = regexp.MustCompile(DefaultDevGroupPattern)

// JobStatus is how one openQA job counts, in the dashboard's words.
type JobStatus string

// Job statuses.
const (
	// JobPassed: passed or softfailed.
	JobPassed JobStatus = "passed"
	// JobWaiting: the job is not final yet (scheduled or executing).
	JobWaiting JobStatus = "waiting"
	// JobStopped: the job ended without a verdict of its own (incomplete,
	// timeout_exceeded, skipped, obsoleted, parallel_*, user_*).
	JobStopped JobStatus = "stopped"
	// JobFailed: failed, or any result we do not know.
	JobFailed JobStatus = "failed"
)

// ClassifyJob maps an openQA state and result to a JobStatus. The state
// decides first: a job that is not done or cancelled is waiting whatever its
// (provisional) result says.
func ClassifyJob(state, result string) JobStatus {
	switch {
	case !openqa.IsFinal(state):
		return JobWaiting
	case openqa.IsOK(result):
		return JobPassed
	case openqa.IsIncomplete(result), openqa.IsAborted(result):
		return JobStopped
	default:
		return JobFailed
	}
}

// RunKey names a planned test run (one openQA product) the way JobInput.RunKey
// and RunInput.Key spell it: distri/version/flavor/arch/build.
func RunKey(distri, version, flavor, arch, build string) string {
	return strings.Join([]string{distri, version, flavor, arch, build}, "/")
}

// Key is the run's RunKey.
func (r TestRun) Key() string { return RunKey(r.Distri, r.Version, r.Flavor, r.Arch, r.Build) }

// JobInput is one openQA job as the verdict sees it.
type JobInput struct {
	ID int64 `json:"id"`
	// RunKey is the planned run (RunKey) the job belongs to. It must be set:
	// a scheduled run with jobs but no known job keeps the verdict pending.
	RunKey string `json:"run_key"`
	// Scenario is the test name and machine (e.g. "mau-webserver@64bit");
	// within a run the highest job id of a scenario is the one that counts.
	Scenario  string `json:"scenario"`
	GroupID   int64  `json:"group_id,omitempty"`
	GroupName string `json:"group_name,omitempty"`
	// ParentGroupID and ParentGroupName identify the job group's parent
	// group; VerdictInput.DevParentGroups may name either.
	ParentGroupID   int64  `json:"parent_group_id,omitempty"`
	ParentGroupName string `json:"parent_group_name,omitempty"`
	// GroupContact is who answers for the group (ContactFromDescription).
	GroupContact string `json:"group_contact,omitempty"`
	State        string `json:"state"`
	Result       string `json:"result"`
	// CloneID is the job that replaced this one after a restart.
	CloneID int64 `json:"clone_id,omitempty"`
	// Obsolete: openQA no longer knows the job (404) or a newer schedule of
	// the same build obsoleted it.
	Obsolete bool `json:"obsolete,omitempty"`
	// Aggregate marks a job of an aggregate test run that included the PR.
	Aggregate bool   `json:"aggregate,omitempty"`
	URL       string `json:"url,omitempty"`
	// Accepted is the openQA comment that accepts the job for this PR
	// (AcceptanceFor, decided when the job's comments were read).
	Accepted *CommentAcceptance `json:"accepted,omitempty"`
	// OlderOK is qem-bot's "older eligible job was ok" rule, evaluated by the
	// caller from the scenario's history. It only counts for aggregate jobs.
	OlderOK bool `json:"older_ok,omitempty"`
}

// RunInput is one planned test run and what scheduling it gave.
type RunInput struct {
	// Key is the run's RunKey.
	Key       string `json:"key"`
	Scheduled bool   `json:"scheduled"`
	// JobCount is how many jobs openQA created for the run; len(JobIDs)
	// when JobIDs is set.
	JobCount int `json:"job_count"`
	// JobIDs are the jobs openQA created for the run (its isos answer).
	// Each must be among the verdict's jobs: one that was never read is
	// unknown, and an unknown job keeps the verdict pending.
	JobIDs []int64 `json:"job_ids,omitempty"`
	// Error is a permanent scheduling failure (e.g. openQA rejected the
	// product); a transient one belongs in a retry, not here.
	Error string `json:"error,omitempty"`
	// WithAggregate says approval also needs aggregate results.
	WithAggregate bool `json:"with_aggregate,omitempty"`
	// Aggregate marks an aggregate run that includes the PR; its jobs are
	// passed in VerdictInput.AggregateJobs.
	Aggregate bool `json:"aggregate,omitempty"`
}

// VerdictInput is everything VerdictFor decides from.
type VerdictInput struct {
	Pull Pull       `json:"pull"`
	Runs []RunInput `json:"runs"`
	Jobs []JobInput `json:"jobs"`
	// AggregateRequired asks for aggregate results even when no run says
	// WithAggregate.
	AggregateRequired bool `json:"aggregate_required,omitempty"`
	// AggregateJobs are the latest aggregate jobs that include this PR; they
	// are treated as Aggregate jobs whatever their flag says.
	AggregateJobs []JobInput `json:"aggregate_jobs,omitempty"`
	// DevGroupPattern matches development job group names; nil means
	// DefaultDevGroupPattern.
	DevGroupPattern *regexp.Regexp `json:"-"`
	// DevParentGroups are parent groups (id or name) whose groups are
	// development groups.
	DevParentGroups []string `json:"dev_parent_groups,omitempty"`
	// Build is the OBS build state at the head SHA; nil without OBS.
	Build *BuildStatus `json:"build,omitempty"`
}

// Verdict is the gate's answer for one PR at one head SHA.
type Verdict struct {
	State       string       `json:"state"`
	Reasons     []Reason     `json:"reasons"`
	Counts      Counts       `json:"counts"`
	Acceptances []Acceptance `json:"acceptances"`
}

// ReasonCode names the rule behind a Reason.
type ReasonCode string

// Reason codes. Blocking ones make a final verdict failed (or no-jobs);
// the others only keep it pending.
const (
	ReasonJobFailed        ReasonCode = "job_failed"
	ReasonJobStopped       ReasonCode = "job_stopped"
	ReasonRunError         ReasonCode = "run_error"
	ReasonNoJobs           ReasonCode = "no_jobs"
	ReasonRunUnscheduled   ReasonCode = "run_unscheduled"
	ReasonRunUnsynced      ReasonCode = "run_unsynced"
	ReasonJobUnknown       ReasonCode = "job_unknown"
	ReasonCloneUnsynced    ReasonCode = "clone_unsynced"
	ReasonAggregateMissing ReasonCode = "aggregate_missing"
	ReasonJobsRunning      ReasonCode = "jobs_running"
	// ReasonBuildFailed: OBS shows a failed package of the PR's build
	// (blocking); ReasonBuildWaiting: the build is not published yet, cannot
	// be read, or is of an older commit (pending).
	ReasonBuildFailed  ReasonCode = "build_failed"
	ReasonBuildWaiting ReasonCode = "build_waiting"
)

// Reason explains one thing that blocks or delays approval. Job reasons name
// the job, its group, its openQA link and the group's contact when known.
type Reason struct {
	Code     ReasonCode `json:"code"`
	Blocking bool       `json:"blocking"`
	JobID    int64      `json:"job_id,omitempty"`
	Scenario string     `json:"scenario,omitempty"`
	// RunKey names the run for run reasons and job reasons alike.
	RunKey    string `json:"run_key,omitempty"`
	Group     string `json:"group,omitempty"`
	Contact   string `json:"contact,omitempty"`
	URL       string `json:"url,omitempty"`
	Result    string `json:"result,omitempty"`
	Aggregate bool   `json:"aggregate,omitempty"`
	Message   string `json:"message"`
}

// Counts are over counted jobs only: the newest job of each scenario, outside
// development groups, not obsolete.
type Counts struct {
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	// Running counts jobs that are not final yet.
	Running  int `json:"running"`
	Stopped  int `json:"stopped"`
	Accepted int `json:"accepted"`
	Total    int `json:"total"`
}

// Acceptance rules.
const (
	AcceptedByComment  = "acceptable_for"
	AcceptedByOlderJob = "older_job_ok"
)

// Acceptance records why a not-ok job does not block the PR.
type Acceptance struct {
	JobID int64 `json:"job_id"`
	// Rule is AcceptedByComment or AcceptedByOlderJob.
	Rule string `json:"rule"`
	// CommentID and By name the openQA comment and its author (comment rule).
	CommentID int64  `json:"comment_id,omitempty"`
	Reason    string `json:"reason"`
	By        string `json:"by,omitempty"`
	Group     string `json:"group,omitempty"`
	URL       string `json:"url,omitempty"`
	Result    string `json:"result"`
	Scenario  string `json:"scenario,omitempty"`
}

// VerdictFor decides the verdict of a PR at its head SHA.
//
// Job rules: only the newest job of a scenario within a run counts (a job
// whose clone is known is superseded; one whose clone we have not seen yet
// keeps the verdict pending). Development-group jobs and obsolete jobs do not
// count. A counted job is acceptable when it passed or softfailed, when an
// openQA comment accepts it for the PR (JobInput.Accepted), or, for aggregate
// jobs only, when OlderOK holds.
//
// Stopped jobs (incomplete, skipped, parallel_failed, ...) block like failed
// ones unless accepted: qem-bot (§5) counts its "stopped" status as not ok,
// and an incomplete job has not shown that the update works.
//
// Every job a scheduled run created (RunInput.JobIDs) must be in the input:
// a planned job that was never read (unreadable, deleted before the first
// read, or simply not synced yet) is unknown, and unknown is never passed.
//
// State: pending while any run is unscheduled or unsynced, any planned job is
// unknown, any counted job or
// unknown clone is not final, or required aggregate results are missing;
// pending wins over failed, and blocking reasons found meanwhile are kept.
// Otherwise failed when a run failed to schedule or a counted job is not
// acceptable; no-jobs when the PR's own runs yielded no counted job; passed
// otherwise. Reasons are sorted blocking first, then by run, group, scenario
// and job id; acceptances by job id.
func VerdictFor(in VerdictInput) Verdict {
	e := evaluator{in: in, dev: in.DevGroupPattern}
	if e.dev == nil {
		e.dev = defaultDevGroup
	}
	e.build(in.Build)
	e.runs()
	e.jobs(in.Jobs, false)
	e.jobs(in.AggregateJobs, true)
	e.aggregates()
	return e.verdict()
}

// Waiting describes a PR at its head SHA that has no test runs yet.
type Waiting struct {
	HeadSHA string
	// Draft: the PR is a draft and drafts are not tested (repo skip_drafts).
	Draft bool
	// BuildReady: the build service said the head SHA is built.
	BuildReady bool
	// Build is the OBS build state at the head SHA; nil without OBS.
	Build *BuildStatus
}

// WaitingVerdict is the verdict of a PR without test runs at its head: it
// waits for being marked ready, for its build, or for its runs to be
// planned, and is never failed for it.
//
// With OBS, a failed build fails the verdict with reasons naming product,
// arch and packages (no test runs are planned for it), and a build that
// waits says what it waits for.
func WaitingVerdict(w Waiting) Verdict {
	if w.Build != nil && !w.Build.Ready() && !w.Draft {
		e := evaluator{}
		e.build(w.Build)
		v := Verdict{State: VerdictPending, Reasons: e.reasons, Acceptances: []Acceptance{}}
		if e.blocking {
			v.State = VerdictFailed
		}
		slices.SortFunc(v.Reasons, compareReasons)
		return v
	}
	var msg string
	switch {
	case w.Draft:
		msg = fmt.Sprintf("draft: %.12s is tested once the PR is marked ready for review", w.HeadSHA)
	case !w.BuildReady:
		msg = fmt.Sprintf("waiting for the build of %.12s", w.HeadSHA)
	default:
		msg = fmt.Sprintf("waiting for test runs of %.12s to be planned", w.HeadSHA)
	}
	return Verdict{State: VerdictPending, Reasons: []Reason{{Code: ReasonRunUnscheduled, Message: msg}},
		Acceptances: []Acceptance{}}
}

type evaluator struct {
	in  VerdictInput
	dev *regexp.Regexp
	// devNames memoises dev against group names.
	devNames map[string]bool
	reasons  []Reason
	accepts  []Acceptance
	counts   Counts
	// ownCounted counts the PR's own (non-aggregate) counted jobs.
	ownCounted int
	// known holds every run key that has at least one job, dev groups included.
	known map[string]bool
	// seen holds every job id in the input, dev groups and obsolete included.
	seen map[int64]bool
	// aggregateSeen tells whether any aggregate job exists at all.
	aggregateSeen bool
	pending       bool
	blocking      bool
}

func (e *evaluator) add(r Reason) {
	switch r.Code {
	case ReasonJobFailed, ReasonJobStopped, ReasonRunError, ReasonNoJobs, ReasonBuildFailed:
		r.Blocking = true
		e.blocking = e.blocking || r.Code != ReasonNoJobs
	default:
		e.pending = true
	}
	e.reasons = append(e.reasons, r)
}

// build records the OBS build state: a failure blocks, anything else that
// is not ready waits.
func (e *evaluator) build(b *BuildStatus) {
	if b == nil || b.Ready() {
		return
	}
	code := ReasonBuildWaiting
	if b.State == BuildFailed {
		code = ReasonBuildFailed
	}
	for _, msg := range b.Reasons {
		e.add(Reason{Code: code, Message: msg})
	}
	if len(b.Reasons) == 0 {
		e.add(Reason{Code: code, Message: "the build is " + b.State})
	}
}

// runs records scheduling errors and unscheduled runs; unsynced runs need the
// jobs and are checked in verdict.
func (e *evaluator) runs() {
	for _, r := range e.in.Runs {
		what := "test run"
		if r.Aggregate {
			what = "aggregate run"
		}
		switch {
		case r.Error != "":
			e.add(Reason{Code: ReasonRunError, RunKey: r.Key, Aggregate: r.Aggregate,
				Message: fmt.Sprintf("%s %s could not be scheduled: %s", what, r.Key, r.Error)})
		case !r.Scheduled:
			e.add(Reason{Code: ReasonRunUnscheduled, RunKey: r.Key, Aggregate: r.Aggregate,
				Message: fmt.Sprintf("%s %s is not scheduled yet", what, r.Key)})
		}
	}
}

// jobs evaluates one job list: it drops superseded, duplicate, development
// and obsolete jobs, then classifies and accepts the rest.
func (e *evaluator) jobs(list []JobInput, aggregate bool) {
	if e.known == nil {
		e.known = make(map[string]bool, len(e.in.Runs))
		e.seen = make(map[int64]bool, len(e.in.Jobs)+len(e.in.AggregateJobs))
	}
	ids := make(map[int64]struct{}, len(list))
	for i := range list {
		ids[list[i].ID] = struct{}{}
		e.seen[list[i].ID] = true
	}
	type scenarioKey struct {
		run, scenario string
		id            int64
	}
	newest := make(map[scenarioKey]int, len(list))
	for i := range list {
		j := &list[i]
		if aggregate || j.Aggregate {
			e.aggregateSeen = true
		}
		e.known[j.RunKey] = true
		if _, superseded := ids[j.CloneID]; j.CloneID != 0 && superseded {
			continue
		}
		k := scenarioKey{run: j.RunKey, scenario: j.Scenario}
		if j.Scenario == "" {
			// Without a scenario there is nothing to dedupe on.
			k.id = j.ID
		}
		if at, ok := newest[k]; !ok || list[at].ID < j.ID {
			newest[k] = i
		}
	}
	for _, i := range newest {
		j := list[i]
		j.Aggregate = j.Aggregate || aggregate
		if j.Obsolete || e.isDev(j) {
			continue
		}
		e.job(j)
	}
}

func (e *evaluator) isDev(j JobInput) bool {
	if j.GroupName != "" {
		// Thousands of jobs share a handful of groups; the regexp is the
		// slowest step of a verdict, so each name is matched once.
		dev, seen := e.devNames[j.GroupName]
		if !seen {
			if e.devNames == nil {
				e.devNames = map[string]bool{}
			}
			dev = e.dev.MatchString(j.GroupName)
			e.devNames[j.GroupName] = dev
		}
		if dev {
			return true
		}
	}
	for _, p := range e.in.DevParentGroups {
		if (j.ParentGroupID != 0 && p == strconv.FormatInt(j.ParentGroupID, 10)) || (j.ParentGroupName != "" && p == j.ParentGroupName) {
			return true
		}
	}
	return false
}

func (e *evaluator) job(j JobInput) {
	e.counts.Total++
	if !j.Aggregate {
		e.ownCounted++
	}
	reason := Reason{JobID: j.ID, Scenario: j.Scenario, RunKey: j.RunKey, Group: j.GroupName,
		Contact: j.GroupContact, URL: j.URL, Result: j.Result, Aggregate: j.Aggregate}
	if j.CloneID != 0 {
		// The restart exists in openQA but not in our input yet: its result,
		// not this one, will count.
		e.counts.Running++
		reason.Code = ReasonCloneUnsynced
		reason.Message = fmt.Sprintf("%s was restarted as job %d, whose result is not known yet", describe(j), j.CloneID)
		e.add(reason)
		return
	}
	status := ClassifyJob(j.State, j.Result)
	switch status {
	case JobPassed:
		e.counts.Passed++
		return
	case JobWaiting:
		e.counts.Running++
		e.pending = true
		return
	}
	if a, ok := e.accept(j); ok {
		e.counts.Accepted++
		e.accepts = append(e.accepts, a)
		return
	}
	reason.Code = ReasonJobFailed
	if status == JobStopped {
		e.counts.Stopped++
		reason.Code = ReasonJobStopped
	} else {
		e.counts.Failed++
	}
	reason.Message = fmt.Sprintf("%s %s", describe(j), resultWords(j.Result))
	e.add(reason)
}

// accept applies the acceptable_for comment, then (aggregates only) the
// older-job rule.
func (e *evaluator) accept(j JobInput) (Acceptance, bool) {
	a := Acceptance{JobID: j.ID, Group: j.GroupName, URL: j.URL, Result: j.Result, Scenario: j.Scenario}
	if c := j.Accepted; c != nil {
		a.Rule, a.CommentID, a.Reason, a.By = AcceptedByComment, c.CommentID, c.Reason, c.By
		return a, true
	}
	if j.Aggregate && j.OlderOK {
		a.Rule = AcceptedByOlderJob
		a.Reason = "an older job of the same scenario that included this PR was ok"
		return a, true
	}
	return Acceptance{}, false
}

func (e *evaluator) aggregates() {
	required := e.in.AggregateRequired || slices.ContainsFunc(e.in.Runs, func(r RunInput) bool { return r.WithAggregate })
	if required && !e.aggregateSeen {
		e.add(Reason{Code: ReasonAggregateMissing, Aggregate: true,
			Message: "required aggregate test results are missing (no aggregate including this PR has jobs yet)"})
	}
}

func (e *evaluator) verdict() Verdict {
	for _, r := range e.in.Runs {
		if !r.Scheduled || r.Error != "" {
			continue
		}
		if len(r.JobIDs) == 0 {
			if r.JobCount > 0 && !e.known[r.Key] {
				e.add(Reason{Code: ReasonRunUnsynced, RunKey: r.Key, Aggregate: r.Aggregate,
					Message: fmt.Sprintf("the jobs of %s are not known yet (openQA created %d)", r.Key, r.JobCount)})
			}
			continue
		}
		var missing []int64
		for _, id := range r.JobIDs {
			if !e.seen[id] {
				missing = append(missing, id)
			}
		}
		switch {
		case len(missing) == 0:
		case len(missing) == len(r.JobIDs):
			e.add(Reason{Code: ReasonRunUnsynced, RunKey: r.Key, Aggregate: r.Aggregate,
				Message: fmt.Sprintf("the jobs of %s are not known yet (openQA created %s)", r.Key, jobList(missing))})
		default:
			e.add(Reason{Code: ReasonJobUnknown, RunKey: r.Key, Aggregate: r.Aggregate,
				Message: fmt.Sprintf("%s of %s not read yet (%d of %d jobs known)", jobList(missing), r.Key,
					len(r.JobIDs)-len(missing), len(r.JobIDs))})
		}
	}
	if e.counts.Running > 0 {
		e.add(Reason{Code: ReasonJobsRunning,
			Message: fmt.Sprintf("%d of %d openQA jobs still running", e.counts.Running, e.counts.Total)})
	}
	v := Verdict{Counts: e.counts, Acceptances: e.accepts}
	switch {
	case e.pending:
		v.State = VerdictPending
	case e.blocking:
		v.State = VerdictFailed
	case e.ownCounted == 0:
		v.State = VerdictNoJobs
		e.add(Reason{Code: ReasonNoJobs, Message: e.noJobsMessage()})
	default:
		v.State = VerdictPassed
	}
	slices.SortFunc(e.reasons, compareReasons)
	slices.SortFunc(e.accepts, func(a, b Acceptance) int { return cmp.Compare(a.JobID, b.JobID) })
	v.Reasons, v.Acceptances = e.reasons, e.accepts
	if v.Reasons == nil {
		v.Reasons = []Reason{}
	}
	if v.Acceptances == nil {
		v.Acceptances = []Acceptance{}
	}
	return v
}

func (e *evaluator) noJobsMessage() string {
	switch {
	case len(e.in.Runs) == 0:
		return "no test runs are planned for this PR"
	case len(e.in.Jobs) == 0:
		return "openQA created no jobs for the scheduled test runs (job template mismatch?)"
	default:
		return "no openQA job counts: every job is in a development group, obsolete or superseded"
	}
}

// jobList names jobs for a reason: "job 12", "jobs 12, 13 and 4 more".
func jobList(ids []int64) string {
	const shown = 5
	parts := make([]string, 0, min(len(ids), shown))
	for _, id := range ids[:min(len(ids), shown)] {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	s := strings.Join(parts, ", ")
	if len(ids) > shown {
		s += fmt.Sprintf(" and %d more", len(ids)-shown)
	}
	if len(ids) == 1 {
		return "job " + s
	}
	return "jobs " + s
}

func compareReasons(a, b Reason) int {
	if a.Blocking != b.Blocking {
		if a.Blocking {
			return -1
		}
		return 1
	}
	return cmp.Or(
		cmp.Compare(a.Code, b.Code),
		compareBool(a.Aggregate, b.Aggregate),
		cmp.Compare(a.Group, b.Group),
		cmp.Compare(a.RunKey, b.RunKey),
		cmp.Compare(a.Scenario, b.Scenario),
		cmp.Compare(a.JobID, b.JobID),
		cmp.Compare(a.Message, b.Message),
	)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}

// describe names a job for humans: "job 123 (scenario, group G)".
func describe(j JobInput) string {
	var b strings.Builder
	if j.Aggregate {
		b.WriteString("aggregate ")
	}
	fmt.Fprintf(&b, "job %d", j.ID)
	var parts []string
	if j.Scenario != "" {
		parts = append(parts, j.Scenario)
	}
	if j.GroupName != "" {
		parts = append(parts, "group "+j.GroupName)
	}
	if len(parts) > 0 {
		b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
	return b.String()
}

func resultWords(result string) string {
	switch {
	case result == openqa.ResultFailed:
		return "failed"
	case result == "" || result == openqa.ResultNone:
		return "ended without a result"
	default:
		return "ended " + result
	}
}

// contactKeys are the labels a group description may give its owner under,
// best first: qem-bot reads Responsible/Team/Maintainer lines, and squads
// also write Contact, Owner and Squad.
var contactKeys = []string{"responsible", "maintainer", "contact", "owner", "team", "squad"}

var (
	// A label line: the key, up to 30 more characters without a colon
	// ("Responsible squad", "Maintained by"), a colon, the value.
	contactLine  = regexp.MustCompile(`(?i)^(responsible|maintain\w*|contact\w*|owne[rd]\w*|team|squad)\b[^:]{0,30}:(.*)$`)
	markdownLink = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]*)[^)]*\)`)
	emailAddress = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)
	mention      = regexp.MustCompile(`(?:^|[\s(\[,;])(@[A-Za-z0-9][\w.-]*[A-Za-z0-9_])(?:$|[\s)\],;.!?])`)
)

// maxContactRunes bounds a contact taken from free text, so a runaway line
// cannot flood a status table.
const maxContactRunes = 120

// ContactFromDescription extracts who answers for an openQA job group from
// its markdown description. The rule, most specific first:
//
//  1. A line labelled Responsible, Maintainer/Maintained by, Contact, Owner/
//     Owned by, Team or Squad (case-insensitive; list, quote and heading
//     markers and bold are ignored; up to 30 characters may sit between the
//     label and its colon, as in "Responsible squad:"). The value is the rest
//     of the line, or the next non-empty line when the label stands alone;
//     markdown links become their text (mailto links their address). Labels
//     rank in the order above; the first line of the best label wins.
//  2. Otherwise the first email address.
//  3. Otherwise the first @mention (a user or squad handle).
//
// It returns "" when the description names nobody.
func ContactFromDescription(desc string) string {
	lines := strings.Split(strings.ReplaceAll(desc, "\r\n", "\n"), "\n")
	best, bestRank := "", len(contactKeys)
	for i, line := range lines {
		m := contactLine.FindStringSubmatch(cleanLine(line))
		if m == nil {
			continue
		}
		rank := slices.IndexFunc(contactKeys, func(k string) bool { return strings.HasPrefix(strings.ToLower(m[1]), k[:4]) })
		if rank < 0 || rank >= bestRank {
			continue
		}
		value := contactValue(m[2])
		if value == "" {
			for _, next := range lines[i+1:] {
				if next = cleanLine(next); next != "" {
					if contactLine.MatchString(next) {
						break
					}
					value = contactValue(next)
					break
				}
			}
		}
		if value != "" {
			best, bestRank = value, rank
		}
	}
	if best != "" {
		return best
	}
	text := markdownLink.ReplaceAllString(desc, "$1 $2")
	if e := emailAddress.FindString(text); e != "" {
		return e
	}
	if m := mention.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

// cleanLine drops markdown decoration around a line: list, quote and heading
// markers, and emphasis.
func cleanLine(line string) string {
	line = strings.NewReplacer("**", "", "__", "").Replace(line)
	return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "-*+>#| "))
}

func contactValue(v string) string {
	v = markdownLink.ReplaceAllStringFunc(v, func(s string) string {
		m := markdownLink.FindStringSubmatch(s)
		if strings.HasPrefix(m[2], "mailto:") {
			return strings.TrimPrefix(m[2], "mailto:")
		}
		if strings.TrimSpace(m[1]) == "" {
			return m[2]
		}
		return m[1]
	})
	v = strings.Join(strings.Fields(v), " ")
	v = strings.Trim(v, "*_`|.,; ")
	return text.Runes(v, maxContactRunes)
}
