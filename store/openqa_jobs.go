package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/qemgate/qemgate/internal/pullref"
)

// OpenQAJob is an openQA job as openQA last told us, linked to the test run
// that created it (or that its original created, for clones).
type OpenQAJob struct {
	ID              int64      `json:"id"`
	TestRunID       int64      `json:"test_run_id,omitempty"` // 0: not linked to a run we know
	Name            string     `json:"name"`
	Test            string     `json:"test"`
	Scenario        string     `json:"scenario"`
	Distri          string     `json:"distri"`
	Version         string     `json:"version"`
	Flavor          string     `json:"flavor"`
	Arch            string     `json:"arch"`
	Build           string     `json:"build"`
	GroupID         int64      `json:"group_id,omitempty"`
	GroupName       string     `json:"group_name,omitempty"`
	ParentGroupID   int64      `json:"parent_group_id,omitempty"`
	ParentGroupName string     `json:"parent_group_name,omitempty"`
	State           string     `json:"state"`
	Result          string     `json:"result"`
	CloneID         int64      `json:"clone_id,omitempty"`
	Obsolete        bool       `json:"obsolete"`
	TFinished       *time.Time `json:"t_finished,omitempty"`
	SyncedAt        time.Time  `json:"synced_at"`
	ChangedAt       time.Time  `json:"changed_at"`
	// GroupContact comes from the cached job group (read only).
	GroupContact string `json:"group_contact,omitempty"`
}

const openqaJobColumns = `j.id, coalesce(j.test_run_id, 0), j.name, j.test, j.scenario, j.distri, j.version, j.flavor, j.arch,
	j.build, j.group_id, j.group_name, j.parent_group_id, j.parent_group_name, j.state, j.result, coalesce(j.clone_id, 0),
	j.obsolete, j.t_finished, j.synced_at, j.changed_at, coalesce(g.contact, '')`

const openqaJobFrom = ` FROM openqa_jobs j LEFT JOIN openqa_job_groups g ON g.id = j.group_id AND j.group_id <> 0`

func scanOpenQAJob(row pgx.CollectableRow) (OpenQAJob, error) {
	var j OpenQAJob
	err := row.Scan(&j.ID, &j.TestRunID, &j.Name, &j.Test, &j.Scenario, &j.Distri, &j.Version, &j.Flavor, &j.Arch,
		&j.Build, &j.GroupID, &j.GroupName, &j.ParentGroupID, &j.ParentGroupName, &j.State, &j.Result, &j.CloneID,
		&j.Obsolete, &j.TFinished, &j.SyncedAt, &j.ChangedAt, &j.GroupContact)
	return j, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// UpsertOpenQAJob stores j as openQA's current word on the job. A known run
// link is kept when j brings none. changed reports whether anything the
// verdict reads (run, group, state, result, clone, obsolete) is new.
func UpsertOpenQAJob(ctx context.Context, db DBTX, j OpenQAJob) (changed bool, err error) {
	err = db.QueryRow(ctx, `
		WITH old AS (SELECT test_run_id, group_id, group_name, parent_group_id, state, result, clone_id, obsolete
			FROM openqa_jobs WHERE id = $1),
		up AS (
			INSERT INTO openqa_jobs (id, test_run_id, name, test, scenario, distri, version, flavor, arch, build,
				group_id, group_name, parent_group_id, parent_group_name, state, result, clone_id, obsolete, t_finished,
				synced_at, changed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, now(), now())
			ON CONFLICT (id) DO UPDATE SET
				test_run_id = coalesce(EXCLUDED.test_run_id, openqa_jobs.test_run_id),
				name = EXCLUDED.name, test = EXCLUDED.test, scenario = EXCLUDED.scenario,
				distri = EXCLUDED.distri, version = EXCLUDED.version, flavor = EXCLUDED.flavor, arch = EXCLUDED.arch,
				build = EXCLUDED.build, group_id = EXCLUDED.group_id, group_name = EXCLUDED.group_name,
				parent_group_id = EXCLUDED.parent_group_id, parent_group_name = EXCLUDED.parent_group_name,
				state = EXCLUDED.state, result = EXCLUDED.result, clone_id = EXCLUDED.clone_id,
				obsolete = EXCLUDED.obsolete, t_finished = EXCLUDED.t_finished, synced_at = now(),
				changed_at = CASE WHEN (openqa_jobs.test_run_id, openqa_jobs.group_id, openqa_jobs.group_name,
						openqa_jobs.parent_group_id, openqa_jobs.state, openqa_jobs.result, openqa_jobs.clone_id, openqa_jobs.obsolete)
					IS DISTINCT FROM (coalesce(EXCLUDED.test_run_id, openqa_jobs.test_run_id), EXCLUDED.group_id, EXCLUDED.group_name,
						EXCLUDED.parent_group_id, EXCLUDED.state, EXCLUDED.result, EXCLUDED.clone_id, EXCLUDED.obsolete)
					THEN now() ELSE openqa_jobs.changed_at END
			RETURNING test_run_id, group_id, group_name, parent_group_id, state, result, clone_id, obsolete)
		SELECT NOT EXISTS (SELECT 1 FROM old)
			OR (SELECT (test_run_id, group_id, group_name, parent_group_id, state, result, clone_id, obsolete) FROM old)
				IS DISTINCT FROM (SELECT (test_run_id, group_id, group_name, parent_group_id, state, result, clone_id, obsolete) FROM up)`,
		j.ID, nullID(j.TestRunID), j.Name, j.Test, j.Scenario, j.Distri, j.Version, j.Flavor, j.Arch, j.Build,
		j.GroupID, j.GroupName, j.ParentGroupID, j.ParentGroupName, j.State, j.Result, nullID(j.CloneID), j.Obsolete,
		j.TFinished).Scan(&changed)
	if err != nil {
		return false, fmt.Errorf("upsert openQA job %d: %w", j.ID, err)
	}
	return changed, nil
}

// MarkOpenQAJobObsolete records that openQA no longer knows the job. It
// reports whether the job was known and not obsolete before.
func MarkOpenQAJobObsolete(ctx context.Context, db DBTX, id int64) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE openqa_jobs SET obsolete = true, synced_at = now(), changed_at = now()
		WHERE id = $1 AND NOT obsolete`, id)
	if err != nil {
		return false, fmt.Errorf("mark openQA job %d obsolete: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RecordGoneRunJob records a job that openQA no longer knows and that we
// never read, as obsolete, linked to the run that recorded its id. Without
// a row the job would stay "unsynced" and be read again on every poll. It
// reports whether a row was added; a job no run recorded is not ours and
// gets none.
func RecordGoneRunJob(ctx context.Context, db DBTX, id int64) (bool, error) {
	tag, err := db.Exec(ctx, `INSERT INTO openqa_jobs (id, test_run_id, obsolete)
		SELECT $1, r.id, true FROM test_runs r WHERE r.job_ids @> ARRAY[$1::bigint] ORDER BY r.id DESC LIMIT 1
		ON CONFLICT (id) DO NOTHING`, id)
	if err != nil {
		return false, fmt.Errorf("record gone openQA job %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// GetOpenQAJob returns one job.
func GetOpenQAJob(ctx context.Context, db DBTX, id int64) (*OpenQAJob, error) {
	rows, err := db.Query(ctx, `SELECT `+openqaJobColumns+openqaJobFrom+` WHERE j.id = $1`, id)
	return collectOne(rows, err, scanOpenQAJob, "read openQA job %d", id)
}

// JobsOfRuns returns every job linked to one of the runs, by id.
func JobsOfRuns(ctx context.Context, db DBTX, runIDs []int64) ([]OpenQAJob, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT `+openqaJobColumns+openqaJobFrom+` WHERE j.test_run_id = ANY($1) ORDER BY j.id`, runIDs)
	return collect(rows, err, scanOpenQAJob, "jobs of runs")
}

// RunKey is what identifies the test run an openQA job belongs to when its
// id is not recorded on the run: the product and build it was scheduled
// with, and the head SHA when the job carries one.
type RunKey struct {
	Distri, Version, Flavor, Arch, Build, SHA string
}

// RunOfJob finds the test run a job belongs to: the run that recorded its
// id, else the run of its origin (a clone belongs where the original did),
// else the newest run with the same product and build (and SHA, when
// known). It returns 0 when none matches.
func RunOfJob(ctx context.Context, db DBTX, jobID, originID int64, k RunKey) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `SELECT coalesce(
		(SELECT id FROM test_runs WHERE job_ids @> ARRAY[$1::bigint] ORDER BY id DESC LIMIT 1),
		(SELECT test_run_id FROM openqa_jobs WHERE id = $2 AND $2 <> 0),
		(SELECT id FROM test_runs WHERE $7 <> '' AND distri = $3 AND version = $4 AND flavor = $5 AND arch = $6
			AND build = $7 AND ($8 = '' OR sha = '' OR lower(sha) = lower($8)) AND state <> 'superseded'
			ORDER BY id DESC LIMIT 1),
		0)`, jobID, originID, k.Distri, k.Version, k.Flavor, k.Arch, k.Build, k.SHA).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("run of openQA job %d: %w", jobID, err)
	}
	return id, nil
}

// PullKey names a PR.
type PullKey struct {
	Repo   string `json:"repo"`
	Number int64  `json:"number"`
}

// PullsOfRun returns the PRs a run's results count for: its own PR, or every
// member of its aggregate.
func PullsOfRun(ctx context.Context, db DBTX, runID int64) ([]PullKey, error) {
	if runID == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `
		SELECT repo, number FROM test_runs WHERE id = $1 AND number IS NOT NULL
		UNION
		SELECT m.repo, m.number FROM test_runs r JOIN aggregate_members m ON m.aggregate_id = r.aggregate_id WHERE r.id = $1
		ORDER BY 1, 2`, runID)
	return collect(rows, err, pgx.RowToStructByPos[PullKey], "pulls of run %d", runID)
}

// AggregateJobsOfPull returns the jobs of the newest aggregate of each
// product and arch that includes the PR at sha, together with the keys of
// their runs (RunsOfAggregate order).
func AggregateJobsOfPull(ctx context.Context, db DBTX, repo string, number int64, sha string) ([]TestRun, []OpenQAJob, error) {
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM test_runs WHERE aggregate_id IN (
			SELECT DISTINCT ON (a.product, a.arch) a.id FROM aggregates a
			JOIN aggregate_members m ON m.aggregate_id = a.id
			WHERE m.repo = $1 AND m.number = $2 AND m.sha = $3
			ORDER BY a.product, a.arch, a.id DESC)
		ORDER BY id`, repo, number, sha)
	runs, err := collect(rows, err, scanRun, "aggregate runs of %s", pullref.Format(repo, number, sha))
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	jobs, err := JobsOfRuns(ctx, db, ids)
	return runs, jobs, err
}

// OlderAggregateJob is an earlier finished job of the same scenario in an
// aggregate, and whether that aggregate included a given PR.
type OlderAggregateJob struct {
	ID           int64
	Build        string
	Result       string
	IncludesPull bool
}

// OlderAggregateJobs returns up to limit earlier finished aggregate jobs of
// the scenario of job id (same distri, version, flavor, arch, test and
// machine), newest first, each saying whether its aggregate included the
// PR repo#number at any SHA.
func OlderAggregateJobs(ctx context.Context, db DBTX, id int64, repo string, number int64, limit int) ([]OlderAggregateJob, error) {
	rows, err := db.Query(ctx, `
		SELECT o.id, o.build, o.result, EXISTS (
			SELECT 1 FROM aggregate_members m
			WHERE m.aggregate_id = r.aggregate_id AND m.repo = $2 AND m.number = $3)
		FROM openqa_jobs j
		JOIN openqa_jobs o ON o.scenario = j.scenario AND o.distri = j.distri AND o.version = j.version
			AND o.flavor = j.flavor AND o.arch = j.arch AND o.id < j.id AND o.state = 'done'
		JOIN test_runs r ON r.id = o.test_run_id AND r.aggregate_id IS NOT NULL
		WHERE j.id = $1
		ORDER BY o.id DESC
		LIMIT $4`, id, repo, number, limit)
	return collect(rows, err, func(row pgx.CollectableRow) (OlderAggregateJob, error) {
		var o OlderAggregateJob
		err := row.Scan(&o.ID, &o.Build, &o.Result, &o.IncludesPull)
		return o, err
	}, "older aggregate jobs of job %d", id)
}

// JobIDsAtHead returns the newest job of every chain of the PR's runs at
// its head SHA.
func JobIDsAtHead(ctx context.Context, db DBTX, repo string, number int64) ([]int64, error) {
	rows, err := db.Query(ctx, `
		SELECT j.id FROM openqa_jobs j
		JOIN test_runs r ON r.id = j.test_run_id
		JOIN pulls p ON p.repo = r.repo AND p.number = r.number AND p.head_sha = r.sha
		WHERE r.repo = $1 AND r.number = $2 AND j.clone_id IS NULL
		ORDER BY j.id`, repo, number)
	return collect(rows, err, pgx.RowTo[int64], "jobs of %s#%d at its head", repo, number)
}

// FollowsOpenQAJob says whether the job is one qemgate follows: created for
// one of its runs, or stored before.
func FollowsOpenQAJob(ctx context.Context, db DBTX, id int64) (bool, error) {
	var known bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM openqa_jobs WHERE id = $1)
		OR EXISTS (SELECT 1 FROM test_runs WHERE job_ids @> ARRAY[$1::bigint])`, id).Scan(&known); err != nil {
		return false, fmt.Errorf("store: is openQA job %d followed: %w", id, err)
	}
	return known, nil
}
