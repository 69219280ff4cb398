-- Every webhook or callback that passed authentication, stored with the exact
-- bytes received so it can be inspected and replayed.
CREATE TABLE deliveries (
    id          bigserial PRIMARY KEY,
    source      text        NOT NULL CHECK (source IN ('gitea', 'openqa', 'admin')),
    delivery_id text        NOT NULL,
    event       text        NOT NULL DEFAULT '',
    event_type  text        NOT NULL DEFAULT '',
    action      text        NOT NULL DEFAULT '',
    repo        text        NOT NULL DEFAULT '',
    number      bigint,
    sha         text        NOT NULL DEFAULT '',
    sender      text        NOT NULL DEFAULT '',
    headers     jsonb       NOT NULL DEFAULT '{}',
    body        bytea       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    outcome     text        NOT NULL CHECK (outcome IN ('accepted', 'ignored', 'bad_request')),
    reason      text        NOT NULL DEFAULT '',
    job_ids     bigint[]    NOT NULL DEFAULT '{}',
    replay_of   bigint      REFERENCES deliveries (id) ON DELETE SET NULL,
    UNIQUE (source, delivery_id)
);

CREATE INDEX deliveries_received_at ON deliveries (received_at DESC, id DESC);
CREATE INDEX deliveries_pull ON deliveries (repo, number, received_at DESC) WHERE number IS NOT NULL;
CREATE INDEX deliveries_replay_of ON deliveries (replay_of) WHERE replay_of IS NOT NULL;
