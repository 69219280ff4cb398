package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// baseline is the cheapest durable write the server offers a client: one
// small row, one round-trip, one commit. Each delivery costs at least one
// such commit, so the ratio says how far the receiver is from that floor.
type baseline struct {
	pool *pgxpool.Pool
}

func newBaseline(ctx context.Context, pool *pgxpool.Pool) (*baseline, error) {
	// A logged table with a primary key, like deliveries: an unlogged one
	// would skip the WAL that every real write pays for.
	_, err := pool.Exec(ctx, `CREATE TABLE bench_insert (
		id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		seq bigint NOT NULL,
		at  timestamptz NOT NULL DEFAULT now()
	)`)
	if err != nil {
		return nil, fmt.Errorf("create baseline table: %w", err)
	}
	return &baseline{pool: pool}, nil
}

func (b *baseline) insert(ctx context.Context, seq int64) (string, error) {
	if _, err := b.pool.Exec(ctx, `INSERT INTO bench_insert (seq) VALUES ($1)`, seq); err != nil {
		return "error", fmt.Errorf("insert %d: %w", seq, err)
	}
	return "ok", nil
}

func (b *baseline) rows(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var n int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bench_insert`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count baseline rows: %w", err)
	}
	return n, nil
}
