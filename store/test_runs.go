package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestRun is one planned or posted POST /api/v1/isos.
type TestRun struct {
	ID                 int64             `json:"id"`
	Repo               string            `json:"repo,omitempty"`
	Number             int64             `json:"number,omitempty"`
	AggregateID        int64             `json:"aggregate_id,omitempty"`
	SHA                string            `json:"sha"`
	Product            string            `json:"product"`
	Distri             string            `json:"distri"`
	Version            string            `json:"version"`
	Flavor             string            `json:"flavor"`
	Arch               string            `json:"arch"`
	Build              string            `json:"build"`
	Settings           map[string]string `json:"settings"`
	WithAggregate      bool              `json:"with_aggregate"`
	Priority           int               `json:"priority"`
	State              string            `json:"state"`
	ScheduledProductID int64             `json:"scheduled_product_id,omitempty"`
	JobIDs             []int64           `json:"job_ids"`
	Error              string            `json:"error,omitempty"`
	Attempts           int               `json:"attempts"`
	PlannedAt          time.Time         `json:"planned_at"`
	ScheduledAt        *time.Time        `json:"scheduled_at,omitempty"`
	SupersededAt       *time.Time        `json:"superseded_at,omitempty"`
}

// Run states.
const (
	RunPlanned    = "planned"
	RunScheduled  = "scheduled"
	RunFailed     = "failed"
	RunSuperseded = "superseded"
	RunDryRun     = "dry_run"
)

const runColumns = `id, coalesce(repo, ''), coalesce(number, 0), coalesce(aggregate_id, 0), sha, product, distri, version,
	flavor, arch, build, settings, with_aggregate, priority, state, coalesce(scheduled_product_id, 0), job_ids, error,
	attempts, planned_at, scheduled_at, superseded_at`

func scanRun(row pgx.CollectableRow) (TestRun, error) {
	var r TestRun
	var settings []byte
	err := row.Scan(&r.ID, &r.Repo, &r.Number, &r.AggregateID, &r.SHA, &r.Product, &r.Distri, &r.Version,
		&r.Flavor, &r.Arch, &r.Build, &settings, &r.WithAggregate, &r.Priority, &r.State, &r.ScheduledProductID,
		&r.JobIDs, &r.Error, &r.Attempts, &r.PlannedAt, &r.ScheduledAt, &r.SupersededAt)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(settings, &r.Settings); err != nil {
		return r, fmt.Errorf("test run %d settings: %w", r.ID, err)
	}
	if r.JobIDs == nil {
		r.JobIDs = []int64{}
	}
	return r, nil
}

// PlanRuns records the planned runs of a PR at a SHA. A run whose business
// key (repo, number, sha, distri, version, flavor, arch) is already recorded
// is left as it is, so planning again never plans twice. It returns every
// run of that PR and SHA.
func PlanRuns(ctx context.Context, db DBTX, runs []TestRun) error {
	for _, r := range runs {
		if r.Number == 0 && r.AggregateID == 0 {
			return fmt.Errorf("plan run %s: neither a PR nor an aggregate", r.Build)
		}
		settings, err := json.Marshal(r.Settings)
		if err != nil {
			return fmt.Errorf("plan run %s/%s/%s: encode settings: %w", r.Flavor, r.Arch, r.Build, err)
		}
		var repo, number, aggregate any
		if r.Number != 0 {
			repo, number = r.Repo, r.Number
		} else {
			aggregate = r.AggregateID
		}
		_, err = db.Exec(ctx, `
			INSERT INTO test_runs (repo, number, aggregate_id, sha, product, distri, version, flavor, arch, build,
				settings, with_aggregate, priority)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT DO NOTHING`,
			repo, number, aggregate, r.SHA, r.Product, r.Distri, r.Version, r.Flavor, r.Arch, r.Build,
			settings, r.WithAggregate, r.Priority)
		if err != nil {
			return fmt.Errorf("plan run %s/%s/%s: %w", r.Flavor, r.Arch, r.Build, err)
		}
	}
	return nil
}

// RunsOfPull returns the runs of a PR at sha ("" for every SHA), oldest first.
func RunsOfPull(ctx context.Context, db DBTX, repo string, number int64, sha string) ([]TestRun, error) {
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM test_runs
		WHERE repo = $1 AND number = $2 AND ($3 = '' OR sha = $3) ORDER BY id`, repo, number, sha)
	return collect(rows, err, scanRun, "runs of %s#%d", repo, number)
}

// RunsOfAggregate returns the runs of an aggregate.
func RunsOfAggregate(ctx context.Context, db DBTX, aggregateID int64) ([]TestRun, error) {
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM test_runs WHERE aggregate_id = $1 ORDER BY id`, aggregateID)
	return collect(rows, err, scanRun, "runs of aggregate %d", aggregateID)
}

// getRun returns one run.
func getRun(ctx context.Context, db DBTX, id int64) (*TestRun, error) {
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM test_runs WHERE id = $1`, id)
	return collectOne(rows, err, scanRun, "read run %d", id)
}

// runLockKey namespaces the advisory locks that keep one test run from
// being posted by two workers at once.
const runLockKey = 7243002

// LockRunForPost takes the run's posting lock for the rest of tx and
// returns the run as it is now. The lock is advisory, not a row lock: the
// attempt counter is updated on another connection while it is held
// (CountRunAttempt), which a row lock would block.
func LockRunForPost(ctx context.Context, tx pgx.Tx, id int64) (*TestRun, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, runLockKey, int32(id)); err != nil {
		return nil, fmt.Errorf("lock run %d for posting: %w", id, err)
	}
	return getRun(ctx, tx, id)
}

// CountRunAttempt records that a post of the run is about to be tried; it is
// committed before the post, so a crash afterwards is known to the next try.
func CountRunAttempt(ctx context.Context, db DBTX, id int64) error {
	_, err := db.Exec(ctx, `UPDATE test_runs SET attempts = attempts + 1 WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("count an attempt of run %d: %w", id, err)
	}
	return nil
}

// MarkRunScheduled records what openQA created for a run.
func MarkRunScheduled(ctx context.Context, db DBTX, id, scheduledProductID int64, jobIDs []int64, state string) error {
	if jobIDs == nil {
		jobIDs = []int64{}
	}
	var spid any
	if scheduledProductID != 0 {
		spid = scheduledProductID
	}
	_, err := db.Exec(ctx, `UPDATE test_runs SET state = $2, scheduled_product_id = $3, job_ids = $4, error = '',
		scheduled_at = now() WHERE id = $1`, id, state, spid, jobIDs)
	if err != nil {
		return fmt.Errorf("mark run %d scheduled: %w", id, err)
	}
	return nil
}

// MarkRunFailed records a permanent scheduling error, shown to people.
func MarkRunFailed(ctx context.Context, db DBTX, id int64, msg string) error {
	_, err := db.Exec(ctx, `UPDATE test_runs SET state = 'failed', error = $2 WHERE id = $1`, id, msg)
	if err != nil {
		return fmt.Errorf("mark run %d failed: %w", id, err)
	}
	return nil
}

// NoteRunError records a passing (retryable) error without changing the state.
func NoteRunError(ctx context.Context, db DBTX, id int64, msg string) error {
	_, err := db.Exec(ctx, `UPDATE test_runs SET error = $2 WHERE id = $1`, id, msg)
	if err != nil {
		return fmt.Errorf("note an error of run %d: %w", id, err)
	}
	return nil
}

// SupersedeRuns marks the runs of a PR at any SHA but headSHA as superseded
// and returns how many it marked.
func SupersedeRuns(ctx context.Context, db DBTX, repo string, number int64, headSHA string) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE test_runs SET state = 'superseded', superseded_at = now()
		WHERE repo = $1 AND number = $2 AND sha <> $3 AND state <> 'superseded'`, repo, number, headSHA)
	if err != nil {
		return 0, fmt.Errorf("supersede runs of %s#%d: %w", repo, number, err)
	}
	return tag.RowsAffected(), nil
}
