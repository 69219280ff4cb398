package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qemgate/qemgate/internal/pullref"
)

// Report is one thing we posted (or, in dry-run, would have posted) to
// Gitea for a PR at a SHA. The row is what stops a re-run from posting twice.
type Report struct {
	ID          int64     `json:"id"`
	Repo        string    `json:"repo"`
	Number      int64     `json:"number"`
	SHA         string    `json:"sha"`
	Kind        string    `json:"kind"`
	Key         string    `json:"key"`
	State       string    `json:"state"`
	Description string    `json:"description,omitempty"`
	TargetURL   string    `json:"target_url,omitempty"`
	Body        string    `json:"body,omitempty"`
	GiteaID     int64     `json:"gitea_id,omitempty"` // review or comment id; 0 when none
	DryRun      bool      `json:"dry_run"`
	PostedAt    time.Time `json:"posted_at"`
}

// Report kinds.
const (
	ReportStatus    = "status"
	ReportApproval  = "approval"
	ReportDecline   = "decline"
	ReportSummary   = "summary"
	ReportDismissal = "dismissal"
)

const reportColumns = `id, repo, number, sha, kind, key, state, description, target_url, body, coalesce(gitea_id, 0), dry_run, posted_at`

// GetReport returns the report of a PR at sha of kind and key, or ErrNotFound.
func GetReport(ctx context.Context, db DBTX, repo string, number int64, sha, kind, key string) (*Report, error) {
	rows, err := db.Query(ctx, `SELECT `+reportColumns+` FROM reports
		WHERE repo = $1 AND number = $2 AND sha = $3 AND kind = $4 AND key = $5`, repo, number, sha, kind, key)
	return collectOne(rows, err, pgx.RowToStructByPos[Report], "read %s report %s of %s", kind, key, pullref.Format(repo, number, sha))
}

// SaveReport records r, replacing what was recorded under the same PR, SHA,
// kind and key (a status that changed, a summary edited in place).
func SaveReport(ctx context.Context, db DBTX, r *Report) error {
	err := db.QueryRow(ctx, `
		INSERT INTO reports (repo, number, sha, kind, key, state, description, target_url, body, gitea_id, dry_run, posted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())
		ON CONFLICT (repo, number, sha, kind, key) DO UPDATE SET state = EXCLUDED.state,
			description = EXCLUDED.description, target_url = EXCLUDED.target_url, body = EXCLUDED.body,
			gitea_id = EXCLUDED.gitea_id, dry_run = EXCLUDED.dry_run, posted_at = now()
		RETURNING id, posted_at`,
		r.Repo, r.Number, r.SHA, r.Kind, r.Key, r.State, r.Description, r.TargetURL, r.Body, nullID(r.GiteaID), r.DryRun,
	).Scan(&r.ID, &r.PostedAt)
	if err != nil {
		return fmt.Errorf("record %s report for %s: %w", r.Kind, pullref.Format(r.Repo, r.Number, r.SHA), err)
	}
	return nil
}

// ReportsOfPull returns every report of a PR, newest first.
func ReportsOfPull(ctx context.Context, db DBTX, repo string, number int64) ([]Report, error) {
	rows, err := db.Query(ctx, `SELECT `+reportColumns+` FROM reports WHERE repo = $1 AND number = $2
		ORDER BY posted_at DESC, id DESC`, repo, number)
	return collect(rows, err, pgx.RowToStructByPos[Report], "reports of %s#%d", repo, number)
}
