package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/pullref"
	"github.com/qemgate/qemgate/internal/text"
	"github.com/qemgate/qemgate/store"
)

// Report states recorded beside what Gitea was told.
const (
	reportRefused      = "refused"       // Gitea answered 4xx; nothing was written
	reportNotPermitted = "not_permitted" // a dismissal Gitea did not allow
	reportDismissed    = "dismissed"
	reportRecorded     = "recorded" // noted without a write (group-comment mode)
)

// ReportWorker tells Gitea the stored verdict of a PR at one head SHA:
// commit status, approval or request for changes, and the summary comment.
// Every write is recorded in reports, so a re-run writes nothing twice.
type ReportWorker struct {
	river.WorkerDefaults[ReportArgs]
	deps Deps
}

// Work reports the verdict, if the SHA is still the PR's head.
func (w *ReportWorker) Work(ctx context.Context, job *river.Job[ReportArgs]) error {
	return finishDebounced(ctx, w.deps, job, w.work(ctx, job))
}

func (w *ReportWorker) work(ctx context.Context, job *river.Job[ReportArgs]) error {
	a := job.Args
	p, err := store.GetPull(ctx, w.deps.Store.Pool, a.Repo, a.Number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	log := w.deps.Logger.With("pull", pullref.Format(a.Repo, a.Number, a.SHA))
	if p.State != "open" || p.HeadSHA != a.SHA {
		// A push or a close came first: never act on a SHA that is not the head.
		log.InfoContext(ctx, "report skipped: not the open head", "state", p.State, "head", p.HeadSHA)
		return nil
	}
	if p.VerdictSHA != a.SHA || len(p.VerdictDetail) == 0 {
		return nil // the evaluation of this SHA will ask again
	}
	var v gate.Verdict
	if err := json.Unmarshal(p.VerdictDetail, &v); err != nil {
		return river.JobCancel(fmt.Errorf("report %s: stored verdict unreadable: %w", p.Ref(), err))
	}
	r := &reporter{deps: w.deps, p: p, v: v, log: log, sha: a.SHA,
		dashboard: gate.DashboardURL(w.deps.Config.PublicURL, p.Repo, p.Number)}
	r.mode, r.reviewBot = w.deps.Config.Gitea.Approval.Mode, w.deps.Config.Gitea.Approval.ReviewBot
	for _, step := range []func(context.Context) error{r.dismissals, r.status, r.feedback, r.summary} {
		if err := step(ctx); errors.Is(err, errHeadMoved) {
			return nil // the sync of the new head decides what comes next
		} else if err != nil {
			return err
		}
	}
	return nil
}

// reporter carries one report through its steps.
type reporter struct {
	deps      Deps
	p         *store.Pull
	v         gate.Verdict
	sha       string
	log       *slog.Logger
	dashboard string
	mode      string
	reviewBot string
}

func (r *reporter) gatePull() gate.Pull {
	p := gatePull(r.p, r.deps.now())
	p.HeadSHA = r.sha
	return p
}

func (r *reporter) dry() bool { return r.deps.Config.DryRun }

// errHeadMoved stops a report: the SHA it is about is no longer the PR's head.
var errHeadMoved = errors.New("the reported SHA is no longer the PR's head")

// stillHead is asked right before every write that says a SHA is good or
// bad (a final status, an approval, a request for changes). The SHA must not
// be superseded by a push we have stored but not synced yet, and must be the
// head of the open PR in Gitea, read live. Otherwise the PR is synced again
// (which supersedes the old runs) and errHeadMoved ends the report. A failed
// read is an error: nothing is approved unchecked.
func (r *reporter) stillHead(ctx context.Context) error {
	if r.dry() {
		return nil
	}
	newer, err := store.NewerHeadEvent(ctx, r.deps.Store.Pool, r.p.Repo, r.p.Number, r.sha, r.p.SyncedAt)
	if err != nil {
		return err
	}
	if newer != "" {
		r.log.InfoContext(ctx, "report held back: a stored event names a newer head", "event_sha", newer)
		return r.resync(ctx)
	}
	live, err := r.deps.Forge.GetPull(ctx, r.p.Repo, r.p.Number)
	if err != nil {
		return forgeError(fmt.Sprintf("check the head of %s", r.p.Ref()), err)
	}
	if live.State != "open" || !strings.EqualFold(live.HeadSHA, r.sha) {
		r.log.InfoContext(ctx, "report held back: Gitea shows another head", "live_head", live.HeadSHA, "live_state", live.State)
		return r.resync(ctx)
	}
	return nil
}

// resync queues a sync of the PR and ends the report with errHeadMoved.
func (r *reporter) resync(ctx context.Context) error {
	r.deps.Metrics.HeadMoved.Inc()
	client := river.ClientFromContext[pgx.Tx](ctx)
	err := r.deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		_, err := InsertDebounced(ctx, client, tx, SyncPullArgs{Repo: r.p.Repo, Number: r.p.Number})
		return err
	})
	if err != nil {
		return err
	}
	return errHeadMoved
}

// post writes to Gitea through do (unless dry-run) and records rec. The
// record follows the write: a crash between them is caught by looking at
// Gitea before writing again (adopt).
func (r *reporter) post(ctx context.Context, rec store.Report, do func() (int64, error)) error {
	rec.Repo, rec.Number = r.p.Repo, r.p.Number
	if rec.SHA == "" {
		rec.SHA = r.sha
	}
	if r.dry() {
		rec.DryRun = true
		r.deps.Metrics.GiteaWrites.WithLabelValues(rec.Kind, "dry_run").Inc()
		r.log.InfoContext(ctx, "dry run: would write to Gitea", "kind", rec.Kind, "state", rec.State, "description", rec.Description, "body", rec.Body)
		return store.SaveReport(ctx, r.deps.Store.Pool, &rec)
	}
	id, err := retryWrite(ctx, do)
	if errors.Is(err, errHeadMoved) {
		return err
	}
	if err != nil {
		r.deps.Metrics.GiteaWrites.WithLabelValues(rec.Kind, "failed").Inc()
		if status(err) == http.StatusUnprocessableEntity && (rec.Kind == store.ReportApproval || rec.Kind == store.ReportDecline) {
			// Gitea will not take a review on this PR (closed, or our own):
			// recorded so that it is not tried again at this SHA.
			rec.State = reportRefused
			rec.Description = text.Bytes(err.Error(), 500)
			if serr := store.SaveReport(ctx, r.deps.Store.Pool, &rec); serr != nil {
				return serr
			}
			return river.JobCancel(fmt.Errorf("report %s %s: refused: %w", rec.Kind, r.p.Ref(), err))
		}
		return forgeError(fmt.Sprintf("report %s %s", rec.Kind, r.p.Ref()), err)
	}
	r.deps.Metrics.GiteaWrites.WithLabelValues(rec.Kind, "posted").Inc()
	r.log.InfoContext(ctx, "wrote to Gitea", "kind", rec.Kind, "state", rec.State, "gitea_id", id)
	rec.GiteaID = id
	return store.SaveReport(ctx, r.deps.Store.Pool, &rec)
}

// status posts our commit status when its state, description or target
// changed since we last posted it at this SHA, unless Gitea already shows
// it: a try whose answer was lost wrote it.
func (r *reporter) status(ctx context.Context) error {
	state, desc := gate.StatusFor(r.v)
	statusContext := r.deps.Config.Gitea.StatusContext
	prev, err := store.GetReport(ctx, r.deps.Store.Pool, r.p.Repo, r.p.Number, r.sha, store.ReportStatus, statusContext)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if prev != nil && prev.State == state && prev.Description == desc && prev.TargetURL == r.dashboard {
		return nil
	}
	if state != gate.StatusPending {
		if err := r.stillHead(ctx); err != nil {
			return err
		}
	}
	rec := store.Report{Kind: store.ReportStatus, Key: statusContext, State: state, Description: desc, TargetURL: r.dashboard}
	in := forge.StatusInput{State: state, Context: statusContext, Description: desc, TargetURL: r.dashboard}
	return r.post(ctx, rec, func() (int64, error) {
		if shown, err := r.statusShown(ctx, in); shown || err != nil {
			return 0, err
		}
		return 0, r.deps.Forge.CreateStatus(ctx, r.p.Repo, r.sha, in)
	})
}

// statusShown reads the latest statuses at the SHA and says whether in is
// already the latest of its context.
func (r *reporter) statusShown(ctx context.Context, in forge.StatusInput) (bool, error) {
	cs, err := r.deps.Forge.CombinedStatus(ctx, r.p.Repo, r.sha)
	if err != nil {
		return false, err
	}
	for _, s := range cs.Statuses {
		if s.Context == in.Context {
			return s.Shows(in), nil
		}
	}
	return false, nil
}

// feedback approves a passed verdict once per SHA and declines a failed one
// once per SHA and set of reasons.
func (r *reporter) feedback(ctx context.Context) error {
	switch r.v.State {
	case gate.VerdictPassed:
		return r.approve(ctx)
	case gate.VerdictFailed, gate.VerdictNoJobs:
		return r.decline(ctx)
	}
	return nil
}

func (r *reporter) recorded(ctx context.Context, sha, kind, key string) (bool, error) {
	_, err := store.GetReport(ctx, r.deps.Store.Pool, r.p.Repo, r.p.Number, sha, kind, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (r *reporter) approve(ctx context.Context) error {
	if done, err := r.recorded(ctx, r.sha, store.ReportApproval, ""); done || err != nil {
		return err
	}
	body := gate.ApprovalBody(r.gatePull(), r.v, r.mode, r.reviewBot, r.dashboard)
	rec := store.Report{Kind: store.ReportApproval, State: gate.VerdictPassed, Body: body}
	if r.mode == gate.ApprovalModeGroupComment {
		return r.post(ctx, rec, func() (int64, error) {
			if id, err := r.ourComment(ctx, func(c forge.Comment) bool {
				return gate.IsApprovalComment(c.Body, r.reviewBot, r.sha)
			}); id != 0 || err != nil {
				return id, err
			}
			if err := r.stillHead(ctx); err != nil {
				return 0, err
			}
			c, err := r.deps.Forge.CreateComment(ctx, r.p.Repo, r.p.Number, body)
			if err != nil {
				return 0, err
			}
			return c.ID, nil
		})
	}
	return r.post(ctx, rec, func() (int64, error) {
		if id, err := r.ourReview(ctx, func(rv forge.Review) bool { return rv.State == forge.ReviewApproved }); id != 0 || err != nil {
			return id, err
		}
		if err := r.stillHead(ctx); err != nil {
			return 0, err
		}
		rv, err := r.deps.Forge.CreateReview(ctx, r.p.Repo, r.p.Number, forge.ReviewInput{Event: forge.ReviewApproved, Body: body, CommitID: r.sha})
		if err != nil {
			return 0, err
		}
		return rv.ID, nil
	})
}

func (r *reporter) decline(ctx context.Context) error {
	key := gate.ReasonSetKey(r.v)
	if done, err := r.recorded(ctx, r.sha, store.ReportDecline, key); done || err != nil {
		return err
	}
	body := gate.DeclineBody(r.gatePull(), r.v, r.mode, r.reviewBot, r.dashboard)
	rec := store.Report{Kind: store.ReportDecline, Key: key, State: r.v.State, Body: body}
	if r.mode == gate.ApprovalModeGroupComment {
		return r.post(ctx, rec, func() (int64, error) {
			if id, err := r.ourComment(ctx, func(c forge.Comment) bool { return c.Body == body }); id != 0 || err != nil {
				return id, err
			}
			if err := r.stillHead(ctx); err != nil {
				return 0, err
			}
			c, err := r.deps.Forge.CreateComment(ctx, r.p.Repo, r.p.Number, body)
			if err != nil {
				return 0, err
			}
			return c.ID, nil
		})
	}
	return r.post(ctx, rec, func() (int64, error) {
		if id, err := r.ourReview(ctx, func(rv forge.Review) bool {
			return rv.State == forge.ReviewRequestChanges && rv.Body == body
		}); id != 0 || err != nil {
			return id, err
		}
		if err := r.stillHead(ctx); err != nil {
			return 0, err
		}
		rv, err := r.deps.Forge.CreateReview(ctx, r.p.Repo, r.p.Number, forge.ReviewInput{Event: forge.ReviewRequestChanges, Body: body, CommitID: r.sha})
		if err != nil {
			return 0, err
		}
		return rv.ID, nil
	})
}

// ourReview finds a review of ours at this SHA that match accepts: one a
// crashed earlier run posted without recording it.
func (r *reporter) ourReview(ctx context.Context, match func(forge.Review) bool) (int64, error) {
	reviews, err := r.deps.Forge.Reviews(ctx, r.p.Repo, r.p.Number)
	if err != nil {
		return 0, err
	}
	for _, rv := range reviews {
		if strings.EqualFold(rv.User, r.deps.Config.Gitea.BotLogin) && rv.CommitID == r.sha && !rv.Dismissed && match(rv) {
			return rv.ID, nil
		}
	}
	return 0, nil
}

// ourComment finds a comment of ours that match accepts.
func (r *reporter) ourComment(ctx context.Context, match func(forge.Comment) bool) (int64, error) {
	comments, err := r.deps.Forge.Comments(ctx, r.p.Repo, r.p.Number)
	if err != nil {
		return 0, err
	}
	for _, c := range comments {
		if strings.EqualFold(c.User, r.deps.Config.Gitea.BotLogin) && match(c) {
			return c.ID, nil
		}
	}
	return 0, nil
}

// dismissals withdraws approvals we gave at SHAs that are no longer the
// head: they do not hold for the new commits. In review mode our APPROVED
// review is dismissed where Gitea lets us (repo admins only); either way the
// withdrawal is recorded once per SHA.
func (r *reporter) dismissals(ctx context.Context) error {
	reports, err := store.ReportsOfPull(ctx, r.deps.Store.Pool, r.p.Repo, r.p.Number)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, rep := range reports {
		if rep.Kind == store.ReportDismissal {
			done[rep.SHA] = true
		}
	}
	for _, rep := range reports {
		if rep.Kind != store.ReportApproval || rep.SHA == r.sha || rep.State != gate.VerdictPassed || done[rep.SHA] {
			continue
		}
		done[rep.SHA] = true
		msg := gate.DismissalBody(rep.SHA, r.sha)
		rec := store.Report{Repo: r.p.Repo, Number: r.p.Number, SHA: rep.SHA, Kind: store.ReportDismissal,
			State: reportRecorded, Body: msg, GiteaID: rep.GiteaID, DryRun: rep.DryRun || r.dry()}
		if r.mode == gate.ApprovalModeReview && rep.GiteaID != 0 && !rec.DryRun {
			err := r.deps.Forge.DismissReview(ctx, r.p.Repo, r.p.Number, rep.GiteaID, msg)
			switch {
			case err == nil:
				r.deps.Metrics.GiteaWrites.WithLabelValues(store.ReportDismissal, "posted").Inc()
				rec.State = reportDismissed
			case forge.IsRetryable(err):
				r.deps.Metrics.GiteaWrites.WithLabelValues(store.ReportDismissal, "failed").Inc()
				return fmt.Errorf("dismiss approval of %s at %.12s: %w", r.p.Ref(), rep.SHA, err)
			default:
				// Only repo admins may dismiss; Gitea marks the review stale
				// on its own, so this is noted, not fatal.
				r.deps.Metrics.GiteaWrites.WithLabelValues(store.ReportDismissal, "failed").Inc()
				r.log.WarnContext(ctx, "could not dismiss our approval", "approved_sha", rep.SHA, "review", rep.GiteaID, "error", err)
				rec.State, rec.Description = reportNotPermitted, text.Bytes(err.Error(), 500)
			}
		} else if rec.DryRun {
			r.deps.Metrics.GiteaWrites.WithLabelValues(store.ReportDismissal, "dry_run").Inc()
		}
		if err := store.SaveReport(ctx, r.deps.Store.Pool, &rec); err != nil {
			return err
		}
		r.log.InfoContext(ctx, "approval withdrawn after a push", "approved_sha", rep.SHA, "state", rec.State)
	}
	return nil
}

// summary keeps one human-readable comment per PR up to date with final
// verdicts, edited in place rather than stacked.
func (r *reporter) summary(ctx context.Context) error {
	if r.v.State == gate.VerdictPending {
		return nil // as qem-bot: nothing is said while jobs still run
	}
	body := gate.SummaryBody(r.gatePull(), r.v, r.dashboard)
	reports, err := store.ReportsOfPull(ctx, r.deps.Store.Pool, r.p.Repo, r.p.Number)
	if err != nil {
		return err
	}
	var last *store.Report
	for i := range reports {
		if reports[i].Kind == store.ReportSummary {
			last = &reports[i]
			break
		}
	}
	if last != nil && last.Body == body {
		return nil
	}
	rec := store.Report{Kind: store.ReportSummary, State: r.v.State, Body: body}
	return r.post(ctx, rec, func() (int64, error) {
		var id int64
		if last != nil && !last.DryRun {
			id = last.GiteaID
		}
		if id == 0 {
			found, err := r.ourComment(ctx, func(c forge.Comment) bool { return gate.IsSummaryComment(c.Body) })
			if err != nil {
				return 0, err
			}
			id = found
		}
		if id != 0 {
			err := r.deps.Forge.EditComment(ctx, r.p.Repo, id, body)
			if err == nil || !forge.IsNotFound(err) {
				return id, err
			}
			// Someone deleted it: write a new one.
		}
		c, err := r.deps.Forge.CreateComment(ctx, r.p.Repo, r.p.Number, body)
		if err != nil {
			return 0, err
		}
		return c.ID, nil
	})
}

func status(err error) int {
	var e *forge.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
