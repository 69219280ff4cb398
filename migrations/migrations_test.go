package migrations_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func emptyPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return emptyPoolAt(t, pgtest.Empty(t))
}

func emptyPoolAt(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

func TestUpTwiceIsNoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)

	require.ErrorIs(t, migrations.Check(ctx, pool), migrations.ErrNotCurrent, "an empty database is not current")

	first, err := migrations.Up(ctx, pool, nil)
	require.NoError(t, err)
	require.Len(t, first.Applied, len(migrations.All()))
	require.NotEmpty(t, first.River)
	require.NoError(t, migrations.Check(ctx, pool))

	second, err := migrations.Up(ctx, pool, nil)
	require.NoError(t, err)
	require.Empty(t, second.Applied)
	require.Empty(t, second.River)
	require.NoError(t, migrations.Check(ctx, pool))
}

func TestConcurrentUpAppliesOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := pgtest.Empty(t)

	// Each replica has its own pool, as separate processes would.
	const replicas = 4
	results := make([]migrations.Result, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		pool, err := pgxpool.New(ctx, url)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		wg.Go(func() { results[i], errs[i] = migrations.Up(ctx, pool, nil) })
	}
	wg.Wait()

	applied := 0
	for i := range replicas {
		require.NoError(t, errs[i])
		applied += len(results[i].Applied)
	}
	require.Equal(t, len(migrations.All()), applied, "each migration applied by exactly one replica")

	pool := emptyPoolAt(t, url)
	var rows int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM qemgate_migrations").Scan(&rows))
	require.Equal(t, len(migrations.All()), rows)
	require.NoError(t, migrations.Check(ctx, pool))
}

func TestCheckNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	_, err := pool.Exec(ctx, "DELETE FROM qemgate_migrations WHERE version = 2")
	require.NoError(t, err)
	err = migrations.Check(ctx, pool)
	require.ErrorIs(t, err, migrations.ErrNotCurrent)
	require.Contains(t, err.Error(), "0002_pulls")
}

// Delivery bodies are compressed with lz4 on a server that has it, and
// the migration still applies on one that does not (it keeps pglz).
func TestDeliveryBodiesUseLZ4WhereTheServerHasIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)
	_, err := migrations.Up(ctx, pool, nil)
	require.NoError(t, err)

	_, lz4Err := pool.Exec(ctx, `CREATE TEMP TABLE lz4_probe (b bytea COMPRESSION lz4)`)
	var method string
	require.NoError(t, pool.QueryRow(ctx, `SELECT attcompression::text FROM pg_attribute
		WHERE attrelid = 'deliveries'::regclass AND attname = 'body'`).Scan(&method))
	if lz4Err != nil {
		require.Empty(t, method, "no lz4 on this server (%v): the server's default", lz4Err)
		return
	}
	require.Equal(t, "l", method, "lz4")
}
