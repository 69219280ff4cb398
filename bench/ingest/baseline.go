package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// baseline is what pgbench would measure with a script of one INSERT of a
// real delivery body: one row of the same size per transaction, into a
// logged table with a primary key, one round trip, autocommit. A delivery
// must be at least that durable before it is acknowledged, so its rate is
// the physical limit the receiver is compared with.
type baseline struct {
	pool *pgxpool.Pool
	body []byte
}

// The body column is compressed as the server compresses by default
// (pglz), unless lz4 is true: qemgate's deliveries use lz4 (migration
// 0011), and -baseline-lz4 shows the ratio against a baseline that does
// the same.
func newBaseline(ctx context.Context, pool *pgxpool.Pool, body []byte, lz4 bool) (*baseline, error) {
	compression := ""
	if lz4 {
		compression = "COMPRESSION lz4"
	}
	_, err := pool.Exec(ctx, `DROP TABLE IF EXISTS bench_delivery`)
	if err == nil {
		_, err = pool.Exec(ctx, `CREATE TABLE bench_delivery (
		id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		body bytea `+compression+` NOT NULL
	)`)
	}
	if err != nil {
		return nil, fmt.Errorf("create baseline table: %w", err)
	}
	return &baseline{pool: pool, body: body}, nil
}

// reset empties the table before a phase, so that every phase starts alike.
func (b *baseline) reset(ctx context.Context) error {
	if _, err := b.pool.Exec(ctx, `TRUNCATE bench_delivery`); err != nil {
		return fmt.Errorf("empty baseline table: %w", err)
	}
	return nil
}

func (b *baseline) insert(ctx context.Context, seq int64) (string, error) {
	if _, err := b.pool.Exec(ctx, `INSERT INTO bench_delivery (body) VALUES ($1)`, b.body); err != nil {
		return "error", fmt.Errorf("insert %d: %w", seq, err)
	}
	return "ok", nil
}

func (b *baseline) rows(ctx context.Context) (int64, error) {
	var n int64
	if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM bench_delivery`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count baseline rows: %w", err)
	}
	return n, nil
}
