package store

import (
	"context"
	"fmt"
	"time"
)

// NewerHeadEvent returns the head SHA named by an accepted Gitea delivery for
// the PR that arrived after since (our last read of the PR) and differs from
// sha, or "" when there is none: a push we have stored but not synced yet.
func NewerHeadEvent(ctx context.Context, db DBTX, repo string, number int64, sha string, since time.Time) (string, error) {
	var other string
	err := db.QueryRow(ctx, `SELECT coalesce((SELECT sha FROM deliveries
		WHERE repo = $1 AND number = $2 AND source = 'gitea' AND outcome = 'accepted'
			AND sha <> '' AND lower(sha) <> lower($3) AND received_at > $4
		ORDER BY received_at DESC LIMIT 1), '')`, repo, number, sha, since).Scan(&other)
	if err != nil {
		return "", fmt.Errorf("newer head event of %s#%d: %w", repo, number, err)
	}
	return other, nil
}
