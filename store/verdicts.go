package store

import (
	"context"
	"fmt"

	"github.com/qemgate/qemgate/internal/pullref"
)

// SetVerdict stores the verdict of a PR at sha, if sha is still its head.
// changed reports whether verdict, SHA, reason or detail differ from what
// was stored; verdict_at moves only then, so it versions the verdict.
func SetVerdict(ctx context.Context, db DBTX, repo string, number int64, sha, verdict, reason string, detail []byte) (changed bool, err error) {
	tag, err := db.Exec(ctx, `UPDATE pulls SET verdict = $4, verdict_sha = $3, verdict_reason = $5,
			verdict_detail = $6, verdict_at = now()
		WHERE repo = $1 AND number = $2 AND head_sha = $3
			AND (verdict, verdict_sha, verdict_reason, verdict_detail) IS DISTINCT FROM ($4, $3, $5, $6::jsonb)`,
		repo, number, sha, verdict, reason, detail)
	if err != nil {
		return false, fmt.Errorf("store verdict of %s: %w", pullref.Format(repo, number, sha), err)
	}
	return tag.RowsAffected() == 1, nil
}
