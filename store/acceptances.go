package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// JobAcceptance is an openQA comment that accepts a not-ok job for one PR
// ("@review:acceptable_for:submission_<N>:<reason>").
type JobAcceptance struct {
	JobID     int64     `json:"job_id"`
	Repo      string    `json:"repo"`
	Number    int64     `json:"number"`
	CommentID int64     `json:"comment_id"`
	Rule      string    `json:"rule"`
	Reason    string    `json:"reason"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// SetJobAcceptances makes list the job's acceptances of rule: rows not in
// list are deleted (the comment was removed or edited), new and changed ones
// written. It returns the PRs whose acceptances changed.
func SetJobAcceptances(ctx context.Context, db DBTX, jobID int64, rule string, list []JobAcceptance) ([]PullKey, error) {
	old, err := acceptancesOfJob(ctx, db, jobID, rule)
	if err != nil {
		return nil, err
	}
	var changed []PullKey
	note := func(k PullKey) {
		if !slices.Contains(changed, k) {
			changed = append(changed, k)
		}
	}
	keep := map[PullKey]bool{}
	for _, a := range list {
		k := PullKey{Repo: a.Repo, Number: a.Number}
		if keep[k] {
			continue // the first matching comment wins, as in the verdict
		}
		keep[k] = true
		tag, err := db.Exec(ctx, `
			INSERT INTO job_acceptances (job_id, repo, number, comment_id, rule, reason, author)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (job_id, repo, number, rule) DO UPDATE SET comment_id = EXCLUDED.comment_id,
				reason = EXCLUDED.reason, author = EXCLUDED.author
			WHERE (job_acceptances.comment_id, job_acceptances.reason, job_acceptances.author)
				IS DISTINCT FROM (EXCLUDED.comment_id, EXCLUDED.reason, EXCLUDED.author)`,
			jobID, a.Repo, a.Number, a.CommentID, rule, a.Reason, a.Author)
		if err != nil {
			return nil, fmt.Errorf("record acceptance of job %d for %s#%d: %w", jobID, a.Repo, a.Number, err)
		}
		if tag.RowsAffected() > 0 {
			note(k)
		}
	}
	for _, a := range old {
		k := PullKey{Repo: a.Repo, Number: a.Number}
		if keep[k] {
			continue
		}
		if _, err := db.Exec(ctx, `DELETE FROM job_acceptances WHERE job_id = $1 AND repo = $2 AND number = $3 AND rule = $4`,
			jobID, a.Repo, a.Number, rule); err != nil {
			return nil, fmt.Errorf("drop acceptance of job %d for %s#%d: %w", jobID, a.Repo, a.Number, err)
		}
		note(k)
	}
	return changed, nil
}

const acceptanceColumns = `job_id, repo, number, comment_id, rule, reason, author, created_at`

func acceptancesOfJob(ctx context.Context, db DBTX, jobID int64, rule string) ([]JobAcceptance, error) {
	rows, err := db.Query(ctx, `SELECT `+acceptanceColumns+` FROM job_acceptances WHERE job_id = $1 AND rule = $2`, jobID, rule)
	return collect(rows, err, pgx.RowToStructByPos[JobAcceptance], "acceptances of job %d", jobID)
}

// AcceptancesOfPull returns the acceptances recorded for a PR on any of jobIDs.
func AcceptancesOfPull(ctx context.Context, db DBTX, repo string, number int64, jobIDs []int64) ([]JobAcceptance, error) {
	if len(jobIDs) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT `+acceptanceColumns+` FROM job_acceptances
		WHERE repo = $1 AND number = $2 AND job_id = ANY($3) ORDER BY job_id, rule`, repo, number, jobIDs)
	return collect(rows, err, pgx.RowToStructByPos[JobAcceptance], "acceptances of %s#%d", repo, number)
}
