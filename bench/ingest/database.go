package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qemgate/qemgate/migrations"
)

// scratch is the database a run creates and drops.
type scratch struct {
	admin, name, url string
}

// createDatabase creates and migrates a database of its own, so that a run
// starts from empty tables and cannot touch anyone's data.
func createDatabase(ctx context.Context, admin string) (*scratch, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return nil, fmt.Errorf("database URL cannot be parsed") // the error would echo a password
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	db := &scratch{admin: admin, name: "qemgate_bench_" + hex.EncodeToString(b)}
	u.Path = "/" + db.name
	db.url = u.String()
	if err := adminExec(ctx, admin, "CREATE DATABASE "+db.name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", db.name, err)
	}
	pool, err := pgxpool.New(ctx, db.url)
	if err == nil {
		_, err = migrations.Up(ctx, pool, nil)
		pool.Close()
	}
	if err != nil {
		_ = db.drop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("migrate %s: %w", db.name, err)
	}
	return db, nil
}

// open returns a pool of exactly maxConns connections at most.
func (db *scratch) open(ctx context.Context, maxConns int) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(db.url)
	if err != nil {
		return nil, fmt.Errorf("database URL cannot be parsed")
	}
	pc.MaxConns = int32(maxConns)
	pc.ConnConfig.RuntimeParams["application_name"] = "qemgate-bench"
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", db.name, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", db.name, err)
	}
	return pool, nil
}

func (db *scratch) drop(ctx context.Context) error {
	if err := adminExec(ctx, db.admin, "DROP DATABASE IF EXISTS "+db.name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", db.name, err)
	}
	return nil
}

func adminExec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// environment is what the numbers depend on besides the code.
type environment struct {
	PostgreSQL        string `json:"postgresql"`
	Fsync             string `json:"fsync"`
	SynchronousCommit string `json:"synchronous_commit"`
	FullPageWrites    string `json:"full_page_writes"`
	SharedBuffers     string `json:"shared_buffers"`
	CPUs              int    `json:"cpus"`
	GOMAXPROCS        int    `json:"gomaxprocs"`
	CPUModel          string `json:"cpu_model,omitempty"`
	Go                string `json:"go"`
}

func describe(ctx context.Context, pool *pgxpool.Pool) (environment, error) {
	env := environment{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version(), CPUModel: cpuModel()}
	err := pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit'), current_setting('full_page_writes'), current_setting('shared_buffers')`).
		Scan(&env.PostgreSQL, &env.Fsync, &env.SynchronousCommit, &env.FullPageWrites, &env.SharedBuffers)
	if err != nil {
		return env, fmt.Errorf("read server settings: %w", err)
	}
	return env, nil
}

// cpuModel names the processor where Linux says it; elsewhere it is empty.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// checkpoint flushes what the previous phase dirtied, so that its
// checkpoint does not land in the next phase. It needs a superuser (or
// pg_checkpoint); without one the phases simply share the server's
// schedule.
func checkpoint(ctx context.Context, pool *pgxpool.Pool) {
	_, _ = pool.Exec(ctx, "CHECKPOINT")
}

// resetIngest empties what an ingest phase fills, so that every phase
// starts alike, and checkpoints.
func resetIngest(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, `TRUNCATE deliveries, delivery_work, river_job, rerun_marks RESTART IDENTITY`); err != nil {
		return fmt.Errorf("empty the ingest tables: %w", err)
	}
	checkpoint(ctx, pool)
	return nil
}

// ingested counts what the ingest phase left in the database.
func ingested(ctx context.Context, pool *pgxpool.Pool) (deliveries, jobs int64, err error) {
	err = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM deliveries), (SELECT count(*) FROM river_job WHERE kind = 'sync_pull')`).
		Scan(&deliveries, &jobs)
	if err != nil {
		return 0, 0, fmt.Errorf("count stored deliveries and jobs: %w", err)
	}
	return deliveries, jobs, nil
}
