package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClaimWork locks at most limit pending work rows, oldest first, for the
// transaction tx. Rows another transaction holds are skipped, so that
// dispatchers on every replica can run at once; a row whose transaction
// ends without FinishWork (a crash, a rollback) is pending again.
func ClaimWork(ctx context.Context, tx pgx.Tx, limit int) ([]Work, error) {
	rows, err := tx.Query(ctx, `SELECT delivery, repo, number, sha, openqa_job, deep FROM delivery_work
		WHERE job_ids IS NULL ORDER BY delivery LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
	return collect(rows, err, func(row pgx.CollectableRow) (Work, error) {
		var w Work
		err := row.Scan(&w.Delivery, &w.Repo, &w.Number, &w.SHA, &w.OpenQAJob, &w.Deep)
		return w, err
	}, "claim delivery work")
}

// FinishWork records the jobs of claimed work rows, which makes them
// dispatched: jobIDs[i] are the jobs of deliveries[i].
func FinishWork(ctx context.Context, tx pgx.Tx, deliveries []int64, jobIDs [][]int64) error {
	if len(deliveries) != len(jobIDs) {
		return fmt.Errorf("finish delivery work: %d deliveries, %d job lists", len(deliveries), len(jobIDs))
	}
	// One statement for the batch: job lists travel as text, one array
	// literal each, because pgx cannot send a ragged bigint[][].
	lists := make([]string, len(jobIDs))
	for i, ids := range jobIDs {
		b := make([]byte, 0, 2+len(ids)*8)
		b = append(b, '{')
		for j, id := range ids {
			if j > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, "%d", id)
		}
		lists[i] = string(append(b, '}'))
	}
	tag, err := tx.Exec(ctx, `UPDATE delivery_work w SET job_ids = u.ids::bigint[]
		FROM unnest($1::bigint[], $2::text[]) AS u(delivery, ids) WHERE w.delivery = u.delivery`, deliveries, lists)
	if err != nil {
		return fmt.Errorf("finish delivery work: %w", err)
	}
	if int(tag.RowsAffected()) != len(deliveries) {
		return fmt.Errorf("finish delivery work: %d of %d rows updated", tag.RowsAffected(), len(deliveries))
	}
	return nil
}

// PendingWork counts work rows not dispatched yet.
func PendingWork(ctx context.Context, db DBTX) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, `SELECT count(*) FROM delivery_work WHERE job_ids IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending delivery work: %w", err)
	}
	return n, nil
}

// StaleWork counts work rows still pending whose delivery was received
// before now minus age.
func StaleWork(ctx context.Context, db DBTX, age time.Duration) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT count(*) FROM delivery_work w JOIN deliveries d ON d.id = w.delivery
		WHERE w.job_ids IS NULL AND d.received_at < now() - make_interval(secs => $1)`, age.Seconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count stale delivery work: %w", err)
	}
	return n, nil
}
