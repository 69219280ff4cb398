package store

import (
	"context"
	"fmt"
	"time"
)

// Readers only the tests need; the service reads the verdict with the PR.

// StoredVerdict is the verdict a PR carries and when it last changed.
type StoredVerdict struct {
	Verdict string
	SHA     string
	Reason  string
	Detail  []byte
	At      *time.Time
}

// GetVerdict returns the stored verdict of a PR.
func GetVerdict(ctx context.Context, db DBTX, repo string, number int64) (StoredVerdict, error) {
	var v StoredVerdict
	err := db.QueryRow(ctx, `SELECT verdict, verdict_sha, verdict_reason, verdict_detail, verdict_at FROM pulls
		WHERE repo = $1 AND number = $2`, repo, number).Scan(&v.Verdict, &v.SHA, &v.Reason, &v.Detail, &v.At)
	if err != nil {
		return v, fmt.Errorf("read verdict of %s#%d: %w", repo, number, notFound(err))
	}
	return v, nil
}
