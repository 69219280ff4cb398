package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qemgate/qemgate/internal/nonnil"
	"github.com/qemgate/qemgate/store"
)

// Intent is the work a delivery implies, decided by the receiver from the
// payload: which PR or commit to look at again. The zero Intent means none.
type Intent struct {
	Repo   string
	Number int64  // a PR to sync
	SHA    string // a commit whose open PRs to sync (status events)
	// OpenQAJob is an openQA job to sync (job-done hook, AMQP event).
	OpenQAJob int64
	// KnownJobOnly syncs OpenQAJob only when qemgate follows it already (a
	// job of one of its runs); otherwise the delivery is stored as ignored.
	// The message bus carries every job of an openQA instance.
	KnownJobOnly bool
	// Deep also re-reads every openQA job of the PR's current runs (and
	// their comments), for an operator's resync.
	Deep bool
}

// Ingest stores deliveries together with the jobs they imply.
//
// Accept, the path of webhooks and the bus, stores a delivery and a
// delivery_work row naming its work in one statement, and is done: the
// acknowledgement waits for one commit and takes no lock that another
// delivery waits for. The dispatcher (RunDispatcher, on every replica) turns
// work rows into River jobs in batches, each in one transaction that claims
// its rows with FOR UPDATE SKIP LOCKED, inserts the jobs and records their
// ids: a crash at any point leaves every row either dispatched with its jobs
// or pending, to be claimed again. AcceptNow, for an operator's replay or
// resync, stores the delivery and inserts its jobs in one transaction, so
// that the answer can name them.
type Ingest struct {
	Store *store.Store
	River Inserter
	// OnRetry, when set, is told of every transaction that PostgreSQL
	// aborted as a deadlock or serialization failure and that runs again.
	OnRetry func(sqlstate string, attempt int)
	// OnGroup, when set, is told the number of deliveries of every group
	// commit (Accept).
	OnGroup func(deliveries int)
	// Logger, when set, is told why a dispatch or a group commit failed.
	Logger *slog.Logger

	group groupCommit

	wakeOnce sync.Once
	wake     chan struct{}
}

// A transaction that inserts River jobs takes row locks on River's unique
// jobs (ON CONFLICT DO UPDATE) while River's completer and other
// dispatchers update the same rows in their own order, so PostgreSQL may
// abort it as a deadlock on a healthy database. Every such transaction is
// idempotent (on the delivery id, or on the claimed work rows), so it runs
// again, at most ingestAttempts times, after a jittered pause of up to
// ingestBackoff << n.
const (
	ingestAttempts = 5
	ingestBackoff  = 10 * time.Millisecond
)

// Dispatching: at most dispatchBatch work rows per transaction; the
// dispatcher looks for work every DispatchSweep even when nothing woke it,
// which is how a delivery acknowledged by a replica that died before
// dispatching it is found by another. Woken by a delivery, it waits
// dispatchGather first, so that the deliveries just behind share its
// transaction: at one client that halved the CPU of a delivery (issue 14),
// for 5 ms more between an event and its job.
const (
	dispatchBatch  = 100
	DispatchSweep  = time.Second
	dispatchGather = 5 * time.Millisecond
)

// retryableTx reports the errors after which a whole transaction may simply
// run again: deadlock_detected and serialization_failure.
func retryableTx(err error) (sqlstate string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") {
		return pgErr.Code, true
	}
	return "", false
}

// retry runs fn again after a deadlock or serialization failure.
func (in *Ingest) retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		code, retry := retryableTx(err)
		if !retry || attempt == ingestAttempts {
			return err
		}
		if in.OnRetry != nil {
			in.OnRetry(code, attempt)
		}
		pause := time.Duration(rand.Int64N(int64(ingestBackoff << attempt)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// Accepted says what Accept did.
type Accepted struct {
	Delivery  int64
	Duplicate bool
	// JobIDs are the jobs AcceptNow inserted. Accept leaves them to the
	// dispatcher and sets Queued instead.
	JobIDs []int64
	// Queued says that the delivery's work is stored for the dispatcher.
	Queued bool
}

// zero says whether the intent asks for no work.
func (i Intent) zero() bool { return i.OpenQAJob == 0 && i.Repo == "" }

// Accept stores d and, when it is accepted, the work of intent, in one
// statement: when it returns without error both are committed, and not
// before, and the dispatcher is woken. A delivery whose (source, id) is
// already stored changes nothing and is reported as a duplicate.
//
// For an openQA event from the bus (KnownJobOnly) whether qemgate follows
// the job is asked first, and a job it does not follow is stored as
// ignored, with no work.
func (in *Ingest) Accept(ctx context.Context, d *store.Delivery, intent Intent) (Accepted, error) {
	var res Accepted
	err := in.retry(ctx, func() error {
		var err error
		res, err = in.accept(ctx, d, intent)
		return err
	})
	if err != nil {
		return Accepted{}, fmt.Errorf("accept delivery %s/%s: %w", d.Source, d.DeliveryID, err)
	}
	if res.Queued {
		in.Wake()
	}
	return res, nil
}

func (in *Ingest) accept(ctx context.Context, d *store.Delivery, intent Intent) (Accepted, error) {
	if err := in.decideKnownJob(ctx, in.Store.Pool, d, intent); err != nil {
		return Accepted{}, err
	}
	var work *store.Work
	if d.Outcome == store.OutcomeAccepted && !intent.zero() {
		work = &store.Work{Repo: intent.Repo, Number: intent.Number, SHA: intent.SHA, OpenQAJob: intent.OpenQAJob, Deep: intent.Deep}
	}
	g, err := in.group.store(ctx, in, d, work)
	if err != nil {
		return Accepted{}, err
	}
	if !g.alone {
		d.ID, d.ReceivedAt = g.stored.ID, g.stored.ReceivedAt
		return Accepted{Delivery: d.ID, Queued: work != nil}, nil
	}
	inserted, err := store.InsertDeliveryWork(ctx, in.Store.Pool, d, work)
	if err != nil || !inserted {
		return Accepted{Duplicate: err == nil}, err
	}
	return Accepted{Delivery: d.ID, Queued: work != nil}, nil
}

// decideKnownJob stores an openQA event from the bus about a job qemgate
// does not follow as ignored. A job that becomes followed later is synced
// by whoever made it followed (the run that posted it), as before.
func (in *Ingest) decideKnownJob(ctx context.Context, db store.DBTX, d *store.Delivery, intent Intent) error {
	if !intent.KnownJobOnly || d.Outcome != store.OutcomeAccepted {
		return nil
	}
	known, err := store.FollowsOpenQAJob(ctx, db, intent.OpenQAJob)
	if err != nil {
		return err
	}
	if !known {
		d.Outcome, d.Reason = store.OutcomeIgnored, fmt.Sprintf("openQA job %d is not one qemgate follows", intent.OpenQAJob)
	}
	return nil
}

// AcceptNow stores d and enqueues the work of intent in one transaction,
// and returns the jobs: for an operator, whose answer names them. It holds
// River's unique-job row locks across its commit, which is why the
// webhooks and the bus use Accept.
func (in *Ingest) AcceptNow(ctx context.Context, d *store.Delivery, intent Intent) (Accepted, error) {
	var res Accepted
	err := in.retry(ctx, func() error {
		var err error
		res, err = in.acceptNow(ctx, d, intent)
		return err
	})
	if err != nil {
		return Accepted{}, fmt.Errorf("accept delivery %s/%s: %w", d.Source, d.DeliveryID, err)
	}
	return res, nil
}

func (in *Ingest) acceptNow(ctx context.Context, d *store.Delivery, intent Intent) (Accepted, error) {
	var res Accepted
	err := in.Store.InTx(ctx, func(tx pgx.Tx) error {
		if err := in.decideKnownJob(ctx, tx, d, intent); err != nil {
			return err
		}
		inserted, err := store.InsertDelivery(ctx, tx, d)
		if err != nil {
			return err
		}
		if !inserted {
			res.Duplicate = true
			return nil
		}
		res.Delivery = d.ID
		if d.Outcome != store.OutcomeAccepted {
			return nil
		}
		ids, err := in.enqueue(ctx, tx, intent)
		if err != nil {
			return err
		}
		res.JobIDs = ids
		return store.SetDeliveryJobs(ctx, tx, d.ID, ids)
	})
	return res, err
}

func (in *Ingest) wakeChan() chan struct{} {
	in.wakeOnce.Do(func() { in.wake = make(chan struct{}, 1) })
	return in.wake
}

// Wake tells this process's dispatcher that work is waiting. It never
// blocks; wakes while a dispatch runs make it run once more.
func (in *Ingest) Wake() {
	select {
	case in.wakeChan() <- struct{}{}:
	default:
	}
}

// RunDispatcher dispatches work until ctx ends: when woken, and every
// sweep (DispatchSweep when 0). It runs on every replica; the claims keep
// them apart.
func (in *Ingest) RunDispatcher(ctx context.Context, sweep time.Duration) {
	if sweep <= 0 {
		sweep = DispatchSweep
	}
	tick := time.NewTicker(sweep)
	defer tick.Stop()
	for {
		for ctx.Err() == nil {
			n, err := in.Dispatch(ctx)
			if err != nil {
				if in.Logger != nil && ctx.Err() == nil {
					in.Logger.ErrorContext(ctx, "dispatch delivery work; trying again at the next sweep", "error", err)
				}
				break
			}
			if n < dispatchBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-in.wakeChan():
			// Let the deliveries arriving just behind this one join its batch.
			select {
			case <-ctx.Done():
				return
			case <-time.After(dispatchGather):
			}
		case <-tick.C:
		}
	}
}

// Dispatch turns at most one batch of pending work into River jobs and
// returns how many work rows it dispatched. Rows another dispatcher holds
// are left to it.
func (in *Ingest) Dispatch(ctx context.Context) (int, error) {
	var n int
	err := in.retry(ctx, func() error {
		var err error
		n, err = in.dispatch(ctx, dispatchBatch, nil)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("dispatch delivery work: %w", err)
	}
	return n, nil
}

// DispatchAll dispatches until no work is pending that no one else holds.
func (in *Ingest) DispatchAll(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := in.Dispatch(ctx)
		total += n
		if err != nil || n < dispatchBatch {
			return total, err
		}
	}
}

// dispatch claims at most limit work rows, inserts their jobs and marks
// them dispatched, all in one transaction. beforeCommit, for tests, runs
// last inside it.
func (in *Ingest) dispatch(ctx context.Context, limit int, beforeCommit func(tx pgx.Tx) error) (int, error) {
	var n int
	err := in.Store.InTx(ctx, func(tx pgx.Tx) error {
		work, err := store.ClaimWork(ctx, tx, limit)
		if err != nil || len(work) == 0 {
			return err
		}
		// A burst for one PR is one enqueue: the same intent gets the same
		// jobs. Distinct intents go in a fixed order, so that two
		// dispatchers lock River's unique rows in the same order.
		intents := make([]Intent, len(work))
		for i, w := range work {
			intents[i] = Intent{Repo: w.Repo, Number: w.Number, SHA: w.SHA, OpenQAJob: w.OpenQAJob, Deep: w.Deep}
		}
		distinct := slices.Clone(intents)
		slices.SortFunc(distinct, compareIntents)
		distinct = slices.Compact(distinct)
		// The common intents (one PR, one openQA job) are one debounced
		// job each, inserted together in one round trip; the rest (a
		// commit's PRs, a deep resync) one by one.
		jobsOf := make(map[Intent][]int64, len(distinct))
		var many []debouncedArgs
		var manyOf []Intent
		for _, it := range distinct {
			if a := singleJob(it); a != nil {
				many, manyOf = append(many, a), append(manyOf, it)
				continue
			}
			ids, err := in.enqueue(ctx, tx, it)
			if err != nil {
				return err
			}
			jobsOf[it] = nonnil.Slice(ids)
		}
		ids, err := InsertDebouncedMany(ctx, in.River, tx, many)
		if err != nil {
			return err
		}
		for i, id := range ids {
			jobsOf[manyOf[i]] = []int64{id}
		}
		deliveries := make([]int64, len(work))
		jobIDs := make([][]int64, len(work))
		for i, w := range work {
			deliveries[i], jobIDs[i] = w.Delivery, jobsOf[intents[i]]
		}
		if err := store.FinishWork(ctx, tx, deliveries, jobIDs); err != nil {
			return err
		}
		if beforeCommit != nil {
			if err := beforeCommit(tx); err != nil {
				return err
			}
		}
		n = len(work)
		return nil
	})
	return n, err
}

// singleJob is the one debounced job an intent implies, when it implies
// exactly one whatever the store holds (enqueue says the same).
func singleJob(it Intent) debouncedArgs {
	switch {
	case it.OpenQAJob != 0:
		return SyncOpenQAJobArgs{ID: it.OpenQAJob}
	case it.Repo != "" && it.Number != 0 && !it.Deep:
		return SyncPullArgs{Repo: it.Repo, Number: it.Number}
	}
	return nil
}

func compareIntents(a, b Intent) int {
	return cmp.Or(cmp.Compare(a.Repo, b.Repo), cmp.Compare(a.Number, b.Number), cmp.Compare(a.SHA, b.SHA),
		cmp.Compare(a.OpenQAJob, b.OpenQAJob), boolCompare(a.Deep, b.Deep))
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func (in *Ingest) enqueue(ctx context.Context, tx pgx.Tx, intent Intent) ([]int64, error) {
	switch {
	case intent.OpenQAJob != 0:
		id, err := InsertDebounced(ctx, in.River, tx, SyncOpenQAJobArgs{ID: intent.OpenQAJob})
		if err != nil {
			return nil, err
		}
		return []int64{id}, nil
	case intent.Repo == "":
		return nil, nil
	case intent.Number != 0:
		id, err := InsertDebounced(ctx, in.River, tx, SyncPullArgs{Repo: intent.Repo, Number: intent.Number})
		if err != nil {
			return nil, err
		}
		ids := []int64{id}
		if intent.Deep {
			jobs, err := store.JobIDsAtHead(ctx, tx, intent.Repo, intent.Number)
			if err != nil {
				return nil, err
			}
			for _, j := range jobs {
				id, err := InsertDebounced(ctx, in.River, tx, SyncOpenQAJobArgs{ID: j})
				if err != nil {
					return nil, err
				}
				ids = append(ids, id)
			}
		}
		return ids, nil
	case intent.SHA != "":
		numbers, err := store.OpenPullsWithHead(ctx, tx, intent.Repo, intent.SHA)
		if err != nil {
			return nil, err
		}
		if len(numbers) == 0 {
			// A commit we do not know (yet): ask Gitea which PRs it heads.
			res, err := in.River.InsertTx(ctx, tx, SyncCommitArgs{Repo: intent.Repo, SHA: intent.SHA}, nil)
			if err != nil {
				return nil, fmt.Errorf("enqueue sync_commit: %w", err)
			}
			return []int64{res.Job.ID}, nil
		}
		var ids []int64
		for _, n := range numbers {
			id, err := InsertDebounced(ctx, in.River, tx, SyncPullArgs{Repo: intent.Repo, Number: n})
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, nil
	}
	return nil, nil
}
