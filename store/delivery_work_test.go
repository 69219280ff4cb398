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

// Many deliveries in one statement: each new one is stored with its
// fields, headers, body and work; one stored before, or repeated within
// the group, is left to InsertDeliveryWork; deliveries without work get no
// work row.
func TestInsertDeliveriesWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	seven, eight := int64(7), int64(8)
	before := &store.Delivery{Source: "gitea", DeliveryID: "g-0", Body: []byte(`{"before":1}`), Outcome: store.OutcomeAccepted}
	_, err := store.InsertDelivery(ctx, pool, before)
	require.NoError(t, err)

	ds := []*store.Delivery{
		{Source: "gitea", DeliveryID: "g-1", Event: "pull_request", EventType: "pull_request_sync", Action: "synchronized", Repo: testRepo,
			Number: &seven, SHA: "abc", Sender: "dev", Headers: map[string]string{"X-Gitea-Delivery": "g-1"}, Body: []byte(`{"n":1}`),
			Outcome: store.OutcomeAccepted},
		{Source: "gitea", DeliveryID: "g-0", Body: []byte(`{"before":1}`), Outcome: store.OutcomeAccepted}, // stored before
		{Source: "openqa", DeliveryID: "job-5", Body: []byte(`{"n":2}`), Outcome: store.OutcomeAccepted},
		{Source: "gitea", DeliveryID: "g-1", Body: []byte(`{"n":3}`), Outcome: store.OutcomeAccepted}, // repeats the first
		{Source: "gitea", DeliveryID: "g-2", Repo: "other/repo", Number: &eight, Body: []byte(`{"n":4}`), Outcome: store.OutcomeIgnored,
			Reason: "repository other/repo is not watched"},
	}
	works := []*store.Work{{Repo: testRepo, Number: 7}, {Repo: testRepo, Number: 1}, {OpenQAJob: 5}, {Repo: testRepo, Number: 7}, nil}
	stored, err := store.InsertDeliveriesWork(ctx, pool, ds, works)
	require.NoError(t, err)
	require.Len(t, stored, len(ds))
	for i, want := range []bool{true, false, true, false, true} {
		require.Equal(t, want, stored[i].Inserted(), "delivery %d", i)
		require.Equal(t, want, !stored[i].ReceivedAt.IsZero(), "delivery %d", i)
	}

	got, err := store.GetDelivery(ctx, pool, stored[0].ID)
	require.NoError(t, err)
	require.Equal(t, "pull_request_sync", got.EventType)
	require.Equal(t, "synchronized", got.Action)
	require.Equal(t, testRepo, got.Repo)
	require.Equal(t, &seven, got.Number)
	require.Equal(t, "abc", got.SHA)
	require.Equal(t, "dev", got.Sender)
	require.Equal(t, map[string]string{"X-Gitea-Delivery": "g-1"}, got.Headers)
	require.Equal(t, []byte(`{"n":1}`), got.Body)
	ignored, err := store.GetDelivery(ctx, pool, stored[4].ID)
	require.NoError(t, err)
	require.Equal(t, store.OutcomeIgnored, ignored.Outcome)
	require.Equal(t, "repository other/repo is not watched", ignored.Reason)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	work, err := store.ClaimWork(ctx, tx, 10)
	require.NoError(t, err)
	require.ElementsMatch(t, []store.Work{
		{Delivery: stored[0].ID, Repo: testRepo, Number: 7},
		{Delivery: stored[2].ID, OpenQAJob: 5},
	}, work, "work for the stored deliveries that have some, and only for them")
}
