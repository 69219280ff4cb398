package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

// groupCacheTTL is how long a job group's name, parent and owner are
// trusted before openQA is asked again.
const groupCacheTTL = time.Hour

// SyncOpenQAJobWorker re-reads one openQA job, stores it, follows its clone
// and the acceptable_for comments of a failed job, and asks for the verdict
// of every PR the job counts for.
type SyncOpenQAJobWorker struct {
	river.WorkerDefaults[SyncOpenQAJobArgs]
	deps Deps
}

// Work syncs the job.
func (w *SyncOpenQAJobWorker) Work(ctx context.Context, job *river.Job[SyncOpenQAJobArgs]) error {
	return finishDebounced(ctx, w.deps, job, w.work(ctx, job))
}

func (w *SyncOpenQAJobWorker) work(ctx context.Context, job *river.Job[SyncOpenQAJobArgs]) error {
	id := job.Args.ID
	log := w.deps.Logger.With("openqa_job", id)
	j, err := w.deps.OpenQA.GetJob(ctx, id)
	switch {
	case openqa.IsNotFound(err):
		return w.obsolete(ctx, id, log.With("reason", "openQA does not know the job"))
	case err != nil:
		return openqaError(fmt.Sprintf("sync openQA job %d", id), err)
	}

	row := jobRow(j)
	row.TestRunID, err = store.RunOfJob(ctx, w.deps.Store.Pool, j.ID, j.OriginID, store.RunKey{
		Distri: row.Distri, Version: row.Version, Flavor: row.Flavor, Arch: row.Arch, Build: row.Build,
		SHA: j.Setting("GITEA_SHA"),
	})
	if err != nil {
		return err
	}
	if row.TestRunID == 0 {
		// Not one of our runs (an instance-wide hook calls for every job):
		// keep nothing about it unless we knew it already.
		if _, err := store.GetOpenQAJob(ctx, w.deps.Store.Pool, id); errors.Is(err, store.ErrNotFound) {
			log.DebugContext(ctx, "openQA job is not one of ours: ignored")
			return nil
		} else if err != nil {
			return err
		}
	}
	if err := w.group(ctx, j, &row); err != nil {
		return err
	}
	pulls, err := store.PullsOfRun(ctx, w.deps.Store.Pool, row.TestRunID)
	if err != nil {
		return err
	}
	// Comments only matter for a job that ended not ok, as in qem-bot.
	var accepts []store.JobAcceptance
	if st := gate.ClassifyJob(j.State, j.Result); (st == gate.JobFailed || st == gate.JobStopped) && j.CloneID == 0 && len(pulls) > 0 {
		comments, err := w.deps.OpenQA.JobComments(ctx, id)
		if err != nil && !openqa.IsNotFound(err) {
			return openqaError(fmt.Sprintf("comments of openQA job %d", id), err)
		}
		accepts = acceptancesFor(id, comments, pulls)
	}

	client := river.ClientFromContext[pgx.Tx](ctx)
	return w.deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		changed, err := store.UpsertOpenQAJob(ctx, tx, row)
		if err != nil {
			return err
		}
		accepted, err := store.SetJobAcceptances(ctx, tx, id, gate.AcceptedByComment, accepts)
		if err != nil {
			return err
		}
		if j.CloneID != 0 {
			// Only the newest job of a chain counts; it inherits the run
			// through its origin_id when synced.
			if _, err := InsertDebounced(ctx, client, tx, SyncOpenQAJobArgs{ID: j.CloneID}); err != nil {
				return err
			}
		}
		if changed || len(accepted) > 0 {
			log.InfoContext(ctx, "openQA job synced", "state", j.State, "result", j.Result, "clone_id", j.CloneID,
				"run", row.TestRunID, "group", row.GroupName, "pulls", len(pulls), "acceptances", len(accepted))
		}
		if !changed && len(accepted) == 0 {
			return nil // a duplicate callback: nothing new to decide on
		}
		return evaluatePulls(ctx, client, tx, append(pulls, accepted...))
	})
}

// obsolete records a job openQA forgot (deleted, or never existed) and
// re-evaluates the PRs it counted for. A job of one of our runs that was
// deleted before we ever read it is stored as obsolete too, once, so that
// the poller stops asking openQA for it.
func (w *SyncOpenQAJobWorker) obsolete(ctx context.Context, id int64, log *slog.Logger) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	return w.deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		changed, err := store.MarkOpenQAJobObsolete(ctx, tx, id)
		if err != nil {
			return err
		}
		if !changed {
			if changed, err = store.RecordGoneRunJob(ctx, tx, id); err != nil || !changed {
				return err
			}
			log = log.With("first_read", true)
		}
		log.InfoContext(ctx, "openQA job obsolete")
		known, err := store.GetOpenQAJob(ctx, tx, id)
		if err != nil {
			return err
		}
		pulls, err := store.PullsOfRun(ctx, tx, known.TestRunID)
		if err != nil {
			return err
		}
		return evaluatePulls(ctx, client, tx, pulls)
	})
}

// group fills the job's group name, parent and owner from the cache, asking
// openQA when the cache is missing or old. A group openQA cannot tell us
// about leaves the job's own group name in place.
func (w *SyncOpenQAJobWorker) group(ctx context.Context, j *openqa.Job, row *store.OpenQAJob) error {
	if j.GroupID == 0 {
		return nil
	}
	cached, err := store.GetJobGroup(ctx, w.deps.Store.Pool, j.GroupID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if cached == nil || w.deps.now().Sub(cached.FetchedAt) > groupCacheTTL {
		g, err := w.deps.OpenQA.JobGroup(ctx, j.GroupID)
		switch {
		case err == nil:
			fresh := store.JobGroup{ID: g.ID, Name: g.Name, Description: g.Description, ParentID: g.ParentID,
				Contact: gate.ContactFromDescription(g.Description)}
			if j.ParentGroupID == g.ParentID {
				fresh.ParentName = j.ParentGroup
			}
			if err := store.UpsertJobGroup(ctx, w.deps.Store.Pool, fresh); err != nil {
				return err
			}
			cached = &fresh
		case openqa.IsRetryable(err) && cached == nil:
			return fmt.Errorf("job group %d of openQA job %d: %w", j.GroupID, j.ID, err)
		default:
			w.deps.Logger.WarnContext(ctx, "job group unavailable, using what is known", "openqa_job", j.ID, "group", j.GroupID, "error", err)
		}
	}
	if cached != nil {
		if cached.Name != "" {
			row.GroupName = cached.Name
		}
		if cached.ParentID != 0 {
			row.ParentGroupID = cached.ParentID
		}
		if cached.ParentName != "" {
			row.ParentGroupName = cached.ParentName
		}
	}
	return nil
}

// jobRow maps openQA's job to our row; the run link and group are added later.
func jobRow(j *openqa.Job) store.OpenQAJob {
	row := store.OpenQAJob{
		ID: j.ID, Name: j.Name, Test: j.Test, Scenario: scenarioOf(j),
		Distri: j.Setting("DISTRI"), Version: j.Setting("VERSION"), Flavor: j.Setting("FLAVOR"),
		Arch: j.Setting("ARCH"), Build: j.Setting("BUILD"),
		GroupID: j.GroupID, GroupName: j.Group, ParentGroupID: j.ParentGroupID, ParentGroupName: j.ParentGroup,
		State: j.State, Result: j.Result, CloneID: j.CloneID,
		Obsolete: j.Result == openqa.ResultObsoleted,
	}
	if !j.TFinished.IsZero() {
		t := j.TFinished.Time
		row.TFinished = &t
	}
	return row
}

// scenarioOf is the scenario qem-bot dedupes on: test and machine.
func scenarioOf(j *openqa.Job) string {
	s := j.Test
	if m := j.Setting("MACHINE"); m != "" {
		s += "@" + m
	}
	return s
}

// acceptancesFor records, for each of pulls, the comment that accepts job
// for it (gate.AcceptanceFor: a marker names the PR number as incident_<N>
// or submission_<N>; the first one wins).
func acceptancesFor(jobID int64, comments []openqa.Comment, pulls []store.PullKey) []store.JobAcceptance {
	var out []store.JobAcceptance
	for _, p := range pulls {
		if a, ok := gate.AcceptanceFor(comments, strconv.FormatInt(p.Number, 10)); ok {
			out = append(out, store.JobAcceptance{JobID: jobID, Repo: p.Repo, Number: p.Number,
				CommentID: a.CommentID, Rule: gate.AcceptedByComment, Reason: a.Reason, Author: a.By})
		}
	}
	return out
}

// evaluatePulls enqueues one debounced evaluation per PR.
func evaluatePulls(ctx context.Context, ins Inserter, tx pgx.Tx, pulls []store.PullKey) error {
	seen := map[store.PullKey]bool{}
	for _, p := range pulls {
		if seen[p] {
			continue
		}
		seen[p] = true
		if _, err := InsertDebounced(ctx, ins, tx, EvaluateArgs{Repo: p.Repo, Number: p.Number}); err != nil {
			return err
		}
	}
	return nil
}

// openqaError lets River retry what may pass (5xx, 429, timeouts) and
// cancels what will not (other 4xx), with the reason in the job's errors.
func openqaError(op string, err error) error {
	if openqa.IsRetryable(err) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return river.JobCancel(fmt.Errorf("%s: permanent: %w", op, err))
}
