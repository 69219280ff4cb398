package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

// postRun sends one test run (a PR's or an aggregate's) to openQA, at most
// once. The run is locked for the whole exchange, and its attempt is counted
// and committed before the POST: when a try finds an earlier attempt that
// left no record (a crash, or an answer lost on the way), it looks for that
// attempt's jobs in openQA and adopts them instead of posting again. ref
// names the run's owner in errors (owner/repo#n@sha, or the aggregate).
func postRun(ctx context.Context, deps Deps, log *slog.Logger, r store.TestRun, ref string) (jobIDs []int64, err error) {
	log = log.With("run", r.ID, "flavor", r.Flavor, "arch", r.Arch, "build", r.Build)
	err = deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		cur, err := store.LockRunForPost(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if cur.State != store.RunPlanned {
			return nil // another worker got there first
		}
		if deps.Config.DryRun {
			log.InfoContext(ctx, "dry run: would post to openQA", "settings", cur.Settings)
			deps.Metrics.Scheduled.WithLabelValues("dry_run").Inc()
			return store.MarkRunScheduled(ctx, tx, r.ID, 0, nil, store.RunDryRun)
		}
		if cur.Attempts > 0 {
			found, err := earlierJobs(ctx, deps.OpenQA, cur)
			if err != nil {
				return fmt.Errorf("look for jobs of an earlier attempt: %w", err)
			}
			if len(found) > 0 {
				log.WarnContext(ctx, "adopting jobs of an earlier attempt", "jobs", found)
				deps.Metrics.Scheduled.WithLabelValues("adopted").Inc()
				jobIDs = found
				return store.MarkRunScheduled(ctx, tx, r.ID, 0, found, store.RunScheduled)
			}
		}
		// Committed on its own connection before the POST, so a crash during
		// the POST is known to the next try.
		if err := store.CountRunAttempt(ctx, deps.Store.Pool, r.ID); err != nil {
			return err
		}
		res, postErr := deps.OpenQA.PostISOs(ctx, isoParams(cur.Settings))
		switch {
		case postErr == nil:
			jobIDs = res.IDs
			deps.Metrics.Scheduled.WithLabelValues("scheduled").Inc()
			log.InfoContext(ctx, "scheduled in openQA", "scheduled_product", res.ScheduledProductID, "jobs", res.IDs)
			return store.MarkRunScheduled(ctx, tx, r.ID, res.ScheduledProductID, res.IDs, store.RunScheduled)
		case openqa.IsRetryable(postErr):
			deps.Metrics.Scheduled.WithLabelValues("retry").Inc()
			log.WarnContext(ctx, "openQA unavailable, will retry", "error", postErr)
			if err := store.NoteRunError(ctx, tx, r.ID, postErr.Error()); err != nil {
				return err
			}
			return retryLater{postErr}
		default:
			// Kept on the run and shown; the verdict fails with it.
			deps.Metrics.Scheduled.WithLabelValues("failed").Inc()
			log.ErrorContext(ctx, "openQA refused the run", "error", postErr)
			return store.MarkRunFailed(ctx, tx, r.ID, postErr.Error())
		}
	})
	var rl retryLater
	if errors.As(err, &rl) {
		// The note was rolled back with the transaction; write it on its own.
		_ = store.NoteRunError(ctx, deps.Store.Pool, r.ID, rl.err.Error())
		return nil, fmt.Errorf("schedule %s run %d: %w", ref, r.ID, rl.err)
	}
	if err != nil {
		return nil, fmt.Errorf("schedule %s run %d: %w", ref, r.ID, err)
	}
	return jobIDs, nil
}

// retryLater carries a retryable openQA error out of the transaction.
type retryLater struct{ err error }

func (r retryLater) Error() string { return r.err.Error() }

// earlierJobs finds jobs that a lost earlier POST of the run created. A PR
// run's jobs carry its head SHA; an aggregate's BUILD is unique on its own.
func earlierJobs(ctx context.Context, oq OpenQA, r *store.TestRun) ([]int64, error) {
	jobs, err := oq.ListJobs(ctx, openqa.JobFilter{
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
