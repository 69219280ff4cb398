package store

import (
	"context"
	"time"
)

// MarkRerun records that the job of kind for key must run again after the
// attempt that is running now.
func MarkRerun(ctx context.Context, db DBTX, kind, key string) error {
	_, err := db.Exec(ctx, `INSERT INTO rerun_marks (kind, key) VALUES ($1, $2)
		ON CONFLICT (kind, key) DO UPDATE SET marked_at = now()`, kind, key)
	return err
}

// MarkedSince reports whether a rerun of kind for key was asked for after t.
func MarkedSince(ctx context.Context, db DBTX, kind, key string, t time.Time) (bool, error) {
	var marked bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rerun_marks WHERE kind = $1 AND key = $2 AND marked_at >= $3)`,
		kind, key, t).Scan(&marked)
	return marked, err
}

// DeleteRerunMarksBefore forgets marks older than t; they were consumed.
func DeleteRerunMarksBefore(ctx context.Context, db DBTX, t time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM rerun_marks WHERE marked_at < $1`, t)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
