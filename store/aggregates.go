package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Aggregate is one build of a product's aggregate on one arch.
type Aggregate struct {
	ID        int64     `json:"id"`
	Product   string    `json:"product"`
	Arch      string    `json:"arch"`
	Build     string    `json:"build"`
	Repohash  string    `json:"repohash"`
	CreatedAt time.Time `json:"created_at"`
}

// AggregateMember is a PR an aggregate included, at the head SHA it had.
type AggregateMember struct {
	AggregateID int64  `json:"aggregate_id"`
	Repo        string `json:"repo"`
	Number      int64  `json:"number"`
	SHA         string `json:"sha"`
}

const aggregateColumns = `id, product, arch, build, repohash, created_at`

// LatestAggregate returns the newest aggregate of product on arch, or
// ErrNotFound when there has never been one.
func LatestAggregate(ctx context.Context, db DBTX, product, arch string) (*Aggregate, error) {
	rows, err := db.Query(ctx, `SELECT `+aggregateColumns+` FROM aggregates
		WHERE product = $1 AND arch = $2 ORDER BY id DESC LIMIT 1`, product, arch)
	return collectOne(rows, err, pgx.RowToStructByPos[Aggregate], "latest aggregate %s/%s", product, arch)
}

// ListAggregates returns the newest aggregates first, at most limit.
func ListAggregates(ctx context.Context, db DBTX, limit int) ([]Aggregate, error) {
	rows, err := db.Query(ctx, `SELECT `+aggregateColumns+` FROM aggregates ORDER BY id DESC LIMIT $1`, limit)
	return collect(rows, err, pgx.RowToStructByPos[Aggregate], "list aggregates")
}

// ErrAggregateExists is returned when the build of an aggregate is taken.
var ErrAggregateExists = errors.New("aggregate build exists")

// CreateAggregate records an aggregate, its members and its test run in one
// statement sequence on db (run it in a transaction). The run's AggregateID
// is filled in. A build that is already recorded gives ErrAggregateExists.
func CreateAggregate(ctx context.Context, db DBTX, a Aggregate, members []AggregateMember, run TestRun) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO aggregates (product, arch, build, repohash) VALUES ($1, $2, $3, $4)
		ON CONFLICT (product, arch, build) DO NOTHING RETURNING id`, a.Product, a.Arch, a.Build, a.Repohash).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("aggregate %s/%s %s: %w", a.Product, a.Arch, a.Build, ErrAggregateExists)
	}
	if err != nil {
		return 0, fmt.Errorf("create aggregate %s/%s %s: %w", a.Product, a.Arch, a.Build, err)
	}
	for _, m := range members {
		if _, err := db.Exec(ctx, `INSERT INTO aggregate_members (aggregate_id, repo, number, sha) VALUES ($1, $2, $3, $4)`,
			id, m.Repo, m.Number, m.SHA); err != nil {
			return 0, fmt.Errorf("aggregate %d member %s#%d: %w", id, m.Repo, m.Number, err)
		}
	}
	run.AggregateID, run.Repo, run.Number = id, "", 0
	if err := PlanRuns(ctx, db, []TestRun{run}); err != nil {
		return 0, fmt.Errorf("aggregate %d run: %w", id, err)
	}
	return id, nil
}

// AggregateMembers returns the members of an aggregate, by repo and number.
func AggregateMembers(ctx context.Context, db DBTX, aggregateID int64) ([]AggregateMember, error) {
	rows, err := db.Query(ctx, `SELECT aggregate_id, repo, number, sha FROM aggregate_members
		WHERE aggregate_id = $1 ORDER BY repo, number`, aggregateID)
	return collect(rows, err, pgx.RowToStructByPos[AggregateMember], "members of aggregate %d", aggregateID)
}

// PlannedAggregateRuns returns the aggregate runs not posted yet, oldest first.
func PlannedAggregateRuns(ctx context.Context, db DBTX) ([]TestRun, error) {
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM test_runs
		WHERE aggregate_id IS NOT NULL AND state = 'planned' ORDER BY id`)
	return collect(rows, err, scanRun, "planned aggregate runs")
}
