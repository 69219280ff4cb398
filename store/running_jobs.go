package store

import (
	"context"
	"fmt"
	"time"
)

// RunningJob is one River job in the running state and how long it has run.
type RunningJob struct {
	Kind string
	For  time.Duration
}

// RunningJobsOlderThan lists the River jobs running for longer than d, the
// oldest first: candidates for a job of a dead process.
func RunningJobsOlderThan(ctx context.Context, db DBTX, d time.Duration) ([]RunningJob, error) {
	rows, err := db.Query(ctx, `SELECT kind, extract(epoch FROM now() - attempted_at)::float8 FROM river_job
		WHERE state = 'running' AND attempted_at < now() - make_interval(secs => $1)
		ORDER BY attempted_at LIMIT 1000`, d.Seconds())
	if err != nil {
		return nil, fmt.Errorf("list jobs running for over %s: %w", d, err)
	}
	defer rows.Close()
	var out []RunningJob
	for rows.Next() {
		var j RunningJob
		var secs float64
		if err := rows.Scan(&j.Kind, &secs); err != nil {
			return nil, fmt.Errorf("list jobs running for over %s: %w", d, err)
		}
		j.For = time.Duration(secs * float64(time.Second))
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs running for over %s: %w", d, err)
	}
	return out, nil
}
