package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/internal/pullref"
	"github.com/qemgate/qemgate/store"
)

// Drift kinds: what a poller found that no event had told us.
const (
	DriftNewPull          = "new_pull"           // an open PR we never heard of
	DriftHeadChanged      = "head_changed"       // a push we missed
	DriftUpdated          = "updated"            // anything else someone else changed (title, labels, reviews, comments...)
	DriftClosed           = "closed"             // a PR we hold as open that Gitea no longer lists
	DriftBuildReadyMissed = "build_ready_missed" // the build signal is there, we did not see it
	DriftOpenQAChanged    = "openqa_job_changed" // a job's state, result or clone changed unseen
	DriftOpenQAUnsynced   = "openqa_job_unsynced"
	DriftOpenQAGone       = "openqa_job_gone" // openQA no longer lists a job we wait for
)

// ownWriteSync is not a drift kind: the PR's updated_at moved, and our own
// last write explains it. It is synced all the same, quietly, so that
// whatever else happened in that second is read, but not counted.
const ownWriteSync = "own_write"

// obsRecheck is not a drift kind either: a PR waiting for its build whose
// staging projects are read from OBS again (OBS sends qemgate no events).
const obsRecheck = "obs_recheck"

// ownWriteSkew is how far Gitea's clock may run ahead of ours when an
// updated_at is compared with the time we recorded one of our own writes.
const ownWriteSkew = time.Second

// buildCheckConcurrency bounds the parallel review/status reads of the
// build-ready check, so one cycle does not flood Gitea.
const buildCheckConcurrency = 4

// PollGiteaArgs asks for one reconciliation pass over the watched repositories.
type PollGiteaArgs struct{}

// Kind names the job.
func (PollGiteaArgs) Kind() string { return "poll_gitea" }

// PollGiteaWorker lists open PRs and syncs whatever drifted from our copy.
type PollGiteaWorker struct {
	river.WorkerDefaults[PollGiteaArgs]
	deps Deps
}

// Work runs one poll cycle.
func (w *PollGiteaWorker) Work(ctx context.Context, _ *river.Job[PollGiteaArgs]) error {
	_, err := PollGitea(ctx, w.deps, river.ClientFromContext[pgx.Tx](ctx))
	return err
}

// PollResult says what one poll cycle saw and did.
type PollResult struct {
	Listed int            // items read from the authority
	Synced int            // sync jobs enqueued
	Drift  map[string]int // by drift kind
}

// driftItem is one PR that needs a sync, and why.
type driftItem struct {
	number int64
	sha    string
	kind   string
}

// PollGitea compares every open PR of every watched repository with our
// copy and enqueues sync_pull for each that differs, that we do not know,
// or that we hold as open and Gitea no longer lists. PRs waiting on their
// build get the build-ready check (reviews and combined status at the head),
// which catches a missed review or status event.
func PollGitea(ctx context.Context, deps Deps, ins Inserter) (PollResult, error) {
	res := PollResult{Drift: map[string]int{}}
	var errs error
	for _, rc := range deps.Config.Gitea.Repos {
		items, listed, err := pollRepo(ctx, deps, rc)
		res.Listed += listed
		if err != nil {
			errs = errors.Join(errs, err)
			if len(items) == 0 {
				continue
			}
		}
		err = deps.Store.InTx(ctx, func(tx pgx.Tx) error {
			for _, it := range items {
				if _, err := InsertDebounced(ctx, ins, tx, SyncPullArgs{Repo: rc.Name, Number: it.number}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("poll %s: %w", rc.Name, err))
			continue
		}
		for _, it := range items {
			res.Synced++
			if it.kind == obsRecheck {
				deps.Logger.DebugContext(ctx, "poller reads a waiting build from OBS again", "pull", pullref.Format(rc.Name, it.number, it.sha))
				continue
			}
			if it.kind == ownWriteSync {
				deps.Logger.DebugContext(ctx, "poller syncs a PR after our own write", "pull", pullref.Format(rc.Name, it.number, it.sha))
				continue
			}
			res.Drift[it.kind]++
			deps.Metrics.PollerDrift.WithLabelValues(it.kind).Inc()
			deps.Logger.InfoContext(ctx, "poller found drift", "kind", it.kind, "pull", pullref.Format(rc.Name, it.number, it.sha))
		}
	}
	return res, errs
}

// pollRepo finds the PRs of one repository that need a sync.
func pollRepo(ctx context.Context, deps Deps, rc config.Repo) ([]driftItem, int, error) {
	listed, err := deps.Forge.ListOpenPulls(ctx, rc.Name)
	if err != nil {
		return nil, 0, fmt.Errorf("poll %s: list open pulls: %w", rc.Name, err)
	}
	ours, err := store.OpenPullSnapshots(ctx, deps.Store.Pool, rc.Name)
	if err != nil {
		return nil, len(listed), err
	}
	known := make(map[int64]*store.PullSnapshot, len(ours))
	for i := range ours {
		known[ours[i].Number] = &ours[i]
	}
	skipDrafts := rc.SkipsDrafts()
	var items []driftItem
	var waiting []forge.Pull
	// updated holds how the waiting PRs changed otherwise: when the change
	// is the build signal, that is what the drift is.
	updated := map[int64]string{}
	seen := make(map[int64]bool, len(listed))
	for _, pr := range listed {
		seen[pr.Number] = true
		snap := known[pr.Number]
		kind := pullDrift(snap, pr)
		if (kind == "" || kind == DriftUpdated || kind == ownWriteSync) && waitsForBuild(snap, skipDrafts) {
			waiting = append(waiting, pr)
			updated[pr.Number] = kind
			continue
		}
		if kind != "" {
			items = append(items, driftItem{number: pr.Number, sha: pr.HeadSHA, kind: kind})
		}
	}
	for _, snap := range ours {
		if !seen[snap.Number] {
			items = append(items, driftItem{number: snap.Number, sha: snap.HeadSHA, kind: DriftClosed})
		}
	}
	// With OBS the staging bot's signal alone does not make a build ready:
	// looking for it would find "missed" signals on every cycle. The
	// bounded OBS rechecks below sync those PRs instead, and read both.
	var ready []forge.Pull
	if deps.OBS == nil {
		ready, err = buildReady(ctx, deps, rc, waiting)
	}
	isReady := make(map[int64]bool, len(ready))
	for _, pr := range ready {
		isReady[pr.Number] = true
		items = append(items, driftItem{number: pr.Number, sha: pr.HeadSHA, kind: DriftBuildReadyMissed})
	}
	var recheck []*store.PullSnapshot
	for _, pr := range waiting {
		if kind := updated[pr.Number]; kind != "" && !isReady[pr.Number] {
			items = append(items, driftItem{number: pr.Number, sha: pr.HeadSHA, kind: kind})
		} else if !isReady[pr.Number] {
			recheck = append(recheck, known[pr.Number])
		}
	}
	if deps.OBS != nil {
		for _, snap := range obsRechecks(recheck, deps.Config.OBS.PollLimit) {
			items = append(items, driftItem{number: snap.Number, sha: snap.HeadSHA, kind: obsRecheck})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].number < items[j].number })
	if err != nil {
		return items, len(listed), fmt.Errorf("poll %s: build-ready check: %w", rc.Name, err)
	}
	return items, len(listed), nil
}

// pullDrift says how Gitea's listed PR differs from our copy ("" if not).
// Our own reviews and comments move updated_at too, and qemgate ignores
// their webhooks, so a newer updated_at alone is drift only when our last
// write does not explain it: it is later than that write, or something our
// writes never change (title, labels, draft, base branch) changed too. When
// our write explains it, the answer is ownWriteSync.
func pullDrift(ours *store.PullSnapshot, theirs forge.Pull) string {
	switch {
	case ours == nil:
		return DriftNewPull
	case !strings.EqualFold(ours.HeadSHA, theirs.HeadSHA):
		return DriftHeadChanged
	case ours.Title != theirs.Title || ours.Draft != theirs.Draft || ours.BaseBranch != theirs.BaseBranch ||
		!sameLabels(ours.Labels, theirs.Labels):
		// Compared first: updated_at counts whole seconds, so a change in
		// the second of our last read leaves it as it was.
		return DriftUpdated
	case theirs.UpdatedAt.IsZero():
		return ""
	case ours.GiteaUpdatedAt != nil && ours.GiteaUpdatedAt.Equal(theirs.UpdatedAt):
		return ""
	case ownWrite(ours, theirs.UpdatedAt):
		return ownWriteSync
	}
	return DriftUpdated
}

// ownWrite: updated_at moved forward, and no later than our last write to
// the PR, so that write is what moved it.
func ownWrite(ours *store.PullSnapshot, updatedAt time.Time) bool {
	if ours.OwnWriteAt == nil || (ours.GiteaUpdatedAt != nil && !updatedAt.After(*ours.GiteaUpdatedAt)) {
		return false
	}
	return !updatedAt.After(ours.OwnWriteAt.Add(ownWriteSkew))
}

// sameLabels compares label names, in any order.
func sameLabels(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// waitsForBuild: ours to gate, and the head SHA's build not seen yet.
func waitsForBuild(ours *store.PullSnapshot, skipDrafts bool) bool {
	return ours != nil && ours.Gated && !(skipDrafts && ours.Draft) && !strings.EqualFold(ours.BuildSHA, ours.HeadSHA)
}

// buildReady returns the PRs whose build signal is present at their head.
func buildReady(ctx context.Context, deps Deps, rc config.Repo, pulls []forge.Pull) ([]forge.Pull, error) {
	if len(pulls) == 0 || (rc.BuildReady.Review == nil && rc.BuildReady.Status == nil) {
		return nil, nil
	}
	var (
		mu    sync.Mutex
		ready []forge.Pull
		errs  error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, buildCheckConcurrency)
	)
	for _, pr := range pulls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := buildSignalAt(ctx, deps.Forge, rc, pr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = errors.Join(errs, fmt.Errorf("%s: %w", pullref.Format(rc.Name, pr.Number, pr.HeadSHA), err))
			} else if ok {
				ready = append(ready, pr)
			}
		}()
	}
	wg.Wait()
	return ready, errs
}

// buildSignalAt reads reviews, then (only when needed) the combined status.
func buildSignalAt(ctx context.Context, fg forge.Forge, rc config.Repo, pr forge.Pull) (bool, error) {
	head := strings.ToLower(pr.HeadSHA)
	if rc.BuildReady.Review != nil {
		reviews, err := fg.Reviews(ctx, rc.Name, pr.Number)
		if err != nil {
			return false, err
		}
		if reviewSignal(rc.BuildReady.Review, reviews, head) != "" {
			return true, nil
		}
	}
	if rc.BuildReady.Status == nil {
		return false, nil
	}
	cs, err := fg.CombinedStatus(ctx, rc.Name, head)
	if err != nil {
		return false, err
	}
	return statusSignal(rc.BuildReady.Status, cs) != "", nil
}

// obsRechecks picks at most limit of the PRs waiting for their build to be
// read from OBS again, the longest unread first: OBS tells qemgate nothing,
// so a build that is published, or rebuilt after a failure, is found here
// when no staging bot event said so. The bound keeps one cycle from reading
// every staging project at once.
func obsRechecks(waiting []*store.PullSnapshot, limit int) []*store.PullSnapshot {
	out := slices.Clone(waiting)
	slices.SortStableFunc(out, func(a, b *store.PullSnapshot) int {
		switch {
		case a.OBSReadAt == nil && b.OBSReadAt == nil:
			return 0
		case a.OBSReadAt == nil:
			return -1
		case b.OBSReadAt == nil:
			return 1
		}
		return a.OBSReadAt.Compare(*b.OBSReadAt)
	})
	return out[:min(len(out), max(limit, 0))]
}
