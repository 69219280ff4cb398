package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// JobGroup is a cached openQA job group: its name, owner and parent decide
// how its jobs count and who is told about failures.
type JobGroup struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	ParentID    int64     `json:"parent_id,omitempty"`
	ParentName  string    `json:"parent_name,omitempty"`
	Contact     string    `json:"contact,omitempty"`
	FetchedAt   time.Time `json:"fetched_at"`
}

// UpsertJobGroup stores what openQA said about a group now.
func UpsertJobGroup(ctx context.Context, db DBTX, g JobGroup) error {
	_, err := db.Exec(ctx, `
		INSERT INTO openqa_job_groups (id, name, description, parent_id, parent_name, contact, fetched_at)
		VALUES ($1, $2, $3, $4, $5, $6, now())
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
			parent_id = EXCLUDED.parent_id, parent_name = EXCLUDED.parent_name, contact = EXCLUDED.contact,
			fetched_at = now()`,
		g.ID, g.Name, g.Description, g.ParentID, g.ParentName, g.Contact)
	if err != nil {
		return fmt.Errorf("upsert job group %d: %w", g.ID, err)
	}
	return nil
}

// GetJobGroup returns a cached group, or ErrNotFound.
func GetJobGroup(ctx context.Context, db DBTX, id int64) (*JobGroup, error) {
	rows, err := db.Query(ctx, `SELECT id, name, description, parent_id, parent_name, contact, fetched_at
		FROM openqa_job_groups WHERE id = $1`, id)
	return collectOne(rows, err, pgx.RowToStructByPos[JobGroup], "read job group %d", id)
}
