-- Deliveries may arrive from the message bus too: openQA's AMQP plugin and
-- the Gitea event publisher. They are stored like webhooks, under their own
-- source so that an operator can tell the paths apart.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_source_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_source_check
    CHECK (source IN ('gitea', 'openqa', 'gitea-amqp', 'openqa-amqp', 'admin'));

-- The bus carries every job of an openQA instance; whether qemgate follows
-- one is asked for each message (and by every job sync), so it must not
-- scan all runs.
CREATE INDEX test_runs_job_ids ON test_runs USING gin (job_ids);
