-- An openQA delivery (hook or bus) names its job only in its delivery id,
-- "job-<id>…" (intake.OpenQADeliveryID; a replay keeps the prefix), and is
-- stored without repo and number: which PRs a job counts for is known only
-- once the job is synced, and may be many (an aggregate's). The PR page and
-- the admin list's ?repo=&number= find such deliveries at read time through
-- the job's test run (store.ListDeliveries); this index makes that a lookup.
-- At most 18 digits, so that no delivery id can make the cast fail.
CREATE FUNCTION delivery_openqa_job(delivery_id text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN substring(delivery_id FROM 'job-(\d{1,18})(?:\D|$)')::bigint;

CREATE INDEX deliveries_openqa_job ON deliveries (delivery_openqa_job(delivery_id))
    WHERE source IN ('openqa', 'openqa-amqp');
