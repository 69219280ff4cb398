package store

import (
	"context"
	"fmt"
	"time"
)

// MarkRerun records that the job of kind for key must run again after the
// attempt that is running now. The mark carries the wall clock of the
// statement, not of its transaction, so it is later than the attempt it
// saw running even when its transaction began before that attempt.
func MarkRerun(ctx context.Context, db DBTX, kind, key string) error {
	_, err := db.Exec(ctx, `INSERT INTO rerun_marks (kind, key, marked_at) VALUES ($1, $2, clock_timestamp())
		ON CONFLICT (kind, key) DO UPDATE SET marked_at = clock_timestamp()`, kind, key)
	if err != nil {
		return fmt.Errorf("mark %s %s for a rerun: %w", kind, key, err)
	}
	return nil
}

// TakeRerunMarks deletes the marks of kind for key and reports whether one
// was written at or after since (the start of the attempt that ends now):
// news that attempt may not have read.
func TakeRerunMarks(ctx context.Context, db DBTX, kind, key string, since time.Time) (bool, error) {
	rows, err := db.Query(ctx, `DELETE FROM rerun_marks WHERE kind = $1 AND key = $2 RETURNING marked_at >= $3`, kind, key, since)
	if err != nil {
		return false, fmt.Errorf("take rerun marks of %s %s: %w", kind, key, err)
	}
	defer rows.Close()
	var marked bool
	for rows.Next() {
		var newer bool
		if err := rows.Scan(&newer); err != nil {
			return false, fmt.Errorf("take rerun marks of %s %s: %w", kind, key, err)
		}
		marked = marked || newer
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("take rerun marks of %s %s: %w", kind, key, err)
	}
	return marked, nil
}

// DeleteRerunMarksBefore forgets marks older than t: left by attempts that
// failed or were cancelled, whose retries read the news anyway.
func DeleteRerunMarksBefore(ctx context.Context, db DBTX, t time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM rerun_marks WHERE marked_at < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("delete rerun marks before %s: %w", t.Format(time.RFC3339), err)
	}
	return tag.RowsAffected(), nil
}
