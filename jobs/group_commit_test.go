package jobs

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

// groupFixture is an Ingest on a database of its own that records the
// size of every group it commits.
type groupFixture struct {
	pool   *pgxpool.Pool
	in     *Ingest
	mu     sync.Mutex
	groups []int
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	f := &groupFixture{pool: pgtest.New(t)}
	f.in = newDispatchIngest(t, f.pool)
	f.in.OnGroup = func(n int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.groups = append(f.groups, n)
	}
	return f
}

// holdWriter makes the group writer wait: a transaction locks delivery_work
// until the returned function ends it.
func (f *groupFixture) holdWriter(t *testing.T) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := f.pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `LOCK TABLE delivery_work IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	var once sync.Once
	release = func() { once.Do(func() { require.NoError(t, tx.Commit(ctx)) }) }
	t.Cleanup(release)
	return release
}

// waitQueued waits until the writer has taken a group and n deliveries
// wait for the next.
func (f *groupFixture) waitQueued(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		f.in.group.mu.Lock()
		defer f.in.group.mu.Unlock()
		return f.in.group.writers == 1 && len(f.in.group.queue) == n
	}, time.Minute, 5*time.Millisecond, "a group being written and %d deliveries waiting for the next", n)
}

func (f *groupFixture) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.groups)
}

func (f *groupFixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, f.pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

func delivery(id, body string) *store.Delivery {
	return &store.Delivery{Source: "gitea", DeliveryID: id, EventType: "pull_request", Body: []byte(body), Outcome: store.OutcomeAccepted}
}

type acceptResult struct {
	d   *store.Delivery
	res Accepted
	err error
}

// acceptAll accepts every delivery at once, each from its own goroutine.
func (f *groupFixture) acceptAll(ctx context.Context, ds []*store.Delivery, intent func(i int) Intent) chan acceptResult {
	out := make(chan acceptResult, len(ds))
	for i, d := range ds {
		go func() {
			res, err := f.in.Accept(ctx, d, intent(i))
			out <- acceptResult{d, res, err}
		}()
	}
	return out
}

// Deliveries that arrive while a group commits are stored together, in one
// group, each exactly once with its work: a redelivery in the same group is
// a duplicate, and an id reused with another body is stored under its
// reused id.
func TestAcceptStoresConcurrentDeliveriesInOneGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGroupFixture(t)
	release := f.holdWriter(t)
	first := f.acceptAll(ctx, []*store.Delivery{delivery("first", `{}`)}, func(int) Intent { return Intent{Repo: "products/SLFO", Number: 1} })
	f.waitQueued(t, 0) // the writer has taken it, and waits for the lock

	var ds []*store.Delivery
	for i := range 30 {
		ds = append(ds, delivery(fmt.Sprintf("d-%d", i), fmt.Sprintf(`{"i":%d}`, i)))
	}
	ds = append(ds, delivery("again", `{"same":1}`), delivery("again", `{"same":1}`), delivery("reused", `{"a":1}`), delivery("reused", `{"b":2}`))
	results := f.acceptAll(ctx, ds, func(i int) Intent { return Intent{Repo: "products/SLFO", Number: int64(i%5 + 1)} })
	f.waitQueued(t, len(ds))
	release()

	got := <-first
	require.NoError(t, got.err)
	require.True(t, got.res.Queued)
	var duplicates, reused int
	for range ds {
		r := <-results
		require.NoError(t, r.err, r.d.DeliveryID)
		if r.res.Duplicate {
			duplicates++
			require.Equal(t, "again", r.d.DeliveryID)
			continue
		}
		require.Positive(t, r.res.Delivery)
		require.Equal(t, r.res.Delivery, r.d.ID, "the caller's delivery carries its id")
		require.False(t, r.d.ReceivedAt.IsZero())
		if r.d.IDReused {
			reused++
			require.Equal(t, store.ReusedID("reused", r.d.Body), r.d.DeliveryID)
		}
	}
	require.Equal(t, 1, duplicates, "the redelivery")
	require.Equal(t, 1, reused, "the id sent again with another body")
	require.Contains(t, f.sizes(), len(ds), "every delivery that waited went in one group")

	require.Equal(t, len(ds), f.count(t, `SELECT count(*) FROM deliveries`), "first, 30, again once, reused twice")
	require.Equal(t, len(ds), f.count(t, `SELECT count(*) FROM delivery_work`), "one work row per stored delivery")
	n, err := f.in.DispatchAll(ctx)
	require.NoError(t, err)
	require.Equal(t, len(ds), n)
	require.Equal(t, 5, f.count(t, `SELECT count(*) FROM river_job WHERE kind = $1`, SyncPullArgs{}.Kind()), "one sync per PR")
}

// A delivery PostgreSQL refuses fails alone: the others of its group are
// stored one by one, and acknowledged.
func TestAcceptGroupWithARefusedRowStoresTheOthers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGroupFixture(t)
	release := f.holdWriter(t)
	first := f.acceptAll(ctx, []*store.Delivery{delivery("first", `{}`)}, func(int) Intent { return Intent{} })
	f.waitQueued(t, 0)

	bad := delivery("bad", `{}`)
	bad.Outcome = "no such outcome" // the table's check refuses it
	ds := []*store.Delivery{delivery("good-1", `{"g":1}`), bad, delivery("good-2", `{"g":2}`)}
	results := f.acceptAll(ctx, ds, func(int) Intent { return Intent{Repo: "products/SLFO", Number: 3} })
	f.waitQueued(t, len(ds))
	release()

	require.NoError(t, (<-first).err)
	for range ds {
		r := <-results
		if r.d == bad {
			require.ErrorContains(t, r.err, "deliveries_outcome_check")
			continue
		}
		require.NoError(t, r.err, r.d.DeliveryID)
		require.True(t, r.res.Queued)
	}
	require.Equal(t, 3, f.count(t, `SELECT count(*) FROM deliveries`), "first and both good ones")
	require.Equal(t, 2, f.count(t, `SELECT count(*) FROM delivery_work`))
}

// A delivery whose caller gives up while it waits for the writer is never
// stored, and the caller is answered at once; one the writer has taken is
// stored, and its caller waits for the commit.
func TestAcceptGivenUpWhileWaitingIsNotStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGroupFixture(t)
	release := f.holdWriter(t)
	first := f.acceptAll(ctx, []*store.Delivery{delivery("taken", `{}`)}, func(int) Intent { return Intent{} })
	f.waitQueued(t, 0)

	gone, cancel := context.WithCancel(ctx)
	waiting := f.acceptAll(gone, []*store.Delivery{delivery("given-up", `{}`)}, func(int) Intent { return Intent{} })
	f.waitQueued(t, 1)
	cancel()
	r := <-waiting
	require.ErrorIs(t, r.err, context.Canceled)
	f.waitQueued(t, 0)
	select {
	case r := <-first:
		t.Fatalf("the taken delivery was answered before its commit: %+v", r)
	default:
	}

	release()
	require.NoError(t, (<-first).err)
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM deliveries WHERE delivery_id = 'taken'`))
	require.Zero(t, f.count(t, `SELECT count(*) FROM deliveries WHERE delivery_id = 'given-up'`))
}

// groupContext runs a group until the latest deadline of its deliveries,
// and at most groupTimeout.
func TestGroupContext(t *testing.T) {
	t.Parallel()
	soon, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	later, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	deadline := func(ctxs ...context.Context) float64 {
		var group []*waiting
		for _, c := range ctxs {
			group = append(group, &waiting{ctx: c})
		}
		ctx, cancel := groupContext(group)
		defer cancel()
		d, ok := ctx.Deadline()
		require.True(t, ok)
		return time.Until(d).Seconds()
	}
	require.InDelta(t, 3, deadline(soon, later), 1)
	require.InDelta(t, groupTimeout.Seconds(), deadline(soon, context.Background()), 1)
	require.InDelta(t, 1, deadline(soon), 0.5)
}

// A panic while storing a group becomes the group's error: every delivery
// of it is then stored alone, and no caller waits for ever.
func TestInsertGroupRecoversAPanic(t *testing.T) {
	t.Parallel()
	ds := []*store.Delivery{delivery("a", `{}`), delivery("b", `{}`)}
	stored, err := insertGroup(context.Background(), &store.Store{}, ds, make([]*store.Work, len(ds))) // no pool: pgx panics
	require.ErrorContains(t, err, "panic")
	require.Nil(t, stored)
}
