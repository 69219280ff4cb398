package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
type Ingest struct {
	Store *store.Store
	River Inserter
	// OnRetry, when set, is told of every transaction that PostgreSQL
	// aborted as a deadlock or serialization failure and that runs again.
	OnRetry func(sqlstate string, attempt int)
}

// Ingest's transaction takes row locks on River's unique jobs (ON CONFLICT
// DO UPDATE) while River's completer updates the same rows in its own order,
// so PostgreSQL may abort it as a deadlock on a healthy database. The whole
// transaction is idempotent on the delivery id, so it runs again, at most
// ingestAttempts times, after a jittered pause of up to ingestBackoff << n.
const (
	ingestAttempts = 5
	ingestBackoff  = 10 * time.Millisecond
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

// Accepted says what Accept did.
type Accepted struct {
	Delivery  int64
	Duplicate bool
	JobIDs    []int64
}

// Accept stores d and enqueues the work of intent in one transaction: when
// it returns without error both are committed, and not before. A delivery
// whose (source, id) is already stored changes nothing and is reported as a
// duplicate.
func (in *Ingest) Accept(ctx context.Context, d *store.Delivery, intent Intent) (Accepted, error) {
	for attempt := 1; ; attempt++ {
		res, err := in.accept(ctx, d, intent)
		code, retry := retryableTx(err)
		if !retry || attempt == ingestAttempts {
			return res, err
		}
		if in.OnRetry != nil {
			in.OnRetry(code, attempt)
		}
		pause := time.Duration(rand.Int64N(int64(ingestBackoff << attempt)))
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(pause):
		}
	}
}

func (in *Ingest) accept(ctx context.Context, d *store.Delivery, intent Intent) (Accepted, error) {
	var res Accepted
	err := in.Store.InTx(ctx, func(tx pgx.Tx) error {
		if intent.KnownJobOnly && d.Outcome == store.OutcomeAccepted {
			known, err := store.FollowsOpenQAJob(ctx, tx, intent.OpenQAJob)
			if err != nil {
				return err
			}
			if !known {
				d.Outcome, d.Reason = store.OutcomeIgnored, fmt.Sprintf("openQA job %d is not one qemgate follows", intent.OpenQAJob)
			}
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
	if err != nil {
		return Accepted{}, fmt.Errorf("accept delivery %s/%s: %w", d.Source, d.DeliveryID, err)
	}
	return res, nil
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
