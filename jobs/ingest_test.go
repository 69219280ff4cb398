package jobs

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/store"
)

// failInserts makes PostgreSQL abort the next n delivery inserts with
// sqlstate, as a deadlock with River's completer does. The counter is a
// sequence because a sequence survives the rollback of the aborted
// transaction.
const failInserts = `
CREATE SEQUENCE test_failures;
CREATE FUNCTION test_fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF nextval('test_failures') <= %d THEN
		RAISE EXCEPTION 'forced by the test' USING ERRCODE = '%s';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER test_fail_insert BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION test_fail_insert();`

func TestAcceptRetriesDeadlocksAndSerializationFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		sqlstate string
		failures int
		wantErr  bool
	}{
		{"one deadlock", "40P01", 1, false},
		{"serialization failures", "40001", ingestAttempts - 1, false},
		{"a deadlock that never ends is reported", "40P01", ingestAttempts, true},
		{"other errors are not retried", "23514", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := pgtest.New(t)
			_, err := pool.Exec(ctx, fmt.Sprintf(failInserts, tc.failures, tc.sqlstate))
			require.NoError(t, err)
			workers := river.NewWorkers()
			Register(workers, Deps{})
			client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers})
			require.NoError(t, err)
			var mu sync.Mutex
			var retried []string
			in := &Ingest{Store: store.New(pool), River: client, OnRetry: func(code string, _ int) {
				mu.Lock()
				defer mu.Unlock()
				retried = append(retried, code)
			}}

			d := &store.Delivery{Source: "gitea", DeliveryID: "d-1", EventType: "pull_request", Body: []byte(`{}`), Outcome: store.OutcomeAccepted}
			res, err := in.Accept(ctx, d, Intent{Repo: "products/SLFO", Number: 7})
			if err == nil {
				_, err = in.DispatchAll(ctx)
			}
			var deliveries, jobs int
			require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM deliveries`).Scan(&deliveries))
			require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&jobs))
			if tc.wantErr {
				require.Error(t, err)
				require.Zero(t, deliveries, "nothing half-stored")
				require.Zero(t, jobs)
				if tc.sqlstate == "23514" {
					require.Empty(t, retried)
				} else {
					require.Len(t, retried, ingestAttempts-1, "bounded")
				}
				return
			}
			require.NoError(t, err)
			require.False(t, res.Duplicate)
			require.True(t, res.Queued)
			require.Equal(t, 1, deliveries, "stored once")
			require.Equal(t, 1, jobs, "enqueued once")
			require.Len(t, retried, tc.failures)
			for _, code := range retried {
				require.Equal(t, tc.sqlstate, code)
			}
		})
	}
}

// TestAcceptKnownJobOnly: the bus carries every job of an openQA instance;
// only jobs qemgate follows are synced, the rest stored as ignored.
func TestAcceptKnownJobOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	workers := river.NewWorkers()
	Register(workers, Deps{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers})
	require.NoError(t, err)
	in := &Ingest{Store: store.New(pool), River: client}
	_, err = pool.Exec(ctx, `INSERT INTO test_runs (repo, number, sha, distri, version, flavor, arch, build, job_ids)
		VALUES ('products/SLFO', 7, 'abc', 'sle', '16.0', 'Online', 'x86_64', ':git:7:openssl', '{101,102}')`)
	require.NoError(t, err)

	// Accept (the bus) decides before it stores the delivery and its work;
	// AcceptNow (a replay) in its transaction. The outcome is stored with
	// the row, and only a followed job's delivery has work.
	for _, now := range []bool{false, true} {
		for _, tc := range []struct {
			job     int64
			outcome string
		}{
			{101, store.OutcomeAccepted}, // created for one of our runs
			{999, store.OutcomeIgnored},  // somebody else's job
			{102, store.OutcomeAccepted}, // the second job of the run
		} {
			d := &store.Delivery{Source: "openqa-amqp", DeliveryID: fmt.Sprintf("suse.openqa.job.done/job-%d/%t", tc.job, now), Body: []byte(`{}`), Outcome: store.OutcomeAccepted}
			accept := in.Accept
			if now {
				accept = in.AcceptNow
			}
			res, err := accept(ctx, d, Intent{OpenQAJob: tc.job, KnownJobOnly: true})
			require.NoError(t, err)
			require.Equal(t, tc.outcome, d.Outcome, "job %d", tc.job)
			stored, err := store.GetDelivery(ctx, pool, d.ID)
			require.NoError(t, err)
			require.Equal(t, tc.outcome, stored.Outcome, "job %d: the outcome is stored", tc.job)
			switch {
			case tc.outcome == store.OutcomeIgnored:
				require.Empty(t, res.JobIDs)
				require.False(t, res.Queued)
				require.Contains(t, d.Reason, "not one qemgate follows")
			case now:
				require.Len(t, res.JobIDs, 1)
			default:
				require.True(t, res.Queued)
			}
		}
	}
	n, err := in.DispatchAll(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the work of the two followed jobs' bus deliveries")
	pending, err := store.PendingWork(ctx, pool)
	require.NoError(t, err)
	require.Zero(t, pending)
	var syncs int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'sync_openqa_job'`).Scan(&syncs))
	require.Equal(t, 2, syncs)
	// A job stored by a sync (a clone qemgate followed) counts too.
	_, err = pool.Exec(ctx, `INSERT INTO openqa_jobs (id, state, result) VALUES (555, 'done', 'failed')`)
	require.NoError(t, err)
	known, err := store.FollowsOpenQAJob(ctx, pool, 555)
	require.NoError(t, err)
	require.True(t, known)
}
