package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/store"
)

// EvaluateWorker computes a PR's verdict at its head SHA from what is stored
// (runs, openQA jobs, acceptances), keeps it on the PR, and asks for a
// report while the PR is ours to gate.
type EvaluateWorker struct {
	river.WorkerDefaults[EvaluateArgs]
	deps Deps
}

// Work evaluates the PR.
func (w *EvaluateWorker) Work(ctx context.Context, job *river.Job[EvaluateArgs]) error {
	return finishDebounced(ctx, w.deps, job, w.work(ctx, job))
}

func (w *EvaluateWorker) work(ctx context.Context, job *river.Job[EvaluateArgs]) error {
	a := job.Args
	p, err := store.GetPull(ctx, w.deps.Store.Pool, a.Repo, a.Number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.State != "open" {
		return nil // merged or closed: nothing to decide, nothing to say
	}
	runs, err := store.RunsOfPull(ctx, w.deps.Store.Pool, p.Repo, p.Number, p.HeadSHA)
	if err != nil {
		return err
	}
	runs = currentRuns(runs)
	if !p.Gated && len(runs) == 0 {
		return nil
	}
	v, err := w.verdict(ctx, p, runs)
	if err != nil {
		return fmt.Errorf("evaluate %s: %w", p.Ref(), err)
	}
	detail, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.deps.Metrics.Verdicts.WithLabelValues(v.State).Inc()
	client := river.ClientFromContext[pgx.Tx](ctx)
	return w.deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		changed, err := store.SetVerdict(ctx, tx, p.Repo, p.Number, p.HeadSHA, v.State, verdictReason(v), detail)
		if err != nil {
			return err
		}
		if job.AttemptedAt != nil {
			if err := store.MarkEvaluated(ctx, tx, p.Repo, p.Number, p.HeadSHA, *job.AttemptedAt); err != nil {
				return err
			}
		}
		if changed {
			w.deps.Logger.InfoContext(ctx, "verdict", "pull", p.Ref(), "verdict", v.State, "reason", verdictReason(v),
				"passed", v.Counts.Passed, "failed", v.Counts.Failed, "running", v.Counts.Running, "accepted", v.Counts.Accepted)
		}
		if !p.Gated {
			return nil // not ours to gate: the verdict is only shown
		}
		// Reported even when unchanged: the PR may have become ours since
		// the verdict was stored, and the report writes nothing twice. A
		// report of this SHA that is running now runs again when it ends.
		if _, err := InsertDebounced(ctx, client, tx, ReportArgs{Repo: p.Repo, Number: p.Number, SHA: p.HeadSHA}); err != nil {
			return fmt.Errorf("enqueue report of %s: %w", p.Ref(), err)
		}
		return nil
	})
}

// currentRuns drops runs a push superseded.
func currentRuns(runs []store.TestRun) []store.TestRun {
	out := runs[:0:0]
	for _, r := range runs {
		if r.State != store.RunSuperseded {
			out = append(out, r)
		}
	}
	return out
}

// verdict gathers the inputs of gate.VerdictFor; a PR without runs at its
// head waits for the build or for planning, and is never failed for it.
func (w *EvaluateWorker) verdict(ctx context.Context, p *store.Pull, runs []store.TestRun) (gate.Verdict, error) {
	_, build, err := storedBuild(w.deps, p)
	if err != nil {
		return gate.Verdict{}, err
	}
	if len(runs) == 0 {
		rc, _ := w.deps.Config.Repo(p.Repo)
		return gate.WaitingVerdict(gate.Waiting{HeadSHA: p.HeadSHA, BuildReady: p.BuildSHA == p.HeadSHA,
			Draft: p.Draft && rc.SkipsDrafts(), Build: build}), nil
	}
	in := gate.VerdictInput{
		Pull:            gatePull(p, w.deps.now()),
		DevGroupPattern: w.deps.Config.OpenQA.DevGroups,
		DevParentGroups: w.deps.Config.OpenQA.DevParentGroups,
		Build:           build,
	}
	keys := map[int64]string{}
	var ids []int64
	withAggregate := false
	for _, r := range runs {
		key := gate.RunKey(r.Distri, r.Version, r.Flavor, r.Arch, r.Build)
		keys[r.ID] = key
		ids = append(ids, r.ID)
		withAggregate = withAggregate || r.WithAggregate
		in.Runs = append(in.Runs, runInput(r, key))
	}
	jobs, err := store.JobsOfRuns(ctx, w.deps.Store.Pool, ids)
	if err != nil {
		return gate.Verdict{}, err
	}
	var aggRuns []store.TestRun
	var aggJobs []store.OpenQAJob
	if withAggregate {
		if aggRuns, aggJobs, err = store.AggregateJobsOfPull(ctx, w.deps.Store.Pool, p.Repo, p.Number, p.HeadSHA); err != nil {
			return gate.Verdict{}, err
		}
		for _, r := range aggRuns {
			key := gate.RunKey(r.Distri, r.Version, r.Flavor, r.Arch, r.Build)
			keys[r.ID] = key
			ri := runInput(r, key)
			ri.Aggregate = true
			in.Runs = append(in.Runs, ri)
		}
	}
	jobIDs := make([]int64, 0, len(jobs)+len(aggJobs))
	for _, j := range append(jobs, aggJobs...) {
		jobIDs = append(jobIDs, j.ID)
	}
	accepts, err := store.AcceptancesOfPull(ctx, w.deps.Store.Pool, p.Repo, p.Number, jobIDs)
	if err != nil {
		return gate.Verdict{}, err
	}
	accepted := acceptancesByJob(accepts)
	for _, j := range jobs {
		in.Jobs = append(in.Jobs, w.jobInput(j, keys[j.TestRunID], accepted[j.ID]))
	}
	for _, j := range aggJobs {
		ji := w.jobInput(j, keys[j.TestRunID], accepted[j.ID])
		if ji.OlderOK, err = w.olderJobOK(ctx, j, p); err != nil {
			return gate.Verdict{}, err
		}
		in.AggregateJobs = append(in.AggregateJobs, ji)
	}
	return gate.VerdictFor(in), nil
}

// olderJobOK applies qem-bot's older-job rule to a failed aggregate job,
// from the aggregate jobs qemgate has synced before.
func (w *EvaluateWorker) olderJobOK(ctx context.Context, j store.OpenQAJob, p *store.Pull) (bool, error) {
	if gate.ClassifyJob(j.State, j.Result) != gate.JobFailed && gate.ClassifyJob(j.State, j.Result) != gate.JobStopped {
		return false, nil
	}
	older, err := store.OlderAggregateJobs(ctx, w.deps.Store.Pool, j.ID, p.Repo, p.Number, 20)
	if err != nil {
		return false, err
	}
	history := make([]gate.OlderJob, len(older))
	for i, o := range older {
		history[i] = gate.OlderJob{ID: o.ID, Build: o.Build, Result: o.Result, IncludesPull: o.IncludesPull}
	}
	return gate.OlderJobOK(j.Build, history), nil
}

func runInput(r store.TestRun, key string) gate.RunInput {
	ri := gate.RunInput{Key: key, WithAggregate: r.WithAggregate, JobCount: len(r.JobIDs), JobIDs: r.JobIDs}
	switch r.State {
	case store.RunScheduled, store.RunDryRun:
		ri.Scheduled = true
	case store.RunFailed:
		ri.Scheduled, ri.Error = true, r.Error
		if ri.Error == "" {
			ri.Error = "openQA refused the run"
		}
	}
	return ri
}

func (w *EvaluateWorker) jobInput(j store.OpenQAJob, runKey string, accepted *gate.CommentAcceptance) gate.JobInput {
	return gate.JobInput{
		ID: j.ID, RunKey: runKey, Scenario: j.Scenario,
		GroupID: j.GroupID, GroupName: j.GroupName, ParentGroupID: j.ParentGroupID, ParentGroupName: j.ParentGroupName,
		GroupContact: j.GroupContact, State: j.State, Result: j.Result, CloneID: j.CloneID, Obsolete: j.Obsolete,
		URL:      jobURL(w.deps.Config.OpenQA.URL, j.ID),
		Accepted: accepted,
	}
}

// jobURL is a job's page on openQA.
func jobURL(openqaURL string, id int64) string {
	return strings.TrimRight(openqaURL, "/") + "/tests/" + strconv.FormatInt(id, 10)
}

// acceptancesByJob indexes the recorded comment acceptances of a PR by job.
func acceptancesByJob(accepts []store.JobAcceptance) map[int64]*gate.CommentAcceptance {
	out := map[int64]*gate.CommentAcceptance{}
	for _, a := range accepts {
		if a.Rule == gate.AcceptedByComment {
			out[a.JobID] = &gate.CommentAcceptance{CommentID: a.CommentID, Reason: a.Reason, By: a.Author}
		}
	}
	return out
}

// verdictReason is the one line kept beside the verdict: the first reason,
// blocking ones first; empty when passed.
func verdictReason(v gate.Verdict) string {
	if v.State == gate.VerdictPassed || len(v.Reasons) == 0 {
		return ""
	}
	return v.Reasons[0].Message
}
