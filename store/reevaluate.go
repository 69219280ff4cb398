package store

import (
	"context"
	"fmt"
	"time"

	"github.com/qemgate/qemgate/internal/pullref"
)

// MarkEvaluated records that an evaluation of the PR at sha began reading
// at t (the start of its attempt).
func MarkEvaluated(ctx context.Context, db DBTX, repo string, number int64, sha string, t time.Time) error {
	_, err := db.Exec(ctx, `UPDATE pulls SET evaluated_at = greatest(evaluated_at, $4)
		WHERE repo = $1 AND number = $2 AND head_sha = $3`, repo, number, sha, t)
	if err != nil {
		return fmt.Errorf("mark %s evaluated: %w", pullref.Format(repo, number, sha), err)
	}
	return nil
}

// StaleVerdict is an open PR whose verdict is older than what it is decided from.
type StaleVerdict struct {
	Repo   string
	Number int64
	// Reason is "jobs_newer" (a job of the head's runs or an acceptance
	// changed after the last evaluation began) or "head_unevaluated" (the
	// head has runs but the verdict is about another SHA).
	Reason string
}

// StaleVerdicts lists open PRs whose verdict a lost event left behind: a
// job of the head SHA's current runs, or an acceptance, changed after the
// last evaluation began (settle keeps a change that is being evaluated right
// now out), or the head SHA has runs but no verdict of its own.
func StaleVerdicts(ctx context.Context, db DBTX, settle time.Duration, limit int) ([]StaleVerdict, error) {
	rows, err := db.Query(ctx, `
		SELECT p.repo, p.number,
			CASE WHEN p.verdict_sha <> p.head_sha THEN 'head_unevaluated' ELSE 'jobs_newer' END
		FROM pulls p
		WHERE p.state = 'open'
		  AND EXISTS (SELECT 1 FROM test_runs r WHERE r.repo = p.repo AND r.number = p.number
				AND r.sha = p.head_sha AND r.state <> 'superseded')
		  AND (p.verdict_sha <> p.head_sha
			OR p.evaluated_at IS NULL
			OR EXISTS (SELECT 1 FROM test_runs r JOIN openqa_jobs j ON j.test_run_id = r.id
				WHERE r.repo = p.repo AND r.number = p.number AND r.sha = p.head_sha AND r.state <> 'superseded'
				  AND j.changed_at > p.evaluated_at AND j.changed_at < now() - make_interval(secs => $1))
			OR EXISTS (SELECT 1 FROM job_acceptances a WHERE a.repo = p.repo AND a.number = p.number
				  AND a.created_at > p.evaluated_at AND a.created_at < now() - make_interval(secs => $1)))
		ORDER BY p.repo, p.number
		LIMIT $2`, settle.Seconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("list stale verdicts: %w", err)
	}
	defer rows.Close()
	var out []StaleVerdict
	for rows.Next() {
		var s StaleVerdict
		if err := rows.Scan(&s.Repo, &s.Number, &s.Reason); err != nil {
			return nil, fmt.Errorf("list stale verdicts: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stale verdicts: %w", err)
	}
	return out, nil
}
