// Package store holds every SQL statement qemgate runs: typed functions over
// pgx, one file per table family. No other package writes SQL.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DBTX is what a query needs: a pool, a connection or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store is the database.
type Store struct {
	Pool *pgxpool.Pool
}

// New wraps a pool.
func New(pool *pgxpool.Pool) *Store { return &Store{Pool: pool} }

// InTx runs fn in one transaction, committed when fn returns nil. fn's own
// error comes back as it is; a failed begin, commit or rollback says so.
func (s *Store) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	fnFailed := false
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		err := fn(tx)
		fnFailed = err != nil
		return err
	})
	if err != nil && !fnFailed {
		return fmt.Errorf("transaction: %w", err)
	}
	return err
}

// collect reads every row of a query with fn. Pass the query's rows and
// error as they came: either failure, the query's or a row's, comes back
// naming the read (what, formatted with args), as every store error does.
func collect[T any](rows pgx.Rows, err error, fn pgx.RowToFunc[T], what string, args ...any) ([]T, error) {
	if err == nil {
		var out []T
		if out, err = pgx.CollectRows(rows, fn); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf(what+": %w", append(args, err)...)
}

// collectOne reads the one row of a query with fn, like collect; no row is
// ErrNotFound, named like any other failure.
func collectOne[T any](rows pgx.Rows, err error, fn pgx.RowToFunc[T], what string, args ...any) (*T, error) {
	if err == nil {
		var v T
		if v, err = pgx.CollectExactlyOneRow(rows, fn); err == nil {
			return &v, nil
		}
	}
	return nil, fmt.Errorf(what+": %w", append(args, notFound(err))...)
}

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
