package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

// A delivery stored with its work is pending until FinishWork names its
// jobs; a duplicate stores no second work row; work pending for long is
// counted as stale; the record shows the jobs from the work row; retention
// deletes the work with its delivery.
func TestDeliveryWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	seven := int64(7)
	d := &store.Delivery{Source: "gitea", DeliveryID: "w-1", Repo: testRepo, Number: &seven, Body: []byte(`{}`), Outcome: store.OutcomeAccepted}
	ok, err := store.InsertDeliveryWork(ctx, pool, d, &store.Work{Repo: testRepo, Number: 7})
	require.NoError(t, err)
	require.True(t, ok)
	again := *d
	ok, err = store.InsertDeliveryWork(ctx, pool, &again, &store.Work{Repo: testRepo, Number: 7})
	require.NoError(t, err)
	require.False(t, ok, "a duplicate")
	n, err := store.PendingWork(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "one work row for the delivery and its duplicate")

	stale, err := store.StaleWork(ctx, pool, time.Minute)
	require.NoError(t, err)
	require.Zero(t, stale)
	_, err = pool.Exec(ctx, `UPDATE deliveries SET received_at = now() - interval '2 minutes'`)
	require.NoError(t, err)
	stale, err = store.StaleWork(ctx, pool, time.Minute)
	require.NoError(t, err)
	require.Equal(t, int64(1), stale)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	work, err := store.ClaimWork(ctx, tx, 10)
	require.NoError(t, err)
	require.Equal(t, []store.Work{{Delivery: d.ID, Repo: testRepo, Number: 7}}, work)
	require.NoError(t, store.FinishWork(ctx, tx, []int64{d.ID}, [][]int64{{41, 42}}))
	require.NoError(t, tx.Commit(ctx))
	n, err = store.PendingWork(ctx, pool)
	require.NoError(t, err)
	require.Zero(t, n)
	got, err := store.GetDelivery(ctx, pool, d.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{41, 42}, got.JobIDs)
	list, err := store.ListDeliveries(ctx, pool, store.DeliveryFilter{Repo: testRepo})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, []int64{41, 42}, list[0].JobIDs)

	deleted, err := store.DeleteDeliveriesBefore(ctx, pool, time.Now().Add(-time.Minute), 100)
	require.NoError(t, err)
	require.Equal(t, int64(1), deleted)
	var rows int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM delivery_work`).Scan(&rows))
	require.Zero(t, rows, "the work goes with its delivery")
}
