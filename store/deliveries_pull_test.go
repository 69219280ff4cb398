package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/store"
)

// openQA deliveries are stored without a PR; asking for a PR's deliveries
// finds them through their job's run, whatever path they took (hook, bus,
// replay), and never another PR's.
func TestListDeliveriesFindsTheOpenQADeliveriesOfAPull(t *testing.T) {
	t.Parallel()
	ctx, pool, run := setupRun(t, 500)
	_, err := store.UpsertOpenQAJob(ctx, pool, store.OpenQAJob{ID: 500, TestRunID: run.ID, Name: "ltp", State: "done", Result: "failed"})
	require.NoError(t, err)
	insert := func(source, id string, number *int64) {
		t.Helper()
		ok, err := store.InsertDelivery(ctx, pool, &store.Delivery{Source: source, DeliveryID: id, Event: "job_done",
			Repo: map[bool]string{true: testRepo}[number != nil], Number: number, Body: []byte(id), Outcome: store.OutcomeAccepted})
		require.NoError(t, err)
		require.True(t, ok)
	}
	seven, eight := int64(7), int64(8)
	insert("gitea", "g-1", &seven)
	insert("gitea", "g-2", &eight)
	insert("openqa", "job-500-0123456789abcdef", nil)
	insert("openqa", "job-500/sender-1/replay/1", nil)
	insert("openqa-amqp", "suse.openqa.job.done/job-500-aa", nil)
	insert("openqa", "job-5000-0123456789abcdef", nil)                    // another job
	insert("openqa", "job-99999999999999999999999-0123456789abcdef", nil) // no job id that fits: never an error
	insert("openqa", "suse.openqa.job.done/unreadable/x", nil)

	list, err := store.ListDeliveries(ctx, pool, store.DeliveryFilter{Repo: testRepo, Number: 7})
	require.NoError(t, err)
	var ids []string
	for _, d := range list {
		ids = append(ids, d.DeliveryID)
	}
	require.Equal(t, []string{"suse.openqa.job.done/job-500-aa", "job-500/sender-1/replay/1", "job-500-0123456789abcdef", "g-1"}, ids)

	list, err = store.ListDeliveries(ctx, pool, store.DeliveryFilter{Repo: testRepo, Number: 8})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "g-2", list[0].DeliveryID)
}
