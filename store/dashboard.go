package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The dashboard reads: open PRs, their job results bucketed by job group, and
// the latest aggregates. Buckets keep the raw openQA state and result so the
// caller classifies them with gate.ClassifyJob and never drifts from the gate.

// DashResult counts the jobs of one job group, build and outcome: for a PR's
// own runs at its head SHA (AggregateID 0) or for an aggregate. Only the
// newest job of a clone chain counts and obsolete jobs do not.
type DashResult struct {
	// Repo and Number name the PR the bucket is for; empty for the buckets
	// of DashAggregateResults.
	Repo   string `json:"repo,omitempty"`
	Number int64  `json:"number,omitempty"`
	// AggregateID, Product, Arch and AggregateBuild name the aggregate; zero
	// for the PR's own runs.
	AggregateID    int64  `json:"aggregate_id,omitempty"`
	Product        string `json:"product,omitempty"`
	Arch           string `json:"arch,omitempty"`
	AggregateBuild string `json:"aggregate_build,omitempty"`
	GroupID        int64  `json:"group_id"`
	GroupName      string `json:"group_name"`
	Distri         string `json:"distri"`
	Version        string `json:"version"`
	Build          string `json:"build"`
	State          string `json:"state"`
	Result         string `json:"result"`
	// Accepted: an acceptance (acceptable_for comment or older-job rule) for
	// this PR covers the jobs. Always false for aggregate-only buckets.
	Accepted bool `json:"accepted"`
	Jobs     int  `json:"jobs"`
}

// dashJobWhere is which jobs count on the dashboard: the newest of a clone
// chain, not obsolete.
const dashJobWhere = `j.clone_id IS NULL AND NOT j.obsolete`

const dashJobColumns = `j.id, j.group_id, j.group_name, j.distri, j.version, j.build, j.state, j.result`

// dashBuckets counts the rows of a CTE named buckets, one row per counted
// job with the columns of DashResult but Jobs, into DashResult rows: one
// per job group, build and outcome, in the order the dashboard folds them.
const dashBuckets = `
		SELECT repo, number, aggregate_id, product, arch, aggregate_build, group_id, group_name,
			distri, version, build, state, result, accepted, count(*)
		FROM buckets
		GROUP BY repo, number, aggregate_id, product, arch, aggregate_build, group_id, group_name,
			distri, version, build, state, result, accepted
		ORDER BY repo, number, aggregate_id, group_name, group_id, distri, version, build, state, result`

// DashOpenPulls returns every open PR, by repo and number. The dashboard
// filters and pages in Go: open PRs are hundreds, and the group filter is a
// Go regular expression.
func DashOpenPulls(ctx context.Context, db DBTX) ([]Pull, error) {
	rows, err := db.Query(ctx, `SELECT `+pullColumns+` FROM pulls WHERE state = 'open' ORDER BY repo, number`)
	return collect(rows, err, pgx.RowToStructByPos[Pull], "open pulls")
}

// dashPullJobs is a CTE named counted: one row per counted job of every
// open PR (repo "") or of one PR, with the columns of DashResult but Jobs and
// then the job's id, test name, arch and group contact. Its jobs are those
// of the PR's own runs at its head SHA that are not superseded, and of the
// newest aggregate of each product and arch that includes it at its head.
const dashPullJobs = `
		WITH p AS (
			SELECT repo, number, head_sha FROM pulls
			WHERE CASE WHEN $1 = '' THEN state = 'open' ELSE repo = $1 AND number = $2 END
		), latest AS (
			SELECT DISTINCT ON (m.repo, m.number, a.product, a.arch)
				m.repo, m.number, a.id, a.product, a.arch, a.build
			FROM p JOIN aggregate_members m ON m.repo = p.repo AND m.number = p.number AND m.sha = p.head_sha
			JOIN aggregates a ON a.id = m.aggregate_id
			ORDER BY m.repo, m.number, a.product, a.arch, a.id DESC
		), jobs AS (
			SELECT p.repo, p.number, 0::bigint AS aggregate_id, ''::text AS product, ''::text AS agg_arch,
				''::text AS aggregate_build, r.distri AS run_distri, r.version AS run_version, r.build AS run_build,
				r.arch AS run_arch, j.name, j.arch AS job_arch, ` + dashJobColumns + `
			FROM p JOIN test_runs r ON r.repo = p.repo AND r.number = p.number AND r.sha = p.head_sha
				AND r.state <> 'superseded'
			JOIN openqa_jobs j ON j.test_run_id = r.id
			WHERE ` + dashJobWhere + `
			UNION ALL
			SELECT l.repo, l.number, l.id, l.product, l.arch, l.build, r.distri, r.version, r.build,
				r.arch, j.name, j.arch, ` + dashJobColumns + `
			FROM latest l JOIN test_runs r ON r.aggregate_id = l.id
			JOIN openqa_jobs j ON j.test_run_id = r.id
			WHERE ` + dashJobWhere + `
		), counted AS (
			SELECT j.repo, j.number, j.aggregate_id, j.product, j.agg_arch AS arch, j.aggregate_build,
				j.group_id, j.group_name, coalesce(nullif(j.distri, ''), j.run_distri) AS distri,
				coalesce(nullif(j.version, ''), j.run_version) AS version,
				coalesce(nullif(j.build, ''), j.run_build) AS build, j.state, j.result,
				EXISTS (SELECT 1 FROM job_acceptances a WHERE a.job_id = j.id AND a.repo = j.repo AND a.number = j.number) AS accepted,
				j.id, j.name, coalesce(nullif(j.job_arch, ''), j.run_arch) AS job_arch,
				coalesce((SELECT g.contact FROM openqa_job_groups g WHERE g.id = j.group_id AND j.group_id <> 0), '') AS contact
			FROM jobs j
		)`

// DashResults returns the result buckets of every open PR (repo "" ) or of
// one PR: its own runs at its head SHA that are not superseded, and the
// newest aggregate of each product and arch that includes it at its head SHA.
func DashResults(ctx context.Context, db DBTX, repo string, number int64) ([]DashResult, error) {
	rows, err := db.Query(ctx, dashPullJobs+`, buckets AS (
			SELECT repo, number, aggregate_id, product, arch, aggregate_build, group_id, group_name,
				distri, version, build, state, result, accepted FROM counted
		)`+dashBuckets, repo, number)
	return collect(rows, err, pgx.RowToStructByPos[DashResult], "dashboard results")
}

// DashJob is one counted job of a PR that did not pass (its result is
// neither passed nor softfailed): what the blocked view names in a row.
type DashJob struct {
	Repo   string `json:"-"`
	Number int64  `json:"-"`
	// AggregateID, Product and AggregateArch name the aggregate the job is
	// of; zero for the PR's own runs.
	AggregateID   int64  `json:"aggregate_id,omitempty"`
	Product       string `json:"product,omitempty"`
	AggregateArch string `json:"-"`
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Arch          string `json:"arch"`
	GroupID       int64  `json:"group_id"`
	GroupName     string `json:"group_name"`
	Contact       string `json:"contact,omitempty"`
	State         string `json:"state"`
	Result        string `json:"result"`
	Accepted      bool   `json:"accepted"`
}

// DashJobsNotPassed returns the counted jobs of every open PR (repo "") or
// of one PR, over the same jobs as DashResults, whose result is neither
// passed nor softfailed, by PR, own runs first, group, name and id. The
// caller classifies them (gate.ClassifyJob): running jobs are among them.
func DashJobsNotPassed(ctx context.Context, db DBTX, repo string, number int64) ([]DashJob, error) {
	rows, err := db.Query(ctx, dashPullJobs+`
		SELECT repo, number, aggregate_id, product, arch, id, name, job_arch, group_id, group_name, contact,
			state, result, accepted
		FROM counted WHERE result NOT IN ('passed', 'softfailed')
		ORDER BY repo, number, aggregate_id, group_name, name, id`, repo, number)
	return collect(rows, err, pgx.RowToStructByPos[DashJob], "dashboard jobs not passed")
}

// DashAggregate is one aggregate build and the PRs it bundles.
type DashAggregate struct {
	ID        int64        `json:"id"`
	Product   string       `json:"product"`
	Arch      string       `json:"arch"`
	Build     string       `json:"build"`
	CreatedAt time.Time    `json:"created_at"`
	Members   []DashMember `json:"members"`
}

// DashMember is one PR of an aggregate, with what we know of it now.
type DashMember struct {
	Repo   string `json:"repo"`
	Number int64  `json:"number"`
	// SHA is the head the aggregate tested; Current says it is still the
	// PR's head.
	SHA      string   `json:"sha"`
	Current  bool     `json:"current"`
	Title    string   `json:"title"`
	State    string   `json:"state"`
	Packages []string `json:"packages"`
}

// DashLatestAggregates returns the perKey newest aggregates of every product
// and arch, by product, arch and newest first, with their members.
func DashLatestAggregates(ctx context.Context, db DBTX, perKey int) ([]DashAggregate, error) {
	rows, err := db.Query(ctx, `
		SELECT id, product, arch, build, created_at FROM (
			SELECT a.*, row_number() OVER (PARTITION BY product, arch ORDER BY id DESC) AS n FROM aggregates a
		) a WHERE n <= $1 ORDER BY product, arch, id DESC`, perKey)
	if err != nil {
		return nil, fmt.Errorf("latest aggregates: %w", err)
	}
	aggs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DashAggregate, error) {
		var a DashAggregate
		err := row.Scan(&a.ID, &a.Product, &a.Arch, &a.Build, &a.CreatedAt)
		a.Members = []DashMember{}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("latest aggregates: %w", err)
	}
	return aggs, dashMembers(ctx, db, aggs)
}

// DashAggregatesOfPull returns the limit newest aggregates that included the
// PR at any SHA, newest first, with their members.
func DashAggregatesOfPull(ctx context.Context, db DBTX, repo string, number int64, limit int) ([]DashAggregate, error) {
	rows, err := db.Query(ctx, `
		SELECT a.id, a.product, a.arch, a.build, a.created_at FROM aggregates a
		JOIN aggregate_members m ON m.aggregate_id = a.id
		WHERE m.repo = $1 AND m.number = $2 ORDER BY a.id DESC LIMIT $3`, repo, number, limit)
	if err != nil {
		return nil, fmt.Errorf("aggregates of %s#%d: %w", repo, number, err)
	}
	aggs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DashAggregate, error) {
		var a DashAggregate
		err := row.Scan(&a.ID, &a.Product, &a.Arch, &a.Build, &a.CreatedAt)
		a.Members = []DashMember{}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("aggregates of %s#%d: %w", repo, number, err)
	}
	return aggs, dashMembers(ctx, db, aggs)
}

func dashMembers(ctx context.Context, db DBTX, aggs []DashAggregate) error {
	if len(aggs) == 0 {
		return nil
	}
	at := make(map[int64]int, len(aggs))
	ids := make([]int64, len(aggs))
	for i, a := range aggs {
		at[a.ID], ids[i] = i, a.ID
	}
	rows, err := db.Query(ctx, `
		SELECT m.aggregate_id, m.repo, m.number, m.sha, coalesce(p.head_sha = m.sha, false),
			coalesce(p.title, ''), coalesce(p.state, ''), coalesce(p.packages, '{}')
		FROM aggregate_members m LEFT JOIN pulls p ON p.repo = m.repo AND p.number = m.number
		WHERE m.aggregate_id = ANY($1) ORDER BY m.aggregate_id, m.repo, m.number`, ids)
	if err != nil {
		return fmt.Errorf("aggregate members: %w", err)
	}
	type member struct {
		AggregateID int64
		DashMember
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (member, error) {
		var m member
		err := row.Scan(&m.AggregateID, &m.Repo, &m.Number, &m.SHA, &m.Current, &m.Title, &m.State, &m.Packages)
		return m, err
	})
	for _, m := range list {
		a := &aggs[at[m.AggregateID]]
		a.Members = append(a.Members, m.DashMember)
	}
	if err != nil {
		return fmt.Errorf("aggregate members: %w", err)
	}
	return nil
}

// DashAggregateResults returns the result buckets of the given aggregates,
// without any PR's acceptances: an aggregate's own view.
func DashAggregateResults(ctx context.Context, db DBTX, aggregateIDs []int64) ([]DashResult, error) {
	if len(aggregateIDs) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `
		WITH buckets AS (
			SELECT ''::text AS repo, 0::bigint AS number, a.id AS aggregate_id, a.product, a.arch,
				a.build AS aggregate_build, j.group_id, j.group_name,
				coalesce(nullif(j.distri, ''), r.distri) AS distri, coalesce(nullif(j.version, ''), r.version) AS version,
				coalesce(nullif(j.build, ''), r.build) AS build, j.state, j.result, false AS accepted
			FROM aggregates a JOIN test_runs r ON r.aggregate_id = a.id
			JOIN openqa_jobs j ON j.test_run_id = r.id
			WHERE a.id = ANY($1) AND `+dashJobWhere+`
		)`+dashBuckets, aggregateIDs)
	return collect(rows, err, pgx.RowToStructByPos[DashResult], "aggregate results")
}

// DashLastJobChange returns when any openQA job last changed, or nil when
// none is known: the "last updated" of every page, from the same source.
func DashLastJobChange(ctx context.Context, db DBTX) (*time.Time, error) {
	var t *time.Time
	if err := db.QueryRow(ctx, `SELECT max(changed_at) FROM openqa_jobs`).Scan(&t); err != nil {
		return nil, fmt.Errorf("last job change: %w", err)
	}
	return t, nil
}
