package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

// runLockKey namespaces the advisory locks that keep one test run from
// being posted by two workers at once.
const runLockKey = 7243002

// ScheduleWorker plans a PR's test runs at its head SHA from the metadata
// and posts each one to openQA exactly once.
type ScheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	deps Deps
}

// Work plans, then posts every planned run that is not posted yet.
func (w *ScheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
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
		ids, err := w.post(ctx, r, p)
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
	if set == nil {
		return errors.New("no metadata loaded yet")
	}
	rc, _ := w.deps.Config.Repo(p.Repo)
	branch, ok := rc.Branches[p.BaseBranch]
	if !ok {
		w.deps.Logger.InfoContext(ctx, "no product for the base branch: nothing to schedule", "pull", p.Ref(), "base", p.BaseBranch)
		return nil
	}
	runs, skips := gate.Plan(gate.PlanInput{
		Pull: gate.Pull{
			Repo: p.Repo, Number: p.Number, HeadSHA: p.HeadSHA, Base: p.BaseBranch, HTMLURL: p.HTMLURL,
			Packages: p.Packages, Labels: p.Labels, Emergency: p.Emergency, Priority: p.Priority,
		},
		Branch:    gateBranch(branch),
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

// post sends one run to openQA, at most once. The run is locked for the
// whole exchange, and its attempt is counted and committed before the POST:
// when a try finds an earlier attempt that left no record (a crash, or an
// answer lost on the way), it looks for that attempt's jobs in openQA and
// adopts them instead of posting again.
func (w *ScheduleWorker) post(ctx context.Context, r store.TestRun, p *store.Pull) (jobIDs []int64, err error) {
	log := w.deps.Logger.With("pull", p.Ref(), "run", r.ID, "flavor", r.Flavor, "arch", r.Arch, "build", r.Build)
	err = w.deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, runLockKey, int32(r.ID)); err != nil {
			return err
		}
		cur, err := store.GetRun(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if cur.State != store.RunPlanned {
			return nil // another worker got there first
		}
		if w.deps.Config.DryRun {
			log.InfoContext(ctx, "dry run: would post to openQA", "settings", cur.Settings)
			w.deps.Metrics.Scheduled.WithLabelValues("dry_run").Inc()
			return store.MarkRunScheduled(ctx, tx, r.ID, 0, nil, store.RunDryRun)
		}
		if cur.Attempts > 0 {
			found, err := w.earlierJobs(ctx, cur)
			if err != nil {
				return fmt.Errorf("look for jobs of an earlier attempt: %w", err)
			}
			if len(found) > 0 {
				log.WarnContext(ctx, "adopting jobs of an earlier attempt", "jobs", found)
				w.deps.Metrics.Scheduled.WithLabelValues("adopted").Inc()
				jobIDs = found
				return store.MarkRunScheduled(ctx, tx, r.ID, 0, found, store.RunScheduled)
			}
		}
		// Committed on its own connection before the POST, so a crash during
		// the POST is known to the next try.
		if err := store.CountRunAttempt(ctx, w.deps.Store.Pool, r.ID); err != nil {
			return err
		}
		res, postErr := w.deps.OpenQA.PostISOs(ctx, isoParams(cur.Settings))
		switch {
		case postErr == nil:
			jobIDs = res.IDs
			w.deps.Metrics.Scheduled.WithLabelValues("scheduled").Inc()
			log.InfoContext(ctx, "scheduled in openQA", "scheduled_product", res.ScheduledProductID, "jobs", res.IDs)
			return store.MarkRunScheduled(ctx, tx, r.ID, res.ScheduledProductID, res.IDs, store.RunScheduled)
		case openqa.IsRetryable(postErr):
			w.deps.Metrics.Scheduled.WithLabelValues("retry").Inc()
			log.WarnContext(ctx, "openQA unavailable, will retry", "error", postErr)
			if err := store.NoteRunError(ctx, tx, r.ID, postErr.Error()); err != nil {
				return err
			}
			return retryLater{postErr}
		default:
			// Kept on the run and shown; the verdict fails with it.
			w.deps.Metrics.Scheduled.WithLabelValues("failed").Inc()
			log.ErrorContext(ctx, "openQA refused the run", "error", postErr)
			return store.MarkRunFailed(ctx, tx, r.ID, postErr.Error())
		}
	})
	var rl retryLater
	if errors.As(err, &rl) {
		// The note was rolled back with the transaction; write it on its own.
		_ = store.NoteRunError(ctx, w.deps.Store.Pool, r.ID, rl.err.Error())
		return nil, fmt.Errorf("schedule %s run %d: %w", p.Ref(), r.ID, rl.err)
	}
	if err != nil {
		return nil, fmt.Errorf("schedule %s run %d: %w", p.Ref(), r.ID, err)
	}
	return jobIDs, nil
}

// retryLater carries a retryable openQA error out of the transaction.
type retryLater struct{ err error }

func (r retryLater) Error() string { return r.err.Error() }

// earlierJobs finds jobs that a lost earlier POST of the run created.
func (w *ScheduleWorker) earlierJobs(ctx context.Context, r *store.TestRun) ([]int64, error) {
	jobs, err := w.deps.OpenQA.ListJobs(ctx, openqa.JobFilter{
		Build: r.Build, Distri: r.Distri, Version: r.Version, Flavor: r.Flavor, Arch: r.Arch,
	})
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, j := range jobs {
		if sha := j.Settings["GITEA_SHA"]; sha != "" && !strings.EqualFold(sha, r.SHA) {
			continue
		}
		if j.CloneID != 0 {
			continue // the clone is found on its own
		}
		ids = append(ids, j.ID)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// isoParams is the form posted to /api/v1/isos.
func isoParams(settings map[string]string) url.Values {
	v := url.Values{}
	for k, val := range settings {
		v.Set(k, val)
	}
	return v
}
