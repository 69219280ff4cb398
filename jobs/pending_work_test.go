package jobs

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

// TestPendingWorkCollector: the outbox's backlog, and what of it is stale,
// as the alert QemgateDeliveriesNotDispatched reads it.
func TestPendingWorkCollector(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	st := store.New(pool)
	for i, id := range []string{"fresh", "old"} {
		d := &store.Delivery{Source: "gitea", DeliveryID: id, EventType: "pull_request", Body: []byte(`{}`), Outcome: store.OutcomeAccepted}
		inserted, err := store.InsertDeliveryWork(ctx, pool, d, &store.Work{Repo: "products/SLFO", Number: int64(i + 1)})
		require.NoError(t, err)
		require.True(t, inserted)
	}
	_, err := pool.Exec(ctx, `UPDATE deliveries SET received_at = now() - interval '5 minutes' WHERE delivery_id = 'old'`)
	require.NoError(t, err)

	want := `
# HELP qemgate_delivery_work_pending Acknowledged deliveries whose River jobs the dispatcher has not inserted yet (delivery_work rows). Usually 0 or a few for a moment.
# TYPE qemgate_delivery_work_pending gauge
qemgate_delivery_work_pending 2
# HELP qemgate_delivery_work_stale Acknowledged deliveries still waiting for their River jobs after a minute: the dispatcher fails (see its log) or no replica runs it.
# TYPE qemgate_delivery_work_stale gauge
qemgate_delivery_work_stale 1
`
	require.NoError(t, testutil.CollectAndCompare(PendingWorkCollector(st), strings.NewReader(want)))
}
