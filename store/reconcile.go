package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// PullSnapshot is what the Gitea poller compares with Gitea's list.
type PullSnapshot struct {
	Number         int64
	HeadSHA        string
	GiteaUpdatedAt *time.Time
	Draft          bool
	Gated          bool
	BuildSHA       string
	Title          string
	BaseBranch     string
	Labels         []string
	// OwnWriteAt is when we last wrote something to the PR that moves its
	// updated_at in Gitea (a review, a comment, a dismissal); nil if never.
	// Commit statuses are left out: they belong to the commit, and Gitea
	// does not touch the PR for them.
	OwnWriteAt *time.Time
	// OBSReadAt is when the PR's build was last read from OBS (nil: never).
	OBSReadAt *time.Time
}

// OpenPullSnapshots returns the PRs of repo we hold as open.
func OpenPullSnapshots(ctx context.Context, db DBTX, repo string) ([]PullSnapshot, error) {
	rows, err := db.Query(ctx, `SELECT p.number, p.head_sha, p.gitea_updated_at, p.draft, p.gated, p.build_sha,
			p.title, p.base_branch, p.labels,
			(SELECT max(r.posted_at) FROM reports r WHERE r.repo = p.repo AND r.number = p.number
				AND r.kind <> 'status' AND NOT r.dry_run AND r.state NOT IN ('refused', 'not_permitted', 'recorded')),
			p.obs_read_at
		FROM pulls p WHERE p.repo = $1 AND p.state = 'open' ORDER BY p.number`, repo)
	return collect(rows, err, pgx.RowToStructByPos[PullSnapshot], "open pulls of %s", repo)
}

// AggregateCandidates returns the open, non-draft PRs whose head SHA is
// built: the PRs an aggregate may include. The metadata decides the rest.
func AggregateCandidates(ctx context.Context, db DBTX) ([]Pull, error) {
	rows, err := db.Query(ctx, `SELECT `+pullColumns+` FROM pulls
		WHERE state = 'open' AND NOT draft AND head_sha <> '' AND build_sha = head_sha
		ORDER BY repo, number`)
	return collect(rows, err, pgx.RowToStructByPos[Pull], "aggregate candidates")
}

// JobSnapshot is what the openQA poller compares with openQA's answer.
type JobSnapshot struct {
	ID       int64
	State    string
	Result   string
	CloneID  int64
	Obsolete bool
}

// StaleOpenQAJobs returns up to limit jobs that are not final, not
// obsolete, and not synced since before: their job-done signal may be lost.
func StaleOpenQAJobs(ctx context.Context, db DBTX, before time.Time, limit int) ([]JobSnapshot, error) {
	rows, err := db.Query(ctx, `SELECT id, state, result, coalesce(clone_id, 0), obsolete FROM openqa_jobs
		WHERE state NOT IN ('done', 'cancelled') AND NOT obsolete AND synced_at < $1
		ORDER BY synced_at LIMIT $2`, before, limit)
	return collect(rows, err, pgx.RowToStructByPos[JobSnapshot], "stale openQA jobs")
}

// UnsyncedRunJobs returns up to limit job ids that a run scheduled before
// before recorded but that were never stored as openQA jobs.
func UnsyncedRunJobs(ctx context.Context, db DBTX, before time.Time, limit int) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT j.id FROM test_runs r, unnest(r.job_ids) AS j(id)
		WHERE r.state = 'scheduled' AND r.scheduled_at < $1
			AND NOT EXISTS (SELECT 1 FROM openqa_jobs o WHERE o.id = j.id)
		ORDER BY j.id LIMIT $2`, before, limit)
	return collect(rows, err, pgx.RowTo[int64], "unsynced run jobs")
}

// FailedJobsToRecheck returns up to limit final, failed jobs not synced
// since before that still block something: a scheduled run of an open PR at
// its head SHA, or an aggregate run with an open member. An
// "@review:acceptable_for" comment added later sends no signal, so these are
// read again now and then.
func FailedJobsToRecheck(ctx context.Context, db DBTX, before time.Time, limit int) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT j.id FROM openqa_jobs j JOIN test_runs r ON r.id = j.test_run_id
		WHERE j.state = 'done' AND j.result NOT IN ('passed', 'softfailed') AND NOT j.obsolete AND j.clone_id IS NULL
			AND j.synced_at < $1 AND r.state = 'scheduled'
			AND (EXISTS (SELECT 1 FROM pulls p WHERE p.repo = r.repo AND p.number = r.number AND p.state = 'open' AND p.head_sha = r.sha)
				OR EXISTS (SELECT 1 FROM aggregate_members m JOIN pulls p ON p.repo = m.repo AND p.number = m.number
					WHERE m.aggregate_id = r.aggregate_id AND p.state = 'open' AND p.head_sha = m.sha))
		ORDER BY j.synced_at LIMIT $2`, before, limit)
	return collect(rows, err, pgx.RowTo[int64], "failed jobs to recheck")
}
