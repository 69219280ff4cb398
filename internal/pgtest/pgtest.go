// Package pgtest gives each test its own fresh, fully migrated PostgreSQL
// database, copied from a template that is migrated once per test binary.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qemgate/qemgate/migrations"
)

// EnvVar names the server tests run against; `make test` sets it.
const EnvVar = "QEMGATE_TEST_DATABASE_URL"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// Main runs the package's tests and then drops the template database, so a
// run leaves nothing behind. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that also needs another
// harness's cleanup: it runs m, drops the template and returns the code.
func Run(m interface{ Run() int }) int {
	code := m.Run()
	if templateName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := dropDatabase(ctx, templateName); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: drop template %s: %v\n", templateName, err)
		}
		cancel()
	}
	return code
}

// AdminURL is the URL of the server's maintenance database.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		tb.Fatalf("%s is not set: run the tests with `make test`, which starts a throwaway PostgreSQL", EnvVar)
	}
	return u
}

// URL returns the URL of a new, migrated, empty database that is dropped
// when the test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	admin := AdminURL(tb)
	templateOnce.Do(func() { templateName, templateErr = makeTemplate(admin) })
	if templateErr != nil {
		tb.Fatalf("pgtest: template database: %v", templateErr)
	}
	name := "qemgate_t_" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := exec(ctx, admin, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName)); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dropDatabase(ctx, name); err != nil {
			tb.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(tb, admin, name)
}

// New returns a pool on a new, migrated, empty database that is closed and
// dropped when the test ends.
func New(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), URL(tb))
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	tb.Cleanup(pool.Close) // runs before the drop registered by URL
	return pool
}

// Empty returns the URL of a new database without any migration, for tests
// of the migrations themselves.
func Empty(tb testing.TB) string {
	tb.Helper()
	admin := AdminURL(tb)
	name := "qemgate_e_" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := exec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = dropDatabase(ctx, name)
	})
	return withDatabase(tb, admin, name)
}

func makeTemplate(admin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := fmt.Sprintf("qemgate_tpl_%d_%s", os.Getpid(), randomSuffix())
	if err := exec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := replaceDatabase(admin, name)
	if err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	if _, err := migrations.Up(ctx, pool, nil); err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	return name, nil
}

func withDatabase(tb testing.TB, admin, name string) string {
	tb.Helper()
	u, err := replaceDatabase(admin, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return u
}

func replaceDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%s is not a URL: %w", EnvVar, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func exec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func dropDatabase(ctx context.Context, name string) error {
	return exec(ctx, os.Getenv(EnvVar), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
