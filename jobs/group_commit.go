package jobs

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/qemgate/qemgate/store"
)

// Group commit: deliveries that arrive while another group is being
// stored wait, and are then stored together, in one statement and one
// commit. A delivery that arrives alone is stored alone at once; under load
// a group carries every delivery that arrived during the commit before it.
// Nobody waits for a timer, and each delivery is still acknowledged only
// after the commit that holds it.
//
// The statement, its round trip and its commit cost PostgreSQL about as
// much CPU as the row itself: measured with pgbench on one server, rows in
// groups of 8 went in at about twice the rate of rows one per transaction
// (issue 14, docs/benchmarks.md).
const (
	// groupWriters is how many groups are stored at once. One: while it
	// commits, the next group fills. Two writers made groups half as large
	// and the receiver 20-25 % slower at 16 clients.
	groupWriters = 1
	// groupRows and groupBytes bound one group; the rest waits for the next.
	groupRows  = 64
	groupBytes = 4 << 20
	// groupTimeout bounds a group whose deliveries have no deadline of their
	// own (the bus); otherwise a group runs until the latest of theirs.
	groupTimeout = 30 * time.Second
)

// groupCommit queues deliveries for the group writers.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*waiting
	writers int
}

// waiting is one delivery waiting for its group's commit.
type waiting struct {
	ctx  context.Context
	d    *store.Delivery
	work *store.Work
	done chan groupResult // buffered: the writer never blocks on it
}

// groupResult is what the group writer did with one delivery. Alone says
// that it was not stored by the group, because its id was stored already
// or a group of several failed: the caller then stores it alone
// (InsertDeliveryWork tells a duplicate from a reused id, and a row
// PostgreSQL refuses fails only itself). A group of one that failed
// reports its error, as storing it alone would.
type groupResult struct {
	stored store.Stored
	alone  bool
	err    error
}

// store waits until d and its work are committed with a group, and returns
// what was stored. The writer only reads d; the caller fills it in.
func (g *groupCommit) store(ctx context.Context, in *Ingest, d *store.Delivery, work *store.Work) (groupResult, error) {
	q := &waiting{ctx: ctx, d: d, work: work, done: make(chan groupResult, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, q)
	if g.writers < groupWriters {
		g.writers++
		go g.write(in, g.takeLocked())
	}
	g.mu.Unlock()
	select {
	case r := <-q.done:
		return r, r.err
	case <-ctx.Done():
	}
	g.mu.Lock()
	if i := slices.Index(g.queue, q); i >= 0 {
		g.queue = slices.Delete(g.queue, i, i+1)
		g.mu.Unlock()
		return groupResult{}, ctx.Err()
	}
	g.mu.Unlock()
	// A writer has taken it: the group ends by its own deadline, and d must
	// not be given back to the caller while the writer reads it.
	r := <-q.done
	return r, r.err
}

// takeLocked removes the next group from the queue.
func (g *groupCommit) takeLocked() []*waiting {
	n, bytes := 0, 0
	for n < len(g.queue) && n < groupRows {
		bytes += len(g.queue[n].d.Body)
		if n > 0 && bytes > groupBytes {
			break
		}
		n++
	}
	group := slices.Clone(g.queue[:n])
	g.queue = slices.Delete(g.queue, 0, n)
	return group
}

// write stores groups until nobody waits.
func (g *groupCommit) write(in *Ingest, group []*waiting) {
	for {
		g.commit(in, group)
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.writers--
			g.mu.Unlock()
			return
		}
		group = g.takeLocked()
		g.mu.Unlock()
	}
}

// commit stores one group in one statement and tells every delivery in it.
func (g *groupCommit) commit(in *Ingest, group []*waiting) {
	ctx, cancel := groupContext(group)
	defer cancel()
	ds := make([]*store.Delivery, len(group))
	works := make([]*store.Work, len(group))
	for i, q := range group {
		ds[i], works[i] = q.d, q.work
	}
	stored, err := insertGroup(ctx, in.Store, ds, works)
	switch {
	case err != nil && len(group) == 1:
		group[0].done <- groupResult{err: err}
		return
	case err != nil && in.Logger != nil:
		in.Logger.WarnContext(ctx, "group commit failed: storing its deliveries one by one", "deliveries", len(group), "err", err)
	case err == nil && in.OnGroup != nil:
		in.OnGroup(len(group))
	}
	for i, q := range group {
		if err != nil || !stored[i].Inserted() {
			q.done <- groupResult{alone: true}
			continue
		}
		q.done <- groupResult{stored: stored[i]}
	}
}

// insertGroup stores a group, and turns a panic into an error: the
// writer's goroutine has no HTTP server to recover it, and a process that
// dies would leave every delivery of the group unanswered.
func insertGroup(ctx context.Context, st *store.Store, ds []*store.Delivery, works []*store.Work) (stored []store.Stored, err error) {
	defer func() {
		if p := recover(); p != nil {
			stored, err = nil, fmt.Errorf("store %d deliveries: panic: %v", len(ds), p)
		}
	}()
	return store.InsertDeliveriesWork(ctx, st.Pool, ds, works)
}

// groupContext runs a group until the latest deadline of its deliveries,
// and not past groupTimeout; a delivery whose caller has gone is still
// stored (its sender will send it again, and find it stored).
func groupContext(group []*waiting) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(groupTimeout)
	latest, all := time.Time{}, true
	for _, q := range group {
		d, ok := q.ctx.Deadline()
		if !ok {
			all = false
			break
		}
		if d.After(latest) {
			latest = d
		}
	}
	if all && latest.Before(deadline) {
		deadline = latest
	}
	return context.WithDeadline(context.WithoutCancel(group[0].ctx), deadline)
}
