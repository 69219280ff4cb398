package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/store"
)

// ScheduleWorker plans a PR's test runs at its head SHA from the metadata
// and posts each one to openQA exactly once.
type ScheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	deps Deps
}

// Work plans, then posts every planned run that is not posted yet.
func (w *ScheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	return finishDebounced(ctx, w.deps, job, w.work(ctx, job))
}

func (w *ScheduleWorker) work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	a := job.Args
	p, err := store.GetPull(ctx, w.deps.Store.Pool, a.Repo, a.Number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	log := w.deps.Logger.With("pull", p.Ref())
	if p.State != "open" || p.HeadSHA != a.SHA || p.BuildSHA != a.SHA {
		// Pushed, closed or not built: a newer sync decides what comes next.
		log.InfoContext(ctx, "schedule skipped", "sha", a.SHA, "state", p.State, "build_sha", p.BuildSHA)
		return nil
	}
	if err := w.plan(ctx, p); err != nil {
		return err
	}
	runs, err := store.RunsOfPull(ctx, w.deps.Store.Pool, p.Repo, p.Number, p.HeadSHA)
	if err != nil {
		return err
	}
	var retry error
	var newJobs []int64
	for _, r := range runs {
		if r.State != store.RunPlanned {
			continue
		}
		ids, err := postRun(ctx, w.deps, log, r, p.Ref())
		if err != nil {
			retry = errors.Join(retry, err)
			continue
		}
		newJobs = append(newJobs, ids...)
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	if err := w.deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		for _, id := range newJobs {
			if _, err := InsertDebounced(ctx, client, tx, SyncOpenQAJobArgs{ID: id}); err != nil {
				return err
			}
		}
		_, err := InsertDebounced(ctx, client, tx, EvaluateArgs{Repo: p.Repo, Number: p.Number})
		return err
	}); err != nil {
		return err
	}
	return retry
}

// plan records the runs the metadata asks for at the head SHA; runs already
// recorded stay as they are.
func (w *ScheduleWorker) plan(ctx context.Context, p *store.Pull) error {
	set := w.deps.Metadata.Current()
	switch {
	case w.deps.Config.Metadata.Dir == "":
		// Nothing can ever be planned: say so once instead of retrying.
		return river.JobCancel(fmt.Errorf("plan %s: metadata.dir is not configured", p.Ref()))
	case set == nil:
		// A broken set at start: wait for a good reload without using up
		// attempts; /readyz says what is wrong.
		w.deps.Logger.WarnContext(ctx, "no metadata loaded yet: scheduling waits", "pull", p.Ref(), "error", w.deps.Metadata.LastError())
		return river.JobSnooze(time.Minute)
	}
	rc, _ := w.deps.Config.Repo(p.Repo)
	branch, ok := rc.Branches[p.BaseBranch]
	if !ok {
		w.deps.Logger.InfoContext(ctx, "no product for the base branch: nothing to schedule", "pull", p.Ref(), "base", p.BaseBranch)
		return nil
	}
	build, status, err := storedBuild(w.deps, p)
	if err != nil {
		return err
	}
	if status != nil && !status.Ready() {
		// The build changed since it was ready (a rebuild): the sync that
		// read it decides, the verdict says why.
		w.deps.Logger.InfoContext(ctx, "build not ready in OBS: nothing scheduled", "pull", p.Ref(), "build", status.State)
		return nil
	}
	runs, skips := gate.Plan(gate.PlanInput{
		Pull:      gatePull(p, w.deps.now()),
		Branch:    gate.BranchFromBuild(gateBranch(branch), build),
		Metadata:  set,
		PublicURL: w.deps.Config.PublicURL,
	})
	for _, s := range skips {
		w.deps.Logger.DebugContext(ctx, "plan skip", "pull", p.Ref(), "product", s.Product, "flavor", s.Flavor, "arch", s.Arch, "code", s.Code, "reason", s.Reason)
	}
	rows := make([]store.TestRun, 0, len(runs))
	for _, r := range runs {
		rows = append(rows, store.TestRun{
			Repo: p.Repo, Number: p.Number, SHA: p.HeadSHA, Product: r.Product,
			Distri: r.Distri, Version: r.Version, Flavor: r.Flavor, Arch: r.Arch, Build: r.Build,
			Settings: r.Settings, WithAggregate: r.WithAggregate, Priority: r.Priority,
		})
	}
	return store.PlanRuns(ctx, w.deps.Store.Pool, rows)
}

func gateBranch(b config.Branch) gate.Branch {
	return gate.Branch{
		ProductVersion: b.ProductVersion,
		Archs:          b.Archs,
		Channels:       b.Channels,
		StagingProject: b.StagingProject,
		IncidentRepo:   b.IncidentRepo,
		TestRepo:       b.TestRepo,
	}
}
