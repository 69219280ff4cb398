package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

// Every store error names its operation and key and keeps its cause for
// errors.Is and errors.As; the error of the work inside InTx comes back as
// it is.
func TestErrorsNameTheOperationAndKeepTheCause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)

	_, err := store.GetDelivery(ctx, pool, 42)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.EqualError(t, err, "read delivery 42: not found")

	_, err = store.GetPull(ctx, pool, "products/SLFO", 7)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.EqualError(t, err, "read pull products/SLFO#7: not found")

	// PostgreSQL refuses a NUL in text: its error stays reachable.
	_, err = store.ListDeliveries(ctx, pool, store.DeliveryFilter{Source: "gitea\x00"})
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.ErrorContains(t, err, "list deliveries: ")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = store.SetDeliveryJobs(cancelled, pool, 42, []int64{1})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "record jobs of delivery 42: ")

	mine := errors.New("mine")
	err = store.New(pool).InTx(ctx, func(pgx.Tx) error { return mine })
	require.Same(t, mine, err)
	err = store.New(pool).InTx(cancelled, func(pgx.Tx) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "transaction: ")
}
