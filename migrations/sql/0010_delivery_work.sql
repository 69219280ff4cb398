-- The outbox of the ingest path (issue 14). A delivery is acknowledged after
-- one statement that stores it and, when it implies work, a delivery_work
-- row naming that work; the dispatcher (jobs.Ingest.Dispatch) turns pending
-- rows into River jobs in batches, in one transaction that claims them
-- (FOR UPDATE SKIP LOCKED), inserts the jobs and records their ids here.
-- Pending is job_ids IS NULL. No foreign key: its check would lock the
-- delivery row on the acknowledgement path; retention deletes these rows
-- with their deliveries.
CREATE TABLE delivery_work (
    delivery   bigint  PRIMARY KEY,
    repo       text    NOT NULL DEFAULT '',
    number     bigint  NOT NULL DEFAULT 0,
    sha        text    NOT NULL DEFAULT '',
    openqa_job bigint  NOT NULL DEFAULT 0,
    deep       boolean NOT NULL DEFAULT false,
    job_ids    bigint[]
);
CREATE INDEX delivery_work_pending ON delivery_work (delivery) WHERE job_ids IS NULL;

-- Every list orders by id, and retention walks ids from the oldest: ids and
-- received_at grow together, so this index was one more insert per
-- delivery that no query needed.
DROP INDEX deliveries_received_at;
