package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/store"
)

// SyncPullWorker re-reads a PR and everything the gate derives from it:
// packages, priority, whether it is ours to gate, whether its build is ready.
// When the build of the head SHA is ready it enqueues the scheduling.
type SyncPullWorker struct {
	river.WorkerDefaults[SyncPullArgs]
	deps Deps
}

// Work loads the PR from Gitea and records it.
func (w *SyncPullWorker) Work(ctx context.Context, job *river.Job[SyncPullArgs]) error {
	return finishDebounced(ctx, w.deps, job, w.work(ctx, job))
}

func (w *SyncPullWorker) work(ctx context.Context, job *river.Job[SyncPullArgs]) error {
	a := job.Args
	op := fmt.Sprintf("sync %s#%d", a.Repo, a.Number)
	pr, err := w.deps.Forge.GetPull(ctx, a.Repo, a.Number)
	if err != nil {
		return forgeError(op, err)
	}
	p := pullFromForge(a.Repo, pr)
	repoCfg, watched := w.deps.Config.Repo(a.Repo)

	var facts pullFacts
	if watched && p.State == "open" {
		if facts, err = w.gather(ctx, repoCfg, p); err != nil {
			return forgeError(op, err)
		}
	}

	log := w.deps.Logger.With("pull", p.Ref())
	client := river.ClientFromContext[pgx.Tx](ctx)
	return w.deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		change, err := store.UpsertPull(ctx, tx, p)
		if err != nil {
			return err
		}
		if change.New || change.PreviousSHA != p.HeadSHA {
			log.InfoContext(ctx, "pull synced", "state", p.State, "new", change.New, "previous_sha", change.PreviousSHA)
		}
		if !change.New && change.PreviousSHA != p.HeadSHA {
			// A push: the old SHA's runs no longer decide anything, and the
			// new SHA waits for its own build.
			n, err := store.SupersedeRuns(ctx, tx, p.Repo, p.Number, p.HeadSHA)
			if err != nil {
				return err
			}
			if n > 0 {
				log.InfoContext(ctx, "test runs superseded by a push", "runs", n, "previous_sha", change.PreviousSHA)
			}
		}
		if !watched {
			return nil
		}
		if p.State != "open" {
			if err := store.SetGating(ctx, tx, p.Repo, p.Number, store.Gating{Packages: facts.packages, Priority: gate.DefaultPullPriority}); err != nil {
				return err
			}
			_, err := InsertDebounced(ctx, client, tx, EvaluateArgs{Repo: p.Repo, Number: p.Number})
			return err
		}
		if err := store.SetGating(ctx, tx, p.Repo, p.Number, store.Gating{
			Packages: facts.packages, Priority: facts.priority, Emergency: facts.emergency, Gated: facts.gated,
			EmbargoedUntil: facts.embargoUntil, PrioritySource: facts.prioritySource,
		}); err != nil {
			return err
		}
		if facts.build != nil {
			b, err := json.Marshal(facts.build)
			if err != nil {
				return err
			}
			if err := store.SetOBSBuild(ctx, tx, p.Repo, p.Number, p.HeadSHA, b); err != nil {
				return err
			}
			if facts.buildStatus.State != gate.BuildReady {
				log.InfoContext(ctx, "build not ready in OBS", "build", facts.buildStatus.State, "reasons", facts.buildStatus.Reasons)
			}
		}
		if facts.buildSignal != "" {
			recorded, err := store.SetBuildReady(ctx, tx, p.Repo, p.Number, p.HeadSHA, facts.buildSignal)
			if err != nil {
				return err
			}
			if recorded {
				log.InfoContext(ctx, "build ready", "signal", facts.buildSignal)
			}
		}
		skipDraft := p.Draft && repoCfg.SkipsDrafts()
		if facts.gated && facts.buildSignal != "" && !skipDraft {
			if _, err := InsertDebounced(ctx, client, tx, ScheduleArgs{Repo: p.Repo, Number: p.Number, SHA: p.HeadSHA}); err != nil {
				return err
			}
		}
		_, err = InsertDebounced(ctx, client, tx, EvaluateArgs{Repo: p.Repo, Number: p.Number})
		return err
	})
}

// pullFacts is what the gate derives about an open PR from Gitea.
type pullFacts struct {
	packages    []string
	priority    int
	emergency   bool
	gated       bool
	buildSignal string // how the build of the head SHA was said to be ready; "" while not
	// embargoUntil is the latest <embargo_date> of the PR's _patchinfo files.
	embargoUntil   *time.Time
	prioritySource string
	// build is what OBS showed at the head (nil: OBS not configured or not
	// read, as for a PR not ours to gate), buildStatus the gate's reading.
	build       *gate.Build
	buildStatus gate.BuildStatus
}

func (w *SyncPullWorker) gather(ctx context.Context, rc config.Repo, p store.Pull) (pullFacts, error) {
	var f pullFacts
	var err error
	if f.packages, f.embargoUntil, err = w.packages(ctx, rc, p); err != nil {
		return f, err
	}
	labelPriority, labelEmergency := gate.PriorityFromLabels(p.Labels, rc.PriorityLabels, rc.EmergencyLabels, gate.DefaultPullPriority)
	f.priority, f.emergency, f.prioritySource = gate.PullPriority(labelPriority, labelEmergency, readSMELT(ctx, w.deps, p))
	reviews, err := w.deps.Forge.Reviews(ctx, p.Repo, p.Number)
	if err != nil {
		return f, err
	}
	bots := []string{w.deps.Config.Gitea.BotLogin, w.deps.Config.Gitea.Approval.ReviewBot}
	f.gated = isGated(rc.Reviewer, bots, reviews, p.HeadSHA)
	f.buildSignal = reviewSignal(rc.BuildReady.Review, reviews, p.HeadSHA)
	if f.buildSignal == "" && rc.BuildReady.Status != nil {
		cs, err := w.deps.Forge.CombinedStatus(ctx, p.Repo, p.HeadSHA)
		if err != nil {
			return f, err
		}
		f.buildSignal = statusSignal(rc.BuildReady.Status, cs)
	}
	branch, hasBranch := rc.Branches[p.BaseBranch]
	if w.deps.OBS == nil || !f.gated || !hasBranch || (p.Draft && rc.SkipsDrafts()) {
		return f, nil
	}
	b, err := readBuild(ctx, w.deps, branch, p)
	if err != nil {
		return f, err
	}
	f.build = &b
	f.buildStatus = gate.BuildStatusOf(b, p.HeadSHA, w.deps.Config.OBS.AllowBuildFailures)
	configured := rc.BuildReady.Review != nil || rc.BuildReady.Status != nil
	f.buildSignal = gate.BuildReadySignal(f.buildSignal, configured, &f.buildStatus)
	return f, nil
}

// packages reads the <package> entries of every _patchinfo the PR changes,
// or, when there is none or the repository says so, its top-level directories.
func (w *SyncPullWorker) packages(ctx context.Context, rc config.Repo, p store.Pull) ([]string, *time.Time, error) {
	files, err := w.deps.Forge.PullFiles(ctx, p.Repo, p.Number)
	if err != nil {
		return nil, nil, err
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		paths = append(paths, f.Filename)
	}
	if rc.PackagesFrom == "top_level_dirs" {
		return gate.PackagesFromPaths(paths), nil, nil
	}
	seen := map[string]bool{}
	var pkgs []string
	var embargo *time.Time
	for _, f := range files {
		if path.Base(f.Filename) != "_patchinfo" || f.Status == "deleted" {
			continue
		}
		raw, err := w.deps.Forge.RawFile(ctx, p.Repo, p.HeadSHA, f.Filename)
		if err != nil {
			return nil, nil, err
		}
		pi, err := gate.ParsePatchinfo(raw)
		if err != nil {
			// A broken _patchinfo is the PR's problem, not a reason to retry.
			w.deps.Logger.WarnContext(ctx, "unreadable _patchinfo", "pull", p.Ref(), "file", f.Filename, "error", err)
			continue
		}
		if pi.EmbargoUntil != nil && (embargo == nil || pi.EmbargoUntil.After(*embargo)) {
			embargo = pi.EmbargoUntil
		}
		for _, pkg := range pi.Packages {
			if !seen[pkg] {
				seen[pkg] = true
				pkgs = append(pkgs, pkg)
			}
		}
	}
	if len(pkgs) == 0 {
		return gate.PackagesFromPaths(paths), embargo, nil
	}
	sort.Strings(pkgs)
	return pkgs, embargo, nil
}

// isGated adapts gate.IsGated to the repository's configuration.
func isGated(r config.Reviewer, bots []string, reviews []forge.Review, head string) bool {
	return gate.IsGated(r.Users, r.Teams, bots, reviews, head)
}

// reviewSignal adapts gate.BuildReviewSignal to the configuration; an
// unresolved one (config.Resolve) has no compiled pattern and no signal.
func reviewSignal(sig *config.ReviewSignal, reviews []forge.Review, head string) string {
	if sig == nil {
		return ""
	}
	return gate.BuildReviewSignal(sig.User, sig.BodyPattern, reviews, head)
}

// statusSignal adapts gate.BuildStatusSignal to the configuration.
func statusSignal(sig *config.StatusSignal, cs *forge.CombinedStatus) string {
	if sig == nil {
		return ""
	}
	return gate.BuildStatusSignal(sig.Context, cs)
}

// gatePull is the PR as the gate's decisions see it; whether its embargo
// holds is decided at now.
func gatePull(p *store.Pull, now time.Time) gate.Pull {
	return gate.Pull{
		Repo: p.Repo, Number: p.Number, HeadSHA: p.HeadSHA, Base: p.BaseBranch, HTMLURL: p.HTMLURL,
		Packages: p.Packages, Labels: p.Labels, Emergency: p.Emergency, Priority: p.Priority,
		Embargoed: gate.Embargoed(p.EmbargoedUntil, now),
	}
}

// pullFromForge keys the row by our configured repository name.
func pullFromForge(repo string, pr *forge.Pull) store.Pull {
	return store.Pull{
		Repo:               repo,
		Number:             pr.Number,
		State:              pr.State,
		Merged:             pr.Merged,
		Draft:              pr.Draft,
		Title:              pr.Title,
		Author:             pr.Author,
		BaseBranch:         pr.BaseBranch,
		HeadSHA:            strings.ToLower(pr.HeadSHA),
		HTMLURL:            pr.HTMLURL,
		Labels:             pr.Labels,
		RequestedReviewers: pr.RequestedReviewers,
		RequestedTeams:     pr.RequestedTeams,
		GiteaUpdatedAt:     timePtr(pr.UpdatedAt),
	}
}

// forgeError turns a permanent Gitea error into a cancelled job (retrying a
// 404 or 403 only makes noise) and lets River retry the rest with backoff.
func forgeError(op string, err error) error {
	if forge.IsRetryable(err) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return river.JobCancel(fmt.Errorf("%s: permanent: %w", op, err))
}
