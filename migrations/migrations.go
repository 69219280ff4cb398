// Package migrations owns the database schema: our embedded SQL migrations and
// River's, applied together in one transaction under an advisory lock.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed sql/*.sql
var files embed.FS

// lockKey serialises migrations across replicas that start at the same time.
const lockKey = 7243001 // arbitrary, but fixed forever

// Migration is one of our own schema steps.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// All returns our migrations in order.
func All() []Migration {
	entries, err := fs.ReadDir(files, "sql")
	if err != nil {
		panic(err) // the embed is part of the binary
	}
	var out []Migration
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic(fmt.Sprintf("migration %s: name must be NNNN_name.sql", e.Name()))
		}
		b, _ := files.ReadFile(path.Join("sql", e.Name()))
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// Result says what Up did.
type Result struct {
	River   []int // River versions applied
	Applied []int // our versions applied
}

// Up applies River's and then our pending migrations. Running it again is a
// no-op; concurrent callers (replicas starting at once) wait for each other on
// a session advisory lock, so nothing is applied twice. River's steps run
// each in its own transaction (some add enum values that later steps use,
// which Postgres does not allow in one transaction); ours run together in one.
func Up(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (Result, error) {
	var res Result
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return res, fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx was cancelled.
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(unlockCtx, "SELECT pg_advisory_unlock($1)", lockKey); err != nil {
			conn.Conn().Close(unlockCtx) // closing the session drops the lock too
		}
	}()

	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return res, err
	}
	rr, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return res, fmt.Errorf("river migrations: %w", err)
	}
	for _, v := range rr.Versions {
		res.River = append(res.River, v.Version)
	}

	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS qemgate_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create qemgate_migrations: %w", err)
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range All() {
			if applied[m.Version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO qemgate_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return fmt.Errorf("record migration %04d: %w", m.Version, err)
			}
			res.Applied = append(res.Applied, m.Version)
		}
		return nil
	})
	if err != nil {
		return Result{River: res.River}, err
	}
	if logger != nil && (len(res.Applied) > 0 || len(res.River) > 0) {
		logger.Info("migrations applied", "qemgate", res.Applied, "river", res.River)
	}
	return res, nil
}

func appliedVersions(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (map[int]bool, error) {
	rows, err := q.Query(ctx, "SELECT version FROM qemgate_migrations")
	if err != nil {
		return nil, fmt.Errorf("read qemgate_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read qemgate_migrations: %w", err)
	}
	out := make(map[int]bool, len(versions))
	for _, v := range versions {
		out[v] = true
	}
	return out, nil
}

// ErrNotCurrent says that the database lacks migrations this binary needs.
var ErrNotCurrent = errors.New("migrations are not current")

// Check reports whether both River's and our migrations are current, for
// readiness. It never changes anything.
func Check(ctx context.Context, pool *pgxpool.Pool) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	vr, err := migrator.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("validate river migrations: %w", err)
	}
	if !vr.OK {
		return fmt.Errorf("%w: river: %s", ErrNotCurrent, strings.Join(vr.Messages, "; "))
	}
	applied, err := appliedVersions(ctx, pool)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotCurrent, err)
	}
	var missing []string
	for _, m := range All() {
		if !applied[m.Version] {
			missing = append(missing, fmt.Sprintf("%04d_%s", m.Version, m.Name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrNotCurrent, strings.Join(missing, ", "))
	}
	return nil
}
